//! One `deployment_protection_rule` job: check the callback URL (before any token exists), skip
//! a review already given, read the configuration, the run, its approvals and its tag, decide,
//! write the intent row, send the review, read `pending_deployments`, write the outcome row.

use serde::Deserialize;
use serde_json::{Value, json};

use super::audit_log::{AuditEntry, ReviewState};
use super::conditions::{self, Approval, Decision, Evidence, Run};
use super::{GateConfig, GateTarget, SECTION, callback};
use crate::app::App;
use crate::app::api::{ApiError, json_body};
use crate::app::github::Method;
use crate::app::secret::Secret;
use crate::app::tokens::gate_permissions;
use crate::job::{Job, Outcome};
use crate::org_config::OrgConfigLoad;
use crate::store::Store;

/// Annotated tags pointing at tags are followed at most this deep.
const MAX_TAG_DEPTH: usize = 3;

#[derive(Deserialize)]
struct GitRef {
    object: GitObject,
}

#[derive(Deserialize)]
struct GitObject {
    sha: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct PendingDeployment {
    environment: conditions::Environment,
}

/// The calls of one review, with a token for the one repository.
struct Reader<'a> {
    app: &'a App<Store>,
    installation: u64,
    token: Secret,
    repo: &'a str,
}

impl Reader<'_> {
    async fn get<T: for<'de> Deserialize<'de>>(&self, target: &str) -> Result<T, ApiError> {
        let (value, _) = self
            .app
            .api
            .get_json(self.installation, &self.token, target)
            .await?;
        Ok(value)
    }

    /// The commit tag `name` points at, `None` when there is no such tag.
    async fn tag_commit(&self, name: &str) -> Result<Option<String>, ApiError> {
        if !conditions::is_safe_ref_name(name) {
            return Ok(None);
        }
        let target = format!("/repos/{}/git/ref/tags/{name}", self.repo);
        let response = self
            .app
            .api
            .call_raw(self.installation, &self.token, Method::Get, &target)
            .await?;
        if response.status == 404 {
            return Ok(None);
        }
        let response = crate::app::api::classify("GET", &target, response)?;
        let mut object = crate::app::api::decode::<GitRef>(&response, &target)?.object;
        for _ in 0..MAX_TAG_DEPTH {
            if object.kind == "commit" {
                return Ok(Some(object.sha));
            }
            if object.kind != "tag" || !is_hex(&object.sha) {
                return Ok(None);
            }
            let tag: GitRef = self
                .get(&format!("/repos/{}/git/tags/{}", self.repo, object.sha))
                .await?;
            object = tag.object;
        }
        Ok(None)
    }

    async fn evidence(&self, run_id: u64) -> Result<Evidence, ApiError> {
        let base = format!("/repos/{}/actions/runs/{run_id}", self.repo);
        let run: Run = self.get(&base).await?;
        let approvals: Vec<Approval> = self.get(&format!("{base}/approvals")).await?;
        let tag_commit = match run.head_branch.as_deref() {
            Some(name) => self.tag_commit(name).await?,
            None => None,
        };
        Ok(Evidence {
            run,
            approvals,
            tag_commit,
        })
    }
}

fn is_hex(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The configuration of the gate for `t`'s repository, or the rejection that says why there is
/// none (off, malformed). An unreadable file (GitHub down) is an error to retry.
async fn configuration(
    app: &App<Store>,
    installation: u64,
    t: &GateTarget,
) -> Result<Result<GateConfig, Decision>, ApiError> {
    let (owner, name) = t.repository.split_once('/').unwrap_or(("", ""));
    let org = match app.org_config(installation, owner).await {
        Ok(org) => org,
        Err(OrgConfigLoad::Invalid(e)) => {
            return Ok(Err(Decision::reject("configuration", e.to_string())));
        }
        Err(OrgConfigLoad::Api(e)) => return Err(e),
    };
    Ok(match org.section::<GateConfig>(SECTION, name) {
        Ok(Some(config)) => Ok(config),
        Ok(None) => Err(Decision::reject(
            "configuration",
            format!(
                "the release gate is off for this repository (no enabled [{SECTION}] for it in .github/ciguard-app.toml)"
            ),
        )),
        Err(e) => Err(Decision::reject("configuration", e.to_string())),
    })
}

/// The evidence as the audit log keeps it: ids, SHAs, logins, conditions; no token.
fn evidence_record(
    job: &Job,
    t: &GateTarget,
    evidence: Option<&Evidence>,
    decision: &Decision,
) -> Value {
    let mut record = json!({
        "delivery": job.delivery_id,
        "installation": job.installation_id,
        "repository_id": t.repository_id,
        "deployment_id": t.deployment_id,
        "delivery_sha": t.sha,
        "delivery_ref": t.git_ref,
        "delivery_event": t.event,
        "decision": decision.state(),
        "conditions": decision.conditions,
        "comment": decision.comment(),
    });
    if let Some(e) = evidence {
        record["run"] = json!({
            "id": e.run.id, "attempt": e.run.run_attempt, "workflow": e.run.path,
            "head_sha": e.run.head_sha, "head_branch": e.run.head_branch, "event": e.run.event,
            "triggering_actor": {"login": e.run.triggering_actor.login, "id": e.run.triggering_actor.id},
        });
        record["approvals"] = e
            .approvals
            .iter()
            .map(|a| {
                json!({
                    "login": a.user.login, "id": a.user.id, "state": a.state,
                    "environments": a.environments.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
                })
            })
            .collect();
        record["tag_commit"] = json!(e.tag_commit);
    }
    record
}

fn retry_on_store(e: &crate::store::StoreError) -> Outcome {
    Outcome::Retry {
        reason: format!("release gate: {e}"),
    }
}

/// Runs one release-gate job. The store is the App's rate-limit store (the runner's `Store`).
pub async fn run(app: &App<Store>, job: &Job, t: &GateTarget) -> Outcome {
    let store = &app.api.rates;
    let entry = |kind, record| AuditEntry {
        kind,
        repository: &t.repository,
        run_id: t.run_id,
        environment: &t.environment,
        record,
    };
    let checked = if crate::app::runner::is_repo_slug(&t.repository) {
        callback::check(
            app.api.http.base(),
            &t.callback_url,
            &t.repository,
            t.run_id,
        )
    } else {
        Err("the delivery's repository is not a repository name; no request was sent".into())
    };
    let review_target = match checked {
        Ok(target) => target,
        Err(reason) => {
            let record = json!({
                "delivery": job.delivery_id, "installation": job.installation_id,
                "repository_id": t.repository_id, "deployment_id": t.deployment_id,
                "callback_url": ciguard_core::output::escape::text(&t.callback_url.chars().take(300).collect::<String>()),
                "reason": reason,
            });
            if let Err(e) = store.append_gate_audit(&entry("refused", record)).await {
                return retry_on_store(&e);
            }
            tracing::warn!(job = job.id, "{reason}");
            return Outcome::Dead { reason };
        }
    };
    let ledger = (
        t.repository_id,
        t.run_id,
        t.environment.as_str(),
        t.deployment_id,
    );
    match store
        .gate_review_state(ledger.0, ledger.1, ledger.2, ledger.3)
        .await
    {
        Ok(Some(ReviewState::Reviewed)) => {
            return Outcome::Done {
                summary: format!(
                    "{} run {} {}: already reviewed (duplicate delivery)",
                    t.repository, t.run_id, t.environment
                ),
            };
        }
        Ok(_) => {}
        Err(e) => return retry_on_store(&e),
    }
    match review(app, job, t, &review_target).await {
        Ok(summary) => app.outcome(job, Ok(summary)),
        Err(Failure::Api(e)) => app.outcome(job, Err(e)),
        Err(Failure::Store(e)) => retry_on_store(&e),
    }
}

enum Failure {
    Api(ApiError),
    Store(crate::store::StoreError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::Store(e)
    }
}

async fn review(
    app: &App<Store>,
    job: &Job,
    t: &GateTarget,
    review_target: &str,
) -> Result<String, Failure> {
    let store = &app.api.rates;
    let installation = job.installation_id;
    let config = configuration(app, installation, t).await?;
    let token = app
        .tokens
        .token(
            &app.api,
            installation,
            &[t.repository_id],
            &gate_permissions(),
        )
        .await?;
    let reader = Reader {
        app,
        installation,
        token,
        repo: &t.repository,
    };
    let (decision, evidence) = match config {
        Err(rejection) => (rejection, None),
        Ok(config) if config.environment != t.environment => (
            Decision::reject(
                "environment",
                format!(
                    "{} is not the configured release environment {}",
                    t.environment, config.environment
                ),
            ),
            None,
        ),
        Ok(config) => match reader.evidence(t.run_id).await {
            Ok(evidence) => (conditions::decide(&config, t, &evidence), Some(evidence)),
            // Refused for good (the run is gone, a permission is missing): default reject.
            Err(ApiError::Rejected(reason)) => (
                Decision::reject("evidence", format!("the run could not be read: {reason}")),
                None,
            ),
            Err(e) => return Err(e.into()),
        },
    };
    let record = evidence_record(job, t, evidence.as_ref(), &decision);
    store
        .set_gate_review_state(
            t.repository_id,
            t.run_id,
            &t.environment,
            t.deployment_id,
            ReviewState::Intent,
            decision.state(),
        )
        .await?;
    let intent = AuditEntry {
        kind: "intent",
        repository: &t.repository,
        run_id: t.run_id,
        environment: &t.environment,
        record,
    };
    store.append_gate_audit(&intent).await?;

    let body = json!({
        "environment_name": t.environment,
        "state": decision.state(),
        "comment": decision.comment(),
    });
    let response = app
        .api
        .call_raw(
            installation,
            &reader.token,
            Method::Post(json_body(&body)),
            review_target,
        )
        .await;
    let (status, result) = match &response {
        Ok(r) if r.is_success() => (r.status, "reviewed"),
        // GitHub no longer waits on this rule: an earlier attempt's review arrived.
        Ok(r) if r.status == 422 => (r.status, "already reviewed"),
        _ => (0, "failed"),
    };
    if result == "failed" {
        let error = match response {
            Ok(r) => crate::app::api::classify("POST", review_target, r)
                .err()
                .unwrap_or_else(|| ApiError::Transient("unexpected answer".into())),
            Err(e) => e,
        };
        let record =
            json!({"delivery": job.delivery_id, "result": "failed", "error": error.to_string()});
        store
            .append_gate_audit(&AuditEntry {
                kind: "outcome",
                record,
                ..intent
            })
            .await?;
        return Err(error.into());
    }
    // Afterwards: is the environment still waiting (on this rule or on others)?
    let pending: Result<Vec<PendingDeployment>, ApiError> = reader
        .get(&format!(
            "/repos/{}/actions/runs/{}/pending_deployments",
            t.repository, t.run_id
        ))
        .await;
    let pending_names: Option<Vec<String>> = pending
        .ok()
        .map(|p| p.into_iter().map(|d| d.environment.name).collect());
    let still_pending = pending_names
        .as_ref()
        .map(|names| names.contains(&t.environment));
    let record = json!({
        "delivery": job.delivery_id, "decision": decision.state(), "status": status,
        "result": result, "still_pending": still_pending, "pending_environments": pending_names,
    });
    store
        .append_gate_audit(&AuditEntry {
            kind: "outcome",
            record,
            ..intent
        })
        .await?;
    store
        .set_gate_review_state(
            t.repository_id,
            t.run_id,
            &t.environment,
            t.deployment_id,
            ReviewState::Reviewed,
            decision.state(),
        )
        .await?;
    Ok(format!(
        "{} run {} {}: {} ({result}); {}",
        t.repository,
        t.run_id,
        t.environment,
        decision.state(),
        decision.comment()
    ))
}
