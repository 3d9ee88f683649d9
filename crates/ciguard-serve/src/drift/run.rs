//! A drift job: the organization's configuration, the settings checks read through
//! `ciguard-github`'s blocking client on tokio's blocking pool (a per-job token with read
//! permissions only, the App's API base URL, ETags kept in memory per installation), then one
//! issue per (subject, check) kept under a lock in the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use ciguard_core::config::Config;
use ciguard_github::{Client, ClientConfig, Revalidation, Token};
use ciguard_pipeline::{FindingFilter, View};
use ciguard_settings::live::LiveSource;
use ciguard_settings::{Options, Outcome as CheckOutcome, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::DriftTarget;
use super::config::DriftConfig;
use super::issue::{self, Failing, Found, Plan, Result as CheckResult, Stored};
use super::state::{holder, now};
use crate::app::App;
use crate::app::api::{ApiError, classify, decode, json_body};
use crate::app::checks::plain_text;
use crate::app::github::Method;
use crate::app::secret::Secret;
use crate::app::tokens::{drift_issue_permissions, drift_org_permissions, drift_read_permissions};
use crate::job::{Job, Outcome, RateLimitStore};
use crate::org_config::{ORG_CONFIG_PATH, ORG_CONFIG_REPO, OrgConfigError, OrgConfigLoad};
use crate::store::Store;

/// The check id of the issue that reports a malformed organization or repository configuration.
pub const CONFIG_CHECK: &str = "ciguard-app-toml";
/// The check id of the issue that reports a repository `ciguard.toml` that does not parse.
pub const REPO_CONFIG_CHECK: &str = "ciguard-toml";
/// How long a job waits for another replica's lock on one (subject, check) before retrying.
const LOCK_WAIT: Duration = Duration::from_secs(20);
/// ETag entries and bytes kept per installation.
const KEPT_ENTRIES: usize = 20_000;
const KEPT_BYTES: usize = 32 * 1024 * 1024;

/// Kept answers per (API base, installation).
type KeptAnswers = Mutex<HashMap<(String, u64), Arc<Revalidation>>>;

/// The answers kept for revalidation, per (API base, installation), for the process's life.
fn kept_answers(api_url: &str, installation: u64) -> Arc<Revalidation> {
    static KEPT: OnceLock<KeptAnswers> = OnceLock::new();
    let map = KEPT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Arc::clone(
        map.entry((api_url.to_owned(), installation))
            .or_insert_with(|| Arc::new(Revalidation::new(KEPT_ENTRIES, KEPT_BYTES))),
    )
}

/// What one job did to the issues, for its summary.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub checks: usize,
    pub failing: usize,
    pub unknown: usize,
    pub created: usize,
    pub updated: usize,
    pub reopened: usize,
    pub pinged: usize,
    pub closed: usize,
    /// Issues disabled on the receiving repository (410): recorded, not retried.
    pub disabled: usize,
    /// Requests of the settings read (the blocking client's count).
    pub reads: usize,
}

impl Tally {
    fn count(&mut self, plan: &Plan) {
        match plan {
            Plan::Create => self.created += 1,
            Plan::Update => self.updated += 1,
            Plan::Reopen => self.reopened += 1,
            Plan::Ping => self.pinged += 1,
            Plan::Close => self.closed += 1,
            Plan::Nothing | Plan::Read => {}
        }
    }

    fn summary(&self, subject: &str) -> String {
        let mut s = format!(
            "drift {subject}: {} checks ({} failing, {} unknown), {} settings requests; issues:",
            self.checks, self.failing, self.unknown, self.reads
        );
        let parts = [
            (self.created, "created"),
            (self.updated, "updated"),
            (self.reopened, "reopened"),
            (self.pinged, "pinged"),
            (self.closed, "closed"),
            (self.disabled, "skipped (issues disabled)"),
        ];
        let written: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!(" {n} {what}"))
            .collect();
        if written.is_empty() {
            s.push_str(" unchanged");
        } else {
            s.push_str(&written.join(","));
        }
        s
    }
}

/// Where a subject's issues go, with a token that may write issues there.
struct Place {
    repo: String,
    token: Secret,
}

/// Which issue: one per (subject, check), kept in `place` with the installation's token.
#[derive(Clone, Copy)]
struct IssueKey<'a> {
    installation: u64,
    place: &'a Place,
    subject: &'a str,
    check: &'a str,
}

/// How a write to an issue ended.
enum Wrote {
    Done(Value),
    /// 410: the repository has issues turned off.
    Disabled,
}

#[derive(Deserialize)]
struct IssueJson {
    number: u64,
    #[serde(default)]
    body: Option<String>,
    state: String,
}

#[derive(Deserialize)]
struct ContentsJson {
    #[serde(default)]
    encoding: String,
    #[serde(default)]
    content: String,
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 100
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The web address settings links point to: GitHub Enterprise Server's host for its API.
fn web_url(api_url: &str) -> String {
    let api = api_url.trim_end_matches('/');
    match api.strip_suffix("/api/v3") {
        Some(host) if api != "https://api.github.com" => host.to_owned(),
        _ => "https://github.com".to_owned(),
    }
}

impl App<Store> {
    /// Runs one drift job; the outcome the queue records.
    pub async fn drift(&self, job: &Job, target: &DriftTarget) -> Outcome {
        let result = self.drift_job(job.installation_id, target).await;
        self.outcome(job, result)
    }

    /// The job; its summary, or why GitHub did not let it finish.
    pub async fn drift_job(
        &self,
        installation: u64,
        target: &DriftTarget,
    ) -> Result<String, ApiError> {
        let owner = target.owner.as_str();
        let name = match &target.repository {
            Some(full) => match full.split_once('/') {
                Some((o, n)) if o == owner && is_name(n) => Some(n),
                _ => None,
            }
            .map(Some)
            .ok_or_else(|| {
                ApiError::Rejected(format!("not a repository name: {}", plain_text(full, 100)))
            })?,
            None => None,
        };
        if !is_name(owner) {
            return Err(ApiError::Rejected(format!(
                "not an owner name: {}",
                plain_text(owner, 100)
            )));
        }
        let subject_name = target
            .repository
            .clone()
            .unwrap_or_else(|| format!("organization {owner}"));
        let org = match self.org_config(installation, owner).await {
            Ok(org) => org,
            Err(OrgConfigLoad::Api(e)) => return Err(e),
            Err(OrgConfigLoad::Invalid(e)) => {
                return self.bad_org_config(installation, owner, &e).await;
            }
        };
        let section = match name {
            Some(n) => org.section::<DriftConfig>("drift", n),
            None => org.org_section::<DriftConfig>("drift"),
        };
        let config = match section {
            Ok(Some(config)) => config,
            Ok(None) => {
                self.org_config_fine(installation, owner).await?;
                return Ok(format!(
                    "drift {subject_name}: off (not enabled in {ORG_CONFIG_REPO}/{ORG_CONFIG_PATH})"
                ));
            }
            Err(e) => return self.bad_org_config(installation, owner, &e).await,
        };
        self.org_config_fine(installation, owner).await?;
        let mut tally = Tally::default();
        let results = match (name, target.repository_id) {
            (Some(n), Some(id)) => {
                self.repo_results(installation, owner, n, id, &mut tally)
                    .await?
            }
            (None, _) => self.org_results(installation, owner, &mut tally).await?,
            (Some(_), None) => {
                return Err(ApiError::Rejected("a repository job without its id".into()));
            }
        };
        let place = self.place(installation, target, &config).await?;
        let subject = target.subject();
        for (check, result) in &results {
            tally.checks += 1;
            match result {
                CheckResult::Fail(_) => tally.failing += 1,
                CheckResult::Unknown => tally.unknown += 1,
                CheckResult::Pass => {}
            }
            let key = IssueKey {
                installation,
                place: &place,
                subject: &subject,
                check,
            };
            self.keep_issue(key, result, &config, &mut tally).await?;
        }
        Ok(tally.summary(&subject_name))
    }

    /// Where the issues of `target` go: the central repository, the repository itself, or
    /// (organization checks) the `.github` repository.
    async fn place(
        &self,
        installation: u64,
        target: &DriftTarget,
        config: &DriftConfig,
    ) -> Result<Place, ApiError> {
        let permissions = drift_issue_permissions();
        let (repo, token) = match (
            &config.central_repository,
            &target.repository,
            target.repository_id,
        ) {
            (Some(central), _, _) => (
                format!("{}/{central}", target.owner),
                self.tokens
                    .token_for_names(&self.api, installation, &[central.as_str()], &permissions)
                    .await?,
            ),
            (None, Some(full), Some(id)) => (
                full.clone(),
                self.tokens
                    .token(&self.api, installation, &[id], &permissions)
                    .await?,
            ),
            _ => (
                format!("{}/{ORG_CONFIG_REPO}", target.owner),
                self.tokens
                    .token_for_names(&self.api, installation, &[ORG_CONFIG_REPO], &permissions)
                    .await?,
            ),
        };
        Ok(Place { repo, token })
    }

    /// Reports a malformed `ciguard-app.toml` as an issue in the `.github` repository (the
    /// central repository is itself named by the file that cannot be read). No check runs.
    async fn bad_org_config(
        &self,
        installation: u64,
        owner: &str,
        error: &OrgConfigError,
    ) -> Result<String, ApiError> {
        let place = self
            .place(
                installation,
                &DriftTarget::org(owner),
                &DriftConfig::default(),
            )
            .await?;
        let failing = issue::failing(
            CONFIG_CHECK,
            "the organization's ciguard-app.toml is malformed; no drift check runs until it is fixed (defaults are never used instead)",
            "",
            &format!("{owner}/{ORG_CONFIG_REPO}"),
            &[error.to_string()],
        );
        let mut tally = Tally::default();
        let key = IssueKey {
            installation,
            place: &place,
            subject: &DriftTarget::org(owner).subject(),
            check: CONFIG_CHECK,
        };
        let failing = CheckResult::Fail(failing);
        self.keep_issue(key, &failing, &DriftConfig::default(), &mut tally)
            .await?;
        Ok(format!(
            "drift {owner}: {ORG_CONFIG_REPO}/{ORG_CONFIG_PATH} is malformed ({}); reported, no check ran",
            plain_text(&error.to_string(), 200)
        ))
    }

    /// The configuration reads again: closes the issue that said it did not (no request when
    /// none is open).
    async fn org_config_fine(&self, installation: u64, owner: &str) -> Result<(), ApiError> {
        let subject = DriftTarget::org(owner).subject();
        let store = &self.api.rates;
        let open = store
            .drift_issue(&subject, CONFIG_CHECK)
            .await
            .map_err(store_error)?
            .is_some_and(|s| s.state == "open");
        if !open {
            return Ok(());
        }
        let place = self
            .place(
                installation,
                &DriftTarget::org(owner),
                &DriftConfig::default(),
            )
            .await?;
        let mut tally = Tally::default();
        let key = IssueKey {
            installation,
            place: &place,
            subject: &subject,
            check: CONFIG_CHECK,
        };
        self.keep_issue(key, &CheckResult::Pass, &DriftConfig::default(), &mut tally)
            .await
    }

    /// `ciguard.toml` (or `.github/ciguard.toml`) of `repo` at its default branch: `Ok(None)`
    /// when it has none, `Err(message)` when it does not parse.
    async fn repo_config(
        &self,
        installation: u64,
        token: &Secret,
        repo: &str,
    ) -> Result<std::result::Result<Option<Config>, String>, ApiError> {
        for path in ciguard_core::config::FILE_NAMES {
            let target = format!("/repos/{repo}/contents/{path}");
            let response = self
                .api
                .call_raw(installation, token, Method::Get, &target)
                .await?;
            if response.status == 404 {
                continue;
            }
            let response = classify("GET", &target, response)?;
            let file: ContentsJson = decode(&response, &target)?;
            let compact: String = file.content.split_whitespace().collect();
            let text = (file.encoding == "base64")
                .then(|| {
                    base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .ok()
                })
                .flatten()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            let Some(text) = text else {
                return Ok(Err(format!("{path}: not UTF-8 text GitHub sent as base64")));
            };
            return Ok(
                Config::parse(&text, ciguard_pipeline::catalogue::catalogue())
                    .map(Some)
                    .map_err(|e| format!("{path}: {e}")),
            );
        }
        Ok(Ok(None))
    }

    /// The settings options and finding filter of a repository's configuration.
    fn options_of(
        &self,
        config: Option<Config>,
    ) -> std::result::Result<(Options, FindingFilter), String> {
        let config = config.unwrap_or_default();
        let mut options = match config.raw.get("settings") {
            Some(toml::Value::Table(t)) => {
                Options::from_toml(t).map_err(|e| format!("[settings]: {e}"))?
            }
            Some(_) => return Err("`settings` must be a table".into()),
            None => Options::default(),
        };
        options.web_url = web_url(self.api.http.base());
        let filter = FindingFilter {
            config: Arc::new(config),
            baseline: None,
            view: View::default(),
        };
        Ok((options, filter))
    }

    /// A client for the settings reads, with `token` and the App's API base URL (never one a
    /// configuration names).
    fn settings_client(&self, installation: u64, token: &Secret) -> Client {
        let api_url = self.api.http.base().to_owned();
        Client::new(ClientConfig {
            api_url: api_url.clone(),
            token: Token::short_lived(token.expose()),
            cache_dir: None,
            max_concurrency: 4,
            // Room for retry backoff, none for a rate limit: a limited installation defers
            // the job (the queue's contract: no worker sleeps on a limit).
            max_wait: Duration::from_secs(2),
            revalidation: Some(kept_answers(&api_url, installation)),
            ..ClientConfig::default()
        })
    }

    /// A rate limit met by the blocking client, recorded in the shared budget for a while
    /// (its reset time stays inside that client) so no replica reads for this installation.
    async fn limited(&self, installation: u64, reason: String) -> ApiError {
        let until = std::time::SystemTime::now() + Duration::from_secs(60);
        self.api
            .rates
            .record(
                installation,
                crate::job::RateState {
                    remaining: Some(0),
                    reset: Some(until),
                    retry_after: None,
                    secondary: false,
                },
            )
            .await;
        ApiError::Limited {
            until,
            reason: format!("settings read: {}", plain_text(&reason, 300)),
        }
    }

    /// Runs the settings checks `checks` with the blocking settings client on `token` (the
    /// budget checked first, the client's reads counted), each as an issue result on
    /// `subject`, after the passing configuration check.
    async fn run_checks<F>(
        &self,
        installation: u64,
        token: &Secret,
        subject: &str,
        filter: &FindingFilter,
        tally: &mut Tally,
        checks: F,
    ) -> Result<Vec<(String, CheckResult)>, ApiError>
    where
        F: FnOnce(&LiveSource) -> Vec<(&'static ciguard_core::AuditMeta, CheckOutcome)>
            + Send
            + 'static,
    {
        self.api.within_budget(installation).await?;
        let client = self.settings_client(installation, token);
        let (outcomes, reads, limited) = tokio::task::spawn_blocking(move || {
            let source = LiveSource::new(client);
            let outcomes = checks(&source);
            (
                outcomes,
                source.client().request_count(),
                limited(source.client()),
            )
        })
        .await
        .map_err(|e| ApiError::Transient(format!("the settings read stopped: {e}")))?;
        tally.reads += reads;
        if let Some(reason) = limited {
            return Err(self.limited(installation, reason).await);
        }
        // Resolved now the config is known to parse: a parse failure closes nothing.
        let mut results = vec![(REPO_CONFIG_CHECK.to_owned(), CheckResult::Pass)];
        results.extend(outcomes.into_iter().map(|(meta, outcome)| {
            (
                meta.id.to_owned(),
                result_of(meta, subject, outcome, filter),
            )
        }));
        Ok(results)
    }

    /// The repository checks of `owner/name`, each as an issue result.
    async fn repo_results(
        &self,
        installation: u64,
        owner: &str,
        name: &str,
        id: u64,
        tally: &mut Tally,
    ) -> Result<Vec<(String, CheckResult)>, ApiError> {
        let full = format!("{owner}/{name}");
        let token = self
            .tokens
            .token(&self.api, installation, &[id], &drift_read_permissions())
            .await?;
        let parsed = self
            .repo_config(installation, &token, &full)
            .await?
            .and_then(|c| self.options_of(c));
        let (options, filter) = match parsed {
            Ok(parsed) => parsed,
            Err(message) => return Ok(vec![config_failure(&full, &message)]),
        };
        let (owner, name) = (owner.to_owned(), name.to_owned());
        self.run_checks(installation, &token, &full, &filter, tally, move |source| {
            ciguard_settings::repo_outcomes(source, &options, &owner, &name).0
        })
        .await
    }

    /// The organization's own checks (once per organization).
    async fn org_results(
        &self,
        installation: u64,
        owner: &str,
        tally: &mut Tally,
    ) -> Result<Vec<(String, CheckResult)>, ApiError> {
        let token = self
            .tokens
            .token_for_names(
                &self.api,
                installation,
                &[ORG_CONFIG_REPO],
                &drift_org_permissions(),
            )
            .await?;
        let config_repo = format!("{owner}/{ORG_CONFIG_REPO}");
        let parsed = self
            .repo_config(installation, &token, &config_repo)
            .await?
            .and_then(|c| self.options_of(c));
        let (options, filter) = match parsed {
            Ok(parsed) => parsed,
            Err(message) => return Ok(vec![config_failure(&config_repo, &message)]),
        };
        let subject = format!("organization {owner}");
        let login = owner.to_owned();
        self.run_checks(
            installation,
            &token,
            &subject,
            &filter,
            tally,
            move |source| ciguard_settings::org_outcomes(source, &options, &login),
        )
        .await
    }

    /// Brings the issue of (subject, check) in line with `result`, under the store's lock.
    async fn keep_issue(
        &self,
        key: IssueKey<'_>,
        result: &CheckResult,
        config: &DriftConfig,
        tally: &mut Tally,
    ) -> Result<(), ApiError> {
        if *result == CheckResult::Unknown {
            return Ok(());
        }
        let IssueKey { subject, check, .. } = key;
        let store = &self.api.rates;
        let me = holder();
        let started = std::time::Instant::now();
        while !store
            .drift_lock(subject, check, &me)
            .await
            .map_err(store_error)?
        {
            if started.elapsed() > LOCK_WAIT {
                return Err(ApiError::Transient(format!(
                    "the drift issue of {check} on {subject} is being written by another replica"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let done = self.keep_issue_locked(key, result, config, tally).await;
        if let Err(e) = store.drift_unlock(subject, check, &me).await {
            tracing::warn!(error = %e, "cannot release a drift lock; it expires by itself");
        }
        done
    }

    async fn keep_issue_locked(
        &self,
        key: IssueKey<'_>,
        result: &CheckResult,
        config: &DriftConfig,
        tally: &mut Tally,
    ) -> Result<(), ApiError> {
        let IssueKey {
            installation,
            place,
            subject,
            check,
        } = key;
        let store = &self.api.rates;
        // Read under the lock: another replica may have written it a moment ago.
        let stored = store
            .drift_issue(subject, check)
            .await
            .map_err(store_error)?
            // Issues that live elsewhere (the central repository changed) start again here.
            .filter(|s| s.issue_repo.eq_ignore_ascii_case(&place.repo));
        let now = now();
        if let Some(s) = &stored
            && s.state == "disabled"
        {
            let retry_after = config
                .ping_interval()
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_secs(86_400));
            if now.saturating_sub(s.written_at)
                < i64::try_from(retry_after.as_millis()).unwrap_or(i64::MAX)
            {
                tally.disabled += 1;
                return Ok(());
            }
        }
        let ping_due = stored
            .as_ref()
            .is_some_and(|s| config.ping_due(s.written_at, now));
        let mut plan = issue::before_read(stored.as_ref(), result, ping_due);
        if plan == Plan::Read
            && let Some(s) = &stored
        {
            let found = match self
                .read_issue(installation, place, s.number, check)
                .await?
            {
                Some(Wrote::Disabled) => {
                    return self
                        .record_disabled(subject, check, place, stored.as_ref(), tally)
                        .await;
                }
                Some(Wrote::Done(found)) => Some(found),
                None => None,
            };
            let found = found
                .and_then(|v| serde_json::from_value::<IssueJson>(v).ok())
                .map(|i| Found {
                    open: i.state == "open",
                });
            plan = issue::after_read(s, found.as_ref(), result);
            if plan == Plan::Ping && !ping_due {
                plan = Plan::Nothing;
            }
            if plan == Plan::Nothing
                && let Some(f) = &found
            {
                // Closed or reopened by a person: remember it, write nothing.
                let actual = if f.open { "open" } else { "closed" };
                if s.state != actual {
                    let seen = Stored {
                        state: actual.into(),
                        ..s.clone()
                    };
                    store
                        .drift_record(subject, check, &seen)
                        .await
                        .map_err(store_error)?;
                }
            }
        }
        let written = match (&plan, result) {
            (Plan::Nothing | Plan::Read, _) => return Ok(()),
            (Plan::Create, CheckResult::Fail(f)) => {
                self.create_issue(installation, place, f, config).await?
            }
            (Plan::Reopen, CheckResult::Fail(f)) => {
                self.write_all(
                    installation,
                    place,
                    stored.as_ref(),
                    &[
                        Some(json!({"state": "open", "title": f.title, "body": f.body})),
                        None,
                    ],
                    issue::REOPENED,
                )
                .await?
            }
            (Plan::Update, CheckResult::Fail(f)) => {
                self.write_all(
                    installation,
                    place,
                    stored.as_ref(),
                    &[None, Some(json!({"title": f.title, "body": f.body}))],
                    issue::CHANGED,
                )
                .await?
            }
            (Plan::Ping, _) => {
                self.write_all(installation, place, stored.as_ref(), &[None], issue::STILL)
                    .await?
            }
            (Plan::Close, _) => {
                self.write_all(
                    installation,
                    place,
                    stored.as_ref(),
                    &[
                        None,
                        Some(json!({"state": "closed", "state_reason": "completed"})),
                    ],
                    issue::COMPLIES,
                )
                .await?
            }
            _ => return Ok(()),
        };
        let Some(number) = written else {
            return self
                .record_disabled(subject, check, place, stored.as_ref(), tally)
                .await;
        };
        let (body_hash, state) = match result {
            CheckResult::Fail(f) => (f.hash(), "open"),
            _ => (
                stored
                    .as_ref()
                    .map(|s| s.body_hash.clone())
                    .unwrap_or_default(),
                "closed",
            ),
        };
        store
            .drift_record(
                subject,
                check,
                &Stored {
                    issue_repo: place.repo.clone(),
                    number,
                    body_hash,
                    state: state.into(),
                    written_at: now,
                },
            )
            .await
            .map_err(store_error)?;
        tally.count(&plan);
        Ok(())
    }

    async fn record_disabled(
        &self,
        subject: &str,
        check: &str,
        place: &Place,
        stored: Option<&Stored>,
        tally: &mut Tally,
    ) -> Result<(), ApiError> {
        tally.disabled += 1;
        let row = Stored {
            issue_repo: place.repo.clone(),
            number: stored.map_or(0, |s| s.number),
            body_hash: stored.map(|s| s.body_hash.clone()).unwrap_or_default(),
            state: "disabled".into(),
            written_at: now(),
        };
        self.api
            .rates
            .drift_record(subject, check, &row)
            .await
            .map_err(store_error)
    }

    /// One call about an issue: `None` for a 404, `Wrote::Disabled` for a 410.
    async fn issue_call(
        &self,
        installation: u64,
        place: &Place,
        method: Method,
        target: &str,
    ) -> Result<Option<Wrote>, ApiError> {
        let name = method.name();
        let response = self
            .api
            .call_raw(installation, &place.token, method, target)
            .await?;
        match response.status {
            404 => Ok(None),
            410 => Ok(Some(Wrote::Disabled)),
            _ => {
                let response = classify(name, target, response)?;
                Ok(Some(Wrote::Done(decode(&response, target)?)))
            }
        }
    }

    /// The issue `number` when it is still this check's (its body has the marker).
    async fn read_issue(
        &self,
        installation: u64,
        place: &Place,
        number: u64,
        check: &str,
    ) -> Result<Option<Wrote>, ApiError> {
        let target = format!("/repos/{}/issues/{number}", place.repo);
        let marker = issue::marker(check);
        Ok(
            match self
                .issue_call(installation, place, Method::Get, &target)
                .await?
            {
                Some(Wrote::Done(v)) => {
                    let ours = serde_json::from_value::<IssueJson>(v.clone()).is_ok_and(|i| {
                        i.number == number && i.body.is_some_and(|b| b.contains(&marker))
                    });
                    ours.then_some(Wrote::Done(v))
                }
                other => other,
            },
        )
    }

    /// Opens the issue; its number, or `None` when issues are disabled.
    async fn create_issue(
        &self,
        installation: u64,
        place: &Place,
        failing: &Failing,
        config: &DriftConfig,
    ) -> Result<Option<u64>, ApiError> {
        let target = format!("/repos/{}/issues", place.repo);
        let body = json!({"title": failing.title, "body": failing.body, "labels": [config.label]});
        match self
            .issue_call(installation, place, Method::Post(json_body(&body)), &target)
            .await?
        {
            Some(Wrote::Done(v)) => serde_json::from_value::<IssueJson>(v)
                .map(|i| Some(i.number))
                .map_err(|e| {
                    ApiError::Transient(format!("an issue created without a number: {e}"))
                }),
            Some(Wrote::Disabled) => Ok(None),
            None => Err(ApiError::Rejected(format!(
                "POST {target}: 404 (the repository is gone or the App cannot reach it)"
            ))),
        }
    }

    /// `patches` in order (`None`: the comment `comment`) on the stored issue; its number,
    /// or `None` when issues are disabled.
    async fn write_all(
        &self,
        installation: u64,
        place: &Place,
        stored: Option<&Stored>,
        patches: &[Option<Value>],
        comment: &str,
    ) -> Result<Option<u64>, ApiError> {
        let Some(number) = stored.map(|s| s.number) else {
            return Err(ApiError::Rejected("no stored issue to write to".into()));
        };
        let issue = format!("/repos/{}/issues/{number}", place.repo);
        for patch in patches {
            let (method, target) = match patch {
                Some(p) => (Method::Patch(json_body(p)), issue.clone()),
                None => (
                    Method::Post(json_body(&json!({"body": comment}))),
                    format!("{issue}/comments"),
                ),
            };
            match self
                .issue_call(installation, place, method, &target)
                .await?
            {
                Some(Wrote::Done(_)) => {}
                Some(Wrote::Disabled) => return Ok(None),
                None => {
                    return Err(ApiError::Transient(format!(
                        "{target}: 404 (deleted meanwhile)"
                    )));
                }
            }
        }
        Ok(Some(number))
    }
}

/// A configuration that does not parse, as the failing result of its own check: the settings
/// checks do not run with defaults instead, and their issues are left as they are.
fn config_failure(repo: &str, message: &str) -> (String, CheckResult) {
    let failing = issue::failing(
        REPO_CONFIG_CHECK,
        "the ciguard configuration does not parse; no settings check runs until it is fixed (defaults are never used instead)",
        "",
        repo,
        &[message.to_owned()],
    );
    (REPO_CONFIG_CHECK.to_owned(), CheckResult::Fail(failing))
}

/// One check's outcome after the configuration's `[audits.<id>]` (disable, ignore, severity).
fn result_of(
    meta: &'static ciguard_core::AuditMeta,
    subject: &str,
    outcome: CheckOutcome,
    filter: &FindingFilter,
) -> CheckResult {
    let unknown = outcome.state() == State::Unknown;
    let (findings, _) = filter.apply_all(outcome.findings);
    if !findings.is_empty() {
        let messages: Vec<String> = findings.iter().map(|f| f.message.clone()).collect();
        CheckResult::Fail(issue::failing(
            meta.id,
            meta.summary,
            meta.docs,
            subject,
            &messages,
        ))
    } else if unknown {
        CheckResult::Unknown
    } else {
        CheckResult::Pass
    }
}

/// Why the settings read met a rate limit, if it did: the job is deferred rather than
/// written from a partial read.
fn limited(client: &Client) -> Option<String> {
    client
        .network_failures()
        .into_iter()
        .find(|f| f.cause == ciguard_github::Cause::RateLimit)
        .map(|f| f.first)
}

fn store_error(e: crate::store::StoreError) -> ApiError {
    ApiError::Transient(format!("store: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_addresses_follow_the_api() {
        assert_eq!(web_url("https://api.github.com"), "https://github.com");
        assert_eq!(
            web_url("https://ghe.example/api/v3/"),
            "https://ghe.example"
        );
        assert_eq!(web_url("http://127.0.0.1:1"), "https://github.com");
    }
}
