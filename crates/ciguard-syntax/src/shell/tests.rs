use super::*;

fn sh(text: &str) -> Script {
    Script::parse(text, Dialect::Posix)
}

fn words(s: &Script, i: usize) -> Vec<&str> {
    s.commands[i]
        .words
        .iter()
        .map(|w| w.value.as_str())
        .collect()
}

#[test]
fn splits_on_every_separator() {
    let s = sh("a 1; b 2 && c || d | e & f\ng\n");
    let names: Vec<_> = s.commands.iter().map(|c| c.program().unwrap()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e", "f", "g"]);
    assert_eq!(s.commands[4].pipe_from, Some(3));
    assert_eq!(s.commands[3].pipe_from, None);
    assert_eq!(s.commands[0].sep, Sep::Semi);
    assert_eq!(s.commands[1].sep, Sep::And);
}

#[test]
fn quotes_escapes_and_continuations() {
    let text = "echo 'a b' \"c \\\"d\\\" $X\" e\\ f \\\n  g # comment ; h\n";
    let s = sh(text);
    assert_eq!(s.commands.len(), 1);
    assert_eq!(words(&s, 0), ["echo", "a b", "c \"d\" $X", "e f", "g"]);
    let w = &s.commands[0].words[2];
    assert!(w.quoted && w.expands);
    assert!(s.commands[0].words[1].is_literal());
    assert_eq!(&text[w.span.start..w.span.end], "\"c \\\"d\\\" $X\"");
}

#[test]
fn github_expressions_are_one_word() {
    let s = sh("echo ${{ github.event.issue.title }} done");
    assert_eq!(
        words(&s, 0),
        ["echo", "${{ github.event.issue.title }}", "done"]
    );
    assert!(s.commands[0].words[1].github_expr);
}

#[test]
fn redirects_to_env_files() {
    let s =
        sh("echo \"X=$Y\" >> \"$GITHUB_ENV\"\necho a >>${GITHUB_PATH}\necho b 2>&1 > out.txt\n");
    let writes = s.env_writes();
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[0].file, EnvFile::Env);
    assert_eq!(writes[1].file, EnvFile::Path);
    assert_eq!(s.commands[2].redirects.len(), 2);
    assert_eq!(s.commands[2].redirects[0].op, ">&");
    assert_eq!(words(&s, 2), ["echo", "b"]);
}

#[test]
fn tee_and_powershell_writes() {
    let s = sh("echo $P | tee -a $GITHUB_PATH\n");
    let w = s.env_writes();
    assert_eq!(w.len(), 1);
    assert_eq!((w[0].writer, w[0].sink), (0, 1));
    let ps = Script::parse(
        "\"X=$v\" | Out-File -FilePath $env:GITHUB_ENV -Append\necho \"Y=1\" >> $env:GITHUB_OUTPUT\n",
        Dialect::PowerShell,
    );
    let w = ps.env_writes();
    assert_eq!(w.len(), 2, "{:?}", ps.commands);
    assert_eq!(w[0].file, EnvFile::Env);
    assert_eq!(w[1].file, EnvFile::Output);
    let cmd = Script::parse("echo LIB=%LIB% >> %GITHUB_ENV%\n", Dialect::Cmd);
    assert_eq!(cmd.env_writes().len(), 1);
}

#[test]
fn remote_script_execution() {
    for text in [
        "curl -fsSL https://x.sh | sh",
        "curl -fsSL https://x.sh | sudo -E bash -s -- --yes",
        "wget -qO- https://x.sh | tee log | python3 -",
        "bash <(curl -s https://x.sh)",
        "sh -c \"$(curl -fsSL https://x.sh)\"",
    ] {
        let s = sh(text);
        assert_eq!(s.remote_execs().len(), 1, "{text}: {:?}", s.commands);
    }
    for text in [
        "curl -o x.sh https://x.sh && bash ./x.sh --help",
        "echo hi | bash",
        "curl x | jq .",
    ] {
        assert!(sh(text).remote_execs().is_empty(), "{text}");
    }
}

#[test]
fn substitutions_are_parsed_with_their_parent() {
    let s = sh("VERSION=$(curl -s https://api | jq -r .tag) make");
    let curl = s
        .commands
        .iter()
        .position(|c| c.program() == Some("curl"))
        .unwrap();
    assert_eq!(s.commands[curl].parent, Some(0));
    assert_eq!(s.commands[0].program(), Some("make"));
    let jq = s
        .commands
        .iter()
        .position(|c| c.program() == Some("jq"))
        .unwrap();
    assert_eq!(s.commands[jq].pipe_from, Some(curl));
}

#[test]
fn keywords_heredocs_and_comments() {
    let s = sh(
        "if [ -n \"$X\" ]; then\n  cat <<EOF >> $GITHUB_ENV\nA=$X\nrm -rf /\nEOF\nfi\n# curl x | sh\nfor f in a b; do echo $f; done\n",
    );
    let names: Vec<_> = s.commands.iter().filter_map(|c| c.program()).collect();
    assert_eq!(names, ["[", "cat", "echo"]);
    let body = s.commands[1].redirects[0].heredoc.unwrap();
    assert!(!body.is_empty());
    assert_eq!(s.env_writes().len(), 1);
}

#[test]
fn wrappers_and_flags() {
    let s = sh("sudo -E env A=1 B=2 /usr/bin/pip install --user -r req.txt\ncurl -fsSL x\n");
    assert_eq!(s.commands[0].program(), Some("pip"));
    assert_eq!(s.commands[0].args()[0].value, "install");
    assert!(s.commands[0].has_flag("-r"));
    assert!(s.commands[1].has_flag("-s"));
    assert!(!s.commands[1].has_flag("-o"));
}

#[test]
fn never_panics_on_hostile_input() {
    let inputs = [
        "",
        "$",
        "$(",
        "$((",
        "${",
        "`",
        "\"",
        "'",
        "\\",
        "<<",
        "<<EOF",
        "2>",
        "&>",
        "$'",
        "${{",
        "é$(é",
        "a | | b",
        ")))(((",
        "<(",
        "echo \"$(echo \"$(echo \"$(",
        "x\r\ny",
    ];
    for dialect in [Dialect::Posix, Dialect::PowerShell, Dialect::Cmd] {
        for text in inputs {
            let s = Script::parse(text, dialect);
            let _ = (s.env_writes(), s.remote_execs());
            for c in &s.commands {
                for w in &c.words {
                    assert!(
                        w.span.end <= text.len()
                            && text.is_char_boundary(w.span.start)
                            && text.is_char_boundary(w.span.end)
                    );
                }
            }
        }
    }
    let deep = "$(".repeat(10_000);
    let _ = sh(&deep);
    let many = "a;".repeat(100_000);
    assert!(sh(&many).commands.len() <= MAX_COMMANDS);
}

#[test]
fn long_scripts_are_read_up_to_the_limits_and_say_so() {
    let pipes = format!("curl -sSL https://x{}", " | sh".repeat(20_000));
    let s = sh(&pipes);
    assert!(s.truncated);
    assert_eq!(s.commands.len(), MAX_COMMANDS);
    // What was read is still related: the first `sh` runs the download.
    assert_eq!(s.remote_execs()[0], RemoteExec { fetch: 0, exec: 1 });
    let words = "a ".repeat(MAX_WORDS + 10);
    let s = sh(&words);
    assert!(s.truncated);
    let nested = "$(".repeat(20_000);
    let s = sh(&nested);
    assert!(s.truncated);
    assert!(s.commands.len() <= super::MAX_DEPTH + 1);
    assert!(!sh("echo $(a $(b $(c)))").truncated);
}

#[test]
fn downstream_follows_the_pipeline_past_substitutions() {
    let s = sh("curl $(echo u) | tar x | sh; b | c");
    let names = |v: Vec<usize>| -> Vec<String> {
        v.into_iter()
            .map(|i| s.commands[i].program().unwrap().to_owned())
            .collect()
    };
    let curl = 0;
    assert_eq!(names(s.downstream(curl).collect()), ["tar", "sh"]);
    let sh_idx = s
        .commands
        .iter()
        .position(|c| c.program() == Some("sh"))
        .unwrap();
    assert_eq!(s.downstream(sh_idx).count(), 0);
    for j in 0..s.commands.len() {
        for i in s.upstream(j) {
            assert!(s.downstream(i).any(|d| d == j), "{i} -> {j}");
        }
    }
}

#[test]
fn ok_scripts_under_the_limits_are_read_whole() {
    let script = vec!["echo a | tee -a \"$GITHUB_ENV\""; MAX_COMMANDS / 2].join("\n");
    let s = sh(&script);
    assert!(!s.truncated);
    assert_eq!(s.commands.len(), MAX_COMMANDS);
    assert!(!sh("").truncated);
    let words = "a ".repeat(MAX_WORDS - 1);
    assert!(!sh(&words).truncated);
}

#[test]
fn dialect_from_shell_values() {
    assert_eq!(Dialect::from_shell("/bin/bash -e {0}"), Dialect::Posix);
    assert_eq!(Dialect::from_shell("pwsh"), Dialect::PowerShell);
    assert_eq!(Dialect::from_shell("cmd"), Dialect::Cmd);
    assert_eq!(Dialect::from_shell("python"), Dialect::Other);
}

#[test]
fn every_prefix_of_a_dense_script_parses() {
    let text = "A=\"é$(curl -fsSL 'https://x/é' | tar xz)\" && echo ${{ github.head_ref }} >> \"$GITHUB_ENV\" \\\n  || cat <<-'EOF' | tee -a ${GITHUB_PATH}\n\tbody é\n\tEOF\n$'a\\'b' `uname` 2>&1 <(wget -O- x) # c\nif [ x ]; then case $x in a) y;; esac; fi; for i in 1 2; do :; done\n";
    for dialect in [Dialect::Posix, Dialect::PowerShell, Dialect::Cmd] {
        for (end, _) in text.char_indices() {
            let prefix = &text[..end];
            let s = Script::parse(prefix, dialect);
            let _ = (s.env_writes(), s.remote_execs());
            for c in &s.commands {
                assert!(c.span.end <= prefix.len(), "{dialect:?} {end}");
                for r in &c.redirects {
                    if let Some(h) = r.heredoc {
                        assert!(h.end <= prefix.len());
                    }
                }
            }
        }
    }
}

#[test]
fn tool_index_looks_through_package_runners() {
    let tool = |text: &str| {
        let s = sh(text);
        let c = &s.commands[0];
        c.tool_index().map(|i| c.words[i].value.clone())
    };
    assert_eq!(tool("npx twine upload").as_deref(), Some("twine"));
    assert_eq!(
        tool("sudo -E python3 -m twine upload").as_deref(),
        Some("twine")
    );
    assert_eq!(tool("/usr/bin/python -m twine").as_deref(), Some("twine"));
    assert_eq!(
        tool("A=1 poetry run twine upload").as_deref(),
        Some("twine")
    );
    assert_eq!(
        tool("uvx twine==6.1.0 upload").as_deref(),
        Some("twine==6.1.0")
    );
    assert_eq!(
        tool("pnpm exec npx lerna publish").as_deref(),
        Some("lerna")
    );
    // The program itself when it runs no other tool; nothing when the runner names none.
    assert_eq!(tool("cargo publish").as_deref(), Some("cargo"));
    assert_eq!(tool("poetry publish").as_deref(), Some("poetry"));
    assert_eq!(tool("npx").as_deref(), None);
    assert_eq!(tool("python -m").as_deref(), None);
    // `program_index` still names the process that starts.
    let s = sh("python -m pip install x");
    assert_eq!(s.commands[0].program(), Some("python"));
}
