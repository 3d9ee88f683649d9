//! The versioned JSON output, documented in `docs/json-output.md`.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{TOOL_NAME, TOOL_VERSION, location_region, severity_counts};
use crate::finding::{Finding, Location};
use crate::report::Report;

/// Bumped on any incompatible change to the document's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// Streams the document: findings are serialized one at a time, so memory stays flat however
/// many there are. The text is the same as pretty-printing [`document`] whole.
pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let shell = document_with(report, Vec::new());
    let text = serde_json::to_string_pretty(&shell).map_err(io::Error::other)?;
    let marker = "\"findings\": []";
    let Some(at) = text.find(marker).filter(|_| !report.findings.is_empty()) else {
        return writeln!(out, "{text}");
    };
    out.write_all(&text.as_bytes()[..at])?;
    out.write_all(b"\"findings\": [\n")?;
    for (i, f) in report.findings.iter().enumerate() {
        let item = serde_json::to_string_pretty(&finding(f)).map_err(io::Error::other)?;
        for (j, line) in item.lines().enumerate() {
            if j > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(b"    ")?;
            out.write_all(line.as_bytes())?;
        }
        out.write_all(if i + 1 < report.findings.len() {
            b",\n"
        } else {
            b"\n"
        })?;
    }
    out.write_all(b"  ]")?;
    out.write_all(&text.as_bytes()[at + marker.len()..])?;
    writeln!(out)
}

/// The whole document as one value; [`render`] streams the same text.
#[cfg(test)]
pub(crate) fn document(report: &Report) -> Value {
    document_with(report, report.findings.iter().map(finding).collect())
}

fn document_with(report: &Report, findings: Vec<Value>) -> Value {
    let [high, medium, low, informational] = severity_counts(&report.findings);
    json!({
        "version": SCHEMA_VERSION,
        "tool": { "name": TOOL_NAME, "version": TOOL_VERSION },
        "findings": findings,
        "diagnostics": report.diagnostics,
        "notes": report.notes,
        "summary": {
            "findings": report.findings.len(),
            "high": high,
            "medium": medium,
            "low": low,
            "informational": informational,
            "suppressed": report.suppressed,
            "files_audited": report.files_audited,
            "diagnostics": report.diagnostics.len(),
        },
    })
}

fn finding(f: &Finding) -> Value {
    json!({
        "audit": f.audit,
        "message": f.message,
        "severity": f.severity,
        "confidence": f.confidence,
        "persona": f.persona,
        "fingerprint": f.fingerprint(),
        "primary": location(&f.primary),
        "related": f.related.iter().map(location).collect::<Vec<_>>(),
        "fixes": f.fixes,
        "chain": f.chain,
    })
}

pub(crate) fn location(location: &Location) -> Value {
    match location {
        Location::File {
            span, route, label, ..
        } => {
            let (file, region) = match location_region(location) {
                Some(r) => r,
                None => return Value::Null,
            };
            json!({
                "kind": "file",
                "path": file.path,
                "route": route.to_string(),
                "span": { "start": span.start, "end": span.end },
                "start": { "line": region.start.line, "column": region.start.column },
                "end": { "line": region.end.line, "column": region.end.column },
                "label": label,
            })
        }
        Location::Setting {
            subject,
            url,
            label,
        } => json!({
            "kind": "setting",
            "subject": subject,
            "url": url,
            "label": label,
        }),
    }
}

#[cfg(test)]
mod streaming_tests {
    use std::sync::Arc;

    use super::*;
    use crate::audit::AuditContext;
    use crate::engine::audit_file;
    use crate::source::{FileKind, SourceFile};
    use crate::yaml::Limits;

    #[test]
    fn streamed_text_equals_the_whole_document_pretty_printed() {
        let text = "on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: a/b@v1\n      - uses: c/d@main\n";
        let file = Arc::new(SourceFile::new(
            "ci.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let findings = audit_file(&file, &Limits::default(), crate::audits::all(), &|_| {
            AuditContext::empty()
        })
        .findings;
        assert!(findings.len() >= 3);
        for report in [
            Report::default(),
            Report {
                findings,
                ..Default::default()
            },
        ] {
            let mut streamed = Vec::new();
            render(&report, &mut streamed).unwrap();
            let whole = serde_json::to_string_pretty(&document(&report)).unwrap() + "\n";
            assert_eq!(String::from_utf8(streamed).unwrap(), whole);
        }
    }
}
