//! Ingress and queue on SQLite (the default store), over loopback HTTP.

mod common;

use std::sync::Arc;
use std::time::Duration;

use ciguard_serve::ingress::{Counters, MAX_BODY};
use ciguard_serve::server::Roles;
use ciguard_serve::store::{Store, StoreError, StoreOptions};
use common::*;
use tokio::io::AsyncWriteExt;

macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let dir = tempfile::tempdir().unwrap();
            scenarios::$name(sqlite_url(&dir)).await;
        }
    )*};
}

on_sqlite!(
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

/// 10,000 forged requests (wrong secret, flipped bits, sha1-only, malformed, missing): every one
/// 401, and not one JSON parse or database write. A genuine one afterwards is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_requests_are_rejected_before_parsing_or_writing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        &sqlite_url(&dir),
        config(INGRESS_ONLY),
        TestRunner::new(Arc::default()),
    )
    .await;
    let writes_at_start = server.store.writes();
    let body = pr_body(1, 5, &sha(1));
    let good = signed("pull_request", &guid(1), &body)[2].1.clone();
    let wrong_secret =
        ciguard_serve::signature::header_value(&ciguard_serve::secret::Secret::new("guess"), &body);
    let mut tasks = Vec::new();
    for connection in 0..4u64 {
        let (addr, body, good, wrong_secret) = (
            server.addr,
            body.clone(),
            good.clone(),
            wrong_secret.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut client = Client::connect(addr).await.unwrap();
            let mut statuses = std::collections::HashMap::<u16, usize>::new();
            for i in 0..2_500u64 {
                let n = connection * 2_500 + i;
                let signature = match n % 5 {
                    0 => Some(wrong_secret.clone()),
                    1 => {
                        // Flip one bit of one hex digit of the genuine signature.
                        let mut bytes = good.clone().into_bytes();
                        let at = 7 + (n as usize / 5) % 64;
                        bytes[at] = match bytes[at] {
                            b'0' => b'1',
                            b'1' => b'0',
                            c if c.is_ascii_digit() => c ^ 1,
                            c => {
                                if c == b'f' {
                                    b'e'
                                } else {
                                    c + 1
                                }
                            }
                        };
                        Some(String::from_utf8(bytes).unwrap())
                    }
                    2 => Some("sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0".into()),
                    3 => Some(format!("sha256={}", "x".repeat(64))),
                    _ => None,
                };
                let mut headers = vec![
                    ("x-github-event", "pull_request".to_string()),
                    ("x-github-delivery", guid(10_000 + n)),
                ];
                match (n % 5, signature) {
                    (2, Some(sha1)) => headers.push(("x-hub-signature", sha1)),
                    (_, Some(sig)) => headers.push(("x-hub-signature-256", sig)),
                    (_, None) => {}
                }
                let reply = client
                    .request("POST", "/webhook", &headers, &body)
                    .await
                    .unwrap();
                *statuses.entry(reply.status).or_default() += 1;
            }
            statuses
        }));
    }
    for task in tasks {
        let statuses = task.await.unwrap();
        assert_eq!(statuses.get(&401).copied(), Some(2_500), "{statuses:?}");
    }
    let counters = &server.counters;
    assert_eq!(Counters::get(&counters.unauthorized), 10_000);
    assert_eq!(Counters::get(&counters.json_parses), 0);
    assert_eq!(Counters::get(&counters.accepted), 0);
    assert_eq!(server.store.writes(), writes_at_start, "no database write");
    assert_eq!(server.store.delivery_count().await.unwrap(), 0);
    assert_eq!(
        deliver(server.addr, "pull_request", &guid(1), &body)
            .await
            .status,
        202
    );
    assert_eq!(Counters::get(&counters.json_parses), 1);
    assert_eq!(server.store.writes(), writes_at_start + 1);
    server.stop().await;
}

/// Bodies over 25 MiB are 413: a declared length at once, without reading; a chunked body once
/// the limit is crossed. Exactly 25 MiB is still read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_25_mib_are_413() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        &sqlite_url(&dir),
        config(INGRESS_ONLY),
        TestRunner::new(Arc::default()),
    )
    .await;
    // Declared too long: answered before any body byte is sent.
    let mut client = Client::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nhost: t\r\ncontent-length: {}\r\nx-hub-signature-256: sha256={}\r\n\r\n",
        MAX_BODY + 1,
        "0".repeat(64)
    );
    client.stream().write_all(head.as_bytes()).await.unwrap();
    assert_eq!(client.read_reply().await.unwrap().status, 413);

    // Chunked, 25 MiB + 1 byte in 1 MiB chunks: 413.
    let mut client = Client::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /webhook HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\nx-github-event: ping\r\nx-github-delivery: {}\r\nx-hub-signature-256: sha256={}\r\n\r\n",
        guid(1),
        "0".repeat(64)
    );
    let chunk = vec![b' '; 1024 * 1024];
    let (mut reader, mut writer) = client.stream().split();
    let write = async {
        writer.write_all(head.as_bytes()).await?;
        for _ in 0..25 {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
        }
        writer.write_all(b"1\r\n \r\n0\r\n\r\n").await?;
        Ok::<_, std::io::Error>(())
    };
    let read = async {
        let mut buf = vec![0; 1024];
        let n = tokio::io::AsyncReadExt::read(&mut reader, &mut buf)
            .await
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let (_, response) = tokio::join!(write, read);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert_eq!(Counters::get(&server.counters.too_large), 2);

    // Exactly the limit, signed (a ping, whose body is not parsed): accepted.
    let body = vec![b' '; MAX_BODY];
    assert_eq!(
        deliver(server.addr, "ping", &guid(2), &body).await.status,
        200
    );
    assert_eq!(server.store.delivery_count().await.unwrap(), 1);
    server.stop().await;
}

/// Signed but unusable requests: bad headers and bodies are 400 and write nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_headers_and_bodies_are_400() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        &sqlite_url(&dir),
        config(INGRESS_ONLY),
        TestRunner::new(Arc::default()),
    )
    .await;
    let body = pr_body(1, 5, &sha(1));
    assert_eq!(
        deliver(server.addr, "pull_request", "not-a-uuid", &body)
            .await
            .status,
        400
    );
    assert_eq!(
        deliver(server.addr, "Pull Request", &guid(1), &body)
            .await
            .status,
        400
    );
    assert_eq!(
        deliver(server.addr, "pull_request", &guid(2), b"{")
            .await
            .status,
        400
    );
    let mut headers = signed("pull_request", &guid(3), &body);
    headers.remove(0);
    assert_eq!(
        send(server.addr, "POST", "/webhook", &headers, &body)
            .await
            .unwrap()
            .status,
        400
    );
    assert_eq!(server.store.delivery_count().await.unwrap(), 0);
    assert_eq!(
        send(server.addr, "GET", "/webhook", &[], b"")
            .await
            .unwrap()
            .status,
        405
    );
    assert_eq!(
        send(server.addr, "GET", "/nothing", &[], b"")
            .await
            .unwrap()
            .status,
        404
    );
    server.stop().await;
}

/// A second instance on the same SQLite file refuses to start; once the first is gone it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sqlite_instance_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let first = Store::open(&url, &StoreOptions::default()).await.unwrap();
    let second = Store::open(&url, &StoreOptions::default()).await;
    assert!(
        matches!(second, Err(StoreError::Locked { .. })),
        "{second:?}"
    );
    let message = second.unwrap_err().to_string();
    assert!(
        message.contains("another ciguard serve already uses"),
        "{message}"
    );
    first.close().await;
    drop(first);
    Store::open(&url, &StoreOptions::default())
        .await
        .expect("free again")
        .close()
        .await;
}

/// A worker that dies mid-run (its runtime dropped, as with kill -9) loses nothing: the accepted
/// deliveries are on disk and the reaper runs the orphaned job on the next instance.
#[test]
fn killed_sqlite_instance_loses_no_accepted_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let ledger = Arc::new(Ledger::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let accepted = runtime.block_on(async {
        let mut runner = TestRunner::new(ledger.clone());
        runner.default = Behaviour::Slow(Duration::from_secs(30));
        let server = start(&url, config(Roles::ALL), runner).await;
        let mut accepted = Vec::new();
        for n in 0..40 {
            let reply = deliver(
                server.addr,
                "pull_request",
                &guid(n),
                &pr_body(1, n, &sha(n + 1)),
            )
            .await;
            if reply.status / 100 == 2 {
                accepted.push(guid(n));
            }
        }
        eventually(Duration::from_secs(10), "a job is running", async || {
            ledger.total_runs() > 0
        })
        .await;
        // No stop: the process "dies" with the runtime below, leases held and nothing released.
        drop(server);
        accepted
    });
    assert_eq!(accepted.len(), 40);
    runtime.shutdown_background();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let after = Arc::new(Ledger::default());
        // The dead runtime's tasks drop their handles on the lock file in the background.
        let mut store = Store::open(&url, &StoreOptions::default()).await;
        for _ in 0..100 {
            if !matches!(store, Err(StoreError::Locked { .. })) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            store = Store::open(&url, &StoreOptions::default()).await;
        }
        let server = ciguard_serve::server::start(
            store.unwrap(),
            config(Roles::ALL),
            TestRunner::new(after.clone()),
            Vec::new(),
        )
        .await
        .unwrap();
        for id in &accepted {
            assert!(server.store.has_delivery(id).await.unwrap(), "{id} lost");
        }
        let store = server.store.clone();
        eventually(Duration::from_secs(30), "every job done", async || {
            states(&store).await.get("done").copied() == Some(40)
        })
        .await;
        assert_eq!(after.total_runs(), 40);
        server.stop().await;
    });
}

/// No process spawning anywhere in the server crate (clippy's disallowed-methods enforces it
/// too; this also catches a path clippy does not know).
#[test]
fn the_server_crate_spawns_no_process() {
    let mut stack = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                for banned in [
                    "process::Command",
                    "Command::new(",
                    "tokio::process",
                    "libc::fork",
                    "libc::exec",
                ] {
                    assert!(!text.contains(banned), "{} uses {banned}", path.display());
                }
            }
        }
    }
    assert!(files > 5);
}
