//! The recommended baseline, written by `ciguard settings recommend`: rulesets in the JSON GitHub's
//! ruleset import accepts (the export format), the release environment as the body of
//! `PUT /repos/{owner}/{repo}/environments/{name}` with its deployment branch policies, and the
//! Actions and release settings as the bodies of their `PUT` endpoints.

use serde_json::{Value, json};

use crate::Error;
use crate::options::Options;
use crate::snapshot::{Answer, MemorySource, encode_segment};

/// A required reviewer of the release environment: `("Team" | "User", id)`.
pub type Reviewer = (String, i64);

/// Parses `team:ID` or `user:ID`.
pub fn parse_reviewer(s: &str) -> Result<Reviewer, Error> {
    let (kind, id) = s
        .split_once(':')
        .ok_or_else(|| Error::argument(s, "expected `team:ID` or `user:ID`"))?;
    let id: i64 = id
        .parse()
        .map_err(|_| Error::argument(s, "the id must be a number"))?;
    match kind.to_ascii_lowercase().as_str() {
        "team" => Ok(("Team".into(), id)),
        "user" => Ok(("User".into(), id)),
        _ => Err(Error::argument(s, "expected `team:ID` or `user:ID`")),
    }
}

/// The whole recommendation.
pub fn recommend(
    options: &Options,
    environment: &str,
    default_branch: &str,
    reviewers: &[Reviewer],
) -> Value {
    let refs = |prefix: &str, patterns: &[String]| -> Vec<String> {
        patterns.iter().map(|p| format!("{prefix}{p}")).collect()
    };
    let ruleset = |name: &str, target: &str, include: Vec<String>, rules: Value| {
        json!({
            "name": name,
            "target": target,
            "enforcement": "active",
            "bypass_actors": [],
            "conditions": { "ref_name": { "include": include, "exclude": [] } },
            "rules": rules,
        })
    };
    let mut rulesets = vec![ruleset(
        "default branch",
        "branch",
        vec!["~DEFAULT_BRANCH".into()],
        json!([
            { "type": "deletion" },
            { "type": "non_fast_forward" },
            { "type": "pull_request", "parameters": {
                "required_approving_review_count": 1,
                "dismiss_stale_reviews_on_push": true,
                "require_code_owner_review": false,
                "require_last_push_approval": true,
                "required_review_thread_resolution": false,
                "allowed_merge_methods": ["merge", "squash", "rebase"]
            } }
        ]),
    )];
    if !options.forbidden_branches.is_empty() {
        rulesets.push(ruleset(
            "forbidden branch names",
            "branch",
            refs("refs/heads/", &options.forbidden_branches),
            json!([{ "type": "creation" }]),
        ));
    }
    if !options.release_tags.is_empty() {
        rulesets.push(ruleset(
            "release tags",
            "tag",
            refs("refs/tags/", &options.release_tags),
            json!([
                { "type": "deletion" },
                { "type": "update", "parameters": { "update_allows_fetch_and_merge": false } },
                { "type": "required_deployments", "parameters": { "required_deployment_environments": [environment] } }
            ]),
        ));
    }
    let mut policies = vec![json!({ "name": default_branch, "type": "branch" })];
    policies.extend(
        options
            .release_tags
            .iter()
            .map(|t| json!({ "name": t, "type": "tag" })),
    );
    json!({
        "rulesets": rulesets,
        "environment": {
            "name": environment,
            "wait_timer": 0,
            "prevent_self_review": true,
            "can_admins_bypass": false,
            "reviewers": reviewers.iter().map(|(t, id)| json!({ "type": t, "id": id })).collect::<Vec<_>>(),
            "deployment_branch_policy": { "protected_branches": false, "custom_branch_policies": true }
        },
        "deployment_branch_policies": policies,
        "actions_permissions": { "enabled": true, "allowed_actions": "selected", "sha_pinning_required": true },
        "selected_actions": { "github_owned_allowed": true, "verified_allowed": false, "patterns_allowed": [] },
        "workflow_permissions": { "default_workflow_permissions": "read", "can_approve_pull_request_reviews": false },
        "immutable_releases": true
    })
}

/// GitHub's answers for a repository configured exactly as `rec` says, in the snapshot layout; what
/// auditing after `--apply` would read. The repository is owned by a user (no organization checks).
pub fn as_snapshot(rec: &Value, owner: &str, repo: &str, default_branch: &str) -> MemorySource {
    let base = format!("repos/{}/{}", encode_segment(owner), encode_segment(repo));
    let mut src = MemorySource::default();
    let mut put = |path: String, answer: Answer| {
        // Paths built here are always valid.
        let _ = src.insert(&path, answer);
    };
    put(
        base.clone(),
        Answer::json(
            200,
            json!({ "name": repo, "full_name": format!("{owner}/{repo}"), "owner": { "login": owner, "type": "User" },
                    "default_branch": default_branch, "permissions": { "admin": true, "maintain": true, "push": true, "triage": true, "pull": true } }),
        ),
    );
    let mut list = Vec::new();
    for (i, rs) in rec
        .get("rulesets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        let id = 1000 + i as i64;
        let mut detail = rs.clone();
        if let Some(obj) = detail.as_object_mut() {
            obj.insert("id".into(), json!(id));
            obj.insert("source_type".into(), json!("Repository"));
            obj.insert("source".into(), json!(format!("{owner}/{repo}")));
        }
        list.push(json!({ "id": id, "name": rs.get("name"), "target": rs.get("target"), "source_type": "Repository",
                          "source": format!("{owner}/{repo}"), "enforcement": rs.get("enforcement") }));
        put(format!("{base}/rulesets/{id}"), Answer::json(200, detail));
    }
    put(
        format!("{base}/rulesets"),
        Answer::json(200, Value::Array(list)),
    );
    put(
        format!(
            "{base}/branches/{}/protection",
            encode_segment(default_branch)
        ),
        Answer::json(
            404,
            json!({ "message": "Branch not protected", "documentation_url": "https://docs.github.com/rest/branches/branch-protection#get-branch-protection", "status": "404" }),
        ),
    );
    let mut actions = rec
        .get("actions_permissions")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(obj) = actions.as_object_mut() {
        obj.insert(
            "selected_actions_url".into(),
            json!(format!(
                "https://api.github.com/{base}/actions/permissions/selected-actions"
            )),
        );
    }
    put(
        format!("{base}/actions/permissions"),
        Answer::json(200, actions),
    );
    put(
        format!("{base}/actions/permissions/selected-actions"),
        Answer::json(
            200,
            rec.get("selected_actions").cloned().unwrap_or(Value::Null),
        ),
    );
    put(
        format!("{base}/actions/permissions/workflow"),
        Answer::json(
            200,
            rec.get("workflow_permissions")
                .cloned()
                .unwrap_or(Value::Null),
        ),
    );
    let env = rec.get("environment").cloned().unwrap_or(Value::Null);
    let name = env
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("release")
        .to_owned();
    let reviewers: Vec<Value> = env
        .get("reviewers")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .map(|r| json!({ "type": r.get("type"), "reviewer": { "id": r.get("id") } }))
                .collect()
        })
        .unwrap_or_default();
    let mut rules = vec![
        json!({ "id": 1, "type": "required_reviewers", "prevent_self_review": env.get("prevent_self_review"), "reviewers": reviewers }),
    ];
    rules.push(json!({ "id": 2, "type": "branch_policy" }));
    put(
        format!("{base}/environments"),
        Answer::json(
            200,
            json!({ "total_count": 1, "environments": [{ "id": 1, "name": name, "can_admins_bypass": env.get("can_admins_bypass"),
                    "protection_rules": rules, "deployment_branch_policy": env.get("deployment_branch_policy") }] }),
        ),
    );
    let env_base = format!("{base}/environments/{}", encode_segment(&name));
    let policies: Vec<Value> = rec
        .get("deployment_branch_policies")
        .and_then(Value::as_array)
        .map(|p| {
            p.iter()
                .enumerate()
                .map(|(i, p)| json!({ "id": i + 1, "name": p.get("name"), "type": p.get("type") }))
                .collect()
        })
        .unwrap_or_default();
    put(
        format!("{env_base}/deployment-branch-policies"),
        Answer::json(
            200,
            json!({ "total_count": policies.len(), "branch_policies": policies }),
        ),
    );
    put(
        format!("{env_base}/secrets"),
        Answer::json(200, json!({ "total_count": 0, "secrets": [] })),
    );
    put(
        format!("{base}/actions/secrets"),
        Answer::json(200, json!({ "total_count": 0, "secrets": [] })),
    );
    let immutable = rec
        .get("immutable_releases")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    put(
        format!("{base}/immutable-releases"),
        Answer::json(
            200,
            json!({ "enabled": immutable, "enforced_by_owner": false }),
        ),
    );
    src
}

/// The fields of a ruleset that `recommend` sets, for comparing an existing ruleset with one.
pub fn comparable(ruleset: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for key in [
        "name",
        "target",
        "enforcement",
        "bypass_actors",
        "conditions",
        "rules",
    ] {
        if let Some(v) = ruleset.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// One write `--apply` performs.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub method: &'static str,
    /// API path, relative (`repos/o/r/rulesets`).
    pub path: String,
    pub body: Value,
    /// What it changes, as a unified diff of the current and the recommended JSON.
    pub diff: String,
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// What must change in the repository to match `rec`: current settings are read from `src`
/// (unreadable ones count as absent, so their change is shown in full).
pub fn plan(
    src: &dyn crate::snapshot::Source,
    rec: &Value,
    owner: &str,
    repo: &str,
) -> Vec<Change> {
    let base = format!("repos/{}/{}", encode_segment(owner), encode_segment(repo));
    let get = |path: &str| src.get(path).ok().filter(Answer::is_ok).map(|a| a.body);
    let mut changes = Vec::new();
    let mut change = |method: &'static str,
                      path: String,
                      label: &str,
                      current: Option<Value>,
                      body: Value,
                      shown: Value| {
        let old = current.as_ref().map(pretty).unwrap_or_default();
        let new = pretty(&shown);
        if old != new {
            let diff = ciguard_core::fix::unified_diff(label, &old, &new);
            changes.push(Change {
                method,
                path,
                body,
                diff,
            });
        }
    };

    let existing: Vec<Value> = get(&format!("{base}/rulesets?includes_parents=false"))
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter(|s| s.get("source_type").and_then(Value::as_str) != Some("Organization"))
        .filter_map(|s| s.get("id").and_then(Value::as_i64))
        .filter_map(|id| get(&format!("{base}/rulesets/{id}")))
        .collect();
    for rs in rec
        .get("rulesets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let name = rs.get("name").and_then(Value::as_str).unwrap_or("");
        let label = format!("ruleset \"{name}\"");
        match existing
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(name))
        {
            Some(e) => {
                let id = e.get("id").and_then(Value::as_i64).unwrap_or_default();
                change(
                    "PUT",
                    format!("{base}/rulesets/{id}"),
                    &label,
                    Some(comparable(e)),
                    rs.clone(),
                    comparable(&rs),
                );
            }
            None => change(
                "POST",
                format!("{base}/rulesets"),
                &label,
                None,
                rs.clone(),
                comparable(&rs),
            ),
        }
    }

    let env = rec.get("environment").cloned().unwrap_or(Value::Null);
    let env_name = env
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("release")
        .to_owned();
    let env_base = format!("{base}/environments/{}", encode_segment(&env_name));
    let current_env = get(&format!("{base}/environments")).and_then(|v| {
        v.get("environments")?
            .as_array()?
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(&env_name))
            .cloned()
    });
    let env_view = |e: &Value| {
        let rule = e
            .get("protection_rules")
            .and_then(Value::as_array)
            .and_then(|r| {
                r.iter()
                    .find(|r| r.get("type").and_then(Value::as_str) == Some("required_reviewers"))
                    .cloned()
            });
        json!({
            "can_admins_bypass": e.get("can_admins_bypass"),
            "prevent_self_review": rule.as_ref().and_then(|r| r.get("prevent_self_review")).cloned().unwrap_or(json!(false)),
            "reviewers": rule.as_ref().and_then(|r| r.get("reviewers")).and_then(Value::as_array).map_or(0, Vec::len),
            "deployment_branch_policy": e.get("deployment_branch_policy"),
        })
    };
    let mut body = env.clone();
    if let Some(obj) = body.as_object_mut() {
        obj.remove("name");
    }
    let wanted_env = json!({
        "can_admins_bypass": env.get("can_admins_bypass"),
        "prevent_self_review": env.get("prevent_self_review"),
        "reviewers": env.get("reviewers").and_then(Value::as_array).map_or(0, Vec::len),
        "deployment_branch_policy": env.get("deployment_branch_policy"),
    });
    change(
        "PUT",
        env_base.clone(),
        &format!("environment \"{env_name}\""),
        current_env.as_ref().map(env_view),
        body,
        wanted_env,
    );

    let current_policies: Vec<Value> = get(&format!("{env_base}/deployment-branch-policies"))
        .and_then(|v| v.get("branch_policies").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .map(|p| json!({ "name": p.get("name"), "type": p.get("type") }))
        .collect();
    for p in rec
        .get("deployment_branch_policies")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        if !current_policies.contains(&p) {
            let label = format!("environment \"{env_name}\" deployment branch policy");
            change(
                "POST",
                format!("{env_base}/deployment-branch-policies"),
                &label,
                None,
                p.clone(),
                p,
            );
        }
    }

    for (key, path, label) in [
        (
            "actions_permissions",
            format!("{base}/actions/permissions"),
            "actions permissions",
        ),
        (
            "selected_actions",
            format!("{base}/actions/permissions/selected-actions"),
            "allowed actions",
        ),
        (
            "workflow_permissions",
            format!("{base}/actions/permissions/workflow"),
            "workflow permissions",
        ),
    ] {
        let wanted = rec.get(key).cloned().unwrap_or(Value::Null);
        let current = get(&path).map(|cur| {
            let keys: Vec<String> = wanted
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            Value::Object(
                keys.iter()
                    .map(|k| (k.clone(), cur.get(k).cloned().unwrap_or(Value::Null)))
                    .collect(),
            )
        });
        change("PUT", path, label, current, wanted.clone(), wanted);
    }
    if rec.get("immutable_releases").and_then(Value::as_bool) == Some(true) {
        let path = format!("{base}/immutable-releases");
        let current = get(&path).map(|v| json!({ "enabled": v.get("enabled") }));
        change(
            "PUT",
            path,
            "immutable releases",
            current,
            json!({}),
            json!({ "enabled": true }),
        );
    }
    changes
}
