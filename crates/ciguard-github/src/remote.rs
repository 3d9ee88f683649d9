//! Reading a repository through the API without cloning it (`ciguard audit owner/repo[@ref]`).
//!
//! Few requests: the ref to a commit (`GET /repos/{slug}/commits/{ref}`, after
//! `GET /repos/{slug}` for the default branch when no ref is given), the commit's whole tree in
//! one request (`GET /repos/{slug}/git/trees/{tree}?recursive=1`), then one request per wanted
//! file (`GET /repos/{slug}/git/blobs/{sha}`), concurrently. Trees and blobs are named by their
//! hash, so the cache keeps them for good: a warm run only revalidates the ref.
//!
//! When GitHub truncates a very large tree, the directories GitHub reads configuration from (the
//! root, `.github` and `.github/workflows`) are listed one by one through the contents API instead.

use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;

/// Directories listed one by one when the recursive tree is truncated.
pub const FALLBACK_DIRS: [&str; 3] = ["", ".github", ".github/workflows"];

/// One file of a repository's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    /// The blob's SHA.
    pub sha: String,
    pub size: Option<u64>,
    /// A symbolic link (mode 120000): its blob is the link's target, not a file.
    pub symlink: bool,
}

/// A commit of a repository and the files in it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub slug: String,
    /// The ref as asked, or the default branch when none was.
    pub reference: String,
    /// The full commit SHA the ref named when fetched.
    pub commit: String,
    /// Every file (blobs and symlinks; no directories or submodules), sorted by path.
    pub entries: Vec<Entry>,
    /// GitHub truncated the tree: `entries` holds only [`FALLBACK_DIRS`].
    pub truncated: bool,
}

/// Why a repository could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error(
        "no repository {slug} on GitHub (or it is private and the token cannot read it; set GH_TOKEN)"
    )]
    NoRepository { slug: String },
    #[error("{slug} has no branch, tag or commit named `{reference}`")]
    NoRef { slug: String, reference: String },
    #[error(transparent)]
    Api(#[from] Error),
}

#[derive(Deserialize)]
struct RepoJson {
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct CommitJson {
    sha: String,
    commit: Option<CommitInner>,
}

#[derive(Deserialize)]
struct CommitInner {
    tree: Option<Sha>,
}

#[derive(Deserialize)]
struct Sha {
    sha: String,
}

#[derive(Deserialize)]
struct TreeJson {
    #[serde(default)]
    tree: Vec<TreeItem>,
    #[serde(default)]
    truncated: bool,
}

#[derive(Deserialize)]
struct TreeItem {
    path: String,
    #[serde(default)]
    mode: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    size: Option<u64>,
}

#[derive(Deserialize)]
struct ContentItem {
    path: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    size: Option<u64>,
}

#[derive(Deserialize)]
struct BlobJson {
    content: String,
    #[serde(default)]
    encoding: String,
}

/// A ref in a URL path: characters that would change the URL's meaning are encoded.
fn encode_ref(reference: &str) -> String {
    ciguard_core::percent::encode(reference, ciguard_core::percent::PATH_WITH_SUB_DELIMS)
}

/// Lists the commit `reference` names in `slug` (the default branch when `None`).
pub fn snapshot(
    client: &Client,
    slug: &str,
    reference: Option<&str>,
) -> Result<Snapshot, RemoteError> {
    let no_repo = || RemoteError::NoRepository {
        slug: slug.to_owned(),
    };
    let reference = match reference {
        Some(r) => r.to_owned(),
        None => client
            .get_json::<RepoJson>(&format!("/repos/{slug}"))?
            .ok_or_else(no_repo)?
            .default_branch
            .unwrap_or_else(|| "HEAD".to_owned()),
    };
    let path = format!("/repos/{slug}/commits/{}", encode_ref(&reference));
    let commit = match client.get_json::<CommitJson>(&path) {
        Ok(Some(c)) => c,
        Ok(None)
        | Err(Error::Status {
            status: 422 | 409, ..
        }) => {
            // Tell a missing repository from a missing ref (one more request, only on failure).
            if client
                .get_json::<serde_json::Value>(&format!("/repos/{slug}"))?
                .is_none()
            {
                return Err(no_repo());
            }
            return Err(RemoteError::NoRef {
                slug: slug.to_owned(),
                reference,
            });
        }
        Err(e) => return Err(e.into()),
    };
    let commit_sha = commit.sha.to_ascii_lowercase();
    // The commit's tree; GitHub also accepts the commit SHA itself as a tree-ish.
    let tree = commit
        .commit
        .and_then(|c| c.tree)
        .map_or_else(|| commit_sha.clone(), |t| t.sha);
    let listing: TreeJson = client
        .get_json(&format!("/repos/{slug}/git/trees/{tree}?recursive=1"))?
        .ok_or_else(no_repo)?;
    let mut snapshot = Snapshot {
        slug: slug.to_owned(),
        reference,
        commit: commit_sha,
        entries: Vec::new(),
        truncated: listing.truncated,
    };
    if listing.truncated {
        // The commit and its tree may come from the cache (immutable), so this run has not seen
        // the repository readable yet; a contents 404 is cached for good, so it must mean
        // "absent", not "the token cannot read the repository".
        if client
            .get_json::<serde_json::Value>(&format!("/repos/{slug}"))?
            .is_none()
        {
            return Err(no_repo());
        }
        for dir in FALLBACK_DIRS {
            snapshot
                .entries
                .extend(list_dir(client, slug, dir, &snapshot.commit)?);
        }
    } else {
        snapshot.entries = listing
            .tree
            .into_iter()
            .filter(|i| i.kind == "blob")
            .map(|i| Entry {
                symlink: i.mode == "120000",
                path: i.path,
                sha: i.sha,
                size: i.size,
            })
            .collect();
    }
    snapshot.entries.sort_by(|a, b| a.path.cmp(&b.path));
    snapshot.entries.dedup_by(|a, b| a.path == b.path);
    Ok(snapshot)
}

/// The files directly in `dir` at `commit` (contents API; empty when the directory is missing).
fn list_dir(client: &Client, slug: &str, dir: &str, commit: &str) -> Result<Vec<Entry>, Error> {
    let path = format!("/repos/{slug}/contents/{dir}?ref={commit}");
    let items: Vec<ContentItem> = match client.get_json::<serde_json::Value>(&path)? {
        Some(v @ serde_json::Value::Array(_)) => {
            serde_json::from_value(v).map_err(|e| Error::Decode {
                url: client.url(&path).unwrap_or(path.clone()),
                message: e.to_string(),
            })?
        }
        _ => Vec::new(),
    };
    Ok(items
        .into_iter()
        .filter(|i| i.kind == "file" || i.kind == "symlink")
        .map(|i| Entry {
            symlink: i.kind == "symlink",
            path: i.path,
            sha: i.sha,
            size: i.size,
        })
        .collect())
}

/// The bytes of the blob `sha` of `slug`; `None` when there is no such blob.
pub fn blob(client: &Client, slug: &str, sha: &str) -> Result<Option<Vec<u8>>, Error> {
    let path = format!("/repos/{slug}/git/blobs/{sha}");
    let Some(blob) = client.get_json::<BlobJson>(&path)? else {
        return Ok(None);
    };
    match blob.encoding.as_str() {
        "base64" => decode_base64(&blob.content)
            .map(Some)
            .ok_or_else(|| Error::Decode {
                url: client.url(&path).unwrap_or(path),
                message: "the blob's content is not valid base64".into(),
            }),
        "utf-8" | "" => Ok(Some(blob.content.into_bytes())),
        other => Err(Error::Decode {
            url: client.url(&path).unwrap_or(path),
            message: format!("unknown blob encoding `{other}`"),
        }),
    }
}

/// Standard base64 (with padding; whitespace such as GitHub's line breaks skipped).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let symbols: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let data = symbols
        .strip_suffix(b"==")
        .or_else(|| symbols.strip_suffix(b"="))
        .unwrap_or(&symbols);
    if !symbols.len().is_multiple_of(4) || data.contains(&b'=') {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    for chunk in data.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// The web address of a file at a commit, when the API is github.com's or a GitHub Enterprise
/// Server's (`https://host/api/v3`); `None` for any other base URL.
pub fn blob_url(api_url: &str, slug: &str, commit: &str, path: &str) -> Option<String> {
    let api = api_url.trim_end_matches('/');
    let web = if api == "https://api.github.com" {
        "https://github.com".to_owned()
    } else {
        api.strip_suffix("/api/v3")?.to_owned()
    };
    Some(format!("{web}/{slug}/blob/{commit}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_base64_as_github_sends_it() {
        assert_eq!(decode_base64("aGk=\n").as_deref(), Some(&b"hi"[..]));
        assert_eq!(decode_base64("aGV5\n").as_deref(), Some(&b"hey"[..]));
        assert_eq!(decode_base64("aA==").as_deref(), Some(&b"h"[..]));
        assert_eq!(decode_base64("").as_deref(), Some(&b""[..]));
        assert_eq!(
            decode_base64("b24g\ncHVzaAo=\n").as_deref(),
            Some(&b"on push\n"[..])
        );
        assert_eq!(decode_base64("aGk"), None);
        assert_eq!(decode_base64("a=Gk"), None);
        assert_eq!(decode_base64("aG!="), None);
    }

    #[test]
    fn web_addresses_for_github_and_enterprise_only() {
        assert_eq!(
            blob_url("https://api.github.com", "o/r", "abc", ".github/x.yml").as_deref(),
            Some("https://github.com/o/r/blob/abc/.github/x.yml")
        );
        assert_eq!(
            blob_url("https://ghe.example.com/api/v3", "o/r", "abc", "a.yml").as_deref(),
            Some("https://ghe.example.com/o/r/blob/abc/a.yml")
        );
        assert_eq!(blob_url("http://127.0.0.1:1", "o/r", "abc", "a.yml"), None);
    }

    #[test]
    fn refs_cannot_escape_the_path() {
        assert_eq!(encode_ref("feature/x"), "feature/x");
        assert_eq!(encode_ref("a?b#c d"), "a%3Fb%23c%20d");
    }
}
