//! The App's [`JobRunner`]: a pull request or push audit read entirely through the API (never a
//! checkout, never a process), reported as one `ciguard` check run on the audited SHA.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::{Api, ApiError, json_body};
use super::audit::{self, Audited, MAX_FILE_BYTES, audit_files};
use super::checks::{self, CHECK_NAME, CheckReport, ReportPolicy};
use super::github::{Http, Method};
use super::key::AppKey;
use super::secret::Secret;
use super::tokens::{Tokens, audit_permissions};
use crate::job::{Job, JobPayload, JobRunner, Outcome, PrTarget, PushTarget, RateLimitStore};

/// GitHub lists at most this many files of a pull request; beyond, the whole tree is audited.
pub const PR_FILES_CAP: u64 = 3_000;
const PER_PAGE: usize = 100;

/// How the App is set up.
#[derive(Debug, Clone)]
pub struct AppSettings {
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    pub api_url: String,
    pub policy: ReportPolicy,
    /// Least time between two writes (POST/PATCH) of one installation.
    pub write_interval: Duration,
    /// At most this many files are read and audited per job; the others are named in the
    /// summary as not audited.
    pub max_files: usize,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            api_url: "https://api.github.com".into(),
            policy: ReportPolicy::default(),
            write_interval: Duration::from_secs(1),
            max_files: 1_000,
        }
    }
}

/// The App: its key, tokens, HTTP client and the shared rate-limit budget.
#[derive(Debug)]
pub struct App<R> {
    pub api: Api<R>,
    pub tokens: Tokens,
    app_id: u64,
    policy: ReportPolicy,
    max_files: usize,
}

#[derive(Deserialize)]
struct PullRequest {
    head: Head,
    #[serde(default)]
    changed_files: u64,
}

#[derive(Deserialize)]
struct Head {
    sha: String,
}

#[derive(Deserialize)]
struct PrFile {
    filename: String,
    status: String,
}

#[derive(Deserialize)]
struct Tree {
    tree: Vec<TreeEntry>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Deserialize, Clone)]
struct TreeEntry {
    path: String,
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize)]
struct Blob {
    content: String,
    encoding: String,
}

#[derive(Deserialize)]
struct CheckRuns {
    check_runs: Vec<CheckRun>,
}

#[derive(Deserialize)]
struct CheckRun {
    id: u64,
    name: String,
    app: Option<AppRef>,
    output: Option<RunOutput>,
}

#[derive(Deserialize)]
struct RunOutput {
    #[serde(default)]
    annotations_count: u64,
}

/// The check run a job reports into.
#[derive(Debug, Clone, Copy)]
struct Target {
    id: u64,
    /// It already has annotations (a re-run of the same commit): GitHub appends annotations and
    /// cannot replace them, so they are not sent again.
    annotated: bool,
}

#[derive(Deserialize)]
struct AppRef {
    id: u64,
}

#[derive(Deserialize)]
struct Created {
    id: u64,
}

/// One job's view: an installation token scoped to the one repository it works on.
pub(crate) struct Session<'a, R> {
    pub(crate) app: &'a App<R>,
    pub(crate) installation: u64,
    pub(crate) token: Secret,
    pub(crate) repo: &'a str,
}

impl<R: RateLimitStore> Session<'_, R> {
    /// A GET of this job's, decoded, with the next page's address.
    pub(crate) async fn get<T: for<'de> Deserialize<'de>>(
        &self,
        target: &str,
    ) -> Result<(T, Option<String>), ApiError> {
        self.app
            .api
            .get_page(self.installation, &self.token, target)
            .await
    }

    /// A write of this job's whose answer is JSON.
    pub(crate) async fn write(&self, method: Method, target: &str) -> Result<Value, ApiError> {
        self.app
            .api
            .write_json(self.installation, &self.token, method, target)
            .await
    }

    /// The `ciguard` check run of this App on `sha`, if there is one.
    async fn existing_check_run(&self, sha: &str) -> Result<Option<Target>, ApiError> {
        let target = format!(
            "/repos/{}/commits/{sha}/check-runs?check_name={CHECK_NAME}&app_id={}&filter=all&per_page={PER_PAGE}",
            self.repo, self.app.app_id
        );
        let (runs, _): (CheckRuns, _) = self.get(&target).await?;
        Ok(runs
            .check_runs
            .into_iter()
            .find(|r| {
                r.name == CHECK_NAME && r.app.as_ref().is_some_and(|a| a.id == self.app.app_id)
            })
            .map(|r| Target {
                id: r.id,
                annotated: r.output.is_some_and(|o| o.annotations_count > 0),
            }))
    }

    /// The check run on `sha` to report into: the existing one, else a new one in progress.
    async fn start_check_run(&self, sha: &str) -> Result<Target, ApiError> {
        if let Some(target) = self.existing_check_run(sha).await? {
            return Ok(target);
        }
        let body = json!({"name": CHECK_NAME, "head_sha": sha, "status": "in_progress"});
        let created = self
            .write(
                Method::Post(json_body(&body)),
                &format!("/repos/{}/check-runs", self.repo),
            )
            .await?;
        let created: Created = serde_json::from_value(created)
            .map_err(|e| ApiError::Transient(format!("check run created without an id: {e}")))?;
        Ok(Target {
            id: created.id,
            annotated: false,
        })
    }

    /// Sends `report` into check run `run`: one update per batch of annotations, the last one
    /// completing it (one update when there are none, or when the run has its annotations).
    async fn complete(&self, run: Target, report: &CheckReport) -> Result<(), ApiError> {
        let target = format!("/repos/{}/check-runs/{}", self.repo, run.id);
        let kept;
        let (report, batches): (&CheckReport, Vec<&[Value]>) =
            if run.annotated && !report.batches.is_empty() {
                kept = checks::annotations_kept(report);
                (&kept, vec![&[]])
            } else if report.batches.is_empty() {
                (report, vec![&[]])
            } else {
                (report, report.batches.iter().map(Vec::as_slice).collect())
            };
        let last = batches.len() - 1;
        for (i, batch) in batches.into_iter().enumerate() {
            let mut body = json!({"output": checks::output(report, batch)});
            if i == last {
                body["status"] = json!("completed");
                body["conclusion"] = json!(report.conclusion);
            }
            self.write(Method::Patch(json_body(&body)), &target).await?;
        }
        Ok(())
    }

    /// Completes the check run on `sha` with `report` in as few requests as possible.
    async fn report_on(&self, sha: &str, report: &CheckReport) -> Result<(), ApiError> {
        if report.batches.is_empty() && self.existing_check_run(sha).await?.is_none() {
            let body = json!({
                "name": CHECK_NAME, "head_sha": sha, "status": "completed",
                "conclusion": report.conclusion, "output": checks::output(report, &[]),
            });
            self.write(
                Method::Post(json_body(&body)),
                &format!("/repos/{}/check-runs", self.repo),
            )
            .await?;
            return Ok(());
        }
        let run = self.start_check_run(sha).await?;
        self.complete(run, report).await
    }

    /// Completes check run `id` with the report `work` produces. When GitHub refuses a request
    /// for good, the run is completed as a failure that says why (never left in progress, never
    /// passing a commit that was not audited); limits and transient errors leave it in progress
    /// for the next attempt.
    async fn finish_on_refusal(
        &self,
        run: Target,
        work: impl std::future::Future<Output = Result<CheckReport, ApiError>>,
    ) -> Result<CheckReport, ApiError> {
        match work.await {
            Ok(report) => {
                self.complete(run, &report).await?;
                Ok(report)
            }
            Err(ApiError::Rejected(reason)) => {
                // Best effort: the job is dead either way, with the original reason.
                let _ = self.complete(run, &checks::not_audited(&reason)).await;
                Err(ApiError::Rejected(reason))
            }
            Err(e) => Err(e),
        }
    }

    /// The whole tree at `sha` (symlinks and submodules are not files to read).
    async fn tree(&self, sha: &str) -> Result<Tree, ApiError> {
        let target = format!("/repos/{}/git/trees/{sha}?recursive=1", self.repo);
        let (mut tree, _): (Tree, _) = self.get(&target).await?;
        tree.tree
            .retain(|e| e.kind == "blob" && (e.mode == "100644" || e.mode == "100755"));
        Ok(tree)
    }

    async fn blob(&self, sha: &str) -> Result<Vec<u8>, ApiError> {
        if !is_hex_sha(sha) {
            return Err(ApiError::Rejected(format!(
                "not a blob SHA: {}",
                checks::plain_text(sha, 80)
            )));
        }
        let target = format!("/repos/{}/git/blobs/{sha}", self.repo);
        let (blob, _): (Blob, _) = self.get(&target).await?;
        if blob.encoding != "base64" {
            return Err(ApiError::Rejected(format!(
                "blob {sha} is not base64-encoded"
            )));
        }
        let compact: String = blob
            .content
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|e| ApiError::Transient(format!("blob {sha}: {e}")))
    }

    /// The paths the pull request changes (renames by their new name), at most GitHub's cap.
    async fn pr_files(&self, number: u64) -> Result<Vec<String>, ApiError> {
        let mut next = Some(format!(
            "/repos/{}/pulls/{number}/files?per_page={PER_PAGE}",
            self.repo
        ));
        let mut files = Vec::new();
        let max_pages = PR_FILES_CAP as usize / PER_PAGE;
        for _ in 0..max_pages {
            let Some(target) = next.take() else { break };
            let (page, link): (Vec<PrFile>, _) = self.get(&target).await?;
            files.extend(
                page.into_iter()
                    .filter(|f| f.status != "removed")
                    .map(|f| f.filename),
            );
            next = link;
        }
        Ok(files)
    }

    /// Reads the audited files among `wanted` (all relevant ones when `None`) from `tree`, plus
    /// the configuration and actions lock, and audits them.
    async fn audit_tree(
        &self,
        tree: &Tree,
        wanted: Option<&[String]>,
        notes: &mut Vec<String>,
    ) -> Result<Result<Audited, String>, ApiError> {
        if tree.truncated {
            notes.push("the repository tree is too large for GitHub to list whole; files it left out were not audited".into());
        }
        let wanted: Option<HashSet<&str>> = wanted.map(|w| w.iter().map(String::as_str).collect());
        // A changed dependency file is judged against the repository's whole cooldown
        // configuration, wherever it is; findings stay on the changed files (below).
        let dependency_context = wanted
            .as_ref()
            .is_none_or(|w| w.iter().any(|p| audit::is_dependency_file(p)));
        let chosen = |e: &&TreeEntry| {
            audit::is_support_file(&e.path)
                || ((audit::audited_kind(&e.path).is_some() || audit::is_dependency_file(&e.path))
                    && wanted.as_ref().is_none_or(|w| w.contains(e.path.as_str())))
                || (dependency_context && audit::is_dependency_context(&e.path))
        };
        let mut files = Vec::new();
        let mut not_read = Vec::new();
        let mut audited_files = 0;
        for entry in tree.tree.iter().filter(chosen) {
            if entry.size.is_some_and(|s| s > MAX_FILE_BYTES) {
                not_read.push((
                    entry.path.clone(),
                    format!("larger than {MAX_FILE_BYTES} bytes"),
                ));
                continue;
            }
            // The configuration and the actions lock are always read: never audit with
            // defaults because the cap was reached.
            let support = audit::is_support_file(&entry.path);
            if !support && audited_files >= self.app.max_files {
                let cap = self.app.max_files;
                not_read.push((
                    entry.path.clone(),
                    format!("beyond the {cap} files read per audit"),
                ));
                continue;
            }
            audited_files += usize::from(!support);
            files.push((entry.path.clone(), self.blob(&entry.sha).await?));
        }
        let config = ciguard_core::config::FILE_NAMES
            .iter()
            .find_map(|name| files.iter().find(|(p, _)| p == name))
            .map(|(_, bytes)| String::from_utf8_lossy(bytes).into_owned());
        let mut audited = match audit_files(files, config.as_deref()) {
            Ok(audited) => audited,
            Err(e) => return Ok(Err(e.to_string())),
        };
        if let Some(wanted) = &wanted {
            audited
                .findings
                .retain(|f| wanted.contains(f.path.as_str()));
        }
        audited.skipped.extend(
            not_read
                .into_iter()
                .map(|(path, reason)| audit::Skipped { path, reason }),
        );
        Ok(Ok(audited))
    }
}

pub(crate) fn is_hex_sha(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `owner/name` as GitHub spells repositories (so it is safe in a URL path).
pub(crate) fn is_repo_slug(s: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    s.split_once('/')
        .is_some_and(|(owner, name)| ok(owner) && ok(name))
}

impl<R: RateLimitStore> App<R> {
    pub fn new(key: AppKey, rates: R, settings: AppSettings) -> Self {
        let app_id = key.app_id();
        Self {
            api: Api::new(Http::new(&settings.api_url), rates, settings.write_interval),
            tokens: Tokens::new(key),
            app_id,
            policy: settings.policy,
            max_files: settings.max_files,
        }
    }

    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    async fn session<'a>(
        &'a self,
        installation: u64,
        repo: &'a str,
        repo_id: u64,
    ) -> Result<Session<'a, R>, ApiError> {
        if !is_repo_slug(repo) {
            return Err(ApiError::Rejected(format!(
                "not a repository name: {}",
                checks::plain_text(repo, 100)
            )));
        }
        let token = self
            .tokens
            .token(&self.api, installation, &[repo_id], &audit_permissions())
            .await?;
        Ok(Session {
            app: self,
            installation,
            token,
            repo,
        })
    }

    async fn pr_audit(&self, job: &Job, t: &PrTarget) -> Result<String, ApiError> {
        if !is_hex_sha(&t.head_sha) {
            return Err(ApiError::Rejected("the job's head SHA is not a SHA".into()));
        }
        // A fork's pull request is read through the base repository, with a token for it alone.
        let s = self
            .session(job.installation_id, &t.repository, t.repository_id)
            .await?;
        let (pr, _): (PullRequest, _) = s
            .get(&format!("/repos/{}/pulls/{}", t.repository, t.number))
            .await?;
        if pr.head.sha != t.head_sha {
            s.report_on(&t.head_sha, &checks::superseded(&t.head_sha, &pr.head.sha))
                .await?;
            return Ok(format!(
                "{}#{}: head moved to {}, superseded",
                t.repository, t.number, pr.head.sha
            ));
        }
        let run = s.start_check_run(&t.head_sha).await?;
        let report = s
            .finish_on_refusal(run, self.pr_report(&s, t, pr.changed_files))
            .await?;
        Ok(format!(
            "{}#{} at {}: {} ({})",
            t.repository, t.number, t.head_sha, report.conclusion, report.title
        ))
    }

    /// The report of a pull request whose head is `t.head_sha`.
    async fn pr_report(
        &self,
        s: &Session<'_, R>,
        t: &PrTarget,
        changed_files: u64,
    ) -> Result<CheckReport, ApiError> {
        let mut notes = Vec::new();
        let wanted = if changed_files > PR_FILES_CAP {
            notes.push(format!(
                "the pull request changes more than {PR_FILES_CAP} files, more than GitHub lists: every workflow, action and Dependabot file of the head was audited"
            ));
            None
        } else {
            let files = s.pr_files(t.number).await?;
            if files
                .iter()
                .any(|f| ciguard_core::config::FILE_NAMES.contains(&f.as_str()))
            {
                notes.push("this pull request changes the ciguard configuration; the audit used the changed file".into());
            }
            Some(files)
        };
        let tree = s.tree(&t.head_sha).await?;
        Ok(
            match s.audit_tree(&tree, wanted.as_deref(), &mut notes).await? {
                Ok(audited) => checks::report(&audited, self.policy, &t.head_sha, &notes),
                Err(config) => checks::bad_config(&config),
            },
        )
    }

    async fn push_audit(&self, job: &Job, t: &PushTarget) -> Result<String, ApiError> {
        if !is_hex_sha(&t.after) {
            return Err(ApiError::Rejected(
                "the job's pushed SHA is not a SHA".into(),
            ));
        }
        let s = self
            .session(job.installation_id, &t.repository, t.repository_id)
            .await?;
        let run = s.start_check_run(&t.after).await?;
        let work = async {
            let tree = s.tree(&t.after).await?;
            let mut notes = Vec::new();
            Ok(match s.audit_tree(&tree, None, &mut notes).await? {
                Ok(audited) => checks::report(&audited, self.policy, &t.after, &notes),
                Err(config) => checks::bad_config(&config),
            })
        };
        let report = s.finish_on_refusal(run, work).await?;
        Ok(format!(
            "{} at {}: {} ({})",
            t.repository, t.after, report.conclusion, report.title
        ))
    }
}

impl<R: RateLimitStore> JobRunner for App<R> {
    async fn run(&self, job: &Job) -> Outcome {
        let result = match &job.payload {
            JobPayload::PrAudit(t) => self.pr_audit(job, t).await,
            JobPayload::PushAudit(t) => self.push_audit(job, t).await,
            JobPayload::Relay(t) => self.relay(job, t).await,
            // Drift keeps its issues in the store: run by `wiring::Runner`, which has it.
            JobPayload::Drift(_) => Err(ApiError::Rejected(
                "drift jobs need the App with its store".into(),
            )),
            // Needs the store's audit log: run by `wiring::Runner` (`gate::review::run`).
            JobPayload::GateReview(_) => Err(ApiError::Rejected(
                "release-gate jobs are run with the store (wiring::Runner)".into(),
            )),
        };
        self.outcome(job, result)
    }
}

impl<R> App<R> {
    /// What the queue records for a job that ended with `result`, logged; a 401 drops the
    /// installation's cached tokens so the next attempt mints new ones.
    pub(crate) fn outcome(&self, job: &Job, result: Result<String, ApiError>) -> Outcome {
        match result {
            Ok(summary) => {
                tracing::info!(job = job.id, delivery = %job.delivery_id, "{summary}");
                Outcome::Done { summary }
            }
            Err(e) => {
                if matches!(e, ApiError::Unauthorized(_)) {
                    self.tokens.forget(job.installation_id);
                }
                tracing::warn!(job = job.id, delivery = %job.delivery_id, "{e}");
                e.into_outcome()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_and_shas_reach_a_url() {
        assert!(is_repo_slug("octo-org/my.repo_1"));
        assert!(!is_repo_slug("octo/../x"));
        assert!(!is_repo_slug("octo/a/b"));
        assert!(!is_repo_slug("octo/a?x=1"));
        assert!(!is_repo_slug("/a"));
        assert!(is_hex_sha(&"a".repeat(40)));
        assert!(!is_hex_sha(&"g".repeat(40)));
        assert!(!is_hex_sha("abc"));
    }
}
