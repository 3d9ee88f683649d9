//! Shared by the online audits: the repository `uses:` of a file with the facts resolved for
//! them, and version tags.

use crate::audits::common::UsesSite;
use crate::facts::{Facts, RefFacts, RepoFacts};
use crate::models::RepositoryUses;
use crate::models::uses::is_full_sha;

/// A repository `uses:` whose repository was resolved online.
pub(crate) struct Resolved<'f, 'x, 'a> {
    pub site: &'x UsesSite<'a>,
    pub uses: &'x RepositoryUses<'a>,
    /// Lowercase `owner/repo`.
    pub slug: String,
    /// The ref as written.
    pub git_ref: &'a str,
    pub repo: &'f RepoFacts,
    /// What the ref names, when it was resolved.
    pub resolved: Option<&'f RefFacts>,
}

impl Resolved<'_, '_, '_> {
    pub fn is_sha(&self) -> bool {
        is_full_sha(self.git_ref)
    }

    /// The commit the ref names, when known.
    pub fn commit(&self) -> Option<String> {
        if self.is_sha() {
            return Some(self.git_ref.to_ascii_lowercase());
        }
        self.resolved?.commit.clone()
    }
}

/// `site` with the facts resolved for it; `None` offline, for local and Docker uses, and for
/// repositories that were not resolved. What the online audits' [`uses`] hooks start from.
///
/// [`uses`]: crate::audit::Audit::uses
pub(crate) fn resolved<'f, 'x, 'a>(
    facts: &'f Facts,
    site: &'x UsesSite<'a>,
) -> Option<Resolved<'f, 'x, 'a>> {
    if !facts.online {
        return None;
    }
    let uses = site.repo()?;
    let git_ref = uses.git_ref.filter(|r| !r.is_empty())?;
    let slug = uses.slug().to_ascii_lowercase();
    let repo = facts.repo(&slug)?;
    let resolved = facts.git_ref(&slug, git_ref);
    Some(Resolved {
        site,
        uses,
        slug,
        git_ref,
        repo,
        resolved,
    })
}

/// The numbers of a version tag: `v1.2.3` → `[1, 2, 3]`; `None` for other names and
/// prereleases' suffixes are ignored (`v1.2.3-rc1` → `[1, 2, 3]`).
pub(crate) fn version_numbers(tag: &str) -> Option<Vec<u64>> {
    let s = tag.trim();
    let s = s
        .strip_prefix('v')
        .or_else(|| s.strip_prefix('V'))
        .unwrap_or(s);
    let core = s.split(['-', '+']).next()?;
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty() && p.len() <= 4)
}

/// The most specific version tag among `tags` (`v4.2.2` over `v4`).
pub(crate) fn most_specific<'t>(tags: &[&'t str]) -> Option<&'t str> {
    tags.iter()
        .filter_map(|t| Some((version_numbers(t)?.len(), *t)))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, t)| t)
}

/// The tag a version comment names: `# v4.2.2`, `# tag=v4.2.2`, `# pin@v4.2.2`,
/// `# v4.2.2 (2024-01-01)`; `None` when the comment names no version.
pub(crate) fn comment_version(comment: &str) -> Option<&str> {
    let word = comment.split_whitespace().next()?;
    let word = word
        .strip_prefix("tag=")
        .or_else(|| word.strip_prefix("tag:"))
        .or_else(|| word.strip_prefix("pin@"))
        .unwrap_or(word);
    let word = word.trim_end_matches([',', ';', ')']);
    version_numbers(word).map(|_| word)
}

/// Runs `audit` over a workflow (or, when `text` has `runs:`, an action) with `facts`.
#[cfg(test)]
pub(crate) fn run_with(
    audit: &dyn crate::audit::Audit,
    facts: &Facts,
    text: &str,
) -> Vec<crate::finding::Finding> {
    use crate::audit::AuditContext;
    use crate::source::{FileKind, SourceFile};
    let kind = if text.contains("\nruns:") || text.starts_with("runs:") {
        FileKind::Action
    } else {
        FileKind::Workflow
    };
    let file = std::sync::Arc::new(SourceFile::new("t.yml", kind, text.to_owned()));
    let report =
        crate::engine::audit_file(&file, &crate::yaml::Limits::default(), &[audit], &|_| {
            AuditContext {
                options: AuditContext::empty().options,
                facts,
                actions_lock: None,
            }
        });
    report.findings
}

/// Facts for one repository, online.
#[cfg(test)]
pub(crate) fn facts_for(slug: &str, repo: RepoFacts) -> Facts {
    let mut facts = Facts {
        online: true,
        ..Facts::default()
    };
    facts.repos.insert(slug.to_owned(), repo);
    facts
}

/// `(name, commit)` tags.
#[cfg(test)]
pub(crate) fn tags(list: &[(&str, &str)]) -> Option<Vec<crate::facts::TagFact>> {
    Some(
        list.iter()
            .map(|(n, c)| crate::facts::TagFact {
                name: (*n).to_owned(),
                commit: (*c).to_owned(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_comments() {
        assert_eq!(version_numbers("v1.2.3"), Some(vec![1, 2, 3]));
        assert_eq!(version_numbers("2.0.0-rc1"), Some(vec![2, 0, 0]));
        assert_eq!(version_numbers("main"), None);
        assert_eq!(
            most_specific(&["v4", "latest", "v4.2.2", "v4.2"]),
            Some("v4.2.2")
        );
        assert_eq!(most_specific(&["latest"]), None);
        assert_eq!(comment_version("v4.2.2"), Some("v4.2.2"));
        assert_eq!(comment_version("tag=v1.0.0 pinned"), Some("v1.0.0"));
        assert_eq!(comment_version("pin@v2"), Some("v2"));
        assert_eq!(comment_version("TODO: bump"), None);
    }
}
