//! `--fix` end to end: it changes only what the report shows (issue 10, item 12).

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn ciguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run ciguard")
}

/// A repository holding one workflow, `.github/workflows/w.yml`; returns it and the workflow path.
fn repo(workflow: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let path = dir.path().join(".github/workflows/w.yml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, workflow).unwrap();
    (dir, path)
}

/// A deliberate `persist-credentials: true`: the artipacked finding is for auditors only.
const PERSIST_TRUE: &str = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n        with:\n          persist-credentials: true\n      - run: git push\n";

/// A medium-severity template injection of a workflow input, with an unsafe fix.
const INPUT_INJECTION: &str = "on:\n  workflow_dispatch:\n    inputs:\n      name:\n        type: string\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ inputs.name }}\"\n";

#[test]
fn a_finding_hidden_by_persona_is_not_fixed() {
    let (dir, path) = repo(PERSIST_TRUE);
    let out = ciguard(dir.path(), &["audit", "--fix=all", "--no-config"]);
    assert!(out.status.code().is_some(), "{out:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), PERSIST_TRUE);

    // Shown to the auditor, it is fixed.
    ciguard(
        dir.path(),
        &["audit", "--fix=all", "--no-config", "--persona", "auditor"],
    );
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert!(fixed.contains("persist-credentials: false"), "{fixed}");
}

#[test]
fn a_finding_below_the_floors_is_not_fixed() {
    for floor in [["--min-severity", "high"], ["--min-confidence", "high"]] {
        let (dir, path) = repo(INPUT_INJECTION);
        let mut args = vec!["audit", "--fix=all", "--no-config"];
        args.extend(floor);
        ciguard(dir.path(), &args);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            INPUT_INJECTION,
            "{floor:?}"
        );
    }
    // Without a floor, the same finding is fixed.
    let (dir, path) = repo(INPUT_INJECTION);
    ciguard(dir.path(), &["audit", "--fix=all", "--no-config"]);
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert!(fixed.contains("echo \"${INPUTS_NAME}\""), "{fixed}");
}

#[test]
fn a_finding_in_the_baseline_or_ignored_is_not_fixed() {
    let (dir, path) = repo(INPUT_INJECTION);
    let baseline = dir.path().join("baseline.json");
    let baseline = baseline.to_str().unwrap();
    ciguard(
        dir.path(),
        &["audit", "--no-config", "--write-baseline", baseline],
    );
    ciguard(
        dir.path(),
        &["audit", "--fix=all", "--no-config", "--baseline", baseline],
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), INPUT_INJECTION);

    let ignored = INPUT_INJECTION.replace("}}\"\n", "}}\" # zizmor: ignore[template-injection]\n");
    let (dir, path) = repo(&ignored);
    ciguard(dir.path(), &["audit", "--fix=all", "--no-config"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ignored);

    let (dir, path) = repo(INPUT_INJECTION);
    std::fs::write(
        dir.path().join("ciguard.toml"),
        "[audits.template-injection]\ndisable = true\n",
    )
    .unwrap();
    ciguard(dir.path(), &["audit", "--fix=all"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), INPUT_INJECTION);
}
