//! `ciguard serve` end to end: the real binary (SQLite store, App credentials, the fake GitHub
//! App as its API) receives signed `pull_request` webhooks, reports one `ciguard` check run per
//! head with annotations on the exact lines, answers a redelivered delivery 200 without a
//! second check run, and exits 0 on SIGTERM without a secret in its logs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ciguard_test_support::github_app::{self as fake, CheckRunRecord, FakeGitHubApp, Repo};

const SECRET: &str = "e2e test webhook secret";
const SLUG: &str = "octo/app";
const REPO_ID: u64 = 101;
const INSTALLATION: u64 = 1;

const BASE: &str = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";
/// One finding: the unpinned `uses:` on line 7.
const UNPINNED: &str = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n";
const PINNED: &str = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          persist-credentials: false\n";

mod serve_process;

use serve_process::{Serve, post_signed};

fn serve(dir: &Path, api_url: &str) -> Serve {
    Serve::start(dir, &serve_db(dir), api_url, SECRET, &["--verbose"])
}

/// Posts a signed `pull_request` delivery; the status code.
fn post(addr: &str, delivery: &str, body: &str) -> u16 {
    post_event(addr, "pull_request", delivery, body)
}

/// Posts a signed delivery of `event`; the status code.
fn post_event(addr: &str, event: &str, delivery: &str, body: &str) -> u16 {
    post_signed(addr, SECRET, event, delivery, body).unwrap()
}

fn opened(number: u64, head: &str) -> String {
    serde_json::json!({
        "action": "opened",
        "installation": {"id": INSTALLATION},
        "repository": {"id": REPO_ID, "full_name": SLUG, "default_branch": "main"},
        "pull_request": {"number": number, "head": {"sha": head, "repo": {"id": REPO_ID}}},
    })
    .to_string()
}

/// A branch off `base_sha` with `workflow`, opened on the fake as pull request `number`.
fn pull(fake: &FakeGitHubApp, git: &Repo, base_sha: &str, number: u64, workflow: &str) -> String {
    let branch = format!("pr-{number}");
    git.git(&["checkout", "-q", "-b", &branch, base_sha])
        .unwrap();
    git.commit(&[(".github/workflows/ci.yml", workflow)], &branch)
        .unwrap();
    git.git(&["checkout", "-q", "main"]).unwrap();
    fake.add_pull(SLUG, number, git, &branch, base_sha).unwrap()
}

/// Waits (30 s at most) until the check runs on `head` are completed; they are returned.
fn completed_runs(fake: &FakeGitHubApp, head: &str, serve: &Serve) -> Vec<CheckRunRecord> {
    let started = Instant::now();
    loop {
        let runs: Vec<_> = fake
            .check_runs()
            .into_iter()
            .filter(|r| r.head_sha == head)
            .collect();
        if !runs.is_empty() && runs.iter().all(|r| r.status == "completed") {
            return runs;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no completed check run on {head} within 30 s: {runs:?}\nstderr:\n{}",
            serve.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_signed_pull_request_webhook_yields_one_check_run_and_serve_drains_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGitHubApp::start().unwrap();
    let git = Repo::init(&dir.path().join("repo")).unwrap();
    let base_sha = git
        .commit(&[(".github/workflows/ci.yml", BASE)], "base")
        .unwrap();
    fake.add_repo(SLUG, REPO_ID, INSTALLATION, &git);
    let unpinned = pull(&fake, &git, &base_sha, 1, UNPINNED);
    let pinned = pull(&fake, &git, &base_sha, 2, PINNED);

    let mut serve = serve(dir.path(), &fake.url());
    let delivery = "72d3162e-cc78-11e3-81ab-4c9367dc0958";
    assert_eq!(post(&serve.addr, delivery, &opened(1, &unpinned)), 202);
    assert_eq!(
        post(
            &serve.addr,
            "a1b2c3d4-cc78-11e3-81ab-4c9367dc0958",
            &opened(2, &pinned)
        ),
        202
    );

    let runs = completed_runs(&fake, &unpinned, &serve);
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = &runs[0];
    assert_eq!((run.name.as_str(), run.repo.as_str()), ("ciguard", SLUG));
    assert_eq!(run.app_id, fake::APP_ID);
    assert_eq!(run.conclusion.as_deref(), Some("failure"), "{run:?}");
    let lines: Vec<_> = run
        .annotations
        .iter()
        .map(|a| (a["path"].as_str(), a["start_line"].as_u64()))
        .collect();
    assert_eq!(
        lines,
        [(Some(".github/workflows/ci.yml"), Some(7))],
        "{run:?}"
    );

    let runs = completed_runs(&fake, &pinned, &serve);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].name, "ciguard");
    assert_eq!(runs[0].conclusion.as_deref(), Some("success"), "{runs:?}");
    assert!(runs[0].annotations.is_empty(), "{runs:?}");

    // GitHub's redelivery carries the same delivery ID: acknowledged, never audited twice.
    assert_eq!(post(&serve.addr, delivery, &opened(1, &unpinned)), 200);
    let on_head: Vec<_> = fake
        .check_runs()
        .into_iter()
        .filter(|r| r.head_sha == unpinned && r.name == "ciguard")
        .collect();
    assert_eq!(on_head.len(), 1, "{on_head:?}");
    assert_eq!(
        (on_head[0].creates, on_head[0].updates),
        (run.creates, run.updates)
    );

    let started = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &serve.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(status) = serve.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no exit within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Let the reader thread take the last lines.
    std::thread::sleep(Duration::from_millis(200));
    let stderr = serve.stderr.lock().unwrap().clone();
    assert!(status.success(), "{status:?}\n{stderr}");
    // The scanned log is the real one: the worker reported both audits in it.
    assert!(stderr.contains("octo/app#1 at "), "{stderr}");
    assert!(
        stderr.contains("ciguard serve stopped drained=true"),
        "{stderr}"
    );
    let minted = fake.tokens();
    assert!(!minted.is_empty(), "the App minted no installation token");
    for part in minted.iter().flat_map(|t| t.token.split('.')) {
        assert!(
            !stderr.contains(part),
            "(part of) an installation token was logged"
        );
    }
    assert!(!stderr.contains("ghs_"), "a token was logged:\n{stderr}");
    assert!(!stderr.contains("eyJ"), "a JWT was logged:\n{stderr}");
    assert!(!stderr.contains("-----BEGIN"), "a PEM block was logged");
    assert!(!stderr.contains("PRIVATE KEY"), "a key was logged");
    assert!(!stderr.contains(SECRET), "the webhook secret was logged");

    // The redelivery queued nothing: two deliveries, two jobs, both done.
    let list = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(["serve", "jobs", "list", "--db", &serve_db(dir.path())])
        .env_remove("CIGUARD_DB")
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&list.stdout);
    let jobs: Vec<(&str, &str)> = listed
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split('\t').skip(1);
            Some((cols.next()?, cols.nth(1)?))
        })
        .collect();
    let mut jobs = jobs;
    jobs.sort();
    assert_eq!(
        jobs,
        [("done", "pr:101:1"), ("done", "pr:101:2")],
        "{listed}"
    );
}

fn serve_db(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("serve.db").display())
}

/// The comment relay through the real binary: a signed `workflow_run` `completed` delivery of a
/// `pull_request` run becomes one relay job; the App reads the organization's `[relay]`, downloads
/// the run's artifact (the storage host never sees a credential) and posts one escaped comment.
#[test]
fn a_workflow_run_delivery_relays_the_runs_comment() {
    use ciguard_test_support::github_app::relay::{ZipEntry, zip};
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGitHubApp::start().unwrap();
    let storage = fake.start_artifact_storage().unwrap();
    let git = Repo::init(&dir.path().join("repo")).unwrap();
    let base_sha = git
        .commit(&[(".github/workflows/ci.yml", BASE)], "base")
        .unwrap();
    fake.add_repo(SLUG, REPO_ID, INSTALLATION, &git);
    let head = pull(&fake, &git, &base_sha, 3, PINNED);
    let org = Repo::init(&dir.path().join("org")).unwrap();
    org.commit(
        &[(
            "ciguard-app.toml",
            "[relay]\nenabled = true\nworkflows = [\".github/workflows/coverage.yml\"]\n",
        )],
        "config",
    )
    .unwrap();
    fake.add_repo("octo/.github", 102, INSTALLATION, &org);
    let message = serde_json::json!({"version": 1, "pr": 3, "head_sha": head,
        "body": "coverage 91% <script>x</script> @everyone", "labels": []});
    fake.add_artifact(
        SLUG,
        777,
        "ciguard-relay",
        zip(&[ZipEntry::new(
            "ciguard-relay.json",
            message.to_string().as_bytes(),
        )]),
    );

    let serve = serve(dir.path(), &fake.url());
    let body = serde_json::json!({
        "action": "completed",
        "installation": {"id": INSTALLATION},
        "repository": {"id": REPO_ID, "full_name": SLUG, "default_branch": "main"},
        "workflow_run": {"id": 777, "workflow_id": 55, "name": "Coverage", "event": "pull_request",
            "path": ".github/workflows/coverage.yml", "head_sha": head, "pull_requests": []},
    })
    .to_string();
    let delivery = "5e1a7c00-cc78-11e3-81ab-4c9367dc0958";
    assert_eq!(
        post_event(&serve.addr, "workflow_run", delivery, &body),
        202
    );
    let started = Instant::now();
    let comment = loop {
        if let Some(c) = fake.comments().into_iter().next() {
            break c;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no comment within 30 s\nstderr:\n{}",
            serve.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(comment.number, 3);
    assert!(
        comment
            .body
            .starts_with("<!-- ciguard-relay workflow=55 -->")
    );
    assert!(
        comment.body.contains("coverage 91% &lt;script&gt;"),
        "{}",
        comment.body
    );
    assert!(!comment.body.contains("@everyone"), "{}", comment.body);
    let downloads = storage.requests();
    assert_eq!(downloads.len(), 1);
    assert!(
        !downloads[0].authorized,
        "the storage host got a credential"
    );
}

#[test]
fn a_ruleset_event_runs_the_settings_checks_and_opens_drift_issues_once() {
    use ciguard_test_support::settings_api;
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGitHubApp::start().unwrap();
    let repo = Repo::init(&dir.path().join("repo")).unwrap();
    repo.commit(&[("README.md", "hi\n")], "init").unwrap();
    let dot_github = Repo::init(&dir.path().join("dot-github")).unwrap();
    dot_github
        .commit(
            &[("ciguard-app.toml", "[drift]\nenabled = true\n")],
            "config",
        )
        .unwrap();
    fake.add_repo("octo-org/hello-world", 1_296_269, INSTALLATION, &repo);
    fake.add_repo("octo-org/.github", 500, INSTALLATION, &dot_github);
    fake.set_settings(&settings_api::defaults());
    let serve = serve(dir.path(), &fake.url());
    let event = serde_json::json!({
        "action": "edited",
        "installation": {"id": INSTALLATION},
        "repository": {"id": 1_296_269, "full_name": "octo-org/hello-world"},
        "organization": {"login": "octo-org"},
    })
    .to_string();
    let deliveries = [
        "d1a2b3c4-0000-11e3-81ab-4c9367dc0958",
        "d1a2b3c4-0001-11e3-81ab-4c9367dc0958",
    ];
    assert_eq!(
        post_event(&serve.addr, "repository_ruleset", deliveries[0], &event),
        202
    );
    let started = Instant::now();
    let done = |n: usize| {
        let list = Command::new(env!("CARGO_BIN_EXE_ciguard"))
            .args(["serve", "jobs", "list", "--db", &serve_db(dir.path())])
            .env_remove("CIGUARD_DB")
            .output()
            .unwrap();
        String::from_utf8_lossy(&list.stdout)
            .matches("\tdone\t")
            .count()
            >= n
    };
    while !done(1) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no drift job done:\n{}",
            serve.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let issues = fake.issues();
    assert!(issues.len() >= 3, "{issues:?}");
    assert!(
        issues
            .iter()
            .all(|i| i.repo == "octo-org/hello-world" && i.state == "open")
    );
    // The same settings again (a second event): no new issue, no comment.
    assert_eq!(
        post_event(&serve.addr, "branch_protection_rule", deliveries[1], &event),
        202
    );
    while !done(2) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the second drift job did not finish:\n{}",
            serve.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(fake.issues(), issues);
    let stderr = serve.stderr.lock().unwrap().clone();
    assert!(stderr.contains("drift octo-org/hello-world"), "{stderr}");
    assert!(!stderr.contains("ghs_"), "a token was logged:\n{stderr}");
}
