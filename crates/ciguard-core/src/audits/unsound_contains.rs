use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::expr::contexts::{Trust, classify};
use crate::expr::sites::Site;
use crate::expr::{ContextPath, ExprKind};
use crate::finding::{Finding, Location, Severity};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `contains('a b c', x)` where the haystack is a string literal and the needle is a
    /// value from a context: a substring test used as if it were a list membership test.
    ///
    /// ## Why is this bad?
    ///
    /// `contains('refs/heads/main refs/heads/release', github.ref)` is also true for
    /// `refs/heads/mai`, `refs/heads/r` or `main refs`, so a branch that nobody meant to trust
    /// passes the check. The finding is high when the needle is text an outsider controls.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   deploy:
    ///     if: contains('refs/heads/main refs/heads/release', github.ref)
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: echo deploy
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   deploy:
    ///     if: contains(fromJSON('["refs/heads/main", "refs/heads/release"]'), github.ref)
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: echo deploy
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: test against a list, `contains(fromJSON('["a", "b"]'), x)`, or compare with
    /// `==` for each value.
    pub struct UnsoundContains {
        id: "unsound-contains",
        summary: "substring match used as a list membership test",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for UnsoundContains {
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

fn check(file: &std::sync::Arc<SourceFile>, site: &Site<'_>, out: &mut Vec<Finding>) {
    site.expr.walk(&mut |e| {
        let ExprKind::Call { name, args } = &e.kind else { return };
        if !name.eq_ignore_ascii_case("contains") {
            return;
        }
        let [hay, needle] = args.as_slice() else { return };
        if !matches!(hay.ungroup().kind, ExprKind::String(_)) || needle.is_literal() {
            return;
        }
        let worst = needle.contexts().iter().map(|(p, _)| chosen_by(p)).min().unwrap_or(Trust::Unknown);
        let severity = match worst {
            Trust::Safe => return,
            Trust::Attacker => Severity::High,
            _ => Severity::Medium,
        };
        let msg = "`contains()` on a string is a substring test: a value that is only part of one of the listed ones passes";
        let at = site.file_span(file, e.span);
        out.push(Finding::new(&UnsoundContains::META, msg, Location::file(file, at, site.route.clone(), "substring test")).severity(severity));
    });
}

/// Who chooses the value: as for injection, except that account names, which cannot carry
/// code, are still chosen by whoever registers the account (`ali` passes for `alice bob`).
fn chosen_by(path: &ContextPath) -> Trust {
    let shown = path.to_string();
    let account = matches!(shown.as_str(), "github.actor" | "github.triggering_actor")
        || shown.ends_with(".login");
    if account {
        Trust::Attacker
    } else {
        classify(path)
    }
}
