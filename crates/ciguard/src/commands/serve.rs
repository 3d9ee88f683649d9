//! `ciguard serve`: run the GitHub App (webhook ingress, job queue, workers, scheduler), and
//! `ciguard serve jobs list|retry|cancel` and `ciguard serve audit-log verify` for operators. The work is in `ciguard-serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use ciguard_serve::ops::{self, JobsAction};
use ciguard_serve::secret::{DbUrl, Secret};
use ciguard_serve::server::{Roles, ServeConfig};
use ciguard_serve::wiring::AppSettings;

use crate::commands::render::print_stdout;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = false)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub jobs: Option<ServeCommand>,

    /// The store: `sqlite:PATH` (one instance) or `postgres://USER@HOST/DB` (replicas).
    #[arg(
        long,
        global = true,
        env = "CIGUARD_DB",
        default_value = "sqlite:ciguard-serve.db",
        hide_env_values = true
    )]
    pub db: String,

    /// Address to listen on.
    #[arg(long, env = "CIGUARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// What this process does: all, ingress (webhooks), worker (jobs) or scheduler (periodic tasks).
    #[arg(long, env = "CIGUARD_ROLE", default_value = "all", value_parser = ["all", "ingress", "worker", "scheduler"])]
    pub role: String,

    /// The GitHub App's ID (workers and scheduler).
    #[arg(long, env = "CIGUARD_APP_ID")]
    pub app_id: Option<u64>,

    /// The App's private key, PEM (workers and scheduler).
    #[arg(long, env = "CIGUARD_PRIVATE_KEY_FILE")]
    pub private_key_file: Option<PathBuf>,

    /// A file holding the webhook secret; repeat during a rotation (env: comma-separated).
    #[arg(long, env = "CIGUARD_WEBHOOK_SECRET_FILE", value_delimiter = ',')]
    pub webhook_secret_file: Vec<PathBuf>,

    /// The GitHub API (GitHub Enterprise Server: https://HOST/api/v3).
    #[arg(
        long,
        env = "CIGUARD_GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: String,

    /// Findings at or above this severity fail the `ciguard` check run.
    #[arg(long, env = "CIGUARD_FAIL_ON", default_value = "high", ignore_case = true, value_parser = crate::commands::filter_args::severity_parser())]
    pub fail_on: ciguard_core::Severity,

    /// Least time in milliseconds between two writes (POST/PATCH) of one installation, as
    /// GitHub asks of integrations to stay under its secondary rate limits.
    #[arg(long, env = "CIGUARD_WRITE_INTERVAL_MS", default_value_t = 1000)]
    pub write_interval_ms: u64,

    /// Jobs run at once by this process.
    #[arg(long, env = "CIGUARD_WORKERS", default_value_t = 4)]
    pub workers: usize,

    /// Attempts before a failing job is dead.
    #[arg(long, env = "CIGUARD_MAX_ATTEMPTS", default_value_t = 5)]
    pub max_attempts: u32,

    /// Days deliveries and finished jobs are kept.
    #[arg(long, env = "CIGUARD_RETENTION_DAYS", default_value_t = 14)]
    pub retention_days: u64,

    /// Seconds a claimed job's lease lasts (renewed every third of it while the job runs): after
    /// a crashed replica, its jobs run again elsewhere within about 1.5 times this.
    #[arg(long, env = "CIGUARD_JOB_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub job_lease_secs: u64,
}

#[derive(Debug, clap::Subcommand)]
pub enum ServeCommand {
    /// Inspect and manage the job queue.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// The release gate's audit log.
    #[command(subcommand)]
    AuditLog(AuditLogCommand),
}

#[derive(Debug, clap::Subcommand)]
pub enum AuditLogCommand {
    /// Check the hash chain: exits 1 naming the first edited, deleted or reordered row.
    Verify,
}

#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest first: id, state, attempts, key, next run (Unix time), note.
    List {
        /// Only jobs in this state.
        #[arg(long, value_parser = ["queued", "running", "done", "dead", "cancelled", "superseded"])]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Queue a dead or cancelled job again, with fresh attempts.
    Retry { id: i64 },
    /// Cancel a queued job.
    Cancel { id: i64 },
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let db = DbUrl::new(args.db.clone());
    if let Some(ServeCommand::Jobs(command)) = &args.jobs {
        let action = match command {
            JobsCommand::List { state, limit } => JobsAction::List {
                state: state.clone(),
                limit: *limit,
            },
            JobsCommand::Retry { id } => JobsAction::Retry { id: *id },
            JobsCommand::Cancel { id } => JobsAction::Cancel { id: *id },
        };
        let out = ops::jobs(&db, &action)?;
        return print_stdout(out.as_bytes());
    }
    if let Some(ServeCommand::AuditLog(AuditLogCommand::Verify)) = &args.jobs {
        let (out, intact) = ops::audit_log_verify(&db)?;
        print_stdout(out.as_bytes())?;
        return Ok(if intact {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let roles = Roles::parse(&args.role).context("unknown --role")?;
    let secrets = args
        .webhook_secret_file
        .iter()
        .map(|path| Secret::from_file(path).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if roles.ingress && secrets.is_empty() {
        bail!(
            "--webhook-secret-file is required to receive webhooks (the secret set in the App's settings)"
        );
    }
    if (roles.worker || roles.scheduler)
        && (args.app_id.is_none() || args.private_key_file.is_none())
    {
        bail!(
            "--app-id and --private-key-file are required for the worker and scheduler roles (use --role ingress to only receive webhooks)"
        );
    }
    if let Some(key) = &args.private_key_file {
        std::fs::metadata(key)
            .with_context(|| format!("cannot read the private key file {}", key.display()))?;
    }
    let mut config = ServeConfig::new(args.listen, secrets);
    config.roles = roles;
    config.worker.concurrency = args.workers.max(1);
    config.worker.retry.max_attempts = args.max_attempts.max(1);
    config.worker.lease = Duration::from_secs(args.job_lease_secs);
    config.retention = Duration::from_secs(args.retention_days.saturating_mul(24 * 3600));
    let app = AppSettings {
        app_id: args.app_id,
        private_key_file: args.private_key_file,
        github_api_url: args.github_api_url,
        fail_on: args.fail_on,
        write_interval: Duration::from_millis(args.write_interval_ms),
    };
    // The global `-v` logs at debug level.
    ops::init_logging(crate::terminal::verbose());
    ops::serve(&db, config, &app)?;
    Ok(ExitCode::SUCCESS)
}
