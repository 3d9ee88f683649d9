//! `ciguard deps` applies `ciguard.toml`'s `[audits.<id>]` tables (disable, severity, ignore)
//! with the same discovery and `--config`/`--no-config` flags as `ciguard audit`.

use std::path::Path;
use std::process::Command;

const CARGO_LOCK: &str = "version = 4\n\n[[package]]\nname = \"moving\"\nversion = \"0.1.0\"\nsource = \"git+https://github.com/example/moving?branch=main\"\n";

/// `(audit, severity)` of each finding of `ciguard deps --offline`, and the suppressed count.
fn deps(repo: &Path, extra: &[&str]) -> (Vec<(String, String)>, u64) {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .arg("deps")
        .arg(repo)
        .args(["--offline", "--format", "json", "--cache-dir"])
        .arg(cache.path())
        .args(extra)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let mut found: Vec<(String, String)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["audit"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    (found, json["summary"]["suppressed"].as_u64().unwrap_or(0))
}

fn pair(audit: &str, severity: &str) -> (String, String) {
    (audit.to_owned(), severity.to_owned())
}

#[test]
fn deps_honours_the_configuration_like_audit() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    std::fs::write(repo.path().join("Cargo.lock"), CARGO_LOCK).unwrap();
    let (all, suppressed) = deps(repo.path(), &[]);
    assert_eq!(
        all,
        vec![
            pair("missing-cooldown-config", "medium"),
            pair("mutable-dependency-source", "medium"),
        ]
    );
    assert_eq!(suppressed, 0);

    // Discovered at the repository root: one audit disabled, the other's severity lowered.
    std::fs::write(
        repo.path().join("ciguard.toml"),
        "[audits.mutable-dependency-source]\ndisable = true\n\n[audits.missing-cooldown-config]\nseverity = \"low\"\n",
    )
    .unwrap();
    let (found, suppressed) = deps(repo.path(), &[]);
    assert_eq!(found, vec![pair("missing-cooldown-config", "low")]);
    assert_eq!(suppressed, 1);
    // The same when the lockfile itself is given.
    let (found, _) = deps(&repo.path().join("Cargo.lock"), &[]);
    assert!(
        !found.iter().any(|(a, _)| a == "mutable-dependency-source"),
        "{found:?}"
    );

    // `--no-config` ignores it; `--config` uses another file instead.
    assert_eq!(deps(repo.path(), &["--no-config"]).0, all);
    let other = repo.path().join("other.toml");
    std::fs::write(
        &other,
        "[audits.missing-cooldown-config]\nignore = [\"Cargo.lock\"]\n",
    )
    .unwrap();
    let (found, suppressed) = deps(repo.path(), &["--config", other.to_str().unwrap()]);
    assert_eq!(found, vec![pair("mutable-dependency-source", "medium")]);
    assert_eq!(suppressed, 1);

    // `--config` chooses the `[deps]` table too.
    let bad = repo.path().join("bad.toml");
    std::fs::write(&bad, "[deps]\ncooldown-days = \"soon\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .arg("deps")
        .arg(repo.path())
        .args(["--offline", "--config", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
}
