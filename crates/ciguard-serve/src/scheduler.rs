//! The scheduler: one leader among the replicas (a lease row renewed every third of its
//! lifetime) runs the periodic tasks; the others stand by.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::job::PeriodicTask;
use crate::store::Store;

/// A [`PeriodicTask`] behind a pointer, so tasks of different types share one list.
pub trait DynTask: Send + Sync {
    fn name(&self) -> &'static str;
    fn interval(&self) -> Duration;
    fn tick(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>>;
}

impl<T: PeriodicTask> DynTask for T {
    fn name(&self) -> &'static str {
        PeriodicTask::name(self)
    }
    fn interval(&self) -> Duration {
        PeriodicTask::interval(self)
    }
    fn tick(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(PeriodicTask::tick(self))
    }
}

const LEASE_NAME: &str = "scheduler";

pub async fn run(
    store: Store,
    owner: String,
    lease: Duration,
    tasks: Vec<Box<dyn DynTask>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut next_run: Vec<Instant> = tasks.iter().map(|_| Instant::now()).collect();
    let mut leading = false;
    let mut tick = tokio::time::interval(lease / 3);
    while !*shutdown.borrow() {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => continue,
        }
        let now_leading = store
            .try_lead(LEASE_NAME, &owner, lease)
            .await
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot renew the scheduler lease");
                false
            });
        if now_leading != leading {
            tracing::info!(leading = now_leading, "scheduler leadership changed");
            leading = now_leading;
        }
        if !leading {
            continue;
        }
        for (task, due) in tasks.iter().zip(next_run.iter_mut()) {
            if Instant::now() < *due {
                continue;
            }
            *due = Instant::now() + task.interval();
            match tokio::time::timeout(lease, task.tick()).await {
                Ok(Ok(summary)) => tracing::info!(task = task.name(), summary, "periodic task ran"),
                Ok(Err(error)) => tracing::warn!(task = task.name(), error, "periodic task failed"),
                Err(_) => tracing::warn!(task = task.name(), "periodic task timed out"),
            }
        }
    }
    if leading {
        let _ = store.resign(LEASE_NAME, &owner).await;
    }
}

/// Prunes deliveries and finished jobs older than the retention.
pub struct Janitor {
    pub store: Store,
    pub retention: Duration,
}

impl PeriodicTask for Janitor {
    fn name(&self) -> &'static str {
        "janitor"
    }
    fn interval(&self) -> Duration {
        Duration::from_secs(3600)
    }
    async fn tick(&self) -> Result<String, String> {
        let (deliveries, jobs) = self
            .store
            .prune(self.retention)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "pruned {deliveries} deliveries and {jobs} finished jobs"
        ))
    }
}
