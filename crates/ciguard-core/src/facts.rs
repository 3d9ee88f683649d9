//! Facts resolved online before auditing (repositories, refs, commits, advisories). Offline it is
//! empty and audits that need it are reported as skipped. Audits read it; they never fetch.

use std::collections::HashMap;

/// What is known about one repository.
#[derive(Debug, Clone, Default)]
pub struct RepoFacts {
    pub archived: bool,
    pub default_branch: Option<String>,
    /// Every tag with the commit it points at (annotated tags peeled); `None` when unknown.
    pub tags: Option<Vec<TagFact>>,
    /// What each ref used in the audited files names, keyed by the ref as written (SHAs
    /// lowercase).
    pub refs: HashMap<String, RefFacts>,
    /// Whether a commit (lowercase SHA) is reachable from a branch or tag of the repository.
    /// Absent when unknown.
    pub reachable: HashMap<String, bool>,
    /// Security advisories for the repository's actions; `None` when unknown.
    pub advisories: Option<Vec<Advisory>>,
}

impl RepoFacts {
    /// The tags pointing at `sha`; `None` when the tag list is unknown.
    pub fn tags_at(&self, sha: &str) -> Option<Vec<&str>> {
        let sha = sha.to_ascii_lowercase();
        let tags = self.tags.as_ref()?;
        Some(
            tags.iter()
                .filter(|t| t.commit == sha)
                .map(|t| t.name.as_str())
                .collect(),
        )
    }

    /// The commit tag `name` points at; `None` when there is no such tag or the list is unknown.
    pub fn tag_commit(&self, name: &str) -> Option<&str> {
        self.tags
            .as_ref()?
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.commit.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFact {
    pub name: String,
    /// Lowercase SHA.
    pub commit: String,
}

/// What a ref names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefFacts {
    /// The commit it resolves to (lowercase); `None` when it names nothing.
    pub commit: Option<String>,
    pub is_branch: bool,
    pub is_tag: bool,
}

/// A GitHub security advisory affecting an action repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advisory {
    /// `GHSA-xxxx-xxxx-xxxx`.
    pub id: String,
    pub summary: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// The affected package name as GitHub lists it: `owner/repo` or `owner/repo/path`.
    pub package: String,
    /// GitHub's range syntax: `< 1.2.3`, `>= 1.0.0, < 1.2.3`, `= 1.0.0`.
    pub vulnerable_range: String,
    pub first_patched: Option<String>,
}

/// An immutable store of what the online resolution learned. Keys are lowercase `owner/repo`.
#[derive(Debug, Default)]
pub struct Facts {
    /// Whether resolution ran; audits that need the network check this.
    pub online: bool,
    pub repos: HashMap<String, RepoFacts>,
}

impl Facts {
    pub fn repo(&self, slug: &str) -> Option<&RepoFacts> {
        self.repos.get(&slug.to_ascii_lowercase())
    }

    /// What `owner/repo@reference` names, if it was resolved.
    pub fn git_ref(&self, slug: &str, reference: &str) -> Option<&RefFacts> {
        let repo = self.repo(slug)?;
        repo.refs
            .get(reference)
            .or_else(|| repo.refs.get(&reference.to_ascii_lowercase()))
    }
}

/// A repository `uses:` of an audited file: what online resolution looks up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UsesRef {
    /// Lowercase `owner/repo`.
    pub slug: String,
    /// The ref as written (`v4`, `main`, a SHA).
    pub git_ref: String,
    /// `owner/repo[/path]` as written (lowercase), for advisories on actions in subfolders.
    pub name: String,
}
