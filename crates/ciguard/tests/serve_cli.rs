//! `ciguard serve` as a process: it listens, accepts a signed delivery, refuses a second
//! instance on the same SQLite file, drains and exits 0 on SIGTERM, and `serve jobs` manages
//! the queue afterwards. Secrets never reach its output.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "cli test webhook secret";

fn ciguard(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ciguard"));
    command
        .args(args)
        .env_remove("CIGUARD_DB")
        .env_remove("CIGUARD_WEBHOOK_SECRET_FILE");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// Starts `ciguard serve` and returns it with the address it printed.
fn serve(db: &str, secret_file: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args([
            "serve",
            "--db",
            db,
            "--listen",
            "127.0.0.1:0",
            "--role",
            "ingress",
        ])
        .env("CIGUARD_WEBHOOK_SECRET_FILE", secret_file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(addr) = line
            .trim()
            .strip_prefix("ciguard serve: listening on http://")
        {
            let addr = addr.to_string();
            std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
            return (child, addr);
        }
        line.clear();
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("ciguard serve did not start");
}

fn post(addr: &str, delivery: &str, body: &str) -> String {
    let signature = ciguard_serve::signature::header_value(
        &ciguard_serve::secret::Secret::new(SECRET),
        body.as_bytes(),
    );
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /webhook HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-length: {}\r\nx-github-event: pull_request\r\nx-github-delivery: {delivery}\r\nx-hub-signature-256: {signature}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

#[test]
fn serve_accepts_refuses_a_second_instance_and_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let db = format!("sqlite:{}", dir.path().join("serve.db").display());
    let (mut child, addr) = serve(&db, &secret_file);

    let body = r#"{"action":"opened","installation":{"id":3},"repository":{"id":1,"full_name":"o/r","default_branch":"main"},"pull_request":{"number":9,"head":{"sha":"0123456789abcdef0123456789abcdef01234567","repo":{"id":1}}}}"#;
    let reply = post(&addr, "72d3162e-cc78-11e3-81ab-4c9367dc0958", body);
    assert!(reply.starts_with("HTTP/1.1 202"), "{reply}");

    let second = ciguard(
        &[
            "serve",
            "--db",
            &db,
            "--listen",
            "127.0.0.1:0",
            "--role",
            "ingress",
        ],
        &[("CIGUARD_WEBHOOK_SECRET_FILE", secret_file.to_str().unwrap())],
    );
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another ciguard serve already uses"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET));

    let started = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no exit within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");

    let list = ciguard(&["serve", "jobs", "list", "--db", &db], &[]);
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains("\tqueued\t0/5\tpr:1:9\t"), "{listed}");
    let id = listed
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_string();
    let cancel = ciguard(&["serve", "jobs", "cancel", &id], &[("CIGUARD_DB", &db)]);
    assert_eq!(
        String::from_utf8_lossy(&cancel.stdout),
        format!("job {id} cancelled\n")
    );
    let retry = ciguard(&["serve", "--db", &db, "jobs", "retry", &id], &[]);
    assert_eq!(
        String::from_utf8_lossy(&retry.stdout),
        format!("job {id} queued again\n")
    );
    let again = ciguard(&["serve", "--db", &db, "jobs", "retry", &id], &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("no job"),
        "{again:?}"
    );
}

#[test]
fn database_passwords_never_reach_errors() {
    let out = ciguard(
        &[
            "serve",
            "jobs",
            "list",
            "--db",
            "postgres://ciguard:hunter2-db-password@127.0.0.1:1/ciguard",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("ciguard:***@127.0.0.1:1/ciguard"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn serve_requires_a_webhook_secret_for_ingress_and_app_credentials_for_workers() {
    let out = ciguard(
        &[
            "serve",
            "--role",
            "ingress",
            "--db",
            "sqlite:/nonexistent/x.db",
        ],
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--webhook-secret-file is required"),
        "{out:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, "s").unwrap();
    let out = ciguard(
        &[
            "serve",
            "--webhook-secret-file",
            secret_file.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--app-id and --private-key-file are required"),
        "{out:?}"
    );
}

#[test]
fn audit_log_verify_exits_1_naming_a_tampered_row() {
    use ciguard_serve::gate::audit_log::AuditEntry;
    use ciguard_serve::secret::DbUrl;
    use ciguard_serve::store::{Store, StoreOptions};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("serve.db");
    let db = format!("sqlite:{}", path.display());
    let verify = || ciguard(&["serve", "audit-log", "verify", "--db", &db], &[]);

    let empty = verify();
    assert_eq!(empty.status.code(), Some(0), "{empty:?}");
    assert_eq!(
        String::from_utf8_lossy(&empty.stdout),
        "audit log: 0 rows, chain intact\n"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = StoreOptions {
            exclusive: false,
            ..StoreOptions::default()
        };
        let store = Store::open(&DbUrl::new(db.clone()), &options)
            .await
            .unwrap();
        for (kind, login) in [("intent", "bob"), ("outcome", "bob"), ("intent", "carol")] {
            let entry = AuditEntry {
                kind,
                repository: "octo/app",
                run_id: 7,
                environment: "release",
                record: serde_json::json!({ "approver": login }),
            };
            store.append_gate_audit(&entry).await.unwrap();
        }
        store.close().await;
    });
    let intact = verify();
    assert_eq!(intact.status.code(), Some(0), "{intact:?}");
    assert_eq!(
        String::from_utf8_lossy(&intact.stdout),
        "audit log: 3 rows, chain intact\n"
    );

    runtime.block_on(async {
        use sqlx::{Connection, Executor};
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        conn.execute(
            "UPDATE gate_audit_log SET record = '{\"approver\":\"mallory\"}' WHERE seq = 2",
        )
        .await
        .unwrap();
    });
    let broken = verify();
    assert_eq!(broken.status.code(), Some(1), "{broken:?}");
    let out = String::from_utf8_lossy(&broken.stdout);
    assert!(
        out.contains("chain BROKEN: row 2 does not match its hash"),
        "{out}"
    );
}
