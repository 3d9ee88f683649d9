//! `ciguard audit owner/repo[@ref]` end to end against the fake GitHub server: which files are
//! fetched and audited, how they are named, a tag's contents, configuration from the repository,
//! errors, the requests made (cold and warm cache), `--offline`, and the token kept secret.

use std::process::Command;

use ciguard_test_support::git::{GitRepo, action_repo};
use ciguard_test_support::github::{FakeGitHub, Fault, Logged};

const BAD_V1: &str = "name: bad\non: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n";
const BAD_MAIN_TAIL: &str = "      - uses: actions/setup-node@v4\n";
const CLEAN: &str = "name: clean\non: push\npermissions: {}\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hello\n";
const ACTION: &str = "name: setup\ndescription: setup\nruns:\n  using: composite\n  steps:\n    - uses: actions/cache@v4\n";
const DEPENDABOT: &str = "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n";
/// Ignores the composite action's findings: proves the repository's config is applied.
const CONFIG: &str = "[audits.unpinned-uses]\nignore = [\"setup/action.yml\"]\n";

struct World {
    server: FakeGitHub,
    dir: tempfile::TempDir,
    /// The commit `v1` names.
    v1: String,
    main: String,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let repo = GitRepo::init(&dir.path().join("app")).unwrap();
    let date = "2024-01-01T00:00:00Z";
    for (path, text) in [
        ("README.md", "# app\n"),
        (".github/ciguard.toml", CONFIG),
        (".github/dependabot.yml", DEPENDABOT),
        (".github/workflows/clean.yml", CLEAN),
        (".github/workflows/notes.md", "not a workflow\n"),
        (".github/workflows/sub/nested.yml", "on: push\n"),
        ("docs/example.yml", "on: push\n"),
        ("tools/setup/action.yml", ACTION),
    ] {
        let p = repo.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let v1 = repo
        .commit(".github/workflows/bad.yml", BAD_V1, "v1", date)
        .unwrap();
    repo.tag("v1", &v1).unwrap();
    // Changed after the tag: `@v1` must still show the tag's version.
    let main = repo
        .commit(
            ".github/workflows/bad.yml",
            &format!("{BAD_V1}{BAD_MAIN_TAIL}"),
            "more",
            "2024-02-01T00:00:00Z",
        )
        .unwrap();
    server.add_repo("octo/app", &repo);
    World {
        server,
        dir,
        v1,
        main,
    }
}

struct Run {
    code: i32,
    json: serde_json::Value,
    stdout: String,
    stderr: String,
}

fn run(w: &World, args: &[&str], token: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ciguard"));
    cmd.arg("audit");
    if !args.contains(&"--github-api-url") {
        cmd.args(["--github-api-url", &w.server.url()]);
    }
    cmd.arg("--cache-dir")
        .arg(w.dir.path().join("cache"))
        .args(args)
        .current_dir(w.dir.path())
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL");
    if !args.contains(&"--format") {
        cmd.args(["--format", "json"]);
    }
    if let Some(t) = token {
        cmd.env("GH_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains("REMOTESECRET") && !stderr.contains("REMOTESECRET"),
        "{stdout}{stderr}"
    );
    Run {
        code: out.status.code().unwrap_or(-1),
        json: serde_json::from_str(&stdout).unwrap_or(serde_json::Value::Null),
        stdout,
        stderr,
    }
}

/// `(path, line)` of every finding of `audit`, sorted.
fn findings(r: &Run, audit: &str) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = r.json["findings"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter(|f| f["audit"] == audit)
        .map(|f| {
            (
                f["primary"]["path"].as_str().unwrap_or("").to_owned(),
                f["primary"]["start"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

fn paths(r: &Run) -> Vec<String> {
    let mut p: Vec<String> = r.json["findings"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .filter_map(|f| f["primary"]["path"].as_str().map(str::to_owned))
        .collect();
    p.sort();
    p.dedup();
    p
}

fn diagnostics(r: &Run) -> String {
    r.json["diagnostics"].to_string()
}

fn remote_requests(w: &World) -> Vec<Logged> {
    w.server
        .requests()
        .into_iter()
        .filter(|l| l.path.starts_with("/repos/octo/app"))
        .collect()
}

fn pairs(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(p, l)| ((*p).to_owned(), *l)).collect()
}

#[test]
fn audits_the_default_branch_through_the_api_with_few_requests_and_a_warm_cache() {
    let w = world();
    let r = run(&w, &["octo/app"], None);
    assert!((11..=14).contains(&r.code), "{}\n{}", r.stdout, r.stderr);
    // The repository's .github/ciguard.toml hides the composite action's finding.
    assert_eq!(
        findings(&r, "unpinned-uses"),
        pairs(&[
            ("octo/app@main:.github/workflows/bad.yml", 8),
            ("octo/app@main:.github/workflows/bad.yml", 11),
        ])
    );
    assert!(
        !paths(&r).iter().any(|p| p.contains("clean.yml")),
        "{}",
        r.stdout
    );
    // bad, clean, the composite action and dependabot.yml; never README, notes.md, sub/ or docs/.
    assert_eq!(r.json["summary"]["files_audited"], 4, "{}", r.stdout);
    let notes = r.json["notes"].to_string();
    assert!(
        notes.contains(&format!("octo/app@main is commit {}", w.main)),
        "{notes}"
    );
    assert!(notes.contains("no GitHub token"), "{notes}");

    // Cold: the repository (default branch), the ref, the tree, and one blob per file (4 audited
    // files and the config).
    let cold = remote_requests(&w);
    let list: Vec<&str> = cold.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(cold.len(), 8, "{list:#?}");
    assert_eq!(list[0], "/repos/octo/app");
    assert_eq!(list[1], "/repos/octo/app/commits/main");
    assert!(list[2].starts_with("/repos/octo/app/git/trees/") && list[2].ends_with("?recursive=1"));
    assert_eq!(
        list.iter().filter(|p| p.contains("/git/blobs/")).count(),
        5,
        "{list:#?}"
    );
    assert!(
        cold.iter().all(|l| l.method == "GET" && l.status == 200),
        "{cold:#?}"
    );

    // Warm: only the two mutable answers are revalidated; trees and blobs come from the cache.
    w.server.clear_log();
    let again = run(&w, &["octo/app"], None);
    assert_eq!(again.json["findings"], r.json["findings"]);
    let warm = remote_requests(&w);
    assert_eq!(warm.len(), 2, "{warm:#?}");
    assert!(
        warm.iter().all(|l| l.conditional && l.status == 304),
        "{warm:#?}"
    );

    // Offline with a warm cache: no request at all, the same findings.
    w.server.clear_log();
    let offline = run(&w, &["--offline", "octo/app"], None);
    assert_eq!(offline.json["findings"], r.json["findings"]);
    assert_eq!(w.server.request_count(), 0);
}

#[test]
fn a_tag_shows_its_own_contents_and_without_config_every_finding() {
    let w = world();
    let r = run(&w, &["--no-config", "octo/app@v1"], None);
    assert!((11..=14).contains(&r.code), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        findings(&r, "unpinned-uses"),
        pairs(&[
            ("octo/app@v1:.github/workflows/bad.yml", 8),
            ("octo/app@v1:tools/setup/action.yml", 6),
        ])
    );
    assert!(
        r.json["notes"]
            .to_string()
            .contains(&format!("octo/app@v1 is commit {}", w.v1))
    );
    // A ref given: no repository lookup; ref, tree, and 4 blobs (the config is not read).
    let list: Vec<String> = remote_requests(&w).into_iter().map(|l| l.path).collect();
    assert_eq!(list.len(), 6, "{list:#?}");
    assert_eq!(list[0], "/repos/octo/app/commits/v1");

    // A full SHA works too, and its commit answer is cached for good.
    let r = run(&w, &["--no-config", &format!("octo/app@{}", w.main)], None);
    assert_eq!(findings(&r, "unpinned-uses").len(), 3, "{}", r.stdout);
}

#[test]
fn missing_repositories_and_refs_are_input_errors_and_other_inputs_are_still_audited() {
    let w = world();
    let local = tempfile::tempdir().unwrap();
    std::fs::create_dir(local.path().join(".git")).unwrap();
    let wf = local.path().join(".github/workflows/ci.yml");
    std::fs::create_dir_all(wf.parent().unwrap()).unwrap();
    std::fs::write(&wf, BAD_V1).unwrap();
    let local_arg = local.path().to_str().unwrap();
    let r = run(
        &w,
        &[
            "--no-config",
            "nobody/nothing",
            "octo/app@nope",
            local_arg,
            "octo/app@v1",
        ],
        None,
    );
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    let d = diagnostics(&r);
    assert!(d.contains("no repository nobody/nothing on GitHub"), "{d}");
    assert!(d.contains("./nobody/nothing"), "{d}");
    assert!(
        d.contains("octo/app has no branch, tag or commit named `nope`"),
        "{d}"
    );
    assert!(r.stderr.contains("nobody/nothing"), "{}", r.stderr);
    // The local directory and the good remote input are audited in the same run.
    let got = findings(&r, "unpinned-uses");
    assert!(
        got.contains(&("octo/app@v1:.github/workflows/bad.yml".to_owned(), 8)),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|(p, l)| p.ends_with(".github/workflows/ci.yml") && !p.contains('@') && *l == 8),
        "{got:?}"
    );
}

#[test]
fn a_local_path_wins_over_a_repository_of_the_same_name() {
    let w = world();
    let local = w.dir.path().join("octo/app/.github/workflows");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("ci.yml"), CLEAN).unwrap();
    let r = run(&w, &["--no-config", "octo/app"], None);
    assert_eq!(r.json["summary"]["files_audited"], 1, "{}", r.stdout);
    assert!(paths(&r).iter().all(|p| !p.contains('@')), "{}", r.stdout);
    assert_eq!(w.server.request_count(), 0);
}

#[test]
fn offline_with_a_cold_cache_fix_and_diff_are_refused_clearly() {
    let w = world();
    let r = run(&w, &["--offline", "octo/app"], None);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        diagnostics(&r).contains("octo/app is not in the cache and ciguard runs offline"),
        "{}",
        r.stdout
    );
    assert!(diagnostics(&r).contains("drop --offline"));
    assert_eq!(w.server.request_count(), 0);
    for flag in ["--fix", "--diff"] {
        let r = run(&w, &[flag, "octo/app"], None);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("`octo/app` is a remote repository"),
            "{}",
            r.stderr
        );
    }
    assert_eq!(w.server.request_count(), 0);
}

#[test]
fn the_token_is_sent_never_shown_and_truncated_trees_fall_back_to_the_known_directories() {
    let w = world();
    w.server.set_tree_limit(Some(3));
    let r = run(&w, &["octo/app"], Some("ghp_REMOTESECRET"));
    assert!(
        !r.json["notes"].to_string().contains("no GitHub token"),
        "{}",
        r.stdout
    );
    let d = diagnostics(&r);
    assert!(d.contains("too large for one listing"), "{d}");
    // The workflows, dependabot.yml and the config are read; the action in tools/ is not.
    assert_eq!(r.json["summary"]["files_audited"], 3, "{}", r.stdout);
    assert!(
        !paths(&r).iter().any(|p| p.contains("tools/setup")),
        "{}",
        r.stdout
    );
    let requests = remote_requests(&w);
    assert!(requests.iter().all(|l| l.authorized), "{requests:#?}");
    let list: Vec<&str> = requests.iter().map(|l| l.path.as_str()).collect();
    // Repository, ref, tree, 3 directory listings, 4 blobs.
    assert_eq!(list.len(), 10, "{list:#?}");
    assert_eq!(
        list.iter().filter(|p| p.contains("/contents/")).count(),
        3,
        "{list:#?}"
    );
    // An error answer that echoes the credentials: the message is shown, the token is not
    // (`run` asserts it).
    w.server
        .push_fault("/repos/octo/app/commits", Fault::EchoAuthorization(401));
    let r = run(&w, &["octo/app@v1"], Some("ghp_REMOTESECRET"));
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(diagnostics(&r).contains("bad credentials"), "{}", r.stdout);
}

#[test]
fn plain_and_sarif_name_remote_files() {
    let w = world();
    let r = run(
        &w,
        &["--format", "plain", "--no-config", "octo/app@v1"],
        None,
    );
    assert!(
        r.stdout
            .contains("octo/app@v1:.github/workflows/bad.yml:8:"),
        "{}",
        r.stdout
    );
    let r = run(
        &w,
        &["--format", "sarif", "--no-config", "octo/app@v1"],
        None,
    );
    let sarif: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let uris: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|res| {
            res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str()
        })
        .collect();
    assert!(!uris.is_empty());
    assert!(
        uris.iter().all(|u| u.starts_with("octo/app@v1")),
        "{uris:?}"
    );

    // Through a GitHub Enterprise Server address, SARIF links each file at its commit.
    let ghes = format!("{}/api/v3", w.server.url());
    let r = run(
        &w,
        &[
            "--format",
            "sarif",
            "--no-config",
            "--github-api-url",
            &ghes,
            "octo/app@v1",
        ],
        None,
    );
    let sarif: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let uri = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let web = format!("{}/octo/app/blob/{}/", w.server.url(), w.v1);
    assert!(uri.starts_with(&web), "{uri}");
}

#[test]
fn online_audits_run_on_remote_files() {
    let w = world();
    // `actions/checkout@v4` names both a tag and a branch: ref-confusion, found online.
    let (checkout, releases) = action_repo(
        &w.dir.path().join("checkout"),
        "checkout",
        &[("v4.0.0", "2024-01-01T00:00:00Z")],
    )
    .unwrap();
    checkout.branch("v4", &releases[0]).unwrap();
    w.server.add_repo("actions/checkout", &checkout);
    let r = run(
        &w,
        &["--no-config", "octo/app@v1"],
        Some("ghp_REMOTESECRET"),
    );
    assert_eq!(
        findings(&r, "ref-confusion"),
        pairs(&[("octo/app@v1:.github/workflows/bad.yml", 8)]),
        "{}",
        r.stdout
    );
    assert!(
        r.json["notes"].to_string().contains("online:"),
        "{}",
        r.stdout
    );
}
