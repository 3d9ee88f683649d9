use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::expr::sites::Site;
use crate::finding::{Finding, Location};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports expressions that hand over the whole `secrets` context (`${{ toJSON(secrets) }}`)
    /// or pick a secret by a computed name (`${{ secrets[matrix.token] }}`).
    ///
    /// ## Why is this bad?
    ///
    /// GitHub gives a job only the secrets its expressions name. The whole context, or a computed
    /// index, makes every secret of the repository and organisation available to the step, where
    /// a compromised tool or a log line can take them all.
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
    ///           ALL: ${{ toJSON(secrets) }}
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
    ///           DEPLOY_TOKEN: ${{ secrets.DEPLOY_TOKEN }}
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: name each secret the step needs.
    pub struct OverprovisionedSecrets {
        id: "overprovisioned-secrets",
        summary: "excessively provisioned secrets",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for OverprovisionedSecrets {
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
    for (path, span) in site.expr.contexts() {
        if path.root() != Some("secrets") {
            continue;
        }
        let msg = if path.segs.len() == 1 {
            "the whole `secrets` context is expanded: every secret becomes available here"
        } else if path.name(1).is_none() {
            "a secret is picked by a computed name: every secret becomes available to this job"
        } else {
            continue;
        };
        let at = site.file_span(file, span);
        out.push(Finding::new(
            &OverprovisionedSecrets::META,
            msg,
            Location::file(file, at, site.route.clone(), "all secrets"),
        ));
    }
}
