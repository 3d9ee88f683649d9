//! Every audit's documentation is executable: the `## Example` must trigger the audit, and the
//! `Use instead:` snippet must be clean under every audit.

use std::sync::Arc;

use ciguard_core::audit::AuditContext;
use ciguard_core::engine::audit_file;
use ciguard_core::yaml::Limits;
use ciguard_core::{FileKind, Persona, SourceFile, audits};

/// The ```yaml blocks of a markdown section.
fn yaml_blocks(section: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in section.lines() {
        match (&mut current, line.trim()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().unwrap()),
            (Some(text), _) => {
                text.push_str(line);
                text.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

/// The audit's options from a ```toml block of the example (`[audits.<id>]`), if any.
fn example_options(section: &str, id: &str) -> toml::Table {
    let Some(start) = section.find("```toml\n") else {
        return toml::Table::new();
    };
    let body = &section[start + 8..];
    let body = &body[..body.find("```").unwrap_or(body.len())];
    let table: toml::Table = body
        .parse()
        .unwrap_or_else(|e| panic!("{id}: example options: {e}"));
    table
        .get("audits")
        .and_then(|a| a.get(id))
        .and_then(|t| t.as_table())
        .cloned()
        .unwrap_or_default()
}

fn kind_for(yaml: &str, inputs: &[FileKind]) -> FileKind {
    if yaml.contains("\nruns:") || yaml.starts_with("runs:") {
        FileKind::Action
    } else if yaml.contains("updates:") && inputs.contains(&FileKind::Dependabot) {
        FileKind::Dependabot
    } else if yaml.contains("repos:") && inputs.contains(&FileKind::PreCommit) {
        FileKind::PreCommit
    } else {
        FileKind::Workflow
    }
}

#[test]
fn examples_trigger_and_corrections_are_clean() {
    let mut failures = Vec::new();
    for audit in audits::all() {
        let meta = audit.meta();
        let docs = meta.documentation();
        for heading in ["What it does", "Why is this bad?", "Example", "Fix"] {
            if !docs.contains(&format!("## {heading}\n")) {
                failures.push(format!("{}: documentation has no `## {heading}`", meta.id));
            }
        }
        if meta.needs_network {
            continue;
        }
        let example = meta.section("Example").unwrap_or_default();
        let (bad, good) = match example.split_once("Use instead:") {
            Some((b, g)) => (yaml_blocks(b), yaml_blocks(g)),
            None => {
                failures.push(format!("{}: `## Example` has no `Use instead:`", meta.id));
                continue;
            }
        };
        if bad.is_empty() || good.is_empty() {
            failures.push(format!(
                "{}: example or correction has no ```yaml block",
                meta.id
            ));
        }
        // Audits with no inputs run inside the engine (e.g. `unused-ignore`); the CLI tests cover them.
        for text in bad.into_iter().filter(|_| !meta.inputs.is_empty()) {
            let file = Arc::new(SourceFile::new(
                "example.yml",
                kind_for(&text, meta.inputs),
                text,
            ));
            let facts = ciguard_core::facts::Facts::default();
            let options = example_options(&example, meta.id);
            let report = audit_file(&file, &Limits::default(), &[*audit], &|_| AuditContext {
                options: &options,
                facts: &facts,
                actions_lock: None,
            });
            if !report.findings.iter().any(|f| f.audit_id() == meta.id) {
                failures.push(format!(
                    "{}: `## Example` does not trigger it ({:?})",
                    meta.id, report.diagnostics
                ));
            }
        }
        for text in good {
            let file = Arc::new(SourceFile::new(
                "example.yml",
                kind_for(&text, meta.inputs),
                text,
            ));
            let report = audit_file(&file, &Limits::default(), audits::all(), &|_| {
                AuditContext::empty()
            });
            // Pedantic and auditor findings are opt-in advice: a correction need only satisfy
            // its own audit and every regular one.
            let findings: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.audit_id() == meta.id || f.persona == Persona::Regular)
                .collect();
            if !report.audited || !findings.is_empty() {
                failures.push(format!(
                    "{}: `Use instead:` is not clean: {:?} {:?}",
                    meta.id,
                    findings
                        .iter()
                        .map(|f| format!("{}: {}", f.audit_id(), f.message))
                        .collect::<Vec<_>>(),
                    report.diagnostics
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
