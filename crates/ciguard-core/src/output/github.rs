//! GitHub Actions workflow commands: `::error file=...,line=...::message`, which the runner turns
//! into annotations on the run and on the pull request's diff.

use std::io::{self, Write};

use super::escape::text as esc;
use super::location_region;
use crate::diagnostic::{Diagnostic, Level};
use crate::finding::{Finding, Location, Severity};
use crate::report::Report;

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        write_diagnostic(out, d)?;
    }
    write_findings(out, &report.findings)
}

/// Annotations are independent commands: each is written as soon as it is known.
pub(super) fn write_diagnostic(out: &mut dyn Write, d: &Diagnostic) -> io::Result<()> {
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
    write_command(out, command, &props, &message)
}

pub(super) fn write_findings(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for f in findings {
        write_finding(out, f)?;
    }
    Ok(())
}

fn command(severity: Severity) -> &'static str {
    match severity {
        Severity::High | Severity::Medium => "error",
        Severity::Low => "warning",
        Severity::Informational => "notice",
    }
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
        assert_eq!(command(Severity::Medium), "error");
        assert_eq!(command(Severity::Low), "warning");
        assert_eq!(command(Severity::Informational), "notice");
    }
}
