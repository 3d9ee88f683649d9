//! A fake GitHub API (and Docker registry) on 127.0.0.1 for tests and benchmarks, backed by real
//! git repositories built with the `git` CLI. It answers the endpoints ciguard uses with the real
//! API's JSON shapes, paginates with `Link` headers, supports ETag/304, can be scripted to fail
//! (5xx, primary and secondary rate limits, slow answers), and logs every request it gets. The
//! github.com behaviours of `github_like` are switched on per test: envelopes with `Link` and
//! `total_count`, renamed repositories (301 to `/repositories/{id}`), redirects to other hosts,
//! secondary limits without `retry-after`, latency.
//!
//! Forks share objects with their parent the way a GitHub repository network does (git
//! alternates), so a commit pushed only to a fork is reachable by SHA through the parent's API.

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use sha2::Digest;

use crate::git::{GitRepo, run_git};
use crate::http::{self, Listener, Options, Reply, Request, Server, now_secs};

mod github_like;
pub use crate::http::Logged;
pub use github_like::SECONDARY_LIMIT_MESSAGE;

/// A release of a fake repository.
#[derive(Debug, Clone)]
pub struct FakeRelease {
    pub tag: String,
    /// RFC 3339.
    pub published_at: String,
    pub draft: bool,
    pub prerelease: bool,
}

#[derive(Debug, Clone)]
struct FakeRepo {
    repo: GitRepo,
    id: u64,
    owner_id: u64,
    archived: bool,
    /// Repositories whose objects this one can see (its network).
    network: Vec<PathBuf>,
    parent: Option<String>,
    releases: Vec<FakeRelease>,
}

/// A scripted misbehaviour, used once by the first request whose path starts with its prefix.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and a GitHub-style error body.
    Status(u16),
    /// 403 with `retry-after` (a secondary rate limit).
    SecondaryRateLimit { retry_after: u64 },
    /// 403 with `x-ratelimit-remaining: 0` and a reset this many seconds ahead.
    PrimaryRateLimit { reset_in: u64 },
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Answer with this status and a body echoing the request's `Authorization` header.
    EchoAuthorization(u16),
}

#[derive(Debug, Default)]
struct State {
    base: String,
    repos: Mutex<HashMap<String, FakeRepo>>,
    images: Mutex<HashMap<String, String>>,
    /// Global security advisories (`GET /advisories`), as the API lists them.
    advisories: Mutex<Vec<Value>>,
    /// Most entries a recursive tree lists before it says `truncated`.
    tree_limit: Mutex<Option<usize>>,
    /// Repositories the caller may not read: every path under them answers 404, as GitHub
    /// answers for a private repository the token cannot see.
    hidden: Mutex<std::collections::HashSet<String>>,
    /// `Some(version)`: answer as that GitHub Enterprise Server version (`GET /meta` says so).
    enterprise: Mutex<Option<String>>,
    /// github.com behaviours a test switches on (see `github_like`).
    knobs: github_like::Knobs,
}

/// The fake server. Stops when dropped.
#[derive(Debug)]
pub struct FakeGitHub {
    server: Server,
    state: Arc<State>,
}

/// The token the fake registry hands out and checks.
pub const REGISTRY_TOKEN: &str = "fake-registry-token";

impl FakeGitHub {
    pub fn start() -> io::Result<Self> {
        let listener = Listener::bind()?;
        let state = Arc::new(State {
            base: listener.url(),
            ..State::default()
        });
        let st = Arc::clone(&state);
        let options = Options {
            // GitHub Enterprise Server serves the API under `/api/v3`: answer there too.
            strip_prefix: Some("/api/v3"),
            finish: Some(Box::new(rate_limit_headers)),
            ..Options::default()
        };
        let server = listener.serve(options, move |req| respond(&st, req));
        Ok(Self { server, state })
    }

    /// `http://127.0.0.1:PORT`, the API base URL (and the registry's).
    pub fn url(&self) -> String {
        self.state.base.clone()
    }

    /// Serves `repo` as `slug` (`owner/name`).
    pub fn add_repo(&self, slug: &str, repo: &GitRepo) {
        if let Ok(mut repos) = self.state.repos.lock() {
            let id = 1000 + repos.len() as u64;
            repos.insert(
                slug.to_ascii_lowercase(),
                FakeRepo {
                    repo: repo.clone(),
                    id,
                    owner_id: 100 + id,
                    archived: false,
                    network: Vec::new(),
                    parent: None,
                    releases: Vec::new(),
                },
            );
        }
    }

    /// Makes `fork` a fork of `parent`: both see each other's objects, as in a GitHub network.
    pub fn link_fork(&self, parent: &str, fork: &str) {
        if let Ok(mut repos) = self.state.repos.lock() {
            let (Some(p), Some(f)) = (
                repos.get(&parent.to_ascii_lowercase()).cloned(),
                repos.get(&fork.to_ascii_lowercase()).cloned(),
            ) else {
                return;
            };
            if let Some(p_entry) = repos.get_mut(&parent.to_ascii_lowercase()) {
                p_entry.network.push(f.repo.dir.join(".git/objects"));
            }
            if let Some(f_entry) = repos.get_mut(&fork.to_ascii_lowercase()) {
                f_entry.network.push(p.repo.dir.join(".git/objects"));
                f_entry.parent = Some(parent.to_owned());
            }
        }
    }

    pub fn set_archived(&self, slug: &str, archived: bool) {
        if let Some(r) = self
            .state
            .repos
            .lock()
            .ok()
            .as_mut()
            .and_then(|r| r.get_mut(&slug.to_ascii_lowercase()))
        {
            r.archived = archived;
        }
    }

    pub fn add_release(&self, slug: &str, tag: &str, published_at: &str) {
        if let Some(r) = self
            .state
            .repos
            .lock()
            .ok()
            .as_mut()
            .and_then(|r| r.get_mut(&slug.to_ascii_lowercase()))
        {
            r.releases.push(FakeRelease {
                tag: tag.to_owned(),
                published_at: published_at.to_owned(),
                draft: false,
                prerelease: false,
            });
        }
    }

    /// Serves the image `name:tag` (name as in the registry, e.g. `library/alpine`) with `digest`.
    pub fn add_image(&self, name: &str, tag: &str, digest: &str) {
        if let Ok(mut images) = self.state.images.lock() {
            images.insert(format!("{name}:{tag}"), digest.to_owned());
        }
    }

    /// Serves a reviewed advisory of the actions ecosystem for `package` (`owner/repo[/path]`):
    /// versions in `vulnerable_range` (`< 1.2.3`) are affected, `first_patched` fixes it.
    pub fn add_advisory(
        &self,
        ghsa_id: &str,
        package: &str,
        vulnerable_range: &str,
        first_patched: Option<&str>,
    ) {
        if let Ok(mut advisories) = self.state.advisories.lock() {
            advisories.push(json!({
                "ghsa_id": ghsa_id, "cve_id": null, "type": "reviewed", "severity": "high",
                "summary": format!("{package} is vulnerable"),
                "html_url": format!("https://github.com/advisories/{ghsa_id}"),
                "vulnerabilities": [{
                    "package": {"ecosystem": "actions", "name": package},
                    "vulnerable_version_range": vulnerable_range,
                    "first_patched_version": first_patched,
                    "vulnerable_functions": [],
                }],
            }));
        }
    }

    /// Serves `advisory` as it is (`GET /advisories` lists it when any of its vulnerabilities
    /// names an asked package): for the nullable fields of GitHub's schema, withdrawn ones, ...
    pub fn add_advisory_json(&self, advisory: Value) {
        if let Ok(mut advisories) = self.state.advisories.lock() {
            advisories.push(advisory);
        }
    }

    /// Answers as GitHub Enterprise Server `version` (`3.17.0`): `GET /meta` carries
    /// `installed_version`, and the endpoints that version lacks (`immutable-releases`, never
    /// served here) stay 404. `None`: github.com.
    pub fn set_enterprise(&self, version: Option<&str>) {
        if let Ok(mut e) = self.state.enterprise.lock() {
            *e = version.map(str::to_owned);
        }
    }

    /// Makes `slug` unreadable (every path under it answers 404, like a private repository the
    /// token cannot see), or readable again.
    pub fn set_hidden(&self, slug: &str, hidden: bool) {
        if let Ok(mut h) = self.state.hidden.lock() {
            if hidden {
                h.insert(slug.to_ascii_lowercase());
            } else {
                h.remove(&slug.to_ascii_lowercase());
            }
        }
    }

    /// Truncates recursive trees longer than `limit` entries, as GitHub does for huge ones.
    pub fn set_tree_limit(&self, limit: Option<usize>) {
        if let Ok(mut l) = self.state.tree_limit.lock() {
            *l = limit;
        }
    }

    /// Scripts `fault` for the next request whose path starts with `path_prefix`.
    pub fn push_fault(&self, path_prefix: &str, fault: Fault) {
        self.server.push_fault(path_prefix, fault.into_http(), 1);
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.server.requests()
    }

    pub fn request_count(&self) -> usize {
        self.server.request_count()
    }

    pub fn clear_log(&self) {
        self.server.clear_log();
    }
}

impl Fault {
    fn into_http(self) -> http::Fault {
        match self {
            Fault::Status(status) => {
                http::Fault::Reply(Reply::json(status, &json!({"message": "Server Error"})))
            }
            Fault::SecondaryRateLimit { retry_after } => http::Fault::RateLimit {
                status: 403,
                body: json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
                retry_after: Some(retry_after),
                reset_in: None,
            },
            Fault::PrimaryRateLimit { reset_in } => http::Fault::RateLimit {
                status: 403,
                body: json!({"message": "API rate limit exceeded"}),
                retry_after: None,
                reset_in: Some(reset_in),
            },
            Fault::Delay(d) => http::Fault::Delay(d),
            Fault::EchoAuthorization(status) => http::Fault::Answer(Arc::new(move |req| {
                let auth = req.header("authorization").unwrap_or_default();
                Reply::json(
                    status,
                    &json!({"message": format!("bad credentials: {auth}")}),
                )
            })),
        }
    }
}

/// GitHub's rate-limit headers on every answer that does not set its own.
fn rate_limit_headers(_: &Request, reply: &mut Reply) {
    if reply.header("x-ratelimit-remaining").is_none() {
        let reset = now_secs() + 3600;
        reply.headers.extend([
            ("x-ratelimit-limit".into(), "5000".into()),
            ("x-ratelimit-remaining".into(), "4999".into()),
            ("x-ratelimit-reset".into(), reset.to_string()),
            ("x-ratelimit-resource".into(), "core".into()),
        ]);
    }
}

fn not_found() -> Reply {
    Reply::json(
        404,
        &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
    )
}

fn respond(state: &State, req: &Request) -> Reply {
    if let Some(reply) = github_like::intercept(state, req) {
        return reply;
    }
    if req.path.starts_with("/v2/") || req.path == "/token" {
        return registry(state, req);
    }
    let mut reply = github(state, req);
    if reply.status == 200 {
        let digest = sha2::Sha256::digest(&reply.body);
        let etag = format!("W/\"{}\"", ciguard_core::hex::encode(&digest[..16]));
        if req.headers.get("if-none-match") == Some(&etag) {
            return Reply {
                status: 304,
                headers: vec![("etag".into(), etag)],
                body: Vec::new(),
            };
        }
        reply.headers.push(("etag".into(), etag));
        reply.headers.push((
            "x-accepted-github-permissions".into(),
            "contents=read".into(),
        ));
    }
    reply
}

fn registry(state: &State, req: &Request) -> Reply {
    if req.path == "/token" {
        return Reply::json(
            200,
            &json!({"token": REGISTRY_TOKEN, "access_token": REGISTRY_TOKEN, "expires_in": 300}),
        );
    }
    let challenge = |scope: Option<&str>| {
        let mut value = format!(
            "Bearer realm=\"{}/token\",service=\"fake-registry\"",
            state.base
        );
        if let Some(scope) = scope {
            value.push_str(&format!(",scope=\"{scope}\""));
        }
        let mut r = Reply::json(401, &json!({"errors": [{"code": "UNAUTHORIZED"}]}));
        r.headers.push(("www-authenticate".into(), value));
        r
    };
    let authorized = req.headers.get("authorization").map(String::as_str)
        == Some(&format!("Bearer {REGISTRY_TOKEN}"));
    if req.path == "/v2/" {
        return if authorized {
            Reply::json(200, &json!({}))
        } else {
            challenge(None)
        };
    }
    let Some((name, reference)) = req
        .path
        .trim_start_matches("/v2/")
        .rsplit_once("/manifests/")
    else {
        return not_found();
    };
    if !authorized {
        return challenge(Some(&format!("repository:{name}:pull")));
    }
    let digest = state
        .images
        .lock()
        .ok()
        .and_then(|i| i.get(&format!("{name}:{reference}")).cloned());
    match digest {
        Some(digest) => {
            let mut r = Reply::json(
                200,
                &json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}),
            );
            r.headers.push(("docker-content-digest".into(), digest));
            r.headers[0].1 = "application/vnd.oci.image.index.v1+json".into();
            r
        }
        None => Reply::json(404, &json!({"errors": [{"code": "MANIFEST_UNKNOWN"}]})),
    }
}

/// Runs git in a served repository, with its network's objects visible.
fn git(repo: &FakeRepo, args: &[&str]) -> Option<String> {
    let alternates = std::env::join_paths(&repo.network).ok()?;
    let alternates = alternates.to_string_lossy().into_owned();
    let env: Vec<(&str, &str)> = if repo.network.is_empty() {
        vec![]
    } else {
        vec![("GIT_ALTERNATE_OBJECT_DIRECTORIES", alternates.as_str())]
    };
    run_git(Some(&repo.repo.dir), args, &env).ok()
}

fn github(state: &State, req: &Request) -> Reply {
    if req.path == "/meta" {
        let mut meta = json!({"verifiable_password_authentication": false, "domains": {}});
        if let Some(version) = state.enterprise.lock().ok().and_then(|e| e.clone()) {
            meta["installed_version"] = json!(version);
            meta["verifiable_password_authentication"] = json!(true);
        }
        return Reply::json(200, &meta);
    }
    if req.path == "/advisories" {
        let ecosystem = req.query.get("ecosystem").map(String::as_str);
        // A comma-separated list of packages, each maybe `@version`; matched by exact name.
        let affects: Option<Vec<String>> = req.query.get("affects").map(|a| {
            a.to_ascii_lowercase()
                .split(',')
                .map(|p| p.split('@').next().unwrap_or(p).trim().to_owned())
                .collect()
        });
        let items: Vec<Value> = state
            .advisories
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|a| {
                let names: Vec<String> = a["vulnerabilities"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|v| v["package"]["name"].as_str())
                    .map(str::to_ascii_lowercase)
                    .collect();
                ecosystem.is_none_or(|e| e == "actions")
                    && affects
                        .as_ref()
                        .is_none_or(|want| names.iter().any(|n| want.contains(n)))
            })
            .collect();
        return paginate(req, &format!("{}/advisories", state.base), items);
    }
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let ["repos", owner, name, rest @ ..] = segments.as_slice() else {
        return not_found();
    };
    let slug = format!("{owner}/{name}");
    if state
        .hidden
        .lock()
        .is_ok_and(|h| h.contains(&slug.to_ascii_lowercase()))
    {
        return not_found();
    }
    let Some(repo) = state
        .repos
        .lock()
        .ok()
        .and_then(|r| r.get(&slug.to_ascii_lowercase()).cloned())
    else {
        return not_found();
    };
    let api = format!("{}/repos/{slug}", state.base);
    match rest {
        [] if req.method == "GET" => Reply::json(200, &repo_json(&repo, &slug, &api)),
        ["git", "matching-refs", r @ ..] => {
            let prefix = format!("refs/{}", r.join("/"));
            let refs: Vec<Value> = refs(&repo)
                .into_iter()
                .filter(|r| r.name.starts_with(&prefix))
                .map(|r| r.json(&api))
                .collect();
            Reply::json(200, &Value::Array(refs))
        }
        ["git", "ref", r @ ..] => {
            let full = format!("refs/{}", r.join("/"));
            match refs(&repo).into_iter().find(|r| r.name == full) {
                Some(r) => Reply::json(200, &r.json(&api)),
                None => not_found(),
            }
        }
        ["git", "tags", sha] => tag_object(&repo, sha, &api),
        ["git", "trees", sha] => {
            let limit = state.tree_limit.lock().ok().and_then(|l| *l);
            tree_json(&repo, sha, req.query.contains_key("recursive"), limit, &api)
        }
        ["git", "blobs", sha] => blob_json(&repo, sha, &api),
        ["commits", reference] => match commit_json(&repo, reference, &api) {
            Some(v) => Reply::json(200, &v),
            None => Reply::json(
                422,
                &json!({"message": format!("No commit found for SHA: {reference}")}),
            ),
        },
        ["tags"] => {
            let mut tags: Vec<&GitRef> = Vec::new();
            let all = refs(&repo);
            tags.extend(all.iter().filter(|r| r.name.starts_with("refs/tags/")));
            tags.sort_by_key(|t| std::cmp::Reverse(version_key(t.short())));
            let items: Vec<Value> = tags
                .iter()
                .map(|t| {
                    json!({
                        "name": t.short(),
                        "commit": {"sha": t.peeled, "url": format!("{api}/commits/{}", t.peeled)},
                        "zipball_url": format!("{api}/zipball/refs/tags/{}", t.short()),
                        "tarball_url": format!("{api}/tarball/refs/tags/{}", t.short()),
                        "node_id": "REF_fake",
                    })
                })
                .collect();
            paginate(req, &format!("{api}/tags"), items)
        }
        ["releases"] => {
            let mut releases = repo.releases.clone();
            releases.sort_by(|a, b| b.published_at.cmp(&a.published_at));
            let items: Vec<Value> = releases
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({
                        "id": 5000 + i,
                        "tag_name": r.tag,
                        "name": r.tag,
                        "target_commitish": "main",
                        "draft": r.draft,
                        "prerelease": r.prerelease,
                        "created_at": r.published_at,
                        "published_at": r.published_at,
                        "html_url": format!("https://github.com/{slug}/releases/tag/{}", r.tag),
                    })
                })
                .collect();
            paginate(req, &format!("{api}/releases"), items)
        }
        ["compare", range] => {
            let Some((base, head)) = range.split_once("...") else {
                return not_found();
            };
            compare(&repo, base, head, &api)
        }
        ["contents", path @ ..] => {
            let reference = req
                .query
                .get("ref")
                .cloned()
                .unwrap_or_else(|| "HEAD".into());
            let path = path.join("/");
            let spec = format!("{reference}:{path}");
            if let Some(listing) = dir_listing(&repo, &reference, &path, &api) {
                return Reply::json(200, &listing);
            }
            if git(&repo, &["cat-file", "-t", &spec])
                .map(|t| t.trim().to_owned())
                .as_deref()
                != Some("blob")
            {
                return not_found();
            }
            let Some(content) = git(&repo, &["show", &spec]) else {
                return not_found();
            };
            let sha = git(&repo, &["rev-parse", &spec]).unwrap_or_default();
            let name = path.rsplit('/').next().unwrap_or(&path).to_owned();
            Reply::json(
                200,
                &json!({
                    "type": "file", "encoding": "base64", "size": content.len(), "name": name, "path": path,
                    "sha": sha.trim(), "content": base64_lines(content.as_bytes()),
                    "url": format!("{api}/contents/{path}?ref={reference}"),
                }),
            )
        }
        _ => not_found(),
    }
}

fn repo_json(repo: &FakeRepo, slug: &str, api: &str) -> Value {
    let default_branch = git(repo, &["symbolic-ref", "--short", "HEAD"])
        .map_or("main".to_owned(), |b| b.trim().to_owned());
    let (owner, name) = slug.split_once('/').unwrap_or((slug, slug));
    let mut v = json!({
        "id": repo.id, "node_id": "R_fake", "name": name, "full_name": slug,
        "owner": {"login": owner, "id": repo.owner_id, "type": "Organization"},
        "private": false, "visibility": "public", "fork": repo.parent.is_some(), "archived": repo.archived,
        "disabled": false, "default_branch": default_branch, "url": api,
        "html_url": format!("https://github.com/{slug}"),
    });
    if let Some(parent) = &repo.parent {
        v["parent"] = json!({"full_name": parent});
    }
    v
}

struct GitRef {
    name: String,
    object: String,
    kind: String,
    /// The commit, for tags peeled.
    peeled: String,
}

impl GitRef {
    fn short(&self) -> &str {
        self.name
            .strip_prefix("refs/tags/")
            .or_else(|| self.name.strip_prefix("refs/heads/"))
            .unwrap_or(&self.name)
    }

    fn json(&self, api: &str) -> Value {
        let kind = if self.kind == "tag" {
            "tags"
        } else {
            "commits"
        };
        json!({
            "ref": self.name, "node_id": "REF_fake", "url": format!("{api}/git/{}", self.name),
            "object": {"sha": self.object, "type": self.kind, "url": format!("{api}/git/{kind}/{}", self.object)},
        })
    }
}

fn refs(repo: &FakeRepo) -> Vec<GitRef> {
    let out = git(
        repo,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname) %(objecttype) %(*objectname)",
            "refs/heads",
            "refs/tags",
        ],
    )
    .unwrap_or_default();
    out.lines()
        .filter_map(|l| {
            let mut p = l.split_whitespace();
            let (name, object, kind) = (p.next()?, p.next()?, p.next()?);
            let peeled = p.next().unwrap_or(object);
            Some(GitRef {
                name: name.into(),
                object: object.into(),
                kind: kind.into(),
                peeled: peeled.into(),
            })
        })
        .collect()
}

fn tag_object(repo: &FakeRepo, sha: &str, api: &str) -> Reply {
    if git(repo, &["cat-file", "-t", sha])
        .map(|t| t.trim().to_owned())
        .as_deref()
        != Some("tag")
    {
        return not_found();
    }
    let raw = git(repo, &["cat-file", "-p", sha]).unwrap_or_default();
    let (head, message) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let field = |k: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix(&format!("{k} ")))
            .unwrap_or("")
            .to_owned()
    };
    Reply::json(
        200,
        &json!({
            "sha": sha, "node_id": "TAG_fake", "tag": field("tag"), "message": message,
            "tagger": {"name": "Fake", "email": "fake@example.com", "date": "2024-01-01T00:00:00Z"},
            "object": {"sha": field("object"), "type": field("type"), "url": format!("{api}/git/commits/{}", field("object"))},
            "url": format!("{api}/git/tags/{sha}"),
        }),
    )
}

fn commit_json(repo: &FakeRepo, reference: &str, api: &str) -> Option<Value> {
    let sha = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
    )?
    .trim()
    .to_owned();
    let out = git(
        repo,
        &[
            "show",
            "-s",
            "--format=%P%n%an%n%ae%n%aI%n%cn%n%ce%n%cI%n%B",
            &sha,
        ],
    )?;
    let mut l = out.lines();
    let parents: Vec<Value> = l
        .next()?
        .split_whitespace()
        .map(|p| json!({"sha": p, "url": format!("{api}/commits/{p}")}))
        .collect();
    let (an, ae, ad, cn, ce, cd) = (
        l.next()?,
        l.next()?,
        l.next()?,
        l.next()?,
        l.next()?,
        l.next()?,
    );
    let message: Vec<&str> = l.collect();
    let tree = git(repo, &["rev-parse", &format!("{sha}^{{tree}}")])?
        .trim()
        .to_owned();
    Some(json!({
        "sha": sha, "node_id": "C_fake", "url": format!("{api}/commits/{sha}"),
        "commit": {
            "author": {"name": an, "email": ae, "date": utc(ad)},
            "committer": {"name": cn, "email": ce, "date": utc(cd)},
            "message": message.join("\n").trim(),
            "tree": {"sha": tree, "url": format!("{api}/git/trees/{tree}")},
        },
        "parents": parents,
    }))
}

/// `(mode, type, sha, size, path)` of each entry of the tree-ish `spec`.
fn ls_tree(repo: &FakeRepo, spec: &str, recursive: bool) -> Option<Vec<[String; 5]>> {
    let mut args = vec!["ls-tree", "-l", "-z", "--full-tree"];
    if recursive {
        args.extend(["-r", "-t"]);
    }
    args.push(spec);
    let out = git(repo, &args)?;
    Some(
        out.split('\0')
            .filter_map(|e| {
                let (meta, path) = e.split_once('\t')?;
                let mut m = meta.split_whitespace();
                Some([m.next()?, m.next()?, m.next()?, m.next()?, path].map(str::to_owned))
            })
            .collect(),
    )
}

/// `GET /repos/{slug}/git/trees/{sha}[?recursive=1]`.
fn tree_json(
    repo: &FakeRepo,
    sha: &str,
    recursive: bool,
    limit: Option<usize>,
    api: &str,
) -> Reply {
    let Some(tree) = git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{sha}^{{tree}}"),
        ],
    ) else {
        return not_found();
    };
    let tree = tree.trim();
    let Some(entries) = ls_tree(repo, tree, recursive) else {
        return not_found();
    };
    let truncated = recursive && limit.is_some_and(|l| entries.len() > l);
    let items: Vec<Value> = entries
        .into_iter()
        .take(if truncated {
            limit.unwrap_or(0)
        } else {
            usize::MAX
        })
        .map(|[mode, kind, sha, size, path]| {
            let mut v = json!({
                "path": path, "mode": mode, "type": kind, "sha": sha,
                "url": format!("{api}/git/{}s/{sha}", kind),
            });
            if let Ok(size) = size.parse::<u64>() {
                v["size"] = json!(size);
            }
            v
        })
        .collect();
    Reply::json(
        200,
        &json!({"sha": tree, "url": format!("{api}/git/trees/{tree}"), "tree": items, "truncated": truncated}),
    )
}

/// `GET /repos/{slug}/git/blobs/{sha}`.
fn blob_json(repo: &FakeRepo, sha: &str, api: &str) -> Reply {
    if git(repo, &["cat-file", "-t", sha])
        .map(|t| t.trim().to_owned())
        .as_deref()
        != Some("blob")
    {
        return not_found();
    }
    let content = git(repo, &["cat-file", "blob", sha]).unwrap_or_default();
    Reply::json(
        200,
        &json!({
            "sha": sha, "node_id": "B_fake", "size": content.len(), "url": format!("{api}/git/blobs/{sha}"),
            "content": base64_lines(content.as_bytes()), "encoding": "base64",
        }),
    )
}

/// `GET /repos/{slug}/contents/{dir}?ref=` for a directory: its entries, as the API lists them.
fn dir_listing(repo: &FakeRepo, reference: &str, dir: &str, api: &str) -> Option<Value> {
    let spec = format!("{reference}:{dir}");
    if git(repo, &["cat-file", "-t", &spec])?.trim() != "tree" {
        return None;
    }
    let entries = ls_tree(repo, &spec, false)?;
    Some(Value::Array(
        entries
            .into_iter()
            .map(|[mode, kind, sha, size, name]| {
                let kind = match (mode.as_str(), kind.as_str()) {
                    ("120000", _) => "symlink",
                    (_, "tree") => "dir",
                    (_, "commit") => "submodule",
                    _ => "file",
                };
                let path = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                json!({
                    "type": kind, "name": name, "path": path, "sha": sha,
                    "size": size.parse::<u64>().unwrap_or(0),
                    "url": format!("{api}/contents/{path}?ref={reference}"),
                })
            })
            .collect(),
    ))
}

/// `2024-01-01T00:00:00+00:00` as GitHub writes it: `2024-01-01T00:00:00Z`.
fn utc(date: &str) -> String {
    date.strip_suffix("+00:00")
        .map_or_else(|| date.to_owned(), |d| format!("{d}Z"))
}

fn compare(repo: &FakeRepo, base: &str, head: &str, api: &str) -> Reply {
    let resolve = |r: &str| {
        git(
            repo,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{r}^{{commit}}"),
            ],
        )
        .map(|s| s.trim().to_owned())
    };
    let (Some(b), Some(h)) = (resolve(base), resolve(head)) else {
        return not_found();
    };
    // Unrelated histories (an orphan commit pushed to a fork): GitHub's exact answer.
    let Some(merge_base) = git(repo, &["merge-base", &b, &h]).map(|s| s.trim().to_owned()) else {
        return Reply::json(
            404,
            &json!({
                "message": format!("No common ancestor between {base} and {head}."),
                "documentation_url": "https://docs.github.com/rest/commits/commits#compare-two-commits",
                "status": "404",
            }),
        );
    };
    let count = |range: &str| {
        git(repo, &["rev-list", "--count", range])
            .and_then(|c| c.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ahead = count(&format!("{b}..{h}"));
    let behind = count(&format!("{h}..{b}"));
    let status = match (ahead, behind) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    Reply::json(
        200,
        &json!({
            "url": format!("{api}/compare/{base}...{head}"), "status": status, "ahead_by": ahead, "behind_by": behind,
            "total_commits": ahead, "base_commit": {"sha": b}, "merge_base_commit": {"sha": merge_base}, "commits": [],
        }),
    )
}

fn paginate(req: &Request, url: &str, items: Vec<Value>) -> Reply {
    let per_page: usize = req
        .query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page: usize = req
        .query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let mut reply = Reply::json(200, &Value::Array(slice));
    let mut links = Vec::new();
    if page < last {
        links.push(format!(
            "<{url}?per_page={per_page}&page={}>; rel=\"next\"",
            page + 1
        ));
        links.push(format!(
            "<{url}?per_page={per_page}&page={last}>; rel=\"last\""
        ));
    }
    if page > 1 {
        links.push(format!(
            "<{url}?per_page={per_page}&page={}>; rel=\"prev\"",
            page - 1
        ));
    }
    if !links.is_empty() {
        reply.headers.push(("link".into(), links.join(", ")));
    }
    reply
}

/// Numeric-aware sort key for tag names (`v10` after `v9`).
fn version_key(name: &str) -> Vec<(u64, String)> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .map(|p| (p.trim_start_matches('v').parse().unwrap_or(0), p.to_owned()))
        .collect()
}

/// Base64 with a newline every 60 characters, as the contents API sends it.
fn base64_lines(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    let mut wrapped = String::new();
    for (i, c) in out.chars().enumerate() {
        if i > 0 && i % 60 == 0 {
            wrapped.push('\n');
        }
        wrapped.push(c);
    }
    wrapped.push('\n');
    wrapped
}
