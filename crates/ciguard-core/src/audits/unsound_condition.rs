use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::expr::sites::Site;
use crate::finding::{Finding, Location};
use crate::source::SourceFile;
use crate::source::Span;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `if:` conditions that mix `${{ }}` with other text, such as
    /// `if: ${{ a }} || ${{ b }}` or a block scalar (`if: |`) that leaves a trailing newline.
    ///
    /// ## Why is this bad?
    ///
    /// GitHub evaluates each `${{ }}` and pastes the results into the text; the condition is then
    /// a non-empty string, which is always true. The step or job runs whatever the expressions
    /// say, including when it was meant to be skipped.
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
    ///       - if: ${{ success() }} || ${{ failure() }}
    ///         run: echo report
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
    ///       - if: success() || failure()
    ///         run: echo report
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: write the condition as one expression, without `${{ }}` or inside a single
    /// `${{ }}` that spans all of it, and without a block scalar.
    pub struct UnsoundCondition {
        id: "unsound-condition",
        summary: "unsound conditional expression",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for UnsoundCondition {
    fn document(&self, _cx: &AuditContext<'_>, doc: AnyDoc<'_, '_>, out: &mut Vec<Finding>) {
        check(doc.file(), doc.expr_sites(), out);
    }
}

fn check(file: &std::sync::Arc<SourceFile>, sites: &[Site<'_>], out: &mut Vec<Finding>) {
    let mut seen = Vec::new();
    for site in sites.iter().filter(|s| s.is_condition && !s.bare) {
        if seen.contains(&site.node.span()) {
            continue;
        }
        seen.push(site.node.span());
        let value = site.node.as_str().unwrap_or_default();
        if site.whole == Span::new(0, value.len()) {
            continue;
        }
        let msg =
            "this condition has text outside `${{ }}`, so it is a non-empty string and always true";
        out.push(Finding::new(
            &UnsoundCondition::META,
            msg,
            Location::file(file, site.node.span(), site.route.clone(), "always true"),
        ));
    }
}
