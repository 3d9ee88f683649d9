//! Dependency checks of ciguard: lockfile parsers, registry publish dates (cooldowns, yanked
//! versions), mutable dependency sources, and cooldown settings of update bots and package
//! managers.
//!
//! - [`audit_configs`]: offline; which ecosystems have no cooldown configured.
//! - [`audit_offline`]: offline; [`audit_configs`] plus mutable sources in lockfiles.
//! - [`audit_lockfiles`]: lockfiles against their registries (through a [`RegistryClient`]).

pub mod audits;
pub mod config;
pub mod config_schema;
pub mod configs;
#[cfg(any(test, feature = "fake-registry"))]
pub mod fake;
pub mod json5;
pub mod lockfile;
pub mod registry;
pub mod repo;
pub mod time;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use ciguard_core::{Diagnostic, Finding, Level, Location, Route, SourceFile};

pub use config::DepsConfig;
pub use lockfile::{Ecosystem, Format, Lockfile, Package, Source};
pub use registry::{ClientOptions, Lookup, RegistryClient, RegistryUrls, Release};
pub use repo::RepoFiles;

use audits::{DependencyCooldown, MutableDependencySource, YankedDependency};
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
    let (mut findings, more) = configs::check(&repo);
    diagnostics.extend(more);
    let report = check_lockfiles(&repo, None, &DepsOptions::default());
    findings.extend(report.findings);
    diagnostics.extend(report.diagnostics);
    (findings, diagnostics)
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
    let mut report = LockfileReport::default();
    let mut lockfiles = Vec::new();
    for rel in &repo.files {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let shown = repo.display(rel);
        if name == "Cargo.toml" {
            if let Some(text) = read(repo, rel, &mut report)
                && let Some(lock) = manifest(&shown, text, &mut report)
            {
                lockfiles.push((rel.clone(), lock));
            }
            continue;
        }
        let Some(format) = Format::detect(name) else {
            continue;
        };
        report.lockfiles += 1;
        let Some(text) = read(repo, rel, &mut report) else {
            continue;
        };
        match lockfile::parse(&shown, format, text) {
            Ok(lock) => {
                report.notes.extend(lock.notes.iter().cloned());
                lockfiles.push((rel.clone(), lock));
            }
            Err(d) => report.diagnostics.push(d),
        }
    }
    let mut seen_paths = HashSet::new();
    let mut wanted = Vec::new();
    let mut other_registries = 0;
    for (rel, lock) in &lockfiles {
        for pkg in &lock.packages {
            report.packages += 1;
            if let Some(f) = mutable_source(repo, rel, lock, pkg, &mut seen_paths) {
                report.findings.push(f);
            }
            match (&pkg.source, &pkg.version) {
                // First-party (exempt) packages may be private: they are not looked up at all.
                (Source::Registry { default: true }, Some(v))
                    if !options.config.is_exempt(lock.ecosystem(), &pkg.name) =>
                {
                    wanted.push((lock.ecosystem(), pkg.name.clone(), v.clone()))
                }
                (Source::Registry { default: false }, _) => other_registries += 1,
                _ => {}
            }
        }
    }
    if other_registries > 0 {
        report.notes.push(format!("{other_registries} package(s) come from registries other than crates.io, PyPI and npm and were not checked for cooldowns"));
    }
    let Some(client) = client else { return report };
    let answers = client.lookup(&wanted);
    let mut not_cached: BTreeMap<Ecosystem, Vec<String>> = BTreeMap::new();
    let mut failed: BTreeMap<String, usize> = BTreeMap::new();
    let mut undated = 0;
    for (_, lock) in &lockfiles {
        let eco = lock.ecosystem();
        for pkg in &lock.packages {
            let (Source::Registry { default: true }, Some(version)) = (&pkg.source, &pkg.version)
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
                        let what = if eco == Ecosystem::Npm { "unpublished from" } else { "yanked on" };
                        report.findings.push(Finding::new(&YankedDependency::META, format!("`{} {version}` is {what} {}", pkg.name, eco.registry_name()), location()));
                    }
                    let Some(published) = release.published else {
                        undated += 1;
                        continue;
                    };
                    report.checked += 1;
                    let age = options.now - published;
                    let cooldown = options.config.cooldown(eco);
                    if age < cooldown && !options.config.is_exempt(eco, &pkg.name) {
                        let message = format!(
                            "`{} {version}` was published {} ago ({}), within the {}-day cooldown for {eco}",
                            pkg.name,
                            time::human(age),
                            time::date(published),
                            cooldown / time::DAY
                        );
                        report.findings.push(Finding::new(&DependencyCooldown::META, message, location()));
                    }
                }
                Some(L::UnknownVersion) => report.diagnostics.push(
                    Diagnostic::at(Level::Warning, &lock.file, pkg.span, format!("`{} {version}` is not published on {}; it was not checked", pkg.name, eco.registry_name()))
                        .help("if it is a private package, list it under `exempt` in `[deps]`; otherwise check for a typo or a dependency-confusion attempt"),
                ),
                Some(L::UnknownPackage) => report.diagnostics.push(
                    Diagnostic::at(Level::Warning, &lock.file, pkg.span, format!("there is no package `{}` on {}; it was not checked", pkg.name, eco.registry_name()))
                        .help("if it is a private package, list it under `exempt` in `[deps]`; a public package of that name could be used for dependency confusion"),
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
            "offline: {} {eco} version(s) are not in the cache and were not checked: {}{more}; run without --offline to fetch them",
            names.len(),
            shown.join(", ")
        ));
    }
    for (message, count) in failed {
        report.diagnostics.push(
            Diagnostic::file(Level::Error, "registry", format!("{message}; {count} version(s) were not checked"))
                .help("check the network connection, point `--registry-url KEY=URL` at a reachable mirror, or use `--offline` to rely on the cache"),
        );
    }
    if undated > 0 {
        report.notes.push(format!("{undated} version(s) have no publish date in their registry and were not checked for the cooldown"));
    }
    report
}

fn read(repo: &RepoFiles, rel: &str, report: &mut LockfileReport) -> Option<String> {
    match std::fs::read_to_string(repo.root.join(rel)) {
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
        }),
        Err(e) => {
            report
                .diagnostics
                .push(Diagnostic::at(Level::Error, &file, e.span, e.message).help(e.help));
            None
        }
    }
}

fn mutable_source(
    repo: &RepoFiles,
    rel: &str,
    lock: &Lockfile,
    pkg: &Package,
    seen: &mut HashSet<(String, String)>,
) -> Option<Finding> {
    let message = match &pkg.source {
        Source::Git { url, commit: None } => format!(
            "`{}` comes from git `{url}` without a pinned commit",
            pkg.name
        ),
        Source::Url { url, hashed: false } => {
            format!("`{}` is downloaded from `{url}` without a hash", pkg.name)
        }
        Source::Path { path } if repo::points_outside(&repo.root, rel, path) => {
            if !seen.insert((rel.to_owned(), path.clone())) {
                return None;
            }
            format!(
                "`{}` is a path dependency outside the repository (`{path}`)",
                pkg.name
            )
        }
        _ => return None,
    };
    let route: Route = pkg.route.clone();
    Some(Finding::new(
        &MutableDependencySource::META,
        message,
        Location::file(
            &lock.file,
            pkg.span,
            route,
            format!("{} is not pinned to fixed content", pkg.name),
        ),
    ))
}
