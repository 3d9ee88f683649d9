//! The data-driven fixture runner: `tests/fixtures/<audit-id>/*.yml`, with expected findings
//! marked on their line as `# expect: <audit-id>`. Each audit runs alone over its own fixtures.
//!
//! - `ok-*.yml` must be clean, `bad-*.yml` must have findings, `mixed-*.yml` has both (a
//!   compliant entry before a non-compliant one).
//! - `*.action.yml` files are action definitions, `*.dependabot.yml` Dependabot configurations,
//!   everything else a workflow.
//! - `NAME.fixed.yml` beside `NAME.yml` is what applying the audit's fixes must produce; applying
//!   them again must change nothing.
//! - `NAME.toml` beside `NAME.yml` holds the audit's options for that fixture.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ciguard_core::audit::{Audit, AuditContext};
use ciguard_core::engine::audit_file;
use ciguard_core::facts::Facts;
use ciguard_core::fix::apply_fixes;
use ciguard_core::yaml::Limits;
use ciguard_core::{Applicability, FileKind, SourceFile, audits};

fn fixture_dir(audit: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(audit)
}

fn kind_of(name: &str) -> FileKind {
    if name.ends_with(".action.yml") {
        FileKind::Action
    } else if name.ends_with(".dependabot.yml") {
        FileKind::Dependabot
    } else {
        FileKind::Workflow
    }
}

fn expected_lines(text: &str, audit: &str) -> BTreeSet<usize> {
    let marker = format!("# expect: {audit}");
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.find(&marker).is_some_and(|i| {
                // `# expect: a` must not match `# expect: a-b`.
                let rest = &l[i + marker.len()..];
                rest.is_empty() || rest.starts_with([' ', ',', '\r'])
            })
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn options_for(yml: &Path) -> toml::Table {
    let toml_path = yml.with_extension("toml");
    match std::fs::read_to_string(&toml_path) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", toml_path.display())),
        Err(_) => toml::Table::new(),
    }
}

fn run_one(
    audit: &'static dyn Audit,
    path: &Path,
) -> (Arc<SourceFile>, Vec<ciguard_core::Finding>) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let file = Arc::new(SourceFile::new(
        name,
        kind_of(&path.to_string_lossy()),
        text,
    ));
    let options = options_for(path);
    audit
        .validate_options(&options)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let facts = Facts::default();
    let report = audit_file(&file, &Limits::default(), &[audit], &|_| AuditContext {
        options: &options,
        facts: &facts,
        actions_lock: None,
    });
    assert!(
        report.audited,
        "{}: not audited: {:?}",
        path.display(),
        report.diagnostics
    );
    (file, report.findings)
}

#[test]
fn every_audit_matches_its_fixtures() {
    let mut failures = Vec::new();
    for audit in audits::all() {
        let id = audit.meta().id;
        let dir = fixture_dir(id);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".yml") || name.ends_with(".fixed.yml") {
                continue;
            }
            let (file, findings) = run_one(*audit, &path);
            let expected = expected_lines(&file.text, id);
            let actual: BTreeSet<usize> = findings
                .iter()
                .map(|f| file.line_col(f.primary.span().unwrap().start).line)
                .collect();
            if expected != actual {
                failures.push(format!(
                    "{id}/{name}: expected findings on lines {expected:?}, got {actual:?}\n{}",
                    findings
                        .iter()
                        .map(|f| format!(
                            "    {}: {}",
                            file.line_col(f.primary.span().unwrap().start).line,
                            f.message
                        ))
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
            if name.starts_with("ok-") && !findings.is_empty() {
                failures.push(format!("{id}/{name}: an ok- fixture must be clean"));
            }
            if name.starts_with("bad-") && findings.is_empty() {
                failures.push(format!("{id}/{name}: a bad- fixture must have findings"));
            }
            let fixed_path = path.with_extension("fixed.yml");
            if fixed_path.exists() {
                let want = std::fs::read_to_string(&fixed_path).unwrap();
                let all = [Applicability::Safe, Applicability::Unsafe];
                let reaudit = |f: &Arc<SourceFile>| {
                    let options = options_for(&path);
                    let facts = Facts::default();
                    let r = audit_file(f, &Limits::default(), &[*audit], &|_| AuditContext {
                        options: &options,
                        facts: &facts,
                        actions_lock: None,
                    });
                    (r.audited, r.findings)
                };
                let outcome = apply_fixes(&file, &findings, &all, &reaudit);
                if outcome.text != want {
                    failures.push(format!(
                        "{id}/{name}: fixed text differs from {} (refused: {:?}):\n{}",
                        fixed_path.display(),
                        outcome.rejected,
                        outcome.text
                    ));
                }
                let again_file = Arc::new(SourceFile::new(
                    name.clone(),
                    file.kind,
                    outcome.text.clone(),
                ));
                let (_, again_findings) = reaudit(&again_file);
                let again = apply_fixes(&again_file, &again_findings, &all, &reaudit);
                if again.text != outcome.text {
                    failures.push(format!(
                        "{id}/{name}: applying fixes twice changed the file again"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_offline_audit_has_ok_bad_and_mixed_fixtures() {
    let mut missing = Vec::new();
    for audit in audits::all() {
        let meta = audit.meta();
        if meta.needs_network || meta.inputs.is_empty() {
            continue;
        }
        let names: Vec<String> = std::fs::read_dir(fixture_dir(meta.id))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        for prefix in ["ok-", "bad-", "mixed-"] {
            if !names.iter().any(|n| n.starts_with(prefix)) {
                missing.push(format!("{}: no {prefix}* fixture", meta.id));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Facts under which the online audits report the `a/b` uses of `every-audit/`: an archived
/// repository, an impostor commit, a ref that is both a branch and a tag.
fn hostile_facts() -> Facts {
    use ciguard_core::facts::{RefFacts, RepoFacts};
    let mut repo = RepoFacts {
        archived: true,
        tags: Some(Vec::new()),
        ..RepoFacts::default()
    };
    repo.reachable
        .insert("2222222222222222222222222222222222222222".into(), false);
    repo.refs.insert(
        "main".into(),
        RefFacts {
            commit: Some("3333333333333333333333333333333333333333".into()),
            is_branch: true,
            is_tag: true,
        },
    );
    let mut facts = Facts {
        online: true,
        ..Facts::default()
    };
    facts.repos.insert("a/b".into(), repo);
    facts
}

/// The ids of the audits reporting on `text` (a file named `name`), all audits run together.
fn reporting_audits(name: &str, text: &str) -> BTreeSet<&'static str> {
    let file = Arc::new(SourceFile::new(name, kind_of(name), text.to_owned()));
    let facts = hostile_facts();
    let options = toml::Table::new();
    let all: Vec<&dyn Audit> = audits::all().to_vec();
    let report = audit_file(&file, &Limits::default(), &all, &|_| AuditContext {
        options: &options,
        facts: &facts,
        actions_lock: None,
    });
    assert!(report.audited, "{name}: {:?}", report.diagnostics);
    report.findings.iter().map(|f| f.audit).collect()
}

/// `if: false` is honoured once, by the models and the engine's walk, for every audit: nothing
/// in a job or step that never runs is reported. Switched on, the same content is.
#[test]
fn no_audit_reports_what_never_runs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/every-audit");
    for name in ["ok-disabled.yml", "ok-disabled.action.yml"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let reported = reporting_audits(name, &text);
        assert!(reported.is_empty(), "{name}: reported by {reported:?}");
        let enabled = text
            .replace("if: false && ", "if: true && ")
            .replace("if: ${{ false }}", "if: ${{ true }}")
            .replace("if: false", "if: true");
        let reported = reporting_audits(name, &enabled);
        let mut expected = vec![
            "unpinned-uses",
            "archived-uses",
            "template-injection",
            "impostor-commit",
        ];
        if name == "ok-disabled.yml" {
            expected.push("secrets-outside-env"); // a workflow-only audit
        }
        for id in expected {
            assert!(
                reported.contains(id),
                "{name} switched on: {id} silent: {reported:?}"
            );
        }
    }
}
