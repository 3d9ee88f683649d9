//! The `ciguard` command line. Each subcommand lives in its own file under `commands/`.

mod catalogue;
mod collect;
mod commands;
mod remote;

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
            ExitCode::from(commands::EXIT_TOOL_FAILURE)
        }
    }
}
