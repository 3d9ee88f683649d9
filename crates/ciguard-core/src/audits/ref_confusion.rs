use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, UsesSite};
use crate::audits::online::resolved;
use crate::declare_audit;
use crate::facts::Facts;
use crate::finding::Finding;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `uses:` refs that name both a branch and a tag of the repository. Needs the
    /// network.
    ///
    /// ## Why is this bad?
    ///
    /// When a ref is both a branch and a tag, which one GitHub runs is not what a reader
    /// expects, and whoever can push a branch (a much weaker right than creating releases)
    /// can shadow a release tag: `uses: a/b@v1` then runs the branch `v1`.
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
    ///       - uses: example/action@v1 # `v1` is a branch and a tag
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
    ///       - uses: example/action@0123456789abcdef0123456789abcdef01234567 # v1.2.0
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: pin to the SHA of the release you mean (`ciguard pin`).
    pub struct RefConfusion {
        id: "ref-confusion",
        summary: "refs that are both a branch and a tag",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: true,
        fix: None,
        transitive: Consumer,
    }
}

impl Audit for RefConfusion {
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
    if r.is_sha() || !r.resolved.is_some_and(|f| f.is_branch && f.is_tag) {
        return;
    }
    out.push(Finding::new(
        &RefConfusion::META,
        format!("`{}` is both a branch and a tag of `{}`", r.git_ref, r.slug),
        r.site.location(file, "ambiguous ref"),
    ));
}
