use ciguard_core::{AuditMeta, declare_audit};

use super::{Check, Cx, Outcome, bypass_unknown, finding, join_and, relevant, subject};
use crate::gather::Repo;

declare_audit! {
    /// ## What it does
    ///
    /// Checks that the default branch is protected by an `active` ruleset (its own or one inherited
    /// from the organization), or by classic branch protection that includes administrators, that
    /// forbids force pushes (`non_fast_forward`) and deletion and requires a pull request with at
    /// least one approval. Rulesets in `evaluate` or `disabled` enforcement do not count.
    ///
    /// ## Why is this bad?
    ///
    /// Without it, anyone with write access (or a leaked token) can push straight to the branch
    /// releases are built from, rewrite its history or delete it.
    ///
    /// ## Example
    ///
    /// ```json
    /// { "name": "main", "target": "branch", "enforcement": "evaluate",
    ///   "conditions": { "ref_name": { "include": ["~DEFAULT_BRANCH"], "exclude": [] } },
    ///   "rules": [{ "type": "non_fast_forward" }] }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "name": "main", "target": "branch", "enforcement": "active", "bypass_actors": [],
    ///   "conditions": { "ref_name": { "include": ["~DEFAULT_BRANCH"], "exclude": [] } },
    ///   "rules": [{ "type": "deletion" }, { "type": "non_fast_forward" },
    ///             { "type": "pull_request", "parameters": { "required_approving_review_count": 1 } }] }
    /// ```
    ///
    /// ## Fix
    ///
    /// `ciguard settings recommend` writes such a ruleset; import it under Settings → Rules.
    pub struct SettingsDefaultBranch {
        id: "settings-default-branch",
        summary: "default branch not protected against force pushes, deletion and unreviewed changes",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

/// The three requirements, with what satisfies each in a ruleset.
const NEEDS: [(&str, &str); 3] = [
    ("non_fast_forward", "force pushes"),
    ("deletion", "deletion"),
    ("pull_request", "changes without an approved pull request"),
];

fn ruleset_meets(rs: &crate::gather::Ruleset, need: &str) -> bool {
    match rs.rule(need) {
        Some(r) if need == "pull_request" => {
            r.parameters
                .get("required_approving_review_count")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
                >= 1
        }
        Some(_) => true,
        None => false,
    }
}

impl Check for SettingsDefaultBranch {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn repo(&self, cx: &Cx<'_>, repo: &Repo, out: &mut Outcome) {
        let full_ref = format!("refs/heads/{}", repo.default_branch);
        let rulesets = match &repo.rulesets {
            Ok(r) => r.as_slice(),
            Err(u) => {
                out.unknown(u);
                &[]
            }
        };
        let active = relevant(repo, rulesets, "branch", &full_ref);
        let mut missing = Vec::new();
        let mut unsure = Vec::new();
        for (need, what) in NEEDS {
            let by_known = active
                .iter()
                .any(|rs| rs.bypass_actors.is_some() && ruleset_meets(rs, need));
            let by_classic = matches!(&repo.classic, Ok(Some(c)) if c.enforce_admins && match need {
                "non_fast_forward" => !c.allow_force_pushes,
                "deletion" => !c.allow_deletions,
                _ => c.required_approvals.unwrap_or(0) >= 1,
            });
            if by_known || by_classic {
                continue;
            }
            let unsure_rulesets: Vec<_> = active
                .iter()
                .filter(|rs| rs.bypass_actors.is_none() && ruleset_meets(rs, need))
                .collect();
            if !unsure_rulesets.is_empty() {
                unsure.extend(unsure_rulesets.iter().map(|rs| bypass_unknown(rs)));
            } else if let Err(u) = &repo.classic {
                unsure.push(u.clone());
            } else if let Err(u) = &repo.rulesets {
                unsure.push(u.clone());
            } else {
                missing.push(what.to_owned());
            }
        }
        if missing.is_empty() {
            for u in &unsure {
                out.unknown(u);
            }
            return;
        }
        let mut msg = format!(
            "default branch \"{}\" allows {}",
            repo.default_branch,
            join_and(&missing)
        );
        let inactive: Vec<_> = rulesets
            .iter()
            .filter(|rs| {
                rs.target == "branch"
                    && !rs.is_active()
                    && super::applies(rs, &full_ref, &repo.default_branch)
            })
            .collect();
        if let Some(rs) = inactive.first() {
            msg.push_str(&format!(
                " (ruleset \"{}\" is in `{}` mode and enforces nothing)",
                rs.name, rs.enforcement
            ));
        }
        let mut f = match active.first().or(inactive.first()) {
            Some(rs) => finding(
                &Self::META,
                msg,
                subject(repo, &format!("ruleset \"{}\" → rules", rs.name)),
                cx.ruleset_url(repo, rs),
                "protection incomplete",
            ),
            None => finding(
                &Self::META,
                msg,
                subject(repo, &format!("branch \"{}\"", repo.default_branch)),
                cx.repo_url(repo, "rules"),
                "no active ruleset",
            ),
        };
        for rs in inactive.iter().skip(1) {
            f = f.related(ciguard_core::Location::setting(
                subject(repo, &format!("ruleset \"{}\"", rs.name)),
                cx.ruleset_url(repo, rs),
                "not enforced",
            ));
        }
        out.findings.push(f);
    }
}
