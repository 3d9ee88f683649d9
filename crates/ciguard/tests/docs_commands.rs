//! `ciguard audits`, `ciguard explain` and the output formats of `ciguard audit`, run as a user
//! would run them.

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

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const UNPINNED: &str = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n";

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), UNPINNED).unwrap();
    // Dependabot with a cooldown, so the workflow's own findings are the only ones.
    std::fs::write(
        dir.path().join(".github/dependabot.yml"),
        "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 7\n",
    )
    .unwrap();
    dir
}

#[test]
fn audits_lists_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let out = ciguard(dir.path(), &["audits"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("ID "), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("unpinned-uses ")
            && l.contains("high")
            && l.contains("regular")),
        "{stdout}"
    );

    let out = ciguard(dir.path(), &["audits", "--format", "json"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        json["audits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == "dangerous-triggers")
    );

    let out = ciguard(dir.path(), &["audits", "--format", "xml"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explain_prints_the_documentation() {
    let dir = tempfile::tempdir().unwrap();
    let out = ciguard(dir.path(), &["explain", "unpinned-uses"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("# `unpinned-uses`"), "{stdout}");
    assert!(stdout.contains("## Why is this bad?"), "{stdout}");
    assert!(stdout.contains("Use instead:"), "{stdout}");
}

#[test]
fn explain_an_unknown_audit_suggests_close_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = ciguard(dir.path(), &["explain", "unpined-uses"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no audit is called `unpined-uses`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean: unpinned-uses"), "{stderr}");
}

#[test]
fn audit_renders_every_format() {
    let dir = repo();
    let plain = text(&ciguard(dir.path(), &["audit", "--format", "plain"]).stdout);
    assert!(plain.contains("high[unpinned-uses]: "), "{plain}");
    assert!(
        plain.contains("--> .github/workflows/ci.yml:7:15"),
        "{plain}"
    );
    assert!(plain.contains("^^^^^^^^^^^^^^^^^^^"), "{plain}");
    assert!(!plain.contains('\x1b'), "NO_COLOR is honoured");

    let colored = text(&ciguard(dir.path(), &["audit", "--color", "always"]).stdout);
    assert!(colored.contains("\x1b["), "{colored}");

    let json: serde_json::Value =
        serde_json::from_slice(&ciguard(dir.path(), &["audit", "--format", "json"]).stdout)
            .expect("json");
    assert_eq!(json["version"], 1);
    assert_eq!(json["findings"][0]["audit"], "unpinned-uses");

    let sarif: serde_json::Value =
        serde_json::from_slice(&ciguard(dir.path(), &["audit", "--format", "sarif"]).stdout)
            .expect("sarif");
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "unpinned-uses");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        ".github/workflows/ci.yml"
    );

    let github = text(&ciguard(dir.path(), &["audit", "--format", "github"]).stdout);
    assert!(
        github.starts_with(
            "::error file=.github/workflows/ci.yml,line=7,col=15,endLine=7,endColumn=33,title=ciguard (unpinned-uses)::"
        ),
        "{github}"
    );
}
