//! Output choices shared by the subcommands that report findings.

use std::io::{IsTerminal, Write};

use ciguard_core::Report;
use ciguard_core::output::{Format, RenderOptions, render};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Plain,
    Json,
    Sarif,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// `auto` colours only a terminal, and never when NO_COLOR is set to anything non-empty.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// Writes the report; a closed pipe (`| head`) is not an error.
pub fn render_report(
    format: OutputFormat,
    color: ColorChoice,
    report: &Report,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let format = match format {
        OutputFormat::Plain => Format::Plain,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
        OutputFormat::Github => Format::Github,
    };
    let opts = RenderOptions {
        color: color.enabled(),
    };
    let result = render(format, report, &opts, out);
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
