use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, UsesSite};
use crate::audits::online::resolved;
use crate::declare_audit;
use crate::facts::Facts;
use crate::finding::{Applicability, Finding};
use crate::models::version::{Version, VersionComment, most_specific_tag};

declare_audit! {
    /// ## What it does
    ///
    /// Reports `uses:` pinned to a SHA whose version comment (`# v4.2.2`) names a tag that
    /// points at another commit. Needs the network.
    ///
    /// ## Why is this bad?
    ///
    /// Reviewers and update tools read the comment, not the SHA: a comment that lies makes an
    /// old, vulnerable or foreign commit look like the release it names. It also happens
    /// honestly when a pin is bumped without its comment, or when a tag is moved after the
    /// pin was taken.
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
    ///       # this is v4.1.0's commit
    ///       - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.2.2
    ///         with:
    ///           persist-credentials: false
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
    /// Display only: the finding names the tags on the pinned commit and the commit of the
    /// tag the comment names; decide which one you meant (`ciguard pin` rewrites both).
    pub struct RefVersionMismatch {
        id: "ref-version-mismatch",
        summary: "version comments naming a tag of another commit",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: true,
        fix: DisplayOnly,
    }
}

impl Audit for RefVersionMismatch {
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
    let Some(comment) = file.trailing_comment(r.site.node.span()) else {
        return;
    };
    let Some(version) = VersionComment::version_tag(comment) else {
        return;
    };
    let version = version.as_str();
    // A tag the repository does not have is not a claim we can check.
    let Some(tag_commit) = r.repo.tag_commit(version) else {
        return;
    };
    if tag_commit == sha {
        return;
    }
    let on_commit = r.repo.tags_at(&sha).unwrap_or_default();
    let versions = on_commit.iter().copied();
    let fix = match most_specific_tag(versions.filter(|t| Version::parse(t).is_some()), None) {
        Some(actual) => format!(
            "the pinned commit is `{actual}`: change the comment to `# {actual}`, or pin `{tag_commit}` for `{version}`"
        ),
        None => format!("pin `{tag_commit}` for `{version}`, or drop the comment"),
    };
    out.push(
        Finding::new(
            &RefVersionMismatch::META,
            format!(
                "the comment says `{version}` but `{version}` of `{}` is `{tag_commit}`, not the pinned `{sha}`",
                r.slug
            ),
            r.site.location(file, "commit does not match the version comment"),
        )
        .fix(fix, Applicability::DisplayOnly, Vec::new()),
    );
}
