//! The entry points of `ciguard serve`: run a server process until SIGTERM, and the operator's
//! `jobs list | retry | cancel`.

use std::fmt::Write as _;

use ciguard_core::escape;

use crate::secret::DbUrl;
use crate::server::{self, ServeConfig};
use crate::store::{Store, StoreError, StoreOptions, from_ms};
use crate::wiring::{self, AppSettings};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Key(#[from] crate::app::key::KeyError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("no job {0} in a state that allows this (see `ciguard serve jobs list`)")]
    NoSuchJob(i64),
}

/// Runs one server process until SIGTERM or Ctrl-C, then stops gracefully.
pub fn serve(db: &DbUrl, config: ServeConfig, app: &AppSettings) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async {
        let store = Store::open(db, &StoreOptions::default()).await?;
        let runner = wiring::app_runner(app, &store)?;
        let tasks = wiring::periodic_tasks(&runner, &store);
        let addr = config.listen;
        let running = server::start(store, config, runner, tasks)
            .await
            .map_err(|source| ServeError::Listen { addr, source })?;
        eprintln!("ciguard serve: listening on http://{}", running.addr);
        stop_signal().await;
        eprintln!("ciguard serve: stopping (finishing in-flight requests and jobs)");
        let stopped = running.stop().await;
        if !stopped.drained {
            eprintln!(
                "ciguard serve: {} unfinished job(s) put back in the queue",
                stopped.released
            );
        }
        Ok(())
    })
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[derive(Debug, Clone)]
pub enum JobsAction {
    List { state: Option<String>, limit: u32 },
    Retry { id: i64 },
    Cancel { id: i64 },
}

/// Runs an operator command against the store; returns what to print on stdout.
pub fn jobs(db: &DbUrl, action: &JobsAction) -> Result<String, ServeError> {
    on_store(db, async |store| jobs_on(store, action).await)
}

/// Runs one operator command's `work` on the store, on a runtime of its own. The store is not
/// opened exclusively: operators run these beside a server on the same SQLite file.
fn on_store<T>(
    db: &DbUrl,
    work: impl AsyncFnOnce(&Store) -> Result<T, ServeError>,
) -> Result<T, ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async {
        let options = StoreOptions {
            exclusive: false,
            ..StoreOptions::default()
        };
        let store = Store::open(db, &options).await?;
        let out = work(&store).await;
        store.close().await;
        out
    })
}

pub async fn jobs_on(store: &Store, action: &JobsAction) -> Result<String, ServeError> {
    match action {
        JobsAction::List { state, limit } => {
            let mut out = String::from("id\tstate\tattempts\tkey\trun_at\tnote\n");
            for job in store.list_jobs(state.as_deref(), *limit).await? {
                let run_at = from_ms(job.run_at)
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_secs();
                // Notes and keys come from payloads and runner messages: no control or bidi
                // characters reach a terminal.
                let note = job.note.as_deref().map(escape::text).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}/{}\t{}\t{}\t{}",
                    job.id,
                    job.state,
                    job.attempts,
                    job.max_attempts,
                    escape::text(&job.key),
                    run_at,
                    note
                );
            }
            Ok(out)
        }
        JobsAction::Retry { id } => match store.retry_job(*id).await? {
            true => Ok(format!("job {id} queued again\n")),
            false => Err(ServeError::NoSuchJob(*id)),
        },
        JobsAction::Cancel { id } => match store.cancel_job(*id).await? {
            true => Ok(format!("job {id} cancelled\n")),
            false => Err(ServeError::NoSuchJob(*id)),
        },
    }
}

/// `ciguard serve audit-log verify`: walks the release gate's hash chain. What to print, and
/// whether the chain is intact.
pub fn audit_log_verify(db: &DbUrl) -> Result<(String, bool), ServeError> {
    on_store(db, async |store| {
        let verified = store.verify_gate_audit_log().await?;
        Ok(match verified.broken {
            None => (
                format!("audit log: {} rows, chain intact\n", verified.rows),
                true,
            ),
            Some(why) => (
                format!("audit log: {} rows, chain BROKEN: {why}\n", verified.rows),
                false,
            ),
        })
    })
}

/// Logs to stderr at `info` (or `debug` with `verbose`).
pub fn init_logging(verbose: bool) {
    let level = if verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    };
    // Every line goes through the redacting writer: tokens, JWTs and PEM blocks never reach
    // the log, whatever a message or an error happens to contain.
    let _ = tracing_subscriber::fmt()
        .with_writer(crate::app::redact::Redacting(std::io::stderr))
        .with_max_level(level)
        .with_ansi(false)
        .try_init();
}
