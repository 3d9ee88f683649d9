//! Where settings come from: GitHub's answers to API paths, read live or from a snapshot directory.
//!
//! A snapshot holds one file per API path with GitHub's response body unchanged
//! (`DIR/repos/OWNER/REPO/rulesets/ID.json`), and for an answer other than 200 a file beside it with
//! the status (`DIR/.../PATH.status`: the status on the first line, then optionally
//! `x-accepted-github-permissions: ...`). Query parameters ciguard always sends (`per_page`, `page`,
//! `includes_parents`) are not part of the file name; any other query is appended as `@key=value`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One answer from GitHub to a GET.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// The body parsed as JSON; `Null` when it was empty or not JSON.
    pub body: Value,
    /// The body exactly as received.
    pub raw: Vec<u8>,
    /// The `x-accepted-github-permissions` header: what a fine-grained token would need.
    pub accepted_permissions: Option<String>,
}

impl Answer {
    pub fn new(status: u16, raw: Vec<u8>, accepted_permissions: Option<String>) -> Self {
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Self {
            status,
            body,
            raw,
            accepted_permissions,
        }
    }

    pub fn json(status: u16, body: Value) -> Self {
        let raw = serde_json::to_vec_pretty(&body).unwrap_or_default();
        Self {
            status,
            body,
            raw,
            accepted_permissions: None,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.status == 200
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("`{0}` is not a valid API path for a snapshot")]
    BadPath(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: the status file must start with an HTTP status, found `{text}`")]
    Status { path: PathBuf, text: String },
    #[error("the snapshot has no answer for `{0}` (no .json or .status file)")]
    Missing(String),
    #[error("request for `{path}` failed: {message}")]
    Transport { path: String, message: String },
}

/// Something that answers GET requests for API paths (`repos/o/r/rulesets?includes_parents=true`).
pub trait Source {
    fn get(&self, api_path: &str) -> Result<Answer, Error>;
}

impl<S: Source + ?Sized> Source for &S {
    fn get(&self, api_path: &str) -> Result<Answer, Error> {
        (**self).get(api_path)
    }
}

/// The relative file (without extension) that holds the answer for an API path.
pub fn file_stem(api_path: &str) -> Result<PathBuf, Error> {
    let bad = || Error::BadPath(api_path.to_owned());
    let trimmed = api_path.trim_start_matches('/');
    let (path, query) = trimmed.split_once('?').unwrap_or((trimmed, ""));
    let mut out = PathBuf::new();
    for part in path.split('/') {
        if part.is_empty() || part == "." || part == ".." || part.contains(['\\', ':', '\0']) {
            return Err(bad());
        }
        out.push(part);
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .filter(|kv| {
            !matches!(
                kv.split('=').next(),
                Some("per_page" | "page" | "includes_parents")
            )
        })
        .collect();
    if !kept.is_empty() {
        let joined = kept.join("&");
        if joined.contains(['/', '\\', '\0']) {
            return Err(bad());
        }
        let name = out
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(bad)?
            .to_owned();
        out.set_file_name(format!("{name}@{joined}"));
    }
    Ok(out)
}

fn with_ext(stem: &Path, ext: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}

/// A snapshot directory written by `ciguard settings export` or by hand.
pub struct DirSource {
    root: PathBuf,
}

impl DirSource {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

fn read_opt(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Parses a `.status` file: the status, then `header: value` lines.
fn parse_status(path: &Path, text: &str) -> Result<(u16, Option<String>), Error> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("").trim();
    let status = first
        .parse::<u16>()
        .ok()
        .filter(|s| (100..600).contains(s))
        .ok_or_else(|| Error::Status {
            path: path.to_owned(),
            text: first.to_owned(),
        })?;
    let permissions = lines.find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("x-accepted-github-permissions")
            .then(|| v.trim().to_owned())
    });
    Ok((status, permissions))
}

impl Source for DirSource {
    fn get(&self, api_path: &str) -> Result<Answer, Error> {
        let stem = self.root.join(file_stem(api_path)?);
        let body_path = with_ext(&stem, "json");
        let status_path = with_ext(&stem, "status");
        let body = read_opt(&body_path)?;
        let status = match read_opt(&status_path)? {
            Some(bytes) => Some(parse_status(
                &status_path,
                &String::from_utf8_lossy(&bytes),
            )?),
            None => None,
        };
        match (body, status) {
            (None, None) => Err(Error::Missing(api_path.to_owned())),
            (body, Some((status, perms))) => {
                Ok(Answer::new(status, body.unwrap_or_default(), perms))
            }
            (Some(body), None) => Ok(Answer::new(200, body, None)),
        }
    }
}

/// Answers held in memory, keyed by snapshot file stem; for tests and `recommend` round trips.
#[derive(Default)]
pub struct MemorySource {
    answers: BTreeMap<PathBuf, Answer>,
}

impl MemorySource {
    pub fn insert(&mut self, api_path: &str, answer: Answer) -> Result<(), Error> {
        self.answers.insert(file_stem(api_path)?, answer);
        Ok(())
    }
}

impl Source for MemorySource {
    fn get(&self, api_path: &str) -> Result<Answer, Error> {
        self.answers
            .get(&file_stem(api_path)?)
            .cloned()
            .ok_or_else(|| Error::Missing(api_path.to_owned()))
    }
}

/// Wraps a source and keeps every answer, so `export` writes exactly what was read.
pub struct Recorder<S> {
    inner: S,
    seen: RefCell<BTreeMap<PathBuf, Answer>>,
}

impl<S: Source> Recorder<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            seen: RefCell::new(BTreeMap::new()),
        }
    }

    /// Writes every recorded answer under `dir` in the snapshot layout; returns the files written.
    pub fn write(&self, dir: &Path) -> Result<usize, Error> {
        let mut files = 0;
        for (stem, answer) in self.seen.borrow().iter() {
            let stem = dir.join(stem);
            if let Some(parent) = stem.parent() {
                std::fs::create_dir_all(parent).map_err(|source| Error::Io {
                    path: parent.to_owned(),
                    source,
                })?;
            }
            let write = |path: PathBuf, bytes: &[u8]| {
                std::fs::write(&path, bytes).map_err(|source| Error::Io { path, source })
            };
            if !answer.raw.is_empty() || answer.status == 200 {
                write(with_ext(&stem, "json"), &answer.raw)?;
                files += 1;
            }
            if answer.status != 200 {
                let mut text = format!("{}\n", answer.status);
                if let Some(p) = &answer.accepted_permissions {
                    text.push_str(&format!("x-accepted-github-permissions: {p}\n"));
                }
                write(with_ext(&stem, "status"), text.as_bytes())?;
                files += 1;
            }
        }
        Ok(files)
    }
}

impl<S: Source> Source for Recorder<S> {
    fn get(&self, api_path: &str) -> Result<Answer, Error> {
        let answer = self.inner.get(api_path)?;
        self.seen
            .borrow_mut()
            .insert(file_stem(api_path)?, answer.clone());
        Ok(answer)
    }
}

/// Percent-encodes one path segment (environment names may hold spaces and other characters).
pub fn encode_segment(s: &str) -> String {
    ciguard_core::percent::encode(s, ciguard_core::percent::SEGMENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_drop_paging_and_keep_other_queries() {
        assert_eq!(
            file_stem("/repos/o/r/rulesets?includes_parents=true&per_page=100").unwrap(),
            PathBuf::from("repos/o/r/rulesets")
        );
        assert_eq!(
            file_stem("orgs/o/members?role=admin").unwrap(),
            PathBuf::from("orgs/o/members@role=admin")
        );
        assert!(file_stem("repos/../etc").is_err());
        assert!(file_stem("repos//x").is_err());
    }

    #[test]
    fn status_files_carry_permissions() {
        let (s, p) = parse_status(
            Path::new("x"),
            "403\nx-accepted-github-permissions: administration=read\n",
        )
        .unwrap();
        assert_eq!((s, p.as_deref()), (403, Some("administration=read")));
        assert!(parse_status(Path::new("x"), "nope").is_err());
    }
}
