//! The one adapter between the App and the audit library: files read through the API in, the
//! findings a check run reports out. Written on today's `ciguard_core` API the way `ciguard
//! audit` runs one file (`audit_one`); it will call the shared pipeline's in-memory entry once
//! that exists, and nothing else in the App changes.

use std::sync::Arc;

use ciguard_core::actions_lock::{ActionsLock, LOCKFILE_PATH};
use ciguard_core::audit::{Audit, AuditContext};
use ciguard_core::config::Config;
use ciguard_core::engine::audit_file;
use ciguard_core::facts::Facts;
use ciguard_core::suppress::apply_inline_ignores;
use ciguard_core::yaml::Limits;
use ciguard_core::{FileKind, Persona, Severity, SourceFile, audits};

/// Files larger than this are not fetched nor audited (a workflow is a few KB).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// A finding as the check run reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFinding {
    pub audit_id: String,
    pub severity: Severity,
    /// The repository path.
    pub path: String,
    /// 1-based.
    pub start_line: usize,
    pub end_line: usize,
    pub message: String,
}

/// A file that could not be audited, said in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The repository's `ciguard.toml` does not parse: reported, never replaced by defaults.
    #[error("ciguard.toml: {0}")]
    Config(String),
}

/// The audit result of a set of files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audited {
    pub findings: Vec<AppFinding>,
    pub skipped: Vec<Skipped>,
    /// Files audited.
    pub files: usize,
}

/// The kind of a repository path the App audits, as GitHub decides it from the path alone
/// (mirrors `ciguard::collect::classify`; the pipeline crate will own it). Lockfiles are not
/// audited here yet: the file-system-bound `ciguard-deps` entry needs the pipeline's in-memory
/// one, so they are not fetched either.
pub fn audited_kind(path: &str) -> Option<FileKind> {
    let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
    if !(name.ends_with(".yml") || name.ends_with(".yaml")) {
        return None;
    }
    if name == "action.yml" || name == "action.yaml" {
        return Some(FileKind::Action);
    }
    if parent == ".github" && (name == "dependabot.yml" || name == "dependabot.yaml") {
        return Some(FileKind::Dependabot);
    }
    // GitHub only runs files directly inside .github/workflows.
    (parent == ".github/workflows").then_some(FileKind::Workflow)
}

/// Whether the App reads `path` besides the audited files (configuration, actions lock).
pub fn is_support_file(path: &str) -> bool {
    ciguard_core::config::FILE_NAMES.contains(&path) || path == LOCKFILE_PATH
}

/// Audits `files` (repository path, bytes) with the repository's configuration text, as
/// `ciguard audit` would offline with the regular persona.
pub fn audit_files(
    files: Vec<(String, Vec<u8>)>,
    config_toml: Option<&str>,
) -> Result<Audited, AuditError> {
    let config = match config_toml {
        Some(text) => Config::parse(text).map_err(|e| AuditError::Config(e.to_string()))?,
        None => Config::default(),
    };
    let lock = files
        .iter()
        .find(|(path, _)| path == LOCKFILE_PATH)
        .and_then(|(_, bytes)| std::str::from_utf8(bytes).ok())
        .and_then(|text| ActionsLock::parse(text).ok());
    let enabled: Vec<&dyn Audit> = audits::all()
        .iter()
        .copied()
        .filter(|a| !config.is_disabled(a.meta().id))
        .collect();
    let ids: Vec<&str> = enabled.iter().map(|a| a.meta().id).collect();
    let facts = Facts::default();
    let empty = toml::Table::new();
    let mut out = Audited::default();
    for (path, bytes) in files {
        let Some(kind) = audited_kind(&path) else {
            continue;
        };
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                out.skipped.push(Skipped {
                    path,
                    reason: "not UTF-8 text".into(),
                });
                continue;
            }
        };
        let file = Arc::new(SourceFile::new(path.clone(), kind, text));
        let report = audit_file(&file, &Limits::default(), &enabled, &|audit| AuditContext {
            options: config
                .settings(audit.meta().id)
                .map_or(&empty, |s| &s.options),
            facts: &facts,
            actions_lock: lock.as_ref(),
        });
        if !report.audited {
            let reason = report
                .diagnostics
                .first()
                .map_or_else(|| "could not be parsed".to_owned(), |d| d.message.clone());
            out.skipped.push(Skipped { path, reason });
            continue;
        }
        out.files += 1;
        let mut findings = report.findings;
        findings.retain_mut(|f| {
            let line = f.primary.span().map(|s| file.line_col(s.start).line);
            config.apply(f, line)
        });
        let (_, unused) = apply_inline_ignores(&file, &mut findings, &ids);
        if !config.is_disabled("unused-ignore") {
            findings.extend(unused);
        }
        for f in findings
            .into_iter()
            .filter(|f| f.persona <= Persona::Regular)
        {
            let (start_line, end_line) = f.primary.span().map_or((1, 1), |s| {
                let start = file.line_col(s.start).line;
                let end = file.line_col(s.end.saturating_sub(1).max(s.start)).line;
                (start, end.max(start))
            });
            out.findings.push(AppFinding {
                audit_id: f.audit.to_owned(),
                severity: f.severity,
                path: path.clone(),
                start_line,
                end_line,
                message: f.message,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNPINNED: &str = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n";

    #[test]
    fn kinds_follow_githubs_paths() {
        assert_eq!(
            audited_kind(".github/workflows/ci.yml"),
            Some(FileKind::Workflow)
        );
        assert_eq!(audited_kind(".github/workflows/sub/ci.yml"), None);
        assert_eq!(audited_kind("a/b/action.yaml"), Some(FileKind::Action));
        assert_eq!(audited_kind("action.yml"), Some(FileKind::Action));
        assert_eq!(
            audited_kind(".github/dependabot.yml"),
            Some(FileKind::Dependabot)
        );
        assert_eq!(audited_kind("dependabot.yml"), None);
        assert_eq!(audited_kind("README.md"), None);
    }

    #[test]
    fn audits_a_workflow_on_exact_lines_and_honours_the_config() {
        let files = vec![(
            ".github/workflows/ci.yml".to_owned(),
            UNPINNED.as_bytes().to_vec(),
        )];
        let found = audit_files(files.clone(), None).unwrap();
        assert_eq!(found.files, 1);
        let unpinned = found
            .findings
            .iter()
            .find(|f| f.audit_id == "unpinned-uses")
            .expect("unpinned-uses is reported");
        assert_eq!(unpinned.start_line, 6);
        assert_eq!(unpinned.path, ".github/workflows/ci.yml");
        let config = "[audits.unpinned-uses]\ndisable = true\n";
        let quiet = audit_files(files.clone(), Some(config)).unwrap();
        assert!(quiet.findings.iter().all(|f| f.audit_id != "unpinned-uses"));
        let err = audit_files(files, Some("[audits")).unwrap_err();
        assert!(err.to_string().starts_with("ciguard.toml:"), "{err}");
    }

    #[test]
    fn a_clean_workflow_has_no_findings_and_junk_is_skipped_not_fatal() {
        let clean = "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n";
        let files = vec![
            (
                ".github/workflows/ok.yml".to_owned(),
                clean.as_bytes().to_vec(),
            ),
            (".github/workflows/bin.yml".to_owned(), vec![0xff, 0xfe]),
            (".github/workflows/bad.yml".to_owned(), b"on: [".to_vec()),
            ("README.md".to_owned(), b"@someone".to_vec()),
        ];
        let found = audit_files(files, None).unwrap();
        assert_eq!(found.files, 1);
        assert_eq!(found.findings, vec![], "{:?}", found.findings);
        let skipped: Vec<&str> = found.skipped.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(
            skipped,
            [".github/workflows/bin.yml", ".github/workflows/bad.yml"]
        );
    }
}
