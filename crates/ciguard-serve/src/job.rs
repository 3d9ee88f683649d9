//! The contract between the queue (ingress, store, workers, scheduler) and the App side that does
//! the work. The queue knows jobs only by kind, key and payload; the runner knows nothing of the
//! store beyond the two narrow traits below, so either side can be tested alone.

use std::collections::HashSet;
use std::future::Future;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// What a job does, with the fields the runner needs, taken from the webhook payload at ingress
/// (the payload itself is not stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// Audit a pull request's head through the API and report one check run on it.
    PrAudit(PrTarget),
    /// Audit the default branch's tree at `after` and report one check run on it.
    PushAudit(PushTarget),
    /// Relay the comment a `pull_request` workflow run left as an artifact (`relay/`).
    Relay(crate::relay::RelayTarget),
    /// Run the settings checks of one repository (or the organization's own, once) and keep
    /// one issue per failing check (see `crate::drift`).
    Drift(crate::drift::DriftTarget),
    /// Review a custom deployment protection rule (the release gate).
    GateReview(crate::gate::GateTarget),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrTarget {
    /// The base repository, `owner/name`: where the check run goes.
    pub repository: String,
    pub repository_id: u64,
    pub number: u64,
    /// The head SHA when the event was received; the runner re-reads the PR and completes
    /// `neutral` ("superseded") if the head has moved.
    pub head_sha: String,
    /// True when the head lives in another repository (a fork): blobs are still read through
    /// the base repository's token, never the fork's.
    pub from_fork: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushTarget {
    pub repository: String,
    pub repository_id: u64,
    /// The pushed commit.
    pub after: String,
    /// The ref pushed, `refs/heads/<default branch>`.
    pub git_ref: String,
}

impl JobPayload {
    /// The coalescing key: at most one queued job per key; a newer payload for a queued key
    /// replaces it, and one for a running key runs after it.
    pub fn key(&self) -> String {
        match self {
            JobPayload::PrAudit(t) => format!("pr:{}:{}", t.repository_id, t.number),
            JobPayload::PushAudit(t) => format!("push:{}:{}", t.repository_id, t.git_ref),
            JobPayload::Relay(t) => t.key(),
            JobPayload::Drift(t) => t.key(),
            JobPayload::GateReview(t) => t.key(),
        }
    }
}

/// A claimed job as the worker hands it to the runner.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub installation_id: u64,
    pub payload: JobPayload,
    /// 1 on the first run.
    pub attempt: u32,
    /// The delivery that created (or last updated) the job, for logs.
    pub delivery_id: String,
}

/// What a run ended with. The worker records it and never sleeps on a limited installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done {
        summary: String,
    },
    /// A transient failure: retry with backoff (the worker adds jitter and counts attempts,
    /// `dead` after the maximum).
    Retry {
        reason: String,
    },
    /// Do not run before `until` (a rate limit); does not count as an attempt.
    Deferred {
        until: SystemTime,
        reason: String,
    },
    /// Permanent failure: no retry. `ciguard serve jobs retry` revives it.
    Dead {
        reason: String,
    },
}

/// Runs one job. Implemented by the App side; the queue calls it with a claimed job and keeps
/// the lease alive meanwhile.
pub trait JobRunner: Send + Sync + 'static {
    fn run(&self, job: &Job) -> impl Future<Output = Outcome> + Send;
}

/// The rate-limit state GitHub reported for one installation (from `x-ratelimit-*`,
/// `retry-after` and secondary-limit responses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateState {
    pub remaining: Option<u64>,
    pub reset: Option<SystemTime>,
    pub retry_after: Option<Duration>,
    pub secondary: bool,
}

/// Shared rate-limit budget, kept in the store so every replica respects one budget per
/// installation.
pub trait RateLimitStore: Send + Sync + 'static {
    fn record(&self, installation_id: u64, state: RateState) -> impl Future<Output = ()> + Send;
    /// When the installation may make requests again, if it is limited now.
    fn blocked_until(
        &self,
        installation_id: u64,
    ) -> impl Future<Output = Option<SystemTime>> + Send;
}

/// Which delivery GUIDs the store has recorded, for the reconciler of missed deliveries.
pub trait DeliveryIndex: Send + Sync + 'static {
    fn known(&self, guids: &[String]) -> impl Future<Output = HashSet<String>> + Send;
}

/// A periodic task run by the scheduler's leader only (e.g. the missed-deliveries reconciler).
pub trait PeriodicTask: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn interval(&self) -> Duration;
    fn tick(&self) -> impl Future<Output = Result<String, String>> + Send;
}
