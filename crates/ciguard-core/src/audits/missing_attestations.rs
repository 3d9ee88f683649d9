use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Finding, Location};
use crate::models::release::{job_has_id_token, job_publications, run_commands, run_mentions};
use crate::models::{Registry, Workflow};

declare_audit! {
    /// ## What it does
    ///
    /// Reports workflows that publish artifacts — packages, container images, release assets —
    /// with no signed attestation anywhere in the workflow: no `actions/attest*` step, no
    /// `slsa-framework/slsa-github-generator` workflow, no `cosign sign`/`cosign attest`, and
    /// no publisher that attests by itself (`pypa/gh-action-pypi-publish` from v1.11 unless
    /// `attestations: false`, `npm publish --provenance`). Docker's `provenance:` and `sbom:`
    /// inputs alone do not count: they are unsigned.
    ///
    /// ## Why is this bad?
    ///
    /// Without a signed provenance statement, users cannot check that an artifact was built by
    /// this repository's workflow from a given commit, rather than uploaded by whoever stole a
    /// token. Attestations bind the artifact's digest to the workflow run through Sigstore, and
    /// `gh attestation verify` checks them.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on:
    ///   release:
    ///     types: [published]
    /// jobs:
    ///   assets:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make dist
    ///       - run: gh release upload "$TAG" dist/*
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
    ///   assets:
    ///     runs-on: ubuntu-latest
    ///     environment: release
    ///     permissions:
    ///       contents: write
    ///       id-token: write
    ///       attestations: write
    ///     steps:
    ///       - run: make dist
    ///       - uses: actions/attest-build-provenance@e8998f949152b193b063cb0ec769d69d929409be # v2.4.0
    ///         with:
    ///           subject-path: dist/*
    ///       - run: gh release create "$GITHUB_REF_NAME" --verify-tag dist/*
    /// ```
    ///
    /// ## Fix
    ///
    /// None offered: add `actions/attest-build-provenance` (or `actions/attest`) after the
    /// build, with `id-token: write` and `attestations: write` on that job.
    pub struct MissingAttestations {
        id: "missing-attestations",
        summary: "published artifacts without signed provenance",
        severity: Low,
        confidence: Medium,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

impl Audit for MissingAttestations {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        if attests(wf) {
            return;
        }
        for job in &wf.jobs {
            let mut seen = Vec::new();
            // npm generates provenance by itself when it publishes with trusted publishing.
            let npm_oidc = job_has_id_token(wf, job);
            for p in job_publications(wf.file, job) {
                if !p.artifacts
                    || p.self_attesting
                    || (npm_oidc && p.registry == Registry::Npm)
                    || p.registry == Registry::Deployment
                    || seen.contains(&p.registry)
                {
                    continue;
                }
                seen.push(p.registry);
                out.push(Finding::new(
                    &Self::META,
                    format!("job `{}` publishes to {} with {} but nothing in the workflow attests the artifacts", job.id, p.registry.name(), p.via),
                    Location::file(wf.file, p.span, p.route.clone(), "published without attestation"),
                ));
            }
        }
    }
}

/// Whether any step or reusable workflow of the workflow signs an attestation.
fn attests(wf: &Workflow<'_>) -> bool {
    let reusable = wf
        .jobs
        .iter()
        .filter_map(|j| j.reusable_uses())
        .any(|(node, _)| {
            node.as_str().is_some_and(|u| {
                let u = u.to_ascii_lowercase();
                u.starts_with("slsa-framework/slsa-github-generator/") || u.contains("attest")
            })
        });
    reusable
        || wf.steps().any(|(_, step)| {
            let name = step.action_name().unwrap_or_default();
            name.starts_with("actions/attest")
                || name.starts_with("slsa-framework/")
                || name == "github-early-access/generate-build-provenance"
                || (run_mentions(step, &["cosign", "attestation"])
                    && run_commands(wf.file, step).iter().any(|c| {
                        c.words.first().is_some_and(|w| w == "cosign")
                            && c.words.get(1).is_some_and(|w| {
                                matches!(
                                    w.as_str(),
                                    "sign" | "attest" | "sign-blob" | "attest-blob"
                                )
                            })
                            || (c.words.first().is_some_and(|w| w == "gh")
                                && c.words.get(1).is_some_and(|w| w == "attestation")
                                && c.words.get(2).is_some_and(|w| w == "sign"))
                    }))
        })
}
