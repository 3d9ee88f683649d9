//! Settings drift: the checks of `ciguard settings` run by the App on a jittered schedule per
//! repository and on the events that change settings, with one GitHub issue per failing
//! (repository, check). An issue is found again by its stored number and the hidden marker in
//! its body, never by title; the same result writes nothing until the ping interval; changed
//! text adds one comment and updates the body; compliance comments and closes; a regression
//! reopens. A lease row per (subject, check) in the store makes replicas agree.
//!
//! Off unless the organization's `ciguard-app.toml` enables `[drift]`; a malformed file is
//! reported as an issue in the `.github` repository, never replaced by defaults.

pub mod config;
pub mod events;
pub mod issue;
mod run;
pub mod state;
pub mod sweep;

use serde::{Deserialize, Serialize};

pub use config::DriftConfig;
pub use sweep::{DriftSweep, SweepSettings};

/// What a drift job checks: one repository's settings, or (without a repository) the
/// organization's own settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftTarget {
    /// The organization or user that owns the repository.
    pub owner: String,
    /// `owner/name`; `None` for the organization-level checks.
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub repository_id: Option<u64>,
}

impl DriftTarget {
    pub fn repo(repository: &str, repository_id: u64) -> Self {
        Self {
            owner: repository
                .split_once('/')
                .map_or(repository, |(o, _)| o)
                .to_owned(),
            repository: Some(repository.to_owned()),
            repository_id: Some(repository_id),
        }
    }

    pub fn org(owner: &str) -> Self {
        Self {
            owner: owner.to_owned(),
            repository: None,
            repository_id: None,
        }
    }

    /// The job key: one queued drift job per repository, one per organization.
    pub fn key(&self) -> String {
        match self.repository_id {
            Some(id) => format!("drift:{id}"),
            None => format!("drift-org:{}", self.owner.to_ascii_lowercase()),
        }
    }

    /// The store's subject of this target's issues.
    pub fn subject(&self) -> String {
        match self.repository_id {
            Some(id) => format!("repo:{id}"),
            None => format!("org:{}", self.owner.to_ascii_lowercase()),
        }
    }
}
