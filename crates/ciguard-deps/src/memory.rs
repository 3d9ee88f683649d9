//! The dependency checks over files held in memory, for the GitHub App, which reads a
//! repository through the API and never has a checkout: lockfiles, manifests and update-bot
//! configurations given as `(repository path, bytes)`, checked exactly as
//! [`crate::audit_offline`] checks a directory (the same `[deps]` configuration, cooldown
//! configuration and mutable sources; no registry is asked). Nothing touches the disk.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ciguard_core::{Diagnostic, Finding, Level};

use crate::repo::{self, RepoFiles};
use crate::{DepsConfig, DepsOptions, check_lockfiles_from, configs};

/// Where the checks read a repository file from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Files<'a> {
    /// Under the repository's root on disk, never through a link.
    Disk,
    /// A map of repository paths to contents.
    Memory(&'a BTreeMap<String, Vec<u8>>),
}

impl Files<'_> {
    /// The text of `rel`, or why it cannot be read.
    pub(crate) fn read_text(self, repo: &RepoFiles, rel: &str) -> Result<String, String> {
        match self {
            Files::Disk => std::fs::read_to_string(repo.root.join(rel)).map_err(|e| e.to_string()),
            Files::Memory(map) => match map.get(rel) {
                Some(bytes) => String::from_utf8(bytes.clone())
                    .map_err(|_| "stream did not contain valid UTF-8".to_owned()),
                None => Err("not found".to_owned()),
            },
        }
    }

    /// Whether `rel` is a regular file of the repository (reached through no link on disk).
    pub(crate) fn is_file(self, repo: &RepoFiles, rel: &str) -> bool {
        match self {
            Files::Disk => repo::regular_file(&repo.root, rel),
            Files::Memory(map) => map.contains_key(rel),
        }
    }
}

/// A root no absolute path in a lockfile can be under: every absolute path is outside an
/// in-memory repository.
const MEMORY_ROOT: &str = "<memory>";

/// [`crate::audit_offline`] over `files` (repository paths, `/`-separated, and contents) with
/// the repository's `ciguard.toml` text. Files the dependency checks do not read are ignored.
pub fn audit_offline_memory(
    files: &[(String, Vec<u8>)],
    config_toml: Option<&str>,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let config = match config_toml {
        Some(text) => DepsConfig::parse("ciguard.toml", text).unwrap_or_else(|d| {
            diagnostics.push(d);
            DepsConfig::default()
        }),
        None => DepsConfig::default(),
    };
    let map: BTreeMap<String, Vec<u8>> = files
        .iter()
        .filter(|(path, _)| repo::interesting(path) && !repo::skipped_dir(path))
        .map(|(path, bytes)| (path.clone(), bytes.clone()))
        .collect();
    let mut repo = RepoFiles {
        root: PathBuf::from(MEMORY_ROOT),
        shown_root: String::new(),
        files: map.keys().cloned().collect(),
        ignored: Vec::new(),
        explicit_file: false,
    };
    if let Err(m) = repo.exclude(&config.exclude) {
        diagnostics.push(Diagnostic::file(Level::Error, "ciguard.toml", m.message));
    }
    let source = Files::Memory(&map);
    let (mut findings, more) = configs::check_files(&repo, source, &config);
    diagnostics.extend(more);
    let options = DepsOptions {
        config,
        ..DepsOptions::default()
    };
    let report = check_lockfiles_from(&repo, source, None, &options);
    findings.extend(report.findings);
    diagnostics.extend(report.diagnostics);
    (findings, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MUTABLE_LOCK: &str = r#"{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "": {"name": "web", "dependencies": {"left-pad": "github:someone/left-pad"}},
    "node_modules/left-pad": {"version": "1.3.0", "resolved": "git+ssh://git@github.com/someone/left-pad.git#main"}
  }
}
"#;

    fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        list.iter()
            .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
            .collect()
    }

    fn ids(findings: &[Finding]) -> Vec<(String, String)> {
        let mut ids: Vec<_> = findings
            .iter()
            .map(|f| (f.audit_id().to_owned(), f.primary.path().to_owned()))
            .collect();
        ids.sort();
        ids
    }

    /// The same files in memory and on disk give the same findings.
    #[test]
    fn memory_and_disk_agree() {
        let list = [
            ("web/package-lock.json", MUTABLE_LOCK),
            ("web/package.json", r#"{"name": "web"}"#),
            ("README.md", "not read"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in &list {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let (repo, _) = RepoFiles::discover(dir.path());
        let repo = RepoFiles {
            shown_root: String::new(),
            ..repo
        };
        let (on_disk, _) = crate::audit_offline_files(repo);
        let (in_memory, diagnostics) = audit_offline_memory(&files(&list), None);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(!in_memory.is_empty());
        assert_eq!(ids(&in_memory), ids(&on_disk));
    }

    #[test]
    fn the_deps_configuration_applies_and_a_bad_one_is_named() {
        let list = files(&[("web/package-lock.json", MUTABLE_LOCK)]);
        let (all, _) = audit_offline_memory(&list, None);
        assert!(
            all.iter()
                .any(|f| f.audit_id() == "mutable-dependency-source")
        );
        let (excluded, _) = audit_offline_memory(&list, Some("[deps]\nexclude = [\"web/\"]\n"));
        assert_eq!(ids(&excluded), vec![], "{excluded:?}");
        let (_, diagnostics) = audit_offline_memory(&list, Some("[deps]\ncooldown-days = \"x\"\n"));
        assert!(
            diagnostics.iter().any(|d| d.path == "ciguard.toml"),
            "{diagnostics:?}"
        );
    }

    /// As on disk, a workflow is evidence of Actions dependencies: the pipeline's in-memory
    /// entry only runs these checks when the set has a dependency file besides workflows.
    #[test]
    fn a_workflow_alone_is_evidence_of_actions_dependencies() {
        let list = files(&[(".github/workflows/ci.yml", "on: push\njobs: {}\n")]);
        let (found, _) = audit_offline_memory(&list, None);
        assert_eq!(
            ids(&found),
            [(
                "missing-cooldown-config".to_owned(),
                ".github/workflows/ci.yml".to_owned()
            )]
        );
    }

    #[test]
    fn hostile_bytes_are_a_diagnostic_and_absolute_paths_are_outside() {
        let list = vec![
            ("Cargo.lock".to_owned(), vec![0xff, 0xfe, 0x00]),
            (
                "requirements.txt".to_owned(),
                b"-r /etc/passwd\nflask==3.0.0\n".to_vec(),
            ),
        ];
        let (_, diagnostics) = audit_offline_memory(&list, None);
        assert!(
            diagnostics
                .iter()
                .any(|d| d.path == "Cargo.lock" && d.message.contains("UTF-8")),
            "{diagnostics:?}"
        );
        assert!(
            diagnostics
                .iter()
                .any(|d| d.message.contains("/etc/passwd") && d.message.contains("not read")),
            "{diagnostics:?}"
        );
    }
}
