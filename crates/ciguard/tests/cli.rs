//! End-to-end tests of `ciguard audit`, run as a user would run it.

use std::path::{Path, PathBuf};
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

/// A repository with one workflow, written under `.github/workflows/`.
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    // Every test repository has Dependabot cooldowns, so only what a test adds is reported.
    let dependabot = dir.path().join(".github/dependabot.yml");
    std::fs::create_dir_all(dependabot.parent().unwrap()).unwrap();
    std::fs::write(dependabot, DEPENDABOT).unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

const DEPENDABOT: &str = "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 7\n";
const UNPINNED: &str = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n    name: T\nname: CI\nconcurrency:\n  group: ci\n  cancel-in-progress: true\n";
const CLEAN: &str = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n    name: T\nname: CI\nconcurrency:\n  group: ci\n  cancel-in-progress: true\n";

#[test]
fn reports_findings_with_exit_code_by_severity() {
    let dir = repo(&[(".github/workflows/ci.yml", UNPINNED)]);
    let out = ciguard(dir.path(), &["audit", "."]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(14), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("unpinned-uses"), "{stdout}");
    assert!(stdout.contains(".github/workflows/ci.yml:7:15"), "{stdout}");
}

#[test]
fn clean_repository_exits_zero() {
    let dir = repo(&[(".github/workflows/ci.yml", CLEAN)]);
    let out = ciguard(dir.path(), &["audit"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn hostile_files_each_get_a_clear_error_and_the_run_goes_on() {
    let mut bomb = String::from("on: push\njobs:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..15 {
        let p = i - 1;
        bomb.push_str(&format!(
            "  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let deep_flow = format!("on: push\njobs: {}\n", "[".repeat(100_000));
    let deep_block = format!("{}x\n", "- ".repeat(50_000));
    let dir = repo(&[
        (".github/workflows/bomb.yml", &bomb),
        (".github/workflows/deep-flow.yml", &deep_flow),
        (".github/workflows/deep-block.yml", &deep_block),
        (".github/workflows/empty.yml", ""),
        (".github/workflows/comments.yml", "# only\n# comments\n"),
        (
            ".github/workflows/dup.yml",
            "on: push\non: pull_request\njobs: {}\n",
        ),
        (
            ".github/workflows/merge.yml",
            "on: push\nx: &x {runs-on: a}\njobs:\n  a:\n    <<: *x\n",
        ),
        (
            ".github/workflows/wrong-type.yml",
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps: 5\n",
        ),
        (".github/workflows/ok.yml", UNPINNED),
        ("action.yml", "name: x\n"),
    ]);
    let wf = dir.path().join(".github/workflows");
    std::fs::write(wf.join("bad-utf8.yml"), b"on: push\njobs:\n  a: \xff\xfe\n").unwrap();
    let mut big = Vec::with_capacity(50 * 1024 * 1024);
    while big.len() < 50 * 1024 * 1024 {
        big.extend_from_slice(
            b"# padding padding padding padding padding padding padding padding\n",
        );
    }
    std::fs::write(wf.join("huge.yml"), big).unwrap();
    std::fs::create_dir(wf.join("dir.yml")).unwrap();
    std::os::unix::fs::symlink("loop.yml", wf.join("loop.yml")).unwrap();

    let start = std::time::Instant::now();
    let out = ciguard(dir.path(), &["audit", "."]);
    let stderr = text(&out.stderr);
    let stdout = text(&out.stdout);
    assert!(
        start.elapsed().as_secs() < 30,
        "hostile inputs took {:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(3), "{stdout}{stderr}");
    let expect = [
        ("bomb.yml", "expand to more than"),
        ("deep-flow.yml:2:", "nesting deeper"),
        ("deep-block.yml:1:", "nesting deeper than 256 levels"),
        ("empty.yml", "workflow file is empty"),
        ("comments.yml", "workflow file is empty"),
        ("dup.yml:2:1", "duplicate key `on`"),
        ("merge.yml:5:5", "merge keys"),
        ("wrong-type.yml:5:12", "must be a list of steps"),
        ("bad-utf8.yml:3:6", "invalid UTF-8"),
        ("huge.yml", "larger than the limit"),
        ("dir.yml", "is a directory"),
        ("loop.yml", "symbolic link"),
        ("action.yml:1:1", "no `runs:`"),
    ];
    for (file, message) in expect {
        let line = stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("no diagnostic for {file}:\n{stderr}"));
        assert!(
            line.contains(message),
            "{file}: expected `{message}` in `{line}`"
        );
    }
    // The valid file was still audited.
    assert!(
        stdout.contains("ok.yml") && stdout.contains("unpinned-uses"),
        "{stdout}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn symlink_loop_named_explicitly_is_an_error() {
    let dir = repo(&[]);
    std::os::unix::fs::symlink("loop.yml", dir.path().join("loop.yml")).unwrap();
    let out = ciguard(dir.path(), &["audit", "loop.yml"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("loop.yml: cannot read"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn stdin_is_one_document() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(["audit", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(UNPINNED.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(14));
    assert!(
        text(&out.stdout).contains("<stdin>:7:15"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn configuration_disables_overrides_and_ignores() {
    let dir = repo(&[
        (".github/workflows/ci.yml", UNPINNED),
        (
            "ciguard.toml",
            "[audits.unpinned-uses]\nseverity = \"low\"\n",
        ),
    ]);
    let out = ciguard(dir.path(), &["audit"]);
    assert_eq!(out.status.code(), Some(12), "{}", text(&out.stdout));

    std::fs::write(
        dir.path().join("ciguard.toml"),
        "[audits.unpinned-uses]\nignore = [\"ci.yml:7\"]\n",
    )
    .unwrap();
    let out = ciguard(dir.path(), &["audit"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("1 suppressed"),
        "{}",
        text(&out.stdout)
    );

    // --no-config brings the finding back; .github/ciguard.toml is found too.
    assert_eq!(
        ciguard(dir.path(), &["audit", "--no-config"]).status.code(),
        Some(14)
    );
    std::fs::remove_file(dir.path().join("ciguard.toml")).unwrap();
    std::fs::write(
        dir.path().join(".github/ciguard.toml"),
        "[audits.unpinned-uses]\ndisable = true\n",
    )
    .unwrap();
    assert_eq!(ciguard(dir.path(), &["audit"]).status.code(), Some(0));

    let other = dir.path().join("other.toml");
    std::fs::write(&other, "[audits.unpinned-uses]\nseverity = \"medium\"\n").unwrap();
    let out = ciguard(dir.path(), &["audit", "--config", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(13));
}

#[test]
fn invalid_configuration_is_a_tool_error_naming_the_file() {
    let dir = repo(&[
        (".github/workflows/ci.yml", CLEAN),
        ("ciguard.toml", "[audits.no-such-audit]\n"),
    ]);
    let out = ciguard(dir.path(), &["audit"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("ciguard.toml") && stderr.contains("unknown audit `no-such-audit`"),
        "{stderr}"
    );
}

#[test]
fn inline_ignores_suppress_and_unused_ones_are_reported_to_pedants() {
    let ignored = UNPINNED.replace(
        "actions/checkout@v4",
        "actions/checkout@v4 # ciguard: ignore[unpinned-uses] vetted",
    );
    let stale = CLEAN.replace(
        "make test",
        "make test # ciguard: ignore[unpinned-uses] stale",
    );
    let dir = repo(&[
        (".github/workflows/a.yml", &ignored),
        (".github/workflows/b.yml", &stale),
    ]);
    let out = ciguard(dir.path(), &["audit"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let out = ciguard(dir.path(), &["audit", "--persona", "pedantic"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("b.yml:7") && stdout.contains("unused-ignore"),
        "{stdout}"
    );
    assert!(!stdout.contains("a.yml"), "{stdout}");
}

#[test]
fn baseline_hides_known_findings_but_not_new_ones() {
    let dir = repo(&[(".github/workflows/ci.yml", UNPINNED)]);
    let out = ciguard(dir.path(), &["audit", "--write-baseline", "baseline.json"]);
    // Writing the baseline is what was asked: not a failure.
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        ciguard(dir.path(), &["audit", "--baseline", "baseline.json"])
            .status
            .code(),
        Some(0)
    );
    // Moving the finding down by unrelated lines keeps it known.
    let moved = UNPINNED.replace("on: push\n", "# a comment\nrun-name: ci\non: push\n");
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), &moved).unwrap();
    assert_eq!(
        ciguard(dir.path(), &["audit", "--baseline", "baseline.json"])
            .status
            .code(),
        Some(0)
    );
    // A new unpinned action is reported.
    let more = moved.replace(
        "          persist-credentials: false\n",
        "          persist-credentials: false\n      - uses: actions/setup-go@v5\n",
    );
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), &more).unwrap();
    let out = ciguard(dir.path(), &["audit", "--baseline", "baseline.json"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(14), "{stdout}");
    assert!(
        stdout.contains("setup-go") && !stdout.contains("checkout@v4"),
        "{stdout}"
    );
}

#[test]
fn baseline_entries_that_no_longer_match_are_named_once() {
    let dir = repo(&[(".github/workflows/ci.yml", UNPINNED)]);
    let out = ciguard(dir.path(), &["audit", "--write-baseline", "baseline.json"]);
    assert_eq!(out.status.code(), Some(0));
    // Still matching: no note.
    let out = ciguard(dir.path(), &["audit", "--baseline", "baseline.json"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!all.contains("no longer match"), "{all}");
    // The unpinned action is removed: its entry is stale and named.
    std::fs::write(dir.path().join(".github/workflows/ci.yml"), CLEAN).unwrap();
    let out = ciguard(dir.path(), &["audit", "--baseline", "baseline.json"]);
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        all.contains("of the baseline no longer match") && all.contains("unpinned-uses at"),
        "{all}"
    );
    assert_eq!(all.matches("of the baseline no longer").count(), 1, "{all}");
}

#[test]
fn diff_with_fix_mode_previews_unsafe_fixes_without_writing() {
    let workflow = "on: push\npermissions:\n  contents: write\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n  release:\n    runs-on: ubuntu-latest\n    steps:\n      - run: gh release create v1\n";
    let dir = repo(&[(".github/workflows/ci.yml", workflow)]);
    let path: PathBuf = dir.path().join(".github/workflows/ci.yml");

    // The narrowing of workflow-level permissions is unsafe: plain --diff does not show it.
    let safe = text(&ciguard(dir.path(), &["audit", "--diff"]).stdout);
    assert!(!safe.contains("+permissions: {}"), "{safe}");

    let out = ciguard(dir.path(), &["audit", "--diff", "--fix=unsafe"]);
    let diff = text(&out.stdout);
    assert!(diff.contains("-permissions:\n-  contents: write"), "{diff}");
    assert!(diff.contains("+permissions: {}"), "{diff}");
    assert!(diff.contains("+      contents: write"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        workflow,
        "--diff must not write"
    );
}

#[test]
fn fix_writes_atomically_and_converges() {
    let workflow = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n    steps:\n      - run: make test\n";
    let dir = repo(&[(".github/workflows/ci.yml", workflow)]);
    let path: PathBuf = dir.path().join(".github/workflows/ci.yml");

    let out = ciguard(dir.path(), &["audit", "--diff"]);
    let diff = text(&out.stdout);
    assert!(diff.contains("+permissions: {}"), "{diff}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        workflow,
        "--diff must not write"
    );

    let out = ciguard(dir.path(), &["audit", "--fix"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        fixed,
        workflow.replace("jobs:\n", "permissions: {}\njobs:\n")
    );
    let out = ciguard(dir.path(), &["audit", "--fix"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        fixed,
        "second --fix changed the file"
    );
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1,
        "temporary files left behind"
    );
}

#[test]
fn persona_and_floors_filter() {
    let dir = repo(&[(".github/workflows/ci.yml", UNPINNED)]);
    assert_eq!(
        ciguard(dir.path(), &["audit", "--min-severity", "high"])
            .status
            .code(),
        Some(14)
    );
    let dir = repo(&[(
        ".github/workflows/ci.yml",
        &UNPINNED.replace("permissions: {}\n", ""),
    )]);
    let out = ciguard(dir.path(), &["audit", "--min-confidence", "high"]);
    assert!(
        !text(&out.stdout).contains("excessive-permissions"),
        "{}",
        text(&out.stdout)
    );
    // Only actions are collected and there are none: no finding, and nothing audited is an
    // input error (#10), not a pass.
    let out = ciguard(dir.path(), &["audit", "--collect", "actions"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    assert!(!text(&out.stdout).contains("excessive-permissions"));
    assert!(text(&out.stderr).contains("nothing was audited"));
}

#[test]
fn usage_errors_exit_two() {
    let dir = repo(&[]);
    assert_eq!(
        ciguard(dir.path(), &["audit", "--persona", "nobody"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        ciguard(dir.path(), &["audit", "--collect", "nothing"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn audit_help_is_grouped_by_topic_and_lists_accepted_values() {
    let dir = repo(&[]);
    let out = ciguard(dir.path(), &["audit", "--help"]);
    let help = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{help}");
    let at = |heading: &str| {
        help.find(&format!("\n{heading}:\n"))
            .unwrap_or_else(|| panic!("no `{heading}:` group in:\n{help}"))
    };
    // Each flag sits under its topic.
    assert!(at("Output") < help.find("--statistics").unwrap());
    assert!(at("Filtering") < help.find("--min-severity").unwrap());
    assert!(at("Fixes and baselines") < help.find("--write-baseline").unwrap());
    assert!(at("GitHub and network") < help.find("--offline").unwrap());
    assert!(
        help.contains("[possible values: informational, low, medium, high]"),
        "{help}"
    );
    // A typo names the accepted values.
    let out = ciguard(dir.path(), &["audit", "--min-severity", "hgh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("possible values"),
        "{}",
        text(&out.stderr)
    );
}

/// pre-commit reads `.pre-commit-config.yaml` at the repository root only: that one is audited,
/// a copy deeper down (test data, templates) is not, and one in `.github/workflows` is named as
/// skipped (not a workflow), not as a failure.
#[test]
fn pre_commit_configs_are_read_at_the_repository_root_only() {
    let insecure = "repos:\n  - repo: git://github.com/pre-commit/pre-commit-hooks\n    rev: v2.3.0\n    hooks:\n      - id: check-yaml\n";
    let dir = repo(&[
        (".github/workflows/ci.yml", CLEAN),
        (".pre-commit-config.yaml", insecure),
        ("tests/data/.pre-commit-config.yaml", insecure),
        (".github/workflows/.pre-commit-config.yml", insecure),
    ]);
    let out = ciguard(dir.path(), &["audit", "."]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(14), "{stdout}{stderr}");
    assert!(
        stdout.contains("insecure-url-scheme") && stdout.contains(".pre-commit-config.yaml:2:11"),
        "{stdout}"
    );
    assert!(!stdout.contains("tests/data"), "{stdout}");
    assert!(
        !stdout.contains("workflows/.pre-commit-config.yml"),
        "{stdout}"
    );
    assert!(
        stderr.contains(".pre-commit-config.yml") && stderr.contains("not a workflow"),
        "{stderr}"
    );
    // `--collect` without `pre-commit` leaves it out.
    let out = ciguard(dir.path(), &["audit", "--collect", "workflows", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}
