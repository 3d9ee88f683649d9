//! The fake's release-gate routes (custom deployment protection rules): workflow runs, their
//! environment approvals history and pending deployments, the protection-rule review callback,
//! and tag refs read from the real git repository. Permissions as GitHub documents them: runs,
//! approvals and pending deployments need `actions: read`; the review needs
//! `deployments: write`; git refs and tags need `contents: read`.

use std::sync::Mutex;

use serde_json::{Value, json};

use super::routes::{Request, error, not_found};
use super::{FakeGitHubApp, FakeRepo, State, lock};
use crate::http::Reply;

/// A workflow run as the fake serves it.
#[derive(Debug, Clone)]
pub struct FakeRun {
    pub id: u64,
    /// The repository (`owner/name`) it belongs to.
    pub repo: String,
    pub repository_id: u64,
    /// `.github/workflows/release.yml`.
    pub path: String,
    pub head_sha: String,
    /// The branch or tag name (GitHub puts a tag's name here for tag pushes).
    pub head_branch: String,
    pub event: String,
    pub run_attempt: u64,
    pub triggering_actor: (String, u64),
}

/// One review the App sent to the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecord {
    pub run_id: u64,
    pub environment: String,
    pub state: String,
    pub comment: String,
}

#[derive(Debug, Default)]
pub(super) struct GateState {
    runs: Vec<FakeRun>,
    /// (run id, approval as GitHub lists it).
    approvals: Vec<(u64, Value)>,
    /// (run id, environment) waiting for a protection rule.
    pending: Vec<(u64, String)>,
    reviews: Vec<ReviewRecord>,
}

impl FakeGitHubApp {
    /// Serves workflow run `run`.
    pub fn add_run(&self, run: FakeRun) {
        let mut st = lock(&self.state);
        st.gate.runs.retain(|r| r.id != run.id);
        st.gate.runs.push(run);
    }

    /// Records that `login` (`user_id`) gave `state` (`approved`/`rejected`) to `environment`
    /// of run `run_id`, as in the run's approvals history.
    pub fn add_approval(
        &self,
        run_id: u64,
        environment: &str,
        login: &str,
        user_id: u64,
        state: &str,
    ) {
        let approval = json!({
            "state": state, "comment": "",
            "environments": [{"id": 1, "name": environment, "html_url": "https://github.com/x"}],
            "user": {"login": login, "id": user_id, "type": "User"},
        });
        lock(&self.state).gate.approvals.push((run_id, approval));
    }

    /// Marks `environment` of run `run_id` as waiting for its protection rules.
    pub fn add_pending(&self, run_id: u64, environment: &str) {
        lock(&self.state)
            .gate
            .pending
            .push((run_id, environment.to_owned()));
    }

    /// The reviews the App sent, in order.
    pub fn reviews(&self) -> Vec<ReviewRecord> {
        lock(&self.state).gate.reviews.clone()
    }
}

/// The permission a release-gate route needs, if `rest` is one.
pub(super) fn permission_for(method: &str, rest: &[&str]) -> Option<(&'static str, &'static str)> {
    match (method, rest) {
        ("POST", ["actions", "runs", _, "deployment_protection_rule"]) => {
            Some(("deployments", "write"))
        }
        (
            _,
            ["actions", "runs", _] | ["actions", "runs", _, "approvals" | "pending_deployments"],
        ) => Some(("actions", "read")),
        _ => None,
    }
}

/// Whether `rest` is a route this file answers.
pub(super) fn handles(method: &str, rest: &[&str]) -> bool {
    permission_for(method, rest).is_some()
        || matches!(
            (method, rest),
            ("GET", ["git", "ref", "tags", _, ..] | ["git", "tags", _])
        )
}

pub(super) fn route(state: &Mutex<State>, req: &Request, repo: &FakeRepo, rest: &[&str]) -> Reply {
    match (req.method, rest) {
        ("GET", ["git", "ref", "tags", name @ ..]) => tag_ref(repo, &name.join("/")),
        ("GET", ["git", "tags", sha]) => tag_object(repo, sha),
        (method, ["actions", "runs", id, tail @ ..]) => {
            let Some(run) = id.parse::<u64>().ok().and_then(|id| {
                lock(state)
                    .gate
                    .runs
                    .iter()
                    .find(|r| r.id == id && r.repo == repo.slug)
                    .cloned()
            }) else {
                return not_found();
            };
            match (method, tail) {
                ("GET", []) => run_json(&run),
                ("GET", ["approvals"]) => approvals(state, run.id),
                ("GET", ["pending_deployments"]) => pending(state, run.id),
                ("POST", ["deployment_protection_rule"]) => review(state, req, run.id),
                _ => not_found(),
            }
        }
        _ => not_found(),
    }
}

fn run_json(run: &FakeRun) -> Reply {
    let actor =
        json!({"login": run.triggering_actor.0, "id": run.triggering_actor.1, "type": "User"});
    Reply::json(
        200,
        &json!({
            "id": run.id, "name": "release", "path": run.path, "head_sha": run.head_sha,
            "head_branch": run.head_branch, "event": run.event, "status": "waiting",
            "run_attempt": run.run_attempt, "actor": actor, "triggering_actor": actor,
            "repository": {"id": run.repository_id, "full_name": run.repo},
        }),
    )
}

fn approvals(state: &Mutex<State>, run_id: u64) -> Reply {
    let list: Vec<Value> = lock(state)
        .gate
        .approvals
        .iter()
        .filter(|(id, _)| *id == run_id)
        .map(|(_, a)| a.clone())
        .collect();
    Reply::json(200, &Value::Array(list))
}

fn pending(state: &Mutex<State>, run_id: u64) -> Reply {
    let list: Vec<Value> = lock(state)
        .gate
        .pending
        .iter()
        .filter(|(id, _)| *id == run_id)
        .map(|(_, env)| {
            json!({"environment": {"id": 1, "name": env}, "wait_timer": 0,
                   "wait_timer_started_at": null, "current_user_can_approve": false, "reviewers": []})
        })
        .collect();
    Reply::json(200, &Value::Array(list))
}

/// The review callback: 204 once per (run, environment), 422 after (GitHub refuses a second
/// review of a rule it no longer waits on).
fn review(state: &Mutex<State>, req: &Request, run_id: u64) -> Reply {
    let body: Value = serde_json::from_slice(req.body).unwrap_or(Value::Null);
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let (Some(environment), Some(review_state)) = (field("environment_name"), field("state"))
    else {
        return error(
            422,
            "Invalid request: environment_name and state are required",
        );
    };
    if !matches!(review_state.as_str(), "approved" | "rejected") {
        return error(422, "Invalid request: state must be approved or rejected");
    }
    let mut st = lock(state);
    let waiting = st
        .gate
        .pending
        .iter()
        .any(|(id, env)| *id == run_id && *env == environment);
    if !waiting {
        return error(
            422,
            "No pending deployment protection rule for this environment (already reviewed)",
        );
    }
    st.gate
        .pending
        .retain(|(id, env)| !(*id == run_id && *env == environment));
    st.gate.reviews.push(ReviewRecord {
        run_id,
        environment,
        state: review_state,
        comment: field("comment").unwrap_or_default(),
    });
    Reply::empty(204)
}

fn is_safe_ref(name: &str) -> bool {
    !name.is_empty()
        && !name.contains("..")
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
}

/// `GET /git/ref/tags/NAME`: the tag's object (a commit for a lightweight tag, a tag object for
/// an annotated one).
fn tag_ref(repo: &FakeRepo, name: &str) -> Reply {
    if !is_safe_ref(name) {
        return not_found();
    }
    let full = format!("refs/tags/{name}");
    let Ok(sha) = repo.git.git(&["rev-parse", "--verify", "-q", &full]) else {
        return not_found();
    };
    let sha = sha.trim();
    let kind = repo
        .git
        .git(&["cat-file", "-t", sha])
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    Reply::json(
        200,
        &json!({"ref": full, "object": {"sha": sha, "type": kind}}),
    )
}

/// `GET /git/tags/SHA`: an annotated tag and the object it points at.
fn tag_object(repo: &FakeRepo, sha: &str) -> Reply {
    let kind = repo
        .git
        .git(&["cat-file", "-t", sha])
        .map(|t| t.trim().to_owned());
    if kind.as_deref() != Ok("tag") {
        return not_found();
    }
    let Ok(target) = repo.git.git(&["rev-parse", &format!("{sha}^{{}}")]) else {
        return not_found();
    };
    Reply::json(
        200,
        &json!({"sha": sha, "object": {"sha": target.trim(), "type": "commit"}}),
    )
}
