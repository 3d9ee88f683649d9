//! Hostile repositories (issue #10, items 1, 2, 10, 11, 16), run as a CI job would run ciguard
//! on a stranger's pull request: links out of the checkout, FIFOs, devices, odd file names,
//! unwritable fixes and mistyped configuration. Every run checks that no planted secret reaches
//! stdout or stderr and that nothing outside the checkout changed.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// In the environment of every run: a token ciguard must never print.
const ENV_SECRET: &str = "ghp_EnvPlantedSecret0123456789abcdefABCD";
/// In a host file outside the checkout that the repository links to.
const HOST_SECRET: &str = "ghp_HostFilePlantedSecret9876543210zyxw";

const CLEAN: &str = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make test\n    name: T\nname: CI\nconcurrency:\n  group: ci\n  cancel-in-progress: true\n";
const UNPINNED: &str = "on: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n    name: T\nname: CI\nconcurrency:\n  group: ci\n  cancel-in-progress: true\n";
/// `--fix` adds `permissions: {}` at the top.
const FIXABLE: &str = "on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n    steps:\n      - run: make test\n";
const DEPENDABOT: &str = "version: 2\nupdates:\n  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 7\n";

/// A checkout (`repo/`, with `.git`) beside decoy files outside it (`outside/`), whose
/// contents, modes and mtimes are recorded so that a test can prove none changed.
struct Hostile {
    _dir: tempfile::TempDir,
    repo: PathBuf,
    outside: PathBuf,
    /// HOME and the cache of the runs: outside the checkout, but ciguard may write there.
    home: PathBuf,
    before: BTreeMap<PathBuf, (Vec<u8>, u32, SystemTime)>,
}

impl Hostile {
    /// A checkout with `files` and a Dependabot configuration with cooldowns (so only what a
    /// test adds is reported).
    fn new(files: &[(&str, &str)]) -> Self {
        let mut all = vec![(".github/dependabot.yml", DEPENDABOT)];
        all.extend_from_slice(files);
        Hostile::bare(&all)
    }

    /// A checkout with `files` only.
    fn bare(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(outside.join("workflows")).unwrap();
        std::fs::write(
            outside.join("host.env"),
            format!("GH_TOKEN={HOST_SECRET}\nPATH=/usr/bin\n"),
        )
        .unwrap();
        std::fs::write(outside.join("workflows/ci.yml"), UNPINNED).unwrap();
        let victim = outside.join("victim.yml");
        std::fs::write(&victim, format!("# {HOST_SECRET}\n")).unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
        for (path, content) in files {
            let p = repo.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        let before = snapshot(&outside);
        let home = dir.path().join("home");
        std::fs::create_dir(&home).unwrap();
        Hostile {
            _dir: dir,
            repo,
            outside,
            home,
            before,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.repo.join(rel)
    }

    /// `repo/<link>` pointing at `target`, creating the parent folders.
    fn link(&self, link: &str, target: &Path) {
        let p = self.path(link);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        symlink(target, p).unwrap();
    }

    /// Runs ciguard in the checkout; asserts that no secret was printed and nothing outside
    /// the checkout changed.
    fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ciguard"));
        command.args(args);
        self.run_command(command)
    }

    fn run_command(&self, mut command: Command) -> Run {
        command
            .current_dir(&self.repo)
            .env("NO_COLOR", "1")
            .env("GH_TOKEN", ENV_SECRET)
            .env("GITHUB_TOKEN", ENV_SECRET)
            // Nothing may reach the network: an API address where nobody listens.
            .env("GITHUB_API_URL", "http://127.0.0.1:9")
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", self.home.join("cache"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let output = finish(command.spawn().expect("run ciguard"));
        let run = Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        for secret in [ENV_SECRET, HOST_SECRET] {
            assert!(
                !run.stdout.contains(secret) && !run.stderr.contains(secret),
                "a planted secret was printed:\n{run}"
            );
        }
        assert_eq!(
            snapshot(&self.outside),
            self.before,
            "files outside the checkout changed:\n{run}"
        );
        run
    }
}

/// Waits for the child, killing it if it hangs (a FIFO read would wait forever): a guard so the
/// suite fails instead of stalling, not a measure of speed.
fn finish(mut child: std::process::Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(300);
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let (out, err) = (read(Box::new(stdout)), read(Box::new(stderr)));
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Output {
                status,
                stdout: out.join().unwrap(),
                stderr: err.join().unwrap(),
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ciguard hung (killed)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path.clone());
            }
            let content = if meta.is_file() {
                std::fs::read(&path).unwrap()
            } else {
                Vec::new()
            };
            let mode = meta.permissions().mode();
            out.insert(path, (content, mode, meta.modified().unwrap()));
        }
    }
    out
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn mkfifo(path: &Path) -> bool {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let made = Command::new("mkfifo").arg(path).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return false;
    }
    true
}

// ---- Item 1: configuration and other collected inputs never leave the repository ----

#[test]
fn config_linked_to_the_process_environment_is_refused_without_quoting_it() {
    for name in ["ciguard.toml", ".github/ciguard.toml"] {
        let h = Hostile::new(&[(".github/workflows/ci.yml", CLEAN)]);
        h.link(name, Path::new("/proc/self/environ"));
        let run = h.run(&["audit", "--offline", "."]);
        assert_eq!(run.code, Some(1), "{name}: {run}");
        assert!(run.stderr.contains(name), "{name}: {run}");
        assert!(run.stderr.contains("symbolic link"), "{name}: {run}");
        assert!(!run.stderr.contains("PATH="), "{name}: {run}");
    }
}

#[test]
fn config_linked_to_a_host_file_is_refused_by_every_subcommand() {
    let h = Hostile::new(&[(".github/workflows/ci.yml", CLEAN)]);
    h.link(".github/ciguard.toml", &h.outside.join("host.env"));
    for args in [
        &["audit", "--offline", "."][..],
        &["deps", "--offline", "."],
        &["settings", "--from", "."],
    ] {
        let run = h.run(args);
        assert_ne!(run.code, Some(0), "{args:?}: {run}");
        assert!(run.stderr.contains("ciguard.toml"), "{args:?}: {run}");
        assert!(run.stderr.contains("symbolic link"), "{args:?}: {run}");
        assert!(!run.stderr.contains("PATH=/usr/bin"), "{args:?}: {run}");
    }
}

#[test]
fn config_inside_the_repository_through_a_link_is_still_read() {
    let h = Hostile::new(&[
        (".github/workflows/ci.yml", UNPINNED),
        (
            "config/real.toml",
            "[audits.unpinned-uses]\ndisable = true\n",
        ),
    ]);
    h.link("ciguard.toml", Path::new("config/real.toml"));
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(!run.stdout.contains("unpinned-uses"), "{run}");
}

#[test]
fn config_that_is_a_fifo_is_refused_without_waiting() {
    let h = Hostile::new(&[(".github/workflows/ci.yml", CLEAN)]);
    if !mkfifo(&h.path("ciguard.toml")) {
        return;
    }
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("a FIFO"), "{run}");
}

#[test]
fn config_that_is_not_toml_is_not_quoted() {
    let h = Hostile::new(&[
        (".github/workflows/ci.yml", CLEAN),
        (
            "ciguard.toml",
            &format!("GH_TOKEN {HOST_SECRET}\nPATH=/usr/bin\n"),
        ),
    ]);
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("ciguard.toml:1:"), "{run}");
    assert!(!run.stderr.contains("GH_TOKEN"), "{run}");
}

#[test]
fn actions_lock_linked_out_of_the_repository_is_not_read() {
    let h = Hostile::new(&[(".github/workflows/ci.yml", UNPINNED)]);
    h.link(
        ".github/workflows/actions.lock",
        &h.outside.join("host.env"),
    );
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(
        run.stderr.contains(".github/workflows/actions.lock"),
        "{run}"
    );
    assert!(run.stderr.contains("leaves the repository"), "{run}");
    // The workflow is still audited.
    assert!(run.stdout.contains("unpinned-uses"), "{run}");
}

#[test]
fn workflows_that_link_out_or_are_fifos_are_named_and_the_others_audited() {
    let h = Hostile::new(&[(".github/workflows/ok.yml", UNPINNED)]);
    h.link(".github/workflows/env.yml", Path::new("/proc/self/environ"));
    h.link(".github/workflows/host.yml", &h.outside.join("host.env"));
    h.link("sub/action.yml", &h.outside.join("host.env"));
    let fifo = mkfifo(&h.path(".github/workflows/fifo.yml"));
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(14), "{run}");
    assert!(run.stdout.contains("ok.yml"), "{run}");
    for skipped in ["env.yml", "host.yml", "sub/action.yml"] {
        assert!(
            run.stderr
                .contains(&format!("{skipped}: is a symbolic link")),
            "{skipped}: {run}"
        );
    }
    if fifo {
        assert!(run.stderr.contains("fifo.yml: is a FIFO"), "{run}");
    }
}

#[test]
fn named_inputs_that_link_out_of_the_repository_are_refused() {
    let h = Hostile::new(&[(".github/workflows/ok.yml", CLEAN)]);
    h.link("link.yml", &h.outside.join("host.env"));
    h.link("dir", &h.outside);
    for input in ["link.yml", "dir"] {
        let run = h.run(&["audit", "--offline", input]);
        assert_eq!(run.code, Some(3), "{input}: {run}");
        assert!(
            run.stderr.contains("leaves the repository"),
            "{input}: {run}"
        );
        assert!(!run.stdout.contains("unpinned-uses"), "{input}: {run}");
    }
    // A named file reached through a linked folder is refused too.
    h.link(".gh", &h.outside);
    let run = h.run(&["audit", "--offline", ".gh/workflows/ci.yml"]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(run.stderr.contains("leaves the repository"), "{run}");
}

#[test]
fn the_token_of_a_flag_is_redacted_from_every_message() {
    let flag_secret = "ghp_FlagPlantedSecret55555555555555555555";
    let h = Hostile::new(&[
        (".github/workflows/ci.yml", CLEAN),
        ("ciguard.toml", &format!("[audits.{flag_secret}]\n")),
    ]);
    let run = h.run(&["audit", "--gh-token", flag_secret, "."]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(!run.stderr.contains(flag_secret), "{run}");
    assert!(run.stderr.contains("unknown audit `***`"), "{run}");
}

// ---- Item 2: atomic writes ----

#[test]
fn fix_does_not_write_through_planted_links_and_keeps_the_mode() {
    let h = Hostile::new(&[(".github/workflows/ci.yml", FIXABLE)]);
    let path = h.path(".github/workflows/ci.yml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    // The temporary names of the old implementation, for the pids the run may get.
    for pid in 0..2000 {
        let name = format!(".github/workflows/.ci.yml.ciguard-{pid}.tmp");
        h.link(&name, &h.outside.join("victim.yml"));
    }
    let run = h.run(&["audit", "--offline", "--fix", "."]);
    assert_eq!(run.code, Some(0), "{run}");
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert!(fixed.starts_with("on: push\npermissions: {}\n"), "{fixed}");
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.is_file(), "the workflow was replaced by a link");
    assert_eq!(meta.permissions().mode() & 0o777, 0o640);
}

#[test]
fn fix_writes_through_a_link_only_when_it_was_named() {
    let h = Hostile::new(&[("real/ci.yml", FIXABLE)]);
    h.link("named.yml", Path::new("real/ci.yml"));
    let run = h.run(&["audit", "--offline", "--fix", "named.yml"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        std::fs::symlink_metadata(h.path("named.yml"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let fixed = std::fs::read_to_string(h.path("real/ci.yml")).unwrap();
    assert!(fixed.contains("permissions: {}\n"), "{fixed}");
}

#[test]
fn write_baseline_keeps_a_named_link_and_refuses_nothing_else() {
    let h = Hostile::new(&[
        (".github/workflows/ci.yml", UNPINNED),
        ("baselines/b.json", ""),
    ]);
    h.link("baseline.json", Path::new("baselines/b.json"));
    let run = h.run(&[
        "audit",
        "--offline",
        "--write-baseline",
        "baseline.json",
        ".",
    ]);
    // Written: exit 0 (the findings are recorded, not a failure).
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        std::fs::symlink_metadata(h.path("baseline.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let written = std::fs::read_to_string(h.path("baselines/b.json")).unwrap();
    assert!(written.contains("unpinned-uses"), "{written}");
}

// ---- Item 10: inputs that were not read do not pass ----

#[test]
fn nothing_audited_is_an_input_error_naming_what_was_searched() {
    let h = Hostile::bare(&[]);
    std::fs::create_dir(h.path("empty")).unwrap();
    let run = h.run(&["audit", "--offline", "empty"]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(run.stderr.contains("empty: nothing was audited"), "{run}");
    assert!(run.stderr.contains("workflows"), "{run}");

    let run = h.run(&["audit", "--offline", "/dev/null"]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(
        run.stderr.contains("/dev/null: is a character device"),
        "{run}"
    );
}

#[test]
fn a_named_fifo_is_refused_without_waiting() {
    let h = Hostile::new(&[]);
    if !mkfifo(&h.path("pipe.yml")) {
        return;
    }
    let run = h.run(&["audit", "--offline", "pipe.yml"]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(run.stderr.contains("pipe.yml: is a FIFO"), "{run}");
}

#[test]
fn a_linked_github_folder_is_named_and_does_not_pass() {
    let h = Hostile::bare(&[]);
    h.link(".github", &h.outside);
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(
        run.stderr
            .contains(".github: is a symbolic link to a directory"),
        "{run}"
    );
    assert!(run.stderr.contains("nothing was audited"), "{run}");
    assert!(!run.stdout.contains("unpinned-uses"), "{run}");
}

#[test]
fn file_names_that_are_not_utf8_or_hold_control_characters_are_escaped() {
    let h = Hostile::bare(&[]);
    let workflows = h.path(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let bad = std::ffi::OsStr::from_bytes(b"\xff\x1b[31m.yml");
    std::fs::write(workflows.join(bad), UNPINNED).unwrap();
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(3), "{run}");
    assert!(
        run.stderr
            .contains("\\xff\\x1b[31m.yml: has a name that is not valid UTF-8"),
        "{run}"
    );
    assert!(!run.stderr.contains('\x1b'), "{run}");

    // A valid name that tries to forge a workflow command line is audited, shown escaped.
    let h = Hostile::new(&[(".github/workflows/a\n::error::forged.yml", UNPINNED)]);
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(14), "{run}");
    assert!(run.stdout.contains("a\\n::error::forged.yml"), "{run}");
    assert!(
        !run.stdout.lines().any(|l| l.starts_with("::error::")),
        "{run}"
    );
}

#[test]
fn ok_repository_still_passes() {
    let h = Hostile::new(&[
        (".github/workflows/ci.yml", CLEAN),
        (
            "ciguard.toml",
            "[audits.artipacked]\nignore = [\"ci.yml:3\"]\n",
        ),
    ]);
    let run = h.run(&["audit", "--offline", "."]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(!run.stderr.contains("nothing was audited"), "{run}");
}

// ---- Item 11: one failed write does not abort --fix ----

#[test]
fn one_unwritable_fix_is_reported_and_the_others_are_written() {
    // A file size limit makes writing the large file fail (EFBIG) even as root, while the small
    // one fits; SIGXFSZ is ignored so the write returns an error instead of killing the run.
    let large = format!(
        "{FIXABLE}{}",
        "# padding to exceed the file size limit\n".repeat(200)
    );
    let h = Hostile::new(&[
        (".github/workflows/a-large.yml", &large),
        (".github/workflows/b-small.yml", FIXABLE),
    ]);
    let mut command = Command::new("sh");
    command.args([
        "-c",
        "trap '' XFSZ; ulimit -f 4 && exec \"$0\" audit --offline --fix .",
        env!("CARGO_BIN_EXE_ciguard"),
    ]);
    let run = h.run_command(command);
    assert_eq!(run.code, Some(5), "{run}");
    assert!(
        run.stderr
            .contains("a-large.yml: the fixes could not be written"),
        "{run}"
    );
    assert!(
        run.stderr.contains("could not be written; see above"),
        "{run}"
    );
    let small = std::fs::read_to_string(h.path(".github/workflows/b-small.yml")).unwrap();
    assert!(small.contains("permissions: {}\n"), "{small}");
    let unchanged = std::fs::read_to_string(h.path(".github/workflows/a-large.yml")).unwrap();
    assert_eq!(unchanged, large);
    // The report was still printed, with the unwritten file's finding as it still stands (the
    // fixed one is clean), and no temporary file was left behind.
    assert!(run.stdout.contains("3 files audited"), "{run}");
    assert!(run.stdout.contains("a-large.yml:1:1"), "{run}");
    assert!(!run.stdout.contains("b-small.yml"), "{run}");
    let names: Vec<_> = std::fs::read_dir(h.path(".github/workflows"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

// ---- Item 16: configuration typos ----

#[test]
fn configuration_typos_are_errors_with_a_position_in_every_subcommand() {
    let cases = [
        (
            "[audit.artipacked]\n",
            "ciguard.toml:1:2: unknown top-level key `audit`; did you mean `audits`?",
        ),
        (
            "\nfoo = 1\n",
            "ciguard.toml:2:1: unknown top-level key `foo`",
        ),
        (
            "[audits.artipaked]\n",
            "ciguard.toml:1:9: unknown audit `artipaked` in `[audits.artipaked]`; did you mean `artipacked`?",
        ),
        (
            "[audits.artipacked]\nignore = [\"a.yml:notanumber\"]\n",
            "ciguard.toml:2:11: `audits.artipacked.ignore`: `a.yml:notanumber` is not",
        ),
    ];
    for (config, wanted) in cases {
        let h = Hostile::new(&[
            (".github/workflows/ci.yml", CLEAN),
            ("ciguard.toml", config),
        ]);
        for args in [
            &["audit", "--offline", "."][..],
            &["deps", "--offline", "."],
            &["settings", "--from", "."],
        ] {
            let run = h.run(args);
            assert_eq!(run.code, Some(1), "{args:?} {config}: {run}");
            assert!(run.stderr.contains(wanted), "{args:?} {config}: {run}");
        }
    }
}
