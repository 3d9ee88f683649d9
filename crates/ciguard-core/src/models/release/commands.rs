//! The release chain's view of a `run:` script: each command of the one shell reader
//! (`shell::Script`), named by the tool that does the work (wrappers and package runners such
//! as `sudo`, `npx` or `python -m` looked through), with the logical line it is written on.

use crate::models::Step;
use crate::models::run_script::RunScript;
use crate::source::{SourceFile, Span};

/// One command of a `run:` script, as the release chain reads it.
#[derive(Debug, Clone)]
pub struct Command<'a> {
    /// The tool and its arguments (quotes removed, redirects left out): `["twine", "upload",
    /// "dist/*"]` for `python -m twine upload dist/*`.
    pub words: Vec<String>,
    /// The logical line(s) the command is written on (`\` continuations joined, pipelines and
    /// `&&` chains whole), searched for the secret a credential flag or `... | docker login
    /// --password-stdin` passes. Borrowed from the script: no copy per command.
    pub line: &'a str,
    /// Where the command is written in the file; the whole `run:` value when the script does
    /// not map exactly onto the file (folded scalars, escapes).
    pub span: Span,
}

/// The commands of a `run:` step that run a tool (not `cd`), read once per step and shared
/// (`file` must be the step's file).
pub fn run_commands<'s, 'a>(file: &SourceFile, step: &'s Step<'a>) -> &'s [Command<'a>] {
    step.commands.get_or_init(|| match step.run_script(file) {
        Some(rs) => commands_of(file, rs),
        None => Vec::new(),
    })
}

fn commands_of<'a>(file: &SourceFile, rs: &RunScript<'a>) -> Vec<Command<'a>> {
    let lines = logical_lines(rs.text);
    rs.script
        .commands
        .iter()
        .filter_map(|c| {
            Some(Command {
                words: tool_words(c)?,
                line: line_of(rs.text, &lines, c.span),
                span: rs.span(file, c.span),
            })
        })
        .collect()
}

/// The words from the tool on; `None` for a command that runs no tool, or only `cd`.
pub(super) fn tool_words(c: &crate::shell::Command) -> Option<Vec<String>> {
    let words: Vec<String> = c.words[c.tool_index()?..]
        .iter()
        .map(|w| w.value.clone())
        .collect();
    (words[0] != "cd").then_some(words)
}

/// Start offsets of the script's logical lines: a physical line ending in `\` (POSIX) or
/// `` ` `` (PowerShell) continues on the next.
fn logical_lines(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        at += line.len();
        let trimmed = line.trim();
        let continues = trimmed.ends_with('\\') || trimmed.ends_with(" `");
        if !continues && at < text.len() {
            starts.push(at);
        }
    }
    starts
}

/// The text of the logical lines `range` touches.
fn line_of<'a>(text: &'a str, starts: &[usize], range: Span) -> &'a str {
    let index = |at: usize| starts.partition_point(|s| *s <= at).saturating_sub(1);
    let start = starts[index(range.start)];
    let end = starts
        .get(index(range.end.saturating_sub(1).max(range.start)) + 1)
        .copied()
        .unwrap_or(text.len());
    text.get(start..end).unwrap_or(text).trim_end()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::models::Workflow;
    use crate::shell::{Dialect, Script};
    use crate::source::FileKind;
    use crate::yaml::{Document, Limits};

    /// `(words, line, text at span)` of each command of the workflow's first step.
    fn step_commands(text: &str) -> Vec<(Vec<String>, String, String)> {
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let doc = Document::parse(&file, &Limits::default()).unwrap();
        let wf = Workflow::build(&file, &doc).0.unwrap();
        let step = &wf.jobs[0].steps()[0];
        run_commands(&file, step)
            .iter()
            .map(|c| {
                (
                    c.words.clone(),
                    c.line.to_owned(),
                    file.slice(c.span).to_owned(),
                )
            })
            .collect()
    }

    const HEAD: &str = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n";

    #[test]
    fn commands_come_from_the_shell_reader() {
        // Bodies of `if`/`for` are commands; `cd` is no tool; wrappers and runners are
        // looked through.
        let cmds = step_commands(&format!(
            "{HEAD}      - run: for p in a b; do if [ -n \"$p\" ]; then sudo -E npx lerna publish \"$p\"; fi; done; cd x\n"
        ));
        let words: Vec<_> = cmds.iter().map(|c| c.0.join(" ")).collect();
        assert_eq!(words, ["[ -n $p ]", "lerna publish $p"]);
        assert_eq!(cmds[1].2, "sudo -E npx lerna publish \"$p\"");
        // Quoted words and `${{ }}` are one word each.
        let cmds = step_commands(&format!(
            "{HEAD}      - run: gh release create ${{{{ github.ref_name }}}} --title \"Release $T\"\n"
        ));
        assert_eq!(
            cmds[0].0,
            [
                "gh",
                "release",
                "create",
                "${{ github.ref_name }}",
                "--title",
                "Release $T"
            ]
        );
    }

    #[test]
    fn a_command_over_continued_lines_spans_them_all() {
        let cmds = step_commands(&format!(
            "{HEAD}      - run: |\n          gh release create \"$T\" \\\n            dist/a.tgz\n          echo ${{{{ secrets.T }}}} | docker login -u u --password-stdin\n"
        ));
        assert_eq!(
            cmds[0].2,
            "gh release create \"$T\" \\\n            dist/a.tgz"
        );
        assert_eq!(cmds[0].0.last().map(String::as_str), Some("dist/a.tgz"));
        // A secret piped into the command is on its line.
        assert_eq!(cmds[2].0[..2], ["docker", "login"]);
        assert!(cmds[2].1.contains("secrets.T"));
        assert_eq!(cmds[2].2, "docker login -u u --password-stdin");
    }

    fn lines(text: &str) -> Vec<&str> {
        let starts = logical_lines(text);
        Script::parse(text, Dialect::Posix)
            .commands
            .iter()
            .map(|c| line_of(text, &starts, c.span))
            .collect()
    }

    #[test]
    fn a_command_carries_its_whole_logical_line() {
        let text = "echo ${{ secrets.T }} | docker login -u u --password-stdin\ncargo \\\n  publish --token \"$T\"\n\nnpm publish";
        assert_eq!(
            lines(text),
            [
                "echo ${{ secrets.T }} | docker login -u u --password-stdin",
                "echo ${{ secrets.T }} | docker login -u u --password-stdin",
                "cargo \\\n  publish --token \"$T\"",
                "npm publish",
            ]
        );
    }
}
