//! Facts resolved online before auditing (repositories, refs, commits, advisories). Offline it is
//! empty and audits that need it are reported as skipped. Audits read it; they never fetch.

use std::collections::HashMap;

/// What is known about one repository.
#[derive(Debug, Clone, Default)]
pub struct RepoFacts {
    pub archived: bool,
    pub default_branch: Option<String>,
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
}
