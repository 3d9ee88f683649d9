//! The client against the fake GitHub behaving like github.com: paginated envelopes, renamed
//! repositories, redirects to other hosts, secondary rate limits without `retry-after`, slow
//! answers against the run's network budget, untrustworthy cache entries, and one cause per kind
//! of network failure. Every test counts the requests the server got.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ciguard_github::{Cause, Client, ClientConfig, Error, Token};
use ciguard_test_support::git::action_repo;
use ciguard_test_support::github::{FakeGitHub, Fault};
use serde_json::{Value, json};

fn config(server: &FakeGitHub, cache: Option<&Path>) -> ClientConfig {
    ClientConfig {
        api_url: server.url(),
        token: Token::new("ghp_TESTSECRET0123456789"),
        cache_dir: cache.map(Path::to_path_buf),
        max_concurrency: 1,
        timeout: Duration::from_secs(5),
        max_wait: Duration::from_secs(5),
        secondary_wait: Duration::from_millis(100),
        ..ClientConfig::default()
    }
}

fn world(dir: &Path) -> FakeGitHub {
    let server = FakeGitHub::start().unwrap();
    let (repo, _) = action_repo(
        &dir.join("checkout"),
        "checkout",
        &[("v4.1.0", "2024-01-01T00:00:00Z")],
    )
    .unwrap();
    server.add_repo("actions/checkout", &repo);
    server
}

fn secrets(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"name": format!("SECRET_{i:03}"), "created_at": "2024-01-10T14:59:22Z"}))
        .collect()
}

#[test]
fn envelopes_are_read_to_the_last_page_with_per_page_100() {
    let dir = tempfile::tempdir().unwrap();
    let server = world(dir.path());
    let path = "/repos/actions/checkout/actions/secrets";
    let mut items = secrets(249);
    items.push(json!({"name": "PYPI_API_TOKEN"}));
    server.add_envelope(path, "secrets", items);
    let client = Client::new(config(&server, None));

    let all = client.get_all_pages(path).unwrap();
    let body: Value = serde_json::from_slice(&all.body).unwrap();
    assert_eq!(body["total_count"], 250);
    let names: Vec<&str> = body["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 250);
    assert_eq!(names.last(), Some(&"PYPI_API_TOKEN"), "the one on page 3");
    let log = server.requests();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(
        log.iter().all(|l| l.path.contains("per_page=100")),
        "{log:?}"
    );

    // The typed helper reads envelopes too.
    let typed: Vec<Value> = client.get_paginated(path).unwrap();
    assert_eq!(typed.len(), 250);

    // One page, no Link: answered as it is, in its envelope.
    server.add_envelope(
        "/repos/actions/checkout/environments",
        "environments",
        vec![json!({"name": "release"})],
    );
    let one = client
        .get_all_pages("/repos/actions/checkout/environments")
        .unwrap();
    let body: Value = serde_json::from_slice(&one.body).unwrap();
    assert_eq!(body["environments"][0]["name"], "release");
}

#[test]
fn an_envelope_whose_pages_do_not_add_up_is_an_error_not_a_short_list() {
    let dir = tempfile::tempdir().unwrap();
    let server = world(dir.path());
    let path = "/repos/actions/checkout/environments/release/deployment-branch-policies";
    server.add_envelope_claiming(path, "branch_policies", secrets(120), Some(121));
    let client = Client::new(config(&server, None));
    let err = client.get_all_pages(path).unwrap_err();
    assert!(matches!(err, Error::Incomplete { .. }), "{err}");
    assert!(err.to_string().contains("121"), "{err}");
    // A true count passes.
    server.add_envelope_claiming(path, "branch_policies", secrets(120), None);
    let client = Client::new(config(&server, None));
    assert!(client.get_all_pages(path).is_ok());
}

#[test]
fn a_renamed_repository_is_followed_with_the_token_on_the_same_host() {
    let dir = tempfile::tempdir().unwrap();
    let server = world(dir.path());
    server.rename_repo("old-owner/checkout", "actions/checkout");
    let client = Client::new(config(&server, None));
    let repo: Value = client
        .get_json("/repos/old-owner/checkout")
        .unwrap()
        .expect("the redirect leads to the repository");
    assert_eq!(repo["default_branch"], "main");
    let tags: Vec<Value> = client
        .get_paginated("/repos/old-owner/checkout/tags")
        .unwrap();
    let direct: Vec<Value> = client
        .get_paginated("/repos/actions/checkout/tags")
        .unwrap();
    assert!(!tags.is_empty());
    assert_eq!(tags, direct);
    let log = server.requests();
    let followed: Vec<_> = log
        .iter()
        .filter(|l| l.path.starts_with("/repositories/"))
        .collect();
    assert_eq!(followed.len(), 2, "{log:#?}");
    assert!(
        followed.iter().all(|l| l.authorized && l.status == 200),
        "{log:#?}"
    );
    assert!(followed[1].path.contains("per_page=100"), "{log:#?}");

    // Without a token the fake answers 404 there, as GitHub does for a private repository.
    let mut anonymous = config(&server, None);
    anonymous.token = None;
    let anonymous = Client::new(anonymous);
    assert_eq!(
        anonymous.get("/repos/old-owner/checkout").unwrap().status,
        404
    );
}

#[test]
fn redirects_to_another_host_scheme_or_port_are_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let server = world(dir.path());
    let elsewhere = FakeGitHub::start().unwrap();
    let port = server.url().rsplit(':').next().unwrap().to_owned();
    let targets = [
        format!("{}/repos/actions/checkout", elsewhere.url()),
        format!("https://127.0.0.1:{port}/repos/actions/checkout"),
        format!("http://localhost:{port}/repos/actions/checkout"),
        "//evil.example/repos/actions/checkout".to_owned(),
    ];
    for (i, target) in targets.iter().enumerate() {
        let path = format!("/repos/moved{i}/x");
        server.redirect_elsewhere(&path, target);
        let client = Client::new(config(&server, None));
        let err = client.get(&path).unwrap_err();
        assert!(
            matches!(err, Error::ForeignRedirect { .. }),
            "{target}: {err}"
        );
        assert!(!format!("{err}").contains("TESTSECRET"));
    }
    assert_eq!(elsewhere.request_count(), 0, "the token never left");
}

#[test]
fn secondary_limits_without_retry_after_are_waited_out_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let server = world(dir.path());
    server.push_secondary_limit("/repos/actions/checkout", 403, 2);
    let client = Client::new(config(&server, None));
    let repo = client.get("/repos/actions/checkout").unwrap();
    assert_eq!(repo.status, 200);
    let statuses: Vec<u16> = server.requests().iter().map(|l| l.status).collect();
    assert_eq!(statuses, [403, 403, 200]);
    assert!(client.network_failures().is_empty());

    // 429 too; then requests are paced but go on.
    server.clear_log();
    server.push_secondary_limit("/repos/actions/checkout/tags", 429, 1);
    let tags: Vec<Value> = client
        .get_paginated("/repos/actions/checkout/tags")
        .unwrap();
    assert!(!tags.is_empty());
    let statuses: Vec<u16> = server.requests().iter().map(|l| l.status).collect();
    assert_eq!(statuses, [429, 200]);
}

#[test]
fn a_secondary_limit_that_outlasts_the_budget_is_rate_limiting_not_a_permission() {
    let dir = tempfile::tempdir().unwrap();
    let server = world(dir.path());
    server.push_secondary_limit("/repos/actions/checkout", 403, 10);
    let mut c = config(&server, None);
    // GitHub asks for at least a minute; the run may only spend a second.
    c.secondary_wait = Duration::from_secs(60);
    c.network_budget = Duration::from_secs(1);
    let client = Client::new(c);
    let err = client
        .get_json::<Value>("/repos/actions/checkout")
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("secondary rate limit"), "{text}");
    assert!(text.contains("network budget"), "{text}");
    assert!(!text.contains("403"), "not reported as a refusal: {text}");
    assert_eq!(server.request_count(), 1, "no retry before the wait");
    let failures = client.network_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].cause, Cause::RateLimit);
}

#[test]
fn after_the_network_budget_no_request_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let server = world(dir.path());
    server.set_latency(Duration::from_millis(400));
    let mut c = config(&server, None);
    c.network_budget = Duration::from_millis(1000);
    let client = Client::new(c);
    let paths: Vec<String> = (0..10)
        .map(|i| format!("/repos/actions/checkout/commits/v{i}"))
        .collect();
    let results = client.get_many(&paths);
    let first_failure = results.iter().position(Result::is_err).unwrap();
    assert!(first_failure >= 1, "the first request fits the budget");
    for r in &results[first_failure..] {
        assert!(matches!(r, Err(Error::Deadline { .. })), "{r:?}");
    }
    // At most one request was cut short; none was sent after the budget.
    assert!(
        server.request_count() <= first_failure + 1,
        "{}",
        server.request_count()
    );
    let failures = client.network_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].cause, Cause::Deadline);
    assert_eq!(failures[0].count, paths.len() - first_failure);
    assert!(
        failures[0].first.contains("--network-budget"),
        "{failures:?}"
    );
}

fn cache_files(cache: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![cache.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files
}

#[test]
fn a_truncated_cache_entry_is_refetched_without_if_none_match() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = world(dir.path());
    let fresh = Client::new(config(&server, Some(&cache)));
    let body = fresh.get("/repos/actions/checkout").unwrap().body;
    let files = cache_files(&cache);
    assert_eq!(files.len(), 1);
    let bytes = std::fs::read(&files[0]).unwrap();
    std::fs::write(&files[0], &bytes[..bytes.len() - 20]).unwrap();

    server.clear_log();
    let again = Client::new(config(&server, Some(&cache)));
    assert_eq!(again.get("/repos/actions/checkout").unwrap().body, body);
    let log = server.requests();
    assert_eq!(log.len(), 1);
    assert!(
        !log[0].conditional,
        "a 304 would keep the truncated body: {log:?}"
    );
    // The entry was rewritten whole: the next run revalidates it.
    server.clear_log();
    Client::new(config(&server, Some(&cache)))
        .get("/repos/actions/checkout")
        .unwrap();
    assert!(server.requests()[0].conditional && server.requests()[0].status == 304);
}

#[cfg(unix)]
#[test]
fn cache_entries_that_are_links_fifos_or_devices_are_misses_and_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = world(dir.path());
    let fresh = Client::new(config(&server, Some(&cache)));
    let body = fresh.get("/repos/actions/checkout").unwrap().body;
    let entry = cache_files(&cache).remove(0);
    let saved = dir.path().join("saved");
    std::fs::rename(&entry, &saved).unwrap();
    let fifo_made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("fifo"))
        .status()
        .is_ok_and(|s| s.success());
    let mut planted = vec![PathBuf::from("/dev/zero"), saved.clone()];
    if fifo_made {
        planted.push(dir.path().join("fifo"));
    } else {
        eprintln!("skipped the FIFO case: mkfifo is not available");
    }
    for target in planted {
        let _ = std::fs::remove_file(&entry);
        std::os::unix::fs::symlink(&target, &entry).unwrap();
        server.clear_log();
        let client = Client::new(config(&server, Some(&cache)));
        assert_eq!(client.get("/repos/actions/checkout").unwrap().body, body);
        let log = server.requests();
        assert!(!log[0].conditional, "{target:?} was read: {log:?}");
    }
}

#[test]
fn one_cause_per_kind_of_network_failure_and_no_request_after_it() {
    // Nothing listens on this port.
    let port = ciguard_test_support::http::refused_port();
    let refused = ClientConfig {
        api_url: format!("http://127.0.0.1:{port}"),
        token: Token::new("ghp_TESTSECRET0123456789"),
        ..ClientConfig::default()
    };
    let client = Client::new(refused);
    let first = client.get("/repos/a/b").unwrap_err();
    assert_eq!(first.cause(), Some(Cause::ConnectionRefused), "{first}");
    assert_eq!(client.request_count(), 4, "retried, then given up");
    let second = client.get("/repos/c/d").unwrap_err();
    assert!(matches!(second, Error::Halted { .. }), "{second}");
    assert_eq!(client.request_count(), 4, "not sent");
    let failures = client.network_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].count, 2);
    assert!(client.is_network_failure_note(&format!("`c/d`: {second}")));
    assert!(!client.is_network_failure_note("`e/f`: repository not found"));

    let dns = Client::new(ClientConfig {
        api_url: "http://ciguard-test-host.invalid".into(),
        token: Token::new("ghp_TESTSECRET0123456789"),
        ..ClientConfig::default()
    });
    let err = dns.get("/repos/a/b").unwrap_err();
    assert_eq!(err.cause(), Some(Cause::Dns), "{err}");

    // An https URL at a server that answers the handshake in plain HTTP.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = plain.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for stream in plain.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let tls = ClientConfig {
        api_url: format!("https://{addr}"),
        token: Token::new("ghp_TESTSECRET0123456789"),
        ..ClientConfig::default()
    };
    let err = Client::new(tls).get("/repos/a/b").unwrap_err();
    assert_eq!(err.cause(), Some(Cause::Tls), "{err}");
    assert!(!err.to_string().contains("TESTSECRET"));
}

#[test]
fn bad_credentials_are_said_once_and_stop_the_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = world(dir.path());
    server.push_fault("/repos/actions/checkout", Fault::EchoAuthorization(401));
    let client = Client::new(config(&server, None));
    let err = client
        .get_json::<Value>("/repos/actions/checkout")
        .unwrap_err();
    assert_eq!(err.cause(), Some(Cause::BadCredentials));
    assert!(!err.to_string().contains("TESTSECRET"), "{err}");
    let later = client.get("/repos/actions/checkout/tags").unwrap_err();
    assert_eq!(later.cause(), Some(Cause::BadCredentials));
    assert_eq!(server.request_count(), 1);
    let failures = client.network_failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].count, 2, "the 401 and the request not sent");
    assert!(!failures[0].first.contains("TESTSECRET"));
    assert!(client.is_network_failure_note(&format!("`actions/checkout`: {err}")));
}
