//! The release chain's own split of a `run:` script into commands (words, wrappers removed).
//! Still a second reader beside `shell::Script` (moving the release audits onto `shell::Command`
//! changes the spans of their findings and the text searched for secrets, and is its own
//! change); the wrappers and package runners it strips are `shell`'s one list.

use crate::models::Step;
use crate::source::{SourceFile, Span};

/// One command of a `run:` script: its words and where its line is in the file.
#[derive(Debug, Clone)]
pub struct Command {
    pub words: Vec<String>,
    /// The logical line the command is on, shared by its segments: a line of thousands of
    /// `|`-separated segments must not be copied once per segment.
    pub line: std::sync::Arc<str>,
    pub span: Span,
}

/// The commands of a `run:` step, split on `&&`, `||`, `;`, `|` and parentheses, with leading
/// `VAR=value` assignments and wrappers (`sudo`, `npx`, `python -m`, `poetry run`, ...) removed.
/// Split once per step and shared (`file` must be the step's file).
pub fn run_commands<'s>(file: &SourceFile, step: &'s Step<'_>) -> &'s [Command] {
    step.commands.get_or_init(|| split_commands(file, step))
}

pub(super) fn split_commands(file: &SourceFile, step: &Step<'_>) -> Vec<Command> {
    let (Some(run), Some(script)) = (step.run, step.run_str()) else {
        return Vec::new();
    };
    let node_span = run.span();
    let raw = file.slice(node_span);
    let mut cursor = 0;
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut first_line: Option<&str> = None;
    for line in script.lines() {
        let trimmed = line.trim();
        if first_line.is_none() {
            first_line = Some(trimmed);
        }
        // `\` continues a POSIX line, a trailing `` ` `` a PowerShell one.
        if let Some(cont) = trimmed
            .strip_suffix('\\')
            .or_else(|| trimmed.strip_suffix(" `"))
        {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(trimmed);
        let anchor = first_line.take().unwrap_or(trimmed);
        let span = match (!anchor.is_empty())
            .then(|| raw[cursor..].find(anchor))
            .flatten()
        {
            Some(i) => {
                let start = node_span.start + cursor + i;
                cursor += i + anchor.len();
                Span::new(start, start + anchor.len())
            }
            None => node_span,
        };
        let text = std::mem::take(&mut logical);
        if text.trim_start().starts_with('#') {
            continue;
        }
        let line: std::sync::Arc<str> = text.as_str().into();
        for segment in split_segments(&text) {
            let words = strip_wrappers(shell_words(segment));
            if !words.is_empty() {
                out.push(Command {
                    words,
                    line: line.clone(),
                    span,
                });
            }
        }
    }
    out
}

pub(super) fn split_segments(line: &str) -> Vec<&str> {
    line.split(['|', ';', '&', '(', ')', '`'])
        .filter(|s| !s.trim().is_empty())
        .collect()
}

pub(super) fn shell_words(segment: &str) -> Vec<String> {
    segment
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

pub(super) fn strip_wrappers(mut words: Vec<String>) -> Vec<String> {
    loop {
        let Some(first) = words.first().map(String::as_str) else {
            return words;
        };
        let skip = if is_assignment(first) || crate::shell::WRAPPERS.contains(&first) {
            1
        } else if first == "cd" {
            return Vec::new();
        } else {
            match crate::shell::runner_len(first, words.get(1).map(String::as_str)) {
                0 => return words,
                n => n,
            }
        };
        words.drain(..skip.min(words.len()));
    }
}

/// A leading `NAME=value` environment assignment (not `twine==6.1.0`, not a `--flag=value`).
pub(super) fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, value)| {
        !name.is_empty()
            && !value.starts_with('=')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}
