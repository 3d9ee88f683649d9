//! The gate's decision, a pure function of what was read: approve only when every condition
//! holds; each condition says what it checked, so a rejection names the one that failed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{GateConfig, GateTarget};

/// `GET /repos/{o}/{r}/actions/runs/{id}`, the fields the gate reads.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Run {
    pub id: u64,
    pub path: String,
    pub head_sha: String,
    #[serde(default)]
    pub head_branch: Option<String>,
    pub event: String,
    #[serde(default)]
    pub run_attempt: u64,
    pub triggering_actor: User,
    pub repository: RunRepository,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RunRepository {
    pub id: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct User {
    pub login: String,
    pub id: u64,
}

/// One entry of `GET .../actions/runs/{id}/approvals`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Approval {
    pub state: String,
    pub environments: Vec<Environment>,
    pub user: User,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Environment {
    pub name: String,
}

/// What the gate read about a run.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    pub run: Run,
    pub approvals: Vec<Approval>,
    /// The commit the run's tag points at, when the run is on a tag (`None`: no such tag).
    pub tag_commit: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
}

fn condition(name: &'static str, ok: bool, detail: String) -> Condition {
    Condition { name, ok, detail }
}

/// Whether the gate approves, and every condition it checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub approved: bool,
    pub conditions: Vec<Condition>,
}

impl Decision {
    /// A rejection that needed no reading (no configuration, another environment).
    pub fn reject(name: &'static str, detail: String) -> Self {
        Decision {
            approved: false,
            conditions: vec![condition(name, false, detail)],
        }
    }

    pub fn state(&self) -> &'static str {
        if self.approved {
            "approved"
        } else {
            "rejected"
        }
    }

    /// The review comment: the failed conditions by name, or what held. Plain text, escaped,
    /// at most `MAX_COMMENT` characters.
    pub fn comment(&self) -> String {
        let text = if self.approved {
            let held: Vec<&str> = self.conditions.iter().map(|c| c.name).collect();
            format!("ciguard release gate: approved ({} hold)", held.join(", "))
        } else {
            let failed: Vec<String> = self
                .conditions
                .iter()
                .filter(|c| !c.ok)
                .map(|c| format!("{}: {}", c.name, c.detail))
                .collect();
            format!("ciguard release gate: rejected: {}", failed.join("; "))
        };
        ciguard_core::output::escape::text(&text)
            .chars()
            .take(MAX_COMMENT)
            .collect()
    }
}

/// Longest review comment sent.
pub const MAX_COMMENT: usize = 1000;

/// `*` any characters (also none), `?` one character; everything else literally.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matching with one backtrack point: linear in practice, no recursion.
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A ref name that may be put in a URL path: what git allows, minus anything that could step
/// out of the path.
pub fn is_safe_ref_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.contains("..")
        && !name.starts_with('/')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./+".contains(&b))
}

/// The decision for `target` under `config` with what was read.
pub fn decide(config: &GateConfig, target: &GateTarget, evidence: &Evidence) -> Decision {
    let run = &evidence.run;
    let branch = run.head_branch.as_deref().unwrap_or("");
    let mut conditions = vec![
        condition(
            "environment",
            target.environment == config.environment,
            format!(
                "{} is the configured release environment {}",
                target.environment, config.environment
            ),
        ),
        condition(
            "repository",
            run.repository.id == target.repository_id && run.id == target.run_id,
            format!(
                "run {} belongs to repository {} (expected run {} of {})",
                run.id, run.repository.id, target.run_id, target.repository_id
            ),
        ),
        condition(
            "workflow",
            run.path == config.workflow,
            format!("the run's workflow {} is {}", run.path, config.workflow),
        ),
        ref_condition(config, target, evidence),
        condition(
            "sha",
            target.sha.as_deref() == Some(run.head_sha.as_str()),
            format!(
                "the deployment's commit {} is the run's head {}",
                target.sha.as_deref().unwrap_or("(none)"),
                run.head_sha
            ),
        ),
        approval_condition(config, evidence),
    ];
    if !config.events.is_empty() {
        conditions.push(condition(
            "event",
            config.events.contains(&run.event),
            format!(
                "the run's event {} is one of {}",
                run.event,
                config.events.join(", ")
            ),
        ));
    }
    if let Some(event) = &target.event {
        conditions.push(condition(
            "delivery",
            *event == run.event
                && target
                    .git_ref
                    .as_deref()
                    .is_none_or(|r| short_ref(r) == branch),
            format!(
                "the delivery's event {event} and ref {} are the run's {} and {branch}",
                target.git_ref.as_deref().unwrap_or("(none)"),
                run.event
            ),
        ));
    }
    Decision {
        approved: conditions.iter().all(|c| c.ok),
        conditions,
    }
}

fn short_ref(r: &str) -> &str {
    r.strip_prefix("refs/tags/")
        .or_else(|| r.strip_prefix("refs/heads/"))
        .unwrap_or(r)
}

/// A tag matching the pattern that points at the run's head commit, or (when allowed) the
/// default branch.
fn ref_condition(config: &GateConfig, target: &GateTarget, evidence: &Evidence) -> Condition {
    let run = &evidence.run;
    let branch = run.head_branch.as_deref().unwrap_or("");
    let tag_ok = config
        .tags
        .as_deref()
        .is_some_and(|p| glob_matches(p, branch))
        && evidence.tag_commit.as_deref() == Some(run.head_sha.as_str());
    let default_ok = config.default_branch
        && !target.default_branch.is_empty()
        && branch == target.default_branch
        && evidence.tag_commit.is_none()
        && !run.event.starts_with("pull_request");
    let allowed = match (&config.tags, config.default_branch) {
        (Some(p), true) => format!("a tag matching {p} at the run's head, or the default branch"),
        (Some(p), false) => format!("a tag matching {p} at the run's head"),
        (None, true) => "the default branch".to_owned(),
        (None, false) => "nothing (neither tags nor default-branch is configured)".to_owned(),
    };
    let found = match &evidence.tag_commit {
        Some(commit) => format!("{branch} (a tag at {commit})"),
        None => format!("{branch} (not a tag)"),
    };
    condition(
        "ref",
        tag_ok || default_ok,
        format!("the run's ref {found} is {allowed}"),
    )
}

/// The gate environment approved by enough users who are not the run's triggering actor (and
/// among the configured approvers), and rejected by no one.
fn approval_condition(config: &GateConfig, evidence: &Evidence) -> Condition {
    let gate = &config.gate_environment;
    let actor = &evidence.run.triggering_actor;
    let for_gate = |a: &&Approval| a.environments.iter().any(|e| e.name == *gate);
    let rejected_by: Vec<&str> = evidence
        .approvals
        .iter()
        .filter(for_gate)
        .filter(|a| a.state != "approved")
        .map(|a| a.user.login.as_str())
        .collect();
    let mut approvers: BTreeMap<u64, &str> = BTreeMap::new();
    let mut by_actor = false;
    for a in evidence
        .approvals
        .iter()
        .filter(for_gate)
        .filter(|a| a.state == "approved")
    {
        if a.user.id == actor.id {
            by_actor = true;
        } else if config.approvers.is_empty() || config.approvers.contains(&a.user.login) {
            approvers.insert(a.user.id, a.user.login.as_str());
        }
    }
    let names: Vec<&str> = approvers.values().copied().collect();
    let ok = rejected_by.is_empty() && approvers.len() >= config.min_approvals.max(1) as usize;
    let mut detail = format!(
        "{gate} approved by {} of {} needed other than the triggering actor {} ({})",
        approvers.len(),
        config.min_approvals.max(1),
        actor.login,
        if names.is_empty() {
            "nobody".to_owned()
        } else {
            names.join(", ")
        }
    );
    if by_actor {
        detail.push_str("; the triggering actor's own approval does not count");
    }
    if !rejected_by.is_empty() {
        detail.push_str(&format!("; rejected by {}", rejected_by.join(", ")));
    }
    condition("gate-approval", ok, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches("v*", "v1.2.3"));
        assert!(glob_matches("v?.*", "v1.2"));
        assert!(glob_matches("*", ""));
        assert!(!glob_matches("v*", "release-1"));
        assert!(!glob_matches("v?", "v12"));
        assert!(glob_matches("release/*/final", "release/1.0/final"));
        // No exponential blow-up on hostile patterns.
        assert!(!glob_matches(&"*a".repeat(200), &"a".repeat(199)));
    }

    #[test]
    fn ref_names_that_reach_a_path() {
        assert!(is_safe_ref_name("v1.2.3"));
        assert!(is_safe_ref_name("release/1.0"));
        assert!(!is_safe_ref_name("../x"));
        assert!(!is_safe_ref_name("v1?x"));
        assert!(!is_safe_ref_name(""));
    }

    #[test]
    fn comments_are_plain_and_capped() {
        let d = Decision::reject("configuration", format!("bad\u{1b}[1m{}", "x".repeat(5000)));
        let c = d.comment();
        assert!(c.starts_with("ciguard release gate: rejected: configuration: bad"));
        assert!(!c.contains('\u{1b}'));
        assert_eq!(c.chars().count(), MAX_COMMENT);
    }
}
