use crate::audit::{Audit, AuditContext};
use crate::audits::common::has_meaningful_comment;
use crate::declare_audit;
use crate::finding::{Finding, Location};
use crate::models::{Job, Workflow};
use crate::route::Route;
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `permissions:` mappings (of the workflow or of a job) in which a scope has no
    /// comment saying why it is needed, either at the end of its line or on the lines just
    /// above it. `contents: read` (what checking out needs) explains itself.
    ///
    /// ## Why is this bad?
    ///
    /// Permissions are added when something fails and rarely removed: without the reason next
    /// to them nobody knows, a year later, whether `pull-requests: write` is still needed, so it
    /// stays. A one-line comment makes reviewing and narrowing them possible. This is hardening
    /// advice for the pedantic persona.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions:
    ///   contents: read
    ///   issues: write
    /// jobs:
    ///   triage:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: ./triage.sh
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   triage:
    ///     runs-on: ubuntu-latest
    ///     permissions:
    ///       contents: read # to read the triage rules
    ///       issues: write # to label new issues
    ///     steps:
    ///       - run: ./triage.sh
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: write why each scope is needed in a comment on its line.
    pub struct UndocumentedPermissions {
        id: "undocumented-permissions",
        summary: "permissions without an explaining comment",
        severity: Low,
        confidence: High,
        persona: Pedantic,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

impl Audit for UndocumentedPermissions {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        if let Some(p) = wf.permissions() {
            check(wf, p, Route::root().key("permissions"), "workflow", out);
        }
    }

    fn job(
        &self,
        _cx: &AuditContext<'_>,
        wf: &Workflow<'_>,
        job: &Job<'_>,
        out: &mut Vec<Finding>,
    ) {
        if let Some(p) = job.permissions() {
            let owner = format!("job `{}`", job.id);
            check(wf, p, job.route.key("permissions"), &owner, out);
        }
    }
}

fn check(wf: &Workflow<'_>, perms: Node<'_>, route: Route, owner: &str, out: &mut Vec<Finding>) {
    if !perms.is_mapping() || perms.is_empty() {
        return;
    }
    let entries: Vec<_> = perms.entries().collect();
    if let [(scope, level)] = entries.as_slice()
        && scope.as_str() == Some("contents")
        && level.as_str() == Some("read")
    {
        return;
    }
    let mut undocumented = entries
        .iter()
        .filter(|(scope, level)| {
            !(scope.as_str() == Some("contents") && level.as_str() == Some("read"))
        })
        .filter(|(scope, level)| !has_meaningful_comment(wf.file, scope.span().cover(level.span())))
        .map(|(scope, level)| {
            (
                scope.as_str().unwrap_or("?"),
                scope.span().cover(level.span()),
            )
        });
    let Some((first, span)) = undocumented.next() else {
        return;
    };
    let mut names = vec![first];
    let mut finding = Finding::new(
        &UndocumentedPermissions::META,
        String::new(),
        Location::file(
            wf.file,
            span,
            route.key(first),
            "needs an explaining comment",
        ),
    );
    for (name, span) in undocumented {
        names.push(name);
        finding = finding.related(Location::file(
            wf.file,
            span,
            route.key(name),
            "needs an explaining comment",
        ));
    }
    finding.message = format!(
        "{owner} permissions without a comment saying why: {}",
        names.join(", ")
    );
    out.push(finding);
}
