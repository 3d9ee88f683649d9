use std::path::Path;
use std::process::Command;

use super::*;

const EXP: &str = "${{ inputs.v }}";

fn fixed(script: &str) -> Option<String> {
    fix_script(script, EXP, "INPUTS_V").map(|(s, _)| s)
}

#[test]
fn each_site_gets_the_replacement_that_keeps_its_meaning() {
    let cases = [
        ("echo ${{ inputs.v }}", "echo ${INPUTS_V}"),
        ("echo \"a ${{ inputs.v }}\"", "echo \"a ${INPUTS_V}\""),
        ("echo 'a ${{ inputs.v }}'", "echo 'a '\"${INPUTS_V}\"''"),
        (
            "x=\"$(git rev-parse \"${{ inputs.v }}\")\"",
            "x=\"$(git rev-parse \"${INPUTS_V}\")\"",
        ),
        (
            "cat <<EOF\n\"${{ inputs.v }}\" '${{ inputs.v }}'\nEOF",
            "cat <<EOF\n\"${INPUTS_V}\" '${INPUTS_V}'\nEOF",
        ),
        ("echo a # ${{ inputs.v }}", "echo a # ${INPUTS_V}"),
        (
            "case \"${{ inputs.v }}\" in a) echo a;; esac",
            "case \"${INPUTS_V}\" in a) echo a;; esac",
        ),
    ];
    for (script, want) in cases {
        assert_eq!(fixed(script).as_deref(), Some(want), "{script}");
    }
}

#[test]
fn sites_where_a_variable_would_mean_something_else_get_no_fix() {
    for script in [
        "echo `echo ${{ inputs.v }}`",
        "echo $'${{ inputs.v }}'",
        "[[ ${{ inputs.v }} =~ ^a ]]",
        "echo $(( ${{ inputs.v }} + 1 ))",
        "(( ${{ inputs.v }} > 1 ))",
        "cat <<'EOF'\n${{ inputs.v }}\nEOF",
        "cat <<EOF\n`echo ${{ inputs.v }}`\nEOF",
        "V=${{ inputs.v }}",
        "export V=${{ inputs.v }}",
        "${{ inputs.v }} --help",
        "echo {a,${{ inputs.v }}}",
        "echo ~${{ inputs.v }}",
        "echo \"$HOME${{ inputs.v }}\"",
        "echo $${{ inputs.v }}",
        "echo hi > ${{ inputs.v }}",
        "case ${{ inputs.v }} in a) echo a;; esac",
        "eval echo ${{ inputs.v }}",
        "echo \"${{ inputs.v }}",
        "cat <<EOF\n${{ inputs.v }}\n",
        "echo ${x:-${{ inputs.v }}}",
        "echo ${{ inputs.v }}*",
    ] {
        assert_eq!(fixed(script), None, "{script}");
    }
}

#[test]
fn names_the_script_uses_are_not_reused() {
    let (script, name) = fix_script(
        "INPUTS_V=1; echo \"${{ inputs.v }}$INPUTS_V\"",
        EXP,
        "INPUTS_V",
    )
    .unwrap();
    assert_eq!(name, "INPUTS_V_2");
    assert_eq!(script, "INPUTS_V=1; echo \"${INPUTS_V_2}$INPUTS_V\"");
    let (_, name) = fix_script("echo \"${{ inputs.v }}\"", EXP, "PATH").unwrap();
    assert_eq!(name, "EXPR_PATH");
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let script = format!(
        "echo {}\"${{{{ inputs.v }}}}\"{}",
        "$(".repeat(50_000),
        ")".repeat(50_000)
    );
    assert_eq!(fixed(&script), None);
}

/// Script fragments using the expansion in every kind of place; `true` marks bash-only ones.
const FRAGMENTS: &[(&str, bool)] = &[
    ("printf '[%s]\\n' ${{ inputs.v }}", false),
    ("printf '[%s]\\n' \"${{ inputs.v }}\"", false),
    ("printf '[%s]\\n' 'a ${{ inputs.v }} b'", false),
    (
        "printf '[%s]\\n' \"$(printf '<%s>' \"${{ inputs.v }}\")\"",
        false,
    ),
    ("printf '[%s]\\n' pre-${{ inputs.v }}-post", false),
    ("V=${{ inputs.v }}; printf '[%s]\\n' \"$V\"", false),
    ("cat <<EOF\nbody ${{ inputs.v }} \"q\" 'r'\nEOF", false),
    ("cat <<'EOF'\nbody ${{ inputs.v }}\nEOF", false),
    ("cat <<-EOF\n\tline ${{ inputs.v }}\n\tEOF", false),
    ("printf '[%s]\\n' `echo ${{ inputs.v }}`", false),
    ("printf '[%s]\\n' $'x${{ inputs.v }}'", true),
    (
        "if [[ \"${{ inputs.v }}\" =~ ^t ]]; then echo match; fi",
        true,
    ),
    ("if [[ ${{ inputs.v }} == t* ]]; then echo match; fi", true),
    ("echo \"$(( 1 + 1 ))\" ${{ inputs.v }}", false),
    (
        "case \"${{ inputs.v }}\" in t*) echo t;; *) echo other;; esac",
        false,
    ),
    (
        "case ${{ inputs.v }} in t*) echo t;; *) echo other;; esac",
        false,
    ),
    (
        "if [ \"${{ inputs.v }}\" = \"\" ]; then echo empty; fi",
        false,
    ),
    ("printf '[%s]\\n' {a,${{ inputs.v }}}", true),
    ("printf '[%s]\\n' ${{ inputs.v }}=1", false),
    ("printf '[%s]\\n' \"$HOME${{ inputs.v }}\"", false),
    ("# note ${{ inputs.v }}", false),
    ("printf '[%s]\\n' \"a\"${{ inputs.v }}\"b\"", false),
    (
        "INPUTS_V=zzz; printf '[%s]\\n' \"${{ inputs.v }}\" \"$INPUTS_V\"",
        false,
    ),
    ("printf '[%s]\\n' \"${{ inputs.v }}\" >&2", false),
    ("echo \"${{ inputs.v }}\" | tr a-z A-Z", false),
    (
        "for w in ${{ inputs.v }}; do printf '<%s>\\n' \"$w\"; done",
        false,
    ),
    (
        "f() { printf '[%s]\\n' \"$@\"; }; f ${{ inputs.v }} \"${{ inputs.v }}\"",
        false,
    ),
    ("(printf '[%s]\\n' ${{ inputs.v }})", false),
    (
        "printf '[%s]\\n' \"$(echo \"${{ inputs.v }}\")\" '${{ inputs.v }}'",
        false,
    ),
    (
        "echo '${{ inputs.v }}'\"${{ inputs.v }}\"${{ inputs.v }}",
        false,
    ),
    (
        "test -n \"${{ inputs.v }}\" && echo set || echo unset",
        false,
    ),
    ("printf '%s\\n' \"${{ inputs.v }}\"s ${{ inputs.v }}", false),
    ("printf '[%s]\\n' ${{ inputs.v }}*", false),
    (
        "printf '[%s]\\n' \"${{ inputs.v }}\" \\\n  ${{ inputs.v }}",
        false,
    ),
];

/// Plain values: empty, one word, two words, separators that are not special to the shell.
const VALUES: &[&str] = &["", "t", "two words", "x.y-1/z", "a  b"];

/// Runs `script` as GitHub runs a `run:` step with `shell` (from the file `path`), with `env`
/// set: stdout, stderr and the exit code.
fn run(shell: &str, path: &Path, script: &str, env: &[(&str, &str)]) -> (String, String, i32) {
    std::fs::write(path, script).unwrap();
    let mut cmd = Command::new(shell);
    if shell == "bash" {
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"]);
    } else {
        cmd.arg("-e");
    }
    cmd.arg(path)
        .env("HOME", "/nonexistent-home")
        .env_remove("INPUTS_V")
        .env_remove("INPUTS_V_2");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The invariant: for plain values, a fixed script prints and exits exactly as the original
/// with the value pasted in, in bash and in sh. Scripts are single fragments and random
/// sequences of them.
#[test]
fn fixed_scripts_behave_like_the_originals_in_bash_and_sh() {
    let shells: Vec<&str> = ["bash", "sh"]
        .into_iter()
        .filter(|s| Command::new(s).arg("-c").arg("true").output().is_ok())
        .collect();
    if shells.is_empty() {
        eprintln!("skipped: neither bash nor sh is installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("step.sh");
    let mut scripts: Vec<(String, bool)> = FRAGMENTS
        .iter()
        .map(|(f, b)| ((*f).to_owned(), *b))
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..60 {
        let n = 2 + rng.below(3);
        let picked: Vec<&(&str, bool)> = (0..n)
            .map(|_| &FRAGMENTS[rng.below(FRAGMENTS.len())])
            .collect();
        let text = picked
            .iter()
            .map(|(f, _)| *f)
            .collect::<Vec<_>>()
            .join("\n");
        scripts.push((text, picked.iter().any(|(_, b)| *b)));
    }
    let mut compared = 0;
    let mut fixed_scripts = 0;
    for (script, bash_only) in &scripts {
        let Some((fixed, name)) = fix_script(script, EXP, "INPUTS_V") else {
            continue;
        };
        fixed_scripts += 1;
        assert!(!fixed.contains("${{"), "{fixed}");
        for shell in shells.iter().filter(|s| !*bash_only || **s == "bash") {
            for value in VALUES {
                let original = run(shell, &path, &script.replace(EXP, value), &[]);
                let after = run(shell, &path, &fixed, &[(&name, value)]);
                assert_eq!(
                    original, after,
                    "{shell}, value {value:?}\noriginal:\n{script}\nfixed:\n{fixed}"
                );
                compared += 1;
            }
        }
    }
    eprintln!(
        "{fixed_scripts} of {} scripts fixed, {compared} runs compared",
        scripts.len()
    );
    assert!(
        fixed_scripts >= 20,
        "too few scripts were fixed: {fixed_scripts}"
    );
}
