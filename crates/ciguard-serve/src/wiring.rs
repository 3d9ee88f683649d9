//! Where the App side plugs into the queue: the runner that does a job and the App's periodic
//! tasks. Until the App runner is merged in, jobs end `dead` with a clear reason.

use std::path::PathBuf;

use crate::job::{Job, JobRunner, Outcome};
use crate::scheduler::DynTask;
use crate::store::Store;

/// The App's settings from the command line.
#[derive(Debug, Clone)]
pub struct AppSettings {
    pub app_id: Option<u64>,
    pub private_key_file: Option<PathBuf>,
    pub github_api_url: String,
}

/// The runner of the App's jobs.
pub fn app_runner(settings: &AppSettings, store: &Store) -> impl JobRunner + use<> {
    let _ = (settings, store);
    NotBuiltIn
}

/// The App's periodic tasks (the scheduler adds its own janitor).
pub fn periodic_tasks(settings: &AppSettings, store: &Store) -> Vec<Box<dyn DynTask>> {
    let _ = (settings, store);
    Vec::new()
}

struct NotBuiltIn;

impl JobRunner for NotBuiltIn {
    async fn run(&self, job: &Job) -> Outcome {
        tracing::warn!(job = job.id, "no App runner in this build");
        Outcome::Dead {
            reason: "the App runner is not built in".into(),
        }
    }
}
