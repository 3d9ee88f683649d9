use ciguard_core::{AuditMeta, Severity, declare_audit};
use serde_json::Value;

use super::{Check, Cx, Outcome, finding, subject};
use crate::gather::{Repo, Unknown};
use crate::server::Feature;

declare_audit! {
    /// ## What it does
    ///
    /// Checks the repository's GitHub Actions settings: the `GITHUB_TOKEN` is read-only by default
    /// (`default_workflow_permissions: read`), workflows cannot approve pull requests
    /// (`can_approve_pull_request_reviews: false`), actions must be pinned to a full commit SHA
    /// (`sha_pinning_required: true`), and not every action is allowed (`allowed_actions` other than
    /// `all`, unless the option `allow_all_actions_reason` says why).
    ///
    /// ## Why is this bad?
    ///
    /// A write-all default token hands every workflow, and every action it runs, push access; a
    /// workflow that can approve pull requests defeats required reviews; unpinned or arbitrary
    /// actions run whatever their owners publish next.
    ///
    /// ## Example
    ///
    /// ```json
    /// { "default_workflow_permissions": "write", "can_approve_pull_request_reviews": true }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "default_workflow_permissions": "read", "can_approve_pull_request_reviews": false }
    /// ```
    ///
    /// ## Fix
    ///
    /// Settings → Actions → General, or `ciguard settings recommend --apply`.
    pub struct SettingsActions {
        id: "settings-actions",
        summary: "github actions settings give workflows more than they need",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

impl Check for SettingsActions {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn repo(&self, cx: &Cx<'_>, repo: &Repo, out: &mut Outcome) {
        let url = cx.repo_url(repo, "actions");
        let mut report = |field: &str, msg: String, severity: Severity| {
            out.findings.push(
                finding(
                    &Self::META,
                    msg,
                    subject(repo, &format!("actions → {field}")),
                    url.clone(),
                    field,
                )
                .severity(severity),
            );
        };
        let mut unknowns = Vec::new();
        match &repo.workflow {
            Ok(w) => {
                let perms = w
                    .get("default_workflow_permissions")
                    .and_then(Value::as_str)
                    .unwrap_or("write");
                if perms != "read" {
                    report(
                        "default_workflow_permissions",
                        format!("the GITHUB_TOKEN has `{perms}` permissions by default"),
                        Severity::High,
                    );
                }
                if w.get("can_approve_pull_request_reviews")
                    .and_then(Value::as_bool)
                    != Some(false)
                {
                    report(
                        "can_approve_pull_request_reviews",
                        "workflows can approve pull requests".into(),
                        Severity::High,
                    );
                }
            }
            Err(u) => unknowns.push(u.clone()),
        }
        match &repo.actions {
            Ok(a) if a.get("enabled").and_then(Value::as_bool) == Some(false) => {}
            Ok(a) => {
                match a.get("sha_pinning_required").and_then(Value::as_bool) {
                    Some(true) => {}
                    Some(false) => report(
                        "sha_pinning_required",
                        "actions may be used without pinning them to a full commit sha".into(),
                        Severity::Medium,
                    ),
                    // Absent: this GHES version has no such setting, or the answer omits it.
                    None => unknowns.push(sha_pinning_unknown(repo)),
                }
                let allowed = a
                    .get("allowed_actions")
                    .and_then(Value::as_str)
                    .unwrap_or("all");
                if allowed == "all" && cx.options.allow_all_actions_reason.is_none() {
                    report(
                        "allowed_actions",
                        "every action and reusable workflow is allowed to run".into(),
                        Severity::Medium,
                    );
                }
            }
            Err(u) => unknowns.push(u.clone()),
        }
        for u in &unknowns {
            out.unknown(u);
        }
    }
}

fn sha_pinning_unknown(repo: &Repo) -> Unknown {
    let what = format!(
        "repos/{}/actions/permissions → sha_pinning_required",
        repo.full_name()
    );
    if repo.server.has(Feature::ShaPinningRequired) {
        Unknown::new(what, None, None)
    } else {
        Unknown::not_on_server(what)
    }
}
