//! GitHub's workflow dependency lockfile, `.github/workflows/actions.lock` (public preview,
//! written by `gh actions-lock`, format `version: 'v0.0.2'`):
//!
//! ```yaml
//! version: 'v0.0.2'
//! workflows:
//!     '.github/workflows/test.yml':
//!         - 'actions/checkout@v5.0.1'
//! dependencies:
//!     'actions/checkout@v5.0.1':
//!         ref: 'v5.0.1'
//!         commit: 'sha1-93cb6efe18208431cddfb8368fd83d5badbf9bfd'
//!         owner_id: 44036562
//!         repo_id: 197814629
//!         uses: ['other/action@v1']   # transitive dependencies, optional
//! ```
//!
//! A `uses:` is locked only when its workflow is listed, the exact `uses` string is among that
//! workflow's entries and its dependency records a commit: a listed workflow does not make every
//! ref in it locked.

use std::collections::BTreeMap;

use crate::source::{FileKind, SourceFile};
use crate::yaml::{Document, Limits, YamlError};

/// Why `actions.lock` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{0}")]
    Yaml(YamlError),
    #[error("the lockfile is not a mapping")]
    NotMapping,
}

/// Where the lockfile lives, relative to the repository root.
pub const LOCKFILE_PATH: &str = ".github/workflows/actions.lock";
/// The format version written.
pub const LOCKFILE_VERSION: &str = "v0.0.2";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockedDependency {
    pub reference: String,
    /// Hex commit id, without the `sha1-` prefix.
    pub commit: Option<String>,
    pub owner_id: Option<u64>,
    pub repo_id: Option<u64>,
    pub uses: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionsLock {
    pub version: Option<String>,
    /// Workflow path (`.github/workflows/x.yml`) to its `uses` strings.
    pub workflows: BTreeMap<String, Vec<String>>,
    /// `owner/repo[/path]@ref` to what it is locked to.
    pub dependencies: BTreeMap<String, LockedDependency>,
}

/// `.github/workflows/x.yml` from any path that contains it.
pub fn workflow_key(path: &str) -> String {
    let path = path.replace('\\', "/");
    match path.find(".github/workflows/") {
        Some(i) => path[i..].to_owned(),
        None => path.trim_start_matches("./").to_owned(),
    }
}

impl ActionsLock {
    pub fn parse(text: &str) -> Result<Self, LockError> {
        let file = SourceFile::new(LOCKFILE_PATH, FileKind::Workflow, text.to_owned());
        let doc = Document::parse(&file, &Limits::default()).map_err(LockError::Yaml)?;
        let mut lock = ActionsLock::default();
        let Some(root) = doc.root() else {
            return Ok(lock);
        };
        if !root.is_mapping() {
            return Err(LockError::NotMapping);
        }
        lock.version = root.get_str("version").map(str::to_owned);
        if let Some(workflows) = root.get("workflows") {
            for (k, v) in workflows.entries() {
                let Some(path) = k.as_str() else { continue };
                let uses = v
                    .items()
                    .filter_map(|i| i.as_str().map(str::to_owned))
                    .collect();
                lock.workflows.insert(workflow_key(path), uses);
            }
        }
        if let Some(deps) = root.get("dependencies") {
            for (k, v) in deps.entries() {
                let Some(name) = k.as_str() else { continue };
                let dep = LockedDependency {
                    reference: v.get_str("ref").unwrap_or_default().to_owned(),
                    commit: v
                        .get_str("commit")
                        .map(|c| c.strip_prefix("sha1-").unwrap_or(c).to_ascii_lowercase()),
                    owner_id: v.get_str("owner_id").and_then(|s| s.parse().ok()),
                    repo_id: v.get_str("repo_id").and_then(|s| s.parse().ok()),
                    uses: v
                        .get("uses")
                        .map(|u| {
                            u.items()
                                .filter_map(|i| i.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                };
                lock.dependencies.insert(name.to_owned(), dep);
            }
        }
        Ok(lock)
    }

    /// Whether the workflow at `workflow_path` is onboarded (listed).
    pub fn lists_workflow(&self, workflow_path: &str) -> bool {
        self.workflows.contains_key(&workflow_key(workflow_path))
    }

    /// Whether `uses` in the workflow at `workflow_path` is really locked to a commit.
    pub fn is_locked(&self, workflow_path: &str, uses: &str) -> bool {
        let uses = uses.trim();
        self.workflows
            .get(&workflow_key(workflow_path))
            .is_some_and(|list| list.iter().any(|u| u == uses))
            && self
                .dependencies
                .get(uses)
                .is_some_and(|d| d.commit.as_deref().is_some_and(|c| c.len() >= 40))
    }

    /// The lockfile text, in `gh actions-lock`'s layout (sorted keys, single quotes).
    pub fn render(&self) -> String {
        let q = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let mut out = String::from(
            "# This file is machine-generated by `ciguard pin --lockfile` (format of `gh actions-lock`).\n# Do not edit by hand; run `ciguard pin --lockfile` to update.\n",
        );
        out.push_str(&format!(
            "version: {}\n",
            q(self.version.as_deref().unwrap_or(LOCKFILE_VERSION))
        ));
        out.push_str("workflows:\n");
        for (path, uses) in &self.workflows {
            out.push_str(&format!("    {}:\n", q(path)));
            for u in uses {
                out.push_str(&format!("        - {}\n", q(u)));
            }
        }
        out.push_str("dependencies:\n");
        for (name, dep) in &self.dependencies {
            out.push_str(&format!(
                "    {}:\n        ref: {}\n",
                q(name),
                q(&dep.reference)
            ));
            if let Some(c) = &dep.commit {
                out.push_str(&format!("        commit: {}\n", q(&format!("sha1-{c}"))));
            }
            if let Some(id) = dep.owner_id {
                out.push_str(&format!("        owner_id: {id}\n"));
            }
            if let Some(id) = dep.repo_id {
                out.push_str(&format!("        repo_id: {id}\n"));
            }
            if !dep.uses.is_empty() {
                out.push_str("        uses:\n");
                for u in &dep.uses {
                    out.push_str(&format!("            - {}\n", q(u)));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "version: 'v0.0.2'\nworkflows:\n    '.github/workflows/test.yml':\n        - 'actions/checkout@v5.0.1'\n        - 'github/gh-actions-lock@main'\ndependencies:\n    'actions/checkout@v5.0.1':\n        ref: 'v5.0.1'\n        commit: 'sha1-93cb6efe18208431cddfb8368fd83d5badbf9bfd'\n        owner_id: 44036562\n        repo_id: 197814629\n    'github/gh-actions-lock@main':\n        ref: 'main'\n        commit: 'sha1-592be5e0bff8d8cc3a624138d255606596cebc7f'\n        owner_id: 9919\n        repo_id: 1217640442\n        uses:\n            - 'actions/setup-go@v5'\n";

    #[test]
    fn only_listed_uses_are_locked() {
        let lock = ActionsLock::parse(LOCK).unwrap();
        assert!(lock.lists_workflow("repo/.github/workflows/test.yml"));
        assert!(lock.is_locked(".github/workflows/test.yml", "actions/checkout@v5.0.1"));
        assert!(
            !lock.is_locked(".github/workflows/test.yml", "actions/checkout@v4"),
            "not listed"
        );
        assert!(
            !lock.is_locked(".github/workflows/other.yml", "actions/checkout@v5.0.1"),
            "workflow not onboarded"
        );
        let dep = &lock.dependencies["github/gh-actions-lock@main"];
        assert_eq!((dep.owner_id, dep.uses.len()), (Some(9919), 1));
    }

    #[test]
    fn renders_what_it_reads() {
        let lock = ActionsLock::parse(LOCK).unwrap();
        assert_eq!(ActionsLock::parse(&lock.render()).unwrap(), lock);
        assert!(ActionsLock::parse("- a\n").is_err());
    }
}
