//! The in-memory entry: files given as (path, bytes), no filesystem, same filter as the CLI.

use ciguard_core::Persona;
use ciguard_pipeline::{MemoryFile, MemoryOptions, View, audit_in_memory};

const UNPINNED: &str = "on: push\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n";

fn file(path: &str, text: &str) -> MemoryFile {
    MemoryFile {
        path: path.to_owned(),
        bytes: text.as_bytes().to_vec(),
    }
}

fn ids(report: &ciguard_core::Report) -> Vec<&'static str> {
    report.findings.iter().map(|f| f.audit_id()).collect()
}

#[test]
fn audits_workflows_by_their_repository_path() {
    let files = [
        file(".github/workflows/ci.yml", UNPINNED),
        // Not a path GitHub runs: ignored, as a walk would.
        file("docs/ci.yml", UNPINNED),
    ];
    let report = audit_in_memory(&files, &MemoryOptions::default()).unwrap();
    assert_eq!(report.files_audited, 1);
    assert!(
        ids(&report).contains(&"unpinned-uses"),
        "{:?}",
        ids(&report)
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.primary.path() == ".github/workflows/ci.yml")
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("skipped (need the network)")),
        "{:?}",
        report.notes
    );
}

#[test]
fn a_compliant_workflow_has_no_findings() {
    let ok = "name: ci\non: push\npermissions: {}\nconcurrency:\n  group: ci-${{ github.ref }}\n  cancel-in-progress: true\njobs:\n  build:\n    name: build\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";
    let view = View {
        persona: Persona::Auditor,
        ..View::default()
    };
    let options = MemoryOptions {
        view,
        ..MemoryOptions::default()
    };
    let report = audit_in_memory(&[file(".github/workflows/ok.yml", ok)], &options).unwrap();
    assert_eq!(report.files_audited, 1);
    assert!(report.findings.is_empty(), "{:?}", ids(&report));
}

#[test]
fn the_configuration_text_and_inline_ignores_apply() {
    let files = [file(".github/workflows/ci.yml", UNPINNED)];
    let options = MemoryOptions {
        config: Some("[audits.unpinned-uses]\ndisable = true\n"),
        ..MemoryOptions::default()
    };
    let report = audit_in_memory(&files, &options).unwrap();
    assert!(
        !ids(&report).contains(&"unpinned-uses"),
        "{:?}",
        ids(&report)
    );

    let ignored = UNPINNED.replace(
        "actions/checkout@v4",
        "actions/checkout@v4 # ciguard: ignore[unpinned-uses]",
    );
    let report = audit_in_memory(
        &[file(".github/workflows/ci.yml", &ignored)],
        &MemoryOptions::default(),
    )
    .unwrap();
    assert!(
        !ids(&report).contains(&"unpinned-uses"),
        "{:?}",
        ids(&report)
    );
    assert!(report.suppressed >= 1);
}

#[test]
fn bad_configuration_is_an_error_and_bad_files_are_diagnostics() {
    let files = [file(".github/workflows/ci.yml", UNPINNED)];
    let options = MemoryOptions {
        config: Some("[audits.unpinned-uses]\ndisable = 3\n"),
        ..MemoryOptions::default()
    };
    assert!(audit_in_memory(&files, &options).is_err());

    let files = [
        MemoryFile {
            path: ".github/workflows/bad.yml".into(),
            bytes: b"on: push\n\xff\xfe".to_vec(),
        },
        file(".github/workflows/ci.yml", UNPINNED),
    ];
    let report = audit_in_memory(&files, &MemoryOptions::default()).unwrap();
    assert_eq!(report.files_audited, 1, "the good file is still audited");
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.path == ".github/workflows/bad.yml" && d.message.contains("UTF-8")),
        "{:?}",
        report.diagnostics
    );
}

/// An npm lockfile whose package comes from a git branch (a mutable source).
const MUTABLE_LOCK: &str = r#"{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "": {"name": "web", "dependencies": {"left-pad": "github:someone/left-pad"}},
    "node_modules/left-pad": {"version": "1.3.0", "resolved": "git+ssh://git@github.com/someone/left-pad.git#main"}
  }
}
"#;

/// A Dependabot configuration with a cooldown for npm.
const DEPENDABOT: &str = "version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 7\n";

#[test]
fn lockfiles_get_the_offline_dependency_checks_under_the_same_configuration() {
    let files = [
        file("package-lock.json", MUTABLE_LOCK),
        file(".github/dependabot.yml", DEPENDABOT),
    ];
    let report = audit_in_memory(&files, &MemoryOptions::default()).unwrap();
    let found: Vec<(&str, &str)> = report
        .findings
        .iter()
        .map(|f| (f.audit_id(), f.primary.path()))
        .collect();
    assert_eq!(
        found,
        [("mutable-dependency-source", "package-lock.json")],
        "{found:?}"
    );
    // The configuration disables dependency audits as it does for `ciguard audit`.
    let config = "[audits.mutable-dependency-source]\ndisable = true\n";
    let options = MemoryOptions {
        config: Some(config),
        ..MemoryOptions::default()
    };
    let quiet = audit_in_memory(&files, &options).unwrap();
    assert_eq!(ids(&quiet), Vec::<&str>::new());
    // Without any cooldown configured, the lockfile is evidence of npm dependencies without one.
    let alone = audit_in_memory(&files[..1], &MemoryOptions::default()).unwrap();
    let mut alone = ids(&alone);
    alone.sort_unstable();
    assert_eq!(
        alone,
        ["missing-cooldown-config", "mutable-dependency-source"]
    );
}

#[test]
fn changed_workflows_alone_get_no_dependency_checks() {
    let report = audit_in_memory(
        &[file(".github/workflows/ci.yml", UNPINNED)],
        &MemoryOptions::default(),
    )
    .unwrap();
    assert!(
        !ids(&report).contains(&"missing-cooldown-config"),
        "{:?}",
        ids(&report)
    );
}
