//! Remote inputs: `ciguard audit owner/repo[@ref]` reads a repository's workflows, actions,
//! Dependabot configuration and `ciguard.toml` through the GitHub API, without cloning it.
//!
//! An input is remote when no local path of that name exists and it reads as `owner/repo` or
//! `owner/repo@ref` under GitHub's naming rules; a local path always wins (write `./owner/repo`
//! to insist on a local one). The files it yields are shown as `owner/repo@ref:path` and, in
//! SARIF, linked to `https://github.com/owner/repo/blob/<commit>/path`.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ciguard_core::config::{self, Config};
use ciguard_core::diagnostic::{Diagnostic, Level};
use ciguard_core::plural::count;
use ciguard_core::{FileKind, SourceFile};
use ciguard_github::remote::{self, RemoteError, Snapshot};
use ciguard_github::{Client, Error};

use crate::collect::{self, Candidate};

/// A repository named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSpec {
    /// As typed.
    pub input: String,
    /// `owner/repo`.
    pub slug: String,
    /// `None`: the default branch.
    pub reference: Option<String>,
}

/// `owner/repo[@ref]` under GitHub's naming rules, else `None`.
pub fn parse_spec(input: &str) -> Option<RemoteSpec> {
    let (repo, reference) = match input.split_once('@') {
        Some((repo, reference)) => (repo, Some(reference)),
        None => (input, None),
    };
    let (owner, name) = repo.split_once('/')?;
    (valid_owner(owner) && valid_name(name) && reference.is_none_or(valid_ref)).then(|| {
        RemoteSpec {
            input: input.to_owned(),
            slug: repo.to_owned(),
            reference: reference.map(str::to_owned),
        }
    })
}

/// A user or organization login: 1 to 39 letters, digits or inner hyphens.
fn valid_owner(owner: &str) -> bool {
    (1..=39).contains(&owner.len())
        && owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !owner.starts_with('-')
        && !owner.ends_with('-')
}

/// A repository name: 1 to 100 letters, digits, `.`, `-` or `_`, and not `.` or `..`.
fn valid_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name != "."
        && name != ".."
}

/// A branch, tag or commit under git's ref-name rules (`git check-ref-format`).
fn valid_ref(reference: &str) -> bool {
    (1..=255).contains(&reference.len())
        && !reference
            .bytes()
            .any(|b| b.is_ascii_control() || b" ~^:?*[\\".contains(&b))
        && !reference.contains("..")
        && !reference.contains("@{")
        && !reference.contains("//")
        && !reference.starts_with(['/', '-', '.'])
        && !reference.ends_with(['/', '.'])
        && !reference.ends_with(".lock")
        && reference != "@"
}

/// Splits the inputs into local paths and remote repositories. A path that exists (or `-`) is
/// local; a missing path that reads as `owner/repo[@ref]` is remote; anything else stays local
/// (and is reported as unreadable).
pub fn split_inputs(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<RemoteSpec>) {
    let mut local = Vec::new();
    let mut remote: Vec<RemoteSpec> = Vec::new();
    for input in inputs {
        let spec = (input.as_os_str() != "-" && std::fs::symlink_metadata(input).is_err())
            .then(|| input.to_str().and_then(parse_spec))
            .flatten();
        match spec {
            Some(spec) if !remote.contains(&spec) => remote.push(spec),
            Some(_) => {}
            None => local.push(input.clone()),
        }
    }
    (local, remote)
}

/// What the remote inputs contributed: candidates and their files (same order), the
/// configuration of each repository (when discovered), diagnostics and notes.
#[derive(Default)]
pub struct Fetched {
    pub candidates: Vec<Candidate>,
    pub files: Vec<Result<Arc<SourceFile>, Diagnostic>>,
    pub configs: HashMap<PathBuf, Arc<Config>>,
    pub diagnostics: Vec<Diagnostic>,
    pub notes: Vec<String>,
}

/// Fetches every remote input. Failures are diagnostics naming the input; the run goes on.
/// `discover_config`: read the repository's `ciguard.toml` (not with `--config`/`--no-config`).
pub fn fetch(
    specs: &[RemoteSpec],
    config: ciguard_github::ClientConfig,
    kinds: &[FileKind],
    discover_config: bool,
    max_bytes: usize,
) -> Fetched {
    let mut fetched = Fetched::default();
    if specs.is_empty() {
        return fetched;
    }
    if config.token.is_none() && !config.offline {
        fetched.notes.push(
            "remote: no GitHub token, so requests are anonymous (60 per hour for public repositories); set GH_TOKEN or pass --gh-token".into(),
        );
    }
    let api_url = config.api_url.clone();
    let client = Client::new(config);
    let progress = Progress::new();
    for spec in specs {
        progress.show(&format!("fetching {}", spec.input));
        match remote::snapshot(&client, &spec.slug, spec.reference.as_deref()) {
            Ok(snapshot) => {
                read_snapshot(
                    &client,
                    &api_url,
                    spec,
                    &snapshot,
                    kinds,
                    discover_config,
                    max_bytes,
                    &progress,
                    &mut fetched,
                );
            }
            Err(e) => fetched.diagnostics.push(failure(spec, &e)),
        }
    }
    progress.clear();
    fetched.notes.push(format!(
        "remote: {} read with {}",
        count(specs.len(), "repository", "repositories"),
        count(client.request_count(), "request", "requests")
    ));
    fetched
}

/// The diagnostic for a repository that could not be read.
fn failure(spec: &RemoteSpec, e: &RemoteError) -> Diagnostic {
    let (message, help) = match e {
        RemoteError::Api(Error::Offline { .. }) => (
            format!("{} is not in the cache and ciguard runs offline", spec.input),
            "drop --offline to fetch it (an audit of a remote repository needs the network once)"
                .to_owned(),
        ),
        RemoteError::NoRepository { .. } => (
            format!("not a local path, and {e}"),
            format!(
                "check the spelling of `{}`; for a local directory of that name, write ./{}",
                spec.slug, spec.input
            ),
        ),
        RemoteError::NoRef { .. } => (
            e.to_string(),
            "name an existing branch, tag or full commit SHA after `@`, or omit it for the default branch".to_owned(),
        ),
        RemoteError::Api(_) => (
            format!("not a local path, and cannot read the repository from GitHub: {e}"),
            "check the network and the token; other inputs are still audited".to_owned(),
        ),
    };
    Diagnostic::file(Level::Error, &spec.input, message).help(help)
}

/// Chooses the files of `snapshot` to audit, fetches them concurrently and adds them.
#[allow(clippy::too_many_arguments)]
fn read_snapshot(
    client: &Client,
    api_url: &str,
    spec: &RemoteSpec,
    snapshot: &Snapshot,
    kinds: &[FileKind],
    discover_config: bool,
    max_bytes: usize,
    progress: &Progress,
    fetched: &mut Fetched,
) {
    let prefix = format!("{}@{}", spec.slug, snapshot.reference);
    let root = PathBuf::from(&prefix);
    if snapshot.truncated {
        fetched.diagnostics.push(
            Diagnostic::file(
                Level::Warning,
                &spec.input,
                "the repository's tree is too large for one listing; only the root, .github and .github/workflows were read",
            )
            .help("composite actions in other directories were not audited; clone the repository and audit it locally to cover them"),
        );
    }
    let config_entry = discover_config
        .then(|| {
            config::FILE_NAMES.iter().find_map(|name| {
                snapshot
                    .entries
                    .iter()
                    .find(|e| e.path == *name && !e.symlink)
            })
        })
        .flatten();
    let mut wanted = Vec::new();
    for entry in &snapshot.entries {
        let Some(kind) = collect::classify(Path::new(&entry.path)) else {
            continue;
        };
        if !kinds.contains(&kind) {
            continue;
        }
        let display = format!("{prefix}:{}", entry.path);
        if entry.symlink {
            fetched.diagnostics.push(
                Diagnostic::file(Level::Warning, &display, "is a symbolic link; not followed")
                    .help("name the link's target explicitly to audit it"),
            );
            continue;
        }
        let candidate = Candidate {
            path: None,
            display,
            kind,
            sniff: false,
            root: root.clone(),
            named: false,
        };
        if entry.size.is_some_and(|s| s > max_bytes as u64) {
            fetched
                .files
                .push(Err(collect::too_large(&candidate.display, max_bytes)));
            fetched.candidates.push(candidate);
            continue;
        }
        wanted.push((candidate, entry));
    }
    progress.show(&format!(
        "fetching {} of {}",
        count(
            wanted.len() + usize::from(config_entry.is_some()),
            "file",
            "files"
        ),
        spec.input
    ));
    let mut blobs: Vec<_> = wanted.iter().map(|(_, e)| *e).collect();
    blobs.extend(config_entry);
    let bodies = client.map_concurrent(&blobs, |e| remote::blob(client, &spec.slug, &e.sha));
    let mut bodies = bodies.into_iter();
    for (candidate, entry) in wanted {
        let file = match bodies.next() {
            Some(Ok(Some(bytes))) => collect::decode(&candidate, bytes, max_bytes).map(|f| {
                let uri = remote::blob_url(api_url, &spec.slug, &snapshot.commit, &entry.path);
                Arc::new(f.with_uri(uri))
            }),
            Some(Ok(None)) | None => Err(Diagnostic::file(
                Level::Error,
                &candidate.display,
                "cannot read: the blob listed in the tree is missing",
            )),
            Some(Err(e)) => Err(Diagnostic::file(
                Level::Error,
                &candidate.display,
                format!("cannot read: {e}"),
            )
            .help("check the network and the token; other files are still audited")),
        };
        fetched.candidates.push(candidate);
        fetched.files.push(file);
    }
    if discover_config {
        let config = match (config_entry, bodies.next()) {
            (Some(entry), Some(Ok(Some(bytes)))) => {
                let path = format!("{prefix}:{}", entry.path);
                let parsed = String::from_utf8(bytes)
                    .map_err(|_| "invalid UTF-8".to_owned())
                    .and_then(|text| {
                        Config::parse(&text, crate::catalogue::catalogue())
                            .map_err(|e| e.to_string())
                    });
                match parsed {
                    Ok(mut config) => {
                        config.path = Some(PathBuf::from(&path));
                        config
                    }
                    Err(message) => {
                        fetched.diagnostics.push(
                            Diagnostic::file(Level::Error, &path, message)
                                .help("the repository is audited with the default configuration; fix the file or pass --config"),
                        );
                        Config::default()
                    }
                }
            }
            (Some(entry), Some(Err(e))) => {
                fetched.diagnostics.push(Diagnostic::file(
                    Level::Error,
                    format!("{prefix}:{}", entry.path),
                    format!("cannot read: {e}"),
                ));
                Config::default()
            }
            _ => Config::default(),
        };
        fetched.configs.insert(root, Arc::new(config));
    }
    fetched
        .notes
        .push(format!("remote: {} is commit {}", prefix, snapshot.commit));
}

/// One line of progress on stderr, only when it is a terminal.
struct Progress {
    tty: bool,
}

impl Progress {
    fn new() -> Self {
        Self {
            tty: std::io::stderr().is_terminal(),
        }
    }

    fn show(&self, message: &str) {
        if self.tty {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K{message}…");
            let _ = err.flush();
        }
    }

    fn clear(&self) {
        if self.tty {
            let mut err = std::io::stderr();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_owner_repo_and_ref_under_github_rules() {
        let s = parse_spec("octo-org/my.repo_1@v1.2.3").unwrap();
        assert_eq!(
            (s.slug.as_str(), s.reference.as_deref()),
            ("octo-org/my.repo_1", Some("v1.2.3"))
        );
        assert_eq!(parse_spec("a/b").unwrap().reference, None);
        assert_eq!(
            parse_spec("a/b@feature/x").unwrap().reference.as_deref(),
            Some("feature/x")
        );
        for bad in [
            "a",
            "a/b/c",
            "/a/b",
            "./a/b",
            "-a/b",
            "a-/b",
            "a/..",
            "a/b c",
            "a/b@",
            "a/b@x..y",
            "a/b@x:y",
            "a/b@-x",
            "a/b@x.lock",
            "a/.github/workflows/ci.yml",
            "a/b@c@{d",
        ] {
            assert!(parse_spec(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn existing_paths_win() {
        // Tests run in the crate's directory, where `tests/in_memory.rs` exists.
        let local = PathBuf::from("tests/in_memory.rs");
        assert!(parse_spec("tests/in_memory.rs").is_some());
        let (l, r) = split_inputs(&[
            local.clone(),
            PathBuf::from("-"),
            PathBuf::from("octo/repo@v1"),
            PathBuf::from("octo/repo@v1"),
            PathBuf::from("no/such/dir"),
        ]);
        assert_eq!(
            l,
            vec![local, PathBuf::from("-"), PathBuf::from("no/such/dir")]
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].slug, "octo/repo");
    }
}
