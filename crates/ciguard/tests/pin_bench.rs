//! Request-efficiency benchmarks of `ciguard pin` and of `ciguard audit`'s online audits
//! (ignored by default; `bench/pin-requests.sh` runs them): workflows using 50 distinct actions
//! against the fake GitHub server, requests counted with a cold and a warm cache. Target: at most
//! 2 requests per distinct (repository, ref) cold, and nothing but conditional revalidation warm.

use std::process::Command;

use ciguard_test_support::git::action_repo;
use ciguard_test_support::github::FakeGitHub;

/// Five workflows using 50 distinct actions (each used twice, with a moving major tag, an exact
/// version or a branch), the fake server serving them, and the distinct (repository, ref) pairs.
struct Bench {
    dir: tempfile::TempDir,
    server: FakeGitHub,
    work: std::path::PathBuf,
    distinct: usize,
}

fn bench() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    for i in 0..50 {
        let (repo, _) = action_repo(
            &dir.path().join(format!("a{i}")),
            &format!("a{i}"),
            &[
                ("v1.0.0", "2024-01-01T00:00:00Z"),
                ("v1.1.0", "2024-02-01T00:00:00Z"),
            ],
        )
        .unwrap();
        server.add_repo(&format!("org{}/action{i}", i % 7), &repo);
    }
    let work = dir.path().join("work");
    std::fs::create_dir_all(work.join(".git")).unwrap();
    let mut pairs = std::collections::BTreeSet::new();
    let reference = |i: usize| match i % 10 {
        0 => "main",
        1 | 2 => "v1.0.0",
        _ => "v1",
    };
    for w in 0..5 {
        let mut text =
            String::from("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n");
        for i in (w * 10)..(w * 10 + 10) {
            // Each action appears in two workflows so the in-run memo matters.
            for j in [i, (i + 10) % 50] {
                pairs.insert((j, reference(j)));
                text.push_str(&format!(
                    "      - uses: org{}/action{j}@{}\n",
                    j % 7,
                    reference(j)
                ));
            }
        }
        let p = work.join(format!(".github/workflows/w{w}.yml"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    Bench {
        dir,
        server,
        work,
        distinct: pairs.len(),
    }
}

/// Runs `ciguard <args> --github-api-url … --cache-dir … <work>` twice (cold, then warm) and
/// prints and checks the request counts: at most `max_cold(distinct (repository, ref))` cold,
/// only conditional revalidations warm.
fn cold_and_warm(
    b: &Bench,
    what: &str,
    args: &[&str],
    token: Option<&str>,
    max_cold: fn(usize) -> usize,
) {
    let cache = b.dir.path().join(format!("cache-{what}"));
    let run = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ciguard"));
        cmd.args(args)
            .args(["--github-api-url", &b.server.url(), "--cache-dir"])
            .arg(&cache)
            .arg(&b.work)
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_TOKEN");
        if let Some(token) = token {
            cmd.env("GH_TOKEN", token);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.code().is_some_and(|c| c == 0 || c >= 11),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    b.server.clear_log();
    run();
    let cold = b.server.requests();
    b.server.clear_log();
    run();
    let warm = b.server.requests();
    let warm_conditional = warm
        .iter()
        .filter(|r| r.conditional && r.status == 304)
        .count();
    println!(
        "{what}: distinct actions: 50, distinct (repository, ref): {}",
        b.distinct
    );
    println!(
        "{what}: cold: {} requests ({:.2} per distinct (repository, ref))",
        cold.len(),
        cold.len() as f64 / b.distinct as f64
    );
    println!(
        "{what}: warm: {} requests, {} of them conditional revalidations answered 304",
        warm.len(),
        warm_conditional
    );
    assert!(cold.len() <= max_cold(b.distinct), "{cold:#?}");
    assert_eq!(warm.len(), warm_conditional, "{warm:#?}");
}

#[test]
#[ignore = "benchmark: run with bench/pin-requests.sh"]
fn pin_requests_cold_and_warm() {
    let b = bench();
    cold_and_warm(&b, "pin", &["pin", "--dry-run"], None, |d| 2 * d);
}

#[test]
#[ignore = "benchmark: run with bench/pin-requests.sh"]
fn online_audit_requests_cold_and_warm() {
    let b = bench();
    cold_and_warm(
        &b,
        "audit",
        &[
            "audit",
            "--collect",
            "workflows",
            "--format",
            "json",
            "--transitive-depth",
            "0",
        ],
        Some("ghp_BENCHTOKEN"),
        // Per repository its metadata (archived, default branch) and tag list, per named ref
        // whether a branch has that name (ref confusion); advisories in batched queries of 60.
        |d| 3 * d + d.div_ceil(60),
    );
}

#[test]
#[ignore = "benchmark: run with bench/pin-requests.sh"]
fn transitive_audit_requests_cold_and_warm() {
    let b = bench();
    cold_and_warm(
        &b,
        "audit with transitive",
        &["audit", "--collect", "workflows", "--format", "json"],
        Some("ghp_BENCHTOKEN"),
        // The online audits' requests, then each action's `action.yml` at its commit (cached
        // for good once fetched, so a warm run asks for none).
        |d| 4 * d + d.div_ceil(60),
    );
}
