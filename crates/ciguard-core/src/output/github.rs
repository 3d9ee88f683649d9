//! GitHub Actions workflow commands: `::error file=...,line=...::message`, which the runner turns
//! into annotations on the run and on the pull request's diff, and the Markdown table written to
//! the job's step summary.
//!
//! GitHub shows at most 10 annotations of each kind (error, warning, notice) per step and 50 per
//! job; the rest are dropped silently, so the output begins with a notice saying how many will
//! not be shown (community discussions 26680 and 68471 describe the limits).

use std::io::{self, Write};

use super::escape::text as esc;
use super::location_region;
use crate::diagnostic::{Diagnostic, Level};
use crate::finding::{Finding, Location, Severity};
use crate::plural::count;
use crate::report::Report;

/// Annotations of one kind GitHub shows per step.
pub const PER_STEP_AND_KIND: usize = 10;
/// Annotations GitHub shows per job.
pub const PER_JOB: usize = 50;

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut stream = Stream::default();
    stream.findings(&report.findings)?;
    stream.finish(report, out)
}

/// The annotations of a streamed report. The limits note comes first and counts every
/// annotation, and the diagnostics come before the findings, so the findings' annotations are
/// held until the end: in memory while they are few, then in an unnamed temporary file, so
/// the output is the same as a whole report's and memory does not grow with the findings.
#[derive(Default)]
pub(super) struct Stream {
    /// `[errors, warnings, notices]` of the findings so far.
    counts: [usize; 3],
    held: Held,
}

/// Bytes of annotations kept in memory before they go to a temporary file.
const HELD_IN_MEMORY: usize = 1 << 20;

#[derive(Default)]
struct Held {
    memory: Vec<u8>,
    /// Once `memory` outgrew [`HELD_IN_MEMORY`] (when a temporary file can be made).
    file: Option<io::BufWriter<std::fs::File>>,
}

impl Held {
    fn writer(&mut self) -> &mut dyn Write {
        if self.file.is_none() && self.memory.len() > HELD_IN_MEMORY {
            // No temporary file (a read-only system): memory it is.
            if let Ok(mut file) = tempfile::tempfile()
                && file.write_all(&self.memory).is_ok()
            {
                self.memory = Vec::new();
                self.file = Some(io::BufWriter::with_capacity(1 << 16, file));
            }
        }
        match &mut self.file {
            Some(file) => file,
            None => &mut self.memory,
        }
    }

    /// Everything held, in order.
    fn copy_to(self, out: &mut dyn Write) -> io::Result<()> {
        if let Some(file) = self.file {
            let mut file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
            io::Seek::seek(&mut file, io::SeekFrom::Start(0))?;
            io::copy(&mut file, out)?;
        }
        out.write_all(&self.memory)
    }
}

impl Stream {
    pub(super) fn findings(&mut self, findings: &[Finding]) -> io::Result<()> {
        for f in findings {
            self.counts[kind_index(command(f.severity))] += 1;
        }
        write_findings(self.held.writer(), findings)
    }

    /// The limits note, the report's diagnostics, then the findings' annotations.
    pub(super) fn finish(self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        let mut counts = self.counts;
        for d in &report.diagnostics {
            counts[kind_index(diagnostic_command(d.level))] += 1;
        }
        if let Some(note) = limits_note(counts) {
            write_command(out, "notice", &[("title", "ciguard".to_owned())], &note)?;
        }
        for d in &report.diagnostics {
            write_diagnostic(out, d)?;
        }
        self.held.copy_to(out)
    }
}

fn diagnostic_command(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
    }
}

fn kind_index(command: &str) -> usize {
    match command {
        "error" => 0,
        "warning" => 1,
        _ => 2,
    }
}

fn write_diagnostic(out: &mut dyn Write, d: &Diagnostic) -> io::Result<()> {
    let command = diagnostic_command(d.level);
    let mut props = vec![("file", esc(&d.path).into_owned())];
    if let Some(line) = d.line {
        props.push(("line", line.to_string()));
    }
    if let Some(column) = d.column {
        props.push(("col", column.to_string()));
    }
    props.push(("title", "ciguard".to_owned()));
    let mut message = esc(&d.message).into_owned();
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {}", esc(help)));
    }
    write_command(out, command, &props, &message)
}

fn write_findings(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        write_finding(out, f)?;
    }
    Ok(())
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "notice",
    }
}

/// What GitHub will not show, when the report exceeds its per-step or per-job limits.
fn limits_note([errors, warnings, notices]: [usize; 3]) -> Option<String> {
    // This note is a notice itself.
    let notices = notices + 1;
    let shown_per_kind: usize = [errors, warnings, notices]
        .iter()
        .map(|n| (*n).min(PER_STEP_AND_KIND))
        .sum();
    let dropped = errors + warnings + notices - shown_per_kind.min(PER_JOB);
    if dropped == 0 {
        return None;
    }
    Some(format!(
        "{} ({errors} {}, {warnings} {}, {notices} {}): GitHub shows {PER_STEP_AND_KIND} of each \
         kind per step and {PER_JOB} per job, so {dropped} will not appear as annotations; \
         they are all in this step's log, and in its summary when GITHUB_STEP_SUMMARY is set \
         (or upload --format sarif to code scanning)",
        count(errors + warnings + notices, "annotation", "annotations"),
        if errors == 1 { "error" } else { "errors" },
        if warnings == 1 { "warning" } else { "warnings" },
        if notices == 1 { "notice" } else { "notices" },
    ))
}

/// Rows of the step summary table; GitHub caps a step's summary at 1 MiB.
const MAX_SUMMARY_ROWS: usize = 1000;

/// A Markdown table of the findings for `$GITHUB_STEP_SUMMARY`, every input text escaped so a
/// file name or message cannot add markup, links, mentions or HTML.
pub fn step_summary(report: &Report) -> String {
    let mut summary = StepSummary::default();
    summary.add(&report.findings);
    summary.markdown(report, &super::Tally::of(&report.findings))
}

/// The step summary of a streamed report: its first rows, and how many findings there were.
#[derive(Debug, Default)]
pub struct StepSummary {
    rows: String,
    findings: usize,
}

impl StepSummary {
    pub fn add(&mut self, findings: &[Finding]) {
        for f in findings {
            self.findings += 1;
            if self.findings > MAX_SUMMARY_ROWS {
                continue;
            }
            let location = match location_region(&f.primary) {
                Some((file, region)) => format!("{}:{}", file.path, region.start.line),
                None => f.primary.path().to_owned(),
            };
            self.rows.push_str(&format!(
                "| {} | [{}]({}) | {} | {} |\n",
                f.severity,
                f.audit_id(),
                super::audit_docs_url(f.audit_id()),
                md_text(&location),
                md_text(&f.message)
            ));
        }
    }

    /// The Markdown: the summary line of `report` (whose findings were `tally`), then the table.
    pub fn markdown(&self, report: &Report, tally: &super::Tally) -> String {
        let mut md = String::from("## ciguard\n\n");
        md.push_str(&md_text(&super::plain::summary(report, tally)));
        md.push_str("\n\n");
        if self.findings == 0 {
            return md;
        }
        md.push_str("| Severity | Audit | Location | Finding |\n|---|---|---|---|\n");
        md.push_str(&self.rows);
        if self.findings > MAX_SUMMARY_ROWS {
            md.push_str(&format!(
                "\n{} more not listed\n",
                self.findings - MAX_SUMMARY_ROWS
            ));
        }
        md
    }
}

/// Text for a Markdown table cell: control characters escaped, every ASCII punctuation
/// character backslash-escaped (so no markup, link, HTML tag or `|` survives) and `@` kept from
/// mentioning anyone.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in esc(s).chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn write_finding(out: &mut dyn Write, f: &Finding) -> io::Result<()> {
    let mut props = Vec::new();
    // Input text is escaped piece by piece; the line breaks added here are the only real ones.
    let mut message = esc(&f.message).into_owned();
    match &f.primary {
        Location::File { .. } => {
            if let Some((file, region)) = location_region(&f.primary) {
                props.push(("file", esc(&file.path).into_owned()));
                props.push(("line", region.start.line.to_string()));
                props.push(("col", region.start.column.to_string()));
                props.push(("endLine", region.end.line.to_string()));
                // GitHub's endColumn is the last column of the annotation, inclusive.
                let end = region.end.column.saturating_sub(1).max(1);
                if region.end.line > region.start.line || end >= region.start.column {
                    props.push(("endColumn", end.to_string()));
                }
            }
        }
        Location::Setting { subject, url, .. } => {
            message = format!("{}: {message}", esc(subject));
            if let Some(url) = url {
                message.push_str(&format!("\n{}", esc(url)));
            }
        }
    }
    props.push(("title", format!("ciguard ({})", f.audit_id())));
    let label = esc(f.primary.label());
    if !label.is_empty() {
        message.push_str(&format!("\n{label}"));
    }
    if !f.chain.is_empty() {
        let chain = f.chain.join(" -> ");
        message.push_str(&format!("\nreached through {}", esc(&chain)));
    }
    write_command(out, command(f.severity), &props, &message)
}

fn write_command(
    out: &mut dyn Write,
    command: &str,
    props: &[(&str, String)],
    message: &str,
) -> io::Result<()> {
    let props = props
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect::<Vec<_>>()
        .join(",");
    let sep = if props.is_empty() { "" } else { " " };
    writeln!(out, "::{command}{sep}{props}::{}", escape_data(message))
}

/// Escaping of a command's message, as the runner expects it.
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping of a command's property values, which also may not contain `:` or `,`.
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_runner() {
        assert_eq!(
            escape_data("50% done\r\nnext: a,b"),
            "50%25 done%0D%0Anext: a,b"
        );
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    /// Input text cannot end the command early or start a line of its own.
    #[test]
    fn input_cannot_forge_a_command() {
        use std::sync::Arc;

        use crate::route::Route;
        use crate::source::{FileKind, SourceFile, Span};

        let file = Arc::new(SourceFile::new(
            "a\n::error::name\u{1b}[2J.yml",
            FileKind::Workflow,
            "on: push\n".to_owned(),
        ));
        let meta = crate::audits::all()[0].meta();
        let loc = Location::file(
            &file,
            Span::new(0, 2),
            Route::root(),
            "x\r\n::warning::label",
        );
        let finding = Finding::new(meta, "uses evil/y@v1\n::error::forged", loc);
        let mut out = Vec::new();
        write_finding(&mut out, &finding).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text}");
        assert!(text.contains("evil/y@v1\\n::error::forged"), "{text}");
        assert!(
            text.contains("file=a\\n%3A%3Aerror%3A%3Aname\\x1b[2J.yml"),
            "{text}"
        );
    }

    #[test]
    fn commands_by_severity() {
        assert_eq!(command(Severity::High), "error");
        assert_eq!(command(Severity::Medium), "warning");
        assert_eq!(command(Severity::Low), "notice");
        assert_eq!(command(Severity::Informational), "notice");
    }

    fn report_of(severities: &[Severity], message: &str) -> Report {
        use std::sync::Arc;

        use crate::route::Route;
        use crate::source::{FileKind, SourceFile, Span};

        let file = Arc::new(SourceFile::new(
            "w|<b>.yml",
            FileKind::Workflow,
            "on: push\n".to_owned(),
        ));
        let meta = crate::audits::all()[0].meta();
        let findings = severities
            .iter()
            .map(|s| {
                let loc = Location::file(&file, Span::new(0, 2), Route::root(), "");
                let mut f = Finding::new(meta, message, loc);
                f.severity = *s;
                f
            })
            .collect();
        Report {
            findings,
            files_audited: 1,
            ..Default::default()
        }
    }

    fn rendered(report: &Report) -> String {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_note_says_when_annotations_will_be_dropped() {
        // 10 errors, 10 warnings and 9 notices (+ none needed): all shown, no note.
        let mut severities = vec![Severity::High; 10];
        severities.extend([Severity::Medium; 10]);
        severities.extend([Severity::Low; 8]);
        let text = rendered(&report_of(&severities, "m"));
        assert!(!text.contains("will not appear"), "{text}");
        assert_eq!(text.lines().count(), 28);
        // An eleventh error is dropped.
        severities.push(Severity::High);
        let text = rendered(&report_of(&severities, "m"));
        let first = text.lines().next().unwrap();
        assert!(first.starts_with("::notice title=ciguard::"), "{first}");
        assert!(
            first.contains("30 annotations (11 errors, 10 warnings, 9 notices)")
                && first.contains("so 1 will not appear"),
            "{first}"
        );
        // Past 50 per job, even spread across kinds.
        let text = rendered(&report_of(&[Severity::Low; 60], "m"));
        assert!(text.contains("so 51 will not appear"), "{text}");
    }

    /// Enough findings that the held annotations go to a temporary file, given in small
    /// batches: the output is the whole report's, limits note and diagnostics first.
    #[test]
    fn streamed_annotations_past_the_memory_bound_are_the_whole_reports() {
        let long = "m".repeat(500);
        let mut report = report_of(&vec![Severity::Low; 3000], &long);
        report.diagnostics.push(crate::diagnostic::Diagnostic::file(
            Level::Error,
            "bad.yml",
            "not YAML".to_owned(),
        ));
        let mut stream = Stream::default();
        for batch in report.findings.chunks(7) {
            stream.findings(batch).unwrap();
        }
        assert!(stream.held.file.is_some(), "spilled to a temporary file");
        let mut streamed = Vec::new();
        stream.finish(&report, &mut streamed).unwrap();
        let whole = rendered(&report);
        assert!(whole.len() > HELD_IN_MEMORY);
        assert_eq!(String::from_utf8(streamed).unwrap(), whole);
        let mut lines = whole.lines();
        assert!(lines.next().unwrap().contains("3002 annotations"));
        assert!(lines.next().unwrap().starts_with("::error file=bad.yml"));
    }

    #[test]
    fn a_streamed_step_summary_keeps_its_first_rows_and_counts_the_rest() {
        let report = report_of(&vec![Severity::High; MAX_SUMMARY_ROWS + 5], "m");
        let mut summary = StepSummary::default();
        for batch in report.findings.chunks(64) {
            summary.add(batch);
        }
        let tally = super::super::Tally::of(&report.findings);
        let md = summary.markdown(&report, &tally);
        assert_eq!(md, step_summary(&report));
        assert_eq!(
            md.lines().filter(|l| l.starts_with("| high")).count(),
            MAX_SUMMARY_ROWS
        );
        assert!(md.ends_with("\n5 more not listed\n"), "{md}");
        assert!(
            summary.rows.len() < MAX_SUMMARY_ROWS * 200,
            "rows are bounded"
        );
    }

    #[test]
    fn step_summary_is_an_escaped_table() {
        let report = report_of(
            &[Severity::High],
            "uses `evil` | @admin <img src=x> [a](b)\n# h",
        );
        let md = step_summary(&report);
        assert!(md.starts_with("## ciguard\n\n1 finding"), "{md}");
        let row = md.lines().find(|l| l.starts_with("| high")).unwrap();
        assert_eq!(row.matches(" | ").count(), 3, "{row}");
        assert!(row.contains("w\\|\\<b\\>\\.yml\\:1"), "{row}");
        assert!(
            row.contains("uses \\`evil\\` \\| \\@admin \\<img src\\=x\\> \\[a\\]\\(b\\)\\\\n\\# h"),
            "{row}"
        );
        assert!(!md.contains("\n# h"), "{md}");
        assert!(
            step_summary(&report_of(&[], "m"))
                .ends_with("no findings\\, 0 suppressed\\, 1 file audited\n\n")
        );
    }
}
