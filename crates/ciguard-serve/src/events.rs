//! Maps a verified webhook delivery to the jobs it asks for. Only the fields a job needs are
//! taken; the payload itself is not stored.

use serde_json::Value;

use crate::job::{JobPayload, PrTarget, PushTarget};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    Ping,
    /// Recorded, but no job: the event or action is not one ciguard audits on.
    Ignored(String),
    Jobs {
        installation_id: u64,
        jobs: Vec<JobPayload>,
    },
}

/// Why a signed body could not be read (400: GitHub signed it, so this is worth a look).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteError(pub String);

/// Routes the `X-GitHub-Event` `event` with the JSON `body`.
pub fn route(event: &str, body: &[u8]) -> Result<Routed, RouteError> {
    if event == "ping" {
        return Ok(Routed::Ping);
    }
    if crate::drift::events::is_drift_event(event) {
        return crate::drift::events::route(event, body);
    }
    if event == "deployment_protection_rule" {
        return crate::gate::route(body);
    }
    if !matches!(
        event,
        "pull_request" | "check_run" | "check_suite" | "push" | "workflow_run"
    ) {
        return Ok(Routed::Ignored(format!("event {event} is not audited")));
    }
    let doc: Value = serde_json::from_slice(body)
        .map_err(|e| RouteError(format!("the body is not JSON: {e}")))?;
    let action = doc.get("action").and_then(Value::as_str).unwrap_or("");
    let jobs = match event {
        "pull_request" => match action {
            "opened" | "synchronize" | "reopened" => vec![pull_request(&doc)?],
            _ => {
                return Ok(Routed::Ignored(format!(
                    "pull_request action {action:.40} is not audited"
                )));
            }
        },
        "check_run" | "check_suite" if action == "rerequested" => rerequested(&doc, event)?,
        "check_run" | "check_suite" => {
            return Ok(Routed::Ignored(format!(
                "{event} action {action:.40} is not audited"
            )));
        }
        "workflow_run" => match workflow_run(&doc, action)? {
            Ok(job) => vec![job],
            Err(why) => return Ok(Routed::Ignored(why)),
        },
        _ => match push(&doc)? {
            Some(job) => vec![job],
            None => return Ok(Routed::Ignored("push not to the default branch".into())),
        },
    };
    if jobs.is_empty() {
        return Ok(Routed::Ignored(format!(
            "{event} names no pull request or default branch"
        )));
    }
    let installation_id = doc
        .pointer("/installation/id")
        .and_then(Value::as_u64)
        .ok_or_else(|| RouteError("installation.id is missing".into()))?;
    Ok(Routed::Jobs {
        installation_id,
        jobs,
    })
}

fn repository(doc: &Value) -> Result<(String, u64), RouteError> {
    let name = str_at(doc, "/repository/full_name")?;
    let id = u64_at(doc, "/repository/id")?;
    Ok((name, id))
}

fn pull_request(doc: &Value) -> Result<JobPayload, RouteError> {
    let (repository, repository_id) = repository(doc)?;
    let pr = doc
        .get("pull_request")
        .ok_or_else(|| missing("pull_request"))?;
    // A deleted fork has `head.repo: null`: still not the base repository.
    let head_repo = pr.pointer("/head/repo/id").and_then(Value::as_u64);
    Ok(JobPayload::PrAudit(PrTarget {
        repository,
        repository_id,
        number: u64_at(pr, "/number")?,
        head_sha: sha_at(pr, "/head/sha")?,
        from_fork: head_repo != Some(repository_id),
    }))
}

/// `check_run` / `check_suite` `rerequested`: one job per pull request the suite belongs to, or a
/// push audit when it ran on the default branch.
fn rerequested(doc: &Value, event: &str) -> Result<Vec<JobPayload>, RouteError> {
    let (repository, repository_id) = repository(doc)?;
    let suite = if event == "check_run" {
        doc.pointer("/check_run/check_suite")
    } else {
        doc.get("check_suite")
    }
    .ok_or_else(|| missing(event))?;
    let head_sha = sha_at(suite, "/head_sha")?;
    let prs = suite.get("pull_requests").and_then(Value::as_array);
    let mut jobs = Vec::new();
    for pr in prs.into_iter().flatten().take(100) {
        jobs.push(JobPayload::PrAudit(PrTarget {
            repository: repository.clone(),
            repository_id,
            number: u64_at(pr, "/number")?,
            head_sha: sha_at(pr, "/head/sha").unwrap_or_else(|_| head_sha.clone()),
            from_fork: pr.pointer("/head/repo/id").and_then(Value::as_u64) != Some(repository_id),
        }));
    }
    let default_branch = doc
        .pointer("/repository/default_branch")
        .and_then(Value::as_str);
    let branch = suite.get("head_branch").and_then(Value::as_str);
    if jobs.is_empty() && branch.is_some() && branch == default_branch {
        jobs.push(JobPayload::PushAudit(PushTarget {
            repository,
            repository_id,
            after: head_sha,
            git_ref: format!("refs/heads/{}", branch.unwrap_or_default()),
        }));
    }
    Ok(jobs)
}

/// `workflow_run` `completed` of a run triggered by `pull_request`: a comment relay job (the
/// runner checks the configuration; only `pull_request` runs can be relay sources).
fn workflow_run(doc: &Value, action: &str) -> Result<Result<JobPayload, String>, RouteError> {
    let run = doc
        .get("workflow_run")
        .ok_or_else(|| missing("workflow_run"))?;
    let trigger = run.get("event").and_then(Value::as_str).unwrap_or("");
    if action != "completed" || trigger != "pull_request" {
        return Ok(Err(format!(
            "workflow_run {action:.40} of a {trigger:.40} run is not relayed"
        )));
    }
    let (repository, repository_id) = repository(doc)?;
    Ok(Ok(JobPayload::Relay(crate::relay::RelayTarget {
        repository,
        repository_id,
        run_id: u64_at(run, "/id")?,
        workflow_id: u64_at(run, "/workflow_id")?,
        workflow_path: str_at(run, "/path")?,
        workflow_name: run
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .take(200)
            .collect(),
        head_sha: sha_at(run, "/head_sha")?,
    })))
}

fn push(doc: &Value) -> Result<Option<JobPayload>, RouteError> {
    let (repository, repository_id) = repository(doc)?;
    let git_ref = str_at(doc, "/ref")?;
    let default = str_at(doc, "/repository/default_branch")?;
    let deleted = doc.get("deleted").and_then(Value::as_bool).unwrap_or(false);
    if deleted || git_ref != format!("refs/heads/{default}") {
        return Ok(None);
    }
    Ok(Some(JobPayload::PushAudit(PushTarget {
        repository,
        repository_id,
        after: sha_at(doc, "/after")?,
        git_ref,
    })))
}

fn missing(field: &str) -> RouteError {
    RouteError(format!("{field} is missing"))
}

fn str_at(doc: &Value, pointer: &str) -> Result<String, RouteError> {
    match doc.pointer(pointer).and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.len() <= 1024 => Ok(s.to_string()),
        _ => Err(RouteError(format!(
            "{} is missing or not a string",
            field(pointer)
        ))),
    }
}

fn u64_at(doc: &Value, pointer: &str) -> Result<u64, RouteError> {
    doc.pointer(pointer)
        .and_then(Value::as_u64)
        .ok_or_else(|| RouteError(format!("{} is missing or not a number", field(pointer))))
}

/// A commit SHA: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits, nothing else.
fn sha_at(doc: &Value, pointer: &str) -> Result<String, RouteError> {
    let sha = str_at(doc, pointer)?;
    let ok = matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok || sha.bytes().all(|b| b == b'0') {
        return Err(RouteError(format!(
            "{} is not a commit SHA",
            field(pointer)
        )));
    }
    Ok(sha)
}

fn field(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn pr_event(action: &str, head_repo: u64) -> Vec<u8> {
        json!({
            "action": action,
            "installation": {"id": 7},
            "repository": {"id": 1, "full_name": "o/r", "default_branch": "main"},
            "pull_request": {"number": 5, "head": {"sha": SHA, "repo": {"id": head_repo}}}
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn pull_request_actions_map_to_one_pr_audit() {
        for action in ["opened", "synchronize", "reopened"] {
            let Routed::Jobs {
                installation_id,
                jobs,
            } = route("pull_request", &pr_event(action, 1)).unwrap()
            else {
                panic!("{action}")
            };
            assert_eq!(installation_id, 7);
            assert_eq!(jobs.len(), 1);
            assert_eq!(jobs[0].key(), "pr:1:5");
            let JobPayload::PrAudit(t) = &jobs[0] else {
                panic!()
            };
            assert!(!t.from_fork);
            assert_eq!(t.head_sha, SHA);
        }
        let Routed::Jobs { jobs, .. } = route("pull_request", &pr_event("opened", 2)).unwrap()
        else {
            panic!()
        };
        assert!(matches!(&jobs[0], JobPayload::PrAudit(t) if t.from_fork));
        assert!(matches!(
            route("pull_request", &pr_event("closed", 1)),
            Ok(Routed::Ignored(_))
        ));
    }

    #[test]
    fn push_to_the_default_branch_only() {
        let push = |git_ref: &str| {
            json!({"ref": git_ref, "after": SHA, "installation": {"id": 7},
                   "repository": {"id": 1, "full_name": "o/r", "default_branch": "main"}})
            .to_string()
        };
        let Routed::Jobs { jobs, .. } = route("push", push("refs/heads/main").as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(jobs[0].key(), "push:1:refs/heads/main");
        assert!(matches!(
            route("push", push("refs/heads/dev").as_bytes()),
            Ok(Routed::Ignored(_))
        ));
        assert!(matches!(
            route("push", push("refs/tags/main").as_bytes()),
            Ok(Routed::Ignored(_))
        ));
    }

    #[test]
    fn check_suite_rerequested_maps_its_pull_requests() {
        let body = json!({"action": "rerequested", "installation": {"id": 7},
            "repository": {"id": 1, "full_name": "o/r", "default_branch": "main"},
            "check_suite": {"head_sha": SHA, "head_branch": "f",
                "pull_requests": [{"number": 3, "head": {"sha": SHA, "repo": {"id": 1}}}]}})
        .to_string();
        let Routed::Jobs { jobs, .. } = route("check_suite", body.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(jobs[0].key(), "pr:1:3");
        let run = json!({"action": "rerequested", "installation": {"id": 7},
            "repository": {"id": 1, "full_name": "o/r", "default_branch": "main"},
            "check_run": {"check_suite": {"head_sha": SHA, "head_branch": "main", "pull_requests": []}}})
        .to_string();
        let Routed::Jobs { jobs, .. } = route("check_run", run.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(jobs[0].key(), "push:1:refs/heads/main");
    }

    #[test]
    fn completed_pull_request_runs_map_to_one_relay_job() {
        let run = |action: &str, trigger: &str| {
            json!({"action": action, "installation": {"id": 7},
                "repository": {"id": 1, "full_name": "o/r", "default_branch": "main"},
                "workflow_run": {"id": 99, "workflow_id": 3, "name": "Relay", "event": trigger,
                    "path": ".github/workflows/relay.yml", "head_sha": SHA, "pull_requests": []}})
            .to_string()
        };
        let Routed::Jobs { jobs, .. } =
            route("workflow_run", run("completed", "pull_request").as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!(jobs[0].key(), format!("relay:1:3:{SHA}"));
        let JobPayload::Relay(t) = &jobs[0] else {
            panic!()
        };
        assert_eq!(
            (t.run_id, t.workflow_path.as_str()),
            (99, ".github/workflows/relay.yml")
        );
        for (action, trigger) in [
            ("requested", "pull_request"),
            ("completed", "pull_request_target"),
            ("completed", "push"),
        ] {
            assert!(matches!(
                route("workflow_run", run(action, trigger).as_bytes()),
                Ok(Routed::Ignored(_))
            ));
        }
        let bad = run("completed", "pull_request").replace(SHA, "nope");
        assert!(route("workflow_run", bad.as_bytes()).is_err());
    }

    #[test]
    fn ping_other_events_and_bad_bodies() {
        assert_eq!(route("ping", b"not even json"), Ok(Routed::Ping));
        assert!(matches!(route("issues", b"{}"), Ok(Routed::Ignored(_))));
        assert!(route("pull_request", b"{").is_err());
        let bad_sha = String::from_utf8(pr_event("opened", 1))
            .unwrap()
            .replace(SHA, "../../etc");
        let err = route("pull_request", bad_sha.as_bytes()).unwrap_err();
        assert!(err.0.contains("head.sha is not a commit SHA"), "{err:?}");
    }
}
