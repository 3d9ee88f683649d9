use ciguard_core::{AuditMeta, Severity, declare_audit};

use super::{Check, Cx, Outcome, applies, bypass_unknown, finding, subject};
use crate::gather::Repo;

declare_audit! {
    /// ## What it does
    ///
    /// Checks who can bypass the active rulesets of the repository: repository roles (admin is
    /// `RepositoryRole` 5), organization admins and teams (unless listed in `bypass_teams`), and any
    /// actor in `exempt` mode, which bypasses silently. It also reports a default branch whose only
    /// protection leaves administrators out (classic protection without `enforce_admins`) or that
    /// has no protection at all, since then administrators can do anything to it.
    ///
    /// ## Why is this bad?
    ///
    /// A bypass turns every protection into a suggestion for the accounts that are most worth
    /// stealing: an admin's token can force-push the release branch or move a release tag.
    ///
    /// ## Example
    ///
    /// ```json
    /// { "name": "main", "enforcement": "active",
    ///   "bypass_actors": [{ "actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always" }] }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "name": "main", "enforcement": "active", "bypass_actors": [] }
    /// ```
    ///
    /// ## Fix
    ///
    /// Remove the bypass actors from the ruleset; give automation a GitHub App with a narrow bypass
    /// in `pull_request` mode instead if it must push.
    pub struct SettingsBypass {
        id: "settings-bypass",
        summary: "repository or organization admins or broad teams can bypass rulesets",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

impl Check for SettingsBypass {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn repo(&self, cx: &Cx<'_>, repo: &Repo, out: &mut Outcome) {
        let rulesets = match &repo.rulesets {
            Ok(r) => r.as_slice(),
            Err(u) => {
                out.unknown(u);
                return;
            }
        };
        for rs in rulesets.iter().filter(|rs| rs.is_active()) {
            let Some(actors) = &rs.bypass_actors else {
                out.unknown(&bypass_unknown(rs));
                continue;
            };
            for (i, a) in actors.iter().enumerate() {
                let who = match (a.actor_type.as_str(), a.actor_id) {
                    ("RepositoryRole", Some(5)) => "repository admins".to_owned(),
                    ("RepositoryRole", Some(2)) => "the maintain role".to_owned(),
                    ("RepositoryRole", Some(4)) => "the write role".to_owned(),
                    ("RepositoryRole", id) => format!("repository role {}", id.unwrap_or_default()),
                    ("OrganizationAdmin", _) => "organization admins".to_owned(),
                    ("EnterpriseOwner", _) => "enterprise owners".to_owned(),
                    ("Team", Some(id)) if !cx.options.bypass_teams.contains(&id) => {
                        format!("team {id}")
                    }
                    _ if a.bypass_mode == "exempt" => {
                        format!("{} {}", a.actor_type, a.actor_id.unwrap_or_default())
                    }
                    _ => continue,
                };
                let mode = if a.bypass_mode == "exempt" {
                    " silently (`exempt` mode)".to_owned()
                } else {
                    format!(" (`{}` mode)", a.bypass_mode)
                };
                let msg = format!("{who} can bypass ruleset \"{}\"{mode}", rs.name);
                let mut f = finding(
                    &Self::META,
                    msg,
                    subject(
                        repo,
                        &format!("ruleset \"{}\" → bypass_actors[{i}]", rs.name),
                    ),
                    cx.ruleset_url(repo, rs),
                    "bypass",
                );
                if a.bypass_mode == "pull_request" {
                    f = f.severity(Severity::Medium);
                }
                out.findings.push(f);
            }
        }
        let full_ref = format!("refs/heads/{}", repo.default_branch);
        let protected = rulesets.iter().any(|rs| {
            rs.target == "branch" && rs.is_active() && applies(rs, &full_ref, &repo.default_branch)
        });
        if protected {
            return;
        }
        match &repo.classic {
            Err(u) => out.unknown(u),
            Ok(Some(c)) if c.enforce_admins => {}
            Ok(classic) => {
                let how = if classic.is_some() {
                    "branch protection does not include administrators"
                } else {
                    "nothing protects it"
                };
                out.findings.push(finding(
                    &Self::META,
                    format!(
                        "repository admins can push anything to default branch \"{}\": {how}",
                        repo.default_branch
                    ),
                    subject(repo, &format!("branch \"{}\"", repo.default_branch)),
                    cx.repo_url(
                        repo,
                        if classic.is_some() {
                            "branches"
                        } else {
                            "rules"
                        },
                    ),
                    "admins unrestricted",
                ));
            }
        }
    }
}
