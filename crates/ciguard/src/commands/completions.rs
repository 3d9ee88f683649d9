//! `ciguard completions <shell>` and `ciguard man [subcommand]`: shell completions and man pages
//! generated from the clap definitions, so they never drift from the real flags.

use std::process::ExitCode;

use crate::commands::render::print_stdout;

use anyhow::Context;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// A subcommand's page (`ciguard-audit(1)`) instead of the main page.
    pub subcommand: Option<String>,
}

pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "ciguard", &mut out);
    print_stdout(&out)
}

pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let mut root = Cli::command();
    root.build();
    let (cmd, title) = match &args.subcommand {
        None => (root, "ciguard".to_owned()),
        Some(name) => {
            let Some(sub) = root.find_subcommand(name).cloned() else {
                let names: Vec<_> = root
                    .get_subcommands()
                    .map(|c| c.get_name().to_owned())
                    .filter(|n| n != "help")
                    .collect();
                eprintln!(
                    "error: no subcommand is called `{name}`\n  man pages exist for: {}",
                    names.join(", ")
                );
                return Ok(super::exit::ExitStatus::Usage.into());
            };
            // `ciguard-audit` is the page's title, as git and cargo name theirs.
            let title = format!("ciguard-{}", sub.get_name());
            (sub.version(env!("CARGO_PKG_VERSION")), title)
        }
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .title(title)
        .render(&mut out)
        .context("rendering the man page")?;
    print_stdout(&out)
}
