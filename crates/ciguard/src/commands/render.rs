//! Output choices shared by the subcommands that report findings.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use ciguard_core::Report;
pub use ciguard_core::output::StepSummary;
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

impl OutputFormat {
    pub fn format(self) -> Format {
        match self {
            OutputFormat::Plain => Format::Plain,
            OutputFormat::Json => Format::Json,
            OutputFormat::Sarif => Format::Sarif,
            OutputFormat::Github => Format::Github,
        }
    }
}

/// Writes the report; a closed pipe (`| head`) is not an error. Plain and JSON carry the
/// report's notes; for SARIF and GitHub annotations they go to stderr.
pub fn render_report(
    format: OutputFormat,
    color: ColorChoice,
    report: &Report,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let opts = render_options(color);
    if let Some(path) = step_summary_path().filter(|_| format == OutputFormat::Github) {
        append_step_summary(&path, &ciguard_core::output::step_summary(report));
    }
    if matches!(format, OutputFormat::Sarif | OutputFormat::Github) && !opts.quiet {
        let mut stderr = std::io::stderr().lock();
        for note in &report.notes {
            let _ = writeln!(stderr, "note: {note}");
        }
    }
    // Buffered: stdout is line-buffered, and a report of thousands of findings is hundreds of
    // thousands of lines, each of which would otherwise be its own `write` system call.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    match render(
        format.format(),
        report,
        &opts,
        ciguard_pipeline::catalogue::catalogue(),
        &mut out,
    )
    .and_then(|()| out.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// How to render to stdout: colour as chosen, the terminal's width and hyperlinks, `-q`.
pub fn render_options(color: ColorChoice) -> RenderOptions {
    let color = color.enabled();
    RenderOptions {
        color,
        width: crate::terminal::stdout_width(),
        hyperlinks: crate::terminal::hyperlinks(color),
        quiet: crate::terminal::quiet(),
    }
}

/// The file GitHub Actions names in `GITHUB_STEP_SUMMARY` (the job's summary page), when set.
pub fn step_summary_path() -> Option<std::ffi::OsString> {
    std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
}

/// Appends the findings table to the step summary file; a file that cannot be written is a
/// warning only.
pub fn append_step_summary(path: &std::ffi::OsStr, markdown: &str) {
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .and_then(|mut f| f.write_all(markdown.as_bytes()));
    if let Err(e) = written {
        eprintln!("warning: GITHUB_STEP_SUMMARY could not be written: {e}");
    }
}

/// Writes `bytes` to stdout for commands that print one document (`audits`, `explain`, `schema`,
/// `completions`, `man`); a reader that closed the pipe early (`| head`) is not an error.
pub fn print_stdout(bytes: &[u8]) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The table of findings per audit (`--statistics`): after a plain report, else on stderr so
/// machine-readable output stays one document.
pub fn print_statistics(
    format: OutputFormat,
    shown: &super::next_steps::Shown,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) {
    let table = super::next_steps::statistics(shown);
    let _ = if format == OutputFormat::Plain {
        write!(stdout, "{table}")
    } else {
        write!(stderr, "{table}")
    };
}
