//! Subcommands, one file each.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod audit;
pub mod exit;
pub mod github;
pub mod pin;
pub mod render;

/// Exit code when ciguard itself failed (I/O, bad configuration, internal error).
pub const EXIT_TOOL_FAILURE: u8 = 1;

#[derive(Debug, Parser)]
#[command(
    name = "ciguard",
    version,
    about = "Secure the CI/CD and release supply chain of GitHub projects"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit workflows, actions and Dependabot configurations.
    Audit(audit::AuditArgs),
    /// Pin actions, reusable workflows (and with --images, container images) to commit SHAs.
    Pin(pin::PinArgs),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Audit(args) => audit::run(args),
        Command::Pin(args) => pin::run(args),
    }
}
