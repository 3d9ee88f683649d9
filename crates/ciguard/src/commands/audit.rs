//! `ciguard audit`: flags, then the pipeline (`ciguard_pipeline::audit`), then streams and the
//! exit status.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use ciguard_core::output::Stream;
use ciguard_core::{Applicability, Diagnostic, FileKind, Finding, Severity};
use ciguard_github::ClientConfig;
use ciguard_http::RequestCounter;
use ciguard_pipeline::{FixRequest, Options};

use crate::commands::exit::ExitStatus;
use crate::commands::filter_args::{FilterArgs, config_choice};
use crate::commands::github::GithubArgs;
use crate::commands::next_steps::{self, Shown};
use crate::commands::render::{
    ColorChoice, OutputFormat, StepSummary, append_step_summary, print_statistics, render_options,
    step_summary_path,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FixMode {
    /// Apply safe fixes only.
    Safe,
    /// Apply unsafe fixes only.
    Unsafe,
    /// Apply safe and unsafe fixes.
    All,
}

impl FixMode {
    fn applicabilities(self) -> &'static [Applicability] {
        match self {
            FixMode::Safe => &[Applicability::Safe],
            FixMode::Unsafe => &[Applicability::Unsafe],
            FixMode::All => &[Applicability::Safe, Applicability::Unsafe],
        }
    }
}

/// The long help of `ciguard audit`: which audits go online and which keep their persona inside
/// a dependency, listed from their declarations (`needs_network`, `transitive`).
fn after_help() -> String {
    let catalogue = ciguard_core::audits::catalogue();
    let ids = |keep: fn(&ciguard_core::AuditMeta) -> bool| {
        let mut ids: Vec<&str> = catalogue.iter().filter(|m| keep(m)).map(|m| m.id).collect();
        ids.sort_unstable();
        ids.join(", ")
    };
    let online = ids(|m| m.needs_network);
    let consumer = ids(|m| m.transitive == ciguard_core::catalog::Transitive::Consumer);
    format!(
        "Online audits ({online}, and archived-uses from repository metadata) run when a \
GitHub token is available (--gh-token, GH_TOKEN or GITHUB_TOKEN) and --offline is not given. \
Without a token ciguard sends no request and the report notes the skipped audits.

Remote inputs: `ciguard audit owner/repo[@ref]` reads the repository's workflows, actions, \
Dependabot configuration and ciguard.toml through the API (the ref's commit, its tree in one \
request, then each file; trees and files are cached for good), with or without a token \
(anonymous requests are limited to 60 per hour). Findings are shown as \
owner/repo@ref:path; --fix and --diff refuse remote inputs; with --offline they are read from \
the cache or reported as unreadable.

Transitive auditing (online only): the action.yml of every action and the file of every reusable \
workflow used are fetched at the commit their ref resolves to and audited too, then what they use, \
up to --transitive-depth hops (cycles are cut). A finding inside a dependency is reported at the \
`uses:` that leads to it, with the chain (`reached through ci.yml -> a/b@<sha> -> c/d@v1`); the audits that \
concern the consumer ({consumer}) keep their persona, the others are shown to \
--persona auditor only. An ignore comment on the `uses:` line silences the dependency's findings \
of that audit."
    )
}

#[derive(Debug, clap::Args)]
#[command(after_help = after_help())]
pub struct AuditArgs {
    /// Files or directories to audit, `-` for one document on stdin, or `owner/repo[@ref]` for a
    /// GitHub repository read through the API without cloning it (its default branch when no ref
    /// is given). A local path of the same name wins; write `./owner/repo` to insist on it.
    #[arg(default_value = ".")]
    pub inputs: Vec<PathBuf>,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Plain, help_heading = "Output")]
    pub format: OutputFormat,

    /// When to colour plain output (`auto` honours NO_COLOR and whether stdout is a terminal).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,

    /// Which kinds of files to collect from directories.
    /// `dependencies` runs the offline checks of `ciguard deps` (cooldown settings, mutable
    /// sources in lockfiles) on each directory given.
    #[arg(long, value_delimiter = ',', default_value = "workflows,actions,dependabot,dependencies,pre-commit", value_parser = parse_kind, help_heading = "Inputs and configuration")]
    pub collect: Vec<FileKind>,

    /// Use this configuration file for every input instead of discovering one.
    #[arg(
        short,
        long,
        conflicts_with = "no_config",
        help_heading = "Inputs and configuration"
    )]
    pub config: Option<PathBuf>,

    /// Ignore configuration files.
    #[arg(long, help_heading = "Inputs and configuration")]
    pub no_config: bool,

    /// Record the current findings (every persona) in this baseline file, then report as usual.
    #[arg(long, help_heading = "Fixes and baselines")]
    pub write_baseline: Option<PathBuf>,

    /// Apply fixes in place: `safe` (the default when no value is given), `unsafe`, or `all`.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "safe", help_heading = "Fixes and baselines")]
    pub fix: Option<FixMode>,

    /// Show the fixes as a unified diff on stdout instead of writing them (the safe ones, or
    /// those `--fix=MODE` chooses: `--diff --fix=unsafe` previews the unsafe fixes).
    #[arg(long, help_heading = "Fixes and baselines")]
    pub diff: bool,

    /// Online audits (impostor commits, lying version comments, ref confusion, advisories,
    /// archived repositories) run when a token is available (`--gh-token`, `GH_TOKEN` or
    /// `GITHUB_TOKEN`) and `--offline` is not given; otherwise they are skipped and the report
    /// says so. `ciguard audit .` needs no token and sends no request.
    #[command(flatten)]
    pub github: GithubArgs,

    /// Also audit the actions and reusable workflows used, at their resolved commit, and what
    /// they use, this many `uses` hops deep (online only; 0 disables).
    #[arg(long, value_name = "N", default_value_t = ciguard_core::transitive::DEFAULT_DEPTH, help_heading = "GitHub and network")]
    pub transitive_depth: usize,

    /// After the report, print a table of findings per audit (on stderr unless the format is
    /// plain).
    #[arg(long, help_heading = "Output")]
    pub statistics: bool,

    #[command(flatten)]
    pub filter: FilterArgs,
}

fn parse_kind(s: &str) -> Result<FileKind, String> {
    FileKind::parse(s).ok_or_else(|| {
        format!("`{s}` is not one of: workflows, actions, dependabot, dependencies, pre-commit")
    })
}

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let github = args.github.clone();
    // Requests sent while the run is online, for the progress line on a terminal.
    let requests = Arc::new(RequestCounter::default());
    let counter = Arc::clone(&requests);
    let online = {
        let config = args.github.client_config();
        config.token.is_some() && !config.offline
    };
    let options = Options {
        kinds: args.collect.clone(),
        config: config_choice(args.config.clone(), args.no_config),
        view: args.filter.view(),
        baseline: args.filter.baseline.clone(),
        write_baseline: args.write_baseline.clone(),
        fix: args
            .fix
            .or(args.diff.then_some(FixMode::Safe))
            .map(|mode| FixRequest {
                applicabilities: mode.applicabilities(),
                diff: args.diff,
            }),
        github: Box::new(move || ClientConfig {
            progress: Some(Arc::clone(&counter)),
            ..github.client_config()
        }),
        transitive_depth: args.transitive_depth,
    };
    let stdout = std::io::stdout();
    // Buffered: stdout is line-buffered, and a report of thousands of findings is hundreds of
    // thousands of lines, each of which would otherwise be its own `write` system call.
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let opts = render_options(args.color);
    // `-q`: findings and errors only.
    let quiet = opts.quiet;
    let mut sink = StreamSink {
        // With --diff the report is not shown: the findings are only counted.
        stream: (!args.diff).then(|| {
            Stream::new(
                args.format.format(),
                opts,
                &mut buffered,
                ciguard_pipeline::catalogue::catalogue(),
            )
        }),
        summary: (args.format == OutputFormat::Github && !args.diff)
            .then(|| step_summary_path().map(|path| (path, StepSummary::default())))
            .flatten(),
        shown: Shown::default(),
        highest: None,
        error: None,
    };
    let mut run = || ciguard_pipeline::audit_streamed(&args.inputs, &options, &mut sink);
    let result = if online {
        crate::terminal::with_progress(
            "auditing (online checks)",
            ("request", "requests"),
            &|| requests.get(),
            run,
        )
    } else {
        run()
    };
    let outcome = match result {
        Err(e @ ciguard_pipeline::Error::RemoteFix(_)) => {
            eprintln!("error: {e}");
            return Ok(ExitStatus::Usage.into());
        }
        other => other?,
    };
    let report = &outcome.report;
    let mut stderr = std::io::stderr().lock();
    for message in outcome.fix_messages.iter().filter(|_| !quiet) {
        let _ = writeln!(stderr, "{message}");
    }
    if let Some(message) = outcome.baseline_written.as_ref().filter(|_| !quiet) {
        let _ = writeln!(stderr, "{message}");
    }
    for d in report
        .diagnostics
        .iter()
        .filter(|d| !quiet || d.level == ciguard_core::diagnostic::Level::Error)
    {
        let _ = writeln!(stderr, "{d}");
    }
    let StreamSink {
        stream,
        summary,
        shown,
        highest,
        error,
    } = sink;
    if let Some(stream) = stream {
        if matches!(args.format, OutputFormat::Sarif | OutputFormat::Github) && !quiet {
            for note in &report.notes {
                let _ = writeln!(stderr, "note: {note}");
            }
        }
        let finished = match error {
            Some(e) => Err(e),
            None => stream.finish(report),
        };
        match finished {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(e.into()),
            Ok(tally) => {
                if let Some((path, summary)) = summary {
                    append_step_summary(&path, &summary.markdown(report, &tally));
                }
            }
        }
        if args.format == OutputFormat::Plain && !quiet {
            for line in next_steps::lines(&shown, &outcome.suppressed, args.fix.is_some()) {
                let _ = writeln!(buffered, "{line}");
            }
        }
    } else {
        for diff in &outcome.diffs {
            let _ = write!(buffered, "{diff}");
        }
    }
    if crate::terminal::verbose() {
        let _ = writeln!(
            stderr,
            "{} audited",
            ciguard_core::plural::count(report.files_audited, "file", "files")
        );
    }
    if args.statistics {
        print_statistics(args.format, &shown, &mut buffered, &mut stderr);
    }
    let _ = buffered.flush();
    if outcome.unwritten > 0 {
        let _ = writeln!(
            stderr,
            "error: the fixes of {} {} could not be written; see above",
            outcome.unwritten,
            if outcome.unwritten == 1 {
                "file"
            } else {
                "files"
            }
        );
        return Ok(ExitStatus::FixNotWritten.into());
    }
    let input_error = report
        .diagnostics
        .iter()
        .any(|d| d.level == ciguard_core::diagnostic::Level::Error);
    if outcome.baseline_written.is_some() && !input_error {
        // Recording the findings is what was asked; they are not a failure of this run.
        return Ok(ExitCode::SUCCESS);
    }
    Ok(
        ExitStatus::for_run(report, highest, args.filter.no_exit_codes)
            .with_online_failure(outcome.online_failed)
            .into(),
    )
}

/// Writes each batch of findings as the pipeline passes it on, and counts what the lines after
/// the report and the exit status need.
struct StreamSink<'a> {
    stream: Option<Stream<'a>>,
    /// With `--format github` under GitHub Actions: the step summary's file and rows so far.
    summary: Option<(std::ffi::OsString, StepSummary)>,
    shown: Shown,
    highest: Option<Severity>,
    /// The first write error (a closed pipe): nothing more is written.
    error: Option<std::io::Error>,
}

impl ciguard_pipeline::Sink for StreamSink<'_> {
    fn findings(&mut self, findings: &[Finding]) {
        self.shown.add(findings);
        self.highest = self.highest.max(findings.iter().map(|f| f.severity).max());
        if let Some((_, summary)) = &mut self.summary {
            summary.add(findings);
        }
        if let (Some(stream), None) = (&mut self.stream, &self.error) {
            self.error = stream.findings(findings).err();
        }
    }

    fn diagnostic(&mut self, diagnostic: &Diagnostic) {
        if let (Some(stream), None) = (&mut self.stream, &self.error) {
            self.error = stream.diagnostic(diagnostic).err();
        }
    }

    fn group_done(&mut self) {
        crate::release_free_memory();
    }
}
