//! The in-memory entry for the server: audit a set of repository files given as
//! `(repository-relative path, bytes)`, with an optional `ciguard.toml` text, and never touch
//! the filesystem or the network.
//!
//! Paths are classified as GitHub does (`.github/workflows/*.yml`, `action.yml`,
//! `.github/dependabot.yml`); other paths are ignored. `.github/workflows/actions.lock` in the set is
//! the repository's actions lockfile. Lockfiles, manifests and update-bot configurations in the
//! set get the offline dependency checks of `ciguard audit` (cooldown configuration, mutable
//! sources; no registry is asked); online audits are skipped (the report says so) unless the
//! caller passes resolved facts.

use std::sync::Arc;

use ciguard_core::Report;
use ciguard_core::actions_lock::{ActionsLock, LOCKFILE_PATH};
use ciguard_core::config::Config;
use ciguard_core::diagnostic::Diagnostic;
use ciguard_core::facts::Facts;
use ciguard_core::suppress::Baseline;
use ciguard_core::transitive::Graph;
use ciguard_core::yaml::Limits;
use rayon::prelude::*;

use crate::collect::{self, Candidate};
use crate::filter::{FindingFilter, Suppressed, View};
use crate::run::{FileContext, audit_one, enabled_audits, lockfile_error};
use crate::{Error, report};

/// What an in-memory audit needs besides the files.
#[derive(Debug, Default)]
pub struct MemoryOptions<'a> {
    /// The text of the repository's `ciguard.toml`, if it has one.
    pub config: Option<&'a str>,
    /// The text of a baseline: findings in it are not reported.
    pub baseline: Option<&'a str>,
    pub view: View,
    /// Online facts resolved by the caller; empty (offline) by default.
    pub facts: Option<&'a Facts>,
}

/// One file of the repository.
#[derive(Debug, Clone)]
pub struct MemoryFile {
    /// Relative to the repository root, `/`-separated (`.github/workflows/ci.yml`).
    pub path: String,
    pub bytes: Vec<u8>,
}

/// Audits `files` as one repository. A configuration or baseline that does not parse is an
/// error (the caller tells the repository owner); a file that does not parse is a diagnostic
/// and the others are audited.
pub fn audit_in_memory(files: &[MemoryFile], options: &MemoryOptions<'_>) -> Result<Report, Error> {
    let config = match options.config {
        Some(text) => Config::parse(text, crate::catalogue::catalogue())
            .map_err(|e| Error::ConfigText(e.to_string()))?,
        None => Config::default(),
    };
    let baseline = match options.baseline {
        Some(text) => Some(Arc::new(
            Baseline::parse(text).map_err(|e| Error::Baseline(e.to_string()))?,
        )),
        None => None,
    };
    let filter = FindingFilter {
        config: Arc::new(config),
        baseline,
        view: options.view,
    };
    let mut diagnostics = Vec::new();
    let lock = actions_lock(files, &mut diagnostics);
    let offline = Facts::default();
    let facts = options.facts.unwrap_or(&offline);
    let graph = Graph::default();
    let cx = FileContext {
        filter: &filter,
        facts,
        graph: &graph,
        actions_lock: lock.as_ref(),
    };
    let enabled = enabled_audits(&filter.config);
    let max_bytes = Limits::default().max_bytes;
    let per_file: Vec<_> = files
        .par_iter()
        .filter_map(|f| Some((f, collect::classify(std::path::Path::new(&f.path))?)))
        .map(|(f, kind)| {
            let candidate = Candidate {
                path: None,
                display: ciguard_core::safe_read::escape_path(std::path::Path::new(&f.path)),
                kind,
                sniff: false,
                root: std::path::PathBuf::new(),
                named: false,
            };
            match collect::decode(&candidate, f.bytes.clone(), max_bytes) {
                Ok(file) => Ok(audit_one(&Arc::new(file), &enabled, &cx)),
                Err(d) => Err(d),
            }
        })
        .collect();
    let mut findings = Vec::new();
    let mut why = Suppressed::default();
    let mut audited = 0;
    for outcome in per_file {
        match outcome {
            Ok(found) => {
                audited += usize::from(found.audited);
                why.ignored += found.suppressed;
                findings.extend(found.findings);
                diagnostics.extend(found.diagnostics);
            }
            Err(d) => diagnostics.push(d),
        }
    }
    let (found, diags) = dependency_checks(files, options.config);
    let (kept, dropped) = filter.suppress_by_config(found);
    findings.extend(kept);
    diagnostics.extend(diags);
    why.ignored += dropped;
    ciguard_deps::one_gap_once(&mut findings);
    filter.report_level(&mut findings, &mut why);
    let mut report = report::assemble(findings, diagnostics, Vec::new(), audited, &why);
    report::note_skipped_online(&mut report, facts.online);
    Ok(report)
}

/// The offline dependency checks of the files they read, as `ciguard audit` runs them on a
/// directory (its `[deps]` configuration included), when the set has a dependency file besides
/// workflows: a set of changed workflows alone says nothing about how the repository updates
/// its dependencies (its update-bot configuration is not in it).
fn dependency_checks(
    files: &[MemoryFile],
    config: Option<&str>,
) -> (Vec<ciguard_core::Finding>, Vec<Diagnostic>) {
    let is_dependency_file = |path: &str| {
        ciguard_deps::repo::interesting(path) && !path.starts_with(".github/workflows/")
    };
    if !files.iter().any(|f| is_dependency_file(&f.path)) {
        return (Vec::new(), Vec::new());
    }
    let wanted: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter(|f| ciguard_deps::repo::interesting(&f.path))
        .map(|f| (f.path.clone(), f.bytes.clone()))
        .collect();
    ciguard_deps::audit_offline_memory(&wanted, config)
}

/// The actions lockfile in the set, if any; one that does not parse is an error diagnostic.
fn actions_lock(files: &[MemoryFile], diagnostics: &mut Vec<Diagnostic>) -> Option<ActionsLock> {
    let file = files.iter().find(|f| f.path == LOCKFILE_PATH)?;
    let Ok(text) = std::str::from_utf8(&file.bytes) else {
        diagnostics.push(lockfile_error(LOCKFILE_PATH, "is not UTF-8"));
        return None;
    };
    match ActionsLock::parse(text) {
        Ok(lock) => Some(lock),
        Err(e) => {
            diagnostics.push(lockfile_error(
                LOCKFILE_PATH,
                &format!("does not parse: {e}"),
            ));
            None
        }
    }
}
