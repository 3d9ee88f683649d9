//! The client against the fake GitHub server: caching, conditional requests, pagination, retries,
//! rate limits, timeouts, redaction, offline mode. Every test counts the requests the server got.

use std::path::Path;
use std::time::Duration;

use ciguard_core::models::version::{Version, most_specific_tag};
use ciguard_github::resolve;
use ciguard_github::{Client, ClientConfig, Error, Token};
use ciguard_test_support::git::{GitRepo, action_repo};
use ciguard_test_support::github::{FakeGitHub, Fault};

fn config(server: &FakeGitHub, cache: Option<&Path>) -> ClientConfig {
    ClientConfig {
        api_url: server.url(),
        token: Token::new("ghp_TESTSECRET0123456789"),
        cache_dir: cache.map(Path::to_path_buf),
        offline: false,
        max_concurrency: 4,
        timeout: Duration::from_millis(1500),
        max_wait: Duration::from_secs(5),
        ..ClientConfig::default()
    }
}

fn world(dir: &Path) -> (FakeGitHub, Vec<String>) {
    let server = FakeGitHub::start().unwrap();
    let (repo, shas) = action_repo(
        &dir.join("checkout"),
        "checkout",
        &[
            ("v4.1.0", "2024-01-01T00:00:00Z"),
            ("v4.2.0", "2024-03-01T00:00:00Z"),
            ("v4.2.2", "2024-06-01T00:00:00Z"),
        ],
    )
    .unwrap();
    server.add_repo("actions/checkout", &repo);
    (server, shas)
}

#[test]
fn etags_revalidate_and_commits_by_sha_are_cached_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (server, shas) = world(dir.path());
    let commit_path = format!("/repos/actions/checkout/commits/{}", shas[0]);

    let cold = Client::new(config(&server, Some(&cache)));
    let repo = cold.get("/repos/actions/checkout").unwrap();
    assert_eq!(repo.status, 200);
    assert!(repo.header("etag").is_some());
    assert!(repo.header("x-ratelimit-remaining").is_some());
    assert!(repo.header("x-accepted-github-permissions").is_some());
    cold.get(&commit_path).unwrap();
    // The same path again in one run: answered from memory.
    cold.get("/repos/actions/checkout").unwrap();
    assert_eq!((cold.request_count(), server.request_count()), (2, 2));

    server.clear_log();
    let warm = Client::new(config(&server, Some(&cache)));
    let again = warm.get("/repos/actions/checkout").unwrap();
    assert_eq!(again.body, repo.body);
    assert_eq!(again.status, 200, "a 304 returns the cached answer");
    let commit = warm.get(&commit_path).unwrap();
    assert_eq!(commit.status, 200);
    let log = server.requests();
    assert_eq!(log.len(), 1, "the commit by SHA needs no request: {log:?}");
    assert!(log[0].conditional && log[0].status == 304);

    // No cache: every run pays in full.
    server.clear_log();
    let uncached = Client::new(config(&server, None));
    uncached.get("/repos/actions/checkout").unwrap();
    assert!(!server.requests()[0].conditional);
}

#[test]
fn a_token_change_does_not_reuse_another_identity_s_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (server, _) = world(dir.path());
    Client::new(config(&server, Some(&cache)))
        .get("/repos/actions/checkout")
        .unwrap();
    let mut other = config(&server, Some(&cache));
    other.token = Token::new("ghp_OTHER");
    server.clear_log();
    Client::new(other).get("/repos/actions/checkout").unwrap();
    assert!(!server.requests()[0].conditional);
    // The token itself is never written to the cache.
    for entry in walk(&cache) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!String::from_utf8_lossy(&bytes).contains("TESTSECRET"));
        assert!(!entry.to_string_lossy().contains("TESTSECRET"));
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn pagination_follows_link_headers() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let repo = GitRepo::init(&dir.path().join("many")).unwrap();
    let sha = repo
        .commit("a", "a", "one", "2024-01-01T00:00:00Z")
        .unwrap();
    for i in 0..150 {
        repo.tag(&format!("v1.0.{i}"), &sha).unwrap();
    }
    server.add_repo("o/many", &repo);
    let client = Client::new(config(&server, None));
    let tags = resolve::tags(&client, "o/many").unwrap();
    assert_eq!(tags.len(), 150);
    assert!(tags.iter().all(|t| t.commit == sha));
    let log = server.requests();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|l| l.path.contains("per_page=100")));
}

#[test]
fn server_errors_are_retried_then_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = world(dir.path());
    server.push_fault("/repos/actions/checkout", Fault::Status(500));
    server.push_fault("/repos/actions/checkout", Fault::Status(502));
    let client = Client::new(config(&server, None));
    assert_eq!(client.get("/repos/actions/checkout").unwrap().status, 200);
    assert_eq!(server.request_count(), 3);

    server.clear_log();
    for _ in 0..4 {
        server.push_fault("/repos/actions/checkout/tags", Fault::Status(500));
    }
    let err = client.get("/repos/actions/checkout/tags").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Server {
                status: 500,
                attempts: 4,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("try again later"));
    assert_eq!(server.request_count(), 4);
}

#[test]
fn secondary_rate_limits_are_waited_out_within_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = world(dir.path());
    server.push_fault(
        "/repos/actions/checkout",
        Fault::SecondaryRateLimit { retry_after: 1 },
    );
    let client = Client::new(config(&server, None));
    let started = std::time::Instant::now();
    assert_eq!(client.get("/repos/actions/checkout").unwrap().status, 200);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(server.request_count(), 2);

    server.clear_log();
    server.push_fault(
        "/repos/actions/checkout/tags",
        Fault::SecondaryRateLimit { retry_after: 60 },
    );
    let err = client.get("/repos/actions/checkout/tags").unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("secondary rate limit") && msg.contains("60 s"),
        "{msg}"
    );
    assert!(msg.contains("try again later"), "{msg}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn primary_rate_limits_wait_for_the_reset() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = world(dir.path());
    server.push_fault(
        "/repos/actions/checkout",
        Fault::PrimaryRateLimit { reset_in: 1 },
    );
    let client = Client::new(config(&server, None));
    assert_eq!(client.get("/repos/actions/checkout").unwrap().status, 200);
    assert_eq!(server.request_count(), 2);

    let mut anonymous = config(&server, None);
    anonymous.token = None;
    anonymous.max_wait = Duration::ZERO;
    server.push_fault(
        "/repos/actions/checkout/tags",
        Fault::PrimaryRateLimit { reset_in: 600 },
    );
    let err = Client::new(anonymous)
        .get("/repos/actions/checkout/tags")
        .unwrap_err();
    assert!(err.to_string().contains("set GH_TOKEN"), "{err}");
}

#[test]
fn slow_answers_time_out_and_are_retried() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = world(dir.path());
    let mut cfg = config(&server, None);
    cfg.timeout = Duration::from_millis(300);
    let client = Client::new(cfg);
    server.push_fault(
        "/repos/actions/checkout",
        Fault::Delay(Duration::from_secs(2)),
    );
    assert_eq!(client.get("/repos/actions/checkout").unwrap().status, 200);
    assert_eq!(server.request_count(), 2);

    for _ in 0..4 {
        server.push_fault(
            "/repos/actions/checkout/tags",
            Fault::Delay(Duration::from_secs(2)),
        );
    }
    let err = client.get("/repos/actions/checkout/tags").unwrap_err();
    assert!(matches!(err, Error::Transport { attempts: 4, .. }), "{err}");
}

#[test]
fn the_token_never_appears_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = world(dir.path());
    let client = Client::new(config(&server, None));
    server.push_fault("/repos/actions/checkout", Fault::EchoAuthorization(401));
    let err = client
        .get_json::<serde_json::Value>("/repos/actions/checkout")
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(server.requests()[0].authorized);
    assert!(!text.contains("TESTSECRET"), "{text}");
    assert!(text.contains("***"), "{text}");
    assert!(!format!("{:?}", client.config()).contains("TESTSECRET"));
}

#[test]
fn json_helpers_and_offline_mode() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let (server, _) = world(dir.path());
    let client = Client::new(config(&server, Some(&cache)));
    let missing: Option<serde_json::Value> = client.get_json("/repos/actions/nope").unwrap();
    assert!(missing.is_none());
    let repo: serde_json::Value = client.get_json("/repos/actions/checkout").unwrap().unwrap();
    assert_eq!(repo["default_branch"], "main");

    server.clear_log();
    let mut offline = config(&server, Some(&cache));
    offline.offline = true;
    let offline = Client::new(offline);
    assert!(
        offline.get("/repos/actions/checkout").is_ok(),
        "served from the cache"
    );
    assert!(matches!(
        offline.get("/repos/actions/checkout/tags"),
        Err(Error::Offline { .. })
    ));
    assert_eq!((offline.request_count(), server.request_count()), (0, 0));
}

#[test]
fn concurrency_is_bounded_and_results_keep_their_order() {
    let dir = tempfile::tempdir().unwrap();
    let (server, shas) = world(dir.path());
    let client = Client::new(config(&server, None));
    let paths: Vec<String> = (0..12)
        .map(|i| format!("/repos/actions/checkout/commits/{}", shas[i % 3]))
        .collect();
    let results = client.get_many(&paths);
    for (i, r) in results.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_slice(&r.as_ref().unwrap().body).unwrap();
        assert_eq!(v["sha"], shas[i % 3].as_str());
    }
    // Parallel duplicates may race past the memo, but never beyond one per worker.
    assert!(
        server.request_count() <= 3 * 4,
        "{}",
        server.request_count()
    );
}

#[test]
fn refs_resolve_through_tags_branches_annotated_tags_and_forks() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let up = GitRepo::init(&dir.path().join("up")).unwrap();
    let c1 = up.commit("a", "1", "one", "2024-01-01T00:00:00Z").unwrap();
    up.annotated_tag("v1.0.0", &c1, "release").unwrap();
    up.tag("v1", &c1).unwrap();
    let c2 = up.commit("a", "2", "two", "2024-02-01T00:00:00Z").unwrap();
    // A branch and a tag both named `release`.
    up.branch("release", &c2).unwrap();
    up.tag("release", &c1).unwrap();
    let fork = up.fork(&dir.path().join("fork")).unwrap();
    let evil = fork
        .commit("a", "evil", "evil", "2024-03-01T00:00:00Z")
        .unwrap();
    server.add_repo("up/act", &up);
    server.add_repo("evil/act", &fork);
    server.link_fork("up/act", "evil/act");

    let client = Client::new(config(&server, None));
    let tags = resolve::tags(&client, "up/act").unwrap();
    assert_eq!(
        resolve::resolve_ref(&client, "up/act", "v1.0.0", &tags)
            .unwrap()
            .as_deref(),
        Some(c1.as_str()),
        "annotated tags peel"
    );
    assert_eq!(
        most_specific_tag(resolve::names_at(&tags, &c1), Some("v1")),
        Some("v1.0.0")
    );
    assert_eq!(
        resolve::resolve_ref(&client, "up/act", "main", &tags)
            .unwrap()
            .as_deref(),
        Some(c2.as_str())
    );
    assert_eq!(
        resolve::resolve_ref(&client, "up/act", "nope", &tags).unwrap(),
        None
    );
    // The fork's commit is served through the parent, as GitHub does (the impostor case) ...
    let impostor = resolve::commit(&client, "up/act", &evil).unwrap().unwrap();
    assert_eq!(impostor.sha, evil);
    // ... but no branch or tag of the parent reaches it.
    let cmp: serde_json::Value = client
        .get_json(&format!("/repos/up/act/compare/main...{evil}"))
        .unwrap()
        .unwrap();
    assert_eq!(cmp["status"], "ahead");
    let on_branches: Vec<serde_json::Value> = client
        .get_json("/repos/up/act/git/matching-refs/heads/")
        .unwrap()
        .unwrap();
    assert!(
        on_branches
            .iter()
            .all(|r| r["object"]["sha"] != evil.as_str())
    );
    let refs: Vec<serde_json::Value> = client
        .get_json("/repos/up/act/git/matching-refs/tags/release")
        .unwrap()
        .unwrap();
    assert_eq!(refs.len(), 1);
    let branch: serde_json::Value = client
        .get_json("/repos/up/act/git/ref/heads/release")
        .unwrap()
        .unwrap();
    assert_eq!(branch["object"]["sha"], c2.as_str());
    let annotated: Vec<serde_json::Value> = client
        .get_json("/repos/up/act/git/matching-refs/tags/v1.0.0")
        .unwrap()
        .unwrap();
    assert_eq!(annotated[0]["object"]["type"], "tag");
    let content: serde_json::Value = client
        .get_json(&format!("/repos/up/act/contents/a?ref={c1}"))
        .unwrap()
        .unwrap();
    assert_eq!(content["content"], "MQ==\n");
}

#[test]
fn update_picks_the_newest_release_old_enough() {
    let dir = tempfile::tempdir().unwrap();
    let (server, shas) = world(dir.path());
    server.add_release("actions/checkout", "v4.2.0", "2024-03-02T00:00:00Z");
    server.add_release("actions/checkout", "v4.2.2", "2024-06-02T00:00:00Z");
    let client = Client::new(config(&server, None));
    let tags = resolve::tags(&client, "actions/checkout").unwrap();
    let now = std::time::UNIX_EPOCH
        + Duration::from_secs(resolve::parse_rfc3339("2024-06-05T00:00:00Z").unwrap());
    let current = Version::parse("v4.1.0").unwrap();
    let week = Duration::from_secs(7 * 86_400);
    let u = resolve::newest_aged(
        &client,
        "actions/checkout",
        &tags,
        &current,
        week,
        false,
        now,
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (u.tag.as_str(), u.commit.as_str(), u.age_source),
        ("v4.2.0", shas[1].as_str(), resolve::AgeSource::Release)
    );
    let u = resolve::newest_aged(
        &client,
        "actions/checkout",
        &tags,
        &current,
        Duration::ZERO,
        false,
        now,
    )
    .unwrap()
    .unwrap();
    assert_eq!(u.tag, "v4.2.2");
}

#[test]
fn registry_digests_go_through_the_token_dance() {
    let server = FakeGitHub::start().unwrap();
    let digest = format!("sha256:{}", "ab".repeat(32));
    server.add_image("library/alpine", "3.19", &digest);
    let registry =
        ciguard_github::registry::Registry::new(Some(server.url()), Duration::from_secs(5));
    let image = ciguard_github::registry::ImageRef::parse("docker://alpine:3.19").unwrap();
    assert_eq!(registry.digest(&image).unwrap(), digest);
    // HEAD (401), token, HEAD again.
    let log = server.requests();
    assert_eq!(
        log.iter().map(|l| l.method.as_str()).collect::<Vec<_>>(),
        ["HEAD", "GET", "HEAD"]
    );
    assert!(log.iter().all(|l| !l.path.contains("TESTSECRET")));
    let missing = ciguard_github::registry::ImageRef::parse("alpine:0.0").unwrap();
    assert!(matches!(
        registry.digest(&missing),
        Err(Error::Status { status: 404, .. })
    ));
}
