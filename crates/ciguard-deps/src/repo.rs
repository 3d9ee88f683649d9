//! Finding the files that matter in a repository: lockfiles, manifests, update-bot and
//! package-manager configurations. `.gitignore` is honoured; dependency and build directories are
//! skipped.

use std::path::{Component, Path, PathBuf};

use ciguard_core::{Diagnostic, Level};

/// The interesting files under a root, as `/`-separated paths relative to it, sorted.
#[derive(Debug, Clone)]
pub struct RepoFiles {
    pub root: PathBuf,
    /// How the root is shown in messages (`""` for the current directory).
    pub shown_root: String,
    pub files: Vec<String>,
}

const SKIP_DIRS: [&str; 6] = [
    ".git",
    "node_modules",
    "target",
    ".venv",
    "venv",
    "__pycache__",
];

fn interesting(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if crate::lockfile::Format::detect(name).is_some() {
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
                },
                diagnostics,
            );
        }
        let mut files = Vec::new();
        let walker = ignore::WalkBuilder::new(root)
            .hidden(false)
            .git_global(false)
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
                        root.display().to_string(),
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
        files.sort();
        (
            RepoFiles {
                root: root.to_path_buf(),
                shown_root,
                files,
            },
            diagnostics,
        )
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
