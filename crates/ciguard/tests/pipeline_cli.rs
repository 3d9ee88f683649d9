//! Every subcommand runs the same suppress/filter stage: one `ciguard.toml` disabling an audit
//! of each crate (core, deps, settings) is honoured by `audit`, `deps` and `settings`.

use ciguard_test_support::settings_api as common;

use std::path::Path;
use std::process::{Command, Output};

const CONFIG: &str = "[audits.unpinned-uses]\ndisable = true\n\n[audits.missing-cooldown-config]\ndisable = true\n\n[audits.settings-default-branch]\ndisable = true\n";

fn ciguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_API_URL")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap()
}

fn all(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A repository with an unpinned action and a Cargo.lock without a cooldown configured.
fn repository(config: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    std::fs::write(
        root.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n",
    )
    .unwrap();
    std::fs::write(
        root.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"x\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    common::defaults().write(&root.join("snapshot"));
    if config {
        std::fs::write(root.join("ciguard.toml"), CONFIG).unwrap();
    }
    dir
}

fn runs(dir: &Path) -> [(String, String); 3] {
    let audit = ciguard(dir, &["audit", "--offline", "--color", "never", "."]);
    let deps = ciguard(
        dir,
        &["deps", "--offline", "--no-cache", "--color", "never", "."],
    );
    let settings = ciguard(dir, &["settings", "--from", "snapshot", "--color", "never"]);
    [
        ("audit".into(), all(&audit)),
        ("deps".into(), all(&deps)),
        ("settings".into(), all(&settings)),
    ]
}

#[test]
fn one_config_disables_an_audit_of_each_crate_in_every_subcommand() {
    let plain = repository(false);
    let [audit, deps, settings] = runs(plain.path());
    // Without the configuration each audit reports (so the test can fail).
    assert!(audit.1.contains("[unpinned-uses]"), "{}", audit.1);
    assert!(audit.1.contains("[missing-cooldown-config]"), "{}", audit.1);
    assert!(deps.1.contains("[missing-cooldown-config]"), "{}", deps.1);
    assert!(
        settings.1.contains("[settings-default-branch]"),
        "{}",
        settings.1
    );

    let configured = repository(true);
    for (command, output) in runs(configured.path()) {
        for id in [
            "[unpinned-uses]",
            "[missing-cooldown-config]",
            "[settings-default-branch]",
        ] {
            assert!(!output.contains(id), "{command} reported {id}:\n{output}");
        }
    }
}

#[test]
fn deps_says_each_note_once() {
    let dir = repository(false);
    let out = ciguard(
        dir.path(),
        &[
            "deps",
            "--offline",
            "--no-cache",
            "--color",
            "never",
            "Cargo.lock",
        ],
    );
    let text = all(&out);
    let summary = text.matches(" lockfiles, ").count() + text.matches(" lockfile, ").count();
    assert_eq!(summary, 1, "{text}");
}

#[test]
fn no_exit_codes_keeps_findings_out_of_the_status_but_not_errors() {
    let dir = repository(false);
    let out = ciguard(dir.path(), &["audit", "--offline", "."]);
    assert!(matches!(out.status.code(), Some(11..=14)), "{}", all(&out));
    let out = ciguard(dir.path(), &["audit", "--offline", "--no-exit-codes", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let out = ciguard(
        dir.path(),
        &["deps", "--offline", "--no-cache", "--no-exit-codes", "."],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let out = ciguard(
        dir.path(),
        &["settings", "--from", "snapshot", "--no-exit-codes"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let out = ciguard(
        dir.path(),
        &["audit", "--offline", "--no-exit-codes", "missing.yml"],
    );
    assert_eq!(out.status.code(), Some(3), "an input error keeps its code");
}

#[test]
fn deps_takes_the_persona_and_floors_of_audit() {
    let dir = repository(false);
    let out = ciguard(
        dir.path(),
        &[
            "deps",
            "--offline",
            "--no-cache",
            "--color",
            "never",
            "--min-severity",
            "high",
            ".",
        ],
    );
    let text = all(&out);
    assert!(!text.contains("[missing-cooldown-config]"), "{text}");
    assert!(text.contains("suppressed"), "{text}");
}

#[test]
fn a_directory_without_workflows_still_follows_its_configuration() {
    let dir = repository(true);
    std::fs::remove_dir_all(dir.path().join(".github")).unwrap();
    let out = ciguard(dir.path(), &["audit", "--offline", "--color", "never", "."]);
    let text = all(&out);
    assert!(!text.contains("[missing-cooldown-config]"), "{text}");
    std::fs::remove_file(dir.path().join("ciguard.toml")).unwrap();
    let out = ciguard(dir.path(), &["audit", "--offline", "--color", "never", "."]);
    assert!(
        all(&out).contains("[missing-cooldown-config]"),
        "{}",
        all(&out)
    );
}
