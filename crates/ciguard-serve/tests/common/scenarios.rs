//! Queue behaviours run on each backend (SQLite always, PostgreSQL when configured).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use ciguard_serve::job::RateState;
use ciguard_serve::ops::{JobsAction, jobs_on};
use ciguard_serve::secret::DbUrl;
use ciguard_serve::server::Roles;

use super::*;

/// The same delivery twice: one row, one job, the second answer 200.
pub async fn duplicate_delivery(db: DbUrl) {
    let server = start(&db, config(INGRESS_ONLY), TestRunner::new(Arc::default())).await;
    let body = pr_body(1, 5, &sha(1));
    assert_eq!(
        deliver(server.addr, "pull_request", &guid(1), &body)
            .await
            .status,
        202
    );
    let again = deliver(server.addr, "pull_request", &guid(1), &body).await;
    assert_eq!(
        (again.status, again.body.as_str()),
        (200, "duplicate delivery")
    );
    assert_eq!(server.store.delivery_count().await.unwrap(), 1);
    assert_eq!(server.store.list_jobs(None, 100).await.unwrap().len(), 1);
    server.stop().await;
}

/// One body under 50 delivery IDs and a newer head: one queued job per key, with the newest head.
pub async fn coalescing(db: DbUrl) {
    let server = start(&db, config(INGRESS_ONLY), TestRunner::new(Arc::default())).await;
    let body = pr_body(1, 5, &sha(1));
    for n in 0..50 {
        assert_eq!(
            deliver(server.addr, "pull_request", &guid(100 + n), &body)
                .await
                .status,
            202
        );
    }
    let queued = server.store.list_jobs(Some("queued"), 100).await.unwrap();
    assert_eq!(
        queued.iter().map(|j| &j.delivery_id).collect::<Vec<_>>(),
        [&guid(100)],
        "the same payload again leaves the queued job as the first delivery wrote it"
    );
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(200),
            &pr_body(1, 5, &sha(2))
        )
        .await
        .status,
        202
    );
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(201),
            &pr_body(1, 6, &sha(3))
        )
        .await
        .status,
        202
    );
    assert_eq!(server.store.delivery_count().await.unwrap(), 52);
    let jobs = server.store.list_jobs(Some("queued"), 100).await.unwrap();
    let keys: Vec<&str> = jobs.iter().map(|j| j.key.as_str()).collect();
    assert_eq!(keys, ["pr:1:6", "pr:1:5"]);
    assert_eq!(
        jobs[1].delivery_id,
        guid(200),
        "the newest delivery's payload replaced the queued one"
    );
    server.stop().await;
}

/// A newer head for a running key waits for the running job, then runs: never two runs of a key
/// at once, and the newer head last.
pub async fn newer_head_runs_after_running_job(db: DbUrl) {
    let ledger = Arc::new(Ledger::default());
    let mut runner = TestRunner::new(ledger.clone());
    runner.default = Behaviour::Slow(Duration::from_millis(400));
    let mut cfg = config(Roles::ALL);
    cfg.worker.concurrency = 3;
    let server = start(&db, cfg, runner).await;
    let started = ledger.started.notified();
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(1),
            &pr_body(1, 5, &sha(1))
        )
        .await
        .status,
        202
    );
    started.await;
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(2),
            &pr_body(1, 5, &sha(2))
        )
        .await
        .status,
        202
    );
    let store = server.store.clone();
    eventually(Duration::from_secs(20), "both jobs done", async || {
        states(&store).await.get("done").copied() == Some(2)
    })
    .await;
    let effects = ledger.effects.lock().unwrap().clone();
    let heads: Vec<&str> = effects.iter().map(|(_, head, _)| head.as_str()).collect();
    assert_eq!(heads, [sha(1), sha(2)]);
    assert_eq!(ledger.overlaps.load(Ordering::SeqCst), 0);
    server.stop().await;
}

/// A persistently failing job retries with backoff, ends dead, and `jobs retry` revives it.
pub async fn persistent_failure_dies_and_retry_revives(db: DbUrl) {
    let ledger = Arc::new(Ledger::default());
    let mut runner = TestRunner::new(ledger.clone());
    runner.behaviours.insert("pr:1:5".into(), Behaviour::Fail);
    let server = start(&db, config(Roles::ALL), runner).await;
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(1),
            &pr_body(1, 5, &sha(1))
        )
        .await
        .status,
        202
    );
    let store = server.store.clone();
    eventually(Duration::from_secs(20), "the job is dead", async || {
        states(&store).await.get("dead").copied() == Some(1)
    })
    .await;
    assert_eq!(ledger.runs_of("pr:1:5"), 3, "max_attempts runs, then dead");
    let job = store.list_jobs(Some("dead"), 1).await.unwrap().remove(0);
    assert_eq!(job.attempts, 3);
    assert!(
        job.note.as_deref().unwrap_or("").contains("HTTP 500"),
        "{job:?}"
    );
    let listed = jobs_on(
        &store,
        &JobsAction::List {
            state: Some("dead".into()),
            limit: 10,
        },
    )
    .await
    .unwrap();
    assert!(
        listed.contains(&format!("{}\tdead\t3/3\tpr:1:5", job.id)),
        "{listed}"
    );
    // The note is shown with its control and bidi characters escaped, never raw.
    assert!(listed.contains("fake \\x1b[31m\\u{202e}"), "{listed}");
    assert!(!listed.contains(['\u{1b}', '\u{202e}']), "{listed}");
    let revived = jobs_on(&store, &JobsAction::Retry { id: job.id })
        .await
        .unwrap();
    assert_eq!(revived, format!("job {} queued again\n", job.id));
    eventually(
        Duration::from_secs(20),
        "dead again after 3 more runs",
        async || {
            ledger.runs_of("pr:1:5") == 6 && states(&store).await.get("dead").copied() == Some(1)
        },
    )
    .await;
    assert!(
        jobs_on(&store, &JobsAction::Retry { id: 999 })
            .await
            .is_err()
    );
    server.stop().await;
}

/// A deferred run (rate limit) reschedules without counting an attempt; a blocked installation's
/// jobs wait while another installation's run.
pub async fn rate_limits_defer_without_attempts(db: DbUrl) {
    let ledger = Arc::new(Ledger::default());
    let mut runner = TestRunner::new(ledger.clone());
    runner.behaviours.insert(
        "pr:1:5".into(),
        Behaviour::DeferOnce(Duration::from_millis(200)),
    );
    let server = start(&db, config(Roles::ALL), runner).await;
    let store = server.store.clone();
    store
        .record_rate(
            9,
            &RateState {
                remaining: None,
                reset: None,
                retry_after: Some(Duration::from_secs(60)),
                secondary: true,
            },
        )
        .await
        .unwrap();
    assert!(
        store
            .rate_blocked_until(9)
            .await
            .unwrap()
            .is_some_and(|t| t > SystemTime::now() + Duration::from_secs(50))
    );
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(1),
            &pr_body(9, 7, &sha(1))
        )
        .await
        .status,
        202
    );
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(2),
            &pr_body(1, 5, &sha(2))
        )
        .await
        .status,
        202
    );
    eventually(
        Duration::from_secs(20),
        "installation 1's job done",
        async || states(&store).await.get("done").copied() == Some(1),
    )
    .await;
    assert_eq!(ledger.runs_of("pr:1:5"), 2, "deferred once, then done");
    let jobs = store.list_jobs(None, 10).await.unwrap();
    let done = jobs.iter().find(|j| j.key == "pr:1:5").unwrap();
    assert_eq!(
        (done.state.as_str(), done.attempts),
        ("done", 1),
        "the deferral did not count"
    );
    let blocked = jobs.iter().find(|j| j.key == "pr:1:7").unwrap();
    assert_eq!(blocked.state, "queued");
    assert_eq!(blocked.attempts, 0);
    assert_eq!(
        ledger.runs_of("pr:1:7"),
        0,
        "no call for a blocked installation"
    );
    server.stop().await;
}

/// The store going away: 503, never a 2xx without a commit; readyz says so.
pub async fn store_down_is_503(db: DbUrl) {
    let server = start(&db, config(INGRESS_ONLY), TestRunner::new(Arc::default())).await;
    assert_eq!(
        send(server.addr, "GET", "/readyz", &[], b"")
            .await
            .unwrap()
            .status,
        200
    );
    server.store.close().await;
    let reply = deliver(
        server.addr,
        "pull_request",
        &guid(1),
        &pr_body(1, 5, &sha(1)),
    )
    .await;
    assert_eq!(reply.status, 503, "{reply:?}");
    assert_eq!(
        send(server.addr, "GET", "/readyz", &[], b"")
            .await
            .unwrap()
            .status,
        503
    );
    assert_eq!(
        send(server.addr, "GET", "/healthz", &[], b"")
            .await
            .unwrap()
            .status,
        200
    );
    server.stop().await;
}

/// The leader lease: one holder at a time, taken over once it expires.
pub async fn leader_lease(db: DbUrl) {
    let store = Store::open(&db, &StoreOptions::default()).await.unwrap();
    let ttl = Duration::from_millis(300);
    assert!(store.try_lead("scheduler", "a", ttl).await.unwrap());
    assert!(!store.try_lead("scheduler", "b", ttl).await.unwrap());
    assert!(
        store.try_lead("scheduler", "a", ttl).await.unwrap(),
        "the holder renews"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        store.try_lead("scheduler", "b", ttl).await.unwrap(),
        "taken over after expiry"
    );
    assert!(!store.try_lead("scheduler", "a", ttl).await.unwrap());
    store.close().await;
}

/// The delivery index answers exactly the recorded GUIDs; ping and ignored events are recorded.
pub async fn delivery_index(db: DbUrl) {
    use ciguard_serve::job::DeliveryIndex;
    let server = start(&db, config(INGRESS_ONLY), TestRunner::new(Arc::default())).await;
    assert_eq!(
        deliver(server.addr, "ping", &guid(1), b"{\"zen\":\"x\"}")
            .await
            .status,
        200
    );
    assert_eq!(
        deliver(server.addr, "issues", &guid(2), b"{}").await.status,
        200
    );
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(3),
            &pr_body(1, 5, &sha(1))
        )
        .await
        .status,
        202
    );
    let asked: Vec<String> = (1..=300).map(guid).collect();
    let known = server.store.known(&asked).await;
    let mut known: Vec<String> = known.into_iter().collect();
    known.sort();
    assert_eq!(known, vec![guid(1), guid(2), guid(3)]);
    assert_eq!(server.store.list_jobs(None, 10).await.unwrap().len(), 1);
    // The janitor: old deliveries go, a queued job stays (only finished jobs are pruned).
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(server.store.prune(Duration::ZERO).await.unwrap(), (3, 0));
    assert_eq!(server.store.delivery_count().await.unwrap(), 0);
    assert_eq!(server.store.list_jobs(None, 10).await.unwrap().len(), 1);
    server.stop().await;
}

/// A job running longer than its lease keeps it through heartbeats: the reaper leaves it alone
/// and it runs once.
pub async fn long_job_keeps_its_lease(db: DbUrl) {
    let ledger = Arc::new(Ledger::default());
    let mut runner = TestRunner::new(ledger.clone());
    runner.default = Behaviour::Slow(Duration::from_millis(3500));
    let mut cfg = config(Roles::ALL);
    cfg.worker.concurrency = 2;
    let server = start(&db, cfg, runner).await;
    assert_eq!(
        deliver(
            server.addr,
            "pull_request",
            &guid(1),
            &pr_body(1, 5, &sha(1))
        )
        .await
        .status,
        202
    );
    let store = server.store.clone();
    eventually(Duration::from_secs(20), "the job is done", async || {
        states(&store).await.get("done").copied() == Some(1)
    })
    .await;
    assert_eq!(ledger.runs_of("pr:1:5"), 1);
    assert_eq!(store.list_jobs(None, 1).await.unwrap()[0].attempts, 1);
    server.stop().await;
}

/// A graceful stop finishes the running job and refuses new connections afterwards.
pub async fn stop_drains(db: DbUrl) {
    let ledger = Arc::new(Ledger::default());
    let mut runner = TestRunner::new(ledger.clone());
    runner.default = Behaviour::Slow(Duration::from_millis(700));
    let server = start(&db, config(Roles::ALL), runner).await;
    let addr = server.addr;
    let store = server.store.clone();
    let started = ledger.started.notified();
    assert_eq!(
        deliver(addr, "pull_request", &guid(1), &pr_body(1, 5, &sha(1)))
            .await
            .status,
        202
    );
    started.await;
    let stopped = server.stop().await;
    assert!(stopped.drained, "{stopped:?}");
    assert_eq!(stopped.released, 0);
    assert_eq!(
        ledger.effects.lock().unwrap().len(),
        1,
        "the in-flight job finished"
    );
    assert!(
        Client::connect(addr).await.is_err(),
        "no new connections after the stop"
    );
    drop(store);
    let reopened = Store::open(
        &db,
        &StoreOptions {
            exclusive: false,
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    let jobs = reopened.list_jobs(None, 10).await.unwrap();
    assert_eq!(jobs[0].state, "done");
    reopened.close().await;
}
