use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location, Severity};
use crate::models::Workflow;
use crate::models::release::{Publication, Registry, job_publications};
use crate::models::secrets::{GithubToken, Within, secret_refs};
use crate::route::Route;
use crate::source::Span;

declare_audit! {
    /// ## What it does
    ///
    /// Reports release workflows whose publishing is not isolated from the rest:
    ///
    /// - a job that publishes (packages, images, release assets, deployments) without a
    ///   deployment `environment:`;
    /// - a secret used by a publishing job that other, non-publishing jobs of the workflow also
    ///   reference (tests, linters);
    /// - secrets in workflow-level `env:`, handed to every step of every job;
    /// - `id-token: write`, `contents: write` or `write-all` granted at workflow level;
    /// - publishing from a job started by `pull_request_target` or `workflow_run`, which runs
    ///   with the base repository's secrets next to code or artifacts an outsider controls.
    ///
    /// ## Why is this bad?
    ///
    /// An environment lets the registry (trusted publishing), the secret store and reviewers
    /// tell the publishing job apart from every other job: secrets scoped to it stay out of
    /// test and lint jobs that run third-party code, required reviewers gate it, and branch
    /// rules decide which refs may publish. Credentials and permissions granted workflow-wide
    /// reach every step of every job instead.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on:
    ///   push:
    ///     tags: ["v*"]
    /// permissions:
    ///   id-token: write
    /// jobs:
    ///   publish:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: uv build
    ///       - run: uv publish
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on:
    ///   push:
    ///     tags: ["v*"]
    /// permissions: {}
    /// jobs:
    ///   publish:
    ///     runs-on: ubuntu-latest
    ///     environment: pypi
    ///     permissions:
    ///       id-token: write
    ///     steps:
    ///       - run: uv build
    ///       - uses: pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfc # v1.12.4
    /// ```
    ///
    /// ## Fix
    ///
    /// None offered: create a deployment environment for publishing, move the job's secrets
    /// into it, and grant write permissions on the publishing job only.
    pub struct ReleaseIsolation {
        id: "release-isolation",
        summary: "publishing not isolated from the rest of the workflow",
        severity: Medium,
        confidence: Medium,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

impl Audit for ReleaseIsolation {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        let file = wf.file;
        let meta = &Self::META;
        let pubs: Vec<Vec<Publication>> =
            wf.jobs.iter().map(|j| job_publications(file, j)).collect();
        // Only workflows that visibly publish: release triggers alone are too weak a signal here.
        if pubs.iter().all(Vec::is_empty) {
            return;
        }
        let untrusted = wf
            .triggers
            .iter()
            .find(|t| matches!(t.event, "pull_request_target" | "workflow_run"));
        // Secrets of publishing jobs, by name.
        let mut publishing_secrets: Vec<(String, Span)> = Vec::new();
        for (job, pubs) in wf.jobs.iter().zip(&pubs) {
            let Some(first) = pubs
                .iter()
                .find(|p| p.artifacts || p.registry != Registry::GitHubRelease)
            else {
                continue;
            };
            if job.environment_name().is_none() {
                out.push(
                    Finding::new(
                        meta,
                        format!(
                            "job `{}` publishes to {} without a deployment `environment:`",
                            job.id,
                            first.registry.name()
                        ),
                        Location::file(
                            file,
                            job.id_node.span(),
                            job.route.clone(),
                            "no `environment:`",
                        ),
                    )
                    .related(Location::file(
                        file,
                        first.span,
                        first.route.clone(),
                        "publishes here",
                    ))
                    // A release's assets are guarded by the job's own `GITHUB_TOKEN`; a registry
                    // token or deployment is worth more.
                    .severity(
                        if pubs.iter().all(|p| p.registry == Registry::GitHubRelease) {
                            Severity::Low
                        } else {
                            Severity::Medium
                        },
                    ),
                );
            }
            if let Some(trigger) = untrusted {
                let text = file.slice(job.node.span());
                let checks_out_untrusted = [
                    "pull_request.head",
                    "head_ref",
                    "workflow_run.head",
                    "download-artifact",
                ]
                .iter()
                .any(|n| text.contains(n));
                out.push(
                    Finding::new(
                        meta,
                        format!(
                            "job `{}` publishes from a `{}` run, next to code or artifacts an outsider controls",
                            job.id, trigger.event
                        ),
                        Location::file(file, first.span, first.route.clone(), "publishes here"),
                    )
                    .severity(Severity::High)
                    .confidence(if checks_out_untrusted { Confidence::High } else { Confidence::Medium })
                    .related(Location::file(file, trigger.name_node.span(), Route::root().key("on"), "privileged trigger")),
                );
            }
            let start = job.node.span().start;
            for (name, at) in long_lived_secrets(file.slice(job.node.span())) {
                if !publishing_secrets.iter().any(|(n, _)| n == name) {
                    publishing_secrets.push((
                        name.to_owned(),
                        Span::new(start + at, start + at + 8 + name.len()),
                    ));
                }
            }
        }
        for (job, pubs) in wf.jobs.iter().zip(&pubs) {
            // Jobs named like release work (uploads to buckets, signing, dispatching) may publish
            // in ways not recognised: only plain build, test and lint jobs are reported.
            let label = format!(
                "{} {}",
                job.id,
                job.get("name").and_then(|n| n.as_str()).unwrap_or("")
            )
            .to_ascii_lowercase();
            if !pubs.is_empty()
                || ["publish", "release", "deploy", "upload", "sign", "push"]
                    .iter()
                    .any(|w| label.contains(w))
            {
                continue;
            }
            let start = job.node.span().start;
            let mut reported: Vec<&str> = Vec::new();
            for (name, at) in long_lived_secrets(file.slice(job.node.span())) {
                let Some((_, used)) = publishing_secrets.iter().find(|(n, _)| n == name) else {
                    continue;
                };
                if reported.contains(&name) {
                    continue;
                }
                reported.push(name);
                out.push(
                    Finding::new(
                        meta,
                        format!("secret `{name}` of a publishing job is also given to job `{}`, which does not publish", job.id),
                        Location::file(file, Span::new(start + at, start + at + 8 + name.len()), job.route.clone(), "shared here"),
                    )
                    .related(Location::file(file, *used, Route::root().key("jobs"), "used to publish here")),
                );
            }
        }
        if let Some(env) = wf.get("env") {
            for (k, v) in env.entries() {
                let Some(name) = long_lived_secrets(v.as_str().unwrap_or(""))
                    .first()
                    .map(|s| s.0)
                else {
                    continue;
                };
                let key = k.as_str().unwrap_or("?");
                out.push(Finding::new(
                    meta,
                    format!("secret `{name}` is in workflow-level `env:` (`{key}`), where every step of every job gets it"),
                    Location::file(file, k.span().cover(v.span()), Route::root().key("env").key(key), "workflow-wide secret"),
                ));
            }
        }
        if let Some(perms) = wf.permissions() {
            let route = Route::root().key("permissions");
            if perms.as_str() == Some("write-all") {
                out.push(Finding::new(
                    meta,
                    "`write-all` at workflow level of a release workflow grants `id-token` and `contents` write to every job",
                    Location::file(file, perms.span(), route.clone(), "granted to every job"),
                ));
            }
            for scope in ["id-token", "contents"] {
                if let Some((k, v)) = perms
                    .entry(scope)
                    .filter(|(_, v)| v.as_str() == Some("write"))
                {
                    out.push(Finding::new(
                        meta,
                        format!("`{scope}: write` at workflow level of a release workflow; grant it on the publishing job only"),
                        Location::file(file, k.span().cover(v.span()), route.key(scope), "granted to every job"),
                    ));
                }
            }
        }
    }
}

/// The named long-lived secrets `text` passes (its `${{ }}`), with their offsets.
fn long_lived_secrets(text: &str) -> Vec<(&str, usize)> {
    secret_refs(text, Within::Template, GithubToken::Skip)
        .into_iter()
        .filter_map(|r| Some((r.name?, r.at)))
        .collect()
}
