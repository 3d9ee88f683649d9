//! `ciguard audit` online when GitHub cannot be used: one diagnosis per cause with the next
//! step (not a note per request blaming permissions or refs), the whole run's network budget,
//! and exit code 4 when a token was given and no online check could run.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ciguard_test_support::git::action_repo;
use ciguard_test_support::github::{FakeGitHub, Fault};

const TOKEN: &str = "ghp_NETWORKSECRET";

struct World {
    server: FakeGitHub,
    dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    for name in ["checkout", "cache", "setup-node"] {
        let (repo, _) = action_repo(
            &dir.path().join(name),
            name,
            &[("v4.1.0", "2024-01-01T00:00:00Z")],
        )
        .unwrap();
        server.add_repo(&format!("actions/{name}"), &repo);
    }
    World { server, dir }
}

fn repo_with(uses: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let p = dir.path().join(".github/workflows/ci.yml");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let steps: String = uses
        .iter()
        .map(|u| {
            format!("      - uses: {u}\n        with:\n          persist-credentials: false\n")
        })
        .collect();
    std::fs::write(
        p,
        format!("on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n{steps}"),
    )
    .unwrap();
    dir
}

struct Run {
    code: i32,
    notes: Vec<String>,
}

fn audit(w: &World, api_url: &str, args: &[&str], repo: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .arg("audit")
        .args([
            "--no-config",
            "--format",
            "json",
            "--github-api-url",
            api_url,
        ])
        .arg("--cache-dir")
        .arg(w.dir.path().join("cache"))
        .args(args)
        .arg(repo)
        .env("GH_TOKEN", TOKEN)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stdout.contains("NETWORKSECRET") && !stderr.contains("NETWORKSECRET"));
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("json output");
    let notes = json["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    Run {
        code: out.status.code().unwrap_or(-1),
        notes,
    }
}

const USES: [&str; 3] = [
    "actions/checkout@v4",
    "actions/cache@v4",
    "actions/setup-node@v4",
];

fn count(notes: &[String], needle: &str) -> usize {
    notes.iter().filter(|n| n.contains(needle)).count()
}

/// No note blames a permission, a ref, or a timeout option that does not exist.
fn no_wrong_causes(notes: &[String]) {
    for wrong in [
        "permission",
        "cannot list tags",
        "not found",
        "raise the timeout",
    ] {
        assert_eq!(count(notes, wrong), 0, "{wrong}: {notes:#?}");
    }
}

#[test]
fn a_refused_connection_is_one_diagnosis_and_exit_code_4() {
    let w = world();
    let repo = repo_with(&USES);
    let port = ciguard_test_support::http::refused_port();
    // Transitive auditing on (the default depth): it must not blame the refs either.
    let r = audit(&w, &format!("http://127.0.0.1:{port}"), &[], repo.path());
    assert_eq!(r.code, 4, "{:#?}", r.notes);
    assert_eq!(
        count(&r.notes, "refused the connection"),
        1,
        "{:#?}",
        r.notes
    );
    assert_eq!(
        count(&r.notes, "check the URL and port"),
        1,
        "{:#?}",
        r.notes
    );
    assert_eq!(
        count(&r.notes, "skipped (need the network)"),
        1,
        "{:#?}",
        r.notes
    );
    no_wrong_causes(&r.notes);
}

#[test]
fn a_rejected_token_is_said_once() {
    let w = world();
    let repo = repo_with(&USES[..1]);
    w.server
        .push_fault("/repos/actions/checkout", Fault::EchoAuthorization(401));
    let r = audit(
        &w,
        &w.server.url(),
        &["--transitive-depth", "0"],
        repo.path(),
    );
    assert_eq!(r.code, 4, "{:#?}", r.notes);
    assert_eq!(count(&r.notes, "rejected the token"), 1, "{:#?}", r.notes);
    assert_eq!(count(&r.notes, "GH_TOKEN"), 1, "{:#?}", r.notes);
    assert_eq!(w.server.request_count(), 1, "no request after the 401");
    no_wrong_causes(&r.notes);
}

#[test]
fn a_slow_github_stops_at_the_network_budget_and_says_so_once() {
    let w = world();
    let repo = repo_with(&USES);
    // Every answer comes after the whole budget: nothing can run.
    w.server.set_latency(Duration::from_secs(3));
    let r = audit(&w, &w.server.url(), &["--network-budget", "1"], repo.path());
    assert_eq!(r.code, 4, "{:#?}", r.notes);
    assert_eq!(count(&r.notes, "--network-budget"), 1, "{:#?}", r.notes);
    assert_eq!(
        count(&r.notes, "skipped (need the network)"),
        1,
        "{:#?}",
        r.notes
    );
    // The first requests were cut at the budget; none was sent after it.
    assert!(
        w.server.request_count() <= USES.len(),
        "{:#?}",
        w.server.requests()
    );
    no_wrong_causes(&r.notes);
}

#[test]
fn a_healthy_github_has_no_network_diagnosis() {
    let w = world();
    let repo = repo_with(&USES);
    let r = audit(
        &w,
        &w.server.url(),
        &["--transitive-depth", "0"],
        repo.path(),
    );
    assert_ne!(r.code, 4, "{:#?}", r.notes);
    assert_eq!(
        count(&r.notes, "skipped (need the network)"),
        0,
        "{:#?}",
        r.notes
    );
    assert_eq!(count(&r.notes, "requests) failed"), 0, "{:#?}", r.notes);
    assert_eq!(
        count(&r.notes, "3 repositories resolved"),
        1,
        "{:#?}",
        r.notes
    );
}

#[test]
fn a_secondary_rate_limit_is_rate_limiting_said_once_not_a_permission() {
    let w = world();
    let repo = repo_with(&USES);
    // 403 without `retry-after`, worded as GitHub words it: at least a minute to wait, more
    // than the run's budget.
    w.server.push_secondary_limit("/repos/", 403, 100);
    let r = audit(
        &w,
        &w.server.url(),
        &["--network-budget", "20", "--transitive-depth", "0"],
        repo.path(),
    );
    assert_eq!(r.code, 4, "{:#?}", r.notes);
    assert_eq!(
        count(&r.notes, "rate limit stopped the requests"),
        1,
        "{:#?}",
        r.notes
    );
    assert_eq!(
        count(&r.notes, "secondary rate limit asks to wait 60 s"),
        1,
        "{:#?}",
        r.notes
    );
    assert_eq!(count(&r.notes, "403"), 0, "{:#?}", r.notes);
    no_wrong_causes(&r.notes);
    // Concurrent first requests may each meet the limit; nothing is sent after it.
    assert!(
        w.server.request_count() <= USES.len(),
        "{:#?}",
        w.server.requests()
    );
}

#[test]
fn settings_that_could_read_nothing_say_why_once_and_exit_4() {
    let port = ciguard_test_support::http::refused_port();
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(["settings", "octo-org/hello-world", "--github-api-url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .env("GH_TOKEN", TOKEN)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("NETWORKSECRET"));
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert_eq!(text.matches("refused the connection").count(), 1, "{text}");
    assert!(
        text.contains(" settings checks could run: nothing was audited"),
        "{text}"
    );
    assert!(text.contains("0 of "), "{text}");
    assert!(!text.contains("permission"), "{text}");
}
