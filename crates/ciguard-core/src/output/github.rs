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
use crate::diagnostic::Level;
use crate::finding::{Finding, Location, Severity};
use crate::plural::count;
use crate::report::Report;

/// Annotations of one kind GitHub shows per step.
pub const PER_STEP_AND_KIND: usize = 10;
/// Annotations GitHub shows per job.
pub const PER_JOB: usize = 50;

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if let Some(note) = limits_note(report) {
        write_command(out, "notice", &[("title", "ciguard".to_owned())], &note)?;
    }
    for d in &report.diagnostics {
        let command = match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
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
        write_command(out, command, &props, &message)?;
    }
    for f in &report.findings {
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

/// How many annotations of each kind the output makes: `[errors, warnings, notices]`.
fn annotation_counts(report: &Report) -> [usize; 3] {
    let mut counts = [0; 3];
    let kinds = report
        .diagnostics
        .iter()
        .map(|d| match d.level {
            Level::Error => "error",
            Level::Warning => "warning",
        })
        .chain(report.findings.iter().map(|f| command(f.severity)));
    for kind in kinds {
        let i = match kind {
            "error" => 0,
            "warning" => 1,
            _ => 2,
        };
        counts[i] += 1;
    }
    counts
}

/// What GitHub will not show, when the report exceeds its per-step or per-job limits.
fn limits_note(report: &Report) -> Option<String> {
    let [errors, warnings, notices] = annotation_counts(report);
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
    let mut md = String::from("## ciguard\n\n");
    md.push_str(&md_text(&super::plain::summary(report)));
    md.push_str("\n\n");
    if report.findings.is_empty() {
        return md;
    }
    md.push_str("| Severity | Audit | Location | Finding |\n|---|---|---|---|\n");
    for f in report.findings.iter().take(MAX_SUMMARY_ROWS) {
        let location = match location_region(&f.primary) {
            Some((file, region)) => format!("{}:{}", file.path, region.start.line),
            None => f.primary.path().to_owned(),
        };
        md.push_str(&format!(
            "| {} | [{}]({}) | {} | {} |\n",
            f.severity,
            f.audit_id(),
            super::audit_docs_url(f.audit_id()),
            md_text(&location),
            md_text(&f.message)
        ));
    }
    if report.findings.len() > MAX_SUMMARY_ROWS {
        md.push_str(&format!(
            "\n{} more not listed\n",
            report.findings.len() - MAX_SUMMARY_ROWS
        ));
    }
    md
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
