//! The on-disk HTTP cache: one file per (base URL, path, token identity), holding the answer's
//! status, headers and body. Writes are atomic (a temporary file renamed into place), so a crash
//! or a concurrent run never leaves a torn entry; an unreadable entry is a miss.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::Digest;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    /// The URL the entry answers (no token: tokens only travel in headers).
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
}

impl Entry {
    pub fn etag(&self) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == "etag")
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug)]
pub(crate) struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.join("http-v1"),
        }
    }

    /// The entry's file name: a hash of the URL and of the token's identity hash.
    pub fn key(url: &str, identity: Option<&str>) -> String {
        let digest =
            sha2::Sha256::digest(format!("{url}\0{}", identity.unwrap_or("anonymous")).as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(key)
    }

    pub fn load(&self, key: &str) -> Option<Entry> {
        let bytes = std::fs::read(self.path(key)).ok()?;
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let mut entry: Entry = serde_json::from_slice(&bytes[..newline]).ok()?;
        entry.body = bytes[newline + 1..].to_vec();
        Some(entry)
    }

    /// Best effort: a cache that cannot be written only costs requests.
    pub fn store(&self, key: &str, entry: &Entry) {
        let path = self.path(key);
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let Ok(mut head) = serde_json::to_vec(entry) else {
            return;
        };
        head.push(b'\n');
        let tmp = dir.join(format!(
            ".{key}.{}.{:?}.tmp",
            std::process::id(),
            std::thread::current().id()
        ));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&head)?;
            f.write_all(&entry.body)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Whether the answer at `path` can never change: it names its object by full commit SHA.
pub(crate) fn is_immutable(path: &str) -> bool {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let is_sha = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
    match segments.as_slice() {
        ["repos", _, _, "commits", sha] => is_sha(sha),
        [
            "repos",
            _,
            _,
            "git",
            "commits" | "tags" | "trees" | "blobs",
            sha,
        ] => is_sha(sha),
        ["repos", _, _, "compare", range] => range
            .split_once("...")
            .is_some_and(|(a, b)| is_sha(a) && is_sha(b)),
        ["repos", _, _, "contents", ..] => query
            .split('&')
            .any(|kv| kv.strip_prefix("ref=").is_some_and(is_sha)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sha_addressed_answers_are_immutable() {
        let sha = "8e5e7e5ab8b370d6c329ec480221332ada57f0ab";
        assert!(is_immutable(&format!("/repos/a/b/commits/{sha}")));
        assert!(is_immutable(&format!("/repos/a/b/git/tags/{sha}")));
        assert!(is_immutable(&format!("/repos/a/b/git/blobs/{sha}")));
        assert!(is_immutable(&format!(
            "/repos/a/b/git/trees/{sha}?recursive=1"
        )));
        assert!(is_immutable(&format!(
            "/repos/a/b/contents/action.yml?ref={sha}"
        )));
        assert!(is_immutable(&format!("/repos/a/b/compare/{sha}...{sha}")));
        assert!(!is_immutable("/repos/a/b/commits/v4"));
        assert!(!is_immutable("/repos/a/b/contents/action.yml?ref=main"));
        assert!(!is_immutable("/repos/a/b/tags?per_page=100"));
    }

    #[test]
    fn entries_round_trip_and_keys_hide_the_identity() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let k1 = Cache::key("https://api/x", Some("id1"));
        assert_ne!(k1, Cache::key("https://api/x", Some("id2")));
        assert_ne!(k1, Cache::key("https://api/x", None));
        let entry = Entry {
            url: "https://api/x".into(),
            status: 200,
            headers: vec![("etag".into(), "\"abc\"".into())],
            body: b"{\"a\":\n1}".to_vec(),
        };
        cache.store(&k1, &entry);
        let back = cache.load(&k1).unwrap();
        assert_eq!(
            (back.status, back.etag(), back.body.as_slice()),
            (200, Some("\"abc\""), entry.body.as_slice())
        );
        assert!(cache.load(&Cache::key("https://api/y", None)).is_none());
    }
}
