//! `ciguard audit` online, end to end against the fake GitHub server: the online audits, the
//! default (offline without a token), and the requests made with a cold and a warm cache.

use std::path::Path;
use std::process::Command;

use ciguard_test_support::git::{GitRepo, action_repo};
use ciguard_test_support::github::FakeGitHub;

struct World {
    server: FakeGitHub,
    /// Commits of v4.1.0 and v4.2.2.
    releases: Vec<String>,
    impostor: String,
    untagged: String,
    dir: tempfile::TempDir,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let (checkout, releases) = action_repo(
        &dir.path().join("checkout"),
        "checkout",
        &[
            ("v4.1.0", "2024-01-01T00:00:00Z"),
            ("v4.2.2", "2024-06-01T00:00:00Z"),
        ],
    )
    .unwrap();
    // A commit on main after the last release, tagged by nothing.
    let untagged = checkout
        .commit("README.md", "wip\n", "wip", "2024-07-01T00:00:00Z")
        .unwrap();
    // `v4` is a tag (on v4.2.2) and a branch (on v4.1.0).
    checkout.branch("v4", &releases[0]).unwrap();
    server.add_repo("actions/checkout", &checkout);
    // A fork with a commit nobody merged: reachable through the network, not from a ref.
    let fork = checkout.fork(&dir.path().join("fork")).unwrap();
    let impostor = fork
        .commit("index.js", "steal()\n", "evil", "2024-08-01T00:00:00Z")
        .unwrap();
    server.add_repo("evil/checkout", &fork);
    server.link_fork("actions/checkout", "evil/checkout");
    server.add_advisory(
        "GHSA-test-0001",
        "actions/checkout",
        "< 4.2.0",
        Some("4.2.0"),
    );
    let old = GitRepo::init(&dir.path().join("old")).unwrap();
    let o = old
        .commit("action.yml", "name: old\n", "old", "2020-01-01T00:00:00Z")
        .unwrap();
    old.tag("v1", &o).unwrap();
    server.add_repo("someone/old-action", &old);
    server.set_archived("someone/old-action", true);
    World {
        server,
        releases,
        impostor,
        untagged,
        dir,
    }
}

fn workflow(w: &World) -> String {
    let (v410, v422) = (&w.releases[0], &w.releases[1]);
    format!(
        "on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@{v422} # v4.2.2\n        with:\n          persist-credentials: false\n      - uses: actions/checkout@{} # v4.2.2\n        with:\n          persist-credentials: false\n      - uses: actions/checkout@{v410} # v4.2.2\n        with:\n          persist-credentials: false\n      - uses: actions/checkout@{}\n        with:\n          persist-credentials: false\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n      - uses: someone/old-action@v1\n",
        w.impostor, w.untagged
    )
}

fn repo_with(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let p = dir.path().join(".github/workflows/ci.yml");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    dir
}

fn audit(w: &World, args: &[&str], dir: &Path, token: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ciguard"));
    cmd.arg("audit")
        .args(["--no-config", "--format", "json", "--github-api-url"])
        .arg(w.server.url())
        .arg("--cache-dir")
        .arg(w.dir.path().join("cache"))
        // The requests counted here are the online audits' (tests/transitive.rs counts those
        // of transitive auditing).
        .args(["--transitive-depth", "0"])
        .args(args)
        .arg(dir)
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL");
    if let Some(t) = token {
        cmd.env("GH_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stdout.contains("AUDITSECRET") && !stderr.contains("AUDITSECRET"));
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// `(audit, line)` of every finding of an online audit (and archived-uses), from JSON output.
fn online_findings(report: &str) -> Vec<(String, u64)> {
    const ONLINE: [&str; 6] = [
        "impostor-commit",
        "ref-version-mismatch",
        "stale-action-refs",
        "ref-confusion",
        "known-vulnerable-actions",
        "archived-uses",
    ];
    let json: serde_json::Value = serde_json::from_str(report).expect("json output");
    let mut out: Vec<(String, u64)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| {
            let audit = f["audit"].as_str()?;
            let line = f["primary"]["start"]["line"].as_u64()?;
            ONLINE.contains(&audit).then(|| (audit.to_owned(), line))
        })
        .collect();
    out.sort_by_key(|(a, l)| (*l, a.clone()));
    out
}

#[test]
fn online_audits_find_impostors_lies_stale_pins_confusion_advisories_and_archives() {
    let w = world();
    let repo = repo_with(&workflow(&w));
    let (_, report, stderr) = audit(
        &w,
        &["--persona", "pedantic"],
        repo.path(),
        Some("ghp_AUDITSECRET"),
    );
    let expected: Vec<(String, u64)> = [
        ("impostor-commit", 10),
        ("ref-version-mismatch", 10),
        ("known-vulnerable-actions", 13),
        ("ref-version-mismatch", 13),
        ("stale-action-refs", 16),
        ("ref-confusion", 19),
        ("archived-uses", 22),
    ]
    .iter()
    .map(|(a, l)| ((*a).to_owned(), *l))
    .collect();
    assert_eq!(online_findings(&report), expected, "{report}\n{stderr}");
    let cold = w.server.request_count();
    // Per repository: metadata and tags; advisories in one query for all; the impostor and the untagged commit each
    // need a compare with the default branch, then the impostor the branch list and compares
    // with the other branch and the tagged commits; `v4` one ref lookup.
    assert!(cold <= 16, "{cold} requests: {:#?}", w.server.requests());

    // Warm: only conditional revalidations; immutable answers are not asked again.
    w.server.clear_log();
    let (_, warm_report, _) = audit(
        &w,
        &["--persona", "pedantic"],
        repo.path(),
        Some("ghp_AUDITSECRET"),
    );
    assert_eq!(online_findings(&warm_report), expected);
    let warm = w.server.requests();
    assert!(warm.len() <= cold, "{warm:#?}");
    assert!(
        warm.iter().all(|r| r.conditional || r.status != 200),
        "{warm:#?}"
    );
    println!("online audit requests: cold {cold}, warm {}", warm.len());
}

#[test]
fn without_a_token_or_with_offline_no_request_is_sent_and_online_audits_are_skipped() {
    let w = world();
    let repo = repo_with(&workflow(&w));
    let (_, report, _) = audit(&w, &["--persona", "pedantic"], repo.path(), None);
    assert!(online_findings(&report).is_empty(), "{report}");
    let (_, report, _) = audit(&w, &["--offline"], repo.path(), Some("ghp_AUDITSECRET"));
    assert!(online_findings(&report).is_empty(), "{report}");
    assert_eq!(w.server.request_count(), 0);
}

#[test]
fn an_orphan_commit_pushed_to_a_fork_is_reported_as_an_impostor() {
    let w = world();
    // Unrelated history: every compare answers 404 "No common ancestor between ...".
    let fork = GitRepo {
        dir: w.dir.path().join("fork"),
    };
    fork.git(&["checkout", "-q", "--orphan", "payload"])
        .unwrap();
    let orphan = fork
        .commit("action.yml", "name: evil\n", "evil", "2024-09-01T00:00:00Z")
        .unwrap();
    let repo = repo_with(&format!(
        "on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@{orphan} # v4.2.2\n        with:\n          persist-credentials: false\n"
    ));
    let (_, report, stderr) = audit(
        &w,
        &["--persona", "pedantic"],
        repo.path(),
        Some("ghp_AUDITSECRET"),
    );
    let findings = online_findings(&report);
    assert!(
        findings.contains(&("impostor-commit".to_owned(), 7)),
        "{findings:?}\n{stderr}"
    );
    assert!(
        w.server
            .requests()
            .iter()
            .any(|r| r.path.contains("/compare/") && r.status == 404),
        "the fake answered as GitHub does"
    );
}

#[test]
fn online_audits_show_progress_on_stderr_only_when_forced_or_on_a_terminal() {
    let w = world();
    let repo = repo_with(&workflow(&w));
    let run = |progress: &str, token: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ciguard"));
        cmd.args([
            "audit",
            "--no-config",
            "--format",
            "json",
            "--github-api-url",
        ])
        .arg(w.server.url())
        .arg("--cache-dir")
        .arg(w.dir.path().join("cache-progress"))
        .args(["--transitive-depth", "0"])
        .arg(repo.path())
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .env("CIGUARD_PROGRESS", progress);
        if let Some(t) = token {
            cmd.env("GH_TOKEN", t);
        }
        let out = cmd.output().unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (stdout, stderr) = run("1", Some("ghp_AUDITSECRET"));
    assert!(stderr.contains("auditing (online checks): "), "{stderr}");
    assert!(
        stderr.contains("\r\x1b[K"),
        "the line is erased: {stderr:?}"
    );
    assert!(
        !stdout.contains("auditing (online"),
        "stdout stays data: {stdout}"
    );
    assert!(!stderr.contains("AUDITSECRET"));
    // Offline (no token): nothing goes online, so no progress line.
    let (_, stderr) = run("1", None);
    assert!(!stderr.contains("auditing (online"), "{stderr}");
    // Online but not forced and not a terminal: none either.
    let (_, stderr) = run("0", Some("ghp_AUDITSECRET"));
    assert!(!stderr.contains("auditing (online"), "{stderr}");
}
