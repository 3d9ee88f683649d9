//! `ciguard serve` in a build without the `serve` feature: the GitHub App server (an async
//! runtime, an HTTP server, SQLite and PostgreSQL drivers) is left out of the default build so
//! the CLI that CI jobs compile from source stays small; this says how to build it.

use std::ffi::OsString;
use std::process::ExitCode;

use crate::commands::exit::ExitStatus;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Whatever follows `serve` (ignored: the server is not in this build).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    rest: Vec<OsString>,
}

pub fn run(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    eprintln!(
        "error: this ciguard was built without the GitHub App server (`serve` feature).\n  \
         Build it with: cargo install --locked --path crates/ciguard --features serve\n  \
         (the release binaries on GitHub include it; see docs/serve.md)"
    );
    Ok(ExitCode::from(ExitStatus::Usage.code()))
}
