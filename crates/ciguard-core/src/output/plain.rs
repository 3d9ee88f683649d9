//! rustc-style annotated snippets for people.
//!
//! ```text
//! high[unpinned-uses]: actions/checkout is pinned to a tag or branch, which can be moved
//!   --> .github/workflows/ci.yml:9:15
//!    |
//!  9 |       - uses: actions/checkout@v4
//!    |               ^^^^^^^^^^^^^^^^^^^ not pinned to a commit SHA
//!    |
//!    = help: see `ciguard explain unpinned-uses` or https://github.com/ciguard/ciguard/blob/main/docs/audits/unpinned-uses.md
//!
//! 1 finding (1 high, 0 medium, 0 low, 0 informational), 0 suppressed, 1 file audited
//! ```
//!
//! A span over several lines is drawn as rustc draws it, with a bracket in the margin from
//! its first line to its last. Long lines are elided to the terminal's width (a fixed width
//! when stdout is not a terminal, so piped output is the same everywhere).
//!
//! Diagnostics (files that could not be audited) are not part of this output: the binary writes
//! them to stderr, so stdout carries only findings. The summary counts the files not audited.

use std::io::{self, Write};

use super::escape::text as esc;
use super::location_region;
use crate::diagnostic::Level;
use crate::finding::{Applicability, Confidence, Finding, Location, Severity};
use crate::report::Report;
use crate::source::SourceFile;

/// Columns a tab takes in the rendered snippet.
const TAB_WIDTH: usize = 4;
/// Source lines longer than this (in characters) are shown as a window around the marks, so a
/// finding on a megabyte-long line does not print the megabyte.
const MAX_SHOWN_CHARS: usize = 240;
/// How much of a long line is shown before the first mark.
const CONTEXT_CHARS: usize = 40;
/// However narrow the terminal, this much of a line is shown.
const MIN_SHOWN_CHARS: usize = 20;

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
        write_finding(&paint, opts, finding, out)?;
        writeln!(out)?;
    }
    Ok(())
}

/// The notes and the summary line, after the last finding (neither when quiet).
pub(super) fn finish(
    opts: &super::RenderOptions,
    report: &Report,
    tally: &super::Tally,
    out: &mut dyn Write,
) -> io::Result<()> {
    if opts.quiet {
        return Ok(());
    }
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

/// One underline below a source line, or for a multi-line primary span a bracket in the margin
/// from its first line to its last (as rustc draws them).
struct Mark {
    line: usize,
    /// Character columns on `line`, 0-based, `start < end`.
    start: usize,
    end: usize,
    /// For a span drawn over several lines: its last line and the character column just after
    /// its last character there.
    last: Option<(usize, usize)>,
    primary: bool,
    label: String,
}

impl Mark {
    fn overlaps(&self, other: &Mark) -> bool {
        self.line == other.line && self.start < other.end && other.start < self.end
    }
}

/// The mark of a location. Only a primary span is drawn across lines; a secondary one that
/// goes on is underlined on its first line, up to the line's content before any comment.
fn mark(file: &SourceFile, location: &Location, primary: bool) -> Option<Mark> {
    let (_, region) = location_region(location)?;
    let line_chars = file.line_text(region.start.line).chars().count();
    let start = region.start.column - 1;
    let multi_line = region.end.line > region.start.line;
    let last = (multi_line && primary).then(|| (region.end.line, region.end.column - 1));
    let end = if multi_line {
        content_end(file.line_text(region.start.line), start)
    } else {
        region.end.column - 1
    };
    let end = end.min(line_chars).max(start + 1);
    Some(Mark {
        line: region.start.line,
        start,
        end,
        last,
        primary,
        label: esc(location.label()).into_owned(),
    })
}

/// The character column where a line's content ends, before any trailing comment.
fn content_end(text: &str, start: usize) -> usize {
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

/// The part of a line shown when its first mark starts at character `first`: the whole line
/// when it has at most `max` characters, else a window of `max` from a little before the
/// mark, elided with `…`. Returns the first character shown, the text and the display column
/// of each shown character (see [`display_line`]).
fn windowed_line(text: &str, first: usize, max: usize) -> (usize, String, Vec<usize>) {
    let total = text.chars().count();
    if total <= max {
        let (shown, columns) = display_line(text);
        return (0, shown, columns);
    }
    let context = CONTEXT_CHARS.min(max / 4);
    let lo = first.saturating_sub(context).min(total);
    let hi = (lo + max).min(total);
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

fn write_finding(
    paint: &Paint,
    opts: &super::RenderOptions,
    f: &Finding,
    out: &mut dyn Write,
) -> io::Result<()> {
    let header = paint.severity(f.severity, &format!("{}[{}]", f.severity, f.audit_id()));
    writeln!(out, "{header}: {}", paint.bold(&esc(&f.message)))?;
    let mut notes: Vec<String> = Vec::new();
    match &f.primary {
        Location::File { file, .. } => {
            let primary = mark(file, &f.primary, true);
            let mut marks: Vec<Mark> = Vec::new();
            for related in &f.related {
                let repeats_primary = related.path() == f.primary.path()
                    && related.span() == f.primary.span()
                    && related.label() == f.primary.label();
                if repeats_primary {
                    continue;
                }
                match related {
                    Location::File { file: other, .. } if other.path == file.path => {
                        match mark(file, related, false) {
                            // Drawn over the primary range it would hide it: a note instead.
                            Some(m) if primary.as_ref().is_some_and(|p| p.overlaps(&m)) => {
                                notes.push(related_note(related));
                            }
                            Some(m) => marks.push(m),
                            None => {}
                        }
                    }
                    _ => notes.push(related_note(related)),
                }
            }
            marks.extend(primary);
            let (_, region) = location_region(&f.primary)
                .unwrap_or((file, super::region(file, Default::default())));
            let width = marks
                .iter()
                .map(|m| m.last.map_or(m.line, |(l, _)| l))
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
            let snippet = Snippet {
                paint,
                file,
                severity: f.severity,
                pad: &pad,
                max_chars: shown_chars(opts.width, width),
            };
            snippet.write(&mut marks, out)?;
            write_notes(paint, opts, f, notes, &pad, out)
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
            write_notes(paint, opts, f, notes, " ", out)
        }
    }
}

/// Characters of a source line shown: [`MAX_SHOWN_CHARS`] when the width is not known (output
/// that is not a terminal stays the same everywhere), else what fits beside the gutter.
fn shown_chars(terminal_width: Option<usize>, number_width: usize) -> usize {
    match terminal_width {
        // The gutter, a margin for multi-line spans and the two `…`.
        Some(w) => w
            .saturating_sub(number_width + 3 + 2 + 2)
            .max(MIN_SHOWN_CHARS),
        None => MAX_SHOWN_CHARS,
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

/// How one finding's source lines are drawn.
struct Snippet<'a> {
    paint: &'a Paint,
    file: &'a SourceFile,
    severity: Severity,
    pad: &'a str,
    max_chars: usize,
}

/// Inner lines of a multi-line span shown whole; longer spans show their first and last lines
/// with `...` between.
const MAX_INNER_LINES: usize = 3;

impl Snippet<'_> {
    fn write(&self, marks: &mut [Mark], out: &mut dyn Write) -> io::Result<()> {
        marks.sort_by_key(|m| (m.line, !m.primary, m.start));
        let span = marks
            .iter()
            .find_map(|m| m.last.map(|(l, c)| (m.line, l, c)));
        let mut lines: Vec<usize> = marks.iter().map(|m| m.line).collect();
        if let Some((first, last, _)) = span {
            lines.push(last);
            if last - first - 1 <= MAX_INNER_LINES {
                lines.extend(first + 1..last);
            }
        }
        lines.sort_unstable();
        lines.dedup();
        let bar = self.paint.gutter("|");
        writeln!(out, "{} {bar}", self.pad)?;
        let mut previous: Option<usize> = None;
        for line in lines {
            if previous.is_some_and(|p| line > p + 1) {
                writeln!(out, "{}", self.paint.gutter("..."))?;
            }
            previous = Some(line);
            // The margin holds the bracket of a multi-line span, on the lines it covers.
            let inside = span.is_some_and(|(first, last, _)| first < line && line <= last);
            let margin = match span {
                None => String::new(),
                Some(_) if inside => format!("{} ", self.paint.severity(self.severity, "|")),
                Some(_) => "  ".to_owned(),
            };
            let on_line: Vec<&Mark> = marks.iter().filter(|m| m.line == line).collect();
            let first = on_line.iter().map(|m| m.start).min().unwrap_or(0);
            let (lo, shown, columns) =
                windowed_line(self.file.line_text(line), first, self.max_chars);
            let number = format!("{line:>width$}", width = self.pad.len());
            let text = format!("{margin}{shown}");
            writeln!(
                out,
                "{} {bar} {}",
                self.paint.gutter(&number),
                text.trim_end()
            )?;
            let col = |c: usize| columns[c.saturating_sub(lo).min(columns.len() - 1)];
            for m in &on_line {
                let from = col(m.start);
                if m.last.is_some() {
                    // rustc's ` ____^` from the margin to where the span starts.
                    let opening = format!(" {}^", "_".repeat(from + 1));
                    let opening = self.paint.severity(self.severity, &opening);
                    writeln!(out, "{} {bar} {opening}", self.pad)?;
                    continue;
                }
                let to = col(m.end).max(from + 1);
                let glyph = if m.primary { "^" } else { "-" };
                let label = if m.label.is_empty() {
                    String::new()
                } else {
                    format!(" {}", m.label)
                };
                let text = format!("{}{label}", glyph.repeat(to - from));
                let painted = if m.primary {
                    self.paint.severity(self.severity, &text)
                } else {
                    self.paint.gutter(&text)
                };
                writeln!(
                    out,
                    "{} {bar} {margin}{}{painted}",
                    self.pad,
                    " ".repeat(from)
                )?;
            }
            if let Some((_, _, end)) = span.filter(|(_, last, _)| *last == line) {
                let caret = col(end.max(1) - 1);
                let label = marks
                    .iter()
                    .find(|m| m.last.is_some())
                    .map_or("", |m| m.label.as_str());
                let sep = if label.is_empty() { "" } else { " " };
                let closing = format!("|{}^{sep}{label}", "_".repeat(caret + 1));
                writeln!(
                    out,
                    "{} {bar} {}",
                    self.pad,
                    self.paint.severity(self.severity, &closing)
                )?;
            }
        }
        writeln!(out, "{} {bar}", self.pad)
    }
}

fn write_notes(
    paint: &Paint,
    opts: &super::RenderOptions,
    f: &Finding,
    mut notes: Vec<String>,
    pad: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let eq = paint.gutter("=");
    if f.confidence != Confidence::High {
        notes.insert(0, format!("{} confidence", f.confidence));
    }
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
    let url = super::audit_docs_url(f.audit_id());
    let url = if opts.hyperlinks {
        hyperlink(&url, &url)
    } else {
        url
    };
    writeln!(
        out,
        "{pad} {eq} help: see `ciguard explain {}` or {url}",
        f.audit_id()
    )
}

/// An OSC 8 hyperlink, which terminals that support it make clickable (others show `text`).
/// Only ciguard's own addresses are linked: input text never reaches the escape sequence.
fn hyperlink(url: &str, text: &str) -> String {
    format!("\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\")
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

    /// Renders one finding at `primary` with `related` locations (needle, label) in the same
    /// file.
    fn render_with(
        text: &str,
        primary: (&str, &str),
        related: &[(&str, &str)],
        opts: &RenderOptions,
    ) -> String {
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let at = |(needle, label): (&str, &str)| {
            let start = text.find(needle).unwrap();
            Location::file(
                &file,
                Span::new(start, start + needle.len()),
                Route::root(),
                label,
            )
        };
        let mut finding = Finding::new(meta(), "bad thing", at(primary));
        for r in related {
            finding = finding.related(at(*r));
        }
        let report = Report {
            findings: vec![finding],
            files_audited: 1,
            ..Default::default()
        };
        let mut out = Vec::new();
        render(&report, opts, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn multi_line_spans_are_drawn_like_rustc() {
        let text = "jobs:\n  a:\n    run: |\n      one\n      two\n      three\n";
        let out = render_one(
            text,
            "|\n      one\n      two\n      three\n",
            "this script",
        );
        let want = "3 |       run: |\n  |  __________^\n4 | |       one\n5 | |       two\n6 | |       three\n  | |___________^ this script\n";
        assert!(out.contains(want), "{out}");
        assert!(!out.contains("| ..."), "no dangling `| ...`:\n{out}");
    }

    #[test]
    fn long_multi_line_spans_show_their_ends() {
        let body: String = (1..=9).map(|i| format!("      line{i}\n")).collect();
        let text = format!("jobs:\n  a:\n    run: |\n{body}");
        let out = render_one(&text, &text[text.find('|').unwrap()..], "this script");
        assert!(out.contains(" 3 |       run: |\n   |  __________^\n...\n12 | |       line9\n   | |___________^ this script\n"), "{out}");
        assert!(!out.contains("line5"), "{out}");
    }

    #[test]
    fn secondary_multi_line_underlines_stop_before_a_comment() {
        let text = "steps:\n  - uses: a/b@v1 # v1.2.3\n    with: {x: 1}\n  - run: x\n";
        let out = render_with(
            text,
            ("run: x", "here"),
            &[("uses: a/b@v1 # v1.2.3\n    with: {x: 1}", "this step")],
            &RenderOptions::default(),
        );
        assert!(out.contains("|     ------------ this step\n"), "{out}");
        assert!(!out.contains("-------------"), "{out}");
        assert!(!out.contains("| ..."), "{out}");
    }

    #[test]
    fn secondary_labels_are_never_drawn_over_the_primary() {
        let text = "steps:\n  - run: curl x | sh\n";
        let opts = RenderOptions::default();
        // The same span and label as the primary: shown once.
        let out = render_with(
            text,
            ("curl x", "downloaded"),
            &[("curl x", "downloaded")],
            &opts,
        );
        assert_eq!(out.matches("downloaded").count(), 1, "{out}");
        assert!(!out.contains("---"), "{out}");
        // Overlapping with another label: a note, not an underline over the carets.
        let out = render_with(
            text,
            ("curl x | sh", "runs"),
            &[("curl x", "downloaded")],
            &opts,
        );
        assert!(!out.contains("---"), "{out}");
        assert!(out.contains("= note: w.yml:2:10: downloaded\n"), "{out}");
        // Beside it on the same line: drawn.
        let out = render_with(text, ("curl x", "downloaded"), &[("sh", "runs")], &opts);
        assert!(out.contains("                -- runs\n"), "{out}");
    }

    #[test]
    fn long_lines_fit_the_terminal() {
        let pad = "a ".repeat(200);
        let text = format!("run: {pad}curl x | sh {pad}\n");
        let narrow = RenderOptions {
            width: Some(60),
            ..Default::default()
        };
        let out = render_with(&text, ("curl x | sh", "here"), &[], &narrow);
        let source = out.lines().find(|l| l.contains("curl x | sh")).unwrap();
        assert!(source.chars().count() <= 60, "{source}");
        assert_aligned(&out, "curl x | sh");
        // Without a terminal the window is the fixed one, whatever the width.
        let out = render_with(
            &text,
            ("curl x | sh", "here"),
            &[],
            &RenderOptions::default(),
        );
        let source = out.lines().find(|l| l.contains("curl x | sh")).unwrap();
        assert_eq!(source.chars().count(), MAX_SHOWN_CHARS + 2 + 4, "{source}");
    }

    #[test]
    fn findings_point_at_their_docs_and_say_when_confidence_is_not_high() {
        let out = render_one("a: b\n", "b", "x");
        let id = meta().id;
        let url = crate::output::audit_docs_url(id);
        assert!(
            out.contains(&format!("= help: see `ciguard explain {id}` or {url}\n")),
            "{out}"
        );
        assert_eq!(
            out.contains("confidence"),
            meta().confidence != Confidence::High,
            "{out}"
        );
        assert!(!out.contains("\x1b]8;"), "{out}");
        let linked = RenderOptions {
            hyperlinks: true,
            ..Default::default()
        };
        let out = render_with("a: b\n", ("b", "x"), &[], &linked);
        assert!(
            out.contains(&format!("\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\")),
            "{out}"
        );
    }

    #[test]
    fn quiet_prints_findings_only() {
        let quiet = RenderOptions {
            quiet: true,
            ..Default::default()
        };
        let out = render_with("a: b\n", ("b", "x"), &[], &quiet);
        assert!(out.contains("bad thing"), "{out}");
        assert!(!out.contains("file audited"), "{out}");
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
        render(
            &report,
            &RenderOptions {
                color: true,
                ..Default::default()
            },
            &mut colored,
        )
        .unwrap();
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
