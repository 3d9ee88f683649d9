//! `ciguard audit`: collect, parse, audit, suppress, filter, then render or fix.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use ciguard_core::actions_lock::{ActionsLock, LOCKFILE_PATH};
use ciguard_core::audit::{Audit, AuditContext};
use ciguard_core::config::Config;
use ciguard_core::diagnostic::{Diagnostic, Level};
use ciguard_core::engine::audit_file;
use ciguard_core::facts::Facts;
use ciguard_core::fix::{
    apply_fixes, describe_applied, patch_path, unified_diff, write_atomic, write_atomic_named,
};
use ciguard_core::plural::count;
use ciguard_core::redact::redact;
use ciguard_core::safe_read::{self, ReadError};
use ciguard_core::suppress::{Baseline, apply_inline_ignores};
use ciguard_core::transitive::Graph;
use ciguard_core::yaml::Limits;
use ciguard_core::{
    Applicability, Confidence, FileKind, Finding, Persona, Report, Severity, SourceFile, audits,
};
use rayon::prelude::*;

use crate::collect::{self, Candidate};
use crate::commands::github::GithubArgs;
use crate::commands::network;
use crate::commands::render::{ColorChoice, OutputFormat, render_report};
use crate::commands::{exit, next_steps};

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

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Online audits (impostor-commit, ref-version-mismatch, stale-action-refs, \
ref-confusion, known-vulnerable-actions, and archived-uses from repository metadata) run when a \
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
concern the consumer (unpinned-uses, mutable-downloads, unpinned-images, template-injection, \
known-vulnerable-actions, impostor-commit...) keep their persona, the others are shown to \
--persona auditor only. An ignore comment on the `uses:` line silences the dependency's findings \
of that audit."
)]
pub struct AuditArgs {
    /// Files or directories to audit, `-` for one document on stdin, or `owner/repo[@ref]` for a
    /// GitHub repository read through the API without cloning it (its default branch when no ref
    /// is given). A local path of the same name wins; write `./owner/repo` to insist on it.
    #[arg(default_value = ".")]
    pub inputs: Vec<PathBuf>,

    /// Which kinds of files to collect from directories.
    /// `dependencies` runs the offline checks of `ciguard deps` (cooldown settings, mutable
    /// sources in lockfiles) on each directory given.
    #[arg(long, value_delimiter = ',', default_value = "workflows,actions,dependabot,dependencies", value_parser = kind_parser(), help_heading = INPUTS)]
    pub collect: Vec<FileKind>,

    /// Use this configuration file for every input instead of discovering one.
    #[arg(short, long, conflicts_with = "no_config", help_heading = INPUTS)]
    pub config: Option<PathBuf>,

    /// Ignore configuration files.
    #[arg(long, help_heading = INPUTS)]
    pub no_config: bool,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Plain, help_heading = OUTPUT)]
    pub format: OutputFormat,

    /// When to colour plain output (`auto` honours NO_COLOR and whether stdout is a terminal).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = OUTPUT)]
    pub color: ColorChoice,

    /// Who the report is for: `regular` findings only, `pedantic` adds hardening advice,
    /// `auditor` adds low-signal leads.
    #[arg(short, long, value_enum, default_value_t = PersonaArg::Regular, help_heading = FILTERS)]
    pub persona: PersonaArg,

    /// Hide findings below this severity.
    #[arg(long, ignore_case = true, value_parser = severity_parser(), help_heading = FILTERS)]
    pub min_severity: Option<Severity>,

    /// Hide findings below this confidence.
    #[arg(long, ignore_case = true, value_parser = confidence_parser(), help_heading = FILTERS)]
    pub min_confidence: Option<Confidence>,

    /// Report only findings that are not in this baseline.
    #[arg(long, help_heading = FILTERS)]
    pub baseline: Option<PathBuf>,

    /// Record the current findings (every persona) in this baseline file, then report as usual;
    /// exits 0 once written.
    #[arg(long, help_heading = FILTERS)]
    pub write_baseline: Option<PathBuf>,

    /// Apply fixes in place: `safe` (the default when no value is given), `unsafe`, or `all`.
    #[arg(long, value_enum, num_args = 0..=1, require_equals = true, default_missing_value = "safe", help_heading = FIXES)]
    pub fix: Option<FixMode>,

    /// Show the fixes as a unified diff on stdout instead of writing them (the safe ones, or
    /// those `--fix=MODE` chooses: `--diff --fix=unsafe` previews the unsafe fixes).
    #[arg(long, help_heading = FIXES)]
    pub diff: bool,

    /// Online audits (impostor commits, lying version comments, ref confusion, advisories,
    /// archived repositories) run when a token is available (`--gh-token`, `GH_TOKEN` or
    /// `GITHUB_TOKEN`) and `--offline` is not given; otherwise they are skipped and the report
    /// says so. `ciguard audit .` needs no token and sends no request.
    #[command(flatten, next_help_heading = NETWORK)]
    pub github: GithubArgs,

    /// Also audit the actions and reusable workflows used, at their resolved commit, and what
    /// they use, this many `uses` hops deep (online only; 0 disables).
    #[arg(long, value_name = "N", default_value_t = ciguard_core::transitive::DEFAULT_DEPTH, help_heading = NETWORK)]
    pub transitive_depth: usize,

    /// After the report, print a table of findings per audit (on stderr unless the format is
    /// plain).
    #[arg(long, help_heading = OUTPUT)]
    pub statistics: bool,
}

// `audit --help` groups its options by topic.
const INPUTS: &str = "Inputs";
const OUTPUT: &str = "Output";
const FILTERS: &str = "Filtering";
const FIXES: &str = "Fixes";
const NETWORK: &str = "Network (online audits)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PersonaArg {
    Regular,
    Pedantic,
    Auditor,
}

impl PersonaArg {
    fn persona(self) -> Persona {
        match self {
            PersonaArg::Regular => Persona::Regular,
            PersonaArg::Pedantic => Persona::Pedantic,
            PersonaArg::Auditor => Persona::Auditor,
        }
    }
}

// Parsers that list the accepted values in `--help` and in their errors.

fn kind_parser() -> impl clap::builder::TypedValueParser<Value = FileKind> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["workflows", "actions", "dependabot", "dependencies"])
        .try_map(|s| FileKind::parse(&s).ok_or("not a kind of file"))
}

fn severity_parser() -> impl clap::builder::TypedValueParser<Value = Severity> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Severity::ALL.iter().map(|s| s.as_str()))
        .try_map(|s| Severity::parse(&s).ok_or("not a severity"))
}

fn confidence_parser() -> impl clap::builder::TypedValueParser<Value = Confidence> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Confidence::ALL.iter().map(|c| c.as_str()))
        .try_map(|s| Confidence::parse(&s).ok_or("not a confidence"))
}

/// What one file contributed to the run.
#[derive(Default)]
struct FileOutcome {
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    suppressed: usize,
    audited: bool,
    /// (path, old text, new text) when fixes changed the file.
    fixed: Option<(PathBuf, String, String)>,
    /// The findings and suppressed count of the file as it was, reported if the fixes cannot
    /// be written.
    unfixed: Option<(Vec<Finding>, usize)>,
    fix_messages: Vec<String>,
}

/// The configuration for each repository root, loaded once.
fn load_configs(
    args: &AuditArgs,
    candidates: &[Candidate],
    mut configs: HashMap<PathBuf, Arc<Config>>,
) -> anyhow::Result<HashMap<PathBuf, Arc<Config>>> {
    let explicit = match &args.config {
        Some(path) => Some(Arc::new(Config::load(path)?)),
        None => None,
    };
    for c in candidates {
        if configs.contains_key(&c.root) {
            continue;
        }
        let config = config_for(&c.root, explicit.as_ref(), args.no_config)?;
        configs.insert(c.root.clone(), config);
    }
    Ok(configs)
}

/// The configuration that applies under `root`: none with `--no-config`, the `--config` file
/// when one was given (`explicit`), else the one discovered at the root. Shared by `ciguard
/// audit` and `ciguard deps`.
pub(crate) fn config_for(
    root: &std::path::Path,
    explicit: Option<&Arc<Config>>,
    no_config: bool,
) -> anyhow::Result<Arc<Config>> {
    Ok(if no_config {
        Arc::new(Config::default())
    } else if let Some(explicit) = explicit {
        Arc::clone(explicit)
    } else {
        Arc::new(Config::load_discovered(root)?.unwrap_or_default())
    })
}

/// Applies `[audits.<id>]` (disable, severity, ignore) to dependency findings: the kept
/// findings, and how many were suppressed. Shared by `ciguard audit` and `ciguard deps`.
pub(crate) fn apply_config(config: &Config, found: Vec<Finding>) -> (Vec<Finding>, usize) {
    let mut findings = Vec::new();
    let mut suppressed = 0;
    for mut f in found {
        let line = f
            .primary
            .span()
            .and_then(|s| f.primary.source().map(|file| file.line_col(s.start).line));
        if config.is_disabled(f.audit) || !config.apply(&mut f, line) {
            suppressed += 1;
        } else {
            findings.push(f);
        }
    }
    (findings, suppressed)
}

/// GitHub's actions lockfile of each repository root that has workflows, loaded once. A
/// lockfile that cannot be read or parsed is an error diagnostic and is treated as absent.
fn load_actions_locks(
    candidates: &[Candidate],
) -> (HashMap<PathBuf, Arc<ActionsLock>>, Vec<Diagnostic>) {
    let mut locks = HashMap::new();
    let mut diagnostics = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in candidates {
        if c.path.is_none() || c.kind != FileKind::Workflow || !seen.insert(c.root.clone()) {
            continue;
        }
        let path = c.root.join(LOCKFILE_PATH);
        let text = match safe_read::read_text(Some(&c.root), &path, MAX_SIDE_FILE_BYTES) {
            Ok(text) => text,
            Err(ReadError::Missing) => continue,
            Err(e) => {
                diagnostics.push(lockfile_error(&path, &e.to_string()));
                continue;
            }
        };
        match ActionsLock::parse(&text) {
            Ok(lock) => {
                locks.insert(c.root.clone(), Arc::new(lock));
            }
            Err(e) => diagnostics.push(lockfile_error(&path, &format!("does not parse: {e}"))),
        }
    }
    (locks, diagnostics)
}

fn lockfile_error(path: &std::path::Path, problem: &str) -> Diagnostic {
    Diagnostic::file(
        Level::Error,
        collect::escape_path(path),
        format!("the actions lockfile {problem}; it was ignored, so no `uses:` counts as locked"),
    )
    .help("regenerate it with `gh actions-lock` or `ciguard pin --lockfile`, or delete it")
}

/// Runs every enabled audit over one file and applies its configuration and inline ignores.
fn audit_one<'c>(
    file: &Arc<SourceFile>,
    config: &'c Config,
    audits: &[&dyn Audit],
    facts: &'c Facts,
    graph: &Graph,
    actions_lock: Option<&'c ActionsLock>,
) -> (bool, Vec<Finding>, Vec<Diagnostic>, usize) {
    let limits = Limits::default();
    let report = audit_file(file, &limits, audits, &|audit| AuditContext {
        options: match config.settings(audit.meta().id) {
            Some(s) => &s.options,
            None => empty_table(),
        },
        facts,
        actions_lock,
    });
    let mut findings = report.findings;
    let ids: Vec<&str> = audits.iter().map(|a| a.meta().id).collect();
    findings.extend(graph.lift(file, facts, &ids));
    let before = findings.len();
    findings.retain_mut(|f| {
        let line = f.primary.span().map(|s| file.line_col(s.start).line);
        config.apply(f, line)
    });
    let mut suppressed = before - findings.len();
    let (inline, mut unused) = apply_inline_ignores(file, &mut findings, &ids);
    unused.retain(|u| !graph.may_hide_unused_ignore(file, u));
    suppressed += inline;
    if !config.is_disabled("unused-ignore") {
        findings.extend(unused);
    }
    (report.audited, findings, report.diagnostics, suppressed)
}

fn empty_table() -> &'static toml::Table {
    static EMPTY: std::sync::OnceLock<toml::Table> = std::sync::OnceLock::new();
    EMPTY.get_or_init(toml::Table::new)
}

fn process(
    candidate: &Candidate,
    read: &Result<Arc<SourceFile>, Diagnostic>,
    config: &Config,
    view: &ReportView<'_>,
    facts: &Facts,
    graph: &Graph,
    actions_lock: Option<&ActionsLock>,
) -> FileOutcome {
    let args = view.args;
    let mut outcome = FileOutcome::default();
    let file = match read {
        Ok(f) => Arc::clone(f),
        Err(d) => {
            outcome.diagnostics.push(d.clone());
            return outcome;
        }
    };
    let enabled: Vec<&dyn Audit> = audits::all()
        .iter()
        .copied()
        .filter(|a| !config.is_disabled(a.meta().id))
        .collect();
    let (audited, findings, diagnostics, suppressed) =
        audit_one(&file, config, &enabled, facts, graph, actions_lock);
    outcome.audited = audited;
    outcome.diagnostics = diagnostics;
    outcome.suppressed = suppressed;
    outcome.findings = findings;
    let (Some(mode), Some(path)) = (
        args.fix.or(args.diff.then_some(FixMode::Safe)),
        &candidate.path,
    ) else {
        return outcome;
    };
    // Only what the report shows is fixed: a finding hidden by persona, floors or baseline (config
    // and inline ignores were applied by `audit_one`) keeps its code as it is.
    let to_fix = view.reported(outcome.findings.clone());
    if !to_fix.iter().any(|f| !f.fixes.is_empty()) {
        return outcome;
    }
    let reaudit = |f: &Arc<SourceFile>| {
        let (audited, findings, _, _) = audit_one(f, config, &enabled, facts, graph, actions_lock);
        (audited, view.reported(findings))
    };
    let fixed = apply_fixes(&file, &to_fix, mode.applicabilities(), &reaudit);
    outcome.fix_messages.extend(
        fixed
            .rejected
            .iter()
            .map(|r| format!("{}: fix not applied: {r}", file.path)),
    );
    if fixed.changed(&file.text) {
        let new_file = Arc::new(SourceFile::new(
            file.path.clone(),
            file.kind,
            fixed.text.clone(),
        ));
        let (_, findings, _, suppressed) =
            audit_one(&new_file, config, &enabled, facts, graph, actions_lock);
        let unfixed = std::mem::replace(&mut outcome.findings, findings);
        outcome.unfixed = Some((unfixed, outcome.suppressed));
        outcome.suppressed = suppressed;
        let verb = if args.diff { "would apply" } else { "applied" };
        outcome.fix_messages.push(format!(
            "{}: {verb} {}",
            file.path,
            describe_applied(&fixed.applied)
        ));
        outcome.fixed = Some((path.clone(), file.text.clone(), fixed.text));
    }
    outcome
}

/// What the report shows: the same filter decides what is printed and what `--fix` may change.
struct ReportView<'a> {
    args: &'a AuditArgs,
    baseline: Option<&'a Baseline>,
}

impl ReportView<'_> {
    /// The findings the report will show: not in the baseline, and shown by persona and floors.
    fn reported(&self, mut findings: Vec<Finding>) -> Vec<Finding> {
        if let Some(baseline) = self.baseline {
            baseline.filter(&mut findings);
        }
        findings.retain(|f| self.shows(f));
        findings
    }

    /// Whether persona and the severity and confidence floors let the report show `f`.
    fn shows(&self, f: &Finding) -> bool {
        let args = self.args;
        f.persona <= args.persona.persona()
            && args.min_severity.is_none_or(|s| f.severity >= s)
            && args.min_confidence.is_none_or(|c| f.confidence >= c)
    }
}

/// Resolves the `uses:` of `files` online when a token is available and `--offline` is not
/// given: the facts, notes on what could not be resolved, the client (for transitive
/// auditing) and the refs it was asked to resolve.
fn online_facts(
    github: &GithubArgs,
    files: &[Result<Arc<SourceFile>, Diagnostic>],
) -> (
    Facts,
    Vec<String>,
    Option<ciguard_github::Client>,
    Vec<ciguard_core::facts::UsesRef>,
) {
    let config = github.client_config();
    if config.offline || config.token.is_none() {
        return (Facts::default(), Vec::new(), None, Vec::new());
    }
    let mut uses: Vec<_> = files
        .iter()
        .flatten()
        .flat_map(ciguard_core::facts::uses_refs)
        .collect();
    uses.sort();
    uses.dedup();
    let client = ciguard_github::Client::new(config);
    let resolution = crate::terminal::with_progress(
        "resolving actions on GitHub",
        ("request", "requests"),
        &|| client.request_count(),
        || ciguard_github::online::resolve(&client, &uses),
    );
    let mut notes: Vec<String> = resolution
        .warnings
        .iter()
        .map(|w| format!("online: {w}"))
        .collect();
    notes.push(format!(
        "online: {} resolved with {}",
        count(resolution.facts.repos.len(), "repository", "repositories"),
        count(client.request_count(), "request", "requests")
    ));
    (resolution.facts, notes, Some(client), uses)
}

pub fn run(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let (local, remotes) = crate::remote::split_inputs(&args.inputs);
    if let Some(r) = remotes.first().filter(|_| args.fix.is_some() || args.diff) {
        eprintln!(
            "error: --fix and --diff change local files; `{}` is a remote repository (clone it to fix it)",
            r.input
        );
        return Ok(ExitCode::from(exit::USAGE_ERROR));
    }
    let (mut candidates, mut diagnostics) = collect::collect(&local, &args.collect);
    let max_bytes = Limits::default().max_bytes;
    let discover = !args.no_config && args.config.is_none();
    let fetched = crate::remote::fetch(&remotes, &args.github, &args.collect, discover, max_bytes);
    diagnostics.extend(fetched.diagnostics);
    let local_count = candidates.len();
    candidates.extend(fetched.candidates);
    let configs = load_configs(&args, &candidates, fetched.configs)?;
    // Local repositories only: a remote one's lockfile is not fetched.
    let (actions_locks, lock_diagnostics) = load_actions_locks(&candidates[..local_count]);
    diagnostics.extend(lock_diagnostics);
    let baseline = match &args.baseline {
        Some(path) => {
            let text = safe_read::read_text(None, path, MAX_SIDE_FILE_BYTES)
                .with_context(|| format!("baseline {}", collect::escape_path(path)))?;
            Some(
                Baseline::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", collect::escape_path(path)))?,
            )
        }
        None => None,
    };
    let mut files: Vec<Result<Arc<SourceFile>, Diagnostic>> = candidates[..local_count]
        .par_iter()
        .map(|c| collect::read(c, max_bytes).map(Arc::new))
        .collect();
    files.extend(fetched.files);
    let (mut facts, mut online_notes, client, asked) = online_facts(&args.github, &files);
    let (graph, transitive_notes) = crate::terminal::with_progress(
        "auditing the actions used",
        ("request", "requests"),
        &|| client.as_ref().map_or(0, |c| c.request_count()),
        || {
            crate::commands::transitive::audit_dependencies(
                client.as_ref(),
                &files,
                &mut facts,
                &asked,
                args.transitive_depth,
            )
        },
    );
    online_notes.extend(transitive_notes);
    let asked_repos = asked
        .iter()
        .map(|u| u.slug.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let online_failed = client
        .as_ref()
        .is_some_and(|c| network::nothing_ran(c, asked_repos, facts.repos.len()));
    if online_failed {
        // Audits that need the network then say they were skipped, as offline.
        facts.online = false;
    }
    if let Some(c) = &client {
        online_notes = network::diagnose(c, online_notes, asked_repos, facts.repos.len());
    }
    let view = ReportView {
        args: &args,
        baseline: baseline.as_ref(),
    };
    // The dependency checks read other files than the audits: both run at once.
    let (outcomes, dependencies): (Vec<FileOutcome>, _) = rayon::join(
        || {
            candidates
                .par_iter()
                .zip(files.par_iter())
                .map(|(c, f)| {
                    let lock = actions_locks.get(&c.root).map(Arc::as_ref);
                    process(c, f, &configs[&c.root], &view, &facts, &graph, lock)
                })
                .collect()
        },
        || {
            args.collect
                .contains(&FileKind::Dependencies)
                .then(|| dependency_checks(&args.inputs, &configs))
        },
    );

    let mut report = Report::default();
    let quiet = crate::terminal::quiet();
    let mut stderr = std::io::stderr().lock();
    let mut stdout = std::io::stdout().lock();
    let mut all_findings = Vec::new();
    let mut why_suppressed = next_steps::Suppressed::default();
    let mut unwritten = 0;
    for (mut outcome, candidate) in outcomes.into_iter().zip(&candidates) {
        report.files_audited += usize::from(outcome.audited);
        diagnostics.extend(std::mem::take(&mut outcome.diagnostics));
        for message in outcome.fix_messages.iter().filter(|_| !quiet) {
            let _ = writeln!(stderr, "{}", redact(message));
        }
        if crate::terminal::verbose() {
            let _ = writeln!(stderr, "read {}", candidate.display);
        }
        if let Some((path, old, new)) = outcome.fixed.take() {
            if args.diff {
                let _ = write!(stdout, "{}", unified_diff(&patch_path(&path), &old, &new));
            } else if let Err(e) = write_fixed(candidate, &path, &new) {
                // One file that cannot be written must not cost the others their fixes; it is
                // reported as it still is.
                unwritten += 1;
                if let Some((findings, suppressed)) = outcome.unfixed.take() {
                    outcome.findings = findings;
                    outcome.suppressed = suppressed;
                }
                diagnostics.push(
                    Diagnostic::file(
                        Level::Error,
                        &candidate.display,
                        format!("the fixes could not be written: {e}"),
                    )
                    .help("the file is unchanged; check its permissions and run --fix again"),
                );
            }
        }
        why_suppressed.ignored += outcome.suppressed;
        all_findings.extend(outcome.findings);
    }
    if let Some((findings, diags, suppressed)) = dependencies {
        all_findings.extend(findings);
        diagnostics.extend(diags);
        why_suppressed.ignored += suppressed;
        ciguard_deps::one_gap_once(&mut all_findings);
    }
    if let Some(path) = &args.write_baseline {
        write_atomic_named(path, &Baseline::write(&all_findings))
            .with_context(|| format!("cannot write baseline {}", collect::escape_path(path)))?;
        if !quiet {
            let _ = writeln!(
                stderr,
                "wrote {} to baseline {}",
                count(all_findings.len(), "finding", "findings"),
                collect::escape_path(path)
            );
        }
    }
    if let Some(baseline) = &baseline {
        let audited: std::collections::HashSet<&str> =
            files.iter().flatten().map(|f| f.path.as_str()).collect();
        let stale = baseline.stale(&all_findings, &|path| audited.contains(path));
        if !stale.is_empty() {
            report.notes.push(format!(
                "baseline: {} no longer {} a finding (fixed or changed; rewrite the baseline \
                 with --write-baseline): {}",
                count(stale.len(), "entry", "entries"),
                if stale.len() == 1 { "matches" } else { "match" },
                stale.join("; ")
            ));
        }
        why_suppressed.baselined = baseline.filter(&mut all_findings);
    }
    let persona = args.persona.persona();
    all_findings.retain(|f| {
        if f.persona > persona {
            why_suppressed.below_persona += 1;
            why_suppressed.shown_by = why_suppressed.shown_by.max(Some(f.persona));
            return false;
        }
        let shown = view.shows(f);
        why_suppressed.below_floor += usize::from(!shown);
        shown
    });
    report.suppressed = why_suppressed.ignored
        + why_suppressed.baselined
        + why_suppressed.below_persona
        + why_suppressed.below_floor;
    report.findings = all_findings;
    if report.files_audited == 0 && !dependency_files_checked(&args) {
        diagnostics.push(nothing_audited(&args));
    }
    report.diagnostics = diagnostics.into_iter().map(Diagnostic::redacted).collect();
    report.sort();
    report.notes.extend(fetched.notes.iter().map(|n| redact(n)));
    report.notes.extend(online_notes.iter().map(|n| redact(n)));
    let mut skipped: Vec<&str> = audits::all()
        .iter()
        .filter(|a| a.meta().needs_network && !facts.online)
        .map(|a| a.meta().id)
        .collect();
    if client.is_none() && args.transitive_depth > 0 {
        skipped.push("transitive auditing");
    }
    // Said once for everything, and not at all when `--offline` asked for exactly this.
    if !skipped.is_empty() && !args.github.client_config().offline {
        let how = if client.is_none() {
            " (they run when a GitHub token is available)"
        } else {
            ""
        };
        report.notes.push(format!(
            "skipped (need the network): {}{how}",
            skipped.join(", ")
        ));
    }

    // `-q` keeps errors only.
    for d in report
        .diagnostics
        .iter()
        .filter(|d| !quiet || d.level == Level::Error)
    {
        let _ = writeln!(stderr, "{d}");
    }
    if crate::terminal::verbose()
        && let Some(c) = &client
    {
        let _ = writeln!(
            stderr,
            "online: {} sent",
            count(c.request_count(), "request", "requests")
        );
    }
    if !args.diff {
        render_report(args.format, args.color, &report, &mut stdout)?;
        if args.format == OutputFormat::Plain && !quiet {
            for line in next_steps::lines(&report.findings, &why_suppressed, args.fix.is_some()) {
                let _ = writeln!(stdout, "{line}");
            }
        }
    }
    if args.statistics {
        let table = next_steps::statistics(&report.findings);
        if args.format == OutputFormat::Plain {
            let _ = write!(stdout, "{table}");
        } else {
            let _ = write!(stderr, "{table}");
        }
    }
    let _ = stdout.flush();
    if unwritten > 0 {
        let _ = writeln!(
            stderr,
            "error: the fixes of {unwritten} {} could not be written; see above",
            if unwritten == 1 { "file" } else { "files" }
        );
        return Ok(ExitCode::from(exit::FIX_NOT_WRITTEN));
    }
    if args.write_baseline.is_some() && exit::code_for(&report) != exit::INPUT_ERROR {
        // Recording the findings is what was asked; they are not a failure of this run.
        return Ok(ExitCode::SUCCESS);
    }
    Ok(ExitCode::from(exit::with_online_failure(
        exit::code_for(&report),
        online_failed,
    )))
}

/// Baselines and actions lockfiles are small; a larger one is not what it claims to be.
const MAX_SIDE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Writes a fixed file, never outside its repository and never through a link it did not name.
fn write_fixed(candidate: &Candidate, path: &Path, text: &str) -> std::io::Result<()> {
    if !candidate.named {
        safe_read::resolve_inside(&candidate.root, path)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        return write_atomic(path, text);
    }
    write_atomic_named(path, text)
}

/// Whether the dependency checks found files to check in a directory input (asked only when no
/// workflow, action or Dependabot file was audited, so the walk is rarely repeated).
fn dependency_files_checked(args: &AuditArgs) -> bool {
    args.collect.contains(&FileKind::Dependencies)
        && args
            .inputs
            .iter()
            .filter(|i| i.as_os_str() != "-" && i.is_dir())
            .any(|i| !ciguard_deps::RepoFiles::discover(i).0.files.is_empty())
}

/// The error for a run that read nothing: what was searched, and where.
fn nothing_audited(args: &AuditArgs) -> Diagnostic {
    let searched: Vec<String> = args
        .inputs
        .iter()
        .map(|i| collect::escape_path(i))
        .collect();
    let kinds: Vec<String> = args.collect.iter().map(ToString::to_string).collect();
    Diagnostic::file(
        Level::Error,
        searched.join(", "),
        format!(
            "nothing was audited: no {} file was found and read (workflows are \
             .github/workflows/*.yml, actions action.yml, Dependabot .github/dependabot.yml)",
            kinds.join(", ")
        ),
    )
    .help("pass a repository checkout, or name the files; skipped paths are listed above")
}

/// The offline part of `ciguard deps` for each directory input, under that input's configuration.
fn dependency_checks(
    inputs: &[PathBuf],
    configs: &HashMap<PathBuf, Arc<Config>>,
) -> (Vec<Finding>, Vec<Diagnostic>, usize) {
    let dirs: Vec<&PathBuf> = inputs
        .iter()
        .filter(|i| i.as_os_str() != "-" && i.is_dir())
        .collect();
    let per_dir: Vec<_> = dirs
        .par_iter()
        .map(|input| {
            let root = collect::repository_root(input);
            let default = Config::default();
            let config = configs.get(&root).map_or(&default, |c| c.as_ref());
            let (found, diags) = ciguard_deps::audit_offline(input);
            let (kept, dropped) = apply_config(config, found);
            (kept, diags, dropped)
        })
        .collect();
    let mut findings = Vec::new();
    let mut diagnostics = Vec::new();
    let mut suppressed = 0;
    for (kept, diags, dropped) in per_dir {
        findings.extend(kept);
        diagnostics.extend(diags);
        suppressed += dropped;
    }
    (findings, diagnostics, suppressed)
}
