//! Shared by the queue tests: a minimal HTTP/1.1 client over loopback, signed deliveries, a
//! counting test runner, and servers on SQLite or PostgreSQL.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use ciguard_serve::job::{Job, JobPayload, JobRunner, Outcome};
use ciguard_serve::secret::{DbUrl, Secret};
use ciguard_serve::server::{self, Roles, Running, ServeConfig};
use ciguard_serve::signature;
use ciguard_serve::store::{RetryPolicy, Store, StoreOptions};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const SECRET: &str = "test webhook secret";

pub fn secret() -> Secret {
    Secret::new(SECRET)
}

/// A keep-alive HTTP/1.1 connection.
pub struct Client {
    stream: BufReader<TcpStream>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> std::io::Result<Client> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream: BufReader::new(stream),
        })
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> std::io::Result<Reply> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: test\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let mut message = head.into_bytes();
        message.extend_from_slice(body);
        self.stream.get_mut().write_all(&message).await?;
        self.read_reply().await
    }

    pub async fn read_reply(&mut self) -> std::io::Result<Reply> {
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok(Reply {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    pub fn stream(&mut self) -> &mut TcpStream {
        self.stream.get_mut()
    }
}

/// One request on a fresh connection.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<Reply> {
    Client::connect(addr)
        .await?
        .request(method, path, headers, body)
        .await
}

/// The headers GitHub sends with a delivery, signed with [`SECRET`].
pub fn signed(event: &str, delivery: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("x-github-event", event.to_string()),
        ("x-github-delivery", delivery.to_string()),
        (
            "x-hub-signature-256",
            signature::header_value(&secret(), body),
        ),
        ("content-type", "application/json".to_string()),
    ]
}

pub async fn deliver(addr: SocketAddr, event: &str, delivery: &str, body: &[u8]) -> Reply {
    send(
        addr,
        "POST",
        "/webhook",
        &signed(event, delivery, body),
        body,
    )
    .await
    .expect("request")
}

/// A delivery GUID made from a number.
pub fn guid(n: u64) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        (n >> 48) as u32,
        n & 0xffff_ffff_ffff
    )
}

pub fn sha(n: u64) -> String {
    format!("{n:040x}")
}

/// A `pull_request` `synchronize` payload for PR `number` of repository 1 at `head`.
pub fn pr_body(installation: u64, number: u64, head: &str) -> Vec<u8> {
    serde_json::json!({
        "action": "synchronize",
        "installation": {"id": installation},
        "repository": {"id": 1, "full_name": "octo/repo", "default_branch": "main"},
        "pull_request": {"number": number, "head": {"sha": head, "repo": {"id": 1}}}
    })
    .to_string()
    .into_bytes()
}

/// What the test runner does with a key.
#[derive(Clone, Debug)]
pub enum Behaviour {
    Done,
    /// Fails every time (a persistent 500).
    Fail,
    /// Rate limited on the first run, done afterwards.
    DeferOnce(Duration),
    /// Waits this long, then done.
    Slow(Duration),
}

/// Counts runs and completed side effects per key; tracks overlapping runs of one key.
#[derive(Default)]
pub struct Ledger {
    pub runs: Mutex<HashMap<String, usize>>,
    /// (key, head SHA, replica) per completed run, in completion order.
    pub effects: Mutex<Vec<(String, String, usize)>>,
    /// Replicas running each key now.
    pub running: Mutex<HashMap<String, Vec<usize>>>,
    pub overlaps: AtomicUsize,
    pub started: tokio::sync::Notify,
}

impl Ledger {
    pub fn runs_of(&self, key: &str) -> usize {
        self.runs.lock().unwrap().get(key).copied().unwrap_or(0)
    }
    pub fn total_runs(&self) -> usize {
        self.runs.lock().unwrap().values().sum()
    }
}

struct RunningGuard<'a> {
    ledger: &'a Ledger,
    key: String,
    replica: usize,
}

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut running) = self.ledger.running.lock() {
            let replicas = running.entry(self.key.clone()).or_default();
            if let Some(at) = replicas.iter().position(|r| *r == self.replica) {
                replicas.remove(at);
            }
        }
    }
}

pub struct TestRunner {
    pub ledger: Arc<Ledger>,
    pub behaviours: HashMap<String, Behaviour>,
    pub default: Behaviour,
    pub replica: usize,
}

impl TestRunner {
    pub fn new(ledger: Arc<Ledger>) -> Self {
        TestRunner {
            ledger,
            behaviours: HashMap::new(),
            default: Behaviour::Done,
            replica: 0,
        }
    }
}

impl JobRunner for TestRunner {
    async fn run(&self, job: &Job) -> Outcome {
        let key = job.payload.key();
        let head = match &job.payload {
            JobPayload::PrAudit(t) => t.head_sha.clone(),
            JobPayload::PushAudit(t) => t.after.clone(),
            JobPayload::Relay(t) => t.head_sha.clone(),
            JobPayload::Drift(t) => t.key(),
            JobPayload::GateReview(t) => t.sha.clone().unwrap_or_default(),
        };
        {
            let mut running = self.ledger.running.lock().unwrap();
            let replicas = running.entry(key.clone()).or_default();
            if !replicas.is_empty() {
                self.ledger.overlaps.fetch_add(1, Ordering::SeqCst);
                eprintln!(
                    "overlap: {key} job {} attempt {} on replica {} while on {replicas:?}",
                    job.id, job.attempt, self.replica
                );
            }
            replicas.push(self.replica);
        }
        // Counted down on drop too: a run cut off by a killed replica is no longer running.
        let _running = RunningGuard {
            ledger: &self.ledger,
            key: key.clone(),
            replica: self.replica,
        };
        *self
            .ledger
            .runs
            .lock()
            .unwrap()
            .entry(key.clone())
            .or_default() += 1;
        self.ledger.started.notify_waiters();
        let behaviour = self.behaviours.get(&key).unwrap_or(&self.default).clone();
        let outcome = match behaviour {
            Behaviour::Done => Outcome::Done {
                summary: "ok".into(),
            },
            // With an escape sequence and a bidi override, as a hostile answer could carry.
            Behaviour::Fail => Outcome::Retry {
                reason: "HTTP 500 from the fake \u{1b}[31m\u{202e}".into(),
            },
            Behaviour::DeferOnce(wait) if job.attempt == 1 && self.ledger.runs_of(&key) == 1 => {
                Outcome::Deferred {
                    until: SystemTime::now() + wait,
                    reason: "secondary rate limit".into(),
                }
            }
            Behaviour::DeferOnce(_) => Outcome::Done {
                summary: "ok".into(),
            },
            Behaviour::Slow(wait) => {
                tokio::time::sleep(wait).await;
                Outcome::Done {
                    summary: "ok".into(),
                }
            }
        };
        if matches!(outcome, Outcome::Done { .. }) {
            self.ledger
                .effects
                .lock()
                .unwrap()
                .push((key.clone(), head, self.replica));
        }
        outcome
    }
}

/// A config for tests: loopback, short leases and backoff.
pub fn config(roles: Roles) -> ServeConfig {
    let mut config = ServeConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        vec![Secret::new("old secret"), secret()],
    );
    config.roles = roles;
    config.worker.lease = Duration::from_millis(1500);
    config.worker.poll = Duration::from_millis(50);
    config.worker.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(100),
    };
    config.scheduler_lease = Duration::from_millis(600);
    config.drain_timeout = Duration::from_secs(10);
    config
}

pub const INGRESS_ONLY: Roles = Roles {
    ingress: true,
    worker: false,
    scheduler: false,
};

pub async fn start(db: &DbUrl, config: ServeConfig, runner: TestRunner) -> Running {
    let store = Store::open(db, &StoreOptions::default())
        .await
        .expect("store opens");
    server::start(store, config, runner, Vec::new())
        .await
        .expect("server starts")
}

/// A fresh SQLite file in `dir`.
pub fn sqlite_url(dir: &tempfile::TempDir) -> DbUrl {
    DbUrl::new(format!(
        "sqlite:{}",
        dir.path().join("ciguard.db").display()
    ))
}

/// A fresh PostgreSQL database, or None (after saying so) when no server is configured.
/// Under CI=true a missing server is a failure, never a silent pass.
pub async fn postgres_url(test: &str) -> Option<DbUrl> {
    let Ok(admin) = std::env::var("CIGUARD_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CIGUARD_TEST_POSTGRES_URL is not set under CI=true: .ci/run must start PostgreSQL"
        );
        eprintln!(
            "SKIPPED: {test}: set CIGUARD_TEST_POSTGRES_URL (postgres://USER@HOST:PORT/DB) to run the PostgreSQL tests"
        );
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("ciguard_{}_{}", test, std::process::id());
    let mut admin_conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("connect to CIGUARD_TEST_POSTGRES_URL");
    use sqlx::Executor;
    admin_conn
        .execute(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .await
        .expect("drop");
    admin_conn
        .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("URL with a database");
    Some(DbUrl::new(format!("{base}/{name}")))
}

/// Waits until `done` holds, checking every 20 ms, for at most `limit` (then panics with `what`).
pub async fn eventually<F: AsyncFnMut() -> bool>(limit: Duration, what: &str, mut done: F) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Jobs per state.
pub async fn states(store: &Store) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for job in store.list_jobs(None, 100_000).await.unwrap() {
        *out.entry(job.state).or_default() += 1;
    }
    out
}
pub mod scenarios;
