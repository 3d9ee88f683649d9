//! The fake's routes for the comment relay: a workflow run's artifacts
//! (`GET /repos/{o}/{r}/actions/runs/{id}/artifacts`, `actions: read`), the artifact download
//! (`GET …/actions/artifacts/{id}/zip`, answered 302 to a separate storage server on another
//! loopback host, 127.0.0.2, as GitHub redirects to its blob storage; the storage server logs whether a request
//! carried `authorization`), issue comments on pull requests (list, create, update) and labels,
//! which need `pull_requests` (GitHub also accepts `issues`). Also a ZIP writer for tests,
//! able to write the hostile archives the relay must refuse.

use std::io::Write as _;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::routes::{Request, error, not_found};
use super::{FakeGitHubApp, FakeRepo, State, lock};
use crate::http::{Listener, Options, Reply, Server};

/// An artifact of a workflow run.
#[derive(Debug, Clone)]
pub struct FakeArtifact {
    pub id: u64,
    pub slug: String,
    pub run_id: u64,
    pub name: String,
    pub zip: Vec<u8>,
    pub expired: bool,
    /// `size_in_bytes` reported instead of the zip's length.
    pub reported_size: Option<u64>,
}

/// An issue comment.
#[derive(Debug, Clone)]
pub struct FakeComment {
    pub id: u64,
    pub slug: String,
    pub number: u64,
    pub body: String,
    /// Made through an installation token of the App (`performed_via_github_app`), else a user.
    pub by_app: bool,
    pub updates: usize,
}

#[derive(Debug, Default)]
pub(super) struct RelayState {
    artifacts: Vec<FakeArtifact>,
    comments: Vec<FakeComment>,
    /// (repository, pull request, label) as added.
    labels: Vec<(String, u64, String)>,
    /// Pull requests answered as `closed`.
    closed: Vec<(String, u64)>,
    storage: Option<String>,
}

impl RelayState {
    pub(super) fn is_closed(&self, slug: &str, number: u64) -> bool {
        self.closed.iter().any(|(s, n)| s == slug && *n == number)
    }
}

/// The blob storage GitHub redirects artifact downloads to. Stops when dropped.
pub struct ArtifactStorage {
    server: Server,
}

impl ArtifactStorage {
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Every request it got, with whether it carried `authorization`.
    pub fn requests(&self) -> Vec<crate::http::Logged> {
        self.server.requests()
    }
}

impl FakeGitHubApp {
    /// Starts the storage host the artifact downloads redirect to (needed before a download).
    pub fn start_artifact_storage(&self) -> Result<ArtifactStorage, String> {
        // Another loopback host than the API's 127.0.0.1 where the system allows it.
        let listener = Listener::bind_at("127.0.0.2")
            .or_else(|_| Listener::bind())
            .map_err(|e| e.to_string())?;
        lock(&self.state).relay.storage = Some(listener.url());
        let state: Arc<Mutex<State>> = Arc::clone(&self.state);
        let server = listener.serve(Options::default(), move |req| {
            let id = req
                .path
                .strip_prefix("/blobs/")
                .and_then(|id| id.parse::<u64>().ok());
            let st = lock(&state);
            match id.and_then(|id| st.relay.artifacts.iter().find(|a| a.id == id)) {
                Some(a) if req.query.get("sig").map(String::as_str) == Some("signed") => Reply {
                    status: 200,
                    headers: vec![("content-type".into(), "application/zip".into())],
                    body: a.zip.clone(),
                },
                Some(_) => Reply::empty(403),
                None => Reply::empty(404),
            }
        });
        Ok(ArtifactStorage { server })
    }

    /// Adds artifact `name` holding `zip` to run `run_id` of `slug`; its id.
    pub fn add_artifact(&self, slug: &str, run_id: u64, name: &str, zip: Vec<u8>) -> u64 {
        let mut st = lock(&self.state);
        let id = 5000 + st.relay.artifacts.len() as u64;
        st.relay.artifacts.push(FakeArtifact {
            id,
            slug: slug.to_owned(),
            run_id,
            name: name.to_owned(),
            zip,
            expired: false,
            reported_size: None,
        });
        id
    }

    /// Reports `size` as artifact `id`'s `size_in_bytes`.
    pub fn set_artifact_size(&self, id: u64, size: u64) {
        let mut st = lock(&self.state);
        if let Some(a) = st.relay.artifacts.iter_mut().find(|a| a.id == id) {
            a.reported_size = Some(size);
        }
    }

    /// A comment on `number` written by a user (or by the App when `by_app`).
    pub fn add_comment(&self, slug: &str, number: u64, body: &str, by_app: bool) -> u64 {
        let mut st = lock(&self.state);
        let id = 7000 + st.relay.comments.len() as u64;
        st.relay.comments.push(FakeComment {
            id,
            slug: slug.to_owned(),
            number,
            body: body.to_owned(),
            by_app,
            updates: 0,
        });
        id
    }

    pub fn comments(&self) -> Vec<FakeComment> {
        lock(&self.state).relay.comments.clone()
    }

    /// Labels added, as (repository, pull request, label).
    pub fn labels(&self) -> Vec<(String, u64, String)> {
        lock(&self.state).relay.labels.clone()
    }

    /// Pull request `number` is answered as closed from now on.
    pub fn close_pull(&self, slug: &str, number: u64) {
        lock(&self.state)
            .relay
            .closed
            .push((slug.to_owned(), number));
    }
}

fn comment_json(c: &FakeComment) -> Value {
    let (user, via) = if c.by_app {
        (
            json!({"login": "ciguard[bot]", "type": "Bot"}),
            json!({"id": super::APP_ID, "slug": "ciguard"}),
        )
    } else {
        (json!({"login": "octocat", "type": "User"}), Value::Null)
    };
    json!({"id": c.id, "body": c.body, "user": user, "performed_via_github_app": via})
}

/// The permission a relay route needs, when it is one. The issue routes need `issues` (drift's
/// table); on a pull request GitHub also accepts `pull_requests`, see [`grants_on_pull`].
pub(super) fn permission_for(method: &str, rest: &[&str]) -> Option<(&'static str, &'static str)> {
    match (method, rest) {
        ("GET", ["actions", ..]) => Some(("actions", "read")),
        _ => None,
    }
}

/// Whether `rest` is an issue route of a pull request (its comments, its labels, one of its
/// comments), which the relay answers.
fn is_pull_issue_route(st: &State, repo: &FakeRepo, rest: &[&str]) -> bool {
    match rest {
        ["issues", "comments", id] => id.parse::<u64>().is_ok_and(|id| {
            st.relay
                .comments
                .iter()
                .any(|c| c.id == id && c.slug == repo.slug)
        }),
        ["issues", n, "comments" | "labels"] => n.parse::<u64>().is_ok_and(|n| {
            st.pulls
                .iter()
                .any(|p| p.slug == repo.slug && p.number == n)
        }),
        _ => false,
    }
}

/// GitHub accepts `issues` or `pull_requests` for the comments and labels of a pull request.
pub(super) fn grants_on_pull(
    st: &State,
    token: &super::MintedToken,
    repo: &FakeRepo,
    method: &str,
    rest: &[&str],
) -> bool {
    let level = if method == "GET" { "read" } else { "write" };
    is_pull_issue_route(st, repo, rest) && token.grants("pull_requests", level)
}

/// The relay routes of a repository; `None` when the request is not one of them.
pub(super) fn route(
    state: &Mutex<State>,
    req: &Request,
    repo: &FakeRepo,
    rest: &[&str],
) -> Option<Reply> {
    let body: Value = serde_json::from_slice(req.body).unwrap_or(Value::Null);
    let mut st = lock(state);
    if rest.first() == Some(&"issues") && !is_pull_issue_route(&st, repo, rest) {
        return None;
    }
    let reply = match (req.method, rest) {
        ("GET", ["actions", "runs", run, "artifacts"]) => {
            let run: u64 = run.parse().ok()?;
            let wanted = req.query.get("name");
            let list: Vec<Value> = st
                .relay
                .artifacts
                .iter()
                .filter(|a| a.slug == repo.slug && a.run_id == run)
                .filter(|a| wanted.is_none_or(|w| *w == a.name))
                .map(|a| {
                    json!({"id": a.id, "name": a.name, "expired": a.expired,
                        "size_in_bytes": a.reported_size.unwrap_or(a.zip.len() as u64),
                        "workflow_run": {"id": a.run_id}})
                })
                .collect();
            Reply::json(200, &json!({"total_count": list.len(), "artifacts": list}))
        }
        ("GET", ["actions", "artifacts", id, "zip"]) => {
            let id: u64 = id.parse().ok()?;
            match st
                .relay
                .artifacts
                .iter()
                .find(|a| a.id == id && a.slug == repo.slug)
            {
                Some(a) if a.expired => error(410, "Artifact has expired"),
                Some(_) => match &st.relay.storage {
                    Some(storage) => Reply::empty(302)
                        .with_header("location", format!("{storage}/blobs/{id}?sig=signed")),
                    None => error(500, "the test started no artifact storage"),
                },
                None => not_found(),
            }
        }
        ("GET", ["issues", number, "comments"]) => {
            let number: u64 = number.parse().ok()?;
            let list: Vec<Value> = st
                .relay
                .comments
                .iter()
                .filter(|c| c.slug == repo.slug && c.number == number)
                .map(comment_json)
                .collect();
            Reply::json(200, &Value::Array(list))
        }
        ("POST", ["issues", number, "comments"]) => {
            let number: u64 = number.parse().ok()?;
            let Some(text) = body.get("body").and_then(Value::as_str) else {
                return Some(error(422, "body is missing"));
            };
            if text.chars().count() > 65_536 {
                return Some(error(422, "Body is too long (maximum is 65536 characters)"));
            }
            if !st
                .pulls
                .iter()
                .any(|p| p.slug == repo.slug && p.number == number)
            {
                return Some(not_found());
            }
            let comment = FakeComment {
                id: 7000 + st.relay.comments.len() as u64,
                slug: repo.slug.clone(),
                number,
                body: text.to_owned(),
                by_app: true,
                updates: 0,
            };
            let reply = Reply::json(201, &comment_json(&comment));
            st.relay.comments.push(comment);
            reply
        }
        ("PATCH", ["issues", "comments", id]) => {
            let id: u64 = id.parse().ok()?;
            let Some(text) = body.get("body").and_then(Value::as_str) else {
                return Some(error(422, "body is missing"));
            };
            match st
                .relay
                .comments
                .iter_mut()
                .find(|c| c.id == id && c.slug == repo.slug)
            {
                // GitHub lets an App edit only its own comments.
                Some(c) if !c.by_app => error(403, "Resource not accessible by integration"),
                Some(c) => {
                    c.body = text.to_owned();
                    c.updates += 1;
                    Reply::json(200, &comment_json(c))
                }
                None => not_found(),
            }
        }
        ("POST", ["issues", number, "labels"]) => {
            let number: u64 = number.parse().ok()?;
            let Some(labels) = body.get("labels").and_then(Value::as_array) else {
                return Some(error(422, "labels is missing"));
            };
            for label in labels.iter().filter_map(Value::as_str) {
                st.relay
                    .labels
                    .push((repo.slug.clone(), number, label.to_owned()));
            }
            Reply::json(200, &json!([]))
        }
        _ => return None,
    };
    Some(reply)
}

/// One entry of a test archive.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    pub name: String,
    pub data: Vec<u8>,
    pub deflate: bool,
    /// A Unix mode in the external attributes (`0o120777` makes a symlink).
    pub unix_mode: Option<u32>,
    /// The uncompressed size declared instead of the real one (a lying bomb).
    pub declared_size: Option<u32>,
}

impl ZipEntry {
    pub fn new(name: &str, data: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            data: data.to_vec(),
            deflate: true,
            unix_mode: None,
            declared_size: None,
        }
    }
}

/// A ZIP archive of `entries`, as `actions/upload-artifact` writes them (deflate or stored).
pub fn zip(entries: &[ZipEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let compressed = if e.deflate {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            let _ = enc.write_all(&e.data);
            enc.finish().unwrap_or_default()
        } else {
            e.data.clone()
        };
        let mut crc = flate2::Crc::new();
        crc.update(&e.data);
        let size = e.declared_size.unwrap_or(e.data.len() as u32);
        let method: u16 = if e.deflate { 8 } else { 0 };
        let offset = out.len() as u32;
        let name = e.name.as_bytes();
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        out.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name);
        out.extend_from_slice(&compressed);

        let made_by: u16 = if e.unix_mode.is_some() {
            3 << 8 | 20
        } else {
            20
        };
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&made_by.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&[0; 4]);
        central.extend_from_slice(&crc.sum().to_le_bytes());
        central.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(name.len() as u16).to_le_bytes());
        central.extend_from_slice(&[0; 8]);
        central.extend_from_slice(&(e.unix_mode.unwrap_or(0) << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}
