use ciguard_core::{AuditMeta, declare_audit};

use super::{Check, Cx, Outcome, finding, release_environment_name, subject};
use crate::fnmatch::fnmatch;
use crate::gather::{Repo, Unknown};

declare_audit! {
    /// ## What it does
    ///
    /// Checks the release environment (option `release_environment`; by default the first of
    /// `release`, `publish`, `pypi`, `npm`, `crates-io`, `production` that exists): it must exist,
    /// have required reviewers with `prevent_self_review: true`, not let admins bypass it
    /// (`can_admins_bypass: false`), and allow deployments only from the default branch or release
    /// tags (a custom deployment branch policy).
    ///
    /// ## Why is this bad?
    ///
    /// The environment is where publishing credentials and trusted-publishing identities live. If
    /// anyone can deploy to it from any branch without a second person's approval, one stolen
    /// account or one malicious pull request branch is enough to publish a release.
    ///
    /// ## Example
    ///
    /// ```json
    /// { "name": "release", "protection_rules": [], "deployment_branch_policy": null, "can_admins_bypass": true }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "name": "release", "can_admins_bypass": false,
    ///   "protection_rules": [{ "type": "required_reviewers", "prevent_self_review": true,
    ///                          "reviewers": [{ "type": "Team", "reviewer": { "id": 1 } }] }],
    ///   "deployment_branch_policy": { "protected_branches": false, "custom_branch_policies": true } }
    /// ```
    ///
    /// ## Fix
    ///
    /// Settings → Environments, or `ciguard settings recommend --apply --reviewer team:ID`.
    pub struct SettingsReleaseEnvironment {
        id: "settings-release-environment",
        summary: "release environment missing or deployable without an independent approval",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

impl Check for SettingsReleaseEnvironment {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn repo(&self, cx: &Cx<'_>, repo: &Repo, out: &mut Outcome) {
        let envs = match &repo.environments {
            Ok(e) => e,
            Err(u) => return out.unknown(u),
        };
        let name = release_environment_name(cx.options, repo);
        // Environment names are case-insensitive on GitHub (`Release` is `release`).
        let Some(env) = envs.iter().find(|e| e.name.eq_ignore_ascii_case(&name)) else {
            out.findings.push(finding(
                &Self::META,
                format!("there is no release environment \"{name}\" to gate publishing"),
                subject(repo, &format!("environment \"{name}\"")),
                cx.repo_url(repo, "environments"),
                "missing",
            ));
            return;
        };
        let url = cx.repo_url(repo, "environments");
        let at = |field: &str| subject(repo, &format!("environment \"{name}\" → {field}"));
        let mut problems: Vec<(String, String)> = Vec::new();
        match env.reviewers {
            Some(n) if n > 0 => {
                if !env.prevent_self_review {
                    problems.push((
                        "prevent_self_review".into(),
                        "whoever triggers a deployment can approve it".into(),
                    ));
                }
            }
            _ => problems.push((
                "protection_rules".into(),
                "deployments need no reviewer's approval".into(),
            )),
        }
        match env.can_admins_bypass {
            Some(true) => problems.push((
                "can_admins_bypass".into(),
                "administrators can bypass its protection rules".into(),
            )),
            Some(false) => {}
            None => out.unknown(&Unknown::new(
                format!(
                    "repos/{}/environments → {} → can_admins_bypass",
                    repo.full_name(),
                    env.name
                ),
                None,
                None,
            )),
        }
        match env.branch_policy {
            None => problems.push((
                "deployment_branch_policy".into(),
                "any branch can deploy to it".into(),
            )),
            Some((true, _)) => problems.push((
                "deployment_branch_policy".into(),
                "every protected branch can deploy to it".into(),
            )),
            Some((false, _)) => match &env.policies {
                Err(u) => out.unknown(u),
                Ok(policies) => {
                    let tag_ok = |p: &str| {
                        cx.options
                            .release_tags
                            .iter()
                            .any(|t| t == p || fnmatch(p, &super::sample(t, "1.0.0")))
                    };
                    for p in policies {
                        let fine = if p.kind == "tag" {
                            tag_ok(&p.name)
                        } else {
                            p.name == repo.default_branch
                        };
                        if !fine {
                            problems.push((
                                "deployment_branch_policy".into(),
                                format!("{} \"{}\" can deploy to it; only the default branch and release tags should", p.kind, p.name),
                            ));
                        }
                    }
                }
            },
        }
        for (field, what) in problems {
            out.findings.push(finding(
                &Self::META,
                format!("release environment \"{name}\": {what}"),
                at(&field),
                url.clone(),
                &field,
            ));
        }
    }
}
