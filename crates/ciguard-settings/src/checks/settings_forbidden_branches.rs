use ciguard_core::{AuditMeta, declare_audit};
use serde_json::Value;

use super::{Check, Cx, Outcome, bypass_unknown, finding, relevant, sample, subject};
use crate::gather::{Repo, Ruleset};

declare_audit! {
    /// ## What it does
    ///
    /// Checks that an active branch ruleset forbids creating branches whose names match the
    /// configured patterns (option `forbidden_branches`, default `advisory-*` and `internal-*`),
    /// with the `creation` rule or a `branch_name_pattern` rule that rejects the name.
    ///
    /// ## Why is this bad?
    ///
    /// Security fixes belong in a private fork of a security advisory. A branch named for one and
    /// pushed to the public repository by mistake discloses the vulnerability before the release.
    ///
    /// ## Example
    ///
    /// ```json
    /// []
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "name": "forbidden branch names", "target": "branch", "enforcement": "active", "bypass_actors": [],
    ///   "conditions": { "ref_name": { "include": ["refs/heads/advisory-*", "refs/heads/internal-*"], "exclude": [] } },
    ///   "rules": [{ "type": "creation" }] }
    /// ```
    ///
    /// ## Fix
    ///
    /// `ciguard settings recommend` writes such a ruleset.
    pub struct SettingsForbiddenBranches {
        id: "settings-forbidden-branches",
        summary: "branches for private security work can be created in the repository",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

/// Whether a `branch_name_pattern` rule rejects `name`.
fn name_rule_rejects(rs: &Ruleset, name: &str) -> bool {
    rs.rules
        .iter()
        .filter(|r| r.kind == "branch_name_pattern")
        .any(|r| {
            let p = &r.parameters;
            let pattern = p.get("pattern").and_then(Value::as_str).unwrap_or("");
            let negate = p.get("negate").and_then(Value::as_bool).unwrap_or(false);
            let hit = match p.get("operator").and_then(Value::as_str) {
                Some("starts_with") => name.starts_with(pattern),
                Some("ends_with") => name.ends_with(pattern),
                Some("contains") => name.contains(pattern),
                _ => return false,
            };
            // The rule requires names to match (or, negated, not to match) the pattern.
            hit == negate
        })
}

impl Check for SettingsForbiddenBranches {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn repo(&self, cx: &Cx<'_>, repo: &Repo, out: &mut Outcome) {
        let rulesets = match &repo.rulesets {
            Ok(r) => r,
            Err(u) => return out.unknown(u),
        };
        for pattern in &cx.options.forbidden_branches {
            let name = sample(pattern, "example");
            let full_ref = format!("refs/heads/{name}");
            let blocking: Vec<_> = relevant(repo, rulesets, "branch", &full_ref)
                .into_iter()
                .filter(|rs| rs.rule("creation").is_some() || name_rule_rejects(rs, &name))
                .collect();
            if blocking.iter().any(|rs| rs.bypass_actors.is_some()) {
                continue;
            }
            if let Some(rs) = blocking.first() {
                out.unknown(&bypass_unknown(rs));
                continue;
            }
            out.findings.push(finding(
                &Self::META,
                format!(
                    "branches named \"{pattern}\" can be created; no active ruleset forbids them"
                ),
                subject(repo, &format!("branch names \"{pattern}\"")),
                cx.repo_url(repo, "rules"),
                "creation allowed",
            ));
        }
    }
}
