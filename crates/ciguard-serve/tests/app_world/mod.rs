//! Shared by the App tests: the fake GitHub App with a base repository, an in-memory rate budget
//! and delivery index, and trace-level logs that must hold no secret when a test ends.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ciguard_serve::app::github::blocked_until;
use ciguard_serve::app::{App, AppKey, AppSettings};
use ciguard_serve::job::{
    DeliveryIndex, Job, JobPayload, Outcome, PrTarget, RateLimitStore, RateState,
};
use ciguard_test_support::github_app::{self as fake, CheckRunRecord, FakeGitHubApp, Repo};

/// The shared budget, in memory (the store's stands in production).
#[derive(Clone, Debug, Default)]
pub struct MemRates(pub Arc<Mutex<HashMap<u64, SystemTime>>>);

impl RateLimitStore for MemRates {
    async fn record(&self, installation_id: u64, state: RateState) {
        let until = blocked_until(&state, SystemTime::now());
        self.0.lock().unwrap().insert(installation_id, until);
    }

    async fn blocked_until(&self, installation_id: u64) -> Option<SystemTime> {
        self.0.lock().unwrap().get(&installation_id).copied()
    }
}

#[derive(Clone, Default)]
pub struct MemDeliveries(pub Arc<HashSet<String>>);

impl DeliveryIndex for MemDeliveries {
    async fn known(&self, guids: &[String]) -> HashSet<String> {
        guids
            .iter()
            .filter(|g| self.0.contains(*g))
            .cloned()
            .collect()
    }
}

pub const CLEAN: &str = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";

/// A workflow with exactly `n` findings (one unpinned `uses` per step).
pub fn workflow_with(n: usize) -> String {
    let mut wf = String::from(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n",
    );
    for i in 0..n {
        wf.push_str(&format!(
            "      - uses: actions/checkout@v{i}\n        with:\n          persist-credentials: false\n"
        ));
    }
    wf
}

pub struct World {
    pub _dir: tempfile::TempDir,
    pub fake: FakeGitHubApp,
    pub base: Repo,
    pub base_sha: String,
    /// Every test logs at trace level through the redacting writer; when the test ends, the
    /// logs must hold none of the tokens the fake minted, no JWT and no key.
    pub logs: Sink,
    _tracing: tracing::subscriber::DefaultGuard,
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let logs = self.logs.text();
        assert!(!logs.is_empty(), "nothing was logged");
        for t in self.fake.tokens() {
            // Each part: the fake mints JWT-shaped tokens, and a mask that stopped at a dot
            // would leave the payload and signature behind.
            for part in t.token.split('.') {
                assert!(
                    !logs.contains(part),
                    "(part of) an installation token was logged"
                );
            }
        }
        assert!(!logs.contains("eyJ"), "a JWT was logged");
        assert!(!logs.contains("PRIVATE KEY"), "a key was logged");
    }
}

pub fn trace_into(sink: &Sink) -> tracing::subscriber::DefaultGuard {
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(ciguard_serve::app::redact::Redacting(sink.clone()))
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_default(subscriber)
}

pub fn world() -> World {
    let logs = Sink::default();
    let tracing = trace_into(&logs);
    tracing::trace!("test starts");
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGitHubApp::start().unwrap();
    let base = Repo::init(&dir.path().join("base")).unwrap();
    let base_sha = base
        .commit(&[(".github/workflows/ok.yml", CLEAN)], "base")
        .unwrap();
    fake.add_repo("octo/app", 101, 1, &base);
    World {
        _dir: dir,
        fake,
        base,
        base_sha,
        logs,
        _tracing: tracing,
    }
}

impl World {
    /// A branch `name` off the base with `files`, opened as pull request `number`; its head.
    pub fn pull(&self, number: u64, name: &str, files: &[(&str, &str)]) -> String {
        self.pull_from(&self.base_sha, number, name, files)
    }

    /// A branch `name` off commit `from` with `files`, opened as pull request `number` against
    /// `from`; its head.
    pub fn pull_from(&self, from: &str, number: u64, name: &str, files: &[(&str, &str)]) -> String {
        self.base
            .git(&["checkout", "-q", "-b", name, from])
            .unwrap();
        self.base.commit(files, name).unwrap();
        self.base.git(&["checkout", "-q", "main"]).unwrap();
        self.fake
            .add_pull("octo/app", number, &self.base, name, from)
            .unwrap()
    }

    /// Every check run the fake holds for `head`.
    pub fn check_runs_on(&self, head: &str) -> Vec<CheckRunRecord> {
        self.fake
            .check_runs()
            .into_iter()
            .filter(|r| r.head_sha == head)
            .collect()
    }

    /// The (first) check run for `head`; panics when there is none.
    pub fn check_run_on(&self, head: &str) -> CheckRunRecord {
        self.check_runs_on(head)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("no check run on {head}"))
    }

    /// How many file contents (git blobs) the App has read from the fake so far.
    pub fn blob_reads(&self) -> usize {
        self.fake
            .log()
            .iter()
            .filter(|l| l.target.contains("/git/blobs/"))
            .count()
    }

    pub fn app(&self, rates: MemRates) -> App<MemRates> {
        self.app_at(rates, &self.fake.url())
    }

    pub fn app_at(&self, rates: MemRates, api_url: &str) -> App<MemRates> {
        let key = AppKey::load(&fake::app_private_key_pkcs1(), fake::APP_ID).unwrap();
        App::new(
            key,
            rates,
            AppSettings {
                api_url: api_url.to_owned(),
                write_interval: Duration::ZERO,
                ..AppSettings::default()
            },
        )
    }
}

pub fn pr_job(
    installation: u64,
    repo: &str,
    repo_id: u64,
    number: u64,
    head: &str,
    fork: bool,
) -> Job {
    Job {
        id: number as i64,
        installation_id: installation,
        payload: JobPayload::PrAudit(PrTarget {
            repository: repo.into(),
            repository_id: repo_id,
            number,
            head_sha: head.into(),
            from_fork: fork,
        }),
        attempt: 1,
        delivery_id: "d-1".into(),
    }
}

pub fn is_done(o: &Outcome) -> bool {
    matches!(o, Outcome::Done { .. })
}

#[derive(Clone, Default)]
pub struct Sink(pub Arc<Mutex<Vec<u8>>>);

impl Sink {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Sink {
    type Writer = Sink;
    fn make_writer(&'a self) -> Sink {
        self.clone()
    }
}
