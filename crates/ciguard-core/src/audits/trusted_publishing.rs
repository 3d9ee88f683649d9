use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location};
use crate::models::Workflow;
use crate::models::release::{
    Registry, inherited_env, job_has_id_token, job_publications, step_credentials,
};

declare_audit! {
    /// ## What it does
    ///
    /// Reports long-lived registry credentials passed to jobs that publish to a registry that
    /// supports trusted publishing (short-lived OIDC credentials): PyPI, crates.io, npm,
    /// RubyGems, NuGet, Docker Hub, and GHCR (where the job's own `GITHUB_TOKEN` suffices).
    /// Credentials are the password or token inputs of publishing and login actions
    /// (`pypa/gh-action-pypi-publish`, `docker/login-action`, ...), environment variables such as
    /// `TWINE_PASSWORD`, `CARGO_REGISTRY_TOKEN` or `NODE_AUTH_TOKEN` set from secrets (on the
    /// step, the job or the workflow), and `--token`, `-p` or `--api-key` flags fed a secret.
    /// A job that grants `id-token: write` and still passes a token is reported at high
    /// confidence: the token is no longer needed.
    ///
    /// This is the wider companion of `use-trusted-publishing` (zizmor's scope, informational):
    /// it reports the credential itself, at medium severity. On the one place both would
    /// report (a publishing command line carrying `--token ${{ secrets.X }}`), the
    /// `use-trusted-publishing` finding moves to the `auditor` persona.
    ///
    /// ## Why is this bad?
    ///
    /// A stored registry token is valid for months, from anywhere: anyone who reads it from a
    /// log, a compromised action or a poisoned build can publish malicious versions of the
    /// package. Trusted publishing mints a credential for one job, bound to this repository
    /// and workflow, that expires in minutes.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on:
    ///   push:
    ///     tags: ["v*"]
    /// jobs:
    ///   publish:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: cargo publish
    ///         env:
    ///           CARGO_REGISTRY_TOKEN: ${{ secrets.CARGO_REGISTRY_TOKEN }}
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
    ///     environment: crates-io
    ///     permissions:
    ///       id-token: write
    ///       attestations: write
    ///     steps:
    ///       - uses: rust-lang/crates-io-auth-action@b7e9a28eded4986ec6b1fa40eeee8f8f165559ec # v1.0.3
    ///         id: auth
    ///       - run: cargo publish
    ///         env:
    ///           CARGO_REGISTRY_TOKEN: ${{ steps.auth.outputs.token }}
    ///       - uses: actions/attest-build-provenance@e8998f949152b193b063cb0ec769d69d929409be # v2.4.0
    ///         with:
    ///           subject-path: target/package/*.crate
    /// ```
    ///
    /// ## Fix
    ///
    /// None offered: register the workflow as a trusted publisher on the registry, grant
    /// `id-token: write` to the publishing job only, then delete the secret.
    pub struct TrustedPublishing {
        id: "trusted-publishing",
        summary: "long-lived registry credentials where trusted publishing is available",
        severity: Medium,
        confidence: Medium,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

fn is_container(r: Registry) -> bool {
    matches!(
        r,
        Registry::DockerHub | Registry::Ghcr | Registry::Container
    )
}

impl Audit for TrustedPublishing {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        let mut seen = Vec::new();
        for job in &wf.jobs {
            let publications = job_publications(wf.file, job);
            if publications.is_empty() {
                continue;
            }
            let id_token = job_has_id_token(wf, job);
            let env = inherited_env(wf, job);
            for step in job.steps() {
                for cred in step_credentials(wf.file, step, &env) {
                    let target = publications.iter().find(|p| {
                        p.registry == cred.registry
                            || (is_container(p.registry) && is_container(cred.registry))
                    });
                    let Some(target) = target else { continue };
                    // A login to an unknown container host is judged by where the job pushes.
                    let registry = if cred.registry == Registry::Container {
                        target.registry
                    } else {
                        cred.registry
                    };
                    if !registry.supports_trusted_publishing() || seen.contains(&cred.span) {
                        continue;
                    }
                    seen.push(cred.span);
                    let alternative = match registry {
                        Registry::Ghcr => {
                            "use the job's `GITHUB_TOKEN` with `packages: write` instead"
                        }
                        _ => "it supports trusted publishing",
                    };
                    let (message, confidence) = if id_token {
                        (
                            format!(
                                "job `{}` grants `id-token: write` but still publishes to {} with a long-lived credential ({})",
                                job.id,
                                registry.name(),
                                cred.what
                            ),
                            Confidence::High,
                        )
                    } else {
                        (
                            format!(
                                "publishing to {} with a long-lived credential ({}); {alternative}",
                                registry.name(),
                                cred.what
                            ),
                            Confidence::Medium,
                        )
                    };
                    out.push(
                        Finding::new(
                            &Self::META,
                            message,
                            Location::file(
                                wf.file,
                                cred.span,
                                cred.route.clone(),
                                "long-lived credential",
                            ),
                        )
                        .confidence(confidence)
                        .related(Location::file(
                            wf.file,
                            target.span,
                            target.route.clone(),
                            "publishes here",
                        )),
                    );
                }
            }
        }
    }
}
