//! Subcommands, one file each.

use std::process::ExitCode;

use ciguard_core::Catalogue;

use clap::{Parser, Subcommand};

pub mod audit;
pub mod audits;
pub mod completions;
pub mod deps;
pub mod exit;
pub mod explain;
pub mod filter_args;
pub mod github;
pub mod next_steps;
pub mod pin;
pub mod render;
pub mod schema;
#[cfg(feature = "serve")]
pub mod serve;
// A build without the server keeps the subcommand, to say how to get it.
#[cfg(not(feature = "serve"))]
#[path = "serve_not_built.rs"]
pub mod serve;
pub mod settings;

/// Every audit of every crate (core, dependency and settings audits), built on first use from
/// the crates' static lists and passed to what needs it: configuration, docs, `ciguard audits`,
/// `explain`.
pub fn catalogue() -> &'static Catalogue {
    ciguard_pipeline::catalogue::catalogue()
}

#[derive(Debug, Parser)]
#[command(
    name = "ciguard",
    version,
    about = "Secure the CI/CD and release supply chain of GitHub projects"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub verbosity: crate::terminal::Verbosity,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit workflows, actions and Dependabot configurations.
    Audit(audit::AuditArgs),
    /// List every audit with its severity, persona and summary.
    Audits(audits::AuditsArgs),
    /// Show an audit's documentation.
    Explain(explain::ExplainArgs),
    /// Audit repository and organization settings against a hardened baseline.
    Settings(Box<settings::SettingsArgs>),
    /// Check lockfiles against registries (cooldowns, yanked versions), mutable dependency
    /// sources, and the cooldown settings of update bots and package managers.
    Deps(deps::DepsArgs),
    /// Pin actions, reusable workflows (and with --images, container images) to commit SHAs.
    Pin(pin::PinArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish) to stdout.
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) of ciguard or of one subcommand to stdout.
    Man(completions::ManArgs),
    /// Print the JSON schema of `ciguard.toml` (for editors) to stdout.
    Schema(schema::SchemaArgs),
    /// Run the GitHub App: webhook ingress, job queue (SQLite or PostgreSQL), workers (builds
    /// with the `serve` feature).
    Serve(Box<serve::ServeArgs>),
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::terminal::set_verbosity(cli.verbosity);
    match cli.command {
        Command::Audit(args) => audit::run(args),
        Command::Audits(args) => audits::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Settings(args) => settings::run(*args),
        Command::Deps(args) => deps::run(args),
        Command::Pin(args) => pin::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        Command::Schema(args) => schema::run(args),
        Command::Serve(args) => serve::run(*args),
    }
}
