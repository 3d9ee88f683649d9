//! The `ciguard` command line. Each subcommand lives in its own file under `commands/`.

mod commands;
mod markdown;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = commands::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!(
                "error: {}",
                ciguard_core::redact::redact(&format!("{err:#}"))
            );
            commands::exit::ExitStatus::ToolFailure.into()
        }
    }
}
