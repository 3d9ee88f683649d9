//! `ciguard completions <shell>` and `ciguard man`: the scripts parse in the real shells and
//! complete real subcommands and flags; the man pages name every subcommand.
//!
//! A shell that is not installed skips its check with a message, except under CI=true, where
//! .ci/run installs zsh and fish and a missing shell is a failure.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn ciguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run ciguard")
}

fn script(shell: &str) -> String {
    let out = ciguard(&["completions", shell]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 script")
}

/// Whether `shell` runs; when not, skips (prints why) or, under CI=true, fails.
fn have(shell: &str) -> bool {
    let found = Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{shell} is not installed; .ci/run installs it (apt-get install -y zsh fish)"
        );
        eprintln!("skipped: {shell} is not installed (apt-get install -y {shell})");
    }
    found
}

/// Runs `shell args...` with `input` on stdin.
fn run_shell(shell: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(shell)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shell");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn file_with(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn bash_script_parses_and_completes_subcommands_and_flags() {
    if !have("bash") {
        return;
    }
    let file = file_with(&script("bash"));
    let path = file.path().to_str().unwrap();
    let out = run_shell("bash", &["-n", path], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Ask the completion function itself, as bash does on <Tab>.
    let complete = |words: &str, cword: usize| {
        let probe = format!(
            "source '{path}'\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE='{words}'\nCOMP_POINT=${{#COMP_LINE}}\n_ciguard ciguard \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
        );
        let out = run_shell("bash", &[], &probe);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let subcommands = complete("ciguard au", 1);
    assert!(subcommands.lines().any(|l| l == "audit"), "{subcommands}");
    assert!(subcommands.lines().any(|l| l == "audits"), "{subcommands}");
    assert!(!subcommands.lines().any(|l| l == "pin"), "{subcommands}");
    let flags = complete("ciguard audit --pers", 2);
    assert_eq!(flags.trim(), "--persona", "{flags}");
    let values = complete("ciguard audit --persona ''", 3);
    for persona in ["regular", "pedantic", "auditor"] {
        assert!(values.contains(persona), "{values}");
    }
}

#[test]
fn zsh_script_parses() {
    if !have("zsh") {
        return;
    }
    let text = script("zsh");
    assert!(text.starts_with("#compdef ciguard"), "{text}");
    let file = file_with(&text);
    let out = run_shell("zsh", &["-n", file.path().to_str().unwrap()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fish_script_parses_and_completes_subcommands() {
    if !have("fish") {
        return;
    }
    let file = file_with(&script("fish"));
    let path = file.path().to_str().unwrap();
    let out = run_shell("fish", &["-n", path], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let probe = format!("source '{path}'; complete -C 'ciguard ex'");
    let out = run_shell("fish", &["-c", &probe], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("explain")), "{stdout}");
}

#[test]
fn powershell_script_registers_a_completer() {
    // No PowerShell on Debian: check the script's shape instead of parsing it.
    let text = script("powershell");
    assert!(
        text.contains("Register-ArgumentCompleter -Native -CommandName 'ciguard'"),
        "{text}"
    );
    assert!(text.contains("'--persona'"), "{text}");
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = ciguard(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values"));
}

#[test]
fn man_pages_name_every_subcommand() {
    let out = ciguard(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH ciguard 1"), "{page}");
    for sub in [
        "audit",
        "audits",
        "explain",
        "settings",
        "deps",
        "pin",
        "completions",
    ] {
        assert!(
            page.contains(&format!("ciguard\\-{sub}(1)")),
            "{sub}: {page}"
        );
    }

    let out = ciguard(&["man", "audit"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(page.contains(".TH ciguard-audit 1"), "{page}");
    assert!(page.contains(env!("CARGO_PKG_VERSION")), "{page}");
    assert!(page.contains("\\-\\-persona"), "{page}");

    let out = ciguard(&["man", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("audit, audits"));
}
