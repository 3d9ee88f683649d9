//! Request-efficiency benchmark of `ciguard pin` (ignored by default; `bench/pin-requests.sh`
//! runs it): workflows using 50 distinct actions against the fake GitHub server, requests counted
//! with a cold and a warm cache. Target: at most 2 requests per distinct (repository, ref) cold,
//! and nothing but conditional revalidation warm.

use std::process::Command;

use ciguard_github::testing::{FakeGitHub, action_repo};

#[test]
#[ignore = "benchmark: run with bench/pin-requests.sh"]
fn pin_requests_cold_and_warm() {
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
    for w in 0..5 {
        let mut text =
            String::from("on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n");
        for i in (w * 10)..(w * 10 + 10) {
            // Most use a moving major tag, some an exact version, some a branch; each appears in
            // two workflows so the in-run memo matters.
            let r = match i % 10 {
                0 => "main",
                1 | 2 => "v1.0.0",
                _ => "v1",
            };
            pairs.insert((i, r));
            text.push_str(&format!("      - uses: org{}/action{i}@{r}\n", i % 7));
            let j = (i + 10) % 50;
            let rj = match j % 10 {
                0 => "main",
                1 | 2 => "v1.0.0",
                _ => "v1",
            };
            pairs.insert((j, rj));
            text.push_str(&format!("      - uses: org{}/action{j}@{rj}\n", j % 7));
        }
        let p = work.join(format!(".github/workflows/w{w}.yml"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let cache = dir.path().join("cache");
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
            .args([
                "pin",
                "--dry-run",
                "--github-api-url",
                &server.url(),
                "--cache-dir",
            ])
            .arg(&cache)
            .arg(&work)
            .env_remove("GH_TOKEN")
            .env_remove("GITHUB_TOKEN")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run();
    let cold = server.requests();
    server.clear_log();
    run();
    let warm = server.requests();
    let distinct = pairs.len();
    let warm_conditional = warm
        .iter()
        .filter(|r| r.conditional && r.status == 304)
        .count();
    println!("distinct actions: 50, distinct (repository, ref): {distinct}");
    println!(
        "cold: {} requests ({:.2} per distinct (repository, ref))",
        cold.len(),
        cold.len() as f64 / distinct as f64
    );
    println!(
        "warm: {} requests, {} of them conditional revalidations answered 304",
        warm.len(),
        warm_conditional
    );
    assert!(cold.len() <= 2 * distinct);
    assert_eq!(warm.len(), warm_conditional);
}
