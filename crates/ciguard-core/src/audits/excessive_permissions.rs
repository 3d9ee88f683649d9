use crate::audit::{Audit, AuditContext};
use crate::audits::narrow_permissions::narrow;
use crate::declare_audit;
use crate::finding::{Applicability, Confidence, Edit, Finding, Location, Persona, Severity};
use crate::models::Workflow;
use crate::models::permissions::write_scopes;
use crate::route::Route;
use crate::source::Span;

declare_audit! {
    /// ## What it does
    ///
    /// Reports workflows whose `GITHUB_TOKEN` may get more than its jobs need: no
    /// `permissions:` at workflow level (so jobs without their own block get the repository's
    /// default, which may be read-write), `write-all` or `read-all`, and write scopes granted at
    /// workflow level, where every job receives them, instead of on the job that needs them.
    ///
    /// ## Why is this bad?
    ///
    /// Any step of a job can use its token: a compromised action, a poisoned cache or an
    /// injected script gets whatever the token can do. Starting the workflow at
    /// `permissions: {}` and letting each job ask for exactly what it uses keeps every job's
    /// blast radius to its own needs.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions:
    ///   contents: write
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make test
    ///   release:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make release
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
    ///     permissions:
    ///       contents: read
    ///     steps:
    ///       - run: make test
    ///   release:
    ///     runs-on: ubuntu-latest
    ///     permissions:
    ///       contents: write
    ///     steps:
    ///       - run: make release
    /// ```
    ///
    /// ## Fix
    ///
    /// Safe, where every job already declares its own `permissions:`: add `permissions: {}` at
    /// workflow level, which changes no job's token.
    ///
    /// Unsafe, where the workflow-level block grants write scopes (as a mapping, block or flow
    /// style): narrow them onto the jobs that use them. The workflow-level block becomes
    /// `permissions: {}` (not the read-only remainder: jobs added later should ask for what they
    /// need), and every job without its own `permissions:` gets a block, in the file's style and
    /// indentation, that is never broader than the workflow's was:
    ///
    /// - A job whose every step ciguard understands keeps the workflow's `read` and `none`
    ///   scopes, keeps each write scope it needs, and gets `read` instead of the others
    ///   (`id-token`, which has no read level, is dropped). What a step needs: release actions
    ///   and `gh release` need `contents: write`; `git push` too; `actions/attest*` need
    ///   `id-token` and `attestations`; trusted publishing (`pypa/gh-action-pypi-publish`,
    ///   `cargo publish`, `npm publish`, ...), cloud logins and keyless `cosign sign` need
    ///   `id-token`; pushing to GHCR needs `packages`; `peter-evans/create-pull-request` and
    ///   release-please need `contents` and `pull-requests`; CodeQL needs `security-events`;
    ///   checkout, setup and cache actions need nothing more. A `run:` script that is not
    ///   handed the token and runs none of those commands needs nothing.
    /// - A job ciguard cannot read keeps the workflow's block, copied with its comments: one
    ///   that uses an action it does not know (or a local or Docker action), a script handed the
    ///   token (`github.token`, `secrets.GITHUB_TOKEN`, a `GH_TOKEN` in the job's or workflow's
    ///   `env:`) for commands it does not know, a script whose name says it publishes
    ///   (`make publish`, `./release.sh`), and every reusable-workflow call (the callee's needs
    ///   are unknown).
    /// - Jobs with their own `permissions:` already override the workflow's and are unchanged.
    ///
    /// Review the result: a job can need a scope through a path ciguard cannot see (a tool that
    /// reads `ACTIONS_ID_TOKEN_REQUEST_*` from an opaque build script, say). `write-all` gets no
    /// narrowing fix: write the scopes out first.
    pub struct ExcessivePermissions {
        id: "excessive-permissions",
        summary: "overly broad permissions for the GITHUB_TOKEN",
        severity: Medium,
        confidence: Medium,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: Safe,
    }
}

impl Audit for ExcessivePermissions {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        let file = wf.file;
        let top = Route::root().key("permissions");
        match wf.permissions() {
            None => {
                let jobs_without: Vec<_> = wf
                    .jobs
                    .iter()
                    .filter(|j| j.permissions().is_none())
                    .collect();
                let at = Location::file(
                    file,
                    Span::new(wf.root.span().start, wf.root.span().start),
                    Route::root(),
                    "no `permissions:` at workflow level",
                );
                if jobs_without.is_empty() {
                    let mut finding = Finding::new(&Self::META, "workflow has no `permissions:`; start it at `permissions: {}` so new jobs get no access by default", at)
                        .severity(Severity::Low)
                        .confidence(Confidence::High);
                    if let Some(edit) = insert_empty_permissions(wf) {
                        finding = finding.fix(
                            "add `permissions: {}` at workflow level",
                            Applicability::Safe,
                            vec![edit],
                        );
                    }
                    out.push(finding);
                } else {
                    out.push(Finding::new(
                        &Self::META,
                        format!("workflow has no `permissions:`, so {} the repository's default token permissions", crate::plural::count(jobs_without.len(), "job gets", "jobs get")),
                        at,
                    ));
                }
                for job in &jobs_without {
                    out.push(Finding::new(
                        &Self::META,
                        format!("job `{}` runs with the repository's default token permissions, which may be read-write", job.id),
                        Location::file(file, job.id_node.span(), job.route.clone(), "no `permissions:` here or at workflow level"),
                    ));
                }
            }
            Some(perms) => {
                let multi = wf.jobs.len() > 1;
                let fix = narrow(wf, perms);
                check_block(file, perms, &top, Some(fix.as_deref()), multi, out);
            }
        }
        for job in &wf.jobs {
            if let Some(perms) = job.permissions() {
                check_block(file, perms, &job.route.key("permissions"), None, false, out);
            }
        }
    }
}

fn check_block(
    file: &std::sync::Arc<crate::source::SourceFile>,
    perms: crate::yaml::Node<'_>,
    route: &Route,
    // At workflow level: the edits narrowing the block onto the jobs, when there are some.
    workflow_level: Option<Option<&[Edit]>>,
    multi_job: bool,
    out: &mut Vec<Finding>,
) {
    let meta = &ExcessivePermissions::META;
    let here = if workflow_level.is_some() {
        "at workflow level"
    } else {
        "on this job"
    };
    match perms.as_str() {
        Some("write-all") => out.push(
            Finding::new(
                meta,
                format!("`write-all` grants every scope write access {here}"),
                Location::file(
                    file,
                    perms.span(),
                    route.clone(),
                    "write access to everything",
                ),
            )
            .severity(Severity::High)
            .confidence(Confidence::High),
        ),
        Some("read-all") => out.push(
            Finding::new(
                meta,
                format!("`read-all` grants read access to every scope {here}"),
                Location::file(
                    file,
                    perms.span(),
                    route.clone(),
                    "read access to everything",
                ),
            )
            .severity(Severity::Medium)
            .confidence(Confidence::High),
        ),
        _ if let Some(narrowing) = workflow_level => {
            for (scope, node) in write_scopes(perms) {
                let message = format!(
                    "`{scope}: write` at workflow level is granted to every job; grant it on the job that needs it"
                );
                let mut finding = Finding::new(
                    meta,
                    message,
                    Location::file(file, node.span(), route.key(scope), "granted to every job"),
                )
                .confidence(Confidence::High);
                if let Some(edits) = narrowing {
                    finding = finding.fix(
                        "narrow workflow-level write permissions onto the jobs that use them",
                        Applicability::Unsafe,
                        edits.to_vec(),
                    );
                }
                // With one job it is the same grant today; moving it keeps future jobs safe.
                out.push(if multi_job {
                    finding.severity(Severity::High)
                } else {
                    finding.severity(Severity::Low).persona(Persona::Pedantic)
                });
            }
        }
        _ => {}
    }
}

/// `permissions: {}` inserted on its own line before `jobs:` (block style workflows only).
fn insert_empty_permissions(wf: &Workflow<'_>) -> Option<Edit> {
    if wf.root.is_flow() {
        return None;
    }
    let (jobs_key, _) = wf.root.entry("jobs")?;
    let at = jobs_key.span().start;
    let line_start = wf.file.text[..at].rfind('\n').map_or(0, |i| i + 1);
    if line_start != at {
        return None;
    }
    let newline = if wf.file.text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    Some(Edit::insert(at, format!("permissions: {{}}{newline}")))
}
