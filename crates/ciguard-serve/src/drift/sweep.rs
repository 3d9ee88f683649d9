//! The drift schedule: a periodic task on the scheduler's leader that lists the App's
//! installations and their repositories and queues a drift job for each repository (and one
//! per organization) once per interval, at an offset within the interval given by a hash of
//! its id, so a fleet of repositories is spread over the day instead of read at once. The job
//! is recorded like a delivery whose id names the repository and the interval, so two leaders
//! (a lease changing hands) queue it once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::DriftTarget;
use crate::app::App;
use crate::app::api::ApiError;
use crate::app::tokens::drift_list_permissions;
use crate::job::{JobPayload, PeriodicTask};
use crate::store::{Store, now_ms};

/// Pages of installations and of repositories read per tick at most (100 each).
const MAX_PAGES: usize = 100;

#[derive(Debug, Clone, Copy)]
pub struct SweepSettings {
    /// Each repository is checked once per period (default daily).
    pub period: Duration,
    /// How often the leader looks for repositories whose slot came.
    pub tick: Duration,
    pub max_attempts: u32,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self {
            period: Duration::from_secs(86_400),
            tick: Duration::from_secs(600),
            max_attempts: 5,
        }
    }
}

/// The slot of `subject` in an interval of `interval_ms`: a stable offset from a hash.
pub fn offset_ms(subject: &str, interval_ms: i64) -> i64 {
    let digest = Sha256::digest(subject.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let n = u64::from_be_bytes(first);
    i64::try_from(n % u64::try_from(interval_ms.max(1)).unwrap_or(1)).unwrap_or(0)
}

/// The interval number whose slot for `subject` falls in `(since, now]`, if one does.
pub fn due_period(subject: &str, interval_ms: i64, since: i64, now: i64) -> Option<i64> {
    let interval_ms = interval_ms.max(1);
    let offset = offset_ms(subject, interval_ms);
    let period = (now - offset).div_euclid(interval_ms);
    let slot = period * interval_ms + offset;
    (slot > since && slot <= now).then_some(period)
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
    account: Option<Account>,
}

#[derive(Deserialize)]
struct Account {
    login: String,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct RepoList {
    repositories: Vec<RepoItem>,
}

#[derive(Deserialize)]
struct RepoItem {
    id: u64,
    full_name: String,
    #[serde(default)]
    archived: bool,
}

/// The periodic task.
pub struct DriftSweep {
    app: Arc<App<Store>>,
    store: Store,
    settings: SweepSettings,
    /// The end of the window the last tick covered (the first tick only starts the window).
    last: Mutex<Option<i64>>,
}

impl DriftSweep {
    pub fn new(app: Arc<App<Store>>, store: Store, settings: SweepSettings) -> Self {
        Self {
            app,
            store,
            settings,
            last: Mutex::new(None),
        }
    }

    /// Queues the jobs whose slot falls in `(since, now]`; how many.
    pub async fn sweep(&self, since: i64, now: i64) -> Result<usize, String> {
        let interval = i64::try_from(self.settings.period.as_millis()).unwrap_or(i64::MAX);
        let mut queued = 0;
        for installation in self.installations().await.map_err(|e| e.to_string())? {
            let mut jobs: Vec<(String, JobPayload)> = Vec::new();
            if let Some(account) = &installation.account
                && account.kind == "Organization"
            {
                let target = DriftTarget::org(&account.login);
                if let Some(period) = due_period(&target.subject(), interval, since, now) {
                    jobs.push((
                        format!("drift-sweep:{}:{period}", target.subject()),
                        JobPayload::Drift(target),
                    ));
                }
            }
            for repo in self
                .repositories(installation.id)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|r| !r.archived)
            {
                let target = DriftTarget::repo(&repo.full_name, repo.id);
                if let Some(period) = due_period(&target.subject(), interval, since, now) {
                    jobs.push((
                        format!("drift-sweep:{}:{period}", target.subject()),
                        JobPayload::Drift(target),
                    ));
                }
            }
            for (delivery, job) in jobs {
                let recorded = self
                    .store
                    .record_delivery(
                        &delivery,
                        "drift-sweep",
                        "queued",
                        installation.id,
                        std::slice::from_ref(&job),
                        self.settings.max_attempts,
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                if matches!(recorded, crate::store::Recorded::New { .. }) {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    async fn installations(&self) -> Result<Vec<Installation>, ApiError> {
        let jwt = self.app.tokens.jwt()?;
        let mut out = Vec::new();
        let mut next = Some("/app/installations?per_page=100".to_owned());
        for _ in 0..MAX_PAGES {
            let Some(target) = next.take() else { break };
            // Installation 0: JWT calls belong to no installation's budget.
            let (page, response): (Vec<Installation>, _) =
                self.app.api.get_json(0, &jwt, &target).await?;
            out.extend(page);
            next = response.next_link();
        }
        Ok(out)
    }

    /// The repositories of `installation`, read with a metadata-only token for all of them.
    async fn repositories(&self, installation: u64) -> Result<Vec<RepoItem>, ApiError> {
        let token = self
            .app
            .tokens
            .token(&self.app.api, installation, &[], &drift_list_permissions())
            .await?;
        let mut out = Vec::new();
        let mut next = Some("/installation/repositories?per_page=100".to_owned());
        for _ in 0..MAX_PAGES {
            let Some(target) = next.take() else { break };
            let (page, response): (RepoList, _) =
                self.app.api.get_json(installation, &token, &target).await?;
            out.extend(page.repositories);
            next = response.next_link();
        }
        Ok(out)
    }
}

impl PeriodicTask for DriftSweep {
    fn name(&self) -> &'static str {
        "drift-sweep"
    }

    fn interval(&self) -> Duration {
        self.settings.tick
    }

    async fn tick(&self) -> Result<String, String> {
        let now = now_ms();
        let since = self.last.lock().ok().and_then(|l| *l);
        if let Ok(mut last) = self.last.lock() {
            *last = Some(now);
        }
        // A new leader starts its window now: a slot that passed while no leader ran is taken
        // in the next period (events still queue jobs meanwhile), and a restart never queues a
        // burst of jobs it cannot know were missed.
        let Some(since) = since else {
            return Ok("drift schedule starts now".into());
        };
        let queued = self.sweep(since, now).await?;
        Ok(format!("queued {queued} drift jobs"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_subject_is_due_once_per_interval_at_its_own_offset() {
        let day = 86_400_000;
        let subjects: Vec<String> = (0..200).map(|i| format!("repo:{i}")).collect();
        // Ticks of ten minutes over three days: every subject exactly three times.
        for s in &subjects {
            let mut due = Vec::new();
            let mut since = 0;
            let mut now = 600_000;
            while now <= 3 * day {
                if let Some(p) = due_period(s, day, since, now) {
                    due.push(p);
                }
                since = now;
                now += 600_000;
            }
            assert_eq!(due, vec![0, 1, 2], "{s}");
        }
        // Spread: the offsets are not bunched in one hour of the day.
        let hours: std::collections::HashSet<i64> = subjects
            .iter()
            .map(|s| offset_ms(s, day) / 3_600_000)
            .collect();
        assert!(hours.len() > 18, "{hours:?}");
    }
}
