//! Inline ignores (`# ciguard: ignore[audit-id] reason`) and baselines.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::audits::{UnusedIgnore, by_id};
use crate::finding::{Finding, Location};
use crate::route::Route;
use crate::source::{SourceFile, Span};

/// One `# ciguard: ignore[...]` comment (zizmor's `# zizmor: ignore[...]` is honoured too, so a
/// project can switch tools without editing its files; only ciguard's own are checked for use).
#[derive(Debug, Clone)]
pub struct InlineIgnore {
    pub line: usize,
    pub span: Span,
    pub audits: Vec<String>,
    pub ours: bool,
}

/// Finds every inline ignore comment of a file.
pub fn inline_ignores(file: &SourceFile) -> Vec<InlineIgnore> {
    let mut out = Vec::new();
    // Both prefixes contain this: most files have no ignore, so skip the line-by-line search.
    if !file.text.contains(": ignore[") {
        return out;
    }
    for line in 1..=file.line_count() {
        let span = file.line_span(line);
        let text = file.slice(span);
        for (prefix, ours) in [("ciguard: ignore[", true), ("zizmor: ignore[", false)] {
            // The ignore may follow another comment (`# v4.2.2 # ciguard: ignore[...]`), but it
            // must itself start a comment.
            let Some(at) = text.find(prefix) else {
                continue;
            };
            let Some(hash) = text[..at].rfind('#') else {
                continue;
            };
            if !text[hash + 1..at].trim().is_empty() {
                continue;
            }
            let comment = &text[hash..];
            let at = at - hash;
            let rest = &comment[at + prefix.len()..];
            let Some(close) = rest.find(']') else {
                continue;
            };
            let audits = rest[..close]
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            out.push(InlineIgnore {
                line,
                span: Span::new(span.start + hash, span.end),
                audits,
                ours,
            });
        }
    }
    out
}

/// Removes findings suppressed by inline ignores in their own file; returns how many, and the
/// `unused-ignore` findings for ciguard comments that suppressed nothing among `audits_run`.
pub fn apply_inline_ignores(
    file: &Arc<SourceFile>,
    findings: &mut Vec<Finding>,
    audits_run: &[&str],
) -> (usize, Vec<Finding>) {
    let ignores = inline_ignores(file);
    if ignores.is_empty() {
        return (0, Vec::new());
    }
    let mut used = vec![false; ignores.len()];
    let before = findings.len();
    findings.retain(|f| {
        let Some(span) = f.primary.span() else {
            return true;
        };
        // The lines of the primary span, and of related spans in the same file (a step's
        // `with:` entry, say), may carry the ignore.
        let mut ranges: Vec<(usize, usize)> = std::iter::once(span)
            .chain(
                f.related
                    .iter()
                    .filter(|r| r.path() == f.primary.path())
                    .filter_map(|r| r.span()),
            )
            .map(|s| (file.line_col(s.start).line, file.line_col(s.end).line))
            .collect();
        // As with zizmor, the block of comment lines right above the finding may carry it.
        let first = file.line_col(span.start).line;
        let above = comment_lines_above(file, first).min(item_start_above(file, first));
        if above < first {
            ranges.push((above, first - 1));
        }
        let mut suppressed = false;
        for (i, ig) in ignores.iter().enumerate() {
            let on_finding = ranges
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&ig.line));
            if on_finding && ig.audits.iter().any(|a| a == f.audit_id()) {
                used[i] = true;
                suppressed = true;
            }
        }
        !suppressed
    });
    let mut unused = Vec::new();
    for (ig, used) in ignores.iter().zip(used) {
        if !ig.ours || used {
            continue;
        }
        for audit in &ig.audits {
            let message = if by_id(audit).is_none() {
                format!("`{audit}` in this ignore comment is not an audit")
            } else if audits_run.contains(&audit.as_str()) {
                format!("this ignore comment suppresses no `{audit}` finding")
            } else {
                continue;
            };
            unused.push(Finding::new(
                &UnusedIgnore::META,
                message,
                Location::file(file, ig.span, Route::root(), "remove this ignore comment"),
            ));
        }
    }
    (before - findings.len(), unused)
}

/// The first line of the run of comment-only lines that ends right above `line` (`line` itself
/// when the line above is not a comment).
fn comment_lines_above(file: &SourceFile, line: usize) -> usize {
    let mut first = line;
    while first > 1
        && file
            .slice(file.line_span(first - 1))
            .trim_start()
            .starts_with('#')
    {
        first -= 1;
    }
    first
}

/// When `line` is a key of a list item's mapping (a step's `uses:` or `run:`), the line that
/// starts the item (`- name: ...`), so an ignore on the step's first line covers its findings as
/// zizmor's do; `line` itself otherwise. Only sibling keys, blank and comment lines are crossed.
fn item_start_above(file: &SourceFile, line: usize) -> usize {
    let indent = |t: &str| t.len() - t.trim_start().len();
    let text = file.slice(file.line_span(line));
    let want = indent(text);
    if text.trim_start().starts_with('-') {
        return line;
    }
    let mut at = line;
    while at > 1 {
        at -= 1;
        let t = file.slice(file.line_span(at));
        let body = t.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if body.starts_with("- ") && indent(t) + 2 == want {
            return at;
        }
        if indent(t) != want || body.starts_with('-') {
            return line;
        }
    }
    line
}

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<BaselineEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct BaselineEntry {
    audit: String,
    path: String,
    fingerprint: String,
    message: String,
}

impl BaselineEntry {
    fn of(f: &Finding) -> Self {
        BaselineEntry {
            audit: f.audit_id().to_owned(),
            path: f.primary.path().to_owned(),
            fingerprint: f.fingerprint(),
            message: f.message.clone(),
        }
    }
}

fn baseline_text(findings: Vec<BaselineEntry>) -> String {
    let file = BaselineFile {
        version: 1,
        findings,
    };
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

/// Why a baseline file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("not a ciguard baseline: {0}")]
    NotBaseline(#[source] serde_json::Error),
    #[error("baseline version {0} is not supported (expected 1)")]
    Version(u32),
}

/// Known findings that a run should not report again.
#[derive(Debug, Default)]
pub struct Baseline {
    counts: HashMap<String, usize>,
}

impl Baseline {
    /// The JSON text of a baseline holding `findings`.
    pub fn write(findings: &[Finding]) -> String {
        baseline_text(findings.iter().map(BaselineEntry::of).collect())
    }

    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let file: BaselineFile = serde_json::from_str(text).map_err(BaselineError::NotBaseline)?;
        if file.version != 1 {
            return Err(BaselineError::Version(file.version));
        }
        let mut counts = HashMap::new();
        for entry in file.findings {
            *counts.entry(entry.fingerprint).or_insert(0) += 1;
        }
        Ok(Baseline { counts })
    }

    /// Removes findings the baseline knows (each entry absorbs one finding); returns how many.
    pub fn filter(&self, findings: &mut Vec<Finding>) -> usize {
        self.remaining().filter(findings)
    }

    /// The entries not yet matched, for a run that filters its findings batch by batch.
    pub fn remaining(&self) -> Remaining {
        Remaining {
            left: self.counts.clone(),
        }
    }
}

/// A baseline's entries not yet matched by a finding of the run.
#[derive(Debug, Clone)]
pub struct Remaining {
    left: HashMap<String, usize>,
}

impl Remaining {
    /// Removes the findings that unmatched entries absorb (one each); returns how many.
    pub fn filter(&mut self, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        findings.retain(|f| match self.left.get_mut(&f.fingerprint()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        });
        before - findings.len()
    }
}

/// A baseline written as findings go by: only what the file records of each is kept.
#[derive(Debug, Default)]
pub struct BaselineWriter {
    entries: Vec<BaselineEntry>,
}

impl BaselineWriter {
    pub fn add(&mut self, findings: &[Finding]) {
        self.entries.extend(findings.iter().map(BaselineEntry::of));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The JSON text of the baseline, as [`Baseline::write`] writes it.
    pub fn text(self) -> String {
        baseline_text(self.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileKind;

    #[test]
    fn ignores_may_follow_another_comment_but_must_start_one() {
        let text = "a: x # v1 # ciguard: ignore[unpinned-uses] ok\nb: \"ciguard: ignore[x]\"\nc: y # zizmor: ignore[artipacked,cache-poisoning]\n";
        let file = SourceFile::new("w.yml", FileKind::Workflow, text.to_owned());
        let found = inline_ignores(&file);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            (found[0].line, found[0].audits.clone(), found[0].ours),
            (1, vec!["unpinned-uses".to_owned()], true)
        );
        assert_eq!(
            (found[1].line, found[1].audits.len(), found[1].ours),
            (3, 2, false)
        );
    }

    #[test]
    fn the_comment_block_above_a_finding_may_carry_its_ignore() {
        let text = "env:\n  # why\n  # zizmor: ignore[secrets-outside-env]\n  FOO: x\n  # zizmor: ignore[secrets-outside-env]\n\n  BAR: y\n  BAZ: z\n";
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let finding = |line: usize| {
            let start = file.line_span(line).start + 2;
            Finding::new(
                &crate::audits::SecretsOutsideEnv::META,
                "secret",
                Location::file(&file, Span::new(start, start + 3), Route::root(), "here"),
            )
        };
        // FOO (line 4) has the block above; BAR (line 7) has a blank line in between; BAZ
        // (line 8) has a key above.
        let mut findings = vec![finding(4), finding(7), finding(8)];
        let (suppressed, _) = apply_inline_ignores(&file, &mut findings, &[]);
        assert_eq!(suppressed, 1);
        let lines: Vec<usize> = findings
            .iter()
            .map(|f| file.line_col(f.primary.span().unwrap().start).line)
            .collect();
        assert_eq!(lines, [7, 8]);
    }

    #[test]
    fn an_ignore_on_the_first_line_of_a_step_covers_the_step() {
        let text = "steps:\n  - name: a # zizmor: ignore[superfluous-actions]\n    if: x\n    uses: o/r@v1\n  - name: b\n    uses: o/r@v1\n  - uses: o/r@v1 # zizmor: ignore[superfluous-actions]\n    with:\n      x: y\n";
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let finding = |line: usize| {
            let start = file.line_span(line).end - 6;
            Finding::new(
                &crate::audits::SuperfluousActions::META,
                "superfluous",
                Location::file(&file, Span::new(start, start + 6), Route::root(), "here"),
            )
        };
        // Line 4 is in the ignored step; line 6 in the next one; line 9 is nested deeper in
        // the third step, whose ignore is on its first line but covers only its own keys.
        let mut findings = vec![finding(4), finding(6), finding(9)];
        let (suppressed, _) = apply_inline_ignores(&file, &mut findings, &[]);
        assert_eq!(suppressed, 1);
        let lines: Vec<usize> = findings
            .iter()
            .map(|f| file.line_col(f.primary.span().unwrap().start).line)
            .collect();
        assert_eq!(lines, [6, 9]);
    }
}
