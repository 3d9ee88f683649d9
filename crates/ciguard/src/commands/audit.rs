//! `ciguard audit`: collect, parse, audit, filter, render or fix.

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Files or directories to audit, or `-` for one document on stdin.
    #[arg(default_value = ".")]
    pub inputs: Vec<PathBuf>,
}

pub fn run(_args: AuditArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet wired")
}
