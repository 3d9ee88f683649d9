//! `ciguard deps` end to end, against a fake registry on 127.0.0.1.

use std::collections::HashMap;
use std::process::{Command, Output};

use ciguard_test_support::registry::FakeRegistry;

const LOG_INDEX: &str = r#"{"name":"log","vers":"0.4.35","deps":[],"cksum":"00","features":{},"yanked":false,"pubtime":"2026-10-30T21:36:19Z"}
"#;

const CARGO_LOCK: &str = r#"version = 4

[[package]]
name = "log"
version = "0.4.35"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "moving"
version = "0.1.0"
source = "git+https://github.com/example/moving?branch=main"
"#;

fn ciguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(args)
        .output()
        .expect("run ciguard")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn deps_reports_cooldowns_mutable_sources_and_missing_configs() {
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("Cargo.lock"), CARGO_LOCK).expect("write");
    let cache = tempfile::tempdir().expect("cache");
    let fake = FakeRegistry::start(HashMap::from([(
        "/3/l/log".to_owned(),
        (200, LOG_INDEX.to_owned()),
    )]))
    .expect("fake");
    let registry = format!("crates-io={}", fake.url);
    let path = repo.path().to_str().expect("utf-8 path");
    let cache_dir = cache.path().to_str().expect("utf-8 path");
    // A cooldown long enough that the recorded version is always "too young".
    let args = [
        "deps",
        path,
        "--registry-url",
        &registry,
        "--cache-dir",
        cache_dir,
        "--cooldown-days",
        "100000",
        "--color",
        "never",
    ];
    let out = ciguard(&args);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(13),
        "stdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    assert!(
        has_finding(
            &stdout,
            "Cargo.lock:4:8",
            "medium[dependency-cooldown]: `log 0.4.35` was published"
        ),
        "{stdout}"
    );
    assert!(
        has_finding(
            &stdout,
            "Cargo.lock:9:8",
            "medium[mutable-dependency-source]: `moving` comes from git"
        ),
        "{stdout}"
    );
    assert!(
        has_finding(
            &stdout,
            "Cargo.lock:1:1",
            "medium[missing-cooldown-config]: no cooldown for cargo dependencies"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("1 registry request"), "{stdout}");
    assert_eq!(fake.hits(), 1);

    // Offline, from the cache: the same findings, no request.
    let mut offline = args.to_vec();
    offline.push("--offline");
    let again = ciguard(&offline);
    let findings_only = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("note:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(findings_only(&text(&again.stdout)), findings_only(&stdout));
    assert!(text(&again.stdout).contains("0 registry requests"));
    assert_eq!(fake.hits(), 1);

    // JSON output goes through the shared renderer.
    let mut json = args.to_vec();
    json.extend(["--format", "json", "--offline"]);
    let out = ciguard(&json);
    assert_eq!(out.status.code(), Some(13));
}

#[test]
fn deps_rejects_unknown_registry_keys() {
    let out = ciguard(&["deps", ".", "--registry-url", "maven=https://example.test"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("unknown registry `maven`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn deps_registry_from_configuration_and_cooldown_configured() {
    let repo = tempfile::tempdir().expect("tempdir");
    let fake = FakeRegistry::start(HashMap::from([(
        "/3/l/log".to_owned(),
        (200, LOG_INDEX.to_owned()),
    )]))
    .expect("fake");
    std::fs::write(
        repo.path().join("Cargo.lock"),
        &CARGO_LOCK[..CARGO_LOCK
            .find("\n[[package]]\nname = \"moving\"")
            .expect("split")],
    )
    .expect("write");
    std::fs::write(
        repo.path().join("ciguard.toml"),
        format!("[deps.registries]\ncrates-io = \"{}\"\n", fake.url),
    )
    .expect("write");
    std::fs::create_dir_all(repo.path().join(".cargo")).expect("mkdir");
    std::fs::write(
        repo.path().join(".cargo/config.toml"),
        "[registry]\nglobal-min-publish-age = \"7 days\"\n",
    )
    .expect("write");
    let out = ciguard(&[
        "deps",
        repo.path().to_str().expect("utf-8"),
        "--no-cache",
        "--color",
        "never",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(fake.hits(), 1, "the registry URL came from ciguard.toml");
}

#[test]
fn deps_on_one_lockfile() {
    let repo = tempfile::tempdir().expect("tempdir");
    let lock = repo.path().join("Cargo.lock");
    std::fs::write(&lock, CARGO_LOCK).expect("write");
    let out = ciguard(&[
        "deps",
        lock.to_str().expect("utf-8"),
        "--offline",
        "--no-cache",
        "--color",
        "never",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(13), "{stdout}");
    assert!(stdout.contains("[mutable-dependency-source]"), "{stdout}");
    assert!(!stdout.contains("missing-cooldown-config"), "{stdout}");
    // Notes are said once, in the output.
    assert_eq!(
        stdout
            .matches("offline: 1 cargo version is not in the cache")
            .count(),
        1,
        "{stdout}"
    );
    assert!(
        !text(&out.stderr).contains("note:"),
        "{}",
        text(&out.stderr)
    );
}

/// Whether plain output has a finding whose header contains `header` and whose location is `at`.
fn has_finding(stdout: &str, at: &str, header: &str) -> bool {
    let lines: Vec<&str> = stdout.lines().collect();
    lines
        .windows(2)
        .any(|w| w[0].contains(header) && w[1].contains("-->") && w[1].ends_with(at))
}

#[test]
fn audit_and_deps_agree_on_a_short_cooldown_and_audit_reports_it_once() {
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("Cargo.lock"), "version = 4\n").expect("write");
    std::fs::create_dir_all(repo.path().join(".github")).expect("mkdir");
    std::fs::write(
        repo.path().join(".github/dependabot.yml"),
        "version: 2\nupdates:\n  - package-ecosystem: cargo\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 2\n",
    )
    .expect("write");
    let path = repo.path().to_str().expect("utf-8");
    let audit = ciguard(&[
        "audit",
        "--collect",
        "dependabot,dependencies",
        "--color",
        "never",
        path,
    ]);
    let stdout = text(&audit.stdout);
    assert_eq!(
        stdout.matches("[dependabot-cooldown]").count(),
        1,
        "{stdout}"
    );
    assert!(
        !stdout.contains("[missing-cooldown-config]"),
        "one gap, once: {stdout}"
    );
    let deps = ciguard(&["deps", path, "--offline", "--no-cache", "--color", "never"]);
    let stdout = text(&deps.stdout);
    assert!(
        stdout.contains("the cooldown for cargo dependencies is too short: the Dependabot entry for `cargo` waits 2 days, less than the 7-day policy"),
        "{stdout}\n{}",
        text(&deps.stderr)
    );
}

#[test]
fn renovate_presets_are_fetched_through_github_when_online() {
    use ciguard_test_support::git::GitRepo;
    use ciguard_test_support::github::FakeGitHub;
    let server = FakeGitHub::start().expect("fake GitHub");
    let presets = tempfile::tempdir().expect("tempdir");
    let config_repo = GitRepo::init(presets.path()).expect("git repo");
    config_repo
        .commit(
            "presets/cooldown.json",
            "{\"minimumReleaseAge\": \"7 days\"}",
            "cooldown preset",
            "2025-01-01T00:00:00Z",
        )
        .expect("commit");
    server.add_repo("astral-sh/renovate-config", &config_repo);

    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("Cargo.lock"), "version = 4\n").expect("write");
    std::fs::write(
        repo.path().join("renovate.json"),
        "{\"extends\": [\"github>astral-sh/renovate-config//presets/cooldown\"]}",
    )
    .expect("write");
    let cache = tempfile::tempdir().expect("cache");
    let run = |offline: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ciguard"));
        command
            .args([
                "deps",
                repo.path().to_str().expect("utf-8"),
                "--color",
                "never",
            ])
            .env("GITHUB_API_URL", server.url())
            .env("XDG_CACHE_HOME", cache.path())
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_TOKEN");
        if offline {
            command.arg("--offline");
        }
        command.output().expect("run ciguard")
    };
    // Online: the preset's 7 days are read; nothing is missing.
    let out = run(false);
    let stdout = text(&out.stdout);
    assert!(
        !stdout.contains("missing-cooldown-config"),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        !text(&out.stderr).contains("unknown:"),
        "{}",
        text(&out.stderr)
    );
    assert!(server.request_count() >= 1);
    // Offline: unknown, never missing.
    let out = run(true);
    assert!(!text(&out.stdout).contains("missing-cooldown-config"));
    assert!(
        text(&out.stderr).contains("unknown: the cooldown for cargo dependencies may be set in the Renovate preset `github>astral-sh/renovate-config//presets/cooldown`"),
        "{}",
        text(&out.stderr)
    );
}
