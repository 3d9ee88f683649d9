use crate::audit::{AnyDoc, Audit, AuditContext, AuditMeta};
use crate::audits::common::{File, UsesSite};
use crate::declare_audit;
use crate::finding::{Applicability, Edit, Finding};
use crate::models::Uses;
use crate::source::Span;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `uses: ./path` of actions and reusable workflows of the same repository, where
    /// GitHub's self-repository syntax `uses: $/path` (July 2026, runner 2.336.0) says the
    /// same thing exactly.
    ///
    /// ## Why is this bad?
    ///
    /// `./path` is read from the runner's workspace at the time the step runs, so whatever
    /// earlier steps checked out or wrote there is what runs: another ref, a pull request's
    /// head, a file a build script changed. `$/path` resolves to the commit of the running
    /// workflow, needs no checkout, and satisfies policies that require SHA-pinned actions.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ///         with:
    ///           persist-credentials: false
    ///       - uses: ./.github/actions/setup
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: $/.github/actions/setup
    /// ```
    ///
    /// ## Fix
    ///
    /// Safe: `--fix` rewrites the leading `./` to `$/`.
    pub struct SelfRepository {
        id: "self-repository",
        summary: "same-repository actions used through the workspace instead of `$/`",
        severity: Low,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: Safe,
    }
}

impl Audit for SelfRepository {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn document(&self, _cx: &AuditContext<'_>, doc: AnyDoc<'_, '_>, out: &mut Vec<Finding>) {
        check(doc.file(), doc.uses_sites(), out);
    }
}

fn check(file: &File, sites: &[UsesSite<'_, '_>], out: &mut Vec<Finding>) {
    for site in sites {
        let Uses::Local(path) = site.uses else {
            continue;
        };
        if !path.starts_with("./") && path != "." {
            continue;
        }
        let mut f = Finding::new(
            &SelfRepository::META,
            format!("`{path}` runs whatever is in the workspace; `$/` pins it to this commit"),
            site.location(file, "use `$/...` instead of `./...`"),
        );
        // Rewrite the `.` of `./` in the source, wherever quoting puts it.
        let raw = file.slice(site.node.span());
        if let Some(dot) = raw.find('.') {
            let at = site.node.span().start + dot;
            let edit = if path == "." {
                Edit::replace(Span::new(at, at + 1), "$/")
            } else {
                Edit::replace(Span::new(at, at + 1), "$")
            };
            f = f.fix("rewrite `./` to `$/`", Applicability::Safe, vec![edit]);
        }
        out.push(f);
    }
}
