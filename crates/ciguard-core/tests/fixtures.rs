//! The data-driven fixture runner: `tests/fixtures/<audit-id>/*.yml`, with expected findings
//! marked on their line as `# expect: <audit-id>`. Each audit runs alone over its own fixtures.
//!
//! - `ok-*.yml` must be clean, `bad-*.yml` must have findings, `mixed-*.yml` has both (a
//!   compliant entry before a non-compliant one).
//! - `*.action.yml` files are action definitions, `*.dependabot.yml` Dependabot configurations,
//!   `*.pre-commit.yml` pre-commit configurations, everything else a workflow.
//! - `NAME.fixed.yml` beside `NAME.yml` is what applying the audit's fixes must produce; applying
//!   them again must change nothing.
//! - `NAME.toml` beside `NAME.yml` holds the audit's options for that fixture.
//! - `NAME.snap` beside `NAME.yml` is the findings rendered as plain output (no colour), so a
//!   change of message, column or label shows in review; `CIGUARD_BLESS=1` rewrites it.
//! - `NAME.facts.json` beside `NAME.yml` holds what online resolution would have learned (see
//!   [`facts_for`]); with it the run is online, which audits that need the network require.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ciguard_core::audit::{Audit, AuditContext};
use ciguard_core::engine::audit_file;
use ciguard_core::facts::Facts;
use ciguard_core::fix::apply_fixes;
use ciguard_core::suppress::apply_inline_ignores;
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
    } else if name.ends_with(".pre-commit.yml") {
        FileKind::PreCommit
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
    facts: &Facts,
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
    // `unused-ignore` reads what the other audits report: all of them run, then the ignore
    // comments are applied, and what is left of them is its findings.
    let unused_ignore = audit.meta().id == audits::UnusedIgnore::META.id;
    let run: Vec<&dyn Audit> = if unused_ignore {
        audits::all().to_vec()
    } else {
        vec![audit]
    };
    let report = audit_file(&file, &Limits::default(), &run, &|_| AuditContext {
        options: &options,
        facts,
        actions_lock: None,
    });
    assert!(
        report.audited,
        "{}: not audited: {:?}",
        path.display(),
        report.diagnostics
    );
    let mut findings = report.findings;
    if unused_ignore {
        let ids: Vec<&str> = run.iter().map(|a| a.meta().id).collect();
        findings = apply_inline_ignores(&file, &mut findings, &ids).1;
    }
    (file, findings)
}

/// The facts of `NAME.facts.json` beside a fixture, online; offline, empty facts when there is
/// none. The file maps lowercase `owner/repo` to what is known of it:
///
/// ```json
/// { "a/b": { "archived": false, "default_branch": "main",
///            "tags": { "v1.0.0": "<sha>" },
///            "refs": { "v1": { "commit": "<sha>", "branch": true, "tag": true } },
///            "reachable": { "<sha>": true },
///            "advisories": [ { "id": "GHSA-…", "summary": "…", "severity": "high",
///                              "package": "a/b", "vulnerable_range": "< 1.2.3",
///                              "first_patched": "1.2.3" } ] } }
/// ```
fn facts_for(yml: &Path) -> Facts {
    use ciguard_core::facts::{Advisory, RefFacts, RepoFacts, TagFact};
    use serde_json::Value;
    let path = yml.with_extension("facts.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Facts::default();
    };
    let shown = path.display();
    let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{shown}: {e}"));
    let str_of = |v: &Value| v.as_str().map(str::to_owned);
    let mut facts = Facts {
        online: true,
        ..Facts::default()
    };
    for (slug, repo) in json
        .as_object()
        .unwrap_or_else(|| panic!("{shown}: not an object"))
    {
        let mut facts_of_repo = RepoFacts {
            archived: repo["archived"].as_bool().unwrap_or(false),
            default_branch: str_of(&repo["default_branch"]),
            ..RepoFacts::default()
        };
        if let Some(tags) = repo["tags"].as_object() {
            let tags = tags.iter().map(|(name, commit)| TagFact {
                name: name.clone(),
                commit: str_of(commit).unwrap_or_else(|| panic!("{shown}: tag {name}")),
            });
            facts_of_repo.tags = Some(tags.collect());
        }
        for (name, r) in repo["refs"].as_object().into_iter().flatten() {
            let facts_of_ref = RefFacts {
                commit: str_of(&r["commit"]),
                is_branch: r["branch"].as_bool().unwrap_or(false),
                is_tag: r["tag"].as_bool().unwrap_or(false),
            };
            facts_of_repo.refs.insert(name.clone(), facts_of_ref);
        }
        for (sha, reachable) in repo["reachable"].as_object().into_iter().flatten() {
            let reachable = reachable
                .as_bool()
                .unwrap_or_else(|| panic!("{shown}: {sha}"));
            facts_of_repo.reachable.insert(sha.clone(), reachable);
        }
        if let Some(list) = repo["advisories"].as_array() {
            let advisories = list.iter().map(|a| Advisory {
                id: str_of(&a["id"]).unwrap_or_default(),
                summary: str_of(&a["summary"]).unwrap_or_default(),
                severity: str_of(&a["severity"]).unwrap_or_default(),
                package: str_of(&a["package"]).unwrap_or_default(),
                vulnerable_range: str_of(&a["vulnerable_range"]).unwrap_or_default(),
                first_patched: str_of(&a["first_patched"]),
            });
            facts_of_repo.advisories = Some(advisories.collect());
        }
        facts.repos.insert(slug.to_ascii_lowercase(), facts_of_repo);
    }
    facts
}

/// `findings` rendered as plain output, as `ciguard audit --color never` prints them.
fn rendered(findings: &[ciguard_core::Finding]) -> String {
    use ciguard_core::output::{Format, RenderOptions, render};
    let mut report = ciguard_core::Report {
        findings: findings.to_vec(),
        diagnostics: Vec::new(),
        files_audited: 1,
        suppressed: 0,
        notes: Vec::new(),
    };
    report.sort();
    let mut out = Vec::new();
    render(
        Format::Plain,
        &report,
        &RenderOptions::default(),
        &ciguard_core::audits::catalogue(),
        &mut out,
    )
    .expect("render");
    String::from_utf8(out).expect("UTF-8")
}

/// Compares the rendered findings with `NAME.snap`, or writes it with `CIGUARD_BLESS=1`.
fn check_snapshot(yml: &Path, findings: &[ciguard_core::Finding]) -> Option<String> {
    let snap = yml.with_extension("snap");
    let actual = rendered(findings);
    if std::env::var_os("CIGUARD_BLESS").is_some_and(|v| v != "0") {
        std::fs::write(&snap, &actual).expect("write snapshot");
        return None;
    }
    match std::fs::read_to_string(&snap) {
        Ok(want) if want == actual => None,
        Ok(_) => Some(format!(
            "rendered findings differ from {} (bless with CIGUARD_BLESS=1 cargo test -p ciguard-core --test fixtures):\n{actual}",
            snap.display()
        )),
        Err(_) => Some(format!(
            "{} is missing (bless with CIGUARD_BLESS=1)",
            snap.display()
        )),
    }
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
            if audit.meta().needs_network && !path.with_extension("facts.json").is_file() {
                failures.push(format!(
                    "{id}/{name}: an online audit's case needs NAME.facts.json"
                ));
                continue;
            }
            let (file, findings) = run_one(*audit, &path, &facts_for(&path));
            // Offline, an audit that needs the network reports nothing.
            if audit.meta().needs_network && !run_one(*audit, &path, &Facts::default()).1.is_empty()
            {
                failures.push(format!("{id}/{name}: findings without online facts"));
            }
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
            for f in &findings {
                if let Some(problem) = message_problem(&f.message) {
                    failures.push(format!("{id}/{name}: message {problem}: {:?}", f.message));
                }
            }
            if let Some(problem) = check_snapshot(&path, &findings) {
                failures.push(format!("{id}/{name}: {problem}"));
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
                    let facts = facts_for(&path);
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
fn every_audit_has_ok_bad_and_mixed_fixtures() {
    let mut missing = Vec::new();
    for audit in audits::all() {
        let meta = audit.meta();
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

/// What is wrong with a finding message, if anything: messages start lowercase (they follow
/// `severity[audit]:` in the output) and have no trailing period, like compiler messages.
fn message_problem(message: &str) -> Option<&'static str> {
    if message.chars().next().is_some_and(char::is_uppercase) {
        Some("starts with a capital letter")
    } else if message.ends_with('.') && !message.ends_with("...") {
        Some("ends with a period")
    } else if message.trim().is_empty() {
        Some("is empty")
    } else {
        None
    }
}

#[test]
fn message_convention() {
    assert_eq!(message_problem("`a/b@v1` is not pinned"), None);
    assert!(message_problem("Not pinned").is_some());
    assert!(message_problem("not pinned.").is_some());
    assert!(message_problem("").is_some());
}

#[test]
fn every_fixture_folder_names_a_registered_audit_and_every_audit_has_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let catalogue = audits::catalogue();
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(&root).expect("fixtures folder") {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && catalogue.get(&name).is_none() {
            problems.push(format!("tests/fixtures/{name} names no registered audit"));
        }
    }
    for id in catalogue.ids() {
        if !fixture_dir(id).is_dir() {
            problems.push(format!("{id} has no tests/fixtures/{id}/"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
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
    report.findings.iter().map(|f| f.audit_id()).collect()
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
