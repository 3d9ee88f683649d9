//! `ciguard audit` honours GitHub's actions lockfile: only the refs it really lists for a
//! workflow are locked.

use std::path::Path;
use std::process::{Command, Stdio};

const WORKFLOW: &str = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v5.0.1\n        with:\n          persist-credentials: false\n      - uses: actions/setup-node@v4\n      - uses: actions/cache@v4\n";

const LOCKFILE: &str = "version: 'v0.0.2'\nworkflows:\n    '.github/workflows/ci.yml':\n        - 'actions/checkout@v5.0.1'\n        - 'actions/setup-node@v4'\ndependencies:\n    'actions/checkout@v5.0.1':\n        ref: 'v5.0.1'\n        commit: 'sha1-93cb6efe18208431cddfb8368fd83d5badbf9bfd'\n    'actions/setup-node@v4':\n        ref: 'v4'\n        commit: 'sha1-49933ea5288caeca8642d1e84afbd3f7d6820020'\n";

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

/// `(path, line)` of each `unpinned-uses` finding, the diagnostics, and the exit code.
fn audit(dir: &Path) -> (Vec<(String, u64)>, Vec<serde_json::Value>, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(["audit", "--no-config", "--format", "json", "."])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    let mut found: Vec<(String, u64)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["audit"] == "unpinned-uses")
        .map(|f| {
            (
                f["primary"]["path"].as_str().unwrap().to_owned(),
                f["primary"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort();
    let diagnostics = json["diagnostics"].as_array().cloned().unwrap_or_default();
    (found, diagnostics, out.status.code().unwrap_or(-1))
}

#[test]
fn only_the_refs_the_lockfile_lists_for_a_workflow_are_locked() {
    let dir = repo(&[
        (".github/workflows/ci.yml", WORKFLOW),
        (".github/workflows/other.yml", WORKFLOW),
        (".github/workflows/actions.lock", LOCKFILE),
    ]);
    let (found, diagnostics, _) = audit(dir.path());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let ci = ".github/workflows/ci.yml".to_owned();
    let other = ".github/workflows/other.yml".to_owned();
    // ci.yml: checkout and setup-node are locked, cache is not in the lockfile. other.yml is
    // not listed, so nothing in it is locked.
    assert_eq!(
        found,
        vec![
            (ci, 11),
            (other.clone(), 7),
            (other.clone(), 10),
            (other, 11)
        ]
    );
}

#[test]
fn a_broken_lockfile_is_an_error_and_locks_nothing() {
    let dir = repo(&[
        (".github/workflows/ci.yml", WORKFLOW),
        (".github/workflows/actions.lock", "workflows: [unclosed\n"),
    ]);
    let (found, diagnostics, code) = audit(dir.path());
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(d["level"], "error");
    assert!(
        d["path"]
            .as_str()
            .unwrap()
            .ends_with(".github/workflows/actions.lock"),
        "{d}"
    );
    assert!(
        d["message"].as_str().unwrap().contains("does not parse"),
        "{d}"
    );
    assert!(
        d["help"]
            .as_str()
            .unwrap()
            .contains("ciguard pin --lockfile"),
        "{d}"
    );
    assert_ne!(code, 0);
}
