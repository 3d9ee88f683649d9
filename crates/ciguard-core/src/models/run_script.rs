//! From a `run:` step to a parsed [`Script`], and from script offsets back to file spans.

use crate::models::Step;
use crate::shell::{Dialect, Script};
use crate::source::{SourceFile, Span};
use crate::yaml::{Node, Style};

/// A `run:` script with what is needed to point into the file.
#[derive(Debug, Clone)]
pub struct RunScript<'a> {
    pub text: &'a str,
    pub script: Script,
    pub node: Node<'a>,
    /// Script line start offsets and the file offset each maps to (exact styles only).
    lines: Option<Vec<(usize, usize)>>,
}

impl<'a> RunScript<'a> {
    /// Parses the step's `run:` with `dialect`; `None` for `uses:` steps.
    pub fn of_step(file: &SourceFile, step: &Step<'a>, dialect: Dialect) -> Option<RunScript<'a>> {
        let node = step.run?;
        let text = node.as_str()?;
        Some(Self::new(file, node, text, dialect))
    }

    pub fn new(
        file: &SourceFile,
        node: Node<'a>,
        text: &'a str,
        dialect: Dialect,
    ) -> RunScript<'a> {
        RunScript {
            text,
            script: Script::parse(text, dialect),
            node,
            lines: line_map(file, node, text),
        }
    }

    /// The file span of a script range; the whole scalar when the mapping is not exact.
    pub fn span(&self, file: &SourceFile, range: Span) -> Span {
        self.try_span(file, range)
            .unwrap_or_else(|| self.node.span())
    }

    /// The file span of a script range, when it can be mapped exactly.
    pub fn try_span(&self, file: &SourceFile, range: Span) -> Option<Span> {
        let start = self.offset(file, range.start)?;
        let end = self.offset(file, range.end.max(range.start))?;
        Some(Span::new(start, end.max(start)))
    }

    fn offset(&self, file: &SourceFile, at: usize) -> Option<usize> {
        if let Some(lines) = &self.lines {
            let idx = match lines.binary_search_by_key(&at, |(s, _)| *s) {
                Ok(i) => i,
                Err(i) => i.checked_sub(1)?,
            };
            let (line_start, file_start) = lines[idx];
            return Some(file_start + (at - line_start));
        }
        // Inexact styles: find the script line's text once in the scalar's source.
        let line_start = self.text.get(..at)?.rfind('\n').map_or(0, |n| n + 1);
        let line_end = self
            .text
            .get(at..)?
            .find('\n')
            .map_or(self.text.len(), |n| at + n);
        let line = self.text.get(line_start..line_end)?.trim_end();
        let trimmed = line.trim_start();
        if trimmed.len() < 3 {
            return None;
        }
        let lead = line.len() - trimmed.len();
        let raw = file.slice(self.node.span());
        let found = raw.find(trimmed)?;
        if raw[found + 1..].contains(trimmed) {
            return None;
        }
        let col = at.checked_sub(line_start + lead)?;
        if col > trimmed.len() {
            return None;
        }
        Some(self.node.span().start + found + col)
    }
}

/// For literal blocks and single-line plain or quoted scalars without escapes: each script
/// line's offset and the file offset where it is written. `None` when the text does not match.
fn line_map(file: &SourceFile, node: Node<'_>, text: &str) -> Option<Vec<(usize, usize)>> {
    let span = node.span();
    let raw = file.slice(span);
    match node.style()? {
        Style::Plain if raw == text => Some(vec![(0, span.start)]),
        Style::SingleQuoted | Style::DoubleQuoted
            if raw.len() >= 2 && &raw[1..raw.len() - 1] == text =>
        {
            Some(vec![(0, span.start + 1)])
        }
        Style::Literal => {
            // The body starts on the line after the header (`|`, `|-`, `|+2`, maybe a comment).
            let body_start = span.start + raw.find('\n')? + 1;
            let mut map = Vec::new();
            let mut file_at = body_start;
            let mut script_at = 0;
            for line in text.split_inclusive('\n') {
                let content = line.strip_suffix('\n').unwrap_or(line);
                if file_at > file.text.len() {
                    break;
                }
                let file_line_end = file
                    .text
                    .get(file_at..)?
                    .find('\n')
                    .map_or(file.text.len(), |n| file_at + n);
                let file_line = file.text.get(file_at..file_line_end)?;
                let file_line = file_line.strip_suffix('\r').unwrap_or(file_line);
                if content.is_empty() {
                    if !file_line.trim().is_empty() {
                        return None;
                    }
                } else {
                    if !file_line.ends_with(content) {
                        return None;
                    }
                    let col = file_line.len() - content.len();
                    if !file_line[..col].bytes().all(|b| b == b' ') {
                        return None;
                    }
                    map.push((script_at, file_at + col));
                }
                script_at += line.len();
                file_at = file_line_end + 1;
                if file_at > span.end + 1 && !content.is_empty() {
                    return None;
                }
            }
            Some(map)
        }
        _ => None,
    }
}

/// Which shell runs a `run:` step (the one reader of that question).
#[derive(Debug, Clone, Copy)]
pub struct StepShell<'a> {
    /// The `shell:` that names it: the step's, else `defaults.run.shell` of its job, then of the
    /// workflow.
    pub node: Option<Node<'a>>,
    /// The dialect the script is read in: from that value (one with `${{ }}` is read as POSIX),
    /// else `pwsh` on Windows runners and bash elsewhere.
    pub dialect: Dialect,
    /// No `shell:`, and some `runs-on:` label is an expression: the runner, and so the dialect,
    /// is a guess (good enough for reading the script, not for rewriting it).
    pub guessed: bool,
}

/// Which shell runs `step`, given its job and workflow nodes (`None` for composite actions).
pub fn step_shell<'a, 's: 'a>(
    step: &Step<'s>,
    job: Option<Node<'a>>,
    workflow: Option<Node<'a>>,
) -> StepShell<'a> {
    let defaults = |n: Option<Node<'a>>| {
        n.and_then(|n| n.get("defaults"))
            .and_then(|d| d.get("run"))
            .and_then(|r| r.get("shell"))
    };
    let node = step
        .node
        .get("shell")
        .or_else(|| defaults(job))
        .or_else(|| defaults(workflow));
    if let Some(shell) = node.and_then(|n| n.as_str()) {
        let dialect = if shell.contains("${{") {
            Dialect::Posix
        } else {
            Dialect::from_shell(shell)
        };
        return StepShell {
            node,
            dialect,
            guessed: false,
        };
    }
    let mut labels: Vec<&str> = Vec::new();
    if let Some(r) = job.and_then(|j| j.get("runs-on")) {
        labels.extend(r.items().filter_map(|i| i.as_str()));
        labels.extend(r.as_str());
    }
    let windows = labels
        .iter()
        .any(|l| l.to_ascii_lowercase().starts_with("windows"));
    StepShell {
        node,
        dialect: if windows {
            Dialect::PowerShell
        } else {
            Dialect::Posix
        },
        guessed: labels.iter().any(|l| l.contains("${{")),
    }
}

/// Every `run:` script of a workflow, with its job and step, read in the step's dialect. Parsed
/// once per workflow (on first use) and shared by every audit that reads scripts.
pub fn workflow_scripts<'w, 'a>(
    wf: &'w crate::models::Workflow<'a>,
) -> Vec<(&'w crate::models::Job<'a>, &'w Step<'a>, &'w RunScript<'a>)> {
    wf.run_scripts().collect()
}

/// Every `run:` script of a composite action, read in the step's `shell:`; parsed once per
/// action and shared.
pub fn action_scripts<'w, 'a>(
    action: &'w crate::models::Action<'a>,
) -> Vec<(&'w Step<'a>, &'w RunScript<'a>)> {
    action.run_scripts().collect()
}

/// The span of a step's `run` key, for "in this step" related locations.
pub fn run_key_span(step: &Step<'_>) -> Span {
    step.node
        .entry("run")
        .map_or(step.node.span(), |(k, _)| k.span())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Dialect;
    use crate::source::FileKind;
    use crate::yaml::{Document, Limits};

    #[test]
    fn script_offsets_map_to_file_spans() {
        let text = "a:\n  run: |\n    echo one\n      curl x | sh\nb:\n  run: \"echo two\"\nc:\n  run: >\n    echo three\n    curl y\n";
        let file = SourceFile::new("t.yml", FileKind::Workflow, text.to_owned());
        let doc = Document::parse(&file, &Limits::default()).unwrap();
        let root = doc.root().unwrap();
        for key in ["a", "b", "c"] {
            let node = root.get(key).unwrap().get("run").unwrap();
            let rs = RunScript::new(&file, node, node.as_str().unwrap(), Dialect::Posix);
            for cmd in &rs.script.commands {
                let span = rs.span(&file, cmd.span);
                if key == "c" {
                    // Folded lines are joined: the mapping falls back to the whole scalar.
                    assert_eq!(span, node.span());
                } else {
                    assert_eq!(
                        file.slice(span),
                        &rs.text[cmd.span.start..cmd.span.end],
                        "{key}"
                    );
                }
            }
        }
    }
}
