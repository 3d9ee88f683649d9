//! Finding the files to audit: walk inputs (honouring .gitignore), classify each file, read it.

use std::path::{Component, Path, PathBuf};

use ciguard_core::diagnostic::{Diagnostic, Level};
use ciguard_core::safe_read::{self, ReadError};
use ciguard_core::{FileKind, SourceFile};

/// A file chosen for auditing, not yet read.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Where to read it from; `None` for stdin.
    pub path: Option<PathBuf>,
    /// The path shown to the user.
    pub display: String,
    pub kind: FileKind,
    /// Whether the kind must be judged from the content (stdin, or a file named explicitly).
    pub sniff: bool,
    /// The repository root whose configuration applies.
    pub root: PathBuf,
    /// Named on the command line (not found by a walk): fixes may write through a link.
    pub named: bool,
}

impl Candidate {
    /// Frees the names of a candidate already audited: a long run keeps counts, not names.
    pub(crate) fn forget(&mut self) {
        self.path = None;
        self.display = String::new();
        self.root = PathBuf::new();
    }
}

/// The kind of a file from its path alone, as GitHub decides it.
pub fn classify(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let is_yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    if !is_yaml {
        return None;
    }
    if name == "action.yml" || name == "action.yaml" {
        return Some(FileKind::Action);
    }
    let parent = path.parent()?;
    let parent_name = parent.file_name().and_then(|n| n.to_str());
    if (name == "dependabot.yml" || name == "dependabot.yaml") && parent_name == Some(".github") {
        return Some(FileKind::Dependabot);
    }
    // GitHub only runs files directly inside .github/workflows.
    if parent_name == Some("workflows")
        && parent
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            == Some(".github")
    {
        return Some(FileKind::Workflow);
    }
    // pre-commit reads its configuration at the repository root; the walk keeps only those.
    if name == ".pre-commit-config.yaml" || name == ".pre-commit-config.yml" {
        return Some(FileKind::PreCommit);
    }
    None
}

/// The kind of an explicitly named file that its path does not tell: judged by its top-level keys.
pub fn sniff(text: &str) -> FileKind {
    let top = |key: &str| text.lines().any(|l| l.starts_with(key));
    if top("runs:") {
        FileKind::Action
    } else if top("updates:") && !top("jobs:") {
        FileKind::Dependabot
    } else if top("repos:") && !top("jobs:") {
        FileKind::PreCommit
    } else {
        FileKind::Workflow
    }
}

/// The repository root of `input`: the nearest ancestor with `.git`, else the input's folder (or
/// the input itself when it is a directory). Ancestors are looked up as written, before links are
/// resolved, so a symbolic link to elsewhere does not move the root there; the result is resolved.
pub fn repository_root(input: &Path) -> PathBuf {
    let is_link = std::fs::symlink_metadata(input).is_ok_and(|m| m.file_type().is_symlink());
    let start = if input.is_dir() && !is_link {
        input.to_path_buf()
    } else {
        match input.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    };
    let written = as_written(&start);
    let found = written
        .ancestors()
        .find(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())
        .unwrap_or(&written);
    std::fs::canonicalize(found).unwrap_or_else(|_| found.to_path_buf())
}

/// `path` made absolute without resolving links, except that `..` (navigation the user typed,
/// such as `../shared/corpus`) is resolved: the part up to the last `..` is canonicalized.
fn as_written(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let parts: Vec<Component<'_>> = absolute.components().collect();
    let Some(last_up) = parts.iter().rposition(|c| *c == Component::ParentDir) else {
        return absolute;
    };
    let navigated: PathBuf = parts[..=last_up].iter().collect();
    let rest: PathBuf = parts[last_up + 1..].iter().collect();
    match std::fs::canonicalize(navigated) {
        Ok(base) => base.join(rest),
        Err(_) => absolute,
    }
}

/// What [`collect`] found: the files to audit, the dependency files of each directory input
/// (from the same walk) and the problems met.
#[derive(Debug, Default)]
pub struct Collected {
    pub candidates: Vec<Candidate>,
    pub diagnostics: Vec<Diagnostic>,
    /// One per directory input when `kinds` has [`FileKind::Dependencies`].
    pub repos: Vec<DirectoryWalk>,
}

/// The dependency files (lockfiles, manifests, cooldown configurations) of one directory input.
#[derive(Debug, Clone)]
pub struct DirectoryWalk {
    /// The repository root whose configuration applies.
    pub root: PathBuf,
    pub repo: ciguard_deps::RepoFiles,
    /// The directory is not in a git checkout: what `.gitignore` hid is not known to be
    /// untracked ([`ciguard_deps::RepoFiles::list_ignored`] names it).
    pub outside_git: bool,
}

static WALKS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many directory walks this process has made (tests prove a directory is walked once).
pub fn walks() -> usize {
    WALKS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Expands the inputs into candidates; problems (missing paths, walk errors) become diagnostics.
/// Each directory is walked once: the same walk finds the files to audit and, when `kinds` has
/// [`FileKind::Dependencies`], the dependency files.
pub fn collect(inputs: &[PathBuf], kinds: &[FileKind]) -> Collected {
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    let mut repos = Vec::new();
    let want_dependencies = kinds.contains(&FileKind::Dependencies);
    // Dependency files are never read under `node_modules`, `target`...: a walk for them alone
    // (`ciguard deps`) does not enter those, nor warns about links inside them.
    let only_dependencies = kinds == [FileKind::Dependencies];
    for input in inputs {
        if input.as_os_str() == "-" {
            out.push(Candidate {
                path: None,
                display: "<stdin>".into(),
                kind: FileKind::Workflow,
                sniff: true,
                root: std::env::current_dir().unwrap_or_default(),
                named: true,
            });
            continue;
        }
        let display_input = escape_path(input);
        let meta = match std::fs::metadata(input) {
            Ok(m) => m,
            Err(e) => {
                diagnostics.push(
                    Diagnostic::file(Level::Error, &display_input, format!("cannot read: {e}"))
                        .help("check the path; pass a file, a directory or `-` for stdin"),
                );
                continue;
            }
        };
        let root = repository_root(input);
        if let Err(e) = safe_read::resolve_inside(&root, input) {
            diagnostics.push(
                Diagnostic::file(Level::Error, &display_input, e.to_string())
                    .help("name the file or directory the link points to, if you trust it"),
            );
            continue;
        }
        if !meta.is_file() && !meta.is_dir() {
            let what = safe_read::describe(&meta.file_type());
            diagnostics.push(
                Diagnostic::file(
                    Level::Error,
                    &display_input,
                    format!("is {what}, not a file or a directory; nothing was read from it"),
                )
                .help("pass a workflow, an action, a repository directory or `-` for stdin"),
            );
            continue;
        }
        if meta.is_file() {
            // An explicitly named file is audited whatever its name; its kind comes from its path or content.
            let kind = classify(input);
            out.push(Candidate {
                path: Some(input.clone()),
                display: display_input,
                kind: kind.unwrap_or(FileKind::Workflow),
                sniff: kind.is_none(),
                root,
                named: true,
            });
            continue;
        }
        let walker = ignore::WalkBuilder::new(input)
            .hidden(false)
            .git_ignore(true)
            .git_exclude(true)
            .parents(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |e| {
                e.file_name() != ".git"
                    && !(only_dependencies
                        && e.file_type().is_some_and(|t| t.is_dir())
                        && ciguard_deps::repo::is_skipped_dir_name(
                            &e.file_name().to_string_lossy(),
                        ))
            })
            .build();
        WALKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut found = Vec::new();
        let mut dependency_files = Vec::new();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    diagnostics.push(Diagnostic::file(
                        Level::Warning,
                        &display_input,
                        format!("skipped while walking: {e}"),
                    ));
                    continue;
                }
            };
            let path = entry.path();
            let file_type = entry.file_type();
            if want_dependencies && file_type.is_some_and(|t| t.is_file()) {
                match dependency_file(input, path) {
                    Ok(Some(rel)) => dependency_files.push(rel),
                    Ok(None) => {}
                    Err(d) => diagnostics.push(d),
                }
            }
            let Some(kind) = classify(path) else {
                if let Some(skipped) = unread_entry(path, file_type, kinds) {
                    diagnostics.push(skipped);
                }
                continue;
            };
            if !kinds.contains(&kind) {
                continue;
            }
            if kind == FileKind::PreCommit && !at_root(path, input, &root) {
                continue;
            }
            if file_type.is_some_and(|t| t.is_symlink()) {
                diagnostics.push(
                    Diagnostic::file(
                        Level::Warning,
                        display_path(path),
                        "is a symbolic link; not followed",
                    )
                    .help("name the link's target explicitly to audit it"),
                );
                continue;
            }
            if file_type.is_some_and(|t| t.is_dir()) {
                diagnostics.push(
                    Diagnostic::file(
                        Level::Warning,
                        display_path(path),
                        format!("is a directory, not a {kind} file"),
                    )
                    .help("rename the directory; GitHub ignores it"),
                );
                continue;
            }
            if let Some(t) = file_type.filter(|t| !t.is_file()) {
                diagnostics.push(
                    Diagnostic::file(
                        Level::Warning,
                        display_path(path),
                        format!(
                            "is {}, not a regular file; not read",
                            safe_read::describe(&t)
                        ),
                    )
                    .help("GitHub reads only regular files; replace it with one"),
                );
                continue;
            }
            found.push(Candidate {
                path: Some(path.to_path_buf()),
                display: display_path(path),
                kind,
                sniff: false,
                root: root.clone(),
                named: false,
            });
        }
        found.sort_by(|a, b| a.display.cmp(&b.display));
        out.extend(found);
        if want_dependencies {
            // In `ciguard audit` the notes of the dependency checks are not shown, so what
            // `.gitignore` hid outside a git checkout is not listed (that would be a second walk).
            let (repo, outside_git) = ciguard_deps::RepoFiles::from_walk(input, dependency_files);
            repos.push(DirectoryWalk {
                root,
                repo,
                outside_git,
            });
        }
    }
    Collected {
        candidates: out,
        diagnostics,
        repos,
    }
}

/// The dependency files `ciguard deps` reads at `path`. A directory is walked by [`collect`], so
/// `ciguard audit` and `ciguard deps` find the same files within the same limits (no links
/// followed, `.gitignore` honoured, git-tracked files kept); outside a git checkout what
/// `.gitignore` hid is also listed, for the notes. A file is read as named.
pub fn dependency_files(path: &Path) -> (ciguard_deps::RepoFiles, Vec<Diagnostic>) {
    if !path.is_dir() {
        return ciguard_deps::RepoFiles::discover(path);
    }
    let mut collected = collect(&[path.to_path_buf()], &[FileKind::Dependencies]);
    let repo = match collected.repos.pop() {
        Some(walk) => {
            let mut repo = walk.repo;
            if walk.outside_git {
                repo.list_ignored();
            }
            repo
        }
        // Refused before walking (a link out of the repository): nothing to read.
        None => ciguard_deps::RepoFiles::from_walk(path, Vec::new()).0,
    };
    (repo, collected.diagnostics)
}

/// Whether `path` is directly in the walked `input` or in its repository root, where pre-commit
/// looks for its configuration (a copy deeper down is test data or a template, never run).
fn at_root(path: &Path, input: &Path, root: &Path) -> bool {
    let Some(parent) = path.parent() else {
        return false;
    };
    parent == input || std::fs::canonicalize(parent).is_ok_and(|p| p == root)
}

/// `path` (under the walked `input`) relative to it, when the dependency checks read it; an
/// error when it would be read but its name is not UTF-8.
fn dependency_file(input: &Path, path: &Path) -> Result<Option<String>, Diagnostic> {
    let Ok(rel) = path.strip_prefix(input) else {
        return Ok(None);
    };
    if rel.to_str().is_none() {
        let lossy = rel.to_string_lossy();
        if ciguard_deps::repo::interesting(&lossy) && !ciguard_deps::repo::skipped_dir(&lossy) {
            return Err(Diagnostic::file(
                Level::Warning,
                escape_path(path),
                "has a name that is not valid UTF-8; not read",
            ));
        }
        return Ok(None);
    }
    let rel = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    let wanted = ciguard_deps::repo::interesting(&rel) && !ciguard_deps::repo::skipped_dir(&rel);
    Ok(wanted.then_some(rel))
}

/// Why a walked entry that [`classify`] did not accept was still worth naming: a link to a
/// directory (what is behind it was not audited) or a name that is not UTF-8 but would be an
/// input if it were. Other entries are skipped silently: they are not inputs.
fn unread_entry(
    path: &Path,
    file_type: Option<std::fs::FileType>,
    kinds: &[FileKind],
) -> Option<Diagnostic> {
    if file_type.is_some_and(|t| t.is_symlink()) && path.is_dir() {
        return Some(
            Diagnostic::file(
                Level::Warning,
                display_path(path),
                "is a symbolic link to a directory; not followed, so nothing under it was audited",
            )
            .help("name the directory it points to explicitly to audit it, if you trust it"),
        );
    }
    let lossy = PathBuf::from(path.to_string_lossy().into_owned());
    if path.to_str().is_none() && classify(&lossy).is_some_and(|k| kinds.contains(&k)) {
        return Some(
            Diagnostic::file(
                Level::Warning,
                display_path(path),
                "has a name that is not valid UTF-8; not read",
            )
            .help("rename it; GitHub expects UTF-8 file names"),
        );
    }
    None
}

/// The path as shown to the user: without a leading `./`, escaped by [`escape_path`] so that a
/// file name cannot forge output lines.
fn display_path(path: &Path) -> String {
    let shown = escape_path(path);
    shown.strip_prefix("./").map(str::to_owned).unwrap_or(shown)
}

pub use safe_read::escape_path;

/// Reads a candidate's text, enforcing the size limit before reading it all. Files are opened
/// without blocking and must be regular files (a FIFO planted since the walk is refused).
pub fn read(candidate: &Candidate, max_bytes: usize) -> Result<SourceFile, Diagnostic> {
    use std::io::Read;
    let bytes = match &candidate.path {
        None => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .lock()
                .take(max_bytes as u64 + 1)
                .read_to_end(&mut bytes)
                .map(|_| bytes)
                .map_err(ReadError::Io)
        }
        // `read_regular` refuses more than the limit; `decode` below reports it as too large.
        Some(path) => safe_read::read_regular(path, max_bytes as u64),
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(ReadError::TooLarge { .. }) => return Err(too_large(&candidate.display, max_bytes)),
        Err(e) => {
            return Err(
                Diagnostic::file(Level::Error, &candidate.display, e.to_string())
                    .help("check that the file exists, is readable and is a regular file"),
            );
        }
    };
    decode(candidate, bytes, max_bytes)
}

/// The diagnostic for a file larger than `max_bytes`.
pub fn too_large(display: &str, max_bytes: usize) -> Diagnostic {
    Diagnostic::file(
        Level::Error,
        display,
        format!("file is larger than the limit of {max_bytes} bytes"),
    )
    .help("workflow and action files are small; check that this is the file you meant")
}

/// A candidate's bytes (read from disk or fetched) as a source file: size limit, UTF-8, kind.
pub fn decode(
    candidate: &Candidate,
    bytes: Vec<u8>,
    max_bytes: usize,
) -> Result<SourceFile, Diagnostic> {
    if bytes.len() > max_bytes {
        return Err(too_large(&candidate.display, max_bytes));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
        let line = prefix.matches('\n').count() + 1;
        let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let mut d = Diagnostic::file(
            Level::Error,
            &candidate.display,
            format!("invalid UTF-8 at byte {valid}"),
        )
        .help("GitHub reads workflows as UTF-8; re-save the file with UTF-8 encoding");
        d.line = Some(line);
        d.column = Some(column);
        d
    })?;
    let kind = if candidate.sniff {
        sniff(&text)
    } else {
        candidate.kind
    };
    Ok(SourceFile::new(candidate.display.clone(), kind, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_like_github() {
        assert_eq!(
            classify(Path::new("r/.github/workflows/ci.yml")),
            Some(FileKind::Workflow)
        );
        assert_eq!(classify(Path::new("r/.github/workflows/sub/ci.yml")), None);
        assert_eq!(
            classify(Path::new("r/x/action.yaml")),
            Some(FileKind::Action)
        );
        assert_eq!(
            classify(Path::new("r/.github/dependabot.yml")),
            Some(FileKind::Dependabot)
        );
        assert_eq!(classify(Path::new("r/dependabot.yml")), None);
        assert_eq!(
            classify(Path::new("r/.pre-commit-config.yaml")),
            Some(FileKind::PreCommit)
        );
        // In `.github/workflows` it is read as a workflow, then skipped as not one.
        assert_eq!(
            classify(Path::new("r/.github/workflows/.pre-commit-config.yml")),
            Some(FileKind::Workflow)
        );
        assert_eq!(classify(Path::new("r/.github/workflows/notes.md")), None);
    }

    #[test]
    fn the_root_is_found_as_written_but_dot_dot_is_navigation() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(base.join("repo/.git")).unwrap();
        std::fs::create_dir_all(base.join("repo/sub")).unwrap();
        std::fs::create_dir_all(base.join("data/x")).unwrap();
        std::os::unix::fs::symlink(base.join("data"), base.join("repo/sub/link")).unwrap();
        // Through `..` the data folder is outside the repository: its own root.
        let up = base.join("repo/sub/../../data/x");
        assert_eq!(repository_root(&up), base.join("data/x"));
        // Through a link inside the repository, the repository stays the root.
        assert_eq!(
            repository_root(&base.join("repo/sub/link/x")),
            base.join("repo")
        );
        assert_eq!(repository_root(&base.join("repo/sub")), base.join("repo"));
    }

    #[test]
    fn sniffs_stdin_documents() {
        assert_eq!(
            sniff("name: x\nruns:\n  using: composite\n"),
            FileKind::Action
        );
        assert_eq!(sniff("version: 2\nupdates: []\n"), FileKind::Dependabot);
        assert_eq!(sniff("repos:\n- repo: local\n"), FileKind::PreCommit);
        assert_eq!(sniff("on: push\njobs: {}\n"), FileKind::Workflow);
    }

    #[test]
    fn deps_and_audit_find_the_same_dependency_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "").unwrap();
        };
        write("Cargo.lock");
        write("web/package-lock.json");
        write("node_modules/left-pad/package-lock.json");
        write("target/Cargo.lock");
        write("hidden/Cargo.lock");
        write("README.md");
        std::fs::write(root.join(".gitignore"), "hidden/\n").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("web"), root.join("node_modules/web")).unwrap();
            std::os::unix::fs::symlink(root.join("Cargo.lock"), root.join("linked.lock")).unwrap();
        }
        let (deps, diagnostics) = dependency_files(root);
        let kinds = [
            FileKind::Workflow,
            FileKind::Action,
            FileKind::Dependabot,
            FileKind::Dependencies,
        ];
        let audit = collect(&[root.to_path_buf()], &kinds);
        assert_eq!(deps.files, ["Cargo.lock", "web/package-lock.json"]);
        assert_eq!(deps.files, audit.repos[0].repo.files);
        // Outside a git checkout, what `.gitignore` hid is named; nothing is said about the
        // links under `node_modules`, which a walk for dependency files does not enter.
        assert_eq!(deps.ignored, ["hidden/Cargo.lock"]);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
    }
}
