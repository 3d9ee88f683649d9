//! Shared by the online audits: the repository `uses:` of a file with the facts resolved for
//! them.

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
