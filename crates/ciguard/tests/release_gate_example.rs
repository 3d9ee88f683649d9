//! docs/examples/release-gate: the release workflow passes `ciguard audit` (auditor persona), the
//! settings snapshot passes `ciguard settings`, and the organization file is one the App reads,
//! naming the same workflow and environments as the workflow.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/release-gate")
}

fn ciguard(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(args)
        .current_dir(example())
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap()
}

#[test]
fn the_release_workflow_passes_the_audit() {
    let out = ciguard(&["audit", "--persona", "auditor", "--offline", "."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("no findings, 0 suppressed, 2 files audited"),
        "{stdout}"
    );
}

#[test]
fn the_settings_snapshot_passes_the_settings_checks() {
    let out = ciguard(&[
        "settings",
        "--from",
        "settings-snapshot",
        "--config",
        "ciguard.toml",
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("settings checks: 9 passed, 0 failed, 0 unknown")
            && stdout.contains("no findings"),
        "{stdout}"
    );
}

#[test]
fn the_organization_file_turns_the_gate_on_for_the_workflow_it_ships() {
    use ciguard_serve::gate::{GateConfig, SECTION};
    use ciguard_serve::org_config::OrgConfig;
    let text = std::fs::read_to_string(example().join("ciguard-app.toml")).unwrap();
    let org = OrgConfig::parse(&text).unwrap();
    let gate: GateConfig = org.section(SECTION, "hello-world").unwrap().unwrap();
    assert!(
        org.section::<GateConfig>(SECTION, "other")
            .unwrap()
            .is_none()
    );
    let workflow = std::fs::read_to_string(example().join(&gate.workflow)).unwrap();
    for environment in [&gate.environment, &gate.gate_environment] {
        assert!(
            workflow.contains(&format!("environment: {environment}\n")),
            "{environment}"
        );
    }
    assert_eq!(gate.tags.as_deref(), Some("v*"));
    assert!(workflow.contains("tags: [\"v*\"]"));
}
