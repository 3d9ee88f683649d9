//! `ciguard audit DIR` walks the directory once: the same walk finds the workflows and the
//! dependency files (alone in this test binary, so the process-wide walk counter is its own).

use std::path::PathBuf;

use ciguard_core::FileKind;
use ciguard_pipeline::{ConfigChoice, Options, View, collect};

#[test]
fn a_directory_is_walked_once_for_audits_and_dependency_checks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    std::fs::write(
        root.join(".github/workflows/ci.yml"),
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n",
    )
    .unwrap();
    // A Cargo lockfile without a cooldown configured: the offline dependency checks report it.
    std::fs::write(
        root.join("Cargo.lock"),
        "version = 4\n\n[[package]]\nname = \"x\"\nversion = \"0.1.0\"\nsource = \"git+https://github.com/a/x?branch=main#0123456789abcdef0123456789abcdef01234567\"\n",
    )
    .unwrap();
    let options = Options {
        kinds: vec![
            FileKind::Workflow,
            FileKind::Action,
            FileKind::Dependabot,
            FileKind::Dependencies,
        ],
        config: ConfigChoice::Ignore,
        view: View::default(),
        baseline: None,
        write_baseline: None,
        fix: None,
        github: Box::new(|| ciguard_github::ClientConfig::from_flags(None, None, None, true, true)),
        transitive_depth: 0,
    };
    let before = collect::walks();
    let outcome = ciguard_pipeline::audit(&[PathBuf::from(root)], &options).unwrap();
    assert_eq!(collect::walks() - before, 1, "one walk for both stages");
    assert_eq!(outcome.report.files_audited, 1);
    assert!(
        outcome
            .report
            .findings
            .iter()
            .any(|f| f.audit_id() == "missing-cooldown-config" && f.message.contains("cargo")),
        "the dependency checks saw Cargo.lock from the same walk: {:?}",
        outcome
            .report
            .findings
            .iter()
            .map(|f| &f.message)
            .collect::<Vec<_>>()
    );
}
