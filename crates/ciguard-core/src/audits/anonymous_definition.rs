use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Finding, Location, Severity};
use crate::models::{Job, JobKind, Workflow};
use crate::route::Route;

declare_audit! {
    /// ## What it does
    ///
    /// Reports workflows without a `name:`, and jobs (other than reusable-workflow calls and
    /// jobs switched off with `if: false`) without a `name:`.
    ///
    /// ## Why is this bad?
    ///
    /// GitHub then shows the file path or the job id in the Actions tab, in required status
    /// checks and in notifications, which makes runs harder to find and to review. This is
    /// style advice for the pedantic persona.
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
    ///       - run: make test
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// name: Tests
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     name: Unit tests
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make test
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: add a `name:` that says what the workflow or job does.
    pub struct AnonymousDefinition {
        id: "anonymous-definition",
        summary: "workflows and jobs without a name",
        severity: Low,
        confidence: High,
        persona: Pedantic,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

impl Audit for AnonymousDefinition {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        if wf.get("name").is_none() {
            let first_key = wf
                .root
                .entries()
                .next()
                .map_or(wf.on.span(), |(k, _)| k.span());
            out.push(Finding::new(
                &Self::META,
                "workflow has no name",
                Location::file(
                    wf.file,
                    first_key,
                    Route::root(),
                    "workflow without a `name:`",
                ),
            ));
        }
    }

    fn job(
        &self,
        _cx: &AuditContext<'_>,
        wf: &Workflow<'_>,
        job: &Job<'_>,
        out: &mut Vec<Finding>,
    ) {
        if matches!(job.kind, JobKind::Normal { .. }) && job.get("name").is_none() {
            out.push(
                Finding::new(
                    &Self::META,
                    format!("job `{}` has no name", job.id),
                    Location::file(
                        wf.file,
                        job.id_node.span(),
                        job.route.clone(),
                        "job without a `name:`",
                    ),
                )
                .severity(Severity::Informational),
            );
        }
    }
}
