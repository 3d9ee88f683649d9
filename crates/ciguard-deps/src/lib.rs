//! Dependency checks of ciguard: lockfile parsers, registry publish dates (cooldowns, yanked
//! versions), mutable dependency sources, and cooldown settings of update bots and package
//! managers.
//!
//! - [`audit_configs`]: offline; which ecosystems have no cooldown configured.
//! - [`audit_offline`]: offline; [`audit_configs`] plus mutable sources in lockfiles.
//! - [`audit_lockfiles`]: lockfiles against their registries (through a [`RegistryClient`]).

pub mod audits;
pub mod cache;
pub mod config;
pub mod config_schema;
/// The cooldown-configuration audit, under its older name.
pub use audits::missing_cooldown_config as configs;
pub mod error;
pub mod json5;
pub mod lockfile;
pub mod memory;
pub mod pep440;
pub mod registry;
pub mod repo;
pub mod time;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use ciguard_core::{Diagnostic, Finding, Level, Location, SourceFile};

pub use config::DepsConfig;
pub use error::{ConfigError, DecodeError, Error};
pub use lockfile::{Ecosystem, Format, Lockfile, Package, Source};
pub use memory::audit_offline_memory;
pub use registry::{ClientOptions, Lookup, RegistryClient, RegistryUrls, Release, RequestStats};
pub use repo::RepoFiles;

use audits::{cooldown_finding, mutable_source, yanked_finding};
use registry::Lookup as L;

/// What the lockfile checks need besides the files.
#[derive(Debug, Clone)]
pub struct DepsOptions {
    pub config: DepsConfig,
    /// "Now", in Unix seconds (fixed in tests).
    pub now: i64,
}

impl Default for DepsOptions {
    fn default() -> Self {
        Self {
            config: DepsConfig::default(),
            now: time::now(),
        }
    }
}

/// What the lockfile checks found.
#[derive(Debug, Default)]
pub struct LockfileReport {
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    pub notes: Vec<String>,
    /// Lockfiles read (parsed or not).
    pub lockfiles: usize,
    /// Locked packages seen.
    pub packages: usize,
    /// Registry versions whose publish date was known and checked.
    pub checked: usize,
}

/// Cooldown configuration checks of the repository at `root`; no network.
pub fn audit_configs(root: &Path) -> (Vec<Finding>, Vec<Diagnostic>) {
    let (repo, mut diagnostics) = RepoFiles::discover(root);
    let (findings, more) = configs::check(&repo);
    diagnostics.extend(more);
    (findings, diagnostics)
}

/// Everything `ciguard audit` runs without a network: [`audit_configs`] and mutable sources.
pub fn audit_offline(root: &Path) -> (Vec<Finding>, Vec<Diagnostic>) {
    let (repo, mut diagnostics) = RepoFiles::discover(root);
    let (findings, more) = audit_offline_files(repo);
    diagnostics.extend(more);
    (findings, diagnostics)
}

/// [`audit_offline`] over files already found (by the one walk of `ciguard audit`).
pub fn audit_offline_files(mut repo: RepoFiles) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    // `[deps]` decides what is read and the cooldown policy, as for `ciguard deps`.
    let config = match DepsConfig::load(&repo.root) {
        Ok(c) => c,
        Err(d) => {
            diagnostics.push(d);
            DepsConfig::default()
        }
    };
    if let Err(m) = repo.exclude(&config.exclude) {
        diagnostics.push(Diagnostic::file(
            Level::Error,
            repo.display("ciguard.toml"),
            m.message,
        ));
    }
    let (mut findings, more) = configs::check_with(&repo, &config);
    diagnostics.extend(more);
    let options = DepsOptions {
        config,
        ..DepsOptions::default()
    };
    let report = check_lockfiles(&repo, None, &options);
    findings.extend(report.findings);
    diagnostics.extend(report.diagnostics);
    (findings, diagnostics)
}

/// `ciguard audit` runs `dependabot-cooldown` and `missing-cooldown-config` together: a
/// Dependabot entry's gap is reported once, by `dependabot-cooldown`, which carries the fix.
pub fn one_gap_once(findings: &mut Vec<Finding>) {
    fn entry(f: &Finding) -> Option<(String, String)> {
        let route = f.primary.route_string();
        let end = route.find(']')?;
        Some((f.primary.path().to_owned(), route[..=end].to_owned()))
    }
    let reported: HashSet<_> = findings
        .iter()
        .filter(|f| f.audit_id() == "dependabot-cooldown")
        .filter_map(entry)
        .collect();
    findings.retain(|f| {
        f.audit_id() != "missing-cooldown-config" || entry(f).is_none_or(|e| !reported.contains(&e))
    });
}

/// Lockfile checks of the repository at `root`, with publish dates from `client`.
pub fn audit_lockfiles(
    root: &Path,
    client: &RegistryClient,
    options: &DepsOptions,
) -> LockfileReport {
    let (repo, diagnostics) = RepoFiles::discover(root);
    let mut report = check_lockfiles(&repo, Some(client), options);
    report.diagnostics.splice(0..0, diagnostics);
    report
}

/// Reads every lockfile of `repo`; with a client, checks registry versions too.
pub fn check_lockfiles(
    repo: &RepoFiles,
    client: Option<&RegistryClient>,
    options: &DepsOptions,
) -> LockfileReport {
    check_lockfiles_from(repo, memory::Files::Disk, client, options)
}

/// [`check_lockfiles`] with the files read from `files`.
pub(crate) fn check_lockfiles_from(
    repo: &RepoFiles,
    files: memory::Files<'_>,
    client: Option<&RegistryClient>,
    options: &DepsOptions,
) -> LockfileReport {
    let mut report = LockfileReport::default();
    let mut lockfiles = Vec::new();
    if !repo.ignored.is_empty() {
        let shown: Vec<_> = repo.ignored.iter().take(10).map(String::as_str).collect();
        report.notes.push(format!(
            "{} matched by .gitignore skipped (not a git checkout, so not known to be tracked): {}{}",
            ciguard_core::plural::count(repo.ignored.len(), "file", "files"),
            shown.join(", "),
            if repo.ignored.len() > 10 { ", …" } else { "" }
        ));
    }
    // Files to read, with the format they are read as; includes are appended as found.
    let mut queue: Vec<(String, Option<Format>)> = repo
        .files
        .iter()
        .map(|rel| (rel.clone(), Format::detect_path(rel)))
        .collect();
    let mut queued: HashSet<String> = repo.files.iter().cloned().collect();
    let mut next = 0;
    while let Some((rel, format)) = queue.get(next).cloned() {
        next += 1;
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        let shown = repo.display(&rel);
        if name == "Cargo.toml" {
            if let Some(text) = read(repo, files, &rel, &mut report)
                && let Some(lock) = manifest(&shown, text, &mut report)
            {
                lockfiles.push((rel.clone(), lock));
            }
            continue;
        }
        // A file the user named is read as what it must be, or said to be unreadable.
        let format = match format {
            Some(f) => f,
            None if repo.explicit_file && name.ends_with(".txt") => Format::Requirements,
            None if repo.explicit_file => {
                report.diagnostics.push(
                    Diagnostic::file(Level::Error, &shown, "not a lockfile ciguard reads")
                        .help("give a Cargo.lock, uv.lock, pylock.toml, poetry.lock, requirements file (.txt), package-lock.json, npm-shrinkwrap.json, pnpm-lock.yaml or yarn.lock, or a directory"),
                );
                continue;
            }
            None => continue,
        };
        report.lockfiles += 1;
        let Some(text) = read(repo, files, &rel, &mut report) else {
            continue;
        };
        match lockfile::parse(&shown, format, text) {
            Ok(lock) => {
                report.notes.extend(lock.notes.iter().cloned());
                for (target, span) in &lock.includes {
                    match include_path(repo, files, &rel, target) {
                        Some(included) => {
                            if queue.len() < MAX_FILES && queued.insert(included.clone()) {
                                queue.push((included, Some(Format::Requirements)));
                            }
                        }
                        None => report.diagnostics.push(
                            Diagnostic::at(Level::Warning, &lock.file, *span, format!("the included file `{target}` was not read: it is missing, outside the repository or a link"))
                                .help("include files inside the repository, by a path relative to this file"),
                        ),
                    }
                }
                lockfiles.push((rel.clone(), lock));
            }
            // Deliberately broken lockfiles live in test fixtures: named, not a failure.
            Err(mut d) if in_test_folder(&rel) => {
                d.level = Level::Warning;
                d.message = format!("skipped (test fixture?): {}", d.message);
                report
                    .diagnostics
                    .push(d.help("list it under `exclude` in `[deps]` to not read it at all"));
            }
            Err(d) => report.diagnostics.push(d),
        }
    }
    let urls = client.map(|c| &c.options().urls);
    let mut seen_paths = HashSet::new();
    let mut wanted = Vec::new();
    let mut other_registries = 0;
    let mut github_packages = 0;
    for (rel, lock) in &lockfiles {
        for pkg in &lock.packages {
            report.packages += 1;
            if let Some(f) = mutable_source(repo, rel, lock, pkg, &mut seen_paths) {
                report.findings.push(f);
            }
            let eco = lock.ecosystem();
            match (&pkg.source, &pkg.version) {
                // First-party (exempt) packages may be private: they are not looked up at all.
                (source, Some(v))
                    if checked_registry(source, eco, urls)
                        && !options.config.is_exempt(eco, &pkg.name) =>
                {
                    wanted.push((eco, pkg.name.clone(), v.clone()))
                }
                (Source::Index { url }, _) if !checked_registry(&pkg.source, eco, urls) => {
                    other_registries += 1;
                    if lockfile::is_github_packages(url) {
                        github_packages += 1;
                    }
                }
                _ => {}
            }
        }
    }
    if other_registries > 0 {
        let github = if github_packages > 0 {
            format!(" ({github_packages} of them from GitHub Packages)")
        } else {
            String::new()
        };
        report.notes.push(format!("{} from registries other than crates.io, PyPI and npm{github} and were not checked for cooldowns; to check them, point `--registry-url KEY=URL` at that registry or mirror", ciguard_core::plural::count(other_registries, "package comes", "packages come")));
    }
    let Some(client) = client else { return report };
    let answers = client.lookup(&wanted);
    let mut not_cached: BTreeMap<Ecosystem, Vec<String>> = BTreeMap::new();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    let mut undated = 0;
    for (_, lock) in &lockfiles {
        let eco = lock.ecosystem();
        for pkg in &lock.packages {
            let Some(version) = pkg
                .version
                .as_ref()
                .filter(|_| checked_registry(&pkg.source, eco, urls))
            else {
                continue;
            };
            let location = || {
                Location::file(
                    &lock.file,
                    pkg.span,
                    pkg.route.clone(),
                    format!("{} {version}", pkg.name),
                )
            };
            match answers.get(&(eco, pkg.name.clone(), version.clone())) {
                Some(L::Found(release)) => {
                    if release.yanked {
                        report.findings.push(yanked_finding(&pkg.name, version, eco, location()));
                    }
                    let Some(published) = release.published else {
                        undated += 1;
                        continue;
                    };
                    report.checked += 1;
                    let age = options.now - published;
                    let cooldown = options.config.cooldown(eco);
                    if !options.config.is_exempt(eco, &pkg.name) {
                        report.findings.extend(cooldown_finding(&pkg.name, version, eco, (age, published), cooldown, location()));
                    }
                }
                Some(L::UnknownVersion) => report.diagnostics.push(
                    Diagnostic::at(Level::Warning, &lock.file, pkg.span, format!("`{} {version}` is not published on {}; it was not checked", pkg.name, registry_shown(&pkg.source, eco)))
                        .help(if pkg.source == Source::Registry {
                            "check the version for a typo; if your private package shares its name with this public one, list it under `exempt` in `[deps]` and make sure installs use your registry, or a dependency-confusion attack can replace it"
                        } else {
                            "check the version for a typo, or whether the registry removed it"
                        }),
                ),
                Some(L::UnknownPackage) => report.diagnostics.push(
                    Diagnostic::at(Level::Warning, &lock.file, pkg.span, format!("there is no package `{}` on {}; it was not checked", pkg.name, registry_shown(&pkg.source, eco)))
                        .help(if pkg.source == Source::Registry {
                            "if it is a private package, list it under `exempt` in `[deps]`; anyone could publish a public package of that name (dependency confusion), so make sure installs use your registry"
                        } else {
                            "check the name for a typo, or whether the registry removed it"
                        }),
                ),
                Some(L::NotCached) => not_cached.entry(eco).or_default().push(format!("{} {version}", pkg.name)),
                Some(L::Failed(message)) => *failed.entry(message.clone()).or_default() += 1,
                None => {}
            }
        }
    }
    for (eco, names) in not_cached {
        let shown: Vec<_> = names.iter().take(10).map(String::as_str).collect();
        let more = if names.len() > 10 {
            format!(" and {} more", names.len() - 10)
        } else {
            String::new()
        };
        report.notes.push(format!(
            "offline: {} {eco} {} not in the cache and were not checked: {}{more}; run without --offline to fetch them",
            names.len(),
            if names.len() == 1 { "version is" } else { "versions are" },
            shown.join(", ")
        ));
    }
    for (message, count) in failed {
        report.diagnostics.push(
            Diagnostic::file(Level::Error, "registry", format!("{message}; {} not checked", ciguard_core::plural::count(count, "version was", "versions were")))
                .help("check the network connection, point `--registry-url KEY=URL` at a reachable mirror, or use `--offline` to rely on the cache"),
        );
    }
    if undated > 0 {
        report.notes.push(format!(
            "{} no publish date in their registry and were not checked for the cooldown",
            ciguard_core::plural::count(undated, "version has", "versions have")
        ));
    }
    report
}

/// At most this many files are read through includes, so a loop of includes ends.
const MAX_FILES: usize = 100_000;

/// Directory names of test data.
fn in_test_folder(rel: &str) -> bool {
    rel.split('/').rev().skip(1).any(|dir| {
        matches!(
            dir,
            "test"
                | "tests"
                | "__tests__"
                | "testdata"
                | "test-data"
                | "fixtures"
                | "__fixtures__"
                | "fixture"
                | "testing"
                | "spec"
                | "specs"
        )
    })
}

/// The repository-relative path of a file that `rel` includes, when it is a regular file inside
/// the repository (no link is followed).
fn include_path(
    repo: &RepoFiles,
    files: memory::Files<'_>,
    rel: &str,
    target: &str,
) -> Option<String> {
    if target.contains("://") || repo::points_outside(&repo.root, rel, target) {
        return None;
    }
    let dir = rel.rsplit_once('/').map_or("", |(d, _)| d);
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    files.is_file(repo, &joined).then_some(joined)
}

/// The registry a package was looked up on, for messages.
fn registry_shown(source: &Source, eco: Ecosystem) -> String {
    match source {
        Source::Index { .. } => format!("the mirror of {}", eco.registry_name()),
        _ => eco.registry_name().to_owned(),
    }
}

/// Whether a package's registry is one ciguard asks: the public one, or a mirror or other index
/// that `--registry-url` (or `[deps.registries]`) points at.
fn checked_registry(source: &Source, eco: Ecosystem, urls: Option<&RegistryUrls>) -> bool {
    match source {
        Source::Registry => true,
        Source::Index { url } => urls.is_some_and(|u| {
            let base = u.get(eco).trim_end_matches('/');
            url.strip_prefix(base)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        }),
        _ => false,
    }
}

fn read(
    repo: &RepoFiles,
    files: memory::Files<'_>,
    rel: &str,
    report: &mut LockfileReport,
) -> Option<String> {
    match files.read_text(repo, rel) {
        Ok(text) => Some(text),
        Err(e) => {
            report.diagnostics.push(
                Diagnostic::file(
                    Level::Error,
                    repo.display(rel),
                    format!("cannot read the file: {e}"),
                )
                .help("check that it is readable UTF-8 text"),
            );
            None
        }
    }
}

/// A `Cargo.toml`'s path dependencies, as a pseudo-lockfile.
fn manifest(shown: &str, text: String, report: &mut LockfileReport) -> Option<Lockfile> {
    let file = std::sync::Arc::new(SourceFile::new(
        shown,
        ciguard_core::FileKind::Dependencies,
        text,
    ));
    match lockfile::manifest_path_dependencies(&file) {
        Ok(packages) => Some(Lockfile {
            file,
            format: Format::CargoLock,
            packages,
            notes: Vec::new(),
            includes: Vec::new(),
        }),
        Err(e) => {
            report
                .diagnostics
                .push(Diagnostic::at(Level::Error, &file, e.span, e.message).help(e.help));
            None
        }
    }
}
