//! The release gate: a custom deployment protection rule. A maintainer approves the
//! `release-gate` environment of a release run; on `deployment_protection_rule` for the
//! `release` environment of that same run, the App approves only when every configured
//! condition holds (see [`conditions`]) and rejects otherwise, naming the failed condition.
//! The callback URL is checked against the API base before any token exists ([`callback`]);
//! every decision is written to a hash-chained, append-only audit log ([`audit_log`]).

pub mod audit_log;
pub mod callback;
pub mod conditions;
pub mod review;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::events::{RouteError, Routed};
use crate::job::JobPayload;

/// The section of the organization file (`ciguard-app.toml`) that turns the gate on.
pub const SECTION: &str = "release-gate";

/// What a `deployment_protection_rule` delivery asks for, as the job keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateTarget {
    /// `owner/name`.
    pub repository: String,
    pub repository_id: u64,
    pub default_branch: String,
    /// The run: `workflow_run.id`, else the number in the callback URL (0 when neither).
    pub run_id: u64,
    /// The environment waiting for this rule.
    pub environment: String,
    /// As delivered; checked against the API base before anything is sent.
    pub callback_url: String,
    /// The deployment GitHub created for the waiting job: a re-run attempt gets a new one, a
    /// redelivery carries the same one.
    pub deployment_id: u64,
    /// The delivery's `sha`, `ref` and `event` (signed by GitHub, compared with the run's).
    pub sha: Option<String>,
    pub git_ref: Option<String>,
    pub event: Option<String>,
}

/// The `[release-gate]` section (with per-repository overrides laid over it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GateConfig {
    /// The environment the App approves.
    #[serde(default = "default_environment")]
    pub environment: String,
    /// The environment a maintainer approves first, in the same run.
    #[serde(default = "default_gate_environment")]
    pub gate_environment: String,
    /// The release workflow file, `.github/workflows/release.yml`.
    pub workflow: String,
    /// Tag names that are releases, a glob (`*` any characters, `?` one), e.g. `v*`.
    #[serde(default)]
    pub tags: Option<String>,
    /// Whether runs on the default branch may release too.
    #[serde(default)]
    pub default_branch: bool,
    /// Extra: the run's triggering events allowed (empty: any).
    #[serde(default)]
    pub events: Vec<String>,
    /// Extra: only these logins' gate approvals count (empty: anyone GitHub let approve).
    #[serde(default)]
    pub approvers: Vec<String>,
    /// Extra: distinct approvers of the gate environment needed, none of them the run's
    /// triggering actor.
    #[serde(default = "one")]
    pub min_approvals: u32,
}

fn default_environment() -> String {
    "release".into()
}

fn default_gate_environment() -> String {
    "release-gate".into()
}

fn one() -> u32 {
    1
}

impl GateTarget {
    /// The job key: redeliveries and retries of one (run, environment) coalesce.
    pub fn key(&self) -> String {
        format!(
            "gate:{}:{}:{}",
            self.repository_id, self.run_id, self.environment
        )
    }
}

/// Maps a `deployment_protection_rule` delivery to its job. The callback URL is carried as it
/// came: the runner checks it (a mismatch is a dead job with the reason, not a dropped delivery).
pub fn route(body: &[u8]) -> Result<Routed, RouteError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| RouteError(format!("the body is not JSON: {e}")))?;
    let action = doc.get("action").and_then(Value::as_str).unwrap_or("");
    if action != "requested" {
        return Ok(Routed::Ignored(format!(
            "deployment_protection_rule action {action:.40} is not reviewed"
        )));
    }
    let text = |pointer: &str| -> Result<String, RouteError> {
        match doc.pointer(pointer).and_then(Value::as_str) {
            Some(s) if !s.is_empty() && s.len() <= 1024 => Ok(s.to_owned()),
            _ => Err(RouteError(format!(
                "{} is missing or not a string",
                pointer.trim_start_matches('/').replace('/', ".")
            ))),
        }
    };
    let optional = |pointer: &str| {
        doc.pointer(pointer)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.len() <= 1024)
            .map(str::to_owned)
    };
    let number = |pointer: &str| doc.pointer(pointer).and_then(Value::as_u64);
    let callback_url = text("/deployment_callback_url")?;
    let run_id = number("/workflow_run/id")
        .or_else(|| callback::run_id_of(&callback_url))
        .unwrap_or(0);
    let target = GateTarget {
        repository: text("/repository/full_name")?,
        repository_id: number("/repository/id")
            .ok_or_else(|| RouteError("repository.id is missing or not a number".into()))?,
        default_branch: optional("/repository/default_branch").unwrap_or_default(),
        run_id,
        environment: text("/environment")?,
        callback_url,
        deployment_id: number("/deployment/id").unwrap_or(0),
        sha: optional("/sha").or_else(|| optional("/deployment/sha")),
        git_ref: optional("/ref").or_else(|| optional("/deployment/ref")),
        event: optional("/event"),
    };
    let installation_id = number("/installation/id")
        .ok_or_else(|| RouteError("installation.id is missing".into()))?;
    Ok(Routed::Jobs {
        installation_id,
        jobs: vec![JobPayload::GateReview(target)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_requested_rule_becomes_one_gate_job() {
        let body = json!({
            "action": "requested", "environment": "release", "event": "push",
            "ref": "v1.2.0", "sha": "0123456789abcdef0123456789abcdef01234567",
            "deployment_callback_url": "https://api.github.com/repos/o/r/actions/runs/77/deployment_protection_rule",
            "deployment": {"id": 9},
            "repository": {"id": 1, "full_name": "o/r", "default_branch": "main"},
            "installation": {"id": 7},
        })
        .to_string();
        let Routed::Jobs {
            installation_id,
            jobs,
        } = route(body.as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(installation_id, 7);
        assert_eq!(jobs[0].key(), "gate:1:77:release");
        let JobPayload::GateReview(t) = &jobs[0] else {
            panic!()
        };
        assert_eq!((t.deployment_id, t.git_ref.as_deref()), (9, Some("v1.2.0")));
        let other = json!({"action": "created"}).to_string();
        assert!(matches!(route(other.as_bytes()), Ok(Routed::Ignored(_))));
        let no_url = json!({"action": "requested", "environment": "release",
            "repository": {"id": 1, "full_name": "o/r"}, "installation": {"id": 7}})
        .to_string();
        assert!(route(no_url.as_bytes()).is_err());
    }

    #[test]
    fn the_section_refuses_unknown_keys() {
        let ok: GateConfig =
            toml::from_str("workflow = \".github/workflows/release.yml\"\ntags = \"v*\"").unwrap();
        assert_eq!(ok.environment, "release");
        assert_eq!(ok.gate_environment, "release-gate");
        assert_eq!(ok.min_approvals, 1);
        assert!(toml::from_str::<GateConfig>("workflow = \"x\"\ntag = \"v*\"").is_err());
        assert!(toml::from_str::<GateConfig>("tags = \"v*\"").is_err());
    }
}
