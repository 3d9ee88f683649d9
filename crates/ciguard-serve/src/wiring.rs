//! Where the App side plugs into the queue: the runner that does a job (the App, with its key
//! and the store's shared rate-limit budget) and the App's periodic tasks (the reconciler of
//! missed deliveries). A process without App credentials (`--role ingress`) gets a runner that
//! refuses jobs with a clear reason; it is never asked to run any, since it has no worker.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ciguard_core::Severity;

use crate::app::checks::ReportPolicy;
use crate::app::key::KeyError;
use crate::app::{App, AppKey, ReconcileSettings, Reconciler};
use crate::job::{Job, JobPayload, JobRunner, Outcome};
use crate::scheduler::DynTask;
use crate::store::Store;

/// The App's settings from the command line.
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub app_id: Option<u64>,
    pub private_key_file: Option<PathBuf>,
    pub github_api_url: String,
    /// Findings at or above this severity fail the check run.
    pub fail_on: Severity,
    /// Least time between two writes (POST/PATCH) of one installation.
    pub write_interval: Duration,
}

/// The runner of the App's jobs.
pub enum Runner {
    App(Arc<App<Store>>),
    /// No `--app-id`/`--private-key-file`: this process only receives webhooks.
    Unconfigured,
}

/// Builds the runner: the App when its credentials were given. A key that cannot be read or
/// is not an RSA key stops the start, naming the file.
pub fn app_runner(settings: &AppSettings, store: &Store) -> Result<Runner, KeyError> {
    let (Some(app_id), Some(path)) = (settings.app_id, &settings.private_key_file) else {
        return Ok(Runner::Unconfigured);
    };
    let key = AppKey::load(path, app_id)?;
    let app = App::new(
        key,
        store.clone(),
        crate::app::AppSettings {
            api_url: settings.github_api_url.clone(),
            policy: ReportPolicy {
                fail_on: settings.fail_on,
                ..ReportPolicy::default()
            },
            write_interval: settings.write_interval,
            ..crate::app::AppSettings::default()
        },
    );
    Ok(Runner::App(Arc::new(app)))
}

/// The App's periodic tasks (the scheduler adds its own janitor).
pub fn periodic_tasks(runner: &Runner, store: &Store) -> Vec<Box<dyn DynTask>> {
    match runner {
        Runner::App(app) => vec![
            Box::new(Reconciler::new(
                Arc::clone(app),
                store.clone(),
                ReconcileSettings::default(),
            )),
            Box::new(crate::drift::DriftSweep::new(
                Arc::clone(app),
                store.clone(),
                crate::drift::SweepSettings::default(),
            )),
        ],
        Runner::Unconfigured => Vec::new(),
    }
}

impl JobRunner for Runner {
    async fn run(&self, job: &Job) -> Outcome {
        match self {
            Runner::App(app) => match &job.payload {
                JobPayload::Drift(target) => app.drift(job, target).await,
                JobPayload::GateReview(t) => crate::gate::review::run(app, job, t).await,
                _ => app.run(job).await,
            },
            Runner::Unconfigured => {
                tracing::warn!(job = job.id, "no App credentials in this process");
                Outcome::Dead {
                    reason: "this process has no App credentials (--app-id, --private-key-file)"
                        .into(),
                }
            }
        }
    }
}
