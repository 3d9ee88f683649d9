use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, is_expression_str, toolkit_bool};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location};
use crate::models::{Job, Step, Uses};

declare_audit! {
    /// ## What it does
    ///
    /// Reports `actions/create-github-app-token` steps that mint broader or longer-lived tokens
    /// than needed: no `permission-<scope>` input (the token gets every permission of the
    /// installation), `owner:` without `repositories:` (every repository of the installation,
    /// unless the token asks only for organization permissions such as `permission-members`),
    /// and `skip-token-revoke: true` (the token stays valid for an hour after the job).
    ///
    /// ## Why is this bad?
    ///
    /// A GitHub App installation usually holds far more than one job needs, across many
    /// repositories. A token that carries all of it turns any code that reads it (an
    /// injected script, a compromised action) into write access to the organisation.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   sync:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/create-github-app-token@d72941d797fd3113feb6b93fd0dec494b13a2547 # v1.12.0
    ///         with:
    ///           app-id: ${{ vars.APP_ID }}
    ///           private-key: ${{ secrets.APP_KEY }}
    ///           owner: acme
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   sync:
    ///     runs-on: ubuntu-latest
    ///     environment: sync
    ///     steps:
    ///       - uses: actions/create-github-app-token@d72941d797fd3113feb6b93fd0dec494b13a2547 # v1.12.0
    ///         with:
    ///           app-id: ${{ vars.APP_ID }}
    ///           private-key: ${{ secrets.APP_KEY }}
    ///           owner: acme
    ///           repositories: website
    ///           permission-contents: write
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: name the repositories and the `permission-<scope>` inputs the job needs,
    /// and leave token revocation on.
    pub struct GithubApp {
        id: "github-app",
        summary: "GitHub App tokens broader or longer-lived than needed",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for GithubApp {
    fn step(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        _job: Option<&Job<'_>>,
        step: &Step<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), step, out);
    }
}

fn check(file: &File, step: &Step<'_>, out: &mut Vec<Finding>) {
    let (Some(uses), Some(Uses::Repository(r))) = (step.uses, step.uses_ref()) else {
        return;
    };
    if !r
        .slug()
        .eq_ignore_ascii_case("actions/create-github-app-token")
        || r.path.is_some()
    {
        return;
    }
    let uses_loc = || {
        Location::file(
            file,
            uses.span(),
            step.route.key("uses"),
            "app token requested here",
        )
    };
    let Some(with) = step.with else {
        out.push(Finding::new(
            &GithubApp::META,
            "app token inherits every permission of the installation",
            uses_loc(),
        ));
        return;
    };
    let entry = |key: &str| with.entry(key).map(|(k, v)| (k.span().cover(v.span()), v));
    if let Some((span, value)) = entry("skip-token-revoke") {
        let confidence = match toolkit_bool(value) {
            Some(true) => Some(Confidence::High),
            None if value.as_str().is_some_and(|s| s.contains("${{")) => Some(Confidence::Low),
            _ => None,
        };
        if let Some(c) = confidence {
            out.push(
                Finding::new(
                    &GithubApp::META,
                    "app token is not revoked when the job ends",
                    Location::file(
                        file,
                        span,
                        step.route.key("with").key("skip-token-revoke"),
                        "token revocation disabled here",
                    ),
                )
                .confidence(c)
                .related(uses_loc()),
            );
        }
    }
    let has = |key: &str| with.get(key).is_some();
    let permissions: Vec<&str> = with
        .entries()
        .filter_map(|(k, _)| k.as_str()?.strip_prefix("permission-"))
        .collect();
    // A token that asks only for organization permissions reaches no repository.
    let org_only = !permissions.is_empty() && permissions.iter().all(|p| is_org_permission(p));
    if let Some((span, _)) =
        entry("owner").filter(|_| !has("repositories") && !has("repository") && !org_only)
    {
        out.push(
            Finding::new(
                &GithubApp::META,
                "app token can reach every repository of the owner's installation",
                Location::file(
                    file,
                    span,
                    step.route.key("with").key("owner"),
                    "no `repositories:` to narrow it",
                ),
            )
            .related(uses_loc()),
        );
    }
    let scoped = with
        .entries()
        .any(|(k, _)| k.as_str().is_some_and(|k| k.starts_with("permission-")));
    if !scoped && !is_expression_str(file.slice(with.span())) {
        out.push(Finding::new(
            &GithubApp::META,
            "app token inherits every permission of the installation",
            uses_loc(),
        ));
    }
}

/// GitHub App permissions of the organization, not of its repositories (`members`,
/// `organization-*`, `team-discussions`).
fn is_org_permission(name: &str) -> bool {
    matches!(name, "members" | "team-discussions") || name.starts_with("organization-")
}
