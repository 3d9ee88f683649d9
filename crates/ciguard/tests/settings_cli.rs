//! `ciguard settings` end to end on snapshot directories.

use ciguard_test_support::settings_api as common;

use std::process::{Command, Output};

fn ciguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(args)
        .env_remove("GITHUB_API_URL")
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn defaults_snapshot_reports_every_check() {
    let dir = tempfile::tempdir().unwrap();
    common::defaults().write(dir.path());
    let out = ciguard(&[
        "settings",
        "--from",
        dir.path().to_str().unwrap(),
        "--config",
        "/dev/null",
    ]);
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(14), "{stdout}\n{stderr}");
    assert!(
        stdout
            .contains("high[settings-default-branch]: default branch \"main\" allows force pushes"),
        "{stdout}"
    );
    assert!(
        stdout.contains(" --> octo-org/hello-world: actions → default_workflow_permissions\n  = note: change it at https://github.com/octo-org/hello-world/settings/actions"),
        "{stdout}"
    );
    assert!(
        stdout.contains("note: settings checks: 0 passed, 9 failed, 0 unknown"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn hardened_snapshot_is_clean_and_metadata_only_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    common::hardened().write(dir.path());
    let out = ciguard(&[
        "settings",
        "octo-org/hello-world",
        "--from",
        dir.path().to_str().unwrap(),
        "--config",
        "/dev/null",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("9 passed, 0 failed, 0 unknown"));

    let dir = tempfile::tempdir().unwrap();
    common::metadata_only().write(dir.path());
    let out = ciguard(&[
        "settings",
        "--from",
        dir.path().to_str().unwrap(),
        "--config",
        "/dev/null",
    ]);
    let stderr = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "unknowns are not clean: {stderr}"
    );
    assert!(stderr.contains("0 of 9 could run (9 unknown)"), "{stderr}");
    assert!(stderr.contains("needs administration=read"), "{stderr}");
    assert!(
        stderr.trim_end().ends_with(
            "0 of 9 settings checks could run: nothing was audited (see the notes above)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("no findings"), "{stderr}");
}

#[test]
fn a_truncated_snapshot_answer_is_an_input_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    common::defaults().write(dir.path());
    let secrets = dir
        .path()
        .join(format!("{}/actions/secrets.json", common::BASE));
    let bytes = std::fs::read(&secrets).unwrap();
    std::fs::write(&secrets, &bytes[..bytes.len() / 2]).unwrap();
    let out = ciguard(&[
        "settings",
        "--from",
        dir.path().to_str().unwrap(),
        "--config",
        "/dev/null",
    ]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("0 passed, 8 failed, 1 unknown"),
        "{stdout}\n{stderr}"
    );
    assert!(
        format!("{stdout}{stderr}").contains("GitHub's answer is not valid"),
        "{stdout}\n{stderr}"
    );
}

#[test]
fn export_of_a_snapshot_reproduces_it_and_recommend_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    common::defaults().write(dir.path());
    let out_dir = tempfile::tempdir().unwrap();
    let out = ciguard(&[
        "settings",
        "export",
        "octo-org/hello-world",
        "-o",
        out_dir.path().to_str().unwrap(),
        "--from",
        dir.path().to_str().unwrap(),
        "--config",
        "/dev/null",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = ciguard(&[
        "settings",
        "--from",
        out_dir.path().to_str().unwrap(),
        "--config",
        "/dev/null",
    ]);
    let first = ciguard(&[
        "settings",
        "--from",
        dir.path().to_str().unwrap(),
        "--config",
        "/dev/null",
    ]);
    assert_eq!(text(&again.stdout), text(&first.stdout));

    let rec = ciguard(&[
        "settings",
        "recommend",
        "--reviewer",
        "team:7",
        "--config",
        "/dev/null",
    ]);
    assert!(rec.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&rec.stdout).unwrap();
    assert_eq!(doc["rulesets"].as_array().unwrap().len(), 3);

    // The dry run against the defaults snapshot lists the writes.
    let plan = ciguard(&[
        "settings",
        "recommend",
        "octo-org/hello-world",
        "--from",
        dir.path().to_str().unwrap(),
        "--reviewer",
        "team:7",
        "--config",
        "/dev/null",
    ]);
    let stdout = text(&plan.stdout);
    assert!(plan.status.success(), "{}", text(&plan.stderr));
    assert!(
        stdout.contains("POST repos/octo-org/hello-world/rulesets\n"),
        "{stdout}"
    );
    assert!(stdout.ends_with("10 changes\n"), "{stdout}");
}

#[test]
fn bad_targets_are_usage_errors_not_panics() {
    for t in ["nope", "../x/y", "org:", "a/b/c"] {
        let out = ciguard(&["settings", t, "--from", "/nonexistent"]);
        assert!(!out.status.success());
        assert!(text(&out.stderr).contains("error:"), "{t}");
    }
}

#[test]
fn live_audit_against_a_fake_server() {
    let server = common::serve(common::defaults());
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args([
            "settings",
            "octo-org/hello-world",
            "--github-api-url",
            &server.url,
            "--config",
            "/dev/null",
        ])
        .env("GH_TOKEN", "secret-token-value")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(14), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("publishing secret PYPI_API_TOKEN"),
        "{stdout}"
    );
    assert!(
        stdout.contains("0 passed, 9 failed, 0 unknown"),
        "{stdout}\n{stderr}"
    );
    assert!(!stdout.contains("secret-token-value") && !stderr.contains("secret-token-value"));

    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args([
            "settings",
            "export",
            "octo-org/hello-world",
            "-o",
            dir.path().to_str().unwrap(),
            "--github-api-url",
            &server.url,
            "--config",
            "/dev/null",
        ])
        .env("GH_TOKEN", "secret-token-value")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        dir.path()
            .join("repos/octo-org/hello-world/actions/permissions/workflow.json")
            .is_file()
    );
    assert_eq!(
        std::fs::read_to_string(
            dir.path()
                .join("repos/octo-org/hello-world/immutable-releases.status")
        )
        .unwrap(),
        "404\n"
    );
    let offline = ciguard(&[
        "settings",
        "--from",
        dir.path().to_str().unwrap(),
        "--config",
        "/dev/null",
    ]);
    assert_eq!(text(&offline.stdout), stdout);
}
