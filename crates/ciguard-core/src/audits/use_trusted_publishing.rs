use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Finding, Location, Persona};
use crate::models::release::{
    PUBLISH_WORDS, command_registry, job_has_id_token, run_commands, run_mentions,
    trusted_publishing_action,
};
use crate::models::{Action, Registry, Step, Workflow};
use crate::route::Route;
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// zizmor's `use-trusted-publishing`, same scope: publishing steps that could use trusted
    /// publishing but are configured with a manual credential — `pypa/gh-action-pypi-publish`
    /// with `password:` (to PyPI or TestPyPI), `rubygems/release-gem` with
    /// `setup-trusted-publisher: false`, `rubygems/configure-rubygems-credentials` with
    /// `api-token:`, `actions/setup-node` for npmjs.org with `always-auth: true` — and, in jobs
    /// that cannot mint an OIDC token (no `id-token: write`), `run:` commands that publish to
    /// PyPI, crates.io, npm or RubyGems (`twine upload`, `uv publish`, `cargo publish`,
    /// `npm publish`, `gem push`, ...).
    ///
    /// Unlike zizmor, commands that publish to a local test registry (`npm publish --registry
    /// http://localhost:4873`) or to a service without trusted publishing (`yarn dlx pkg-pr-new
    /// publish`) are not reported.
    ///
    /// Where a long-lived credential is visibly passed, `trusted-publishing` reports it at
    /// medium severity; this finding then moves to the `auditor` persona so the same line is
    /// not reported twice by default.
    ///
    /// ## Why is this bad?
    ///
    /// A registry token stored as a secret lives for months, works from anywhere, and leaks
    /// through logs, compromised actions or poisoned caches. Trusted publishing exchanges the
    /// job's short-lived OIDC token for a credential scoped to one upload.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on:
    ///   release:
    ///     types: [published]
    /// jobs:
    ///   publish:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: cargo publish
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on:
    ///   release:
    ///     types: [published]
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
    /// None offered: configure a trusted publisher on the registry, grant `id-token: write` to
    /// the publishing job, and remove the token.
    pub struct UseTrustedPublishing {
        id: "use-trusted-publishing",
        summary: "prefer trusted publishing for authentication",
        severity: Informational,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for UseTrustedPublishing {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        for job in &wf.jobs {
            let id_token = job_has_id_token(wf, job);
            for step in job.steps() {
                check_step(wf.file, step, !id_token, out);
            }
        }
    }

    fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        for step in action.steps() {
            check_step(action.file, step, false, out);
        }
    }
}

fn check_step(
    file: &std::sync::Arc<SourceFile>,
    step: &Step<'_>,
    commands: bool,
    out: &mut Vec<Finding>,
) {
    if let Some((uses, input)) = trusted_publishing_action(step) {
        out.push(
            Finding::new(
                &UseTrustedPublishing::META,
                format!(
                    "`{}` uses a manually configured credential instead of trusted publishing",
                    step.action_name().unwrap_or_default()
                ),
                Location::file(file, uses.span(), step.route.key("uses"), "this step"),
            )
            .related(Location::file(
                file,
                input.span(),
                step.route.key("with"),
                "manual credential",
            )),
        );
    }
    if !commands || !run_mentions(step, PUBLISH_WORDS) {
        return;
    }
    for c in run_commands(file, step) {
        let Some((registry, _)) = command_registry(&c.words) else {
            continue;
        };
        if !matches!(
            registry,
            Registry::PyPI
                | Registry::CratesIo
                | Registry::Npm
                | Registry::RubyGems
                | Registry::NuGet
        ) {
            continue;
        }
        let f = Finding::new(
            &UseTrustedPublishing::META,
            format!(
                "publishing to {} without trusted publishing (no `id-token: write`)",
                registry.name()
            ),
            Location::file(file, c.span, step.route.key("run"), "this command"),
        )
        .related(Location::file(
            file,
            step.run.map_or(c.span, |r| r.span()),
            Route::clone(&step.route),
            "this step",
        ));
        let token_passed = crate::models::secrets::has_long_lived_secret(c.line)
            && ["--token", "-p", "--password", "-u"].iter().any(|fl| {
                c.words
                    .iter()
                    .any(|w| w == fl || w.starts_with(&format!("{fl}=")))
            });
        out.push(if token_passed {
            f.persona(Persona::Auditor)
        } else {
            f
        });
    }
}
