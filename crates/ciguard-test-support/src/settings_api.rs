//! The settings API table: realistic GitHub answers (shapes of the REST API docs' examples) for
//! the settings checks, written as snapshot directories or served on the shared request loop.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ciguard_settings::snapshot::file_stem;
use serde_json::{Value, json};

use crate::http::{Listener, Options, Reply, Request, Server};

pub const OWNER: &str = "octo-org";
pub const REPO: &str = "hello-world";
pub const BASE: &str = "repos/octo-org/hello-world";

/// API path → (status, accepted permissions, body).
#[derive(Clone, Default)]
pub struct Api(pub BTreeMap<String, (u16, Option<String>, Value)>);

impl Api {
    pub fn ok(&mut self, path: &str, body: Value) {
        self.0.insert(path.to_owned(), (200, None, body));
    }

    pub fn status(&mut self, path: &str, status: u16, perm: Option<&str>, body: Value) {
        self.0
            .insert(path.to_owned(), (status, perm.map(str::to_owned), body));
    }

    pub fn deny(&mut self, path: &str, perm: &str) {
        self.status(
            path,
            403,
            Some(perm),
            json!({ "message": "Resource not accessible by personal access token", "documentation_url": "https://docs.github.com/rest", "status": "403" }),
        );
    }

    pub fn body_mut(&mut self, path: &str) -> &mut Value {
        &mut self.0.get_mut(path).expect("fixture path").2
    }

    /// Writes the snapshot layout: `PATH.json`, and `PATH.status` for non-200 answers.
    pub fn write(&self, dir: &Path) {
        for (path, (status, perm, body)) in &self.0 {
            let stem = dir.join(file_stem(path).unwrap());
            std::fs::create_dir_all(stem.parent().unwrap()).unwrap();
            std::fs::write(
                format!("{}.json", stem.display()),
                serde_json::to_vec_pretty(body).unwrap(),
            )
            .unwrap();
            if *status != 200 {
                let mut text = format!("{status}\n");
                if let Some(p) = perm {
                    text.push_str(&format!("x-accepted-github-permissions: {p}\n"));
                }
                std::fs::write(format!("{}.status", stem.display()), text).unwrap();
            }
        }
    }
}

pub fn repo_json(admin: bool) -> Value {
    json!({
        "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": REPO, "full_name": format!("{OWNER}/{REPO}"),
        "owner": { "login": OWNER, "id": 1, "type": "Organization", "site_admin": false },
        "private": false, "html_url": format!("https://github.com/{OWNER}/{REPO}"), "fork": false,
        "default_branch": "main", "archived": false, "visibility": "public",
        "permissions": { "admin": admin, "maintain": admin, "push": true, "triage": true, "pull": true }
    })
}

fn summary(rs: &Value) -> Value {
    json!({
        "id": rs["id"], "name": rs["name"], "target": rs["target"], "source_type": rs["source_type"], "source": rs["source"],
        "enforcement": rs["enforcement"], "node_id": "RRS_lACkVXNlcgQB",
        "_links": { "self": { "href": format!("https://api.github.com/{BASE}/rulesets/{}", rs["id"]) } },
        "created_at": "2025-06-01T10:00:00.000-07:00", "updated_at": "2025-06-01T10:00:00.000-07:00"
    })
}

pub fn ruleset(id: i64, name: &str, target: &str, include: &[&str], rules: Value) -> Value {
    json!({
        "id": id, "name": name, "target": target, "source_type": "Repository", "source": format!("{OWNER}/{REPO}"),
        "enforcement": "active",
        "bypass_actors": [{ "actor_id": 287, "actor_type": "Integration", "bypass_mode": "pull_request" }],
        "current_user_can_bypass": "never", "node_id": "RRS_lACkVXNlcgQB",
        "conditions": { "ref_name": { "include": include, "exclude": [] } },
        "rules": rules,
        "created_at": "2025-06-01T10:00:00.000-07:00", "updated_at": "2025-06-01T10:00:00.000-07:00"
    })
}

pub fn hardened_rulesets() -> Vec<Value> {
    vec![
        ruleset(
            42,
            "main",
            "branch",
            &["~DEFAULT_BRANCH"],
            json!([
                { "type": "deletion" },
                { "type": "non_fast_forward" },
                { "type": "pull_request", "parameters": { "required_approving_review_count": 1, "dismiss_stale_reviews_on_push": true,
                  "require_code_owner_review": false, "require_last_push_approval": true, "required_review_thread_resolution": false,
                  "allowed_merge_methods": ["squash"] } },
                { "type": "required_status_checks", "parameters": { "strict_required_status_checks_policy": false,
                  "required_status_checks": [{ "context": "ci", "integration_id": 15368 }] } }
            ]),
        ),
        ruleset(
            43,
            "no advisory branches",
            "branch",
            &["refs/heads/advisory-*", "refs/heads/internal-*"],
            json!([{ "type": "creation" }]),
        ),
        ruleset(
            44,
            "release tags",
            "tag",
            &["refs/tags/v*"],
            json!([
                { "type": "deletion" },
                { "type": "update", "parameters": { "update_allows_fetch_and_merge": false } },
                { "type": "required_deployments", "parameters": { "required_deployment_environments": ["release"] } }
            ]),
        ),
    ]
}

pub fn set_rulesets(api: &mut Api, rulesets: &[Value]) {
    api.0
        .retain(|k, _| !k.starts_with(&format!("{BASE}/rulesets/")));
    api.ok(
        &format!("{BASE}/rulesets"),
        Value::Array(rulesets.iter().map(summary).collect()),
    );
    for rs in rulesets {
        api.ok(&format!("{BASE}/rulesets/{}", rs["id"]), rs.clone());
    }
}

fn not_protected() -> Value {
    json!({ "message": "Branch not protected", "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection", "status": "404" })
}

/// A repository with every recommended setting, in an organization that is hardened too.
pub fn hardened() -> Api {
    let mut api = Api::default();
    api.ok(BASE, repo_json(true));
    set_rulesets(&mut api, &hardened_rulesets());
    api.status(
        &format!("{BASE}/branches/main/protection"),
        404,
        None,
        not_protected(),
    );
    api.ok(
        &format!("{BASE}/actions/permissions"),
        json!({ "enabled": true, "allowed_actions": "selected", "sha_pinning_required": true,
                "selected_actions_url": format!("https://api.github.com/{BASE}/actions/permissions/selected-actions") }),
    );
    api.ok(&format!("{BASE}/actions/permissions/workflow"), json!({ "default_workflow_permissions": "read", "can_approve_pull_request_reviews": false }));
    api.ok(
        &format!("{BASE}/environments"),
        json!({ "total_count": 1, "environments": [{
            "id": 161088068, "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4", "name": "release",
            "url": format!("https://api.github.com/{BASE}/environments/release"),
            "html_url": format!("https://github.com/{BASE}/deployments/activity_log?environments_filter=release"),
            "created_at": "2020-11-23T22:00:40Z", "updated_at": "2020-11-23T22:00:40Z", "can_admins_bypass": false,
            "protection_rules": [
                { "id": 3736, "node_id": "MDQ6R2F0ZTM3MzY=", "type": "wait_timer", "wait_timer": 30 },
                { "id": 3755, "node_id": "MDQ6R2F0ZTM3NTU=", "prevent_self_review": true, "type": "required_reviewers",
                  "reviewers": [{ "type": "Team", "reviewer": { "id": 1, "node_id": "MDQ6VGVhbTE=", "name": "Release", "slug": "release" } }] },
                { "id": 3756, "node_id": "MDQ6R2F0ZTM3NTY=", "type": "branch_policy" }
            ],
            "deployment_branch_policy": { "protected_branches": false, "custom_branch_policies": true }
        }] }),
    );
    api.ok(
        &format!("{BASE}/environments/release/deployment-branch-policies"),
        json!({ "total_count": 2, "branch_policies": [
            { "id": 361471, "node_id": "MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjE0NzE=", "name": "main", "type": "branch" },
            { "id": 361472, "node_id": "MDE2OkdhdGVCcmFuY2hQb2xpY3kzNjE0NzI=", "name": "v*", "type": "tag" }
        ] }),
    );
    api.ok(
        &format!("{BASE}/environments/release/secrets"),
        json!({ "total_count": 1, "secrets": [{ "name": "PYPI_API_TOKEN", "created_at": "2024-01-10T14:59:22Z", "updated_at": "2024-01-11T14:59:22Z" }] }),
    );
    api.ok(
        &format!("{BASE}/actions/secrets"),
        json!({ "total_count": 1, "secrets": [{ "name": "CODECOV_TOKEN", "created_at": "2024-01-10T14:59:22Z", "updated_at": "2024-01-11T14:59:22Z" }] }),
    );
    api.ok(
        &format!("{BASE}/actions/organization-secrets"),
        json!({ "total_count": 0, "secrets": [] }),
    );
    api.ok(
        &format!("{BASE}/immutable-releases"),
        json!({ "enabled": true, "enforced_by_owner": false }),
    );
    api.ok(
        &format!("orgs/{OWNER}"),
        json!({ "login": OWNER, "id": 1, "type": "Organization", "name": "Octo Org",
                "two_factor_requirement_enabled": true, "default_repository_permission": "read",
                "members_can_create_repositories": false, "billing_email": "billing@example.com" }),
    );
    api.ok(
        &format!("orgs/{OWNER}/members?role=admin"),
        json!([{ "login": "octocat", "id": 1, "type": "User" }, { "login": "hubot", "id": 2, "type": "User" }]),
    );
    api
}

/// A repository left as GitHub creates it, with its publishing token where the UI puts it, in an
/// organization at its defaults.
pub fn defaults() -> Api {
    let mut api = hardened();
    set_rulesets(&mut api, &[]);
    api.ok(
        &format!("{BASE}/actions/permissions"),
        json!({ "enabled": true, "allowed_actions": "all", "sha_pinning_required": false }),
    );
    api.ok(&format!("{BASE}/actions/permissions/workflow"), json!({ "default_workflow_permissions": "write", "can_approve_pull_request_reviews": true }));
    api.ok(
        &format!("{BASE}/environments"),
        json!({ "total_count": 0, "environments": [] }),
    );
    api.0.retain(|k, _| !k.contains("/environments/"));
    api.ok(
        &format!("{BASE}/actions/secrets"),
        json!({ "total_count": 1, "secrets": [{ "name": "PYPI_API_TOKEN", "created_at": "2024-01-10T14:59:22Z", "updated_at": "2024-01-10T14:59:22Z" }] }),
    );
    api.status(&format!("{BASE}/immutable-releases"), 404, None, json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404" }));
    let org = api.body_mut(&format!("orgs/{OWNER}"));
    org["two_factor_requirement_enabled"] = json!(false);
    org["default_repository_permission"] = json!("write");
    api
}

/// The hardened repository read with a fine-grained token that has only "Metadata" read.
pub fn metadata_only() -> Api {
    let mut api = hardened();
    api.ok(BASE, repo_json(false));
    let rulesets: Vec<Value> = hardened_rulesets()
        .into_iter()
        .map(|mut rs| {
            rs.as_object_mut().unwrap().remove("bypass_actors");
            rs
        })
        .collect();
    set_rulesets(&mut api, &rulesets);
    api.deny(
        &format!("{BASE}/branches/main/protection"),
        "administration=read",
    );
    api.deny(
        &format!("{BASE}/actions/permissions"),
        "administration=read",
    );
    api.deny(
        &format!("{BASE}/actions/permissions/workflow"),
        "administration=read",
    );
    api.deny(&format!("{BASE}/environments"), "actions=read");
    api.0.retain(|k, _| !k.contains("/environments/"));
    api.deny(&format!("{BASE}/actions/secrets"), "secrets=read");
    api.deny(
        &format!("{BASE}/actions/organization-secrets"),
        "secrets=read",
    );
    api.deny(&format!("{BASE}/immutable-releases"), "administration=read");
    api.0.remove(&format!("orgs/{OWNER}/members?role=admin"));
    api.ok(
        &format!("orgs/{OWNER}"),
        json!({ "login": OWNER, "id": 1, "type": "Organization", "name": "Octo Org" }),
    );
    api
}

/// A fake GitHub on 127.0.0.1 that answers GETs from an [`Api`] (with its status and
/// `x-accepted-github-permissions`) and records writes.
pub struct FakeServer {
    pub url: String,
    server: Server,
}

impl FakeServer {
    /// Paths of the GETs so far (no leading `/`).
    pub fn gets(&self) -> Vec<String> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET")
            .map(|r| r.path.trim_start_matches('/').to_owned())
            .collect()
    }

    /// The writes so far: method, path (no leading `/`) and JSON body.
    pub fn writes(&self) -> Vec<(String, String, Value)> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| {
                let body = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
                (r.method, r.path.trim_start_matches('/').to_owned(), body)
            })
            .collect()
    }
}

pub fn serve(api: Api) -> FakeServer {
    let listener = Listener::bind().expect("bind 127.0.0.1");
    let url = listener.url();
    let table: HashMap<PathBuf, (u16, Option<String>, Value)> = api
        .0
        .iter()
        .map(|(k, v)| (file_stem(k).expect("fixture path"), v.clone()))
        .collect();
    let server = listener.serve(Options::default(), move |req| answer(&table, req));
    FakeServer { url, server }
}

fn answer(table: &HashMap<PathBuf, (u16, Option<String>, Value)>, req: &Request) -> Reply {
    if req.method != "GET" {
        return Reply::json(if req.method == "POST" { 201 } else { 200 }, &json!({}));
    }
    let (status, perm, body) = file_stem(req.target.trim_start_matches('/'))
        .ok()
        .and_then(|s| table.get(&s).cloned())
        .unwrap_or_else(|| {
            (
                404,
                None,
                json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404" }),
            )
        });
    let reply = Reply::json(status, &body);
    match perm {
        Some(p) => reply.with_header("x-accepted-github-permissions", p),
        None => reply,
    }
}
