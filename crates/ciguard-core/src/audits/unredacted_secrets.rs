use crate::audit::{AnyDoc, Audit, AuditContext, AuditMeta};
use crate::declare_audit;
use crate::expr::ExprKind;
use crate::expr::sites::Site;
use crate::finding::{Finding, Location};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports fields read out of a structured secret: `${{ fromJSON(secrets.CONFIG).token }}`.
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
    }
}

impl Audit for UnredactedSecrets {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn document(&self, _cx: &AuditContext<'_>, doc: AnyDoc<'_, '_>, out: &mut Vec<Finding>) {
        check(doc.file(), doc.expr_sites(), out);
    }
}

fn check(file: &std::sync::Arc<SourceFile>, sites: &[Site<'_>], out: &mut Vec<Finding>) {
    for site in sites {
        site.expr.walk(&mut |e| {
            let ExprKind::Access { base, .. } = &e.kind else {
                return;
            };
            let ExprKind::Call { name, args } = &base.ungroup().kind else {
                return;
            };
            if !name.eq_ignore_ascii_case("fromjson") {
                return;
            }
            if !args.iter().any(|a| {
                a.contexts()
                    .iter()
                    .any(|(p, _)| p.root() == Some("secrets"))
            }) {
                return;
            }
            let msg = "a field of a JSON secret is not masked in logs";
            let at = site.file_span(file, e.span);
            out.push(Finding::new(
                &UnredactedSecrets::META,
                msg,
                Location::file(file, at, site.route.clone(), "unmasked value"),
            ));
        });
    }
}
