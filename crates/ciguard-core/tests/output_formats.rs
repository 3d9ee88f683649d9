//! Every output format, snapshot-tested on one report built from a real parsed workflow; SARIF is
//! validated against the official SARIF 2.1.0 schema. `CIGUARD_BLESS=1` rewrites the snapshots.

use std::path::PathBuf;
use std::sync::Arc;

use ciguard_core::audit::AuditContext;
use ciguard_core::engine::audit_file;
use ciguard_core::output::{Format, RenderOptions, Stream, Tally, render};
use ciguard_core::yaml::Limits;
use ciguard_core::{
    Applicability, Diagnostic, Edit, FileKind, Finding, Level, Location, Report, Route, SourceFile,
    Span, audits,
};
use serde_json::Value;

const WORKFLOW: &str = r#"name: ci
on:
  pull_request_target:
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - { name: "Café ☕",	uses: actions/setup-node@v4 }
      - name: test
        run: |
          npm ci
          npm test
"#;

/// The audits whose findings the snapshots show (a fixed set, so new audits do not change them).
const AUDITS: &[&str] = &[
    "dangerous-triggers",
    "excessive-permissions",
    "unpinned-uses",
];

fn audit(path: &str, text: &str) -> (Arc<SourceFile>, Vec<Finding>) {
    let file = Arc::new(SourceFile::new(path, FileKind::Workflow, text.to_owned()));
    let selected: Vec<_> = AUDITS
        .iter()
        .map(|id| audits::by_id(id).expect("registered"))
        .collect();
    let report = audit_file(&file, &Limits::default(), &selected, &|_| {
        AuditContext::empty()
    });
    assert!(report.audited, "{:?}", report.diagnostics);
    (file, report.findings)
}

fn span_of(file: &SourceFile, needle: &str) -> Span {
    let start = file.text.find(needle).expect("needle in text");
    Span::new(start, start + needle.len())
}

fn report() -> Report {
    let (file, mut findings) = audit(".github/workflows/ci.yml", WORKFLOW);
    let meta = audits::by_id("dangerous-triggers")
        .expect("registered")
        .meta();
    let run = span_of(&file, "|\n          npm ci\n          npm test\n");
    let route = Route::root()
        .key("jobs")
        .key("build")
        .key("steps")
        .index(2)
        .key("run");
    let checkout_ref = span_of(&file, "${{ github.event.pull_request.head.sha }}");
    let ref_route = Route::root()
        .key("jobs")
        .key("build")
        .key("steps")
        .index(0)
        .key("with")
        .key("ref");
    findings.push(
        Finding::new(
            meta,
            "runs code from the pull request: 50% of it, maybe",
            Location::file(&file, run, route, "this script"),
        )
        .related(Location::file(
            &file,
            checkout_ref,
            ref_route,
            "checked out here",
        ))
        .related(Location::setting(
            "octo/repo: actions → fork pull request workflows",
            Some("https://github.com/octo/repo/settings/actions".to_owned()),
            "approval is not required",
        ))
        .fix(
            "check out the base branch instead",
            Applicability::Unsafe,
            vec![Edit::replace(checkout_ref, "${{ github.sha }}")],
        )
        .fix(
            "move the build to a `pull_request` workflow",
            Applicability::DisplayOnly,
            vec![],
        )
        .persona(ciguard_core::Persona::Auditor),
    );
    let mut chained = Finding::new(
        audits::by_id("unpinned-uses").expect("registered").meta(),
        "octo/inner is pinned to a tag or branch, which can be moved",
        Location::setting(
            "octo/repo: rulesets.main.bypass_actors[0]",
            Some("https://github.com/octo/repo/settings/rules".to_owned()),
            "bypasses the ruleset",
        ),
    )
    .severity(ciguard_core::Severity::Low);
    chained.chain = vec!["octo/outer@v1".to_owned(), "octo/middle@v2".to_owned()];
    findings.push(chained);
    let mut report = Report {
        findings,
        diagnostics: vec![
            Diagnostic::file(
                Level::Error,
                ".github/workflows/broken.yml",
                "did not find expected key, at 3:1",
            )
            .help("fix the YAML syntax, then run ciguard again"),
            Diagnostic {
                level: Level::Warning,
                path: ".github/workflows/odd, name.yml".to_owned(),
                line: Some(2),
                column: Some(5),
                message: "unknown key `tiemout-minutes`".to_owned(),
                help: None,
            },
        ],
        files_audited: 1,
        suppressed: 2,
        notes: vec!["2 audits need the network and were skipped".to_owned()],
    };
    report.sort();
    report
}

fn rendered(format: Format, report: &Report) -> String {
    let mut out = Vec::new();
    render(
        format,
        report,
        &RenderOptions::default(),
        &ciguard_core::audits::catalogue(),
        &mut out,
    )
    .expect("render");
    String::from_utf8(out).expect("utf-8")
}

fn snapshot(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("CIGUARD_BLESS").is_some_and(|v| v != "0") {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header("expected", "actual")
            .to_string();
        panic!("snapshot {name} differs (CIGUARD_BLESS=1 to accept):\n{diff}");
    }
}

#[test]
fn report_has_the_findings_the_snapshots_expect() {
    let report = report();
    let audits: Vec<&str> = report.findings.iter().map(|f| f.audit_id()).collect();
    for id in AUDITS {
        assert!(audits.contains(id), "{id} missing from {audits:?}");
    }
}

#[test]
fn plain_snapshot() {
    snapshot("report.plain.txt", &rendered(Format::Plain, &report()));
}

#[test]
fn json_snapshot() {
    let text = rendered(Format::Json, &report());
    let doc: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(doc["version"], 1);
    assert_eq!(
        doc["summary"]["findings"],
        doc["findings"].as_array().map_or(0, |a| a.len())
    );
    snapshot("report.json", &text);
}

#[test]
fn sarif_snapshot() {
    snapshot("report.sarif.json", &rendered(Format::Sarif, &report()));
}

#[test]
fn github_snapshot() {
    let text = rendered(Format::Github, &report());
    for line in text.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice ")
        );
    }
    snapshot("report.github.txt", &text);
}

/// Findings streamed one batch at a time (diagnostics first, as the pipeline passes them) give
/// the same text as the finished report rendered whole, in every format, and the same counts.
#[test]
fn streamed_batches_render_like_the_whole_report() {
    let report = report();
    assert!(report.findings.len() >= 4);
    let rest = Report {
        findings: Vec::new(),
        diagnostics: report.diagnostics.clone(),
        notes: report.notes.clone(),
        files_audited: report.files_audited,
        suppressed: report.suppressed,
    };
    for format in Format::ALL {
        for batch in [1, 3, report.findings.len()] {
            let mut out = Vec::new();
            let mut stream = Stream::new(
                *format,
                RenderOptions::default(),
                &mut out,
                &ciguard_core::audits::catalogue(),
            );
            for d in &report.diagnostics {
                stream.diagnostic(d).expect("diagnostic");
            }
            for findings in report.findings.chunks(batch) {
                stream.findings(findings).expect("findings");
            }
            let tally = stream.finish(&rest).expect("finish");
            assert_eq!(tally, Tally::of(&report.findings));
            assert_eq!(
                String::from_utf8(out).expect("utf-8"),
                rendered(*format, &report),
                "{format} in batches of {batch}"
            );
        }
    }
}

#[test]
fn empty_report_renders_in_every_format() {
    let report = Report {
        files_audited: 3,
        ..Default::default()
    };
    assert_eq!(
        rendered(Format::Plain, &report),
        "no findings, 0 suppressed, 3 files audited\n"
    );
    assert_eq!(rendered(Format::Github, &report), "");
    let json: Value = serde_json::from_str(&rendered(Format::Json, &report)).expect("json");
    assert_eq!(json["findings"], Value::Array(vec![]));
    let sarif: Value = serde_json::from_str(&rendered(Format::Sarif, &report)).expect("sarif");
    assert_eq!(sarif["runs"][0]["results"], Value::Array(vec![]));
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert_eq!(sarif_errors(&sarif), Vec::<String>::new());
}

fn sarif_validator() -> jsonschema::Validator {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("schema file"))
        .expect("schema JSON");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn sarif_errors(doc: &Value) -> Vec<String> {
    sarif_validator()
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let doc: Value = serde_json::from_str(&rendered(Format::Sarif, &report())).expect("json");
    assert_eq!(sarif_errors(&doc), Vec::<String>::new());
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    // Every audit of the catalogue, sorted by id, so results can be written before the run
    // ends; each result's index names its own rule.
    let ids: Vec<&str> = rules.iter().filter_map(|r| r["id"].as_str()).collect();
    let mut catalogue: Vec<&str> = ciguard_core::audits::catalogue().ids().collect();
    catalogue.sort_unstable();
    catalogue.dedup();
    assert_eq!(ids, catalogue);
    for result in run["results"].as_array().expect("results") {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
    }
    for rule in rules {
        let sev = rule["properties"]["security-severity"]
            .as_str()
            .expect("string");
        assert!(["8.0", "5.5", "3.0", "1.0"].contains(&sev));
        assert!(
            rule["help"]["markdown"]
                .as_str()
                .is_some_and(|h| h.contains("## Why is this bad?"))
        );
    }
    assert_eq!(
        run["invocations"][0]["executionSuccessful"], false,
        "an input could not be audited"
    );
    assert_eq!(
        run["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .map(|a| a.len()),
        Some(2)
    );

    // GitHub rejects results without an artifact location, even for findings about settings.
    for result in run["results"].as_array().expect("results") {
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert!(uri.is_string(), "{result}");
    }

    // The validator is not a rubber stamp: a broken document is rejected.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(sarif_errors(&broken).len() >= 2);
}

fn fingerprints(text: &str) -> Vec<(String, String, u64)> {
    let (_, findings) = audit(".github/workflows/ci.yml", text);
    let report = Report {
        findings,
        files_audited: 1,
        ..Default::default()
    };
    let doc: Value = serde_json::from_str(&rendered(Format::Sarif, &report)).expect("json");
    let mut out: Vec<(String, String, u64)> = doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or_default().to_owned(),
                r["partialFingerprints"]["ciguard/v2"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn fingerprints_survive_unrelated_lines_moving() {
    let before = fingerprints(WORKFLOW);
    let moved = WORKFLOW.replacen(
        "jobs:\n",
        "# a comment someone added\nenv:\n  CI: true\n  LANG: C\n\njobs:\n",
        1,
    );
    let moved = format!("# header\n\n{moved}");
    let after = fingerprints(&moved);
    assert!(!before.is_empty());
    assert_eq!(before.len(), after.len());
    for ((rule_a, fp_a, line_a), (rule_b, fp_b, line_b)) in before.iter().zip(&after) {
        assert_eq!(
            (rule_a, fp_a),
            (rule_b, fp_b),
            "fingerprint changed when lines moved"
        );
        let shift = if *line_a < 4 { 2 } else { 7 };
        assert_eq!(*line_b, line_a + shift, "the finding itself did move");
    }
    // A change to the flagged text itself is a different finding.
    let changed = fingerprints(&WORKFLOW.replace("actions/setup-node@v4", "actions/setup-node@v5"));
    let old: Vec<&String> = before.iter().map(|(_, fp, _)| fp).collect();
    assert!(changed.iter().any(|(_, fp, _)| !old.contains(&fp)));
}

#[test]
fn sarif_uris_are_relative_to_the_repository_root_for_absolute_inputs() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
    let path = dir.path().join(".github/workflows/ci.yml");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, WORKFLOW).expect("write");
    let (_, findings) = audit(&path.to_string_lossy(), WORKFLOW);
    assert!(!findings.is_empty());
    let report = Report {
        findings,
        ..Report::default()
    };
    let doc: Value = serde_json::from_str(&rendered(Format::Sarif, &report)).expect("json");
    assert_eq!(sarif_errors(&doc), Vec::<String>::new());
    let run = &doc["runs"][0];
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("root");
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    for result in run["results"].as_array().expect("results") {
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uri"], ".github/workflows/ci.yml", "{result}");
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%", "{result}");
    }
}
