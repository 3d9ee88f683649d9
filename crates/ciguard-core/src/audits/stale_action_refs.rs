use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, UsesSite};
use crate::audits::online::resolved;
use crate::declare_audit;
use crate::facts::Facts;
use crate::finding::Finding;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `uses:` pinned to a commit that no tag of the repository points at: a commit
    /// between releases. Needs the network.
    ///
    /// ## Why is this bad?
    ///
    /// An untagged commit was never released: it may be work in progress, it gets no release
    /// notes nor advisories naming its version, and tools that update pins (Dependabot,
    /// `ciguard pin --update`) cannot tell which version it is.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   build:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       # a commit on main between two releases
    ///       - uses: actions/checkout@cbb722410c2e876e24abbe8de2cc27693e501dcb
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   build:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ///         with:
    ///           persist-credentials: false
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: pin to a released tag's commit (`ciguard pin --update`).
    pub struct StaleActionRefs {
        id: "stale-action-refs",
        summary: "commit pins that no tag points at",
        severity: Low,
        confidence: High,
        persona: Pedantic,
        inputs: [Workflow, Action],
        needs_network: true,
        fix: None,
    }
}

impl Audit for StaleActionRefs {
    fn uses(
        &self,
        cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &UsesSite<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), cx.facts, site, out);
    }
}

fn check(file: &File, facts: &Facts, site: &UsesSite<'_>, out: &mut Vec<Finding>) {
    let Some(r) = resolved(facts, site) else {
        return;
    };
    let Some(sha) = r.commit().filter(|_| r.is_sha()) else {
        return;
    };
    // Impostors and missing commits are other findings.
    let on_branch = r.repo.reachable.get(&sha) == Some(&true);
    let untagged = r.repo.tags_at(&sha).is_some_and(|t| t.is_empty());
    if !on_branch || !untagged {
        return;
    }
    out.push(Finding::new(
        &StaleActionRefs::META,
        format!("no tag of `{}` points at `{sha}`", r.slug),
        r.site.location(file, "untagged commit"),
    ));
}
