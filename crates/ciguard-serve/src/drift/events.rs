//! The webhook events that change settings, mapped to drift jobs: `repository`,
//! `branch_protection_rule`, `repository_ruleset` and `member` to the repository's job (an
//! organization ruleset, which has no repository, to the organization's), `organization` to the
//! organization's. A job only runs when the organization's configuration enables drift.

use serde_json::Value;

use super::DriftTarget;
use crate::events::{RouteError, Routed};
use crate::job::JobPayload;

pub fn is_drift_event(event: &str) -> bool {
    matches!(
        event,
        "repository" | "branch_protection_rule" | "repository_ruleset" | "member" | "organization"
    )
}

fn text<'a>(doc: &'a Value, pointer: &str) -> Option<&'a str> {
    doc.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 200)
}

pub fn route(event: &str, body: &[u8]) -> Result<Routed, RouteError> {
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| RouteError(format!("the body is not JSON: {e}")))?;
    let action = doc.get("action").and_then(Value::as_str).unwrap_or("");
    // A repository that is gone or frozen has no settings to keep.
    if event == "repository" && matches!(action, "deleted" | "archived") {
        return Ok(Routed::Ignored(format!(
            "repository action {action:.40} needs no drift check"
        )));
    }
    let installation_id = doc
        .pointer("/installation/id")
        .and_then(Value::as_u64)
        .ok_or_else(|| RouteError("installation.id is missing".into()))?;
    let repo = match (
        text(&doc, "/repository/full_name"),
        doc.pointer("/repository/id").and_then(Value::as_u64),
    ) {
        (Some(name), Some(id)) if event != "organization" => Some(DriftTarget::repo(name, id)),
        _ => None,
    };
    let target = match repo {
        Some(t) => t,
        None => match text(&doc, "/organization/login") {
            Some(login) => DriftTarget::org(login),
            None => {
                return Ok(Routed::Ignored(format!(
                    "{event} names no repository or organization"
                )));
            }
        },
    };
    Ok(Routed::Jobs {
        installation_id,
        jobs: vec![JobPayload::Drift(target)],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jobs(event: &str, body: Value) -> Vec<String> {
        match route(event, body.to_string().as_bytes()).unwrap() {
            Routed::Jobs { jobs, .. } => jobs.iter().map(JobPayload::key).collect(),
            other => vec![format!("{other:?}")],
        }
    }

    #[test]
    fn settings_events_queue_the_repository_or_organization_job() {
        let repo = json!({"id": 9, "full_name": "octo/app"});
        let org = json!({"login": "Octo"});
        for event in [
            "repository",
            "branch_protection_rule",
            "repository_ruleset",
            "member",
        ] {
            let body = json!({"action": "edited", "installation": {"id": 1}, "repository": repo, "organization": org});
            assert_eq!(jobs(event, body), vec!["drift:9"], "{event}");
        }
        let org_ruleset =
            json!({"action": "created", "installation": {"id": 1}, "organization": org});
        assert_eq!(
            jobs("repository_ruleset", org_ruleset),
            vec!["drift-org:octo"]
        );
        let member_added =
            json!({"action": "member_added", "installation": {"id": 1}, "organization": org});
        assert_eq!(jobs("organization", member_added), vec!["drift-org:octo"]);
        let deleted = json!({"action": "deleted", "installation": {"id": 1}, "repository": repo});
        assert!(matches!(
            route("repository", deleted.to_string().as_bytes()),
            Ok(Routed::Ignored(_))
        ));
        assert!(route("member", b"{").is_err());
        assert!(
            route(
                "member",
                br#"{"repository": {"id": 1, "full_name": "a/b"}}"#
            )
            .is_err()
        );
    }
}
