//! The one adapter between the App and the audit library: files read through the API in, the
//! findings a check run reports out, through the shared pipeline's in-memory entry (the same
//! configuration, ignores and filters as `ciguard audit`).

use ciguard_core::actions_lock::LOCKFILE_PATH;
use ciguard_core::diagnostic::Level;
use ciguard_core::{FileKind, Persona, Severity};
use ciguard_pipeline::{MemoryFile, MemoryOptions, View, audit_in_memory};

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
/// (mirrors `ciguard::collect::classify`; the pipeline crate will own it). Dependency files are
/// [`is_dependency_file`].
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
    // pre-commit reads its configuration at the repository root only.
    if path == ".pre-commit-config.yaml" || path == ".pre-commit-config.yml" {
        return Some(FileKind::PreCommit);
    }
    // GitHub only runs files directly inside .github/workflows.
    (parent == ".github/workflows").then_some(FileKind::Workflow)
}

/// A lockfile, manifest or update-bot / package-manager configuration that the offline
/// dependency checks read (cooldown configuration, mutable sources; the App asks no registry).
/// Workflows are audited as workflows.
pub fn is_dependency_file(path: &str) -> bool {
    ciguard_deps::repo::interesting(path)
        && !ciguard_deps::repo::skipped_dir(path)
        && !path.starts_with(".github/workflows/")
}

/// A dependency file that is not a lockfile: where cooldowns are configured (and manifests).
/// When a pull request changes a dependency file, these are read from the whole tree too, so a
/// cooldown configured in a file the pull request does not touch still counts.
pub fn is_dependency_context(path: &str) -> bool {
    is_dependency_file(path) && ciguard_deps::Format::detect_path(path).is_none()
}

/// Whether the App reads `path` besides the audited files (configuration, actions lock).
pub fn is_support_file(path: &str) -> bool {
    ciguard_core::config::FILE_NAMES.contains(&path) || path == LOCKFILE_PATH
}

/// Audits `files` (repository path, bytes) with the repository's configuration text, as
/// `ciguard audit` would offline with the regular persona: through the shared pipeline's
/// in-memory entry, so the App and the CLI cannot disagree. Lockfiles and update-bot
/// configurations get the offline dependency checks (no registry is asked).
pub fn audit_files(
    files: Vec<(String, Vec<u8>)>,
    config_toml: Option<&str>,
) -> Result<Audited, AuditError> {
    let files: Vec<MemoryFile> = files
        .into_iter()
        .filter(|(path, _)| {
            audited_kind(path).is_some() || is_dependency_file(path) || path == LOCKFILE_PATH
        })
        .map(|(path, bytes)| MemoryFile { path, bytes })
        .collect();
    let options = MemoryOptions {
        config: config_toml,
        view: View {
            persona: Persona::Regular,
            ..View::default()
        },
        ..MemoryOptions::default()
    };
    let report = audit_in_memory(&files, &options).map_err(|e| match e {
        ciguard_pipeline::Error::ConfigText(text) => AuditError::Config(text),
        other => AuditError::Config(other.to_string()),
    })?;
    let mut out = Audited {
        files: report.files_audited,
        ..Audited::default()
    };
    // A file the pipeline could not read or parse has an error diagnostic naming it.
    for d in &report.diagnostics {
        if d.level == Level::Error && !out.skipped.iter().any(|s| s.path == d.path) {
            out.skipped.push(Skipped {
                path: d.path.clone(),
                reason: d.message.clone(),
            });
        }
    }
    for f in report.findings {
        let (start_line, end_line) = match (f.primary.source(), f.primary.span()) {
            (Some(file), Some(s)) => {
                let start = file.line_col(s.start).line;
                let end = file.line_col(s.end.saturating_sub(1).max(s.start)).line;
                (start, end.max(start))
            }
            _ => (1, 1),
        };
        out.findings.push(AppFinding {
            audit_id: f.audit_id().to_owned(),
            severity: f.severity,
            path: f.primary.path().to_owned(),
            start_line,
            end_line,
            message: f.message,
        });
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
        assert_eq!(
            audited_kind(".pre-commit-config.yaml"),
            Some(FileKind::PreCommit)
        );
        assert_eq!(audited_kind("docs/.pre-commit-config.yaml"), None);
    }

    #[test]
    fn a_root_pre_commit_config_is_audited_like_the_cli_does() {
        let config = "repos:\n  - repo: http://github.com/pre-commit/pre-commit-hooks\n    rev: v4.0.0\n    hooks:\n      - id: trailing-whitespace\n";
        let files = vec![
            (
                ".pre-commit-config.yaml".to_owned(),
                config.as_bytes().to_vec(),
            ),
            (
                "sub/.pre-commit-config.yaml".to_owned(),
                config.as_bytes().to_vec(),
            ),
        ];
        let found = audit_files(files, None).unwrap();
        let insecure: Vec<_> = found
            .findings
            .iter()
            .filter(|f| f.audit_id == "insecure-url-scheme")
            .collect();
        assert_eq!(insecure.len(), 1, "{:?}", found.findings);
        assert_eq!(insecure[0].path, ".pre-commit-config.yaml");
        assert_eq!(insecure[0].start_line, 2);
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
    fn dependency_files_are_known_by_path() {
        assert!(is_dependency_file("web/package-lock.json"));
        assert!(is_dependency_file(".github/dependabot.yml"));
        assert!(is_dependency_file("renovate.json"));
        assert!(!is_dependency_file(".github/workflows/ci.yml"));
        assert!(!is_dependency_file("node_modules/x/package-lock.json"));
        assert!(!is_dependency_file("README.md"));
        assert!(is_dependency_context("renovate.json"));
        assert!(!is_dependency_context("Cargo.lock"));
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
