//! The comment relay's example (`docs/examples/comment-relay/`) is what it claims to be: its
//! workflows pass `ciguard audit` with every audit of the auditor persona, run on plain
//! `pull_request` with a read-only token, and write the artifact the App reads. The App side
//! (its `ciguard-app.toml` parses into the relay's configuration) is checked in
//! `crates/ciguard-serve/tests/relay.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/comment-relay")
}

#[test]
fn the_example_passes_the_audit() {
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(["audit", "--persona", "auditor", "--format", "json"])
        .arg(example())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    assert_eq!(findings, 0, "{stdout}");
    // Both workflows and the Dependabot file were read.
    assert_eq!(report["summary"]["files_audited"], 3, "{stdout}");
}

#[test]
fn the_example_workflows_are_unprivileged_relay_sources() {
    let dir = example().join(".github/workflows");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.display();
        assert!(text.contains("\non: pull_request\n"), "{name}");
        assert!(
            !text.contains("pull_request_target") && !text.contains("workflow_run"),
            "{name}"
        );
        assert!(
            !text.contains("secrets.") && !text.contains(": write"),
            "{name}"
        );
        assert!(text.contains("name: ciguard-relay\n"), "{name}");
        assert!(text.contains("path: ciguard-relay.json\n"), "{name}");
        assert!(
            text.contains("{version: 1, pr: $pr, head_sha: $sha, body: "),
            "{name}"
        );
        seen += 1;
    }
    assert_eq!(seen, 2, "the example is a pair of workflows");
}
