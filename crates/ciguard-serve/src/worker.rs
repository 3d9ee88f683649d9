//! Workers: claim a job, keep its lease alive while the runner works, record the outcome. A job
//! of a rate-limited installation is deferred without running; nothing sleeps on a limit.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::job::{Job, JobRunner, Outcome};
use crate::store::{Finished, RetryPolicy, Store};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Concurrent jobs in this process.
    pub concurrency: usize,
    /// A claimed job's lease; renewed every third of it while the job runs.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (queued jobs in this process wake it at once).
    pub poll: Duration,
    pub retry: RetryPolicy,
    /// This process's lease owner name.
    pub owner: String,
}

/// Runs `concurrency` worker loops and one reaper until `shutdown` turns true; in-flight jobs
/// finish first (the caller bounds that wait).
pub async fn run<R: JobRunner>(
    store: Store,
    runner: Arc<R>,
    config: WorkerConfig,
    jobs_queued: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
) {
    let config = Arc::new(config);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..config.concurrency.max(1) {
        tasks.spawn(work_loop(
            store.clone(),
            runner.clone(),
            config.clone(),
            jobs_queued.clone(),
            shutdown.clone(),
        ));
    }
    tasks.spawn(reap_loop(store, config.lease, shutdown));
    while tasks.join_next().await.is_some() {}
}

async fn work_loop<R: JobRunner>(
    store: Store,
    runner: Arc<R>,
    config: Arc<WorkerConfig>,
    jobs_queued: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        // Registered before the claim so a notification between claim and wait is not lost.
        let woken = jobs_queued.notified();
        match store.claim(&config.owner, config.lease).await {
            Ok(Some(job)) => {
                run_one(&store, runner.as_ref(), &config, job).await;
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot claim jobs"),
        }
        tokio::select! {
            _ = woken => {}
            _ = tokio::time::sleep(config.poll) => {}
            _ = shutdown.changed() => {}
        }
    }
}

async fn run_one<R: JobRunner>(store: &Store, runner: &R, config: &WorkerConfig, job: Job) {
    let key = job.payload.key();
    let outcome = match store.rate_blocked_until(job.installation_id).await {
        Ok(Some(until)) => Outcome::Deferred {
            until,
            reason: "installation rate-limited".into(),
        },
        _ => {
            tracing::info!(
                job = job.id,
                key,
                attempt = job.attempt,
                delivery = job.delivery_id,
                "job started"
            );
            let run = runner.run(&job);
            tokio::pin!(run);
            let mut beat = tokio::time::interval(config.lease / 3);
            beat.tick().await;
            loop {
                tokio::select! {
                    outcome = &mut run => break outcome,
                    _ = beat.tick() => match store.heartbeat(job.id, &config.owner, config.lease).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(job = job.id, "lease lost: another worker may run this job"),
                        Err(e) => tracing::warn!(job = job.id, error = %e, "heartbeat failed"),
                    },
                }
            }
        }
    };
    // The outcome must land: a store outage here is waited out, not dropped.
    let mut delay = Duration::from_millis(200);
    loop {
        match store
            .finish(job.id, &config.owner, &outcome, &config.retry)
            .await
        {
            Ok(Finished::State(state)) => {
                tracing::info!(job = job.id, key, state, "job finished");
                return;
            }
            Ok(Finished::LeaseLost) => {
                tracing::warn!(job = job.id, key, "job finished after its lease was reaped");
                return;
            }
            Err(e) => {
                tracing::warn!(job = job.id, error = %e, "cannot record the job's outcome; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
                if delay >= Duration::from_secs(5) && store.is_closed() {
                    return;
                }
            }
        }
    }
}

async fn reap_loop(store: Store, lease: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(lease / 2);
    while !*shutdown.borrow() {
        tokio::select! {
            _ = tick.tick() => match store.reap_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(jobs = n, "requeued jobs whose worker stopped"),
                Err(e) => tracing::warn!(error = %e, "reaper failed"),
            },
            _ = shutdown.changed() => {}
        }
    }
}

/// A recognisable, unique lease owner for this process.
pub fn owner_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("pid{}-{:08x}", std::process::id(), hasher.finish() as u32)
}
