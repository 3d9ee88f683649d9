use crate::audit::{Audit, AuditContext, AuditMeta};
use crate::audits::common::{File, UsesSite, action_uses, workflow_uses};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location, Persona};
use crate::models::{Action, Workflow};

declare_audit! {
    /// ## What it does
    ///
    /// Reports actions whose work the runner already does with tools it ships (`gh`, `jq`,
    /// `docker`, `rustup`): release creation and upload, issue and label edits, `docker run`,
    /// `jq`. Actions that do more than the plain command (creating pull requests, editing
    /// comments, `dtolnay/rust-toolchain`) are reported to the pedantic persona only.
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

/// `owner/repo`, what to use instead, and whether only the pedantic persona sees it.
const SUPERFLUOUS: &[(&str, &str, bool)] = &[
    ("ncipollo/release-action", "`gh release create`", false),
    ("softprops/action-gh-release", "`gh release create`", false),
    ("elgohr/github-release-action", "`gh release create`", false),
    (
        "svenstaro/upload-release-action",
        "`gh release create` and `gh release upload`",
        false,
    ),
    ("dacbd/create-issue-action", "`gh issue create`", false),
    (
        "actions-ecosystem/action-add-labels",
        "`gh issue edit --add-label` or `gh pr edit --add-label`",
        false,
    ),
    (
        "actions-ecosystem/action-remove-labels",
        "`gh issue edit --remove-label` or `gh pr edit --remove-label`",
        false,
    ),
    (
        "addnab/docker-run-action",
        "`docker run`, or a container step",
        false,
    ),
    ("sergeysova/jq-action", "`jq`", false),
    ("peter-evans/create-pull-request", "`gh pr create`", true),
    (
        "peter-evans/create-or-update-comment",
        "`gh pr comment` or `gh issue comment`",
        true,
    ),
    ("dtolnay/rust-toolchain", "`rustup`", true),
];

impl Audit for SuperfluousActions {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        check(wf.file, &workflow_uses(wf), out);
    }

    fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        check(action.file, &action_uses(action), out);
    }
}

fn check(file: &File, sites: &[UsesSite<'_, '_>], out: &mut Vec<Finding>) {
    for site in sites {
        let Some(repo) = site.repo() else { continue };
        let slug = repo.slug().to_ascii_lowercase();
        let Some((_, instead, pedantic)) = SUPERFLUOUS.iter().find(|(name, _, _)| *name == slug)
        else {
            continue;
        };
        let mut f = Finding::new(
            &SuperfluousActions::META,
            format!("`{slug}` does what {instead} in a `run:` step does"),
            Location::file(
                file,
                site.node.span(),
                site.route.clone(),
                format!("use {instead} instead"),
            ),
        );
        if *pedantic {
            f = f.persona(Persona::Pedantic).confidence(Confidence::Medium);
        }
        out.push(f);
    }
}
