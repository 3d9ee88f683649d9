//! A stateful fake of GitHub's App API on 127.0.0.1, for the tests of `ciguard serve`.
//!
//! It verifies App JWTs with the App's public key, mints `ghs_` installation tokens that record
//! their repositories and permissions and refuses calls outside them (403, GitHub's message),
//! serves pull requests, their files (paginated with `Link`), contents, blobs and trees at a
//! SHA from real git repositories built by the test, keeps check runs and enforces GitHub's
//! limits on them (50 annotations per request, a 65,535-character summary, a 255-character
//! title: 422 with GitHub's error shape), lists hook deliveries with cursor pagination and
//! accepts redeliveries, and has fault knobs per route (fail N times, latency, primary and
//! secondary rate limits with the real headers). Every request is logged.

mod auth;
mod drift;
mod gate;
pub mod git;
pub mod relay;
mod routes;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

pub use auth::MintedToken;
pub use drift::IssueRecord;
pub use gate::{FakeRun, ReviewRecord};
pub use git::Repo;

/// The test-only key material (see `test-keys/README.md`): never a real App's key.
pub fn test_key_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("test-keys")
        .join(name)
}

/// The fake App's private key in PKCS#1, as GitHub issues keys.
pub fn app_private_key_pkcs1() -> PathBuf {
    test_key_path("TEST-ONLY-app-key.pkcs1.pem")
}

/// The same key in PKCS#8.
pub fn app_private_key_pkcs8() -> PathBuf {
    test_key_path("TEST-ONLY-app-key.pkcs8.pem")
}

/// A key unrelated to the App, to forge JWTs with.
pub fn forger_private_key() -> PathBuf {
    test_key_path("TEST-ONLY-forger-key.pkcs1.pem")
}

/// The fake App's id.
pub const APP_ID: u64 = 4242;

#[derive(Debug, Clone)]
struct FakeRepo {
    id: u64,
    slug: String,
    installation: u64,
    git: Repo,
}

#[derive(Debug, Clone)]
struct FakePull {
    slug: String,
    number: u64,
    head_sha: String,
    base_sha: String,
    /// `changed_files` reported instead of the real count (GitHub's 3,000-file cap).
    changed_files: Option<u64>,
}

/// A check run as the fake keeps it.
#[derive(Debug, Clone, Default)]
pub struct CheckRunRecord {
    pub id: u64,
    pub repo: String,
    pub head_sha: String,
    pub name: String,
    pub app_id: u64,
    pub status: String,
    pub conclusion: Option<String>,
    pub title: String,
    pub summary: String,
    /// Every annotation sent, in order (updates append, as on GitHub).
    pub annotations: Vec<Value>,
    pub creates: usize,
    pub updates: usize,
}

/// A hook delivery of the App.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    pub id: u64,
    pub guid: String,
    /// Seconds since the epoch.
    pub delivered_at: u64,
    pub status_code: u16,
    pub event: String,
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    pub target: String,
    pub status: u16,
    /// The installation whose token (or whose token request) it was; `None` for JWT calls.
    pub installation: Option<u64>,
}

/// A scripted answer for requests whose `METHOD /path` starts with `route`.
#[derive(Debug, Clone)]
pub struct Fault {
    pub route: String,
    /// How many requests it answers (`None`: all of them).
    pub times: Option<usize>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    /// Added before answering (with the fault's status, or normally when `status` is 0).
    pub latency: Duration,
}

impl Fault {
    /// `route` answers `status` the next `times` times.
    pub fn fail(route: &str, status: u16, times: usize) -> Self {
        Self {
            route: route.to_owned(),
            times: Some(times),
            status,
            headers: Vec::new(),
            body: serde_json::json!({"message": "Server Error"}),
            latency: Duration::ZERO,
        }
    }

    /// A secondary rate limit with `retry-after`, as GitHub sends it.
    pub fn secondary_limit(route: &str, retry_after: u64, times: usize) -> Self {
        Self {
            route: route.to_owned(),
            times: Some(times),
            status: 403,
            headers: vec![("retry-after".into(), retry_after.to_string())],
            body: serde_json::json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
                "status": "403"
            }),
            latency: Duration::ZERO,
        }
    }

    /// An exhausted primary budget, resetting `reset_in` from now.
    pub fn primary_limit(route: &str, reset_in: Duration, times: usize) -> Self {
        let reset = now() + reset_in.as_secs();
        Self {
            route: route.to_owned(),
            times: Some(times),
            status: 403,
            headers: vec![
                ("x-ratelimit-limit".into(), "5000".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-used".into(), "5000".into()),
                ("x-ratelimit-reset".into(), reset.to_string()),
                ("x-ratelimit-resource".into(), "core".into()),
            ],
            body: serde_json::json!({
                "message": "API rate limit exceeded for installation ID 1.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "403"
            }),
            latency: Duration::ZERO,
        }
    }

    /// `route` answers normally, `latency` later.
    pub fn slow(route: &str, latency: Duration) -> Self {
        Self {
            route: route.to_owned(),
            times: None,
            status: 0,
            headers: Vec::new(),
            body: Value::Null,
            latency,
        }
    }

    /// Answers every request of `route` (until the test clears the faults).
    pub fn always(mut self) -> Self {
        self.times = None;
        self
    }
}

#[derive(Debug, Default)]
struct State {
    base: String,
    public_key: Vec<u8>,
    repos: Vec<FakeRepo>,
    pulls: Vec<FakePull>,
    tokens: Vec<MintedToken>,
    check_runs: Vec<CheckRunRecord>,
    deliveries: Vec<DeliveryRecord>,
    redeliveries: Vec<u64>,
    faults: Vec<Fault>,
    log: Vec<Logged>,
    /// PR files per page when the client does not say (GitHub: 30).
    default_per_page: usize,
    /// Seconds an installation token lives (GitHub: one hour).
    token_lifetime: u64,
    relay: relay::RelayState,
    /// Settings answers and issues (drift).
    drift: drift::DriftState,
    gate: gate::GateState,
}

/// The fake GitHub App API, on the shared HTTP loop. Stops when dropped.
pub struct FakeGitHubApp {
    state: Arc<Mutex<State>>,
    server: crate::http::Server,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl FakeGitHubApp {
    /// Starts the fake for App [`APP_ID`] with the test key pair.
    pub fn start() -> Result<Self, String> {
        let pem = std::fs::read_to_string(test_key_path("TEST-ONLY-app-key.public.pem"))
            .map_err(|e| e.to_string())?;
        let public_key = auth::pem_der(&pem, "RSA PUBLIC KEY").ok_or("bad test public key")?;
        let state = Arc::new(Mutex::new(State {
            public_key,
            default_per_page: 30,
            token_lifetime: 3600,
            ..State::default()
        }));
        let listener = crate::http::Listener::bind().map_err(|e| e.to_string())?;
        lock(&state).base = listener.url();
        let shared = Arc::clone(&state);
        // No prefix stripped by the loop: the routes keep GitHub Enterprise Server's `/api/v3`
        // in the links they answer with.
        let server = listener.serve(crate::http::Options::default(), move |req| {
            routes::handle(&shared, req)
        });
        Ok(Self { state, server })
    }

    /// The API base URL (`http://127.0.0.1:PORT`); `/api/v3` under it works too.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Serves `git` as repository `slug` (`owner/name`) with `id`, installed in `installation`.
    pub fn add_repo(&self, slug: &str, id: u64, installation: u64, git: &Repo) {
        lock(&self.state).repos.push(FakeRepo {
            id,
            slug: slug.to_owned(),
            installation,
            git: git.clone(),
        });
    }

    /// Opens pull request `number` on `slug` from `head_branch` of `head` (the base repository
    /// itself, or a fork whose branch is fetched into the base as `refs/pull/N/head`, as GitHub
    /// does) against `base_sha`; the head SHA.
    pub fn add_pull(
        &self,
        slug: &str,
        number: u64,
        head: &Repo,
        head_branch: &str,
        base_sha: &str,
    ) -> Result<String, String> {
        let base = self.repo_git(slug)?;
        let head_sha = head.git(&["rev-parse", head_branch])?.trim().to_owned();
        let refspec = format!("{head_branch}:refs/pull/{number}/head");
        base.git(&["fetch", "-q", &head.dir.to_string_lossy(), &refspec])?;
        let mut state = lock(&self.state);
        state
            .pulls
            .retain(|p| !(p.slug == slug && p.number == number));
        state.pulls.push(FakePull {
            slug: slug.to_owned(),
            number,
            head_sha: head_sha.clone(),
            base_sha: base_sha.to_owned(),
            changed_files: None,
        });
        Ok(head_sha)
    }

    /// Moves pull request `number`'s head (a push to its branch).
    pub fn set_pull_head(&self, slug: &str, number: u64, sha: &str) {
        let mut state = lock(&self.state);
        if let Some(p) = state
            .pulls
            .iter_mut()
            .find(|p| p.slug == slug && p.number == number)
        {
            p.head_sha = sha.to_owned();
        }
    }

    /// Reports `count` as the pull request's `changed_files` (to exceed GitHub's 3,000 cap).
    pub fn set_changed_files(&self, slug: &str, number: u64, count: u64) {
        let mut state = lock(&self.state);
        if let Some(p) = state
            .pulls
            .iter_mut()
            .find(|p| p.slug == slug && p.number == number)
        {
            p.changed_files = Some(count);
        }
    }

    pub fn add_delivery(&self, id: u64, guid: &str, age: Duration, status_code: u16) {
        lock(&self.state).deliveries.push(DeliveryRecord {
            id,
            guid: guid.to_owned(),
            delivered_at: now().saturating_sub(age.as_secs()),
            status_code,
            event: "pull_request".into(),
        });
    }

    /// How long the installation tokens minted from now on live.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        lock(&self.state).token_lifetime = lifetime.as_secs();
    }

    pub fn add_fault(&self, fault: Fault) {
        lock(&self.state).faults.push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    pub fn tokens(&self) -> Vec<MintedToken> {
        lock(&self.state).tokens.clone()
    }

    pub fn check_runs(&self) -> Vec<CheckRunRecord> {
        lock(&self.state).check_runs.clone()
    }

    /// The delivery ids POSTed to `/app/hook/deliveries/{id}/attempts`.
    pub fn redeliveries(&self) -> Vec<u64> {
        lock(&self.state).redeliveries.clone()
    }

    pub fn log(&self) -> Vec<Logged> {
        lock(&self.state).log.clone()
    }

    pub fn clear_log(&self) {
        lock(&self.state).log.clear();
    }

    fn repo_git(&self, slug: &str) -> Result<Repo, String> {
        lock(&self.state)
            .repos
            .iter()
            .find(|r| r.slug == slug)
            .map(|r| r.git.clone())
            .ok_or_else(|| format!("no repository {slug}"))
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
