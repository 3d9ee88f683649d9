//! The fake's answers, route by route, in the shapes of GitHub's REST API.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::auth::{MintedToken, verify_jwt};
use super::{CheckRunRecord, FakePull, FakeRepo, Logged, State, lock, now};
use crate::http::{Reply, Request as Raw};

const DOCS: &str = "https://docs.github.com/rest";

/// A request as the routes see it: the path without GitHub Enterprise Server's `/api/v3`,
/// which `prefix` keeps for the links of the answer.
pub(super) struct Request<'a> {
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) prefix: &'static str,
    /// As sent (path and query).
    pub(super) target: &'a str,
    pub(super) query: &'a std::collections::HashMap<String, String>,
    pub(super) headers: &'a std::collections::HashMap<String, String>,
    pub(super) body: &'a [u8],
}

pub(super) fn error(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"message": message, "documentation_url": DOCS, "status": status.to_string()}),
    )
}

pub(super) fn not_found() -> Reply {
    error(404, "Not Found")
}

/// GitHub's 422 shape for a check run it refuses.
fn invalid(field: &str, message: &str) -> Reply {
    Reply::json(
        422,
        &json!({
            "message": "Invalid request.",
            "errors": [{"resource": "CheckRun", "code": "custom", "field": field, "message": message}],
            "documentation_url": "https://docs.github.com/rest/checks/runs",
            "status": "422"
        }),
    )
}

pub(super) fn handle(state: &Mutex<State>, raw: &Raw) -> Reply {
    let (prefix, path) = match raw.path.strip_prefix("/api/v3/") {
        Some(rest) => ("/api/v3", &raw.path[raw.path.len() - rest.len() - 1..]),
        None => ("", raw.path.as_str()),
    };
    let req = &Request {
        method: &raw.method,
        path,
        prefix,
        target: &raw.target,
        query: &raw.query,
        headers: &raw.headers,
        body: &raw.body,
    };
    let route = format!("{} {}", req.method, req.path);
    let fault = {
        let mut st = lock(state);
        st.faults
            .iter_mut()
            .find(|f| route.starts_with(&f.route) && f.times != Some(0))
            .map(|f| {
                if let Some(t) = f.times.as_mut() {
                    *t -= 1;
                }
                f.clone()
            })
    };
    if let Some(f) = &fault
        && !f.latency.is_zero()
    {
        std::thread::sleep(f.latency);
    }
    let installation = installation_of(state, req);
    let mut reply = match fault {
        Some(f) if f.status != 0 => {
            let mut r = Reply::json(f.status, &f.body);
            r.headers.extend(f.headers);
            r
        }
        _ => dispatch(state, req),
    };
    if !reply
        .headers
        .iter()
        .any(|(k, _)| k == "x-ratelimit-remaining")
    {
        let reset = now() + 3600;
        reply = reply
            .with_header("x-ratelimit-limit", "5000")
            .with_header("x-ratelimit-remaining", "4999")
            .with_header("x-ratelimit-used", "1")
            .with_header("x-ratelimit-reset", reset.to_string())
            .with_header("x-ratelimit-resource", "core");
    }
    lock(state).log.push(Logged {
        method: req.method.to_owned(),
        target: req.target.to_owned(),
        status: reply.status,
        installation,
    });
    reply
}

fn bearer<'a>(req: &Request<'a>) -> Option<&'a str> {
    req.headers.get("authorization")?.strip_prefix("Bearer ")
}

/// The installation a request acts for: its token's, or the one it asks a token of.
fn installation_of(state: &Mutex<State>, req: &Request) -> Option<u64> {
    if let Some(rest) = req.path.strip_prefix("/app/installations/") {
        return rest.split('/').next()?.parse().ok();
    }
    let token = bearer(req)?;
    lock(state)
        .tokens
        .iter()
        .find(|t| t.token == token)
        .map(|t| t.installation)
}

fn dispatch(state: &Mutex<State>, req: &Request) -> Reply {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["app", rest @ ..] => {
            let Some(jwt) = bearer(req) else {
                return error(401, "A JSON web token could not be decoded");
            };
            let key = lock(state).public_key.clone();
            if let Err(message) = verify_jwt(jwt, &key, super::APP_ID, now()) {
                return error(401, &message);
            }
            app_route(state, req, rest)
        }
        ["orgs", org, rest @ ..] => super::drift::org_route(state, req, org, rest),
        ["installation", "repositories"] => super::drift::installation_repositories(state, req),
        ["repos", owner, name, rest @ ..] => {
            let slug = format!("{owner}/{name}");
            let repo = match authorize_repo(state, req, &slug, rest) {
                Ok(found) => found,
                Err(reply) => return reply,
            };
            repo_route(state, req, &repo, rest)
        }
        _ => not_found(),
    }
}

/// The permission (and level) a repository route needs.
fn permission_for(method: &str, rest: &[&str]) -> (&'static str, &'static str) {
    if let Some(needed) = super::drift::permission(method, rest) {
        return needed;
    }
    if let Some(needed) = super::gate::permission_for(method, rest) {
        return needed;
    }
    if let Some(needed) = super::relay::permission_for(method, rest) {
        return needed;
    }
    match (method, rest) {
        (_, ["pulls", ..]) => ("pull_requests", "read"),
        ("GET", ["commits", _, "check-runs"]) => ("checks", "read"),
        (_, ["check-runs", ..]) => ("checks", "write"),
        _ => ("contents", "read"),
    }
}

/// The unexpired installation token a request carries.
pub(super) fn token_of(st: &State, req: &Request) -> Option<MintedToken> {
    let b = bearer(req)?;
    st.tokens
        .iter()
        .find(|t| t.token == b && t.expires_at > now())
        .cloned()
}

fn authorize_repo(
    state: &Mutex<State>,
    req: &Request,
    slug: &str,
    rest: &[&str],
) -> Result<FakeRepo, Reply> {
    let st = lock(state);
    let token = bearer(req)
        .and_then(|b| st.tokens.iter().find(|t| t.token == b))
        .filter(|t| t.expires_at > now())
        .cloned()
        .ok_or_else(|| error(401, "Bad credentials"))?;
    let repo = st
        .repos
        .iter()
        .find(|r| r.slug == slug && r.installation == token.installation)
        .cloned()
        .ok_or_else(not_found)?;
    let (permission, level) = permission_for(req.method, rest);
    let granted = token.grants(permission, level)
        || super::relay::grants_on_pull(&st, &token, &repo, req.method, rest);
    if !token.repository_ids.contains(&repo.id) || !granted {
        return Err(error(403, "Resource not accessible by integration"));
    }
    Ok(repo)
}

static TOKEN_SERIAL: AtomicU64 = AtomicU64::new(1);

/// Which installation-token format to mint: GitHub is rolling out stateless, JWT-shaped tokens
/// (`ghs_` + header.payload.signature, about 520 characters, announced April 2026) beside the
/// short opaque ones, and `X-GitHub-Stateless-S2S-Token: enabled|disabled` on the mint request
/// forces one (any other value is ignored). The fake's rollout default is the new format, so every
/// test meets the longer token with dots in it.
fn stateless_token(req: &Request) -> bool {
    req.headers
        .get("x-github-stateless-s2s-token")
        .map(String::as_str)
        != Some("disabled")
}

fn mint(state: &Mutex<State>, installation: u64, body: &Value, stateless: bool) -> Reply {
    let mut st = lock(state);
    let installed: Vec<&FakeRepo> = st
        .repos
        .iter()
        .filter(|r| r.installation == installation)
        .collect();
    if installed.is_empty() {
        return not_found();
    }
    // `repositories` names repositories without their owner; GitHub refuses a request that
    // names one the installation cannot reach with the same 422 as for an id.
    let named: Option<Vec<Option<u64>>> = match body.get("repositories") {
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|n| {
                    let n = n.as_str()?;
                    installed
                        .iter()
                        .find(|r| r.slug.rsplit('/').next() == Some(n))
                        .map(|r| r.id)
                })
                .collect(),
        ),
        _ => None,
    };
    let ids: Vec<u64> = match (&named, body.get("repository_ids")) {
        (Some(named), _) => named.iter().map(|id| id.unwrap_or(0)).collect(),
        (None, Some(Value::Array(a))) => a.iter().filter_map(Value::as_u64).collect(),
        _ => installed.iter().map(|r| r.id).collect(),
    };
    if ids.iter().any(|id| !installed.iter().any(|r| r.id == *id)) {
        return Reply::json(
            422,
            &json!({"message": "There is at least one repository that does not exist or is not accessible to the parent installation.", "documentation_url": DOCS, "status": "422"}),
        );
    }
    let permissions: BTreeMap<String, String> = match body.get("permissions") {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect(),
        _ => [
            ("contents", "write"),
            ("checks", "write"),
            ("pull_requests", "write"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    };
    let serial = TOKEN_SERIAL.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let unique = format!(
        "{:016x}{:08x}{:012x}",
        serial.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        nanos,
        installation
    );
    let token = if stateless {
        // JWT-shaped, in the alphabet GitHub documents for both formats (`ghs_[A-Za-z0-9._]{36,}`).
        let payload = ciguard_core::hex::encode(
            format!("{{\"inst\":{installation},\"id\":\"{unique}\"}}").as_bytes(),
        );
        let signature = unique.repeat(10)[..342].to_owned();
        format!("ghs_eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.{signature}")
    } else {
        format!("ghs_{unique}")
    };
    let expires_at = now() + st.token_lifetime;
    let repositories: Vec<Value> = installed
        .iter()
        .filter(|r| ids.contains(&r.id))
        .map(|r| json!({"id": r.id, "full_name": r.slug}))
        .collect();
    st.tokens.push(MintedToken {
        token: token.clone(),
        installation,
        repository_ids: ids,
        permissions: permissions.clone(),
        expires_at,
    });
    let mut perms = permissions;
    perms.insert("metadata".into(), "read".into());
    Reply::json(
        201,
        &json!({
            "token": token, "expires_at": rfc3339(expires_at), "permissions": perms,
            "repository_selection": "selected", "repositories": repositories,
        }),
    )
}

fn app_route(state: &Mutex<State>, req: &Request, rest: &[&str]) -> Reply {
    let body: Value = serde_json::from_slice(req.body).unwrap_or(Value::Null);
    match (req.method, rest) {
        ("POST", ["installations", id, "access_tokens"]) => match id.parse() {
            Ok(id) => mint(state, id, &body, stateless_token(req)),
            Err(_) => not_found(),
        },
        ("GET", ["hook", "deliveries"]) => deliveries(state, req),
        ("GET", ["installations"]) => super::drift::installations(state),
        ("POST", ["hook", "deliveries", id, "attempts"]) => {
            let mut st = lock(state);
            match id.parse::<u64>() {
                Ok(id) if st.deliveries.iter().any(|d| d.id == id) => {
                    st.redeliveries.push(id);
                    Reply::json(202, &json!({}))
                }
                _ => not_found(),
            }
        }
        _ => not_found(),
    }
}

fn per_page(req: &Request, default: usize) -> usize {
    req.query
        .get("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(default)
        .clamp(1, 100)
}

/// Newest first, cursor pagination with `Link` as GitHub does.
fn deliveries(state: &Mutex<State>, req: &Request) -> Reply {
    let st = lock(state);
    // `status`: success is a status code in 200-399, failure anything else.
    let wanted = req.query.get("status").map(String::as_str);
    let mut all: Vec<_> = st
        .deliveries
        .iter()
        .filter(|d| match wanted {
            Some("success") => (200..400).contains(&d.status_code),
            Some("failure") => !(200..400).contains(&d.status_code),
            _ => true,
        })
        .cloned()
        .collect();
    all.sort_by(|a, b| b.delivered_at.cmp(&a.delivered_at).then(b.id.cmp(&a.id)));
    let per_page = per_page(req, 30);
    let start: usize = req
        .query
        .get("cursor")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(per_page)
        .map(|d| {
            json!({
                "id": d.id, "guid": d.guid, "delivered_at": rfc3339(d.delivered_at),
                "redelivery": false, "duration": 0.1,
                "status": if (200..400).contains(&d.status_code) { "OK" } else { "Invalid HTTP Response: 503" },
                "status_code": d.status_code, "event": d.event, "action": "opened",
                "installation_id": 1, "repository_id": 1,
            })
        })
        .collect();
    let mut reply = Reply::json(200, &Value::Array(page));
    if start + per_page < all.len() {
        reply = reply.with_header(
            "link",
            format!(
                "<{}{}/app/hook/deliveries?per_page={per_page}{}&cursor={}>; rel=\"next\"",
                st.base,
                req.prefix,
                wanted.map(|w| format!("&status={w}")).unwrap_or_default(),
                start + per_page
            ),
        );
    }
    reply
}

fn is_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn repo_route(state: &Mutex<State>, req: &Request, repo: &FakeRepo, rest: &[&str]) -> Reply {
    match (req.method, rest) {
        ("GET", ["pulls", n]) => match find_pull(state, repo, n) {
            Some(pr) => {
                let closed = lock(state).relay.is_closed(&repo.slug, pr.number);
                pull_json(repo, &pr, closed)
            }
            None => not_found(),
        },
        ("GET", ["pulls", n, "files"]) => match find_pull(state, repo, n) {
            Some(pr) => pull_files(state, req, repo, &pr),
            None => not_found(),
        },
        ("GET", ["git", "blobs", sha]) if is_sha(sha) => blob(repo, sha),
        ("GET", ["git", "trees", sha]) => tree(repo, sha, req.query.contains_key("recursive")),
        ("GET", ["contents", path @ ..]) => {
            let reference = req.query.get("ref").map_or("HEAD", String::as_str);
            contents(repo, reference, &path.join("/"))
        }
        ("GET", ["commits", reference, "check-runs"]) => {
            list_check_runs(state, req, repo, reference)
        }
        ("POST", ["check-runs"]) => create_check_run(state, req, repo),
        ("PATCH", ["check-runs", id]) => match id.parse() {
            Ok(id) => update_check_run(state, req, repo, id),
            Err(_) => not_found(),
        },
        _ if super::gate::handles(req.method, rest) => super::gate::route(state, req, repo, rest),
        // The relay answers the issue routes of pull requests, drift those of issues.
        _ => super::relay::route(state, req, repo, rest)
            .or_else(|| super::drift::repo_route(state, req, repo, rest))
            .unwrap_or_else(not_found),
    }
}

fn find_pull(state: &Mutex<State>, repo: &FakeRepo, number: &str) -> Option<FakePull> {
    let number: u64 = number.parse().ok()?;
    lock(state)
        .pulls
        .iter()
        .find(|p| p.slug == repo.slug && p.number == number)
        .cloned()
}

/// `git diff --raw` between the pull request's base and head: (status, new blob, path).
fn changed(repo: &FakeRepo, pr: &FakePull) -> Vec<(String, String, String)> {
    let Ok(raw) = repo.git.git(&[
        "diff",
        "--raw",
        "--no-abbrev",
        "-M",
        &pr.base_sha,
        &pr.head_sha,
    ]) else {
        return Vec::new();
    };
    raw.lines()
        .filter_map(|line| {
            let (meta, paths) = line.split_once('\t')?;
            let fields: Vec<&str> = meta.split_whitespace().collect();
            let blob = (*fields.get(3)?).to_owned();
            let status = match fields.get(4)?.chars().next()? {
                'A' => "added",
                'D' => "removed",
                'R' => "renamed",
                _ => "modified",
            };
            let path = paths.rsplit('\t').next()?.to_owned();
            Some((status.to_owned(), blob, path))
        })
        .collect()
}

fn pull_json(repo: &FakeRepo, pr: &FakePull, closed: bool) -> Reply {
    let changed_files = pr.changed_files.unwrap_or(changed(repo, pr).len() as u64);
    Reply::json(
        200,
        &json!({
            "number": pr.number, "state": if closed { "closed" } else { "open" }, "changed_files": changed_files,
            "head": {"sha": pr.head_sha, "ref": format!("refs/pull/{}/head", pr.number)},
            "base": {"sha": pr.base_sha, "repo": {"id": repo.id, "full_name": repo.slug}},
        }),
    )
}

fn pull_files(state: &Mutex<State>, req: &Request, repo: &FakeRepo, pr: &FakePull) -> Reply {
    let (base, default) = {
        let st = lock(state);
        (format!("{}{}", st.base, req.prefix), st.default_per_page)
    };
    let per_page = per_page(req, default);
    let page: usize = req
        .query
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    // GitHub lists at most 3,000 files.
    let files: Vec<_> = changed(repo, pr).into_iter().take(3_000).collect();
    let items: Vec<Value> = files
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|(status, blob, path)| {
            json!({"sha": blob, "filename": path, "status": status, "additions": 1, "deletions": 0, "changes": 1})
        })
        .collect();
    let mut reply = Reply::json(200, &Value::Array(items));
    if page * per_page < files.len() {
        let last = files.len().div_ceil(per_page);
        reply = reply.with_header(
            "link",
            format!(
                "<{base}/repos/{slug}/pulls/{n}/files?per_page={per_page}&page={next}>; rel=\"next\", <{base}/repos/{slug}/pulls/{n}/files?per_page={per_page}&page={last}>; rel=\"last\"",
                slug = repo.slug,
                n = pr.number,
                next = page + 1
            ),
        );
    }
    reply
}

fn blob(repo: &FakeRepo, sha: &str) -> Reply {
    if repo
        .git
        .git(&["cat-file", "-t", sha])
        .map(|t| t.trim() == "blob")
        != Ok(true)
    {
        return not_found();
    }
    match repo.git.git_bytes(&["cat-file", "blob", sha]) {
        Ok(bytes) => Reply::json(
            200,
            &json!({"sha": sha, "size": bytes.len(), "encoding": "base64", "content": wrapped_base64(&bytes)}),
        ),
        Err(_) => not_found(),
    }
}

/// Base64 in 60-character lines, as GitHub sends blob and file contents.
fn wrapped_base64(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

fn tree(repo: &FakeRepo, reference: &str, recursive: bool) -> Reply {
    let mut args = vec!["ls-tree", "-l", "--full-tree"];
    if recursive {
        args.push("-r");
    }
    args.push(reference);
    let Ok(listing) = repo.git.git(&args) else {
        return not_found();
    };
    let Ok(sha) = repo
        .git
        .git(&["rev-parse", &format!("{reference}^{{tree}}")])
    else {
        return not_found();
    };
    let entries: Vec<Value> = listing
        .lines()
        .filter_map(|line| {
            let (meta, path) = line.split_once('\t')?;
            let f: Vec<&str> = meta.split_whitespace().collect();
            let mut entry =
                json!({"path": path, "mode": f.first()?, "type": f.get(1)?, "sha": f.get(2)?});
            if let Some(size) = f.get(3).and_then(|s| s.parse::<u64>().ok()) {
                entry["size"] = json!(size);
            }
            Some(entry)
        })
        .collect();
    Reply::json(
        200,
        &json!({"sha": sha.trim(), "tree": entries, "truncated": false}),
    )
}

fn contents(repo: &FakeRepo, reference: &str, path: &str) -> Reply {
    let spec = format!("{reference}:{path}");
    match repo
        .git
        .git(&["cat-file", "-t", &spec])
        .map(|t| t.trim().to_owned())
    {
        Ok(t) if t == "blob" => match repo.git.git_bytes(&["cat-file", "blob", &spec]) {
            Ok(bytes) => Reply::json(
                200,
                &json!({"type": "file", "encoding": "base64", "size": bytes.len(), "name": path.rsplit('/').next(), "path": path, "content": wrapped_base64(&bytes)}),
            ),
            Err(_) => not_found(),
        },
        _ => not_found(),
    }
}

fn check_run_json(run: &CheckRunRecord) -> Value {
    json!({
        "id": run.id, "name": run.name, "head_sha": run.head_sha, "status": run.status,
        "conclusion": run.conclusion, "app": {"id": run.app_id, "slug": "ciguard"},
        "output": {"title": run.title, "summary": run.summary, "annotations_count": run.annotations.len()},
    })
}

fn list_check_runs(state: &Mutex<State>, req: &Request, repo: &FakeRepo, reference: &str) -> Reply {
    let st = lock(state);
    let name = req.query.get("check_name");
    let app_id: Option<u64> = req.query.get("app_id").and_then(|a| a.parse().ok());
    let runs: Vec<Value> = st
        .check_runs
        .iter()
        .filter(|r| r.repo == repo.slug && r.head_sha == reference)
        .filter(|r| name.is_none_or(|n| *n == r.name))
        .filter(|r| app_id.is_none_or(|a| a == r.app_id))
        .map(check_run_json)
        .collect();
    Reply::json(200, &json!({"total_count": runs.len(), "check_runs": runs}))
}

/// GitHub's limits on a check run's `output`; the refusal when one is broken.
fn validate_output(output: Option<&Value>) -> Result<(), Reply> {
    let Some(output) = output else {
        return Ok(());
    };
    let title = output.get("title").and_then(Value::as_str);
    let summary = output.get("summary").and_then(Value::as_str);
    let (Some(title), Some(summary)) = (title, summary) else {
        return Err(invalid("output", "output requires title and summary"));
    };
    if title.chars().count() > 255 {
        return Err(invalid(
            "title",
            "title is too long (maximum is 255 characters)",
        ));
    }
    if summary.chars().count() > 65_535 {
        return Err(invalid(
            "summary",
            "summary is too long (maximum is 65535 characters)",
        ));
    }
    if let Some(annotations) = output.get("annotations") {
        let Some(list) = annotations.as_array() else {
            return Err(invalid("annotations", "annotations must be an array"));
        };
        if list.len() > 50 {
            return Err(invalid(
                "annotations",
                "Only 50 annotations are allowed per request",
            ));
        }
        for a in list {
            let ok = a.get("path").and_then(Value::as_str).is_some()
                && a.get("start_line")
                    .and_then(Value::as_u64)
                    .is_some_and(|l| l >= 1)
                && a.get("end_line").and_then(Value::as_u64).is_some()
                && a.get("message").and_then(Value::as_str).is_some()
                && matches!(
                    a.get("annotation_level").and_then(Value::as_str),
                    Some("notice" | "warning" | "failure")
                );
            if !ok {
                return Err(invalid(
                    "annotations",
                    "annotation is missing a required field or has an invalid level",
                ));
            }
        }
    }
    Ok(())
}

fn apply(run: &mut CheckRunRecord, body: &Value) -> Result<(), Reply> {
    validate_output(body.get("output"))?;
    if let Some(output) = body.get("output") {
        run.title = output["title"].as_str().unwrap_or_default().to_owned();
        run.summary = output["summary"].as_str().unwrap_or_default().to_owned();
        if let Some(list) = output.get("annotations").and_then(Value::as_array) {
            run.annotations.extend(list.iter().cloned());
        }
    }
    if let Some(status) = body.get("status").and_then(Value::as_str) {
        run.status = status.to_owned();
    }
    if let Some(conclusion) = body.get("conclusion").and_then(Value::as_str) {
        let valid = [
            "action_required",
            "cancelled",
            "failure",
            "neutral",
            "success",
            "skipped",
            "stale",
            "timed_out",
        ];
        if !valid.contains(&conclusion) {
            return Err(invalid(
                "conclusion",
                "conclusion is not included in the list",
            ));
        }
        run.conclusion = Some(conclusion.to_owned());
        run.status = "completed".into();
    }
    Ok(())
}

fn create_check_run(state: &Mutex<State>, req: &Request, repo: &FakeRepo) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(req.body) else {
        return error(400, "Problems parsing JSON");
    };
    let (Some(name), Some(head_sha)) = (
        body.get("name").and_then(Value::as_str),
        body.get("head_sha").and_then(Value::as_str),
    ) else {
        return invalid("name", "name and head_sha are required");
    };
    if repo
        .git
        .git(&["cat-file", "-t", head_sha])
        .map(|t| t.trim() == "commit")
        != Ok(true)
    {
        return invalid("head_sha", "No commit found for SHA");
    }
    let mut st = lock(state);
    let mut run = CheckRunRecord {
        id: 9000 + st.check_runs.len() as u64,
        repo: repo.slug.clone(),
        head_sha: head_sha.to_owned(),
        name: name.to_owned(),
        app_id: super::APP_ID,
        status: "queued".into(),
        creates: 1,
        ..CheckRunRecord::default()
    };
    if let Err(reply) = apply(&mut run, &body) {
        return reply;
    }
    let json = check_run_json(&run);
    st.check_runs.push(run);
    Reply::json(201, &json)
}

fn update_check_run(state: &Mutex<State>, req: &Request, repo: &FakeRepo, id: u64) -> Reply {
    let Ok(body) = serde_json::from_slice::<Value>(req.body) else {
        return error(400, "Problems parsing JSON");
    };
    let mut st = lock(state);
    let Some(run) = st
        .check_runs
        .iter_mut()
        .find(|r| r.id == id && r.repo == repo.slug)
    else {
        return not_found();
    };
    let mut updated = run.clone();
    if let Err(reply) = apply(&mut updated, &body) {
        return reply;
    }
    updated.updates += 1;
    *run = updated;
    Reply::json(200, &check_run_json(run))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch.
pub(super) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps_like_github() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_468_275_250), "2016-07-11T22:14:10Z");
        assert_eq!(rfc3339(1_709_208_000), "2024-02-29T12:00:00Z");
    }
}
