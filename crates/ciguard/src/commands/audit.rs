//! `ciguard audit`: flags, then the pipeline (`ciguard_pipeline::audit`), then streams and the
//! exit status.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use ciguard_core::{Applicability, FileKind};
use ciguard_github::ClientConfig;
use ciguard_http::RequestCounter;
use ciguard_pipeline::{FixRequest, Options};

use crate::commands::exit::ExitStatus;
use crate::commands::filter_args::{FilterArgs, config_choice};
use crate::commands::github::GithubArgs;
use crate::commands::next_steps;
use crate::commands::render::{ColorChoice, OutputFormat, print_statistics, render_report};

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
    let run = || ciguard_pipeline::audit(&args.inputs, &options);
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
    let mut stdout = std::io::stdout().lock();
    // `-q`: findings and errors only.
    let quiet = crate::terminal::quiet();
    for message in outcome.fix_messages.iter().filter(|_| !quiet) {
        let _ = writeln!(stderr, "{message}");
    }
    for diff in &outcome.diffs {
        let _ = write!(stdout, "{diff}");
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
    if !args.diff {
        render_report(args.format, args.color, report, &mut stdout)?;
        if args.format == OutputFormat::Plain && !quiet {
            for line in next_steps::lines(&report.findings, &outcome.suppressed, args.fix.is_some())
            {
                let _ = writeln!(stdout, "{line}");
            }
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
        print_statistics(args.format, &report.findings, &mut stdout, &mut stderr);
    }
    let _ = stdout.flush();
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
    Ok(ExitStatus::for_report(report, args.filter.no_exit_codes)
        .with_online_failure(outcome.online_failed)
        .into())
}
