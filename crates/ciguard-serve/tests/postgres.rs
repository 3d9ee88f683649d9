//! The queue on PostgreSQL, including several replicas on one database. Needs
//! CIGUARD_TEST_POSTGRES_URL (`.ci/run` starts a throwaway cluster); without it every test here
//! prints SKIPPED, and fails under CI=true.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ciguard_serve::secret::DbUrl;
use ciguard_serve::server::{Roles, Running, ServeConfig};
use ciguard_serve::store::{Store, StoreOptions};
use common::*;

macro_rules! on_postgres {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let Some(url) = postgres_url(stringify!($name)).await else { return };
            scenarios::$name(url).await;
        }
    )*};
}

on_postgres!(
    duplicate_delivery,
    coalescing,
    newer_head_runs_after_running_job,
    persistent_failure_dies_and_retry_revives,
    rate_limits_defer_without_attempts,
    store_down_is_503,
    leader_lease,
    delivery_index,
    stop_drains,
    long_job_keeps_its_lease,
);

/// One server process: its own runtime, so dropping the runtime kills it the way `kill -9`
/// does (no graceful stop, no lease released, connections cut).
struct Replica {
    runtime: Option<tokio::runtime::Runtime>,
    running: Option<Running>,
    addr: SocketAddr,
}

impl Replica {
    fn start(db: &DbUrl, config: ServeConfig, runner: TestRunner) -> Replica {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let running = runtime.block_on(start(db, config, runner));
        Replica {
            addr: running.addr,
            running: Some(running),
            runtime: Some(runtime),
        }
    }

    fn kill(&mut self) {
        drop(self.running.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    fn stop(&mut self) {
        if let (Some(running), Some(runtime)) = (self.running.take(), self.runtime.take()) {
            runtime.block_on(running.stop());
        }
    }
}

fn test_url(name: &str) -> Option<DbUrl> {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(postgres_url(name))
}

/// 100 concurrent copies of one delivery across 3 replicas: one 202, 99 duplicates, one row, one job.
#[test]
fn concurrent_copies_across_three_replicas_record_once() {
    let Some(url) = test_url("copies") else {
        return;
    };
    let mut replicas: Vec<Replica> = (0..3)
        .map(|_| Replica::start(&url, config(INGRESS_ONLY), TestRunner::new(Arc::default())))
        .collect();
    let addrs: Vec<SocketAddr> = replicas.iter().map(|r| r.addr).collect();
    let client = tokio::runtime::Runtime::new().unwrap();
    let statuses = client.block_on(async {
        let body = Arc::new(pr_body(1, 5, &sha(1)));
        let barrier = Arc::new(tokio::sync::Barrier::new(100));
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let (addr, body, barrier) = (addrs[i % 3], body.clone(), barrier.clone());
                tokio::spawn(async move {
                    let mut client = Client::connect(addr).await.unwrap();
                    barrier.wait().await;
                    let headers = signed("pull_request", &guid(77), &body);
                    client
                        .request("POST", "/webhook", &headers, &body)
                        .await
                        .unwrap()
                        .status
                })
            })
            .collect();
        let mut statuses = HashMap::<u16, usize>::new();
        for task in tasks {
            *statuses.entry(task.await.unwrap()).or_default() += 1;
        }
        statuses
    });
    assert_eq!(statuses, HashMap::from([(202, 1), (200, 99)]));
    let store = replicas[0].running.as_ref().unwrap().store.clone();
    let runtime = replicas[0].runtime.as_ref().unwrap();
    assert_eq!(runtime.block_on(store.delivery_count()).unwrap(), 1);
    assert_eq!(
        runtime.block_on(store.list_jobs(None, 10)).unwrap().len(),
        1
    );
    for replica in &mut replicas {
        replica.stop();
    }
}

/// kill -9 of one of 3 replicas at half of the deliveries: every delivery answered 2xx has
/// exactly one row, every job ends done or dead, and each key's side effect happened once
/// (twice only when the killed replica finished a run but died before recording it).
#[test]
fn killing_one_of_three_replicas_mid_run_loses_nothing() {
    let Some(url) = test_url("kill") else { return };
    let total: usize = std::env::var("CIGUARD_TEST_KILL_DELIVERIES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3_000);
    let ledger = Arc::new(Ledger::default());
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| {
            let mut runner = TestRunner::new(ledger.clone());
            runner.replica = i;
            runner.default = Behaviour::Slow(Duration::from_millis(5));
            Replica::start(&url, config(Roles::ALL), runner)
        })
        .collect();
    let addrs: Arc<Vec<SocketAddr>> = Arc::new(replicas.iter().map(|r| r.addr).collect());
    let sent = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let senders: Vec<_> = (0..16)
        .map(|lane| {
            let (addrs, sent, killed) = (addrs.clone(), sent.clone(), killed.clone());
            client.spawn(async move {
                let mut answered = Vec::new();
                loop {
                    let n = sent.fetch_add(1, Ordering::SeqCst);
                    if n >= total {
                        return answered;
                    }
                    let body = pr_body(1, n as u64 + 1, &sha(n as u64 + 1));
                    let headers = signed("pull_request", &guid(n as u64), &body);
                    // Like GitHub's redelivery: try again (on another replica) until a 2xx.
                    for attempt in 0.. {
                        let mut replica = (n + lane + attempt) % 3;
                        if replica == 0 && killed.load(Ordering::SeqCst) {
                            replica = 1 + attempt % 2;
                        }
                        match send(addrs[replica], "POST", "/webhook", &headers, &body).await {
                            Ok(reply) if reply.status / 100 == 2 => {
                                answered.push((guid(n as u64), reply.status));
                                break;
                            }
                            _ => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                        assert!(attempt < 200, "delivery {n} never accepted");
                    }
                }
            })
        })
        .collect();
    while sent.load(Ordering::SeqCst) < total / 2 {
        std::thread::sleep(Duration::from_millis(5));
    }
    replicas[0].kill();
    killed.store(true, Ordering::SeqCst);
    let answered: Vec<(String, u16)> = client
        .block_on(async { futures_join(senders).await })
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(answered.len(), total);

    let runtime = replicas[1].runtime.as_ref().unwrap();
    let store = replicas[1].running.as_ref().unwrap().store.clone();
    runtime.block_on(async {
        assert_eq!(
            store.delivery_count().await.unwrap() as usize,
            total,
            "one row per delivery"
        );
        for (id, _) in answered.iter().step_by(7) {
            assert!(store.has_delivery(id).await.unwrap());
        }
        eventually(
            Duration::from_secs(120),
            "every job done or dead",
            async || {
                let states = states(&store).await;
                !states.contains_key("queued") && !states.contains_key("running")
            },
        )
        .await;
        let states = states(&store).await;
        assert_eq!(
            states.get("done").copied().unwrap_or(0) + states.get("dead").copied().unwrap_or(0),
            total,
            "{states:?}"
        );
    });
    let effects = ledger.effects.lock().unwrap().clone();
    let mut per_key: HashMap<&str, Vec<usize>> = HashMap::new();
    for (key, _, replica) in &effects {
        per_key.entry(key).or_default().push(*replica);
    }
    assert_eq!(per_key.len(), total, "every key's side effect happened");
    let repeated: Vec<_> = per_key.iter().filter(|(_, r)| r.len() > 1).collect();
    for (key, replicas) in &repeated {
        assert!(
            replicas.len() == 2 && replicas[0] == 0,
            "{key} ran {replicas:?}"
        );
    }
    assert_eq!(ledger.overlaps.load(Ordering::SeqCst), 0);
    eprintln!(
        "kill test: {total} deliveries, {} keys re-run after the kill",
        repeated.len()
    );
    for replica in &mut replicas[1..] {
        replica.stop();
    }
}

async fn futures_join<T: Send + 'static>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// A store of the right kind opens on PostgreSQL, and migrations run once by concurrent starts.
#[test]
fn concurrent_starts_migrate_once() {
    let Some(url) = test_url("migrate") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url, &StoreOptions::default()).await })
            })
            .collect();
        for open in opens {
            let store = open.await.unwrap().expect("opens");
            assert_eq!(store.backend(), ciguard_serve::store::Backend::Postgres);
            store.close().await;
        }
    });
}

/// PostgreSQL going away under a running server (connections cut, new ones refused): 503, never
/// a 2xx without a commit; once it is back, deliveries are accepted again without a restart.
#[test]
fn postgres_outage_is_503_and_recovers_without_restart() {
    let Some(url) = test_url("outage") else {
        return;
    };
    let name = format!("ciguard_outage_{}", std::process::id());
    let admin = std::env::var("CIGUARD_TEST_POSTGRES_URL").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use sqlx::{AssertSqlSafe, Connection, Executor};
        let server = start(&url, config(INGRESS_ONLY), TestRunner::new(Arc::default())).await;
        assert_eq!(
            deliver(
                server.addr,
                "pull_request",
                &guid(1),
                &pr_body(1, 1, &sha(1))
            )
            .await
            .status,
            202
        );
        let mut admin = sqlx::AnyConnection::connect(&admin).await.unwrap();
        admin
            .execute(AssertSqlSafe(format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS false"
            )))
            .await
            .unwrap();
        admin
            .execute(AssertSqlSafe(format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )))
            .await
            .unwrap();
        for n in 2..5 {
            let reply = deliver(
                server.addr,
                "pull_request",
                &guid(n),
                &pr_body(1, n, &sha(n)),
            )
            .await;
            assert_eq!(reply.status, 503, "{reply:?}");
        }
        assert_eq!(
            send(server.addr, "GET", "/readyz", &[], b"")
                .await
                .unwrap()
                .status,
            503
        );
        admin
            .execute(AssertSqlSafe(format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS true"
            )))
            .await
            .unwrap();
        let mut n = 10;
        eventually(
            Duration::from_secs(30),
            "accepted again after the outage",
            async || {
                n += 1;
                deliver(
                    server.addr,
                    "pull_request",
                    &guid(n),
                    &pr_body(1, n, &sha(n)),
                )
                .await
                .status
                    == 202
            },
        )
        .await;
        for refused in 2..5 {
            assert!(
                !server.store.has_delivery(&guid(refused)).await.unwrap(),
                "503 but recorded"
            );
        }
        assert!(server.store.has_delivery(&guid(1)).await.unwrap());
        assert!(server.store.has_delivery(&guid(n)).await.unwrap());
        server.stop().await;
    });
}
