//! The comment relay, the safe replacement for `pull_request_target` commenting: a workflow on
//! plain `pull_request` (no secrets, read-only token) leaves a small JSON message as the
//! artifact `ciguard-relay`; on `workflow_run` `completed` the App downloads it through the API
//! (the storage redirect followed without the token), reads the zip in memory with limits,
//! checks that the message names an open pull request of this repository whose head is the
//! run's commit, and creates or updates one escaped comment per (pull request, workflow), plus
//! labels from the configured allow-list. Nothing the run left is executed or written to disk.

pub mod message;
pub mod render;
pub mod zip;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::App;
use crate::app::api::{ApiError, classify, json_body};
use crate::app::checks::plain_text;
use crate::app::github::Method;
use crate::app::runner::Session;
use crate::app::tokens::relay_permissions;
use crate::job::{Job, RateLimitStore};
use crate::org_config::OrgConfigLoad;
use message::{ARTIFACT_NAME, MESSAGE_FILE, RelayConfig};

/// The archive as downloaded (GitHub reports `size_in_bytes` of the zip).
pub const MAX_ARCHIVE_BYTES: usize = 256 * 1024;
/// The zip's limits: a message is a few kilobytes.
pub const ZIP_LIMITS: zip::Limits = zip::Limits {
    max_archive: MAX_ARCHIVE_BYTES,
    max_entries: 16,
    max_entry: 128 * 1024,
    max_total: 512 * 1024,
};
/// Comment pages read to find the App's comment (100 per page).
const MAX_COMMENT_PAGES: usize = 30;

/// A completed `workflow_run` of a `pull_request` run, as ingress takes it from the webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayTarget {
    pub repository: String,
    pub repository_id: u64,
    pub run_id: u64,
    pub workflow_id: u64,
    /// `.github/workflows/<file>`, matched against the configuration.
    pub workflow_path: String,
    /// The workflow's name, shown escaped in the comment header.
    pub workflow_name: String,
    pub head_sha: String,
}

impl RelayTarget {
    /// One job per (repository, workflow, commit): a re-run of the same commit replaces a
    /// queued one and runs after a running one, so two jobs never race on one comment.
    pub fn key(&self) -> String {
        format!(
            "relay:{}:{}:{}",
            self.repository_id, self.workflow_id, self.head_sha
        )
    }
}

#[derive(Deserialize)]
struct Artifacts {
    artifacts: Vec<Artifact>,
}

#[derive(Deserialize)]
struct Artifact {
    id: u64,
    name: String,
    #[serde(default)]
    size_in_bytes: u64,
    #[serde(default)]
    expired: bool,
}

#[derive(Deserialize)]
struct Pull {
    state: String,
    head: PullHead,
    base: PullBase,
}

#[derive(Deserialize)]
struct PullHead {
    sha: String,
}

#[derive(Deserialize)]
struct PullBase {
    repo: RepoRef,
}

#[derive(Deserialize)]
struct RepoRef {
    id: u64,
}

#[derive(Deserialize)]
struct Comment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    performed_via_github_app: Option<AppRef>,
}

#[derive(Deserialize)]
struct AppRef {
    id: u64,
}

/// What one relay job did, for the job summary and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relayed {
    /// No `ciguard-relay` artifact on the run (or it expired): nothing to post.
    NoMessage(String),
    /// The artifact or message was refused; nothing was posted.
    Refused(String),
    Posted {
        pr: u64,
        comment: CommentAction,
        labels: Vec<String>,
        refused_labels: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    Created(u64),
    Updated(u64),
    Unchanged(u64),
}

impl std::fmt::Display for Relayed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Relayed::NoMessage(why) => write!(f, "nothing to relay: {why}"),
            Relayed::Refused(why) => write!(f, "relay refused: {why}"),
            Relayed::Posted {
                pr,
                comment,
                labels,
                refused_labels,
            } => {
                write!(f, "#{pr}: comment {comment:?}")?;
                if !labels.is_empty() {
                    write!(f, ", labels {}", labels.len())?;
                }
                if !refused_labels.is_empty() {
                    write!(f, ", {} labels refused", refused_labels.len())?;
                }
                Ok(())
            }
        }
    }
}

/// Why nothing was posted: a refusal (recorded as done) or a call that failed.
enum Stop {
    Refused(String),
    Api(ApiError),
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Self {
        Stop::Api(e)
    }
}

fn refuse<T>(why: impl Into<String>) -> Result<T, Stop> {
    Err(Stop::Refused(why.into()))
}

/// Whether `location` may be fetched: an absolute http(s) URL, `https` unless the API itself
/// is plain `http` (a test or an internal GitHub Enterprise Server).
fn storage_url_ok(location: &str, api_base: &str) -> bool {
    let https = location.starts_with("https://");
    let http_allowed = api_base.starts_with("http://") && location.starts_with("http://");
    (https || http_allowed) && ciguard_http::origin(location).is_some()
}

impl<R: RateLimitStore> App<R> {
    /// The job: reads the organization's `[relay]` section for the repository (off unless
    /// configured; a malformed file kills the job with the file and line, never defaults), then
    /// relays. A refusal is a done job whose summary says why.
    pub async fn relay(&self, job: &Job, t: &RelayTarget) -> Result<String, ApiError> {
        // The owner goes into the org file's URL: checked before any request.
        let Some((owner, name)) = t
            .repository
            .split_once('/')
            .filter(|_| crate::app::runner::is_repo_slug(&t.repository))
        else {
            return Err(ApiError::Rejected(format!(
                "not a repository name: {}",
                plain_text(&t.repository, 100)
            )));
        };
        let config = self
            .org_config(job.installation_id, owner)
            .await
            .and_then(|c| Ok(c.section::<RelayConfig>("relay", name)?));
        let config = match config {
            Ok(Some(config)) => config,
            Ok(None) => return Ok(format!("{}: the relay is off", t.repository)),
            Err(OrgConfigLoad::Api(e)) => return Err(e),
            Err(OrgConfigLoad::Invalid(e)) => {
                return Err(ApiError::Rejected(format!("the relay is not run: {e}")));
            }
        };
        let relayed = self.relay_with(job.installation_id, t, &config).await?;
        if matches!(relayed, Relayed::Refused(_)) {
            tracing::warn!(job = job.id, "{relayed}");
        }
        Ok(format!("{} run {}: {relayed}", t.repository, t.run_id))
    }

    /// Relays run `t` as `config` says. Refusals are results (the job is done); only failed
    /// calls are errors.
    pub async fn relay_with(
        &self,
        installation: u64,
        t: &RelayTarget,
        config: &RelayConfig,
    ) -> Result<Relayed, ApiError> {
        if !config.relays(&t.workflow_path) {
            return Ok(Relayed::NoMessage(format!(
                "workflow {} is not configured for the relay",
                plain_text(&t.workflow_path, 120)
            )));
        }
        if !crate::app::runner::is_repo_slug(&t.repository)
            || !crate::app::runner::is_hex_sha(&t.head_sha)
        {
            return Err(ApiError::Rejected(
                "the job's repository or head SHA is malformed".into(),
            ));
        }
        let token = self
            .tokens
            .token(
                &self.api,
                installation,
                &[t.repository_id],
                &relay_permissions(),
            )
            .await?;
        let run = Run {
            s: Session {
                app: self,
                installation,
                token,
                repo: &t.repository,
            },
            t,
        };
        match run.relay(config).await {
            Ok(done) => Ok(done),
            Err(Stop::Refused(why)) => Ok(Relayed::Refused(why)),
            Err(Stop::Api(e)) => Err(e),
        }
    }
}

/// One relay job's calls, through the job's session (its token for the one repository).
struct Run<'a, R> {
    s: Session<'a, R>,
    t: &'a RelayTarget,
}

impl<R: RateLimitStore> Run<'_, R> {
    async fn relay(&self, config: &RelayConfig) -> Result<Relayed, Stop> {
        let repo = &self.t.repository;
        let Some(artifact) = self.artifact().await? else {
            return Ok(Relayed::NoMessage(format!(
                "run {} has no artifact {ARTIFACT_NAME}",
                self.t.run_id
            )));
        };
        let Some(archive) = self.download(&artifact).await? else {
            return Ok(Relayed::NoMessage(format!(
                "artifact {} has expired",
                artifact.id
            )));
        };
        let bytes = zip::read_entry(&archive, MESSAGE_FILE, &ZIP_LIMITS)
            .map_err(|e| Stop::Refused(format!("artifact {}: {e}", artifact.id)))?;
        let message = message::parse(&bytes).map_err(Stop::Refused)?;
        if !message.head_sha.eq_ignore_ascii_case(&self.t.head_sha) {
            return refuse(format!(
                "the message names commit {}, the run ran on {}",
                plain_text(&message.head_sha, 70),
                self.t.head_sha
            ));
        }
        // The run's head must be the head of an open pull request of this repository: a fork's
        // run has no `pull_requests` in the event, so the message's number is checked instead.
        let (pull, _): (Pull, _) = match self
            .s
            .get(&format!("/repos/{repo}/pulls/{}", message.pr))
            .await
        {
            Ok(found) => found,
            Err(ApiError::Rejected(_)) => {
                return refuse(format!("pull request #{} does not exist", message.pr));
            }
            Err(e) => return Err(e.into()),
        };
        if pull.state != "open"
            || !pull.head.sha.eq_ignore_ascii_case(&self.t.head_sha)
            || pull.base.repo.id != self.t.repository_id
        {
            return refuse(format!(
                "pull request #{} is not an open pull request of {repo} whose head is {}",
                message.pr, self.t.head_sha
            ));
        }
        let (labels, refused_labels) = message::split_labels(&message, config);
        let body = render::comment(
            &message,
            &render::Context {
                workflow_id: self.t.workflow_id,
                workflow_name: &self.t.workflow_name,
                head_sha: &self.t.head_sha,
                refused_labels: &refused_labels,
                cap: config.comment_cap(),
            },
        );
        let comment = self.upsert_comment(message.pr, &body).await?;
        if !labels.is_empty() {
            self.s
                .write(
                    Method::Post(json_body(&json!({ "labels": labels }))),
                    &format!("/repos/{repo}/issues/{}/labels", message.pr),
                )
                .await?;
        }
        Ok(Relayed::Posted {
            pr: message.pr,
            comment,
            labels,
            refused_labels,
        })
    }

    /// The run's `ciguard-relay` artifact, if it has one.
    async fn artifact(&self) -> Result<Option<Artifact>, Stop> {
        let target = format!(
            "/repos/{}/actions/runs/{}/artifacts?name={ARTIFACT_NAME}&per_page=100",
            self.t.repository, self.t.run_id
        );
        let (list, _): (Artifacts, _) = self.s.get(&target).await?;
        let mut named = list
            .artifacts
            .into_iter()
            .filter(|a| a.name == ARTIFACT_NAME);
        let Some(artifact) = named.next() else {
            return Ok(None);
        };
        if named.next().is_some() {
            return refuse(format!(
                "the run has more than one {ARTIFACT_NAME} artifact"
            ));
        }
        if artifact.size_in_bytes > MAX_ARCHIVE_BYTES as u64 {
            return refuse(format!(
                "artifact {} is {} bytes, more than the {MAX_ARCHIVE_BYTES} allowed",
                artifact.id, artifact.size_in_bytes
            ));
        }
        Ok((!artifact.expired).then_some(artifact))
    }

    /// The artifact's zip: GitHub answers 302 to a storage host, fetched without the token.
    async fn download(&self, artifact: &Artifact) -> Result<Option<Vec<u8>>, Stop> {
        let target = format!(
            "/repos/{}/actions/artifacts/{}/zip",
            self.t.repository, artifact.id
        );
        let api = &self.s.app.api;
        let response = api
            .call_raw(self.s.installation, &self.s.token, Method::Get, &target)
            .await?;
        let body = match response.status {
            410 => return Ok(None),
            302 | 303 | 307 => {
                let location = response.header("location").unwrap_or_default().to_owned();
                if !storage_url_ok(&location, api.http.base()) {
                    return refuse(format!(
                        "artifact {} redirects to something other than an absolute https URL",
                        artifact.id
                    ));
                }
                let limit = MAX_ARCHIVE_BYTES as u64 + 1;
                let stored = api
                    .http
                    .get_without_credentials(&location, limit)
                    .await
                    .map_err(|e| {
                        ApiError::Transient(format!(
                            "artifact {} (larger than {MAX_ARCHIVE_BYTES} bytes, or the storage host failed): {e}",
                            artifact.id
                        ))
                    })?;
                match stored.status {
                    200 => stored.body,
                    410 => return Ok(None),
                    500..=599 => {
                        return Err(ApiError::Transient(format!(
                            "artifact {}: the storage host answered {}",
                            artifact.id, stored.status
                        ))
                        .into());
                    }
                    other => {
                        return refuse(format!(
                            "artifact {}: the storage host answered {other}",
                            artifact.id
                        ));
                    }
                }
            }
            _ => classify("GET", &target, response)?.body,
        };
        Ok(Some(body))
    }

    /// Creates the App's comment for this workflow on `pr`, or updates the one it has (found
    /// by the marker, among comments made by this App only).
    async fn upsert_comment(&self, pr: u64, body: &str) -> Result<CommentAction, Stop> {
        let repo = &self.t.repository;
        let marker = render::marker(self.t.workflow_id);
        let mut next = Some(format!("/repos/{repo}/issues/{pr}/comments?per_page=100"));
        let mut found = None;
        for _ in 0..MAX_COMMENT_PAGES {
            let Some(target) = next.take() else { break };
            let (page, link): (Vec<Comment>, _) = self.s.get(&target).await?;
            found = page.into_iter().find(|c| {
                c.performed_via_github_app
                    .as_ref()
                    .is_some_and(|a| a.id == self.s.app.app_id())
                    && c.body.as_deref().is_some_and(|b| b.starts_with(&marker))
            });
            if found.is_some() {
                break;
            }
            next = link;
        }
        let payload = json_body(&json!({ "body": body }));
        match found {
            Some(c) if c.body.as_deref() == Some(body) => Ok(CommentAction::Unchanged(c.id)),
            Some(c) => {
                self.s
                    .write(
                        Method::Patch(payload),
                        &format!("/repos/{repo}/issues/comments/{}", c.id),
                    )
                    .await?;
                Ok(CommentAction::Updated(c.id))
            }
            None => {
                let created = self
                    .s
                    .write(
                        Method::Post(payload),
                        &format!("/repos/{repo}/issues/{pr}/comments"),
                    )
                    .await?;
                let id = created.get("id").and_then(Value::as_u64).unwrap_or(0);
                Ok(CommentAction::Created(id))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_urls_must_be_https_unless_the_api_is_plain_http() {
        let api = "https://api.github.com";
        assert!(storage_url_ok("https://pipelines.example/x?sig=1", api));
        assert!(!storage_url_ok("http://pipelines.example/x", api));
        assert!(!storage_url_ok("file:///etc/passwd", api));
        assert!(!storage_url_ok("/relative", api));
        assert!(!storage_url_ok("", api));
        assert!(storage_url_ok("http://127.0.0.1:9/x", "http://127.0.0.1:8"));
    }

    #[test]
    fn one_job_per_workflow_and_commit() {
        let t = RelayTarget {
            repository: "o/r".into(),
            repository_id: 1,
            run_id: 9,
            workflow_id: 3,
            workflow_path: ".github/workflows/relay.yml".into(),
            workflow_name: "Relay".into(),
            head_sha: "a".repeat(40),
        };
        let mut rerun = t.clone();
        rerun.run_id = 10;
        assert_eq!(t.key(), rerun.key());
        assert!(t.key().starts_with("relay:1:3:"));
    }
}
