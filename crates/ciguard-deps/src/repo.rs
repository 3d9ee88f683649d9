//! Finding the files that matter in a repository: lockfiles, manifests, update-bot and
//! package-manager configurations. Dependency and build directories are skipped. In a git
//! checkout, what git tracks is read whatever `.gitignore` says; elsewhere `.gitignore` is
//! honoured and what it hid is named.

use std::path::{Component, Path, PathBuf};

use ciguard_core::{Diagnostic, Level};

use crate::error::ConfigError;

/// The interesting files under a root, as `/`-separated paths relative to it, sorted.
#[derive(Debug, Clone)]
pub struct RepoFiles {
    pub root: PathBuf,
    /// How the root is shown in messages (`""` for the current directory).
    pub shown_root: String,
    pub files: Vec<String>,
    /// Interesting files `.gitignore` hid, outside a git checkout (so not known to be tracked).
    pub ignored: Vec<String>,
    /// The input was one file, named by the user.
    pub explicit_file: bool,
}

const SKIP_DIRS: [&str; 6] = [
    ".git",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
];

/// Whether `rel` (relative to the root, `/`-separated) is a file the dependency checks read.
pub fn interesting(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if crate::lockfile::Format::detect_path(rel).is_some() {
        return true;
    }
    if rel.starts_with(".github/workflows/") {
        return name.ends_with(".yml") || name.ends_with(".yaml");
    }
    matches!(
        name,
        "Cargo.toml"
            | "package.json"
            | "pyproject.toml"
            | "setup.py"
            | "setup.cfg"
            | "Pipfile"
            | "Pipfile.lock"
            | "uv.toml"
            | "pnpm-workspace.yaml"
            | ".npmrc"
            | ".yarnrc.yml"
            | "bunfig.toml"
            | "bun.lock"
            | "renovate.json"
            | "renovate.json5"
            | ".renovaterc"
            | ".renovaterc.json"
            | ".renovaterc.json5"
    ) || rel == ".github/dependabot.yml"
        || rel == ".github/dependabot.yaml"
        || rel.ends_with(".cargo/config.toml")
        || rel.ends_with(".cargo/config")
}

impl RepoFiles {
    /// Walks `root` (a directory, or one file).
    pub fn discover(root: &Path) -> (RepoFiles, Vec<Diagnostic>) {
        let shown_root = root.to_string_lossy().trim_end_matches('/').to_owned();
        let shown_root = if shown_root == "." {
            String::new()
        } else {
            shown_root
        };
        let mut diagnostics = Vec::new();
        if root.is_file() {
            let name = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let parent = root
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let parent = if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent
            };
            let shown = parent.to_string_lossy().trim_end_matches('/').to_owned();
            let shown = if shown == "." { String::new() } else { shown };
            return (
                RepoFiles {
                    root: parent,
                    shown_root: shown,
                    files: vec![name],
                    ignored: Vec::new(),
                    explicit_file: true,
                },
                diagnostics,
            );
        }
        if !root.is_dir() {
            diagnostics.push(
                Diagnostic::file(
                    Level::Error,
                    root.display().to_string(),
                    "no such file or directory",
                )
                .help("give the path of a repository or a lockfile"),
            );
            return (
                RepoFiles {
                    root: root.to_path_buf(),
                    shown_root,
                    files: Vec::new(),
                    ignored: Vec::new(),
                    explicit_file: false,
                },
                diagnostics,
            );
        }
        let files = walk(root, true, &mut diagnostics);
        let (mut repo, outside_git) = RepoFiles::from_walk(root, files);
        if outside_git {
            repo.list_ignored();
        }
        (repo, diagnostics)
    }

    /// Fills `ignored` with the interesting files `.gitignore` hid: for a directory outside a
    /// git checkout, where they are not known to be untracked (a second walk, that ignores
    /// `.gitignore`).
    pub fn list_ignored(&mut self) {
        let all = walk(&self.root, false, &mut Vec::new());
        let known: std::collections::HashSet<&String> = self.files.iter().collect();
        self.ignored = all.into_iter().filter(|f| !known.contains(f)).collect();
    }

    /// The dependency files of the directory `root` from a walk that honoured `.gitignore`
    /// (`files`: the [`interesting`] ones outside [`skipped_dir`]s), plus those git tracks that
    /// `.gitignore` matches. The flag says `root` is not in a git checkout: what `.gitignore`
    /// hid is then not known to be tracked, and `ignored` is left for the caller to fill.
    pub fn from_walk(root: &Path, mut files: Vec<String>) -> (RepoFiles, bool) {
        let shown_root = root.to_string_lossy().trim_end_matches('/').to_owned();
        let shown_root = if shown_root == "." {
            String::new()
        } else {
            shown_root
        };
        let mut outside_git = false;
        match tracked_files(root) {
            // Tracked files `.gitignore` matches are audited like the others.
            Some(tracked) => {
                let known: std::collections::HashSet<&String> = files.iter().collect();
                let extra: Vec<String> = tracked
                    .into_iter()
                    .filter(|rel| interesting(rel) && !known.contains(rel) && !skipped_dir(rel))
                    .filter(|rel| {
                        std::fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.is_file())
                    })
                    .collect();
                files.extend(extra);
            }
            None => outside_git = true,
        }
        files.sort();
        files.dedup();
        (
            RepoFiles {
                root: root.to_path_buf(),
                shown_root,
                files,
                ignored: Vec::new(),
                explicit_file: false,
            },
            outside_git,
        )
    }

    /// Drops the files matched by `patterns` (gitignore syntax, relative to the root); returns
    /// how many were dropped.
    pub fn exclude(&mut self, patterns: &[String]) -> Result<usize, ConfigError> {
        if patterns.is_empty() {
            return Ok(0);
        }
        let mut builder = ignore::gitignore::GitignoreBuilder::new(&self.root);
        for p in patterns {
            builder.add_line(None, p).map_err(|e| {
                ConfigError::new(format!("`deps.exclude`: invalid pattern `{p}`: {e}"))
            })?;
        }
        let matcher = builder
            .build()
            .map_err(|e| ConfigError::new(format!("`deps.exclude`: {e}")))?;
        let before = self.files.len();
        self.files
            .retain(|rel| !matcher.matched_path_or_any_parents(rel, false).is_ignore());
        self.ignored
            .retain(|rel| !matcher.matched_path_or_any_parents(rel, false).is_ignore());
        Ok(before - self.files.len())
    }

    /// The path of a file as shown to the user.
    pub fn display(&self, rel: &str) -> String {
        if self.shown_root.is_empty() {
            rel.to_owned()
        } else {
            format!("{}/{rel}", self.shown_root)
        }
    }
}

/// Whether `rel` is a regular file under `root` reached through no link (a link could lead out
/// of the repository).
pub fn regular_file(root: &Path, rel: &str) -> bool {
    if rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return false;
    }
    let mut path = root.to_path_buf();
    for part in rel.split('/') {
        path.push(part);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return false;
        }
    }
    std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file())
}

/// Whether `name` is a dependency or build directory (`node_modules`, `target`...) no walk
/// enters for dependency files.
pub fn is_skipped_dir_name(name: &str) -> bool {
    SKIP_DIRS.contains(&name)
}

/// Whether `rel` lies in a dependency or build directory (`node_modules`, `target`...).
pub fn skipped_dir(rel: &str) -> bool {
    rel.split('/').any(|c| SKIP_DIRS.contains(&c))
}

/// The interesting files under `root`, honouring `.gitignore` files or not.
fn walk(root: &Path, gitignore: bool, diagnostics: &mut Vec<Diagnostic>) -> Vec<String> {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .git_global(false)
        .git_ignore(gitignore)
        .git_exclude(gitignore)
        .ignore(gitignore)
        .parents(gitignore)
        .require_git(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
        })
        .build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                diagnostics.push(Diagnostic::file(
                    Level::Warning,
                    ciguard_core::safe_read::escape_path(root),
                    format!("cannot read part of the directory: {e}"),
                ));
                continue;
            }
        };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        if rel.to_str().is_none() {
            // It could not be named back to read it; say which (escaped) if it mattered.
            if interesting(&rel.to_string_lossy()) {
                diagnostics.push(Diagnostic::file(
                    Level::Warning,
                    ciguard_core::safe_read::escape_path(entry.path()),
                    "has a name that is not valid UTF-8; not read",
                ));
            }
            continue;
        }
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if interesting(&rel) {
            files.push(rel);
        }
    }
    files
}

/// The files git tracks under `root`, relative to it; `None` when `root` is not in a git
/// checkout (or git is missing). The repository's own configuration cannot run commands here:
/// `core.fsmonitor` is forced off and no optional locks are taken.
fn tracked_files(root: &Path) -> Option<Vec<String>> {
    // Most inputs outside a checkout (an unpacked archive, a corpus) have no `.git` above them:
    // asking git there would cost a process per directory for nothing.
    // Canonical first: the ancestors of a relative path end at the current directory.
    let absolute = root.canonicalize().ok()?;
    if !absolute
        .ancestors()
        .any(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())
    {
        return None;
    }
    // Without `--full-name`, paths are relative to `-C root`, which is what the walk yields.
    let output = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "-c",
            "core.fsmonitor=false",
            "--no-optional-locks",
            "ls-files",
            "-z",
            "--cached",
            "--",
            ".",
        ])
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(
        output
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .filter_map(|p| std::str::from_utf8(p).ok())
            .map(str::to_owned)
            .collect(),
    )
}

/// Whether `path`, written in the file `rel_file` (relative to the root), points outside the root.
/// Lexical: `..` climbs, absolute paths are outside unless under the root itself.
pub fn points_outside(root: &Path, rel_file: &str, path: &str) -> bool {
    let p = Path::new(path);
    if p.is_absolute() {
        let canon = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        return !(p.starts_with(&canon) || p.starts_with(root));
    }
    let dir = Path::new(rel_file).parent().unwrap_or(Path::new(""));
    let mut depth: i64 = 0;
    for c in dir.join(p).components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return true,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside() {
        let root = Path::new("/repo");
        assert!(!points_outside(root, "Cargo.toml", "crates/x"));
        assert!(points_outside(root, "Cargo.toml", "../x"));
        assert!(!points_outside(root, "web/package-lock.json", "../lib"));
        assert!(points_outside(root, "web/package-lock.json", "../../lib"));
        assert!(points_outside(root, "a/b/c.lock", "x/../../../../y"));
        assert!(points_outside(root, "Cargo.toml", "/opt/x"));
        assert!(!points_outside(root, "Cargo.toml", "/repo/x"));
    }
}
