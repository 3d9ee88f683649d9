//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One run; one rule per audit that has findings, with its documentation and a
//! `security-severity` GitHub uses to rank alerts; results carry `partialFingerprints`
//! (`ciguard/v1`, from [`Finding::fingerprint`]) that do not depend on line numbers, so an alert
//! keeps its identity when unrelated lines move. Input problems become
//! `invocations[0].toolExecutionNotifications`.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::{INFORMATION_URI, TOOL_NAME, TOOL_VERSION, audit_docs_url, location_region};
use crate::audits;
use crate::diagnostic::{Diagnostic, Level};
use crate::finding::{Applicability, Confidence, Finding, Location, Severity};
use crate::report::Report;
use crate::source::SourceFile;

/// Where findings about repository settings point when they have no file of their own.
const SETTINGS_URI: &str = ".github";

const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub(super) fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report)).map_err(io::Error::other)?;
    writeln!(out)
}

/// GitHub's ranking: critical >= 9.0, high >= 7.0, medium >= 4.0, low below.
pub(crate) fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Informational => "1.0",
    }
}

pub(crate) fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High | Severity::Medium => "error",
        Severity::Low => "warning",
        Severity::Informational => "note",
    }
}

fn precision(confidence: Confidence) -> &'static str {
    match confidence {
        Confidence::High => "high",
        Confidence::Medium => "medium",
        Confidence::Low => "low",
    }
}

pub(crate) fn document(report: &Report) -> Value {
    // Rules in the order of their first finding would change with the findings; sort by id.
    let mut rule_index: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        rule_index.entry(f.audit).or_insert(0);
    }
    for (i, v) in rule_index.values_mut().enumerate() {
        *v = i;
    }
    let rules: Vec<Value> = rule_index
        .keys()
        .map(|id| rule(id, &report.findings))
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, rule_index.get(f.audit).copied().unwrap_or(0)))
        .collect();
    let notifications: Vec<Value> = report.diagnostics.iter().map(notification).collect();
    let successful = !report.diagnostics.iter().any(|d| d.level == Level::Error);
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": TOOL_NAME,
                    "version": TOOL_VERSION,
                    "semanticVersion": TOOL_VERSION,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": successful,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

fn rule(id: &str, findings: &[Finding]) -> Value {
    let meta = audits::meta_by_id(id);
    // The default severity ranks the rule; an audit unknown to the registry takes its findings' highest.
    let severity = meta.map(|m| m.severity).unwrap_or_else(|| {
        findings
            .iter()
            .filter(|f| f.audit == id)
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Medium)
    });
    let mut rule = json!({
        "id": id,
        "name": id,
        "helpUri": audit_docs_url(id),
        "defaultConfiguration": { "level": level(severity) },
        "properties": {
            "security-severity": security_severity(severity),
            "tags": ["security", "supply-chain", "github-actions"],
        },
    });
    if let Some(meta) = meta {
        let docs = meta.documentation();
        let what = meta.section("What it does").unwrap_or_default();
        let full = if what.trim().is_empty() {
            meta.summary.to_owned()
        } else {
            what.trim().to_owned()
        };
        rule["shortDescription"] = json!({ "text": meta.summary });
        rule["fullDescription"] = json!({ "text": full });
        rule["help"] = json!({ "text": docs, "markdown": docs });
        rule["properties"]["precision"] = json!(precision(meta.confidence));
        rule["properties"]["persona"] = json!(meta.persona);
    } else {
        rule["shortDescription"] = json!({ "text": id });
    }
    rule
}

/// A relative path as a URI reference: forward slashes, no `./`, reserved bytes percent-encoded.
pub(crate) fn uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let mut path = path.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    crate::percent::encode(path, crate::percent::PATH_WITH_SUB_DELIMS)
}

/// A file's web address when it has one (a remote repository's file), else its relative path.
fn file_uri(file: &SourceFile) -> String {
    file.uri.clone().unwrap_or_else(|| uri(&file.path))
}

fn physical(file: &SourceFile, region: super::Region) -> Value {
    json!({
        "artifactLocation": { "uri": file_uri(file) },
        "region": {
            "startLine": region.start.line,
            "startColumn": region.start.column,
            "endLine": region.end.line,
            "endColumn": region.end.column,
        },
    })
}

fn location(location: &Location, id: Option<usize>) -> Value {
    let mut value = match location {
        Location::File { route, .. } => match location_region(location) {
            Some((file, region)) => json!({
                "physicalLocation": physical(file, region),
                "logicalLocations": [{ "fullyQualifiedName": route.to_string(), "kind": "element" }],
            }),
            None => json!({}),
        },
        Location::Setting { subject, url, .. } => {
            let mut logical = json!({ "fullyQualifiedName": subject, "kind": "resource" });
            if let Some(url) = url {
                logical["properties"] = json!({ "url": url });
            }
            json!({ "logicalLocations": [logical] })
        }
    };
    if !location.label().is_empty() {
        value["message"] = json!({ "text": location.label() });
    }
    if let Some(id) = id {
        value["id"] = json!(id);
    }
    value
}

/// The result's location. GitHub code scanning rejects a result without an artifact location, so
/// a finding about a setting borrows its first related file, or else points at `.github`.
fn primary_location(f: &Finding) -> Value {
    let mut value = location(&f.primary, None);
    if let Location::Setting { .. } = f.primary {
        value["physicalLocation"] = f
            .related
            .iter()
            .find_map(location_region)
            .map(|(file, region)| physical(file, region))
            .unwrap_or_else(|| json!({ "artifactLocation": { "uri": SETTINGS_URI } }));
    }
    value
}

fn result(f: &Finding, rule_index: usize) -> Value {
    let mut message = f.message.clone();
    if !f.chain.is_empty() {
        message.push_str(&format!(" (reached through {})", f.chain.join(" -> ")));
    }
    let mut value = json!({
        "ruleId": f.audit,
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [primary_location(f)],
        "partialFingerprints": { "ciguard/v1": f.fingerprint() },
        "properties": {
            "severity": f.severity,
            "confidence": f.confidence,
            "persona": f.persona,
        },
    });
    if !f.related.is_empty() {
        value["relatedLocations"] = json!(
            f.related
                .iter()
                .enumerate()
                .map(|(i, l)| location(l, Some(i + 1)))
                .collect::<Vec<_>>()
        );
    }
    let fixes: Vec<Value> = match &f.primary {
        Location::File { file, .. } => f
            .fixes
            .iter()
            .filter(|fix| fix.applicability != Applicability::DisplayOnly && !fix.edits.is_empty())
            .map(|fix| {
                let replacements: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|e| {
                        json!({
                            "deletedRegion": { "byteOffset": e.start, "byteLength": e.end.saturating_sub(e.start) },
                            "insertedContent": { "text": e.replacement },
                        })
                    })
                    .collect();
                json!({
                    "description": { "text": format!("{} ({})", fix.title, fix.applicability) },
                    "artifactChanges": [{
                        "artifactLocation": { "uri": file_uri(file) },
                        "replacements": replacements,
                    }],
                })
            })
            .collect(),
        Location::Setting { .. } => Vec::new(),
    };
    if !fixes.is_empty() {
        value["fixes"] = json!(fixes);
    }
    if !f.chain.is_empty() {
        value["properties"]["chain"] = json!(f.chain);
    }
    value
}

fn notification(d: &Diagnostic) -> Value {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str(&format!(" (help: {help})"));
    }
    let level = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let mut physical = json!({ "artifactLocation": { "uri": uri(&d.path) } });
    if let Some(line) = d.line.filter(|l| *l > 0) {
        physical["region"] = json!({ "startLine": line });
        if let Some(column) = d.column.filter(|c| *c > 0) {
            physical["region"]["startColumn"] = json!(column);
        }
    }
    json!({
        "level": level,
        "message": { "text": text },
        "locations": [{ "physicalLocation": physical }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_and_encoded() {
        assert_eq!(
            uri("./.github/workflows/ci.yml"),
            ".github/workflows/ci.yml"
        );
        assert_eq!(
            uri(".github\\workflows\\a b%.yml"),
            ".github/workflows/a%20b%25.yml"
        );
        assert_eq!(uri("dir/é.yml"), "dir/%C3%A9.yml");
    }

    #[test]
    fn levels_and_ranks() {
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "error");
        assert_eq!(level(Severity::Low), "warning");
        assert_eq!(level(Severity::Informational), "note");
        assert_eq!(security_severity(Severity::High), "8.0");
        assert_eq!(security_severity(Severity::Medium), "5.5");
    }
}
