//! Hostile repositories: small files built to exhaust the stack, memory or time, or to smuggle
//! control characters into the output. Each runs the real binary under a 512 MiB address-space
//! limit and a 10 s wall-clock kill, next to a normal workflow whose finding must still be
//! reported: no abort or signal, the documented exit code, and a diagnostic naming the hostile
//! file.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The address space a run may take, in KiB.
const MEMORY_KIB: u64 = 512 * 1024;
/// The wall-clock time after which a run is killed.
const DEADLINE: Duration = Duration::from_secs(10);

/// Exit codes from the documented table.
const INPUT_ERROR: i32 = 3;
const HIGH_FINDINGS: i32 = 14;

const NORMAL: &str = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n";

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs ciguard in `dir` under the memory limit (`ulimit -v`, so no `unsafe` is needed here)
/// and kills it after the deadline.
fn run_limited(dir: &Path, args: &[&str]) -> Run {
    // One run at a time: the deadline measures the run, not the other tests sharing the CPU.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_ciguard"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run ciguard");
    // Read both pipes on threads so a large output cannot block the child.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ciguard {args:?} in {} ran past {DEADLINE:?}",
                dir.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
    Run {
        status,
        stdout: text(out.join().expect("stdout thread")),
        stderr: text(err.join().expect("stderr thread")),
    }
}

/// A repository with the normal workflow and `files` (paths relative to the root).
fn repo(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(workflows.join("normal.yml"), NORMAL).unwrap();
    for (path, content) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

/// A workflow with one `run:` step holding `script` (a plain scalar on one line).
fn run_step(script: &str) -> Vec<u8> {
    format!(
        "on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: {script}\n"
    )
    .into_bytes()
}

/// A workflow with one `run:` step holding `script` as a literal block.
fn run_block(script: &str) -> Vec<u8> {
    let body: String = script.lines().map(|l| format!("          {l}\n")).collect();
    format!(
        "on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: |\n{body}"
    )
    .into_bytes()
}

const HOSTILE: &str = ".github/workflows/hostile.yml";

/// Audits a repository holding `content` as `hostile.yml` and checks the run survived: the
/// expected exit code, a diagnostic on stderr naming the hostile file, and the normal file's
/// finding on stdout.
fn assert_survives(case: &str, content: Vec<u8>, code: i32, diagnostic: &str) {
    let dir = repo(&[(HOSTILE, content)]);
    let run = run_limited(dir.path(), &["audit", "--format", "json", "."]);
    let context = format!(
        "case {case}: {:?}\nstderr: {}\nstdout: {}",
        run.status,
        run.stderr,
        run.stdout.chars().take(2000).collect::<String>()
    );
    assert_eq!(run.status.code(), Some(code), "{context}");
    let named = run
        .stderr
        .lines()
        .any(|l| l.contains("hostile.yml") && l.contains(diagnostic));
    assert!(
        named,
        "no diagnostic `{diagnostic}` for hostile.yml: {context}"
    );
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect(&context);
    let normal_found = report["findings"].as_array().unwrap().iter().any(|f| {
        f["audit"] == "unpinned-uses"
            && f["primary"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("normal.yml"))
    });
    assert!(
        normal_found,
        "the normal file's finding is missing: {context}"
    );
    // A cap on quoting keeps the output small whatever the input.
    assert!(
        run.stdout.len() < 4 << 20,
        "{} bytes of output: {case}",
        run.stdout.len()
    );
}

#[test]
fn expression_with_35000_segments() {
    let script = format!("echo ${{{{ github{} }}}}", ".a".repeat(35_000));
    assert_survives(
        "dots",
        run_step(&script),
        HIGH_FINDINGS,
        "expression not audited",
    );
}

#[test]
fn expression_indexed_50000_times() {
    let script = format!("echo ${{{{ github{} }}}}", "[0]".repeat(50_000));
    assert_survives(
        "index",
        run_step(&script),
        HIGH_FINDINGS,
        "expression not audited",
    );
}

#[test]
fn bare_condition_with_20000_operands() {
    let cond = vec!["github.a"; 20_000].join(" && ");
    let wf = format!(
        "on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - if: {cond}\n        run: echo\n"
    );
    assert_survives(
        "and",
        wf.into_bytes(),
        HIGH_FINDINGS,
        "expression not audited",
    );
}

#[test]
fn expression_with_20000_nested_calls() {
    for call in ["format(", "(", "!", "toJSON(", "a["] {
        let script = format!("echo ${{{{ {} }}}}", call.repeat(20_000));
        assert_survives(
            call,
            run_step(&script),
            HIGH_FINDINGS,
            "expression not audited",
        );
    }
}

#[test]
fn script_with_20000_nested_substitutions() {
    for open in ["$(", "\"$(", "<(", "$(echo "] {
        assert_survives(
            open,
            run_block(&format!("echo {}", open.repeat(20_000))),
            HIGH_FINDINGS,
            "script not fully audited",
        );
    }
}

#[test]
fn script_with_20000_pipes() {
    let script = format!("curl -sSL https://example.com/x{}", " | sh".repeat(20_000));
    assert_survives(
        "pipes",
        run_step(&script),
        HIGH_FINDINGS,
        "script not fully audited",
    );
    // Every command a download: relating each to the rest of its pipeline was cubic.
    let script = vec!["curl -sSL https://example.com/x"; 20_000].join(" | ");
    assert_survives(
        "curls",
        run_step(&script),
        HIGH_FINDINGS,
        "script not fully audited",
    );
}

#[test]
fn script_with_200000_words() {
    let script = format!("echo {}", "a ".repeat(200_000));
    assert_survives(
        "words",
        run_step(&script),
        HIGH_FINDINGS,
        "script not fully audited",
    );
}

#[test]
fn script_with_5000_and_operands() {
    let script = vec!["curl -sSL https://example.com/x.sh | sh"; 5_000].join(" && ");
    assert_survives(
        "and",
        run_step(&script),
        HIGH_FINDINGS,
        "script not fully audited",
    );
    let lines = vec!["pip install requests"; 30_000].join("\n");
    assert_survives(
        "lines",
        run_block(&lines),
        HIGH_FINDINGS,
        "script not fully audited",
    );
}

#[test]
fn anchored_megabyte_aliased_1000_times() {
    let mut wf = format!(
        "on: push\npermissions: {{}}\nenv:\n  A: &a {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n",
        "x".repeat(1 << 20)
    );
    for _ in 0..1000 {
        wf.push_str("      - run: *a\n");
    }
    assert_survives(
        "alias",
        wf.into_bytes(),
        INPUT_ERROR,
        "aliases here expand to more than",
    );
}

#[test]
fn nested_aliases_of_a_long_string() {
    // 4 KiB, doubled by each level: small on disk, gigabytes once expanded.
    let mut wf = format!("on: push\nx0: &x0 {}\n", "y".repeat(4096));
    for i in 1..20 {
        wf.push_str(&format!("x{i}: &x{i} [*x{p}, *x{p}]\n", p = i - 1));
    }
    wf.push_str("jobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n");
    assert_survives(
        "nested",
        wf.into_bytes(),
        INPUT_ERROR,
        "aliases here expand to more than",
    );
}

/// No raw control character of the input reaches any output format, and nothing the input
/// wrote can start a line (where the runner would read it as a workflow command).
#[test]
fn control_characters_never_reach_the_output() {
    let uses = "evil/y@v1\\n::error::forged\\e[2J\\u009b31m\\u202e\\r::warning::x";
    let wf = format!(
        "on: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: \"{uses}\"\n      - run: echo \"${{{{ github.event.issue.title }}}}\"\n"
    );
    let name = ".github/workflows/a\n::error::name\u{1b}[31m.yml";
    let dir = repo(&[(HOSTILE, wf.clone().into_bytes()), (name, wf.into_bytes())]);
    for format in ["plain", "github", "json", "sarif"] {
        let run = run_limited(dir.path(), &["audit", "--format", format, "."]);
        let context = format!("{format}: {:?}\n{}\n{}", run.status, run.stdout, run.stderr);
        assert_eq!(run.status.code(), Some(HIGH_FINDINGS), "{context}");
        assert!(run.stdout.contains("hostile.yml"), "{context}");
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for c in text.chars() {
                let control =
                    (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c);
                assert!(!control, "{stream} has {c:?}: {context}");
            }
            for line in text.lines() {
                let forged = ["::error::forged", "::error::name", "::warning::x"]
                    .iter()
                    .any(|f| line.trim_start().starts_with(f));
                assert!(
                    !forged,
                    "{stream} has a forged command line {line:?}: {context}"
                );
            }
        }
        if format == "json" || format == "sarif" {
            let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect(&context);
            // The values keep the exact text.
            assert!(doc.to_string().contains("::error::forged"), "{context}");
        }
    }
}

/// The ordinary workflow alone passes the same harness: the limits are not what fails.
#[test]
fn ok_normal_repository_within_limits() {
    let dir = repo(&[]);
    let run = run_limited(dir.path(), &["audit", "--format", "json", "."]);
    assert_eq!(run.status.code(), Some(HIGH_FINDINGS), "{}", run.stderr);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}
