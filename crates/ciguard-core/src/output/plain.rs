//! rustc-style annotated snippets for people.
//!
//! ```text
//! high[unpinned-uses]: actions/checkout is pinned to a tag or branch, which can be moved
//!   --> .github/workflows/ci.yml:9:15
//!    |
//!  9 |       - uses: actions/checkout@v4
//!    |               ^^^^^^^^^^^^^^^^^^^ not pinned to a commit SHA
//!    |
//!
//! 1 finding (1 high, 0 medium, 0 low, 0 informational), 0 suppressed, 1 file audited
//! ```
//!
//! Diagnostics (files that could not be audited) are not part of this output: the binary writes
//! them to stderr, so stdout carries only findings. The summary counts the files not audited.

use std::io::{self, Write};

use super::escape::text as esc;
use super::location_region;
use crate::diagnostic::Level;
use crate::finding::{Applicability, Finding, Location, Severity};
use crate::report::Report;
use crate::source::SourceFile;

/// Columns a tab takes in the rendered snippet.
const TAB_WIDTH: usize = 4;
/// Source lines longer than this (in characters) are shown as a window around the marks, so a
/// finding on a megabyte-long line does not print the megabyte.
const MAX_SHOWN_CHARS: usize = 240;
/// How much of a long line is shown before the first mark.
const CONTEXT_CHARS: usize = 40;

struct Paint {
    color: bool,
}

impl Paint {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn severity(&self, severity: Severity, text: &str) -> String {
        let code = match severity {
            Severity::High => "1;31",
            Severity::Medium => "1;33",
            Severity::Low => "1;36",
            Severity::Informational => "1;32",
        };
        self.paint(code, text)
    }

    fn gutter(&self, text: &str) -> String {
        self.paint("1;34", text)
    }

    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

pub(super) fn render(
    report: &Report,
    opts: &super::RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_findings(opts, &report.findings, out)?;
    finish(opts, report, &super::Tally::of(&report.findings), out)
}

/// Each finding with its snippet, as findings arrive.
pub(super) fn write_findings(
    opts: &super::RenderOptions,
    findings: &[Finding],
    out: &mut dyn Write,
) -> io::Result<()> {
    let paint = Paint { color: opts.color };
    for finding in findings {
        write_finding(&paint, finding, out)?;
        writeln!(out)?;
    }
    Ok(())
}

/// The notes and the summary line, after the last finding.
pub(super) fn finish(
    opts: &super::RenderOptions,
    report: &Report,
    tally: &super::Tally,
    out: &mut dyn Write,
) -> io::Result<()> {
    let paint = Paint { color: opts.color };
    for note in &report.notes {
        writeln!(out, "{}: {}", paint.bold("note"), esc(note))?;
    }
    writeln!(out, "{}", summary(report, tally))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `N findings (x high, y medium, z low, w informational), S suppressed, F files audited`.
pub(crate) fn summary(report: &Report, tally: &super::Tally) -> String {
    let [high, medium, low, info] = tally.by_severity;
    let head = if tally.findings == 0 {
        "no findings".to_owned()
    } else {
        format!(
            "{} ({high} high, {medium} medium, {low} low, {info} informational)",
            plural(tally.findings, "finding", "findings")
        )
    };
    let mut line = format!(
        "{head}, {} suppressed, {} audited",
        report.suppressed,
        plural(report.files_audited, "file", "files")
    );
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .count();
    if errors > 0 {
        line.push_str(&format!(
            ", {} not audited",
            plural(errors, "file", "files")
        ));
    }
    line
}

/// One underline below a source line.
struct Mark {
    line: usize,
    /// Character columns, 0-based, `start < end`.
    start: usize,
    end: usize,
    primary: bool,
    /// The span goes on past this line.
    continues: bool,
    label: String,
}

fn mark(file: &SourceFile, location: &Location, primary: bool) -> Option<Mark> {
    let (_, region) = location_region(location)?;
    let line_chars = file.line_text(region.start.line).chars().count();
    let start = region.start.column - 1;
    let continues = region.end.line > region.start.line;
    let end = if continues {
        // Up to the end of the line's content, before any trailing comment.
        let text = file.line_text(region.start.line);
        let content: Vec<char> = text.chars().collect();
        let mut end = content.len();
        for i in start + 1..content.len() {
            if content[i] == '#' && content[i - 1].is_whitespace() {
                end = i;
                break;
            }
        }
        while end > start + 1 && content[end - 1].is_whitespace() {
            end -= 1;
        }
        end
    } else {
        region.end.column - 1
    };
    let end = end.min(line_chars).max(start + 1);
    Some(Mark {
        line: region.start.line,
        start,
        end,
        primary,
        continues,
        label: esc(location.label()).into_owned(),
    })
}

/// The line as shown (tabs expanded, control characters made visible) and the display column
/// where each character starts, plus one past the end.
fn display_line(text: &str) -> (String, Vec<usize>) {
    let mut shown = String::with_capacity(text.len());
    let mut columns = Vec::with_capacity(text.len() + 1);
    let mut width = 0;
    for c in text.chars() {
        columns.push(width);
        if c == '\t' {
            let n = TAB_WIDTH - width % TAB_WIDTH;
            shown.extend(std::iter::repeat_n(' ', n));
            width += n;
        } else if super::escape::is_unsafe(c) {
            shown.push('\u{FFFD}');
            width += 1;
        } else {
            shown.push(c);
            width += 1;
        }
    }
    columns.push(width);
    (shown, columns)
}

/// The part of a line shown for `marks` (all on it): the whole line when it is short, else a
/// window from a little before the first mark, elided with `…`. Returns the first character
/// shown, the text and the display column of each shown character (see [`display_line`]).
fn windowed_line(text: &str, marks: &[Mark]) -> (usize, String, Vec<usize>) {
    let total = text.chars().count();
    if total <= MAX_SHOWN_CHARS {
        let (shown, columns) = display_line(text);
        return (0, shown, columns);
    }
    let first = marks.iter().map(|m| m.start).min().unwrap_or(0);
    let lo = first.saturating_sub(CONTEXT_CHARS).min(total);
    let hi = (lo + MAX_SHOWN_CHARS).min(total);
    let byte = |c: usize| text.char_indices().nth(c).map_or(text.len(), |(b, _)| b);
    let (shown, columns) = display_line(&text[byte(lo)..byte(hi)]);
    let lead = usize::from(lo > 0);
    let mut out = String::with_capacity(shown.len() + 8);
    if lo > 0 {
        out.push('…');
    }
    out.push_str(&shown);
    if hi < total {
        out.push('…');
    }
    (lo, out, columns.into_iter().map(|c| c + lead).collect())
}

fn write_finding(paint: &Paint, f: &Finding, out: &mut dyn Write) -> io::Result<()> {
    let header = paint.severity(f.severity, &format!("{}[{}]", f.severity, f.audit_id()));
    writeln!(out, "{header}: {}", paint.bold(&esc(&f.message)))?;
    let mut notes: Vec<String> = Vec::new();
    match &f.primary {
        Location::File { file, .. } => {
            let mut marks: Vec<Mark> = mark(file, &f.primary, true).into_iter().collect();
            for related in &f.related {
                match related {
                    Location::File { file: other, .. } if other.path == file.path => {
                        marks.extend(mark(file, related, false));
                    }
                    _ => notes.push(related_note(related)),
                }
            }
            let (_, region) = location_region(&f.primary)
                .unwrap_or((file, super::region(file, Default::default())));
            let width = marks
                .iter()
                .map(|m| m.line)
                .max()
                .unwrap_or(1)
                .to_string()
                .len();
            let pad = " ".repeat(width);
            writeln!(
                out,
                "{pad}{} {}:{}:{}",
                paint.gutter("-->"),
                esc(&file.path),
                region.start.line,
                region.start.column
            )?;
            write_snippet(paint, file, &mut marks, f.severity, &pad, out)?;
            write_notes(paint, f, notes, &pad, out)
        }
        Location::Setting {
            subject,
            url,
            label,
        } => {
            writeln!(out, " {} {}", paint.gutter("-->"), esc(subject))?;
            if !label.is_empty() {
                notes.insert(0, esc(label).into_owned());
            }
            for related in &f.related {
                notes.push(related_note(related));
            }
            if let Some(url) = url {
                notes.push(format!("change it at {}", esc(url)));
            }
            write_notes(paint, f, notes, " ", out)
        }
    }
}

fn related_note(location: &Location) -> String {
    match location {
        Location::File { .. } => match location_region(location) {
            Some((file, region)) => {
                let label = esc(location.label());
                let sep = if label.is_empty() { "" } else { ": " };
                format!(
                    "{}:{}:{}{sep}{label}",
                    esc(&file.path),
                    region.start.line,
                    region.start.column
                )
            }
            None => esc(location.path()).into_owned(),
        },
        Location::Setting {
            subject,
            url,
            label,
        } => {
            let mut s = esc(subject).into_owned();
            if !label.is_empty() {
                s.push_str(&format!(": {}", esc(label)));
            }
            if let Some(url) = url {
                s.push_str(&format!(" ({})", esc(url)));
            }
            s
        }
    }
}

fn write_snippet(
    paint: &Paint,
    file: &SourceFile,
    marks: &mut [Mark],
    severity: Severity,
    pad: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    marks.sort_by_key(|m| (m.line, !m.primary, m.start));
    let bar = paint.gutter("|");
    writeln!(out, "{pad} {bar}")?;
    let mut previous: Option<usize> = None;
    let mut i = 0;
    while i < marks.len() {
        let line = marks[i].line;
        let group_end = marks[i..]
            .iter()
            .position(|m| m.line != line)
            .map_or(marks.len(), |n| i + n);
        if let Some(prev) = previous
            && line > prev + 1
        {
            writeln!(out, "{}", paint.gutter("..."))?;
        }
        let (lo, shown, columns) = windowed_line(file.line_text(line), &marks[i..group_end]);
        let number = format!("{line:>width$}", width = pad.len());
        writeln!(out, "{} {bar} {}", paint.gutter(&number), shown.trim_end())?;
        let mut continues = false;
        for m in &marks[i..group_end] {
            let last = columns.len() - 1;
            let from = columns[m.start.saturating_sub(lo).min(last)];
            let to = columns[m.end.saturating_sub(lo).min(last)].max(from + 1);
            let glyph = if m.primary { "^" } else { "-" };
            let underline = glyph.repeat(to - from);
            let label = if m.label.is_empty() {
                String::new()
            } else {
                format!(" {}", m.label)
            };
            let text = format!("{underline}{label}");
            let painted = if m.primary {
                paint.severity(severity, &text)
            } else {
                paint.gutter(&text)
            };
            writeln!(out, "{pad} {bar} {}{painted}", " ".repeat(from))?;
            continues |= m.continues;
        }
        let next_line = marks.get(group_end).map(|m| m.line);
        if continues && next_line != Some(line + 1) {
            writeln!(out, "{pad} {bar} ...")?;
        }
        previous = Some(line);
        i = group_end;
    }
    writeln!(out, "{pad} {bar}")
}

fn write_notes(
    paint: &Paint,
    f: &Finding,
    notes: Vec<String>,
    pad: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let eq = paint.gutter("=");
    for note in notes {
        writeln!(out, "{pad} {eq} note: {note}")?;
    }
    for fix in &f.fixes {
        match fix.applicability {
            Applicability::Safe | Applicability::Unsafe => {
                writeln!(
                    out,
                    "{pad} {eq} help: fix available: {} ({})",
                    esc(&fix.title),
                    fix.applicability
                )?;
            }
            Applicability::DisplayOnly => {
                writeln!(out, "{pad} {eq} help: suggestion: {}", esc(&fix.title))?
            }
        }
    }
    if !f.chain.is_empty() {
        writeln!(
            out,
            "{pad} {eq} help: reached through {}",
            esc(&f.chain.join(" -> "))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::finding::Finding;
    use crate::output::RenderOptions;
    use crate::route::Route;
    use crate::source::{FileKind, Span};

    fn meta() -> &'static crate::audit::AuditMeta {
        crate::audits::all()[0].meta()
    }

    fn render_one(text: &str, needle: &str, label: &str) -> String {
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let start = text.find(needle).unwrap();
        let loc = Location::file(
            &file,
            Span::new(start, start + needle.len()),
            Route::root(),
            label,
        );
        let report = Report {
            findings: vec![Finding::new(meta(), "bad thing", loc)],
            files_audited: 1,
            ..Default::default()
        };
        let mut out = Vec::new();
        render(&report, &RenderOptions::default(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The caret row must start exactly below the needle in the rendered source row.
    fn assert_aligned(rendered: &str, needle_shown: &str) {
        let lines: Vec<&str> = rendered.lines().collect();
        let src = lines.iter().position(|l| l.contains(needle_shown)).unwrap();
        let carets = lines[src + 1];
        let want = lines[src].find(needle_shown).unwrap();
        let src_col = lines[src][..want].chars().count();
        let caret_col = carets
            .find('^')
            .map(|i| carets[..i].chars().count())
            .unwrap();
        assert_eq!(src_col, caret_col, "\n{rendered}");
        let n = carets.chars().filter(|c| *c == '^').count();
        assert_eq!(n, needle_shown.chars().count(), "\n{rendered}");
    }

    #[test]
    fn carets_align_after_non_ascii() {
        let out = render_one(
            "jobs: {a: {name: \"Café ☕ 日本\", uses: x/y@v1}}\n",
            "x/y@v1",
            "here",
        );
        assert_aligned(&out, "x/y@v1");
        assert!(out.contains(" --> w.yml:1:"), "{out}");
    }

    #[test]
    fn control_characters_in_messages_and_lines_are_not_printed() {
        let text = "jobs: {a: {uses: \"x/y@v1\\n::error::f\u{1b}[2J\u{202e}\"}}\n";
        let out = render_one(text, "x/y@v1", "label\n::error::g");
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out}");
        assert!(!out.contains('\u{202e}'), "{out}");
        assert!(!out.lines().any(|l| l.starts_with("::")), "{out}");
        assert!(out.contains("label\\n::error::g"), "{out}");
    }

    #[test]
    fn long_lines_are_shown_around_the_mark() {
        let pad = "a ".repeat(50_000);
        let text = format!("run: {pad}curl x | sh {pad}\n");
        let out = render_one(&text, "curl x | sh", "here");
        assert!(out.len() < 2_000, "{} bytes", out.len());
        assert!(
            out.contains("| …a a") && out.contains("a a curl x | sh a a"),
            "{out}"
        );
        assert!(out.contains("a a …\n"), "{out}");
        assert_aligned(&out, "curl x | sh");
        // A short line is shown whole, as before.
        let out = render_one("run: curl x | sh\n", "curl x | sh", "here");
        assert!(out.contains(" | run: curl x | sh\n"), "{out}");
    }

    #[test]
    fn carets_align_after_tabs() {
        let out = render_one("jobs: {a: {name: x,\t\tuses: x/y@v1}}\n", "x/y@v1", "here");
        assert!(!out.contains('\t'));
        assert_aligned(&out, "x/y@v1");
    }

    #[test]
    fn crlf_is_not_shown_and_carets_align() {
        let out = render_one(
            "on: push\r\njobs:\r\n  a:\r\n    uses: ö/y@v1\r\n",
            "ö/y@v1",
            "here",
        );
        assert!(!out.contains('\r'));
        assert_aligned(&out, "ö/y@v1");
        assert!(out.contains(" --> w.yml:4:11"), "{out}");
    }

    #[test]
    fn multi_line_spans_show_their_first_line() {
        let text = "jobs:\n  a:\n    run: |\n      one\n      two\n      three\n";
        let out = render_one(
            text,
            "|\n      one\n      two\n      three\n",
            "this script",
        );
        assert!(out.contains("    run: |"), "{out}");
        assert!(!out.contains("three"), "{out}");
        assert!(out.contains("^ this script"), "{out}");
        assert!(out.contains("| ..."), "{out}");
    }

    #[test]
    fn multi_line_underlines_stop_before_a_comment() {
        let text = "steps:\n  - uses: a/b@v1 # v1.2.3\n    with: {x: 1}\n";
        let out = render_one(text, "uses: a/b@v1 # v1.2.3\n    with: {x: 1}", "this step");
        assert!(out.contains("^^^^^^^^^^^^ this step"), "{out}");
        assert!(!out.contains("^^^^^^^^^^^^^"), "{out}");
    }

    #[test]
    fn colour_only_when_asked() {
        let out = render_one("a: b\n", "b", "x");
        assert!(!out.contains('\x1b'));
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            "a: b\n".to_owned(),
        ));
        let loc = Location::file(&file, Span::new(3, 4), Route::root(), "x");
        let report = Report {
            findings: vec![Finding::new(meta(), "m", loc)],
            ..Default::default()
        };
        let mut colored = Vec::new();
        render(&report, &RenderOptions { color: true }, &mut colored).unwrap();
        assert!(String::from_utf8(colored).unwrap().contains("\x1b["));
    }

    #[test]
    fn summary_counts() {
        let report = Report {
            files_audited: 1,
            ..Default::default()
        };
        assert_eq!(
            summary(&report, &crate::output::Tally::of(&report.findings)),
            "no findings, 0 suppressed, 1 file audited"
        );
    }
}
