//! The lines after the plain summary: what to do next, why findings were not shown and which
//! flag shows them, `--statistics`; singular and plural counts.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn ciguard(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .stdin(Stdio::null())
        .output()
        .expect("run ciguard")
}

const DEPENDABOT: &str = "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 7\n";

/// One job without `permissions:` (1 job), an unpinned checkout without
/// `persist-credentials: false` (a safe fix), and an ignored unpinned action.
const WORKFLOW: &str = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/setup-node@v4 # ciguard: ignore[unpinned-uses] reviewed\n";

fn repo(workflow: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(dir.path().join(".github/dependabot.yml"), DEPENDABOT).unwrap();
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), workflow).unwrap();
    dir
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn says_what_to_do_next_and_why_findings_are_hidden() {
    let dir = repo(WORKFLOW);
    let out = ciguard(dir.path(), &["audit", "."]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(14), "{text}");
    assert!(
        text.contains("so 1 job gets the repository's default token permissions"),
        "{text}"
    );
    assert!(!text.contains("(s)"), "{text}");
    let tail: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.ends_with("2 files audited"))
        .collect();
    assert_eq!(
        tail[1..],
        [
            "help: 1 fixable with --fix (--diff previews the changes)",
            "help: 1 unpinned-uses: run `ciguard pin` (it pins to commit SHAs)",
            "suppressed: 1 by ignore comments or configuration, 3 hidden by the persona (--persona pedantic shows them)",
        ],
        "{text}"
    );

    // The flag it names shows them; a floor is named as such.
    let out = ciguard(
        dir.path(),
        &[
            "audit",
            "--persona",
            "pedantic",
            "--min-severity",
            "high",
            ".",
        ],
    );
    let text = stdout(&out);
    let last = text.lines().last().unwrap();
    assert!(!text.contains("hidden by the persona"), "{text}");
    assert!(
        last.starts_with("suppressed: 1 by ignore comments or configuration, "),
        "{text}"
    );
    assert!(
        last.ends_with(" below --min-severity/--min-confidence"),
        "{text}"
    );
}

#[test]
fn a_clean_run_adds_nothing_after_the_summary() {
    let clean = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n";
    let dir = repo(clean);
    let out = ciguard(dir.path(), &["audit", "--persona", "regular", "."]);
    let text = stdout(&out);
    assert!(
        text.lines().last().unwrap().ends_with("2 files audited")
            || text.lines().last().unwrap().starts_with("suppressed: "),
        "{text}"
    );
    assert!(!text.contains("help: "), "{text}");
}

#[test]
fn statistics_count_findings_per_audit() {
    let dir = repo(WORKFLOW);
    let out = ciguard(dir.path(), &["audit", "--statistics", "."]);
    let text = stdout(&out);
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("count  audit"))
        .collect();
    assert!(table.len() >= 4, "{text}");
    let row = |id: &str| {
        table
            .iter()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no row for {id}: {text}"))
    };
    assert_eq!(row("unpinned-uses"), ["1", "unpinned-uses", "high", "0"]);
    assert_eq!(row("artipacked"), ["1", "artipacked", "medium", "1"]);
    assert_eq!(table.last().unwrap().trim(), "4 findings", "{text}");

    // With a machine format the table goes to stderr, so stdout stays valid JSON.
    let out = ciguard(
        dir.path(),
        &["audit", "--statistics", "--format", "json", "."],
    );
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json on stdout");
    assert!(String::from_utf8_lossy(&out.stderr).contains("count  audit"));
}
