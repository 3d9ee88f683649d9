use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::expr::sites::Site;
use crate::expr::{Expr, ExprKind};
use crate::finding::{Finding, Location};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports fields read out of a structured secret: `${{ fromJSON(secrets.CONFIG).token }}`,
    /// and a secret's value parsed as JSON outside a condition (`${{ fromJSON(secrets.X) }}`:
    /// a JSON string loses its quotes, so the masked text no longer matches).
    ///
    /// ## Why is this bad?
    ///
    /// GitHub masks the exact text of each secret in logs. A field taken out of a JSON secret is a
    /// different string, which is not masked: printing it, or an error message that quotes it,
    /// shows it in clear in the log.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   deploy:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: ./deploy.sh
    ///         env:
    ///           TOKEN: ${{ fromJSON(secrets.CONFIG).token }}
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   deploy:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: ./deploy.sh
    ///         env:
    ///           TOKEN: ${{ secrets.CONFIG_TOKEN }}
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: store each value that must stay hidden as its own secret.
    pub struct UnredactedSecrets {
        id: "unredacted-secrets",
        summary: "leaked secret values through structured access",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

impl Audit for UnredactedSecrets {
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
    // `fromJSON(secrets.X).field` is reported at the field access; a bare
    // `fromJSON(secrets.X)` (a JSON string secret loses its quotes) at the call.
    let mut fields = Vec::new();
    let mut calls = Vec::new();
    site.expr.walk(&mut |e| match &e.kind {
        ExprKind::Access { base, .. } if parses_secret(base.ungroup()) => {
            fields.push((e.span, base.ungroup().span));
        }
        // In a condition the parsed value is compared, never printed.
        _ if !site.is_condition && parses_secret(e) => calls.push(e.span),
        _ => {}
    });
    let bare = calls
        .into_iter()
        .filter(|c| !fields.iter().any(|(_, base)| base == c))
        .map(|c| (c, "a value parsed from a JSON secret is not masked in logs"));
    let accessed = fields
        .iter()
        .map(|(f, _)| (*f, "a field of a JSON secret is not masked in logs"));
    for (span, msg) in accessed.chain(bare).collect::<Vec<_>>() {
        let at = site.file_span(file, span);
        out.push(Finding::new(
            &UnredactedSecrets::META,
            msg,
            Location::file(file, at, site.route.clone(), "unmasked value"),
        ));
    }
}

/// `fromJSON(...)` of an argument that reads a secret.
fn parses_secret(e: &Expr) -> bool {
    let ExprKind::Call { name, args } = &e.kind else {
        return false;
    };
    name.eq_ignore_ascii_case("fromjson")
        && args.iter().any(|a| {
            a.contexts()
                .iter()
                .any(|(p, _)| p.root() == Some("secrets"))
        })
}
