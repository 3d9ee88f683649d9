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

/// glibc gives each thread that contends for memory an arena of its own and keeps what each
/// arena freed: with documents audited on several threads and written on another, peak memory
/// grew with the number of files audited (1.65x for eight copies of the corpus against one)
/// although nothing more is kept alive. Called after each group of files is written and
/// dropped, `malloc_trim` hands the freed pages of every arena back. (One arena also kept it
/// flat, but its lock cost a third of the wall time.)
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn release_free_memory() {
    // SAFETY: malloc_trim only returns free pages to the system; it takes the arenas' locks
    // itself and touches no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_memory() {}
