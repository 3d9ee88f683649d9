use ciguard_core::{AuditMeta, declare_audit};
use serde_json::Value;

use super::{
    Check, Cx, Outcome, bypass_unknown, finding, join_and, release_environment_name, relevant,
    sample, subject,
};
use crate::gather::{Repo, Ruleset};

declare_audit! {
    /// ## What it does
    ///
    /// Checks that an active tag ruleset covering the release tags (option `release_tags`, default
    /// `v*`) forbids their update and deletion and restricts their creation with
    /// `required_deployments` on the release environment.
    ///
    /// ## Why is this bad?
    ///
    /// Users and package managers trust release tags. If a tag can be moved or deleted, a
    /// compromised account can point a published version at other code; if anyone with write
    /// access can create one, a release can happen without the approval the environment requires.
    ///
    /// ## Example
    ///
    /// ```json
    /// { "name": "release tags", "target": "tag", "enforcement": "active", "bypass_actors": [],
    ///   "conditions": { "ref_name": { "include": ["refs/tags/v*"], "exclude": [] } },
    ///   "rules": [{ "type": "deletion" }, { "type": "update" }] }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "name": "release tags", "target": "tag", "enforcement": "active", "bypass_actors": [],
    ///   "conditions": { "ref_name": { "include": ["refs/tags/v*"], "exclude": [] } },
    ///   "rules": [{ "type": "deletion" }, { "type": "update" },
    ///             { "type": "required_deployments", "parameters": { "required_deployment_environments": ["release"] } }] }
    /// ```
    ///
    /// ## Fix
    ///
    /// `ciguard settings recommend` writes such a ruleset.
    pub struct SettingsReleaseTags {
        id: "settings-release-tags",
        summary: "release tags can be moved, deleted or created without an approved deployment",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

/// Whether a ruleset meets one requirement.
type Meets<'a> = dyn Fn(&Ruleset) -> bool + 'a;

fn deploys_to(rs: &Ruleset, env: &str) -> bool {
    rs.rule("required_deployments")
        .and_then(|r| r.parameters.get("required_deployment_environments"))
        .and_then(Value::as_array)
        .is_some_and(|envs| {
            envs.iter()
                .any(|e| e.as_str().is_some_and(|e| e.eq_ignore_ascii_case(env)))
        })
}

impl Check for SettingsReleaseTags {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn repo(&self, cx: &Cx<'_>, repo: &Repo, out: &mut Outcome) {
        let rulesets = match &repo.rulesets {
            Ok(r) => r,
            Err(u) => return out.unknown(u),
        };
        let env = release_environment_name(cx.options, repo);
        for pattern in &cx.options.release_tags {
            let full_ref = format!("refs/tags/{}", sample(pattern, "1.0.0"));
            let active = relevant(repo, rulesets, "tag", &full_ref);
            let needs: [(&str, &Meets<'_>); 3] = [
                ("updates", &|rs| rs.rule("update").is_some()),
                ("deletion", &|rs| rs.rule("deletion").is_some()),
                (
                    "creation without a deployment to the release environment",
                    &|rs| deploys_to(rs, &env),
                ),
            ];
            let mut missing = Vec::new();
            for (what, meets) in needs {
                if active
                    .iter()
                    .any(|rs| rs.bypass_actors.is_some() && meets(rs))
                {
                    continue;
                }
                match active.iter().find(|rs| meets(rs)) {
                    Some(rs) => out.unknown(&bypass_unknown(rs)),
                    None => missing.push(what.to_owned()),
                }
            }
            if missing.is_empty() {
                continue;
            }
            let mut msg = format!("release tags \"{pattern}\" allow {}", join_and(&missing));
            if missing.iter().any(|m| m.starts_with("creation"))
                && active
                    .iter()
                    .any(|rs| rs.rule("required_deployments").is_some())
            {
                msg.push_str(&format!(
                    " (required_deployments does not name environment \"{env}\")"
                ));
            }
            out.findings.push(match active.first() {
                Some(rs) => finding(
                    &Self::META,
                    msg,
                    subject(repo, &format!("ruleset \"{}\" → rules", rs.name)),
                    cx.ruleset_url(repo, rs),
                    "tag protection incomplete",
                ),
                None => finding(
                    &Self::META,
                    msg,
                    subject(repo, &format!("tags \"{pattern}\"")),
                    cx.repo_url(repo, "rules"),
                    "no active tag ruleset",
                ),
            });
        }
    }
}
