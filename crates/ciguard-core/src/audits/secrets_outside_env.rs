use crate::audit::{Audit, AuditContext, InvalidOption};
use crate::audits::common::{expressions_in, scalars_under};
use crate::models::secrets::{GithubToken, SecretRef, Within, secret_refs};
use crate::declare_audit;
use crate::finding::{Finding, Location};
use crate::models::disabled::is_disabled;
use crate::models::{Job, JobKind, Workflow};
use crate::source::Span;

declare_audit! {
    /// ## What it does
    ///
    /// Reports secrets (`secrets.NAME`, `secrets['NAME']`, or the whole `secrets` context)
    /// used by a job that has no deployment `environment:`. `secrets.GITHUB_TOKEN` is not
    /// reported: every job has it. Workflows that can be called (`workflow_call`) are skipped,
    /// since environments of called workflows cannot see the caller's secrets.
    ///
    /// ## Why is this bad?
    ///
    /// Repository and organisation secrets are readable by every job of every workflow on any
    /// branch a writer pushes. Environment secrets are released only to jobs that name the
    /// environment, and only after its protection rules (required reviewers, branch and tag
    /// restrictions, wait timers) pass.
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
    ///           TOKEN: ${{ secrets.DEPLOY_TOKEN }}
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
    ///     environment: production
    ///     steps:
    ///       - run: ./deploy.sh
    ///         env:
    ///           TOKEN: ${{ secrets.DEPLOY_TOKEN }}
    /// ```
    ///
    /// ## Options
    ///
    /// `allow`: secret names (case-insensitive) that may be used outside an environment, such
    /// as a token that only reads public data.
    ///
    /// ```toml
    /// [audits.secrets-outside-env]
    /// allow = ["CODECOV_TOKEN"]
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: create an environment with protection rules, move the secret into it,
    /// and add `environment:` to the job.
    pub struct SecretsOutsideEnv {
        id: "secrets-outside-env",
        summary: "secrets used by a job without a deployment environment",
        severity: Medium,
        confidence: High,
        persona: Auditor,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

impl Audit for SecretsOutsideEnv {
    fn options_schema(&self) -> serde_json::Map<String, serde_json::Value> {
        let allow = serde_json::json!({
            "description": "secret names that may be used outside a deployment environment",
            "type": "array",
            "items": { "type": "string" },
        });
        [("allow".to_owned(), allow)].into_iter().collect()
    }

    fn validate_options(&self, options: &toml::Table) -> Result<(), InvalidOption> {
        if let Some(key) = options.keys().find(|k| k.as_str() != "allow") {
            return Err(InvalidOption::new(format!(
                "`secrets-outside-env` has no option `{key}`; it takes `allow`"
            )));
        }
        allowed(options).map(|_| ())
    }

    fn job<'a>(
        &self,
        cx: &AuditContext<'_>,
        wf: &Workflow<'a>,
        job: &Job<'a>,
        out: &mut Vec<Finding>,
    ) {
        if wf.has_trigger("workflow_call")
            || matches!(job.kind, JobKind::Reusable { .. })
            || job.get("environment").is_some()
        {
            return;
        }
        let allow = allowed(cx.options).unwrap_or_default();
        // The job is read as YAML: its steps that never run (`if: false`) are skipped here as
        // the models skip them everywhere else.
        let off: Vec<Span> = job
            .get("steps")
            .into_iter()
            .flat_map(|steps| steps.items())
            .filter(|step| is_disabled(*step))
            .map(|step| step.span())
            .collect();
        let live = scalars_under(job.node)
            .into_iter()
            .filter(|n| !off.iter().any(|o| o.contains(n.span())));
        for scalar in live {
            for (span, inner) in expressions_in(wf.file, scalar) {
                for SecretRef { at, raw, name } in
                    secret_refs(inner, Within::Expression, GithubToken::Keep)
                {
                    if name.is_some_and(|n| {
                        n.eq_ignore_ascii_case("GITHUB_TOKEN")
                            || allow.iter().any(|a| a.eq_ignore_ascii_case(n))
                    }) {
                        continue;
                    }
                    let start = span.start + 3 + at;
                    let what =
                        name.map_or_else(|| "every secret".to_owned(), |n| format!("secret `{n}`"));
                    out.push(Finding::new(
                        &Self::META,
                        format!(
                            "{what} used by job `{}`, which has no deployment environment",
                            job.id
                        ),
                        Location::file(
                            wf.file,
                            Span::new(start, start + raw.len()),
                            job.route.clone(),
                            "secret used outside of a dedicated environment",
                        ),
                    ));
                }
            }
        }
    }
}

/// The `allow` option: secret names that may be used outside an environment.
fn allowed(options: &toml::Table) -> Result<Vec<String>, InvalidOption> {
    let Some(value) = options.get("allow") else {
        return Ok(Vec::new());
    };
    value
        .as_array()
        .and_then(|names| {
            names
                .iter()
                .map(|n| n.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| InvalidOption::new("`allow` must be a list of secret names"))
}
