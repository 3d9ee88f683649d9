//! Output choices shared by the subcommands that report findings.

use std::io::{IsTerminal, Write};

use ciguard_core::Report;

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
    let _ = (format, color.enabled());
    let result = (|| -> std::io::Result<()> {
        for f in &report.findings {
            let lc = match (&f.primary.source(), f.primary.span()) {
                (Some(file), Some(span)) => {
                    let lc = file.line_col(span.start);
                    format!("{}:{}", lc.line, lc.column)
                }
                _ => String::new(),
            };
            writeln!(
                out,
                "{}:{lc}: {}[{}]: {}",
                f.primary.path(),
                f.severity,
                f.audit,
                f.message
            )?;
        }
        writeln!(
            out,
            "{} findings, {} suppressed, {} files audited",
            report.findings.len(),
            report.suppressed,
            report.files_audited
        )
    })();
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}
