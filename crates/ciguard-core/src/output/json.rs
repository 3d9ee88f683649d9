//! The versioned JSON output, documented in `docs/json-output.md`.

use std::io::{self, Write};

use serde_json::{Value, json};

use super::{TOOL_NAME, TOOL_VERSION, location_region, severity_counts};
use crate::finding::{Finding, Location};
use crate::report::Report;

/// Bumped on any incompatible change to the document's shape.
pub const SCHEMA_VERSION: u32 = 1;

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = document(report);
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}

pub(crate) fn document(report: &Report) -> Value {
    let [high, medium, low, informational] = severity_counts(&report.findings);
    json!({
        "version": SCHEMA_VERSION,
        "tool": { "name": TOOL_NAME, "version": TOOL_VERSION },
        "findings": report.findings.iter().map(finding).collect::<Vec<_>>(),
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
