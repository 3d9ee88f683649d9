use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::File;
use crate::audits::common::UsesSite;
use crate::audits::online::resolved;
use crate::declare_audit;
use crate::facts::Facts;
use crate::finding::Finding;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `uses:` pinned to a commit that no branch or tag of the named repository
    /// reaches. Needs the network: ciguard compares the commit with the repository's default
    /// branch (then its other branches and tags) through the GitHub API.
    ///
    /// ## Why is this bad?
    ///
    /// GitHub serves every commit of a fork network under every repository of the network:
    /// anyone can fork `actions/checkout`, push a malicious commit to the fork, and the SHA
    /// works as `actions/checkout@<sha>`. A reviewer sees a trusted name and a "pinned" SHA;
    /// the code comes from a stranger. Such an impostor commit is never on the real
    /// repository's branches or tags.
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
    ///       # a commit pushed to a fork of actions/checkout
    ///       - uses: actions/checkout@c7d749a2d57b4b375d1ebcd17cfbfb60c676f18e
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
    /// None automatic: find out where the SHA came from, then pin to a commit of a released
    /// tag of the repository (`ciguard pin` picks one).
    pub struct ImpostorCommit {
        id: "impostor-commit",
        summary: "commit pins that no branch or tag of the repository reaches",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: true,
        fix: None,
        transitive: Consumer,
    }
}

impl Audit for ImpostorCommit {
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
    if r.repo.reachable.get(&sha) != Some(&false) {
        return;
    }
    out.push(Finding::new(
        &ImpostorCommit::META,
        format!(
            "`{sha}` is on no branch or tag of `{}`: it may come from a fork (impostor commit)",
            r.slug
        ),
        r.site.location(file, "commit not in the repository"),
    ));
}
