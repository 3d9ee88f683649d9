use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Finding, Location};
use crate::models::{JobKind, Workflow};
use crate::route::Route;

declare_audit! {
    /// ## What it does
    ///
    /// Reports workflows where a run can pile up behind or beside older runs: no `concurrency:`
    /// at workflow level while some job has none either, or a `concurrency:` written as a bare
    /// group name (no `cancel-in-progress`). An explicit `cancel-in-progress: false` is taken as
    /// intended. Workflows triggered only by `workflow_call` run under their caller's limits
    /// and are skipped.
    ///
    /// ## Why is this bad?
    ///
    /// Without a concurrency group every push starts a new run while the older ones keep going:
    /// runner minutes are wasted, and deployments or releases of older commits can finish after
    /// newer ones. This is hardening advice for the pedantic persona.
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
    /// on: push
    /// permissions: {}
    /// concurrency:
    ///   group: ${{ github.workflow }}-${{ github.ref }}
    ///   cancel-in-progress: true
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make test
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: add a `concurrency:` mapping with a `group` and `cancel-in-progress`.
    pub struct ConcurrencyLimits {
        id: "concurrency-limits",
        summary: "workflows without concurrency limits",
        severity: Low,
        confidence: High,
        persona: Pedantic,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

impl Audit for ConcurrencyLimits {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        // A workflow only ever called by others runs under its caller's concurrency.
        if wf.triggers.iter().all(|t| t.event == "workflow_call") {
            return;
        }
        let bare = "concurrency group has no `cancel-in-progress`";
        if let Some((key, value)) = wf.root.entry("concurrency") {
            if value.is_scalar() {
                out.push(Finding::new(
                    &Self::META,
                    format!("workflow {bare}"),
                    Location::file(
                        wf.file,
                        key.span().cover(value.span()),
                        Route::root().key("concurrency"),
                        "no `cancel-in-progress`",
                    ),
                ));
            }
            return;
        }
        let mut missing = false;
        for job in &wf.jobs {
            if !matches!(job.kind, JobKind::Normal { .. }) {
                continue;
            }
            match job.node.entry("concurrency") {
                Some((key, value)) if value.is_scalar() => out.push(Finding::new(
                    &Self::META,
                    format!("job `{}` {bare}", job.id),
                    Location::file(
                        wf.file,
                        key.span().cover(value.span()),
                        job.route.key("concurrency"),
                        "no `cancel-in-progress`",
                    ),
                )),
                Some(_) => {}
                None => missing = true,
            }
        }
        if missing {
            let on_key = wf.root.entry("on").map_or(wf.on.span(), |(k, _)| k.span());
            out.push(Finding::new(
                &Self::META,
                "workflow has no concurrency limits",
                Location::file(
                    wf.file,
                    on_key,
                    Route::root(),
                    "no `concurrency:` for the workflow or all its jobs",
                ),
            ));
        }
    }
}
