//! Conformance with GitHub's OpenAPI descriptions: every API path ciguard builds (found by
//! scanning the source, so a new call without an entry here fails), with the query parameters it
//! sends and the response fields it reads, exists in api.github.com's description; and the GHES
//! 3.17–3.19 descriptions lack exactly what `ciguard_settings::server::GHES_SINCE` says.
//!
//! The descriptions come from `@octokit/openapi` at the version and sha512 pinned in
//! `.ci/openapi.lock`; `.ci/fetch-openapi` extracts them into `target/openapi/` (or the directory
//! in `CIGUARD_OPENAPI_DIR`). Without them the test skips with a message, unless CI=true or
//! CIGUARD_OPENAPI_DIR is set: then it fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use ciguard_settings::server::{Feature, GHES_SINCE};
use serde_json::Value;

/// One API path as written in the source, and what it calls.
struct Call {
    /// Relative to the workspace root.
    file: &'static str,
    /// The string literal (a `format!` template) that builds the path.
    literal: &'static str,
    method: &'static str,
    /// The path in the OpenAPI description.
    template: &'static str,
    /// Query parameters sent (`per_page` when read through `get_paginated`, which adds it).
    query: &'static [&'static str],
    /// Fields read from the answer: `a.b`, `[]` for array items, `list[].name`.
    fields: &'static [&'static str],
}

const GH: &str = "crates/ciguard-github/src";
const SET: &str = "crates/ciguard-settings/src";
const CLI: &str = "crates/ciguard/src/commands";
const SERVE: &str = "crates/ciguard-serve/src/app";

const REPO: &str = "/repos/{owner}/{repo}";
const REPO_FIELDS: &[&str] = &["default_branch"];
const SECRETS: &[&str] = &["total_count", "secrets[].name"];

macro_rules! call {
    ($file:literal, $lit:literal, $method:literal, $template:expr, $query:expr, $fields:expr) => {
        Call {
            file: concat!("/", $file),
            literal: $lit,
            method: $method,
            template: $template,
            query: $query,
            fields: $fields,
        }
    };
}

fn calls() -> Vec<(&'static str, Call)> {
    vec![
        // ciguard-github: online audits.
        (
            GH,
            call!(
                "online.rs",
                "/repos/{slug}",
                "get",
                REPO,
                &[],
                &["archived", "default_branch"]
            ),
        ),
        (
            GH,
            call!(
                "online.rs",
                "/repos/{slug}/git/matching-refs/heads/{reference}",
                "get",
                "/repos/{owner}/{repo}/git/matching-refs/{ref}",
                &[],
                &["[].ref", "[].object.sha"]
            ),
        ),
        (
            GH,
            call!(
                "online.rs",
                "/repos/{slug}/git/matching-refs/heads",
                "get",
                "/repos/{owner}/{repo}/git/matching-refs/{ref}",
                &["per_page"],
                &["[].ref", "[].object.sha"]
            ),
        ),
        (
            GH,
            call!(
                "online.rs",
                "/repos/{slug}/compare/{base}...{head}",
                "get",
                "/repos/{owner}/{repo}/compare/{basehead}",
                &[],
                &["status"]
            ),
        ),
        (
            GH,
            call!(
                "online.rs",
                "/advisories?ecosystem=actions&affects={affects}",
                "get",
                "/advisories",
                &["ecosystem", "affects", "per_page"],
                &[
                    "[].ghsa_id",
                    "[].summary",
                    "[].severity",
                    "[].withdrawn_at",
                    "[].vulnerabilities[].package.ecosystem",
                    "[].vulnerabilities[].package.name",
                    "[].vulnerabilities[].vulnerable_version_range",
                    "[].vulnerabilities[].first_patched_version"
                ]
            ),
        ),
        // ciguard-github: refs, tags, releases, commits.
        (
            GH,
            call!(
                "resolve.rs",
                "/repos/{slug}/tags",
                "get",
                "/repos/{owner}/{repo}/tags",
                &["per_page"],
                &["[].name", "[].commit.sha"]
            ),
        ),
        (
            GH,
            call!(
                "resolve.rs",
                "/repos/{slug}/releases",
                "get",
                "/repos/{owner}/{repo}/releases",
                &["per_page"],
                &[
                    "[].tag_name",
                    "[].published_at",
                    "[].draft",
                    "[].prerelease"
                ]
            ),
        ),
        (
            GH,
            call!(
                "resolve.rs",
                "/repos/{slug}/commits/{reference}",
                "get",
                "/repos/{owner}/{repo}/commits/{ref}",
                &[],
                &["sha", "commit.committer.date", "commit.author.date"]
            ),
        ),
        // ciguard-github: remote repositories and transitive dependencies.
        (
            GH,
            call!("remote.rs", "/repos/{slug}", "get", REPO, &[], REPO_FIELDS),
        ),
        (
            GH,
            call!(
                "remote.rs",
                "/repos/{slug}/commits/{}",
                "get",
                "/repos/{owner}/{repo}/commits/{ref}",
                &[],
                &["sha", "commit.tree.sha"]
            ),
        ),
        (
            GH,
            call!(
                "remote.rs",
                "/repos/{slug}/git/trees/{tree}?recursive=1",
                "get",
                "/repos/{owner}/{repo}/git/trees/{tree_sha}",
                &["recursive"],
                &[
                    "tree[].path",
                    "tree[].mode",
                    "tree[].type",
                    "tree[].sha",
                    "tree[].size",
                    "truncated"
                ]
            ),
        ),
        (
            GH,
            call!(
                "remote.rs",
                "/repos/{slug}/contents/{dir}?ref={commit}",
                "get",
                "/repos/{owner}/{repo}/contents/{path}",
                &["ref"],
                &["[].path", "[].type", "[].sha", "[].size"]
            ),
        ),
        (
            GH,
            call!(
                "remote.rs",
                "/repos/{slug}/git/blobs/{sha}",
                "get",
                "/repos/{owner}/{repo}/git/blobs/{file_sha}",
                &[],
                &["content", "encoding"]
            ),
        ),
        (
            GH,
            call!(
                "transitive.rs",
                "/repos/{}/contents/{}?ref={}",
                "get",
                "/repos/{owner}/{repo}/contents/{path}",
                &["ref"],
                &["type", "encoding", "content"]
            ),
        ),
        // ciguard-settings: what the checks read.
        (
            SET,
            call!(
                "gather.rs",
                "repos/{}/{}",
                "get",
                REPO,
                &[],
                &["default_branch", "permissions.admin", "owner.type"]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/rulesets?includes_parents=true",
                "get",
                "/repos/{owner}/{repo}/rulesets",
                &["includes_parents"],
                &["[].id"]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/rulesets/{id}?includes_parents=true",
                "get",
                "/repos/{owner}/{repo}/rulesets/{ruleset_id}",
                &["includes_parents"],
                &[
                    "id",
                    "name",
                    "target",
                    "enforcement",
                    "source_type",
                    "source",
                    "bypass_actors[].actor_id",
                    "bypass_actors[].actor_type",
                    "bypass_actors[].bypass_mode",
                    "conditions.ref_name.include",
                    "conditions.ref_name.exclude",
                    "rules[].type",
                    "rules[].parameters"
                ]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/branches/{branch}/protection",
                "get",
                "/repos/{owner}/{repo}/branches/{branch}/protection",
                &[],
                &[
                    "enforce_admins.enabled",
                    "allow_force_pushes.enabled",
                    "allow_deletions.enabled",
                    "required_pull_request_reviews.required_approving_review_count"
                ]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/actions/permissions",
                "get",
                "/repos/{owner}/{repo}/actions/permissions",
                &[],
                &["enabled", "allowed_actions", "sha_pinning_required"]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/actions/permissions/workflow",
                "get",
                "/repos/{owner}/{repo}/actions/permissions/workflow",
                &[],
                &[
                    "default_workflow_permissions",
                    "can_approve_pull_request_reviews"
                ]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/environments",
                "get",
                "/repos/{owner}/{repo}/environments",
                &[],
                &[
                    "total_count",
                    "environments[].name",
                    "environments[].protection_rules[].type",
                    "environments[].protection_rules[].reviewers",
                    "environments[].protection_rules[].prevent_self_review",
                    "environments[].deployment_branch_policy.protected_branches",
                    "environments[].deployment_branch_policy.custom_branch_policies",
                    "environments[].can_admins_bypass"
                ]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/environments/{}",
                "get",
                "/repos/{owner}/{repo}/environments/{environment_name}",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{env_path}/deployment-branch-policies",
                "get",
                "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies",
                &[],
                &[
                    "total_count",
                    "branch_policies[].name",
                    "branch_policies[].type"
                ]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{env_path}/secrets",
                "get",
                "/repos/{owner}/{repo}/environments/{environment_name}/secrets",
                &[],
                SECRETS
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/actions/secrets",
                "get",
                "/repos/{owner}/{repo}/actions/secrets",
                &[],
                SECRETS
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/actions/organization-secrets",
                "get",
                "/repos/{owner}/{repo}/actions/organization-secrets",
                &[],
                SECRETS
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{base}/immutable-releases",
                "get",
                "/repos/{owner}/{repo}/immutable-releases",
                &[],
                &["enabled"]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "orgs/{}",
                "get",
                "/orgs/{org}",
                &[],
                &[
                    "two_factor_requirement_enabled",
                    "default_repository_permission"
                ]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "{path}/members?role=admin&per_page=100",
                "get",
                "/orgs/{org}/members",
                &["role", "per_page"],
                &["[].login"]
            ),
        ),
        (
            SET,
            call!(
                "gather.rs",
                "orgs/{}/repos?per_page=100",
                "get",
                "/orgs/{org}/repos",
                &["per_page"],
                &["[].name", "[].archived"]
            ),
        ),
        (SET, call!("server.rs", "meta", "get", "/meta", &[], &[])),
        (
            SET,
            call!(
                "server.rs",
                "/repos/{owner}/{repo}/immutable-releases",
                "get",
                "/repos/{owner}/{repo}/immutable-releases",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "server.rs",
                "/repos/{owner}/{repo}/actions/permissions",
                "get",
                "/repos/{owner}/{repo}/actions/permissions",
                &[],
                &[]
            ),
        ),
        // ciguard-settings: `recommend` reads what it would change, then PUTs and POSTs.
        (
            SET,
            call!("recommend.rs", "repos/{}/{}", "get", REPO, &[], REPO_FIELDS),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/rulesets?includes_parents=false",
                "get",
                "/repos/{owner}/{repo}/rulesets",
                &["includes_parents"],
                &["[].id"]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/rulesets",
                "post",
                "/repos/{owner}/{repo}/rulesets",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/rulesets/{id}",
                "put",
                "/repos/{owner}/{repo}/rulesets/{ruleset_id}",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/branches/{}/protection",
                "get",
                "/repos/{owner}/{repo}/branches/{branch}/protection",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/actions/permissions",
                "put",
                "/repos/{owner}/{repo}/actions/permissions",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/actions/permissions/selected-actions",
                "put",
                "/repos/{owner}/{repo}/actions/permissions/selected-actions",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/actions/permissions/workflow",
                "put",
                "/repos/{owner}/{repo}/actions/permissions/workflow",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/environments",
                "get",
                "/repos/{owner}/{repo}/environments",
                &[],
                &["environments[].name"]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/environments/{}",
                "put",
                "/repos/{owner}/{repo}/environments/{environment_name}",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{env_base}/deployment-branch-policies",
                "post",
                "/repos/{owner}/{repo}/environments/{environment_name}/deployment-branch-policies",
                &[],
                &[]
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{env_base}/secrets",
                "get",
                "/repos/{owner}/{repo}/environments/{environment_name}/secrets",
                &[],
                SECRETS
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/actions/secrets",
                "get",
                "/repos/{owner}/{repo}/actions/secrets",
                &[],
                SECRETS
            ),
        ),
        (
            SET,
            call!(
                "recommend.rs",
                "{base}/immutable-releases",
                "put",
                "/repos/{owner}/{repo}/immutable-releases",
                &[],
                &[]
            ),
        ),
        // The binary.
        (
            CLI,
            call!(
                "deps.rs",
                "/repos/{owner}/{repo}/contents/{path}",
                "get",
                "/repos/{owner}/{repo}/contents/{path}",
                &[],
                &["content"]
            ),
        ),
        (
            CLI,
            call!(
                "pin.rs",
                "/repos/{s}",
                "get",
                REPO,
                &[],
                &["id", "owner.id"]
            ),
        ),
        (
            CLI,
            call!(
                "settings.rs",
                "repos/{o}/{n}",
                "get",
                REPO,
                &[],
                REPO_FIELDS
            ),
        ),
        // ciguard-serve: the GitHub App (JWT calls, then installation tokens per job).
        (
            SERVE,
            call!(
                "tokens.rs",
                "/app/installations/{installation}/access_tokens",
                "post",
                "/app/installations/{installation_id}/access_tokens",
                &[],
                &["token", "expires_at"]
            ),
        ),
        (
            SERVE,
            call!(
                "reconcile.rs",
                "/app/hook/deliveries?per_page=100&status=failure",
                "get",
                "/app/hook/deliveries",
                &["per_page", "status", "cursor"],
                &["[].id", "[].guid", "[].delivered_at", "[].status_code"]
            ),
        ),
        (
            SERVE,
            call!(
                "reconcile.rs",
                "/app/hook/deliveries/{id}/attempts",
                "post",
                "/app/hook/deliveries/{delivery_id}/attempts",
                &[],
                &[]
            ),
        ),
        (
            SERVE,
            call!(
                "runner.rs",
                "/repos/{}/pulls/{}",
                "get",
                "/repos/{owner}/{repo}/pulls/{pull_number}",
                &[],
                &["head.sha", "changed_files"]
            ),
        ),
        (
            SERVE,
            call!(
                "runner.rs",
                "/repos/{}/pulls/{number}/files?per_page={PER_PAGE}",
                "get",
                "/repos/{owner}/{repo}/pulls/{pull_number}/files",
                &["per_page", "page"],
                &["[].filename", "[].status"]
            ),
        ),
        (
            SERVE,
            call!(
                "runner.rs",
                "/repos/{}/git/trees/{sha}?recursive=1",
                "get",
                "/repos/{owner}/{repo}/git/trees/{tree_sha}",
                &["recursive"],
                &[
                    "truncated",
                    "tree[].path",
                    "tree[].mode",
                    "tree[].type",
                    "tree[].sha",
                    "tree[].size"
                ]
            ),
        ),
        (
            SERVE,
            call!(
                "runner.rs",
                "/repos/{}/git/blobs/{sha}",
                "get",
                "/repos/{owner}/{repo}/git/blobs/{file_sha}",
                &[],
                &["content", "encoding"]
            ),
        ),
        (
            SERVE,
            call!(
                "runner.rs",
                "/repos/{}/commits/{sha}/check-runs?check_name={CHECK_NAME}&app_id={}&filter=all&per_page={PER_PAGE}",
                "get",
                "/repos/{owner}/{repo}/commits/{ref}/check-runs",
                &["check_name", "app_id", "filter", "per_page"],
                &[
                    "check_runs[].id",
                    "check_runs[].name",
                    "check_runs[].app.id",
                    "check_runs[].output.annotations_count"
                ]
            ),
        ),
        (
            SERVE,
            call!(
                "runner.rs",
                "/repos/{}/check-runs",
                "post",
                "/repos/{owner}/{repo}/check-runs",
                &[],
                &["id"]
            ),
        ),
        (
            SERVE,
            call!(
                "runner.rs",
                "/repos/{}/check-runs/{}",
                "patch",
                "/repos/{owner}/{repo}/check-runs/{check_run_id}",
                &[],
                &[]
            ),
        ),
    ]
}

/// What ciguard sends or reads although no description has it, and why that is right.
const UNDOCUMENTED: &[(&str, &str, &str)] = &[
    (
        "/repos/{owner}/{repo}/git/matching-refs/{ref}",
        "query per_page",
        "get_paginated adds it to follow `Link` should GitHub paginate; GitHub ignores it here",
    ),
    (
        "/repos/{owner}/{repo}/environments",
        "environments[].can_admins_bypass",
        "GitHub answers it but no description has it: read as unknown when absent, never `true`",
    ),
];

/// API paths in string literals: where they start.
const PREFIXES: &[&str] = &[
    "/repos/",
    "repos/",
    "/advisories",
    "orgs/",
    "{base}/",
    "{env_path}/",
    "{env_base}/",
    "{path}/",
    "/app/",
];

/// Client plumbing: URLs, not calls. (The fakes live in ciguard-test-support, not scanned.)
const NOT_CALLS: &[&str] = &[
    "crates/ciguard-github/src/client.rs",
    "crates/ciguard-github/src/cache.rs",
    "crates/ciguard-github/src/registry.rs",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The string literals of a file's code (before its test module, outside comments).
fn literals(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c != '"' {
                continue;
            }
            let mut lit = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        lit.push(c);
                        lit.extend(chars.next());
                    }
                    '"' => break,
                    c => lit.push(c),
                }
            }
            out.push(lit);
        }
    }
    out
}

fn is_api_path(lit: &str) -> bool {
    (lit == "meta" || PREFIXES.iter().any(|p| lit.starts_with(p)))
        && !lit.contains('→')
        && !lit.contains(' ')
}

/// `(file, literal)` of every API path in the code of the crates that call GitHub.
fn api_paths_in_code() -> BTreeSet<(String, String)> {
    let root = workspace();
    let mut files = Vec::new();
    for dir in [GH, SET, CLI, SERVE] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut out = BTreeSet::new();
    for file in files {
        let rel = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if NOT_CALLS.contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for lit in literals(&text).into_iter().filter(|l| is_api_path(l)) {
            out.insert((rel.clone(), lit));
        }
    }
    out
}

#[test]
fn every_api_path_in_the_code_is_in_the_table_and_back() {
    let in_code = api_paths_in_code();
    let in_table: BTreeSet<(String, String)> = calls()
        .iter()
        .map(|(dir, c)| (format!("{dir}{}", c.file), c.literal.to_owned()))
        .collect();
    let untabled: Vec<_> = in_code.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&in_code).collect();
    assert!(
        untabled.is_empty() && stale.is_empty(),
        "API paths in the code but not in tests/openapi.rs (add them, with their OpenAPI path, \
         query and fields): {untabled:#?}\nin the table but no longer in the code: {stale:#?}"
    );
}

/// The descriptions' directory, or `None` (skip) when they were not fetched.
fn descriptions() -> Option<PathBuf> {
    let explicit = std::env::var_os("CIGUARD_OPENAPI_DIR").map(PathBuf::from);
    let dir = explicit
        .clone()
        .unwrap_or_else(|| workspace().join("target/openapi"));
    if dir.join("api.github.com.json").is_file() {
        return Some(dir);
    }
    let required = explicit.is_some() || std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !required,
        "{}: no api.github.com.json; run .ci/fetch-openapi",
        dir.display()
    );
    println!(
        "skipped: GitHub's OpenAPI descriptions are not in {}; run .ci/fetch-openapi",
        dir.display()
    );
    None
}

struct Spec {
    name: String,
    doc: Value,
}

impl Spec {
    fn load(dir: &Path, name: &str) -> Self {
        let path = dir.join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self {
            name: name.to_owned(),
            doc: serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        }
    }

    /// Follows `$ref`s (`#/components/...`).
    fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..32 {
            let Some(r) = v.get("$ref").and_then(Value::as_str) else {
                break;
            };
            v = self
                .doc
                .pointer(r.trim_start_matches('#'))
                .unwrap_or(&Value::Null);
        }
        v
    }

    fn operation(&self, template: &str, method: &str) -> Option<&Value> {
        self.doc.get("paths")?.get(template)?.get(method)
    }

    fn has_param(&self, op: &Value, name: &str) -> bool {
        op.get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|p| self.resolve(p).get("name").and_then(Value::as_str) == Some(name))
    }

    /// The JSON schema of the 200 answer (201 for a creation).
    fn answer<'a>(&'a self, op: &'a Value) -> Option<&'a Value> {
        let responses = op.get("responses")?;
        let response = self.resolve(responses.get("200").or_else(|| responses.get("201"))?);
        response
            .get("content")?
            .get("application/json")?
            .get("schema")
    }

    /// Whether `schema` has the field at `path` (segments; `[]` for array items), in any branch
    /// of `allOf`/`oneOf`/`anyOf`.
    fn has_field(&self, schema: &Value, path: &[&str], depth: usize) -> bool {
        let schema = self.resolve(schema);
        let Some((first, rest)) = path.split_first() else {
            return true;
        };
        if depth > 64 {
            return false;
        }
        let in_branch = ["allOf", "oneOf", "anyOf"].iter().any(|k| {
            schema
                .get(*k)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|b| self.has_field(b, path, depth + 1))
        });
        in_branch
            || match *first {
                "[]" => schema
                    .get("items")
                    .is_some_and(|i| self.has_field(i, rest, depth + 1)),
                name => schema
                    .get("properties")
                    .and_then(|p| p.get(name))
                    .is_some_and(|p| self.has_field(p, rest, depth + 1)),
            }
    }

    fn field(&self, op: &Value, field: &str) -> bool {
        let segments: Vec<&str> = field
            .split('.')
            .flat_map(|s| match s.strip_suffix("[]") {
                Some("") => vec!["[]"],
                Some(name) => vec![name, "[]"],
                None => vec![s],
            })
            .collect();
        self.answer(op)
            .is_some_and(|schema| self.has_field(schema, &segments, 0))
    }
}

fn undocumented(template: &str, what: &str) -> bool {
    UNDOCUMENTED
        .iter()
        .any(|(t, w, _)| *t == template && *w == what)
}

#[test]
fn every_endpoint_parameter_and_field_ciguard_uses_is_in_githubs_description() {
    let Some(dir) = descriptions() else { return };
    let spec = Spec::load(&dir, "api.github.com.json");
    let mut problems = Vec::new();
    let mut checked = (0, 0, 0);
    for (dir, c) in calls() {
        let at = format!("{dir}{} `{}`", c.file, c.literal);
        let Some(op) = spec.operation(c.template, c.method) else {
            problems.push(format!("{at}: no {} {}", c.method, c.template));
            continue;
        };
        checked.0 += 1;
        for q in c.query {
            checked.1 += 1;
            if !spec.has_param(op, q) && !undocumented(c.template, &format!("query {q}")) {
                problems.push(format!("{at}: {} has no query parameter `{q}`", c.template));
            }
        }
        for f in c.fields {
            checked.2 += 1;
            if !spec.field(op, f) && !undocumented(c.template, f) {
                problems.push(format!("{at}: the answer of {} has no `{f}`", c.template));
            }
        }
    }
    // The deviations listed as such are still deviations in the description (else drop them).
    for (template, what, _) in UNDOCUMENTED {
        let op = spec
            .operation(template, "get")
            .expect("listed endpoint exists");
        let documented = match what.strip_prefix("query ") {
            Some(q) => spec.has_param(op, q),
            None => spec.field(op, what),
        };
        if documented {
            problems.push(format!(
                "{template}: `{what}` is documented now; remove it from UNDOCUMENTED"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}: {problems:#?}",
        spec.doc["info"]["version"]
    );
    println!(
        "openapi {}: {} operations, {} query parameters, {} fields conform",
        spec.doc["info"]["version"], checked.0, checked.1, checked.2
    );
}

#[test]
fn ghes_descriptions_lack_exactly_what_ciguard_treats_as_not_on_the_server() {
    let Some(dir) = descriptions() else { return };
    let cloud = Spec::load(&dir, "api.github.com.json");
    let features = [Feature::ImmutableReleases, Feature::ShaPinningRequired];
    assert_eq!(GHES_SINCE.len(), features.len());
    for version in [(3, 17), (3, 18), (3, 19)] {
        let spec = Spec::load(&dir, &format!("ghes-{}.{}.json", version.0, version.1));
        let server = ciguard_settings::server::Server::Enterprise(version);
        // Each feature: present in the description iff ciguard expects it on that version.
        for feature in features {
            let (template, field) = feature.openapi();
            let present = spec
                .operation(template, "get")
                .is_some_and(|op| field.is_none_or(|f| spec.field(op, f)));
            assert_eq!(
                present,
                server.has(feature),
                "{}: {feature:?} ({template} {field:?})",
                spec.name
            );
            assert!(cloud.operation(template, "get").is_some());
        }
        // Everything else ciguard reads is there on GHES too, or named as a gap above.
        let gaps: Vec<(&str, Option<&str>)> = features.iter().map(|f| f.openapi()).collect();
        for (dir, c) in calls().iter().filter(|(_, c)| c.method == "get") {
            let Some(op) = spec.operation(c.template, "get") else {
                assert!(
                    gaps.contains(&(c.template, None)),
                    "{}: {dir}{} calls {} which GHES lacks: add it to GHES_SINCE",
                    spec.name,
                    c.file,
                    c.template
                );
                continue;
            };
            for f in c.fields {
                assert!(
                    spec.field(op, f)
                        || gaps.contains(&(c.template, Some(*f)))
                        || undocumented(c.template, f),
                    "{}: {} lacks `{f}`: add it to GHES_SINCE",
                    spec.name,
                    c.template
                );
            }
        }
        // GHES says which version it is: `installed_version` in `GET /meta`.
        let meta = spec.operation("/meta", "get").expect("GET /meta");
        assert!(spec.field(meta, "installed_version"), "{}", spec.name);
    }
}
