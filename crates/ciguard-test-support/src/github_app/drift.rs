//! The fake's routes for the App's settings drift issues: the settings endpoints `ciguard
//! settings` reads (answered from a [`settings_api::Api`] table, with weak ETags per token and
//! `304` on `If-None-Match`), issues with comments and labels (`410` when a repository has issues
//! disabled), `/installation/repositories` and `/app/installations`. Each repository route
//! names the permission GitHub's documentation gives it, so a token without it gets `403`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde_json::{Value, json};
use sha2::Digest;

use super::routes::{Request, error, not_found};
use super::{FakeGitHubApp, FakeRepo, State, lock};
use crate::http::Reply;
use crate::settings_api::Api;

/// An issue as the fake keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueRecord {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub body: String,
    /// `open` or `closed`.
    pub state: String,
    pub labels: Vec<String>,
    pub comments: Vec<String>,
    /// PATCHes received.
    pub updates: usize,
}

#[derive(Debug, Default)]
pub(super) struct DriftState {
    /// API path (as a snapshot file stem) → (status, accepted permissions, body).
    settings: HashMap<PathBuf, (u16, Option<String>, Value)>,
    issues: Vec<IssueRecord>,
    /// Repositories whose issues are disabled (every issues route answers 410).
    issues_disabled: Vec<String>,
}

impl FakeGitHubApp {
    /// Serves `api`'s settings answers (replacing the previous table).
    pub fn set_settings(&self, api: &Api) {
        lock(&self.state).drift.settings = api
            .0
            .iter()
            .filter_map(|(k, v)| Some((ciguard_settings::snapshot::file_stem(k).ok()?, v.clone())))
            .collect();
    }

    pub fn issues(&self) -> Vec<IssueRecord> {
        lock(&self.state).drift.issues.clone()
    }

    /// Changes an issue as a person would (edit its body, close it…).
    pub fn edit_issue(&self, repo: &str, number: u64, edit: impl FnOnce(&mut IssueRecord)) {
        if let Some(issue) = lock(&self.state)
            .drift
            .issues
            .iter_mut()
            .find(|i| i.repo == repo && i.number == number)
        {
            edit(issue);
        }
    }

    /// Turns issues off on `repo`: GitHub then answers 410 Gone.
    pub fn disable_issues(&self, repo: &str) {
        lock(&self.state)
            .drift
            .issues_disabled
            .push(repo.to_owned());
    }
}

/// The permission a repository route of this area needs; `None` when it is not one of them.
pub(super) fn permission(method: &str, rest: &[&str]) -> Option<(&'static str, &'static str)> {
    Some(match (method, rest) {
        ("GET", []) | ("GET", ["rulesets", ..]) => ("metadata", "read"),
        ("GET", ["issues", ..]) => ("issues", "read"),
        (_, ["issues", ..]) => ("issues", "write"),
        ("GET", ["branches", _, "protection"])
        | ("GET", ["actions", "permissions", ..])
        | ("GET", ["immutable-releases"]) => ("administration", "read"),
        ("GET", ["environments", _, "secrets"])
        | ("GET", ["actions", "secrets" | "organization-secrets"]) => ("secrets", "read"),
        ("GET", ["environments", ..]) => ("actions", "read"),
        _ => return None,
    })
}

/// GitHub's ETags are specific to the token that asked (GitHub support, quoted in
/// eclipse-csi/otterdog#201; github/docs#34689): an ETag kept from an earlier installation token
/// gets a `200`, not a `304`, when a new token asks. So the tag covers the Authorization header.
fn etag(body: &[u8], authorization: &str) -> String {
    let mut hasher = sha2::Sha256::new();
    hasher.update(authorization.as_bytes());
    hasher.update([0]);
    hasher.update(body);
    let digest = hasher.finalize();
    format!("W/\"{}\"", ciguard_core::hex::encode(&digest[..10]))
}

/// A GET answer with its ETag, or `304` when the client already has it.
fn conditional(req: &Request, status: u16, body: &Value) -> Reply {
    let reply = Reply::json(status, body);
    if status != 200 {
        return reply;
    }
    let authorization = req.headers.get("authorization").map_or("", String::as_str);
    let tag = etag(&reply.body, authorization);
    if req.headers.get("if-none-match") == Some(&tag) {
        return Reply::empty(304).with_header("etag", tag);
    }
    reply.with_header("etag", tag)
}

fn table_answer(state: &Mutex<State>, req: &Request) -> Option<Reply> {
    let stem = ciguard_settings::snapshot::file_stem(req.target.trim_start_matches('/')).ok()?;
    let (status, perm, body) = lock(state).drift.settings.get(&stem).cloned()?;
    let reply = conditional(req, status, &body);
    Some(match perm {
        Some(p) => reply.with_header("x-accepted-github-permissions", p),
        None => reply,
    })
}

/// The repository routes of this area (after [`permission`] was checked).
pub(super) fn repo_route(
    state: &Mutex<State>,
    req: &Request,
    repo: &FakeRepo,
    rest: &[&str],
) -> Option<Reply> {
    if let ["issues", ..] = rest {
        return Some(issues(state, req, repo, rest));
    }
    if req.method != "GET" || permission(req.method, rest).is_none() {
        return None;
    }
    if let Some(reply) = table_answer(state, req) {
        return Some(reply);
    }
    Some(match rest {
        [] => {
            let (owner, name) = repo.slug.split_once('/').unwrap_or(("", &repo.slug));
            conditional(
                req,
                200,
                &json!({"id": repo.id, "name": name, "full_name": repo.slug,
                        "owner": {"login": owner, "type": "Organization"},
                        "default_branch": "main", "archived": false, "has_issues": true}),
            )
        }
        _ => not_found(),
    })
}

fn issue_json(st: &State, i: &IssueRecord) -> Value {
    json!({
        "number": i.number, "title": i.title, "body": i.body, "state": i.state,
        "labels": i.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        "comments": i.comments.len(),
        "html_url": format!("{}/{}/issues/{}", st.base, i.repo, i.number),
    })
}

fn issues(state: &Mutex<State>, req: &Request, repo: &FakeRepo, rest: &[&str]) -> Reply {
    let body: Value = serde_json::from_slice(req.body).unwrap_or(Value::Null);
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_owned);
    let mut st = lock(state);
    if st.drift.issues_disabled.contains(&repo.slug) {
        return error(410, "Issues are disabled for this repo");
    }
    let number = |n: &str| n.parse::<u64>().ok();
    let find = |st: &mut State, n: &str| {
        let n = number(n)?;
        st.drift
            .issues
            .iter()
            .position(|i| i.repo == repo.slug && i.number == n)
    };
    match (req.method, rest) {
        ("POST", ["issues"]) => {
            let Some(title) = text("title").filter(|t| !t.is_empty()) else {
                return error(422, "Validation Failed");
            };
            let number = st
                .drift
                .issues
                .iter()
                .filter(|i| i.repo == repo.slug)
                .map(|i| i.number)
                .max()
                .unwrap_or(0)
                + 1;
            let issue = IssueRecord {
                repo: repo.slug.clone(),
                number,
                title,
                body: text("body").unwrap_or_default(),
                state: "open".into(),
                labels: labels(&body),
                ..IssueRecord::default()
            };
            let json = issue_json(&st, &issue);
            st.drift.issues.push(issue);
            Reply::json(201, &json)
        }
        ("GET", ["issues", n]) => match find(&mut st, n) {
            Some(i) => {
                let json = issue_json(&st, &st.drift.issues[i]);
                conditional(req, 200, &json)
            }
            None => not_found(),
        },
        ("PATCH", ["issues", n]) => match find(&mut st, n) {
            Some(i) => {
                let issue = &mut st.drift.issues[i];
                if let Some(b) = text("body") {
                    issue.body = b;
                }
                if let Some(t) = text("title") {
                    issue.title = t;
                }
                match text("state").as_deref() {
                    Some(s @ ("open" | "closed")) => issue.state = s.to_owned(),
                    Some(_) => return error(422, "Validation Failed"),
                    None => {}
                }
                if body.get("labels").is_some() {
                    issue.labels = labels(&body);
                }
                issue.updates += 1;
                let issue = issue.clone();
                Reply::json(200, &issue_json(&st, &issue))
            }
            None => not_found(),
        },
        ("POST", ["issues", n, "comments"]) => match (find(&mut st, n), text("body")) {
            (Some(i), Some(b)) => {
                st.drift.issues[i].comments.push(b.clone());
                Reply::json(
                    201,
                    &json!({"id": st.drift.issues[i].comments.len(), "body": b}),
                )
            }
            (None, _) => not_found(),
            (_, None) => error(422, "Validation Failed"),
        },
        _ => not_found(),
    }
}

fn labels(body: &Value) -> Vec<String> {
    body.get("labels")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|l| l.as_str().or_else(|| l.get("name")?.as_str()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `/orgs/{org}…`: the organization's settings, for a token of an installation on that
/// organization; its owners list needs the organization permission `members: read`.
pub(super) fn org_route(state: &Mutex<State>, req: &Request, org: &str, rest: &[&str]) -> Reply {
    let token = {
        let st = lock(state);
        super::routes::token_of(&st, req)
    };
    let Some(token) = token else {
        return error(401, "Bad credentials");
    };
    let installed = lock(state).repos.iter().any(|r| {
        r.installation == token.installation
            && r.slug
                .split('/')
                .next()
                .is_some_and(|o| o.eq_ignore_ascii_case(org))
    });
    if !installed {
        return not_found();
    }
    if req.method != "GET" {
        return not_found();
    }
    if matches!(rest, ["members"]) && !token.grants("members", "read") {
        return error(403, "Resource not accessible by integration")
            .with_header("x-accepted-github-permissions", "members=read");
    }
    table_answer(state, req).unwrap_or_else(not_found)
}

/// `GET /installation/repositories`: the repositories the token may reach.
pub(super) fn installation_repositories(state: &Mutex<State>, req: &Request) -> Reply {
    let st = lock(state);
    let Some(token) = super::routes::token_of(&st, req) else {
        return error(401, "Bad credentials");
    };
    let repos: Vec<Value> = st
        .repos
        .iter()
        .filter(|r| r.installation == token.installation && token.repository_ids.contains(&r.id))
        .map(|r| {
            let (owner, name) = r.slug.split_once('/').unwrap_or(("", &r.slug));
            json!({"id": r.id, "name": name, "full_name": r.slug,
                   "owner": {"login": owner, "type": "Organization"}, "archived": false})
        })
        .collect();
    Reply::json(
        200,
        &json!({"total_count": repos.len(), "repositories": repos}),
    )
}

/// `GET /app/installations` (JWT): one per installation the repositories were added to.
pub(super) fn installations(state: &Mutex<State>) -> Reply {
    let st = lock(state);
    let mut seen: Vec<(u64, String)> = Vec::new();
    for r in &st.repos {
        if !seen.iter().any(|(id, _)| *id == r.installation) {
            let owner = r.slug.split('/').next().unwrap_or_default().to_owned();
            seen.push((r.installation, owner));
        }
    }
    let list: Vec<Value> = seen
        .iter()
        .map(|(id, login)| json!({"id": id, "account": {"login": login, "type": "Organization"}}))
        .collect();
    Reply::json(200, &Value::Array(list))
}
