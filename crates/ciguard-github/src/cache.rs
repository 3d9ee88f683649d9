//! The on-disk HTTP cache: one file per (base URL, path, token identity), holding the answer's
//! status, headers and body. Writes are atomic (a temporary file renamed into place), so a crash
//! or a concurrent run never leaves a torn entry; an unreadable entry is a miss. The cache
//! directory is not trusted either: an entry is read only when it is a regular file (never through
//! a symlink, never a FIFO or device) of bounded size, and the client treats a body that does not
//! parse as a miss.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::Digest;

/// Largest entry read back: the client's body limit plus room for the status and headers.
const MAX_ENTRY_BYTES: u64 = crate::client::MAX_BODY + 1024 * 1024;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    /// The URL the entry answers (no token: tokens only travel in headers).
    pub url: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// SHA-256 of the body, checked on load: a truncated or edited body is a miss.
    #[serde(default)]
    pub body_sha256: String,
    #[serde(skip)]
    pub body: Vec<u8>,
}

impl Entry {
    pub fn new(url: String, status: u16, headers: Vec<(String, String)>, body: Vec<u8>) -> Self {
        Self {
            url,
            status,
            headers,
            body_sha256: hex_sha256(&body),
            body,
        }
    }

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
            // v2: entries carry a body digest; v1 entries (without one) are left unread.
            dir: dir.join("http-v2"),
        }
    }

    /// The entry's file name: a hash of the URL and of the token's identity hash.
    pub fn key(url: &str, identity: Option<&str>) -> String {
        hex_sha256(format!("{url}\0{}", identity.unwrap_or("anonymous")).as_bytes())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2]).join(key)
    }

    pub fn load(&self, key: &str) -> Option<Entry> {
        let bytes = read_regular_file(&self.path(key), MAX_ENTRY_BYTES)?;
        let newline = bytes.iter().position(|&b| b == b'\n')?;
        let mut entry: Entry = serde_json::from_slice(&bytes[..newline]).ok()?;
        entry.body = bytes[newline + 1..].to_vec();
        (entry.body_sha256 == hex_sha256(&entry.body)).then_some(entry)
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
            // A leftover of a crashed run is replaced; a name planted as a link is removed, not
            // followed (`create_new` never opens an existing path).
            let _ = std::fs::remove_file(&tmp);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
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

fn hex_sha256(bytes: &[u8]) -> String {
    ciguard_core::hex::encode(&sha2::Sha256::digest(bytes))
}

/// The content of `path` when it is a regular file of at most `limit` bytes, else `None`. Opened
/// without following a final symlink and without blocking on a FIFO; the type and size are
/// checked on the opened file, so a swap between a check and the open does not matter.
fn read_regular_file(path: &Path, limit: u64) -> Option<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    if !std::fs::symlink_metadata(path).ok()?.file_type().is_file() {
        return None;
    }
    let file = options.open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.file_type().is_file() || meta.len() > limit {
        return None;
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).ok()?);
    // `take` bounds a file that grows after the check.
    file.take(limit + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= limit).then_some(bytes)
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
        let entry = Entry::new(
            "https://api/x".into(),
            200,
            vec![("etag".into(), "\"abc\"".into())],
            b"{\"a\":\n1}".to_vec(),
        );
        cache.store(&k1, &entry);
        let back = cache.load(&k1).unwrap();
        assert_eq!(
            (back.status, back.etag(), back.body.as_slice()),
            (200, Some("\"abc\""), entry.body.as_slice())
        );
        assert!(cache.load(&Cache::key("https://api/y", None)).is_none());
        // A body cut short (or edited) no longer matches its digest: a miss, not a stale hit.
        let file = cache.path(&k1);
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 2]).unwrap();
        assert!(cache.load(&k1).is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_temporary_name_is_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(&dir.path().join("cache"));
        let key = Cache::key("https://api/x", None);
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"keep").unwrap();
        let entry_dir = cache.path(&key).parent().unwrap().to_path_buf();
        std::fs::create_dir_all(&entry_dir).unwrap();
        let tmp = entry_dir.join(format!(
            ".{key}.{}.{:?}.tmp",
            std::process::id(),
            std::thread::current().id()
        ));
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        let entry = Entry::new("https://api/x".into(), 200, Vec::new(), b"{}".to_vec());
        cache.store(&key, &entry);
        assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
        assert_eq!(cache.load(&key).unwrap().body, b"{}");
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_of_bounded_size_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let regular = dir.path().join("regular");
        std::fs::write(&regular, b"{}\nbody").unwrap();
        assert_eq!(
            read_regular_file(&regular, 100).as_deref(),
            Some(&b"{}\nbody"[..])
        );
        assert!(read_regular_file(&regular, 3).is_none(), "over the limit");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&regular, &link).unwrap();
        assert!(
            read_regular_file(&link, 100).is_none(),
            "a symlink, even to a file"
        );
        let zero = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        assert!(read_regular_file(&zero, 100).is_none());
        assert!(read_regular_file(Path::new("/dev/null"), 100).is_none());
        assert!(read_regular_file(dir.path(), 100).is_none(), "a directory");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            // Without O_NONBLOCK this open would wait for a writer forever.
            assert!(read_regular_file(&fifo, 100).is_none());
        } else {
            eprintln!("skipped the FIFO case: mkfifo is not available");
        }
    }
}
