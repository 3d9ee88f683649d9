//! `audit_streamed` passes findings on while it audits, a group of files at a time, in the order
//! of the finished report: a run of many files is never held whole.

use std::path::PathBuf;

use ciguard_core::{Diagnostic, FileKind, Finding};
use ciguard_pipeline::{ConfigChoice, Options, Sink, View};

/// What orders a finding in a report: path, position, audit, message.
type Key = (String, Option<usize>, &'static str, String);

/// Each batch's finding keys, to check order and that batches come before the end.
#[derive(Default)]
struct Batches {
    batches: Vec<Vec<Key>>,
    diagnostics: usize,
}

impl Sink for Batches {
    fn findings(&mut self, findings: &[Finding]) {
        self.batches.push(
            findings
                .iter()
                .map(|f| {
                    (
                        f.primary.path().to_owned(),
                        f.primary.span().map(|s| s.start),
                        f.audit_id(),
                        f.message.clone(),
                    )
                })
                .collect(),
        );
    }

    fn diagnostic(&mut self, _diagnostic: &Diagnostic) {
        self.diagnostics += 1;
    }
}

fn options() -> Options {
    Options {
        kinds: vec![
            FileKind::Workflow,
            FileKind::Action,
            FileKind::Dependabot,
            FileKind::Dependencies,
        ],
        config: ConfigChoice::Ignore,
        view: View::default(),
        baseline: None,
        write_baseline: None,
        fix: None,
        github: Box::new(|| ciguard_github::ClientConfig::from_flags(None, None, None, true, true)),
        transitive_depth: 0,
    }
}

#[test]
fn findings_stream_in_report_order_across_many_groups() {
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    // More files than one group, with names whose order as paths differs from their numbers.
    for i in 0..300 {
        std::fs::write(
            workflows.join(format!("w{i}.yml")),
            "on: pull_request_target\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n",
        )
        .unwrap();
    }
    // One broken file: its diagnostic reaches the sink and the report.
    std::fs::write(workflows.join("w5.yml"), "on: [\n").unwrap();
    // And a compliant one, without findings.
    std::fs::write(workflows.join("ok.yml"), "on: push\njobs: {}\n").unwrap();
    let inputs = [PathBuf::from(dir.path())];

    let mut sink = Batches::default();
    let streamed = ciguard_pipeline::audit_streamed(&inputs, &options(), &mut sink).unwrap();
    assert!(
        streamed.report.findings.is_empty(),
        "the streamed report keeps no finding"
    );
    assert_eq!(
        streamed.report.files_audited, 300,
        "299 with findings and ok.yml"
    );
    assert_eq!(sink.diagnostics, streamed.report.diagnostics.len());
    assert!(sink.diagnostics >= 1);
    assert!(
        sink.batches.len() >= 4,
        "passed on group by group: {}",
        sink.batches.len()
    );

    let all: Vec<_> = sink.batches.concat();
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "batches arrive in report order");

    // The same findings as the whole report, in the same order.
    let whole = ciguard_pipeline::audit(&inputs, &options()).unwrap();
    let expected: Vec<_> = whole
        .report
        .findings
        .iter()
        .map(|f| {
            (
                f.primary.path().to_owned(),
                f.primary.span().map(|s| s.start),
                f.audit_id(),
                f.message.clone(),
            )
        })
        .collect();
    assert_eq!(all, expected);
    assert!(all.iter().any(|f| f.0.ends_with("w299.yml")));
    assert!(
        !all.iter()
            .any(|f| f.0.ends_with("ok.yml") && f.2 == "unpinned-uses")
    );
}
