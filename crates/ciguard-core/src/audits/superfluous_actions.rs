use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, UsesSite};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Persona};

declare_audit! {
    /// ## What it does
    ///
    /// Reports actions whose work the runner already does with tools it ships (`gh`, `jq`,
    /// `docker`, `rustup`): release creation and upload, issue and label edits, `docker run`,
    /// `jq`. Actions that do more than the plain command (creating pull requests, editing
    /// comments, committing with `git-auto-commit-action`, `dtolnay/rust-toolchain`) are
    /// reported to the pedantic persona only.
    ///
    /// ## Why is this bad?
    ///
    /// Every third-party action is code from another owner that runs with the job's token and
    /// secrets, and a dependency to pin, review and update. When a one-line `gh` command does
    /// the same, the action only adds supply-chain risk.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   release:
    ///     runs-on: ubuntu-latest
    ///     permissions:
    ///       contents: write # to create the release
    ///     steps:
    ///       - uses: softprops/action-gh-release@c95fe1489396fe8a9eb87c0abf8aa5b2ef267fda # v2.2.1
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   release:
    ///     runs-on: ubuntu-latest
    ///     permissions:
    ///       contents: write # to create the release
    ///     steps:
    ///       - run: gh release create "$GITHUB_REF_NAME" --repo "$GITHUB_REPOSITORY" --generate-notes
    ///         env:
    ///           GH_TOKEN: ${{ github.token }}
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: replace the action with the command it wraps.
    pub struct SuperfluousActions {
        id: "superfluous-actions",
        summary: "actions whose work the runner's tools already do",
        severity: Informational,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

/// `owner/repo`, what to use instead, and `Some(confidence)` when only the pedantic persona
/// sees it (the action does a little more than the command).
const SUPERFLUOUS: &[(&str, &str, Option<Confidence>)] = &[
    ("ncipollo/release-action", "`gh release create`", None),
    ("softprops/action-gh-release", "`gh release create`", None),
    ("elgohr/github-release-action", "`gh release create`", None),
    (
        "svenstaro/upload-release-action",
        "`gh release create` and `gh release upload`",
        None,
    ),
    ("dacbd/create-issue-action", "`gh issue create`", None),
    (
        "actions-ecosystem/action-add-labels",
        "`gh issue edit --add-label` or `gh pr edit --add-label`",
        None,
    ),
    (
        "actions-ecosystem/action-remove-labels",
        "`gh issue edit --remove-label` or `gh pr edit --remove-label`",
        None,
    ),
    (
        "addnab/docker-run-action",
        "`docker run`, or a container step",
        None,
    ),
    ("sergeysova/jq-action", "`jq`", None),
    (
        "peter-evans/create-pull-request",
        "`gh pr create`",
        Some(Confidence::Low),
    ),
    (
        "peter-evans/create-or-update-comment",
        "`gh pr comment` or `gh issue comment`",
        Some(Confidence::Low),
    ),
    (
        "dtolnay/rust-toolchain",
        "`rustup`",
        Some(Confidence::Medium),
    ),
    (
        "stefanzweifel/git-auto-commit-action",
        "`git commit` and `git push`",
        Some(Confidence::Low),
    ),
];

impl Audit for SuperfluousActions {
    fn uses(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &UsesSite<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), site, out);
    }
}

fn check(file: &File, site: &UsesSite<'_>, out: &mut Vec<Finding>) {
    let Some(repo) = site.repo() else { return };
    let slug = repo.slug().to_ascii_lowercase();
    let Some((_, instead, pedantic)) = SUPERFLUOUS.iter().find(|(name, _, _)| *name == slug) else {
        return;
    };
    let mut f = Finding::new(
        &SuperfluousActions::META,
        format!("`{slug}` does what {instead} in a `run:` step does"),
        site.location(file, format!("use {instead} instead")),
    );
    if let Some(confidence) = pedantic {
        f = f.persona(Persona::Pedantic).confidence(*confidence);
    }
    out.push(f);
}
