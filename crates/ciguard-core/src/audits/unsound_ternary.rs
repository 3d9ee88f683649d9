use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::expr::sites::Site;
use crate::expr::{BinOp, ExprKind};
use crate::finding::{Confidence, Finding, Location, Persona, Severity};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `${{ cond && b || c }}` used to choose a value when `b` can be falsy: a falsy
    /// literal (`''`, `0`, `false`, `null`) is reported at medium severity, a value read from a
    /// context (which can be empty) at low severity for the pedantic persona, unless the condition
    /// tests that value itself (`x != '' && x || 'default'`), GitHub always sets it (`github.ref`), or the fallback is `''` anyway.
    /// Conditions (`if:`)
    /// are not reported: there only truthiness matters, and `&&`/`||` are the boolean logic they
    /// look like.
    ///
    /// ## Why is this bad?
    ///
    /// GitHub has no ternary operator; `cond && b || c` gives `c` whenever `b` is falsy, even when
    /// `cond` is true. `${{ github.ref == 'refs/heads/main' && '' || '--dry-run' }}` always gives
    /// `--dry-run`.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   publish:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make publish FLAGS="${{ github.ref == 'refs/heads/main' && '' || '--dry-run' }}"
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   publish:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make publish FLAGS="${{ github.ref != 'refs/heads/main' && '--dry-run' || '' }}"
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: swap the branches (`!cond && c || b`) so the value after `&&` is truthy, or
    /// use `case(cond, b, c)`.
    pub struct UnsoundTernary {
        id: "unsound-ternary",
        summary: "`a && b || c` used as a ternary with a falsy branch",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for UnsoundTernary {
    fn expr(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &Site<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), site, out);
    }
}

/// `github.ref`, `github.run_id` and the like: GitHub always sets them.
fn always_set(path: &crate::expr::ContextPath) -> bool {
    path.root() == Some("github")
        && path.segs.len() == 2
        && !matches!(path.name(1), Some("head_ref" | "base_ref") | None)
}

fn check(file: &std::sync::Arc<SourceFile>, site: &Site<'_>, out: &mut Vec<Finding>) {
    if site.is_condition {
        return;
    }
    site.expr.walk(&mut |e| {
        let ExprKind::Binary { op: BinOp::Or, lhs, rhs: c } = &e.kind else { return };
        let ExprKind::Binary { op: BinOp::And, lhs: cond, rhs: b } = &lhs.ungroup().kind else { return };
        let b = b.ungroup();
        // `x != '' && x || default` tests `b` itself; `cond && b || ''` gives `''` either way.
        let in_cond = cond.contexts();
        let b_contexts = b.contexts();
        let tests_b = !b_contexts.is_empty() && b_contexts.iter().all(|(p, _)| in_cond.iter().any(|(q, _)| q == p) || always_set(p));
        if tests_b || matches!(&c.ungroup().kind, ExprKind::String(s) if s.is_empty()) {
            return;
        }
        let falsy_literal = match &b.kind {
            ExprKind::String(s) => s.is_empty(),
            ExprKind::Number(n) => *n == 0.0 || n.is_nan(),
            ExprKind::Bool(v) => !v,
            ExprKind::Null => true,
            _ => false,
        };
        let can_be_empty = b.context_path().is_some() || matches!(&b.kind, ExprKind::Access { .. });
        let at = site.file_span(file, b.span);
        let location = Location::file(file, at, site.route.clone(), "can be falsy");
        if falsy_literal {
            let msg = "the value after `&&` is falsy, so this always gives the value after `||`";
            out.push(Finding::new(&UnsoundTernary::META, msg, location));
        } else if can_be_empty {
            let msg = "the value after `&&` can be empty, and then this gives the value after `||` even when the condition holds";
            out.push(Finding::new(&UnsoundTernary::META, msg, location).severity(Severity::Low).confidence(Confidence::Medium).persona(Persona::Pedantic));
        }
    });
}
