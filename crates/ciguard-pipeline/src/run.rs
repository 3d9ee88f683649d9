//! `Run`: the audit of a set of inputs, from collect to a filtered [`Report`]: configurations
//! per repository root, actions lockfiles, every audit over each file, transitive findings,
//! suppression and filters, the fix loop, and the dependency checks of directory inputs.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
use ciguard_core::suppress::{Baseline, BaselineWriter, Remaining};
use ciguard_core::transitive::Graph;
use ciguard_core::yaml::Limits;
use ciguard_core::{Applicability, FileKind, Finding, Report, SourceFile, audits};
use rayon::prelude::*;

use crate::collect::{self, Candidate};
use crate::filter::{FindingFilter, Suppressed, View};
use crate::{Error, remote, report, resolve};

/// Which configuration applies.
#[derive(Debug, Clone, Default)]
pub enum ConfigChoice {
    /// `ciguard.toml` or `.github/ciguard.toml` at each repository root.
    #[default]
    Discover,
    /// This file for every input (`--config`).
    File(PathBuf),
    /// None at all (`--no-config`).
    Ignore,
}

impl ConfigChoice {
    /// The configuration named by the user, loaded once; `None` when each root discovers its own.
    fn explicit(&self) -> Result<Option<Arc<Config>>, Error> {
        Ok(match self {
            ConfigChoice::File(path) => {
                Some(Arc::new(Config::load(path, crate::catalogue::catalogue())?))
            }
            ConfigChoice::Ignore => Some(Arc::new(Config::default())),
            ConfigChoice::Discover => None,
        })
    }

    /// The configuration that applies under `root`.
    pub fn for_root(&self, root: &Path) -> Result<Arc<Config>, Error> {
        match self.explicit()? {
            Some(config) => Ok(config),
            None => Ok(Arc::new(
                Config::load_discovered(root, crate::catalogue::catalogue())?.unwrap_or_default(),
            )),
        }
    }
}

/// What fixes to make, and whether to write them or show them as a diff.
#[derive(Debug, Clone, Copy)]
pub struct FixRequest {
    pub applicabilities: &'static [Applicability],
    /// Show a unified diff instead of writing.
    pub diff: bool,
}

/// Everything `ciguard audit` needs besides its inputs.
pub struct Options {
    pub kinds: Vec<FileKind>,
    pub config: ConfigChoice,
    pub view: View,
    pub baseline: Option<PathBuf>,
    /// Record the findings (every persona, before the baseline) in this file.
    pub write_baseline: Option<PathBuf>,
    pub fix: Option<FixRequest>,
    /// The GitHub client configuration, asked for each time a client is made (the network
    /// budget is shared by the whole run).
    pub github: Box<dyn Fn() -> ciguard_github::ClientConfig + Sync>,
    pub transitive_depth: usize,
}

/// What a run produced besides the report.
#[derive(Debug, Default)]
pub struct Outcome {
    pub report: Report,
    pub suppressed: Suppressed,
    /// Messages on fixes applied or rejected, in file order (for stderr).
    pub fix_messages: Vec<String>,
    /// With a diff request: the unified diff of every fixed file, in file order (for stdout).
    pub diffs: Vec<String>,
    /// Files whose fixes could not be written.
    pub unwritten: usize,
    /// A message saying the baseline was written.
    pub baseline_written: Option<String>,
    /// Online checks were asked for and none could run.
    pub online_failed: bool,
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
    /// With a baseline: the path of the file, when it could be read.
    read_path: Option<String>,
}

/// Where a run's findings go as they are produced: in report order (file, position, audit,
/// message), after every filter, each batch once. Diagnostics are passed as they arise (they
/// are also in the outcome's report, in the same order).
pub trait Sink {
    fn findings(&mut self, findings: &[Finding]);
    fn diagnostic(&mut self, _diagnostic: &Diagnostic) {}
    /// A group of files was written and dropped: the moment to hand freed memory back (the
    /// binary asks the allocator to; a library must not).
    fn group_done(&mut self) {}
}

/// Keeps every finding: what [`audit`] returns in its report.
#[derive(Default)]
struct Collect(Vec<Finding>);

impl Sink for Collect {
    fn findings(&mut self, findings: &[Finding]) {
        self.0.extend_from_slice(findings);
    }
}

/// Audits `inputs` (paths, `-`, `owner/repo[@ref]`) under `options`; the report holds every
/// finding. [`audit_streamed`] passes them on instead, for memory that does not grow with them.
pub fn audit(inputs: &[PathBuf], options: &Options) -> Result<Outcome, Error> {
    let mut all = Collect::default();
    let mut out = audit_streamed(inputs, options, &mut all)?;
    out.report.findings = all.0;
    Ok(out)
}

/// Files audited at once: enough to keep every core busy, few enough that their documents and
/// findings are a small, fixed amount of memory.
const CHUNK: usize = 64;

/// Audits `inputs` (paths, `-`, `owner/repo[@ref]`) under `options`, passing the findings to
/// `sink` as each group of files is done; the outcome's report has none. Files are audited a
/// chunk at a time (in parallel within the chunk) and each document is dropped after its
/// findings are passed on; what is kept is counts, diagnostics, the dependency checks'
/// findings until their place in the order, and baseline entries when one is written.
pub fn audit_streamed(
    inputs: &[PathBuf],
    options: &Options,
    sink: &mut dyn Sink,
) -> Result<Outcome, Error> {
    let (local, remotes) = remote::split_inputs(inputs);
    if let Some(r) = remotes.first().filter(|_| options.fix.is_some()) {
        return Err(Error::RemoteFix(r.input.clone()));
    }
    let collected = collect::collect(&local, &options.kinds);
    let mut candidates = collected.candidates;
    let mut diagnostics = collected.diagnostics;
    let max_bytes = Limits::default().max_bytes;
    let discover = matches!(options.config, ConfigChoice::Discover);
    let github = (options.github)();
    let online = !github.offline && github.token.is_some();
    let fetched = remote::fetch(&remotes, github, &options.kinds, discover, max_bytes);
    diagnostics.extend(fetched.diagnostics);
    let local_count = candidates.len();
    candidates.extend(fetched.candidates);
    let roots = candidates
        .iter()
        .map(|c| &c.root)
        .chain(collected.repos.iter().map(|r| &r.root));
    let configs = load_configs(&options.config, roots, fetched.configs)?;
    // Local repositories only: a remote one's lockfile is not fetched.
    let (actions_locks, lock_diagnostics) = load_actions_locks(&candidates[..local_count]);
    diagnostics.extend(lock_diagnostics);
    let baseline = load_baseline_opt(options.baseline.as_deref())?;
    // Online resolution reads every file's `uses:` first, so then the files are read up front;
    // offline, each is read when its chunk is audited.
    // `files[i - first_read]` is candidate i's file, read already.
    let first_read = if online { 0 } else { local_count };
    let mut files: Vec<Option<Result<Arc<SourceFile>, Diagnostic>>> = candidates
        [first_read..local_count]
        .par_iter()
        .map(|c| Some(collect::read(c, max_bytes).map(Arc::new)))
        .collect();
    files.extend(fetched.files.into_iter().map(Some));
    let read: Vec<Result<Arc<SourceFile>, Diagnostic>> = files.iter().flatten().cloned().collect();
    let resolved = resolve::resolve((options.github)(), &read, options.transitive_depth);
    drop(read);
    let filter_for = |root: &PathBuf| FindingFilter {
        config: Arc::clone(&configs[root]),
        baseline: baseline.clone(),
        view: options.view,
    };
    let dependencies = options
        .kinds
        .contains(&FileKind::Dependencies)
        .then(|| dependency_checks(collected.repos, &configs));
    let mut out = Outcome {
        online_failed: resolved.online_failed,
        ..Outcome::default()
    };
    let mut stream = Stream {
        sink,
        sent_diagnostics: 0,
        pending: Vec::new(),
        dependencies: Vec::new(),
        one_gap: dependencies.is_some(),
        baseline: baseline.as_ref().map(|b| b.remaining()),
        view: FindingFilter {
            config: Arc::new(Config::default()),
            baseline: None,
            view: options.view,
        },
        recorded: options
            .write_baseline
            .as_ref()
            .map(|_| BaselineWriter::default()),
        cooldowns: Vec::new(),
    };
    let (mut dependency_diagnostics, dependency_files) = match dependencies {
        Some(mut deps) => {
            stream.dependencies = std::mem::take(&mut deps.findings);
            out.suppressed.ignored += deps.suppressed;
            (deps.diagnostics, deps.files > 0)
        }
        None => (Vec::new(), false),
    };
    // The dependency findings in report order, passed on when the files reach their paths.
    let mut dependency_order = stream.dependencies.clone();
    dependency_order.sort_by(ciguard_core::report::order);
    let recorded_dependencies = std::mem::replace(&mut stream.dependencies, dependency_order);
    stream.send_diagnostics(&diagnostics);
    // Which of the files not yet audited has the smallest path: findings before that path are
    // in their final order.
    let mut smallest: Vec<usize> = vec![0; candidates.len()];
    for i in (0..candidates.len()).rev() {
        smallest[i] = match smallest.get(i + 1) {
            Some(&j) if candidates[j].display < candidates[i].display => j,
            _ => i,
        };
    }
    // While one group is audited, the one before it is written: the writing does not hold up
    // the audits.
    let n = candidates.len();
    let mut audited: Option<(usize, usize, Vec<FileOutcome>)> = None;
    let mut start = 0;
    loop {
        let next = (start < n).then(|| (start, (start + CHUNK).min(n)));
        if next.is_none() && audited.is_none() {
            break;
        }
        let audit_chunk = |range: std::ops::Range<usize>| -> Vec<FileOutcome> {
            range
                .into_par_iter()
                .map(|i| {
                    let c = &candidates[i];
                    let read = i
                        .checked_sub(first_read)
                        .and_then(|k| files.get(k)?.clone())
                        .unwrap_or_else(|| collect::read(c, max_bytes).map(Arc::new));
                    let lock = actions_locks.get(&c.root).map(Arc::as_ref);
                    let filter = filter_for(&c.root);
                    let cx = FileContext {
                        filter: &filter,
                        facts: &resolved.facts,
                        graph: &resolved.graph,
                        actions_lock: lock,
                    };
                    let mut outcome = process(c, &read, &cx, options.fix);
                    if baseline.is_some() {
                        outcome.read_path = read.ok().map(|f| f.path.clone());
                    }
                    outcome
                })
                .collect()
        };
        let audit_chunk = &audit_chunk;
        let done = audited.take();
        let handled = done.as_ref().map(|(a, b, _)| (*a, *b));
        let next_outcomes = std::thread::scope(|scope| {
            let worker = next.map(|(a, b)| scope.spawn(move || audit_chunk(a..b)));
            if let Some((a, b, outcomes)) = done {
                for (mut outcome, candidate) in outcomes.into_iter().zip(&candidates[a..b]) {
                    out.report.files_audited += usize::from(outcome.audited);
                    diagnostics.append(&mut outcome.diagnostics);
                    out.fix_messages
                        .extend(outcome.fix_messages.iter().map(|m| redact(m)));
                    if let Some((path, old, new)) = outcome.fixed.take() {
                        if options.fix.is_some_and(|f| f.diff) {
                            out.diffs.push(unified_diff(&patch_path(&path), &old, &new));
                        } else if let Err(e) = write_fixed(candidate, &path, &new) {
                            // One file that cannot be written must not cost the others their fixes; it
                            // is reported as it still is.
                            out.unwritten += 1;
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
                    out.suppressed.ignored += outcome.suppressed;
                    stream.read(outcome.read_path.as_deref());
                    stream.record(&outcome.findings);
                    stream.pending.extend(outcome.findings);
                }
                stream.send_diagnostics(&diagnostics);
                let bound = smallest.get(b).map(|&j| candidates[j].display.as_str());
                stream.pass_on(bound, &mut out.suppressed);
            }
            worker.map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
        });
        if let Some((a, b)) = handled {
            // What the written files leave behind: their documents went with their findings;
            // their names go too.
            for c in &mut candidates[a..b] {
                c.forget();
            }
            for k in a.max(first_read)..b {
                files[k - first_read] = None;
            }
            stream.sink.group_done();
        }
        audited = next.zip(next_outcomes).map(|((a, b), o)| (a, b, o));
        start = next.map_or(n, |(_, b)| b);
    }
    stream.pass_on(None, &mut out.suppressed);
    diagnostics.append(&mut dependency_diagnostics);
    if let Some(path) = &options.write_baseline {
        let recorded = stream.recorded_with_dependencies(recorded_dependencies);
        let written = recorded.len();
        write_atomic_named(path, &recorded.text()).map_err(|source| Error::WriteBaseline {
            path: collect::escape_path(path),
            source,
        })?;
        out.baseline_written = Some(format!(
            "wrote {} to baseline {}",
            count(written, "finding", "findings"),
            collect::escape_path(path)
        ));
    }
    // Baseline entries that match nothing in the files this run read were fixed or changed:
    // said once, so the baseline can be regenerated instead of silently growing stale.
    let stale_note = stream.baseline.as_ref().and_then(|b| {
        let stale = b.stale();
        (!stale.is_empty()).then(|| {
            format!(
                "{} of the baseline no longer {}: {} (regenerate it with --write-baseline)",
                count(stale.len(), "entry", "entries"),
                if stale.len() == 1 { "matches" } else { "match" },
                stale.join("; ")
            )
        })
    });
    if out.report.files_audited == 0 && !dependency_files {
        diagnostics.push(nothing_audited(inputs, &options.kinds));
    }
    stream.send_diagnostics(&diagnostics);
    let mut notes = fetched.notes;
    notes.extend(resolved.notes);
    notes.extend(stale_note);
    out.report = report::assemble(
        Vec::new(),
        diagnostics,
        notes,
        out.report.files_audited,
        &out.suppressed,
    );
    // `--offline` asked for exactly this: no need to say so.
    if !(options.github)().offline {
        report::note_skipped_online(&mut out.report, resolved.facts.online);
    }
    Ok(out)
}

/// The run's findings on their way to the sink: held until no file still to audit can come
/// before them, then filtered at report level and passed on.
struct Stream<'s, 'b> {
    sink: &'s mut dyn Sink,
    sent_diagnostics: usize,
    /// Findings of audited files not yet passed on.
    pending: Vec<Finding>,
    /// The dependency checks' findings not yet passed on, in report order.
    dependencies: Vec<Finding>,
    /// Dependency checks ran: a cooldown gap is reported once (see `one_gap_once`).
    one_gap: bool,
    /// The baseline's entries not yet matched.
    baseline: Option<Remaining<'b>>,
    /// Persona and floors.
    view: FindingFilter,
    /// With --write-baseline: the entries so far (every persona, before the baseline).
    recorded: Option<BaselineWriter>,
    /// With --write-baseline and dependency checks: the cooldown findings that hide a
    /// dependency check's.
    cooldowns: Vec<Finding>,
}

impl Stream<'_, '_> {
    /// The run read the file at `path` (a baseline entry of it can be stale).
    fn read(&mut self, path: Option<&str>) {
        if let (Some(baseline), Some(path)) = (&mut self.baseline, path) {
            baseline.read(path);
        }
    }

    fn send_diagnostics(&mut self, diagnostics: &[Diagnostic]) {
        for d in &diagnostics[self.sent_diagnostics..] {
            self.sink.diagnostic(&d.clone().redacted());
        }
        self.sent_diagnostics = diagnostics.len();
    }

    /// Records an audited file's findings in the baseline being written.
    fn record(&mut self, findings: &[Finding]) {
        if let Some(recorded) = &mut self.recorded {
            recorded.add(findings);
            if self.one_gap {
                self.cooldowns.extend(
                    findings
                        .iter()
                        .filter(|f| f.audit_id() == "dependabot-cooldown")
                        .cloned(),
                );
            }
        }
    }

    /// The baseline to write: the files' findings, then the dependency checks' that are not
    /// the same gap as a cooldown finding.
    fn recorded_with_dependencies(&mut self, dependencies: Vec<Finding>) -> BaselineWriter {
        let mut recorded = self.recorded.take().unwrap_or_default();
        let cooldowns = std::mem::take(&mut self.cooldowns);
        let n = cooldowns.len();
        let mut all = cooldowns;
        all.extend(dependencies);
        ciguard_deps::one_gap_once(&mut all);
        recorded.add(&all[n..]);
        recorded
    }

    /// Passes on every held finding whose path comes before `bound` (all with `None`).
    fn pass_on(&mut self, bound: Option<&str>, why: &mut Suppressed) {
        let before = |f: &Finding| bound.is_none_or(|b| f.primary.path() < b);
        let mut ready: Vec<Finding>;
        if bound.is_none() {
            ready = std::mem::take(&mut self.pending);
        } else {
            let (now, later): (Vec<Finding>, Vec<Finding>) = std::mem::take(&mut self.pending)
                .into_iter()
                .partition(before);
            ready = now;
            self.pending = later;
        }
        let due = self.dependencies.partition_point(before);
        ready.extend(self.dependencies.drain(..due));
        if ready.is_empty() {
            return;
        }
        ready.sort_by(ciguard_core::report::order);
        if self.one_gap {
            ciguard_deps::one_gap_once(&mut ready);
        }
        if let Some(baseline) = &mut self.baseline {
            why.baselined += baseline.filter(&mut ready);
        }
        self.view.report_level(&mut ready, why);
        if !ready.is_empty() {
            self.sink.findings(&ready);
        }
    }
}

/// The baseline at `path`, when one is given.
pub fn load_baseline_opt(path: Option<&Path>) -> Result<Option<Arc<Baseline>>, Error> {
    path.map(|p| load_baseline(p).map(Arc::new)).transpose()
}

/// Reads and parses the baseline file.
fn load_baseline(path: &Path) -> Result<Baseline, Error> {
    let text = safe_read::read_text(None, path, MAX_SIDE_FILE_BYTES)
        .map_err(|e| Error::Baseline(format!("baseline {}: {e}", collect::escape_path(path))))?;
    Baseline::parse(&text)
        .map_err(|e| Error::Baseline(format!("{}: {e}", collect::escape_path(path))))
}

/// The configuration for each repository root, loaded once.
/// (Directory inputs without a file to audit included: their dependency checks follow the
/// same configuration.)
fn load_configs<'a>(
    choice: &ConfigChoice,
    roots: impl Iterator<Item = &'a PathBuf>,
    mut configs: HashMap<PathBuf, Arc<Config>>,
) -> Result<HashMap<PathBuf, Arc<Config>>, Error> {
    let explicit = choice.explicit()?;
    for root in roots {
        if configs.contains_key(root) {
            continue;
        }
        let config = match &explicit {
            Some(config) => Arc::clone(config),
            None => Arc::new(
                Config::load_discovered(root, crate::catalogue::catalogue())?.unwrap_or_default(),
            ),
        };
        configs.insert(root.clone(), config);
    }
    Ok(configs)
}

/// GitHub's actions lockfile of each repository root that has workflows, loaded once. A
/// lockfile that cannot be read or parsed is an error diagnostic and is treated as absent.
fn load_actions_locks(
    candidates: &[Candidate],
) -> (HashMap<PathBuf, Arc<ActionsLock>>, Vec<Diagnostic>) {
    let mut locks = HashMap::new();
    let mut diagnostics = Vec::new();
    let mut seen = HashSet::new();
    for c in candidates {
        if c.path.is_none() || c.kind != FileKind::Workflow || !seen.insert(c.root.clone()) {
            continue;
        }
        let path = c.root.join(LOCKFILE_PATH);
        let text = match safe_read::read_text(Some(&c.root), &path, MAX_SIDE_FILE_BYTES) {
            Ok(text) => text,
            Err(ReadError::Missing) => continue,
            Err(e) => {
                diagnostics.push(lockfile_error(&collect::escape_path(&path), &e.to_string()));
                continue;
            }
        };
        match ActionsLock::parse(&text) {
            Ok(lock) => {
                locks.insert(c.root.clone(), Arc::new(lock));
            }
            Err(e) => diagnostics.push(lockfile_error(
                &collect::escape_path(&path),
                &format!("does not parse: {e}"),
            )),
        }
    }
    (locks, diagnostics)
}

pub(crate) fn lockfile_error(shown: &str, problem: &str) -> Diagnostic {
    Diagnostic::file(
        Level::Error,
        shown,
        format!("the actions lockfile {problem}; it was ignored, so no `uses:` counts as locked"),
    )
    .help("regenerate it with `gh actions-lock` or `ciguard pin --lockfile`, or delete it")
}

/// What auditing one file needs besides the file.
pub(crate) struct FileContext<'a> {
    pub filter: &'a FindingFilter,
    pub facts: &'a Facts,
    pub graph: &'a Graph,
    pub actions_lock: Option<&'a ActionsLock>,
}

/// What [`audit_one`] found in one file.
pub(crate) struct FileFindings {
    pub audited: bool,
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub suppressed: usize,
}

/// Runs every enabled audit over one file and applies its configuration and inline ignores.
pub(crate) fn audit_one(
    file: &Arc<SourceFile>,
    audits: &[&dyn Audit],
    cx: &FileContext<'_>,
) -> FileFindings {
    let limits = Limits::default();
    let config = &cx.filter.config;
    let report = audit_file(file, &limits, audits, &|audit| AuditContext {
        options: match config.settings(audit.meta().id) {
            Some(s) => &s.options,
            None => empty_table(),
        },
        facts: cx.facts,
        actions_lock: cx.actions_lock,
    });
    let mut findings = report.findings;
    let ids: Vec<&str> = audits.iter().map(|a| a.meta().id).collect();
    findings.extend(cx.graph.lift(file, cx.facts, &ids));
    let suppressed = cx
        .filter
        .suppress_in_file(file, &mut findings, &ids, cx.graph);
    FileFindings {
        audited: report.audited,
        findings,
        diagnostics: report.diagnostics,
        suppressed,
    }
}

/// The audits the configuration leaves enabled.
pub(crate) fn enabled_audits(config: &Config) -> Vec<&'static dyn Audit> {
    audits::all()
        .iter()
        .copied()
        .filter(|a| !config.is_disabled(a.meta().id))
        .collect()
}

fn empty_table() -> &'static toml::Table {
    static EMPTY: std::sync::OnceLock<toml::Table> = std::sync::OnceLock::new();
    EMPTY.get_or_init(toml::Table::new)
}

fn process(
    candidate: &Candidate,
    read: &Result<Arc<SourceFile>, Diagnostic>,
    cx: &FileContext<'_>,
    fix: Option<FixRequest>,
) -> FileOutcome {
    let mut outcome = FileOutcome::default();
    let file = match read {
        Ok(f) => Arc::clone(f),
        Err(d) => {
            outcome.diagnostics.push(d.clone());
            return outcome;
        }
    };
    let enabled = enabled_audits(&cx.filter.config);
    let found = audit_one(&file, &enabled, cx);
    outcome.audited = found.audited;
    outcome.diagnostics = found.diagnostics;
    outcome.suppressed = found.suppressed;
    outcome.findings = found.findings;
    let (Some(fix), Some(path)) = (fix, &candidate.path) else {
        return outcome;
    };
    // Only what the report shows is fixed: a finding hidden by persona, floors or baseline (config
    // and inline ignores were applied by `audit_one`) keeps its code as it is.
    let to_fix = cx.filter.reported(outcome.findings.clone());
    if !to_fix.iter().any(|f| !f.fixes.is_empty()) {
        return outcome;
    }
    let reaudit = |f: &Arc<SourceFile>| {
        let found = audit_one(f, &enabled, cx);
        (found.audited, cx.filter.reported(found.findings))
    };
    let fixed = apply_fixes(&file, &to_fix, fix.applicabilities, &reaudit);
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
        let found = audit_one(&new_file, &enabled, cx);
        let unfixed = std::mem::replace(&mut outcome.findings, found.findings);
        outcome.unfixed = Some((unfixed, outcome.suppressed));
        outcome.suppressed = found.suppressed;
        let verb = if fix.diff { "would apply" } else { "applied" };
        outcome.fix_messages.push(format!(
            "{}: {verb} {}",
            file.path,
            describe_applied(&fixed.applied)
        ));
        outcome.fixed = Some((path.clone(), file.text.clone(), fixed.text));
    }
    outcome
}

/// Baselines and actions lockfiles are small; a larger one is not what it claims to be.
pub(crate) const MAX_SIDE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Writes a fixed file, never outside its repository and never through a link it did not name.
fn write_fixed(candidate: &Candidate, path: &Path, text: &str) -> std::io::Result<()> {
    if !candidate.named {
        safe_read::resolve_inside(&candidate.root, path)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        return write_atomic(path, text);
    }
    write_atomic_named(path, text)
}

/// The error for a run that read nothing: what was searched, and where.
fn nothing_audited(inputs: &[PathBuf], kinds: &[FileKind]) -> Diagnostic {
    let searched: Vec<String> = inputs.iter().map(|i| collect::escape_path(i)).collect();
    let kinds: Vec<String> = kinds.iter().map(ToString::to_string).collect();
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

/// What the offline dependency checks of the directory inputs found.
struct DependencyFindings {
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    suppressed: usize,
    /// Dependency files found by the walk.
    files: usize,
}

/// The offline part of `ciguard deps` for each directory input, from the files its one walk
/// found, under that input's configuration.
fn dependency_checks(
    repos: Vec<collect::DirectoryWalk>,
    configs: &HashMap<PathBuf, Arc<Config>>,
) -> DependencyFindings {
    let per_dir: Vec<_> = repos
        .into_par_iter()
        .map(|walk| {
            let config = Arc::clone(&configs[&walk.root]);
            let files = walk.repo.files.len();
            let (found, diags) = ciguard_deps::audit_offline_files(walk.repo);
            let filter = FindingFilter {
                config,
                baseline: None,
                view: View::default(),
            };
            let (kept, dropped) = filter.suppress_by_config(found);
            (kept, diags, dropped, files)
        })
        .collect();
    let mut out = DependencyFindings {
        findings: Vec::new(),
        diagnostics: Vec::new(),
        suppressed: 0,
        files: 0,
    };
    for (kept, diags, dropped, files) in per_dir {
        out.findings.extend(kept);
        out.diagnostics.extend(diags);
        out.suppressed += dropped;
        out.files += files;
    }
    out
}
