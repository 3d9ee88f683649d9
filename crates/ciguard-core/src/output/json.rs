//! The versioned JSON output, documented in `docs/json-output.md`.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::{Value, json};

use super::{TOOL_NAME, TOOL_VERSION, escape, location_region};
use crate::finding::{Applicability, Confidence, Finding, Location, Persona, Severity};
use crate::report::Report;

/// Bumped on any incompatible change to the document's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// Writes the whole report: the streamed renderer over its findings.
pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut stream = Stream::default();
    stream.findings(&report.findings, out)?;
    stream.finish(report, &super::Tally::of(&report.findings), out)
}

/// The document written as findings arrive: `findings` first (each finding serialized as it
/// comes, nothing of it kept), then the members that need the whole run: `diagnostics`, `notes`,
/// `summary`, `tool`, `version`.
#[derive(Default)]
pub(super) struct Stream {
    written: usize,
}

impl Stream {
    pub(super) fn findings(&mut self, findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
        if findings.is_empty() {
            return Ok(());
        }
        out.write_all(if self.written == 0 {
            b"{\n  \"findings\": [\n"
        } else {
            b",\n"
        })?;
        render_findings(findings, out)?;
        self.written += findings.len();
        Ok(())
    }

    pub(super) fn finish(
        self,
        report: &Report,
        tally: &super::Tally,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        out.write_all(if self.written == 0 {
            b"{\n  \"findings\": [],\n"
        } else {
            b"\n  ],\n"
        })?;
        let rest = document_rest(report, tally);
        let text = serde_json::to_vec_pretty(&rest).map_err(io::Error::other)?;
        let text = escape::json(&text);
        // Past the opening `{\n`: the other members, already indented as members.
        out.write_all(&text[2..])?;
        writeln!(out)
    }
}

/// Findings are serialized a batch at a time, each batch split across the available cores and
/// written in order: the text is the same, memory stays bounded by the batch.
const BATCH: usize = 1024;

fn render_findings(findings: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    for (b, batch) in findings.chunks(BATCH).enumerate() {
        // The last item of the call has no `,\n`: the stream writes what follows it.
        let ends_document = (b + 1) * BATCH >= findings.len();
        let per = batch.len().div_ceil(threads).max(64);
        let chunks: Vec<&[Finding]> = batch.chunks(per).collect();
        let last = chunks.len() - 1;
        let texts: Vec<io::Result<Vec<u8>>> = if chunks.len() == 1 {
            vec![render_items(batch, ends_document)]
        } else {
            std::thread::scope(|scope| {
                let others: Vec<_> = chunks[1..]
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        scope.spawn(move || render_items(c, ends_document && i + 1 == last))
                    })
                    .collect();
                let mut texts = vec![render_items(chunks[0], false)];
                texts.extend(others.into_iter().map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(io::Error::other("a JSON rendering thread failed")))
                }));
                texts
            })
        };
        for text in texts {
            out.write_all(&text?)?;
        }
    }
    Ok(())
}

/// The findings as items of the document's `findings` array: indented by two levels, each
/// followed by `,\n` except the call's last one.
fn render_items(findings: &[Finding], ends_document: bool) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(findings.len() * 1024);
    let mut item = Vec::new();
    for (i, f) in findings.iter().enumerate() {
        item.clear();
        serde_json::to_writer_pretty(&mut item, &FindingJson::new(f)).map_err(io::Error::other)?;
        // Indented one level: four spaces before every line of the pretty-printed finding.
        super::push_indented(&mut out, &escape::json(&item), b"    ");
        if !(ends_document && i + 1 == findings.len()) {
            out.extend_from_slice(b",\n");
        }
    }
    Ok(out)
}

/// The whole document as one value; [`render`] streams the same content.
#[cfg(test)]
pub(crate) fn document(report: &Report) -> Value {
    let mut doc = document_rest(report, &super::Tally::of(&report.findings));
    doc["findings"] = Value::Array(report.findings.iter().map(finding).collect());
    doc
}

/// Every member of the document but `findings`.
fn document_rest(report: &Report, tally: &super::Tally) -> Value {
    let [high, medium, low, informational] = tally.by_severity;
    json!({
        "version": SCHEMA_VERSION,
        "tool": { "name": TOOL_NAME, "version": TOOL_VERSION },
        "diagnostics": report.diagnostics,
        "notes": report.notes,
        "summary": {
            "findings": tally.findings,
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

/// A finding as the JSON document shows it, serialized straight from borrowed fields: the fields
/// are in the sorted order [`finding`]'s map gives them, so the text is the same, without
/// building a [`Value`] per finding.
#[derive(Serialize)]
struct FindingJson<'a> {
    audit: &'a str,
    chain: &'a [String],
    confidence: Confidence,
    fingerprint: String,
    fixes: Vec<FixJson<'a>>,
    message: &'a str,
    persona: Persona,
    primary: LocationJson<'a>,
    related: Vec<LocationJson<'a>>,
    severity: Severity,
}

#[derive(Serialize)]
struct FixJson<'a> {
    applicability: Applicability,
    edits: Vec<EditJson<'a>>,
    title: &'a str,
}

#[derive(Serialize)]
struct EditJson<'a> {
    end: usize,
    replacement: &'a str,
    start: usize,
}

#[derive(Serialize)]
struct SpanJson {
    end: usize,
    start: usize,
}

#[derive(Serialize)]
struct LineColJson {
    column: usize,
    line: usize,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LocationJson<'a> {
    Null(()),
    File {
        end: LineColJson,
        kind: &'static str,
        label: &'a str,
        path: &'a str,
        route: String,
        span: SpanJson,
        start: LineColJson,
    },
    Setting {
        kind: &'static str,
        label: &'a str,
        subject: &'a str,
        url: &'a Option<String>,
    },
}

impl<'a> FindingJson<'a> {
    fn new(f: &'a Finding) -> Self {
        FindingJson {
            audit: f.audit_id(),
            chain: &f.chain,
            confidence: f.confidence,
            fingerprint: f.fingerprint(),
            fixes: f
                .fixes
                .iter()
                .map(|fix| FixJson {
                    applicability: fix.applicability,
                    edits: fix
                        .edits
                        .iter()
                        .map(|e| EditJson {
                            end: e.end,
                            replacement: &e.replacement,
                            start: e.start,
                        })
                        .collect(),
                    title: &fix.title,
                })
                .collect(),
            message: &f.message,
            persona: f.persona,
            primary: LocationJson::new(&f.primary),
            related: f.related.iter().map(LocationJson::new).collect(),
            severity: f.severity,
        }
    }
}

impl<'a> LocationJson<'a> {
    fn new(location: &'a Location) -> Self {
        match location {
            Location::File {
                span, route, label, ..
            } => {
                let Some((file, region)) = location_region(location) else {
                    return LocationJson::Null(());
                };
                let line_col = |p: crate::source::LineCol| LineColJson {
                    column: p.column,
                    line: p.line,
                };
                LocationJson::File {
                    end: line_col(region.end),
                    kind: "file",
                    label,
                    path: &file.path,
                    route: route.to_string(),
                    span: SpanJson {
                        end: span.end,
                        start: span.start,
                    },
                    start: line_col(region.start),
                }
            }
            Location::Setting {
                subject,
                url,
                label,
            } => LocationJson::Setting {
                kind: "setting",
                label,
                subject,
                url,
            },
        }
    }
}

/// A finding as a [`Value`]: the reference [`FindingJson`] is tested against.
#[cfg(test)]
fn finding(f: &Finding) -> Value {
    json!({
        "audit": f.audit_id(),
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

#[cfg(test)]
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
    use crate::source::{FileKind, SourceFile, Span};
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
        // Enough findings for several batches, each split across threads.
        let many: Vec<Finding> = findings
            .iter()
            .cycle()
            .take(2 * BATCH + 77)
            .cloned()
            .collect();
        for report in [
            Report::default(),
            Report {
                findings,
                ..Default::default()
            },
            Report {
                findings: many,
                ..Default::default()
            },
        ] {
            let mut streamed = Vec::new();
            render(&report, &mut streamed).unwrap();
            let text = String::from_utf8(streamed).unwrap();
            // The same document, pretty-printed, with `findings` moved to the front.
            let parsed: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(parsed, document(&report));
            let mut rest = document(&report);
            let findings = rest.as_object_mut().unwrap().remove("findings").unwrap();
            let whole = serde_json::to_string_pretty(&rest).unwrap();
            let items = serde_json::to_string_pretty(&json!({ "findings": findings })).unwrap();
            let expected = format!("{},\n{}\n", &items[..items.len() - 2], &whole[2..]);
            assert_eq!(text, expected);
        }
    }

    #[test]
    fn serialized_findings_equal_their_values_for_every_field() {
        use crate::finding::{Applicability, Edit};
        use crate::route::Route;
        let file = Arc::new(SourceFile::new(
            "a/é.yml",
            FileKind::Workflow,
            "on: push\njobs:\n  a:\n    runs-on: \"x\\\"y\"\n".to_owned(),
        ));
        let meta = &crate::audits::all()[0].meta();
        let route = Route::root().key("jobs").key("a").index(0);
        let findings = [
            Finding::new(
                meta,
                "plain",
                Location::file(&file, Span::new(0, 2), route.clone(), ""),
            ),
            Finding::new(
                meta,
                "m \"q\" \n é",
                Location::file(&file, Span::new(9, 40), route, "l"),
            )
            .related(Location::setting("owner/repo: x", None, "s"))
            .related(Location::setting("s", Some("https://e/x".into()), "t"))
            .fix(
                "t",
                Applicability::Unsafe,
                vec![Edit::replace(Span::new(1, 2), "r\n")],
            )
            .fix("u", Applicability::DisplayOnly, Vec::new()),
            Finding::new(meta, "s", Location::setting("subject", None, "label")),
        ];
        for mut f in findings {
            f.chain = vec!["a/b@v1".into(), "c/d@v2".into()];
            let direct = serde_json::to_string_pretty(&FindingJson::new(&f)).unwrap();
            let value = serde_json::to_string_pretty(&finding(&f)).unwrap();
            assert_eq!(direct, value);
            f.chain.clear();
            let direct = serde_json::to_string_pretty(&FindingJson::new(&f)).unwrap();
            assert_eq!(direct, serde_json::to_string_pretty(&finding(&f)).unwrap());
        }
    }
}
