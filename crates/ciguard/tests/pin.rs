//! `ciguard pin` end to end against the fake GitHub server, counting requests.

use std::path::Path;
use std::process::Command;

use ciguard_test_support::git::{GitRepo, action_repo};
use ciguard_test_support::github::FakeGitHub;

struct World {
    server: FakeGitHub,
    checkout: Vec<String>,
    reusable: String,
    _dir: tempfile::TempDir,
    cache: std::path::PathBuf,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let (checkout, shas) = action_repo(
        &dir.path().join("checkout"),
        "checkout",
        &[
            ("v4.1.0", "2024-01-01T00:00:00Z"),
            ("v4.2.0", "2024-03-01T00:00:00Z"),
            ("v4.2.2", "2024-06-01T00:00:00Z"),
            ("v5.0.0", "2024-07-01T00:00:00Z"),
        ],
    )
    .unwrap();
    // v4 and v4.2 point at v4.2.2 (action_repo moves them); v5 is the newest line.
    server.add_repo("actions/checkout", &checkout);
    server.add_release("actions/checkout", "v4.1.0", "2024-01-02T00:00:00Z");
    server.add_release("actions/checkout", "v4.2.0", "2024-03-02T00:00:00Z");
    server.add_release("actions/checkout", "v4.2.2", "2099-01-01T00:00:00Z");
    server.add_release("actions/checkout", "v5.0.0", "2024-07-02T00:00:00Z");
    let reusable = GitRepo::init(&dir.path().join("reusable")).unwrap();
    let r = reusable
        .commit(
            ".github/workflows/build.yml",
            "on: workflow_call\n",
            "wf",
            "2024-01-01T00:00:00Z",
        )
        .unwrap();
    reusable.annotated_tag("v2.0.1", &r, "release").unwrap();
    reusable.tag("v2", &r).unwrap();
    server.add_repo("org/reusable", &reusable);
    let cache = dir.path().join("cache");
    World {
        server,
        checkout: shas,
        reusable: r,
        _dir: dir,
        cache,
    }
}

fn ciguard(w: &World, args: &[&str], dir: &Path) -> (i32, String, String) {
    ciguard_env(w, args, dir, &[])
}

fn ciguard_env(
    w: &World,
    args: &[&str],
    dir: &Path,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .envs(env.iter().copied())
        .arg("pin")
        .args(args)
        .args(["--github-api-url", &w.server.url(), "--cache-dir"])
        .arg(&w.cache)
        .arg(dir)
        .env("GH_TOKEN", "ghp_PINSECRET")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(!stdout.contains("PINSECRET") && !stderr.contains("PINSECRET"));
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

fn repo_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

const WORKFLOW: &str = "on: push\r\njobs:\r\n  test:\r\n    runs-on: ubuntu-latest\r\n    steps:\r\n      - uses: actions/checkout@v4 # keep me? no: replaced\r\n      - {uses: 'actions/checkout@v4.1.0', with: {fetch-depth: 0}}\r\n      - uses: ./local\r\n  call:\r\n    uses: org/reusable/.github/workflows/build.yml@v2\r\n";

#[test]
fn pins_every_uses_byte_exactly_with_few_requests() {
    let w = world();
    let repo = repo_with(&[
        (".github/workflows/ci.yml", WORKFLOW),
        (
            "sub/action.yml",
            "runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@main\n",
        ),
    ]);
    let (code, _, stderr) = ciguard(&w, &[], repo.path());
    assert_eq!(code, 0, "{stderr}");
    let (v422, v410) = (&w.checkout[2], &w.checkout[0]);
    let got = std::fs::read_to_string(repo.path().join(".github/workflows/ci.yml")).unwrap();
    assert_eq!(
        got,
        format!(
            "on: push\r\njobs:\r\n  test:\r\n    runs-on: ubuntu-latest\r\n    steps:\r\n      - uses: actions/checkout@{v422} # v4.2.2\r\n      - {{uses: 'actions/checkout@{v410}', with: {{fetch-depth: 0}}}} # v4.1.0\r\n      - uses: ./local\r\n  call:\r\n    uses: org/reusable/.github/workflows/build.yml@{} # v2.0.1\r\n",
            w.reusable
        )
    );
    let action = std::fs::read_to_string(repo.path().join("sub/action.yml")).unwrap();
    assert_eq!(
        action,
        format!(
            "runs:\n  using: composite\n  steps:\n    - uses: actions/checkout@{} # v5.0.0\n",
            w.checkout[3]
        )
    );
    // One tag listing per repository, one commit lookup for the branch ref.
    let paths: Vec<String> = w.server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(stderr.contains("3 GitHub requests"), "{stderr}");

    // Pinning again changes nothing; the warm cache only revalidates.
    w.server.clear_log();
    let (code, _, stderr) = ciguard(&w, &[], repo.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".github/workflows/ci.yml")).unwrap(),
        got
    );
    assert!(
        w.server
            .requests()
            .iter()
            .all(|r| r.conditional && r.status == 304),
        "{:?}",
        w.server.requests()
    );

    let (code, stdout, _) = ciguard(&w, &["--check"], repo.path());
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn check_lists_unpinned_refs_and_lying_comments() {
    let w = world();
    let text = format!(
        "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{} # v4.2.2\n      - uses: actions/checkout@{} # v4.1.0\n      - uses: actions/checkout@v4\n      - uses: actions/checkout@{} # v9.9.9\n",
        w.checkout[2], w.checkout[2], w.checkout[2]
    );
    let repo = repo_with(&[(".github/workflows/ci.yml", &text)]);
    let (code, stdout, stderr) = ciguard(&w, &["--check"], repo.path());
    assert_eq!(code, 14, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].contains("ci.yml:6") && lines[0].contains("the comment says v4.1.0"),
        "{stdout}"
    );
    assert!(
        lines[1].contains("ci.yml:7") && lines[1].contains("not pinned"),
        "{stdout}"
    );
    assert!(
        lines[2].contains("ci.yml:8") && lines[2].contains("v9.9.9"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".github/workflows/ci.yml")).unwrap(),
        text
    );
    assert_eq!(
        w.server.request_count(),
        1,
        "one tag listing answers every comment"
    );
}

#[test]
fn check_writes_json_when_asked() {
    let w = world();
    let text = format!(
        "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{} # v4.1.0\n      - uses: \"actions/checkout@v4\\n::x\"\n",
        w.checkout[2]
    );
    let repo = repo_with(&[(".github/workflows/ci.yml", &text)]);
    let (code, stdout, stderr) = ciguard(&w, &["--check", "--format", "json"], repo.path());
    assert_eq!(code, 14, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect(&stdout);
    let problems = doc["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{doc:#}");
    assert_eq!(problems[0]["line"], 5);
    assert!(
        problems[0]["message"]
            .as_str()
            .unwrap()
            .contains("the comment says v4.1.0")
    );
    assert!(problems[0]["path"].as_str().unwrap().ends_with("ci.yml"));
    assert_eq!(problems[1]["line"], 6);
    assert_eq!(doc["requests"], 1);
    assert_eq!(doc["unverified"], serde_json::json!([]));
    // `--format` belongs to `--check`.
    let (code, _, stderr) = ciguard(&w, &["--format", "json"], repo.path());
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn progress_is_shown_on_stderr_when_forced() {
    let w = world();
    let text = "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4.2.2\n";
    let repo = repo_with(&[(".github/workflows/ci.yml", text)]);
    let (_, stdout, stderr) =
        ciguard_env(&w, &["--diff"], repo.path(), &[("CIGUARD_PROGRESS", "1")]);
    assert!(stderr.contains("listing tags on GitHub: "), "{stderr}");
    assert!(
        stderr.contains("\r\x1b[K"),
        "the line is erased: {stderr:?}"
    );
    assert!(!stdout.contains("listing tags"), "{stdout}");
    // Not a terminal, not forced: nothing.
    let (_, _, stderr) = ciguard(&w, &["--diff"], repo.path());
    assert!(!stderr.contains("listing tags"), "{stderr}");
    let (_, _, stderr) = ciguard_env(
        &w,
        &["--diff", "-q"],
        repo.path(),
        &[("CIGUARD_PROGRESS", "0")],
    );
    assert!(!stderr.contains("listing tags"), "{stderr}");
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let w = world();
    let text = "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4.2.2\n";
    let repo = repo_with(&[(".github/workflows/ci.yml", text)]);
    let (code, stdout, _) = ciguard(&w, &["--diff"], repo.path());
    assert_eq!(code, 0);
    // `--dry-run` is the same.
    assert_eq!(ciguard(&w, &["--dry-run"], repo.path()).1, stdout);
    assert!(
        stdout.contains("--- a/")
            && stdout.contains(&format!(
                "+      - uses: actions/checkout@{} # v4.2.2",
                w.checkout[2]
            )),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".github/workflows/ci.yml")).unwrap(),
        text
    );
}

#[test]
fn update_moves_to_the_newest_release_old_enough_within_the_major() {
    let w = world();
    let text = format!(
        "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{} # v4.1.0\n",
        w.checkout[0]
    );
    let repo = repo_with(&[(".github/workflows/ci.yml", &text)]);
    let path = repo.path().join(".github/workflows/ci.yml");
    // v4.2.2 was published "in 2099": too young. v4.2.0 is the newest old enough in v4.
    let (code, _, stderr) = ciguard(&w, &["--update", "--min-age", "7d"], repo.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        format!(
            "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{} # v4.2.0\n",
            w.checkout[1]
        )
    );
    let (code, _, _) = ciguard(&w, &["--update", "--major"], repo.path());
    assert_eq!(code, 0);
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains(&format!("@{} # v5.0.0", w.checkout[3]))
    );
}

#[test]
fn images_are_pinned_to_digests() {
    let w = world();
    let digest = format!("sha256:{}", "cd".repeat(32));
    w.server.add_image("library/node", "18", &digest);
    w.server.add_image("library/alpine", "3", &digest);
    let text = "jobs:\n  a:\n    runs-on: x\n    container: node:18\n    steps:\n      - uses: docker://alpine:3\n";
    let repo = repo_with(&[(".github/workflows/ci.yml", text)]);
    let (code, stdout, _) = ciguard(&w, &["--check", "--images"], repo.path());
    assert_eq!((code, stdout.lines().count()), (14, 2), "{stdout}");
    let (code, _, stderr) = ciguard(
        &w,
        &["--images", "--registry-url", &w.server.url()],
        repo.path(),
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".github/workflows/ci.yml")).unwrap(),
        format!(
            "jobs:\n  a:\n    runs-on: x\n    container: node:18@{digest}\n    steps:\n      - uses: docker://alpine:3@{digest}\n"
        )
    );
}

#[test]
fn lockfile_lists_every_action_with_its_commit() {
    let w = world();
    let text = "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n";
    let repo = repo_with(&[(".github/workflows/ci.yml", text)]);
    let (code, _, stderr) = ciguard(&w, &["--lockfile"], repo.path());
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".github/workflows/ci.yml")).unwrap(),
        text,
        "workflows keep their refs"
    );
    let lock_text =
        std::fs::read_to_string(repo.path().join(".github/workflows/actions.lock")).unwrap();
    let lock = ciguard_core_lock(&lock_text);
    assert!(lock.is_locked(".github/workflows/ci.yml", "actions/checkout@v4"));
    assert_eq!(
        lock.dependencies["actions/checkout@v4"].commit.as_deref(),
        Some(w.checkout[2].as_str())
    );
    assert!(lock.dependencies["actions/checkout@v4"].repo_id.is_some());
}

fn ciguard_core_lock(text: &str) -> ciguard_core::actions_lock::ActionsLock {
    ciguard_core::actions_lock::ActionsLock::parse(text).unwrap()
}

#[test]
fn offline_sends_no_request_and_says_so() {
    let w = world();
    let repo = repo_with(&[(
        ".github/workflows/ci.yml",
        "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n",
    )]);
    let (code, _, stderr) = ciguard(&w, &["--offline"], repo.path());
    assert_eq!(code, 1);
    assert!(stderr.contains("offline"), "{stderr}");
    assert_eq!(w.server.request_count(), 0);
}

#[test]
fn check_without_the_network_says_not_verified_once_with_its_own_exit_code() {
    let w = world();
    let good = format!(
        "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{} # v4.2.2\n      - uses: actions/checkout@{} # v4.1.0\n      - uses: someone/else@{} # v1.0.0\n",
        w.checkout[2], w.checkout[0], w.checkout[0]
    );
    let repo = repo_with(&[(".github/workflows/ci.yml", &good)]);
    // Offline with nothing cached: no tag list can be read.
    let (code, stdout, stderr) = ciguard(&w, &["--check", "--offline"], repo.path());
    assert_eq!(code, 4, "{stdout}\n{stderr}");
    assert_eq!(stdout, "", "good pins are not problems");
    assert!(!stderr.contains("not a tag"), "{stderr}");
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("not verified:"))
        .collect();
    assert_eq!(notes.len(), 1, "one cause, once: {stderr}");
    assert!(
        notes[0].contains("3 version comments in 2 repositories") && notes[0].contains("offline"),
        "{stderr}"
    );
    assert_eq!(w.server.request_count(), 0);

    // A real problem still wins over "not verified".
    let bad = format!("{good}      - uses: actions/checkout@v4\n");
    let repo = repo_with(&[(".github/workflows/ci.yml", &bad)]);
    let (code, stdout, _) = ciguard(&w, &["--check", "--offline"], repo.path());
    assert_eq!(code, 14);
    assert!(stdout.contains("not pinned"), "{stdout}");
}

#[test]
fn check_against_an_unreachable_github_names_the_cause_once() {
    let w = world();
    let good = format!(
        "jobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@{} # v4.2.2\n      - uses: other/action@{} # v2.0.0\n",
        w.checkout[2], w.checkout[2]
    );
    let repo = repo_with(&[(".github/workflows/ci.yml", &good)]);
    // A port nothing listens on.
    let port = ciguard_test_support::http::refused_port();
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(["pin", "--check", "--no-cache", "--github-api-url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .arg(repo.path())
        .env("GH_TOKEN", "ghp_PINSECRET")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    assert_eq!(stdout, "");
    let notes: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("not verified:"))
        .collect();
    assert_eq!(notes.len(), 1, "{stderr}");
    assert!(notes[0].contains("refused the connection"), "{stderr}");
    assert!(!stderr.contains("PINSECRET"));
}

/// Every version-comment spelling, read by `pin --check` and by `ref-version-mismatch`: both
/// use `VersionComment::parse`, so both must flag exactly the same lines.
#[test]
fn version_comment_spellings_agree_between_pin_check_and_ref_version_mismatch() {
    let w = world();
    let (v410, v422) = (&w.checkout[0], &w.checkout[2]);
    let spellings = [
        "v4.1.0",
        "v4.1.0 (2024-01-01)",
        "tag=v4.1.0",
        "tag: v4.1.0",
        "pin@v4.1.0",
        "ratchet:actions/checkout@v4.1.0",
        "v 4.1.0",
        "version: v4.1.0",
        "main",
        "bump later",
    ];
    let mut text = String::from("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n");
    let mut lying = Vec::new();
    for (i, s) in spellings.iter().enumerate() {
        // Each spelling twice: on the commit it names (true) and on another (a lie when it names
        // a version).
        text.push_str(&format!("      - uses: actions/checkout@{v410} # {s}\n"));
        text.push_str(&format!("      - uses: actions/checkout@{v422} # {s}\n"));
        if i < 8 {
            lying.push(7 + 2 * i as u64);
        }
    }
    let repo = repo_with(&[(".github/workflows/ci.yml", &text)]);

    let (code, stdout, stderr) = ciguard(&w, &["--check"], repo.path());
    assert_eq!(code, 14, "{stderr}");
    let from_pin: Vec<u64> = stdout
        .lines()
        .filter(|l| l.contains("the comment says"))
        .filter_map(|l| l.split("ci.yml:").nth(1)?.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(from_pin, lying, "{stdout}");
    assert_eq!(stdout.lines().count(), lying.len(), "{stdout}");

    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args([
            "audit",
            "--no-config",
            "--format",
            "json",
            "--transitive-depth",
            "0",
        ])
        .args(["--github-api-url", &w.server.url(), "--cache-dir"])
        .arg(&w.cache)
        .arg(repo.path())
        .env("GH_TOKEN", "ghp_PINSECRET")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json output");
    let mut from_audit: Vec<u64> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["audit"] == "ref-version-mismatch")
        .filter_map(|f| f["primary"]["start"]["line"].as_u64())
        .collect();
    from_audit.sort_unstable();
    assert_eq!(from_audit, from_pin);
}
