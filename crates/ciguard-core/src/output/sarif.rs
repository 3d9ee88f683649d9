//! SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.
//!
//! One run; one rule per audit of the catalogue (sorted by id, so a result's `ruleIndex` is known
//! before the run ends), with its documentation and a
//! `security-severity` GitHub uses to rank alerts; results carry `partialFingerprints`
//! (`ciguard/v2`, from [`Finding::fingerprint`]) that do not depend on line numbers, so an alert
//! keeps its identity when unrelated lines move. Input problems become
//! `invocations[0].toolExecutionNotifications`. Results are written as findings arrive, before
//! `invocations` and `tool`, so no finding is kept after it is written.
//!
//! Artifact URIs are relative to `%SRCROOT%`, the repository root of the files audited (the
//! nearest folder with `.git` above the first file that exists on disk), declared in
//! `originalUriBaseIds` when it is known: GitHub code scanning matches alerts to files by their
//! path in the repository, so an absolute input path must not leak into `uri`. A file outside
//! that root gets an absolute `file://` URI and no base id, as SARIF requires.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{INFORMATION_URI, TOOL_NAME, TOOL_VERSION, audit_docs_url, location_region};
use crate::catalog::AuditMeta;
use crate::diagnostic::{Diagnostic, Level};
use crate::finding::{Applicability, Confidence, Finding, Location, Severity};
use crate::report::Report;
use crate::source::SourceFile;

/// Where findings about repository settings point when they have no file of their own.
const SETTINGS_URI: &str = ".github";

/// The base id artifact URIs are relative to.
const SRCROOT: &str = "%SRCROOT%";

/// The repository root holding the file at `path`, and the file's path relative to it, when
/// the file exists on disk inside a repository (a folder with `.git`).
fn repository_relative(path: &str) -> Option<(PathBuf, String)> {
    let absolute = std::fs::canonicalize(path).ok()?;
    let root = absolute
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())?;
    let relative = absolute.strip_prefix(root).ok()?;
    Some((
        root.to_path_buf(),
        relative.to_string_lossy().replace('\\', "/"),
    ))
}

/// An absolute path as a `file://` URI.
fn file_scheme_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let slash = if text.starts_with('/') { "" } else { "/" };
    format!("file://{slash}{}", uri(&text))
}

/// `%SRCROOT%` of one document, and the artifact locations computed so far.
struct SrcRoot {
    root: Option<PathBuf>,
    seen: RefCell<HashMap<String, Value>>,
}

impl SrcRoot {
    fn of(findings: &[Finding], diagnostics: &[Diagnostic]) -> Self {
        let root = findings
            .iter()
            .flat_map(|f| std::iter::once(&f.primary).chain(&f.related))
            .filter_map(|l| l.source().filter(|file| file.uri.is_none()))
            .map(|file| file.path.as_str())
            .chain(diagnostics.iter().map(|d| d.path.as_str()))
            .find_map(|p| repository_relative(p).map(|(root, _)| root));
        SrcRoot {
            root,
            seen: RefCell::new(HashMap::new()),
        }
    }

    /// `originalUriBaseIds`, when the root is known.
    fn base_ids(&self) -> Option<Value> {
        let root = self.root.as_ref()?;
        let mut base = file_scheme_uri(root);
        if !base.ends_with('/') {
            base.push('/');
        }
        Some(json!({ SRCROOT: { "uri": base } }))
    }

    /// The `artifactLocation` of a file: its web address when it has one (a remote
    /// repository's file), else its path.
    fn file_artifact(&self, file: &SourceFile) -> Value {
        match &file.uri {
            Some(web) => json!({ "uri": web_uri(web) }),
            None => self.artifact(&file.path),
        }
    }

    /// The `artifactLocation` of a path as ciguard shows it.
    fn artifact(&self, path: &str) -> Value {
        if let Some(v) = self.seen.borrow().get(path) {
            return v.clone();
        }
        let value = match repository_relative(path) {
            Some((root, rel)) if Some(&root) == self.root.as_ref() => {
                json!({ "uri": uri(&rel), "uriBaseId": SRCROOT })
            }
            _ if Path::new(path).is_absolute() => {
                let p = std::fs::canonicalize(path).unwrap_or_else(|_| PathBuf::from(path));
                json!({ "uri": file_scheme_uri(&p) })
            }
            _ => json!({ "uri": uri(path), "uriBaseId": SRCROOT }),
        };
        let mut seen = self.seen.borrow_mut();
        // Findings arrive file by file: a few recent paths are all the cache needs, and a long
        // run must not keep every path it saw.
        if seen.len() >= SEEN_PATHS {
            seen.clear();
        }
        seen.insert(path.to_owned(), value.clone());
        value
    }
}

/// How many artifact locations [`SrcRoot`] remembers.
const SEEN_PATHS: usize = 256;

const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Writes the whole report: the streamed renderer over its findings.
pub(super) fn render(
    report: &Report,
    catalogue: &crate::catalog::Catalogue,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut stream = Stream::new(rules_of(report, catalogue));
    stream.findings(&report.findings, &report.diagnostics, out)?;
    stream.finish(report, out)
}

/// The document written as findings arrive: the head (up to `results`) once the first findings
/// (or the end) say which `%SRCROOT%` applies, each result as it comes, then `invocations` and
/// `tool`. Rules list the whole catalogue, so each result's `ruleIndex` is known when it is
/// written; nothing of a finding is kept after it is written.
pub(super) struct Stream {
    base: Option<SrcRoot>,
    /// The rules, sorted by id; a result's `ruleIndex` is its audit's place here.
    rules: Vec<&'static AuditMeta>,
    rule_index: BTreeMap<&'static str, usize>,
    written: usize,
    /// The shell's text after `"results": []`, written at the end.
    after_results: Vec<u8>,
}

impl Stream {
    /// A document whose rules are `metas` (each id once, sorted by id).
    pub(super) fn new(metas: impl IntoIterator<Item = &'static AuditMeta>) -> Self {
        let by_id: BTreeMap<&'static str, &'static AuditMeta> =
            metas.into_iter().map(|m| (m.id, m)).collect();
        Stream {
            base: None,
            rule_index: by_id.keys().enumerate().map(|(i, id)| (*id, i)).collect(),
            rules: by_id.into_values().collect(),
            written: 0,
            after_results: Vec::new(),
        }
    }

    /// Writes `findings`' results; `diagnostics` (those known so far) may name the root when
    /// no finding does.
    pub(super) fn findings(
        &mut self,
        findings: &[Finding],
        diagnostics: &[Diagnostic],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        if findings.is_empty() {
            return Ok(());
        }
        if self.base.is_none() {
            self.start(findings, diagnostics, out)?;
            out.write_all(b"[\n")?;
        }
        let base = self.base.as_ref().expect("started");
        let mut item = Vec::new();
        let mut indented = Vec::new();
        for f in findings {
            item.clear();
            indented.clear();
            if self.written > 0 {
                indented.extend_from_slice(b",\n");
            }
            let index = self.rule_index.get(f.audit_id()).copied().unwrap_or(0);
            let value = result(f, index, base);
            serde_json::to_writer_pretty(&mut item, &value).map_err(io::Error::other)?;
            // Items of `runs[0].results` sit four levels deep.
            super::push_indented(&mut indented, &super::escape::json(&item), RESULT_INDENT);
            out.write_all(&indented)?;
            self.written += 1;
        }
        Ok(())
    }

    /// The head of the document up to the `results` array's opening bracket.
    fn start(
        &mut self,
        findings: &[Finding],
        diagnostics: &[Diagnostic],
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let base = SrcRoot::of(findings, diagnostics);
        let mut run = json!({ "columnKind": "unicodeCodePoints", "results": [] });
        if let Some(ids) = base.base_ids() {
            run["originalUriBaseIds"] = ids;
        }
        let shell = json!({ "$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run] });
        let text = serde_json::to_vec_pretty(&shell).map_err(io::Error::other)?;
        let text = super::escape::json(&text);
        let marker: &[u8] = b"\"results\": ";
        let at = text
            .windows(marker.len())
            .position(|w| w == marker)
            .map(|at| at + marker.len())
            .ok_or_else(|| io::Error::other("SARIF shell without results"))?;
        out.write_all(&text[..at])?;
        // Past `[]`: the rest of the run and the document.
        self.after_results = text[at + 2..].to_vec();
        self.base = Some(base);
        Ok(())
    }

    /// Closes `results`, then writes `invocations` (the diagnostics) and `tool` (the rules).
    pub(super) fn finish(mut self, report: &Report, out: &mut dyn Write) -> io::Result<()> {
        if self.base.is_none() {
            self.start(&[], &report.diagnostics, out)?;
            out.write_all(b"[]")?;
        } else {
            out.write_all(b"\n")?;
            out.write_all(RESULTS_CLOSE)?;
        }
        let base = self.base.as_ref().expect("started");
        let tail = document_tail(report, &self.rules, base);
        let text = serde_json::to_vec_pretty(&tail).map_err(io::Error::other)?;
        let text = super::escape::json(&text);
        // `{\n  "invocations": ...\n}` without its braces, indented as members of the run.
        let inner = &text[2..text.len() - 2];
        out.write_all(b",\n")?;
        let mut indented = Vec::with_capacity(inner.len() * 2);
        super::push_indented(&mut indented, inner, TAIL_INDENT);
        out.write_all(&indented)?;
        out.write_all(&self.after_results)?;
        writeln!(out)
    }
}

const TAIL_INDENT: &[u8] = b"    ";
const RESULT_INDENT: &[u8] = b"        ";
const RESULTS_CLOSE: &[u8] = b"      ]";

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

/// The whole document as one value; [`render`] streams the same content.
#[cfg(test)]
pub(crate) fn document(report: &Report) -> Value {
    let stream = Stream::new(rules_of(report, &crate::audits::catalogue()));
    let base = SrcRoot::of(&report.findings, &report.diagnostics);
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let index = stream.rule_index.get(f.audit_id()).copied().unwrap_or(0);
            result(f, index, &base)
        })
        .collect();
    let mut doc = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [document_tail(report, &stream.rules, &base)],
    });
    doc["runs"][0]["columnKind"] = json!("unicodeCodePoints");
    doc["runs"][0]["results"] = json!(results);
    if let Some(ids) = base.base_ids() {
        doc["runs"][0]["originalUriBaseIds"] = ids;
    }
    doc
}

/// The rules of a finished report: the front end's catalogue and the audits of its findings.
fn rules_of<'r>(
    report: &'r Report,
    catalogue: &crate::catalog::Catalogue,
) -> impl Iterator<Item = &'static AuditMeta> + 'r {
    catalogue
        .iter()
        .collect::<Vec<_>>()
        .into_iter()
        .chain(report.findings.iter().map(|f| f.meta))
}

/// The members of the run written after the results: `invocations` and `tool`.
fn document_tail(report: &Report, rules: &[&'static AuditMeta], base: &SrcRoot) -> Value {
    let rules: Vec<Value> = rules.iter().map(|meta| rule(meta)).collect();
    let notifications: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| notification(d, base))
        .collect();
    let successful = !report.diagnostics.iter().any(|d| d.level == Level::Error);
    json!({
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
    })
}

fn rule(meta: &AuditMeta) -> Value {
    let id = meta.id;
    // The default severity ranks the rule.
    let severity = meta.severity;
    let what = meta.section("What it does").unwrap_or_default();
    let full = if what.trim().is_empty() {
        meta.summary.to_owned()
    } else {
        what.trim().to_owned()
    };
    let docs = meta.documentation();
    json!({
        "id": id,
        "name": id,
        "helpUri": audit_docs_url(id),
        "defaultConfiguration": { "level": level(severity) },
        "properties": {
            "security-severity": security_severity(severity),
            "tags": ["security", "supply-chain", "github-actions"],
            "precision": precision(meta.confidence),
            "persona": meta.persona,
        },
        "shortDescription": { "text": meta.summary },
        "fullDescription": { "text": full },
        "help": { "text": docs, "markdown": docs },
    })
}

/// Bytes a web address keeps as they are: unreserved, reserved and `%` (already encoded).
/// A web address built from input (a remote file's path) with every byte a URI may not hold
/// (spaces, control characters, non-ASCII) percent-encoded.
fn web_uri(address: &str) -> String {
    crate::percent::encode(address, crate::percent::URI)
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

fn physical(file: &SourceFile, region: super::Region, base: &SrcRoot) -> Value {
    json!({
        "artifactLocation": base.file_artifact(file),
        "region": {
            "startLine": region.start.line,
            "startColumn": region.start.column,
            "endLine": region.end.line,
            "endColumn": region.end.column,
        },
    })
}

fn location(location: &Location, id: Option<usize>, base: &SrcRoot) -> Value {
    let mut value = match location {
        Location::File { route, .. } => match location_region(location) {
            Some((file, region)) => json!({
                "physicalLocation": physical(file, region, base),
                "logicalLocations": [{ "fullyQualifiedName": route.to_string(), "kind": "element" }],
            }),
            None => json!({}),
        },
        Location::Setting { subject, url, .. } => {
            let mut logical = json!({ "fullyQualifiedName": subject, "kind": "resource" });
            if let Some(url) = url {
                logical["properties"] = json!({ "url": web_uri(url) });
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
fn primary_location(f: &Finding, base: &SrcRoot) -> Value {
    let mut value = location(&f.primary, None, base);
    if let Location::Setting { .. } = f.primary {
        value["physicalLocation"] = f
            .related
            .iter()
            .find_map(location_region)
            .map(|(file, region)| physical(file, region, base))
            .unwrap_or_else(|| json!({ "artifactLocation": base.artifact(SETTINGS_URI) }));
    }
    value
}

fn result(f: &Finding, rule_index: usize, base: &SrcRoot) -> Value {
    let mut message = f.message.clone();
    if !f.chain.is_empty() {
        message.push_str(&format!(" (reached through {})", f.chain.join(" -> ")));
    }
    let mut value = json!({
        "ruleId": f.audit_id(),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [primary_location(f, base)],
        "partialFingerprints": { "ciguard/v2": f.fingerprint() },
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
                .map(|(i, l)| location(l, Some(i + 1), base))
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
                        "artifactLocation": base.file_artifact(file),
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

fn notification(d: &Diagnostic, base: &SrcRoot) -> Value {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str(&format!(" (help: {help})"));
    }
    let level = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let mut physical = json!({ "artifactLocation": base.artifact(&d.path) });
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
    fn streamed_text_equals_the_whole_document_pretty_printed() {
        use crate::audit::AuditContext;
        use crate::engine::audit_file;
        use crate::source::FileKind;
        use crate::yaml::Limits;
        use std::sync::Arc;

        let mut findings = Vec::new();
        // Two files, one with a control character and a bidirectional override in a value, so
        // escaping of streamed pieces is compared with escaping of the whole.
        for (path, text) in [
            (
                "a/.github/workflows/ci.yml",
                "on: pull_request_target\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: a/b@v1\n      - uses: c/d@main\n",
            ),
            (
                "a/.github/workflows/b\u{202e}.yml",
                "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: e/f@v2 # \u{1b}[31m\n      - run: echo ${{ github.event.issue.title }}\n",
            ),
        ] {
            let file = Arc::new(SourceFile::new(path, FileKind::Workflow, text.to_owned()));
            findings.extend(
                audit_file(&file, &Limits::default(), crate::audits::all(), &|_| {
                    AuditContext::empty()
                })
                .findings,
            );
        }
        assert!(findings.len() >= 4);
        let diagnostic = Diagnostic::file(Level::Warning, "a/x\u{7}.yml", "odd \u{202e} name");
        for report in [
            Report::default(),
            Report {
                diagnostics: vec![diagnostic.clone()],
                ..Default::default()
            },
            Report {
                findings,
                diagnostics: vec![diagnostic],
                notes: vec!["a note".into()],
                ..Default::default()
            },
        ] {
            let mut streamed = Vec::new();
            render(&report, &crate::audits::catalogue(), &mut streamed).unwrap();
            let text = String::from_utf8(streamed).unwrap();
            // The same document (members in streaming order: results before invocations and
            // tool), with control and bidirectional characters escaped.
            let parsed: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(parsed, document(&report));
            assert!(!text.contains('\u{202e}') && !text.contains('\u{1b}'));
            let results = text.find("\"results\"").unwrap();
            assert!(results < text.find("\"invocations\"").unwrap());
            assert!(results < text.find("\"tool\"").unwrap());
        }
    }

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
    fn absolute_inputs_become_paths_relative_to_the_repository_root() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join(".github/workflows")).unwrap();
        let wf = repo.join(".github/workflows/a b.yml");
        std::fs::write(&wf, "on: push\n").unwrap();
        let outside = dir.path().join("loose.yml");
        std::fs::write(&outside, "on: push\n").unwrap();
        let report = Report {
            diagnostics: vec![Diagnostic::file(
                Level::Warning,
                wf.to_string_lossy(),
                "message",
            )],
            ..Report::default()
        };
        let base = SrcRoot::of(&report.findings, &report.diagnostics);
        let root = std::fs::canonicalize(&repo).unwrap();
        assert_eq!(base.root.as_deref(), Some(root.as_path()));
        assert_eq!(
            base.artifact(&wf.to_string_lossy()),
            json!({ "uri": ".github/workflows/a%20b.yml", "uriBaseId": "%SRCROOT%" })
        );
        let ids = base.base_ids().unwrap();
        let root_uri = ids["%SRCROOT%"]["uri"].as_str().unwrap();
        assert!(
            root_uri.starts_with("file:///") && root_uri.ends_with("/repo/"),
            "{root_uri}"
        );
        // Outside the root: an absolute file URI, no base id.
        let loose = base.artifact(&outside.to_string_lossy());
        assert!(
            loose["uri"].as_str().unwrap().starts_with("file:///"),
            "{loose}"
        );
        assert!(loose.get("uriBaseId").is_none(), "{loose}");
        // A path that is not on disk stays as given, relative to the root.
        assert_eq!(
            base.artifact("./.github/workflows/gone.yml"),
            json!({ "uri": ".github/workflows/gone.yml", "uriBaseId": "%SRCROOT%" })
        );
        let doc = document(&report);
        assert_eq!(doc["runs"][0]["originalUriBaseIds"], ids);
        assert_eq!(
            doc["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]
                ["artifactLocation"]["uri"],
            ".github/workflows/a%20b.yml"
        );
    }

    #[test]
    fn web_addresses_of_remote_files_are_percent_encoded() {
        assert_eq!(
            web_uri("https://github.com/o/r/blob/v1/.github/a b\n::error::x\u{1b}[2J.yml"),
            "https://github.com/o/r/blob/v1/.github/a%20b%0A::error::x%1B[2J.yml"
        );
        let plain = "https://github.com/o/r/blob/v1/.github/workflows/ci.yml?x=1#L3";
        assert_eq!(web_uri(plain), plain);
        assert_eq!(web_uri("https://h/%C3%A9"), "https://h/%C3%A9");
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
