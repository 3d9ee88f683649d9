//! Reads what the checks need from a [`Source`] into plain models. Every read that GitHub refused
//! (401, 403, 404 without a definite meaning) or that a snapshot lacks becomes an [`Unknown`] that
//! names the API path and the permission needed, so no check can mistake it for a pass.

use serde_json::Value;

use crate::server::{Feature, Server};
use crate::snapshot::{Answer, Source, encode_segment};

/// Something the token could not read.
#[derive(Debug, Clone, PartialEq)]
pub struct Unknown {
    /// The API path, or the field, that could not be read.
    pub what: String,
    pub status: Option<u16>,
    /// The permission that is needed, from `x-accepted-github-permissions` or known by endpoint.
    pub permission: Option<String>,
    /// Why it is unknown when it is not a permission: an answer that is not what GitHub sends,
    /// or a feature this server does not have.
    pub reason: Option<Reason>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The answer was read but is not valid (truncated, not JSON, not the documented shape).
    Invalid(String),
    /// The server (a GitHub Enterprise Server version) has no such endpoint or field.
    NotOnServer,
}

impl Unknown {
    pub fn new(what: impl Into<String>, status: Option<u16>, permission: Option<&str>) -> Self {
        Self {
            what: what.into(),
            status,
            permission: permission.map(str::to_owned),
            reason: None,
        }
    }

    /// An answer that was read but is not what GitHub sends.
    pub fn invalid(what: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            status: None,
            permission: None,
            reason: Some(Reason::Invalid(why.into())),
        }
    }

    /// An endpoint or field the server does not have.
    pub fn not_on_server(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            status: None,
            permission: None,
            reason: Some(Reason::NotOnServer),
        }
    }

    pub fn is_invalid(&self) -> bool {
        matches!(self.reason, Some(Reason::Invalid(_)))
    }

    pub fn describe(&self) -> String {
        match &self.reason {
            Some(Reason::Invalid(why)) => {
                return format!(
                    "{}: the answer is not valid ({why}); read or export it again",
                    self.what
                );
            }
            Some(Reason::NotOnServer) => {
                return format!("{}: not available on this server", self.what);
            }
            None => {}
        }
        let status = self
            .status
            .map(|s| format!(" (HTTP {s})"))
            .unwrap_or_default();
        match &self.permission {
            Some(p) => format!("{} not readable{status}; needs {p}", self.what),
            None => format!("{} not readable{status}", self.what),
        }
    }
}

/// A value that was read, or why it could not be.
pub type Read<T> = Result<T, Unknown>;

/// Performs one GET; anything but 200 is unknown with the permission GitHub (or `fallback`) names.
fn fetch(src: &dyn Source, path: &str, fallback: &str) -> Result<Answer, Unknown> {
    match src.get(path) {
        Ok(a) if a.is_ok() => Ok(a),
        Ok(a) => {
            let perm = a
                .accepted_permissions
                .clone()
                .filter(|p| !p.trim().is_empty())
                .unwrap_or_else(|| fallback.to_owned());
            Err(Unknown {
                what: strip_query(path),
                status: Some(a.status),
                permission: Some(perm),
                reason: None,
            })
        }
        Err(e) => Err(Unknown {
            what: e.to_string(),
            status: None,
            permission: Some(fallback.to_owned()),
            reason: None,
        }),
    }
}

/// The body of a 200 answer as JSON; a body that does not parse (truncated, not JSON) is an
/// unknown, never an empty value.
fn json<'a>(answer: &'a Answer, path: &str) -> Result<&'a Value, Unknown> {
    if answer.body.is_null() {
        return Err(Unknown::invalid(
            strip_query(path),
            format!("{} bytes that are not JSON", answer.raw.len()),
        ));
    }
    Ok(&answer.body)
}

/// The list of a 200 answer: the body itself (`key` `None`) or its `key` field in a
/// `{total_count, key: [...]}` envelope, which must hold all `total_count` entries.
fn list<'a>(answer: &'a Answer, path: &str, key: Option<&str>) -> Result<&'a [Value], Unknown> {
    let body = json(answer, path)?;
    let items = match key {
        Some(k) => body.get(k),
        None => Some(body),
    }
    .and_then(Value::as_array)
    .ok_or_else(|| {
        Unknown::invalid(
            strip_query(path),
            match key {
                Some(k) => format!("no `{k}` list"),
                None => "not a list".to_owned(),
            },
        )
    })?;
    if key.is_some()
        && let Some(total) = body.get("total_count").and_then(Value::as_u64)
        && total > items.len() as u64
    {
        return Err(Unknown::invalid(
            strip_query(path),
            format!("lists {} of {total} entries", items.len()),
        ));
    }
    Ok(items)
}

/// The `name` of every entry of a list; an entry without one makes the whole list unknown.
fn names(items: &[Value], path: &str) -> Result<Vec<String>, Unknown> {
    items
        .iter()
        .map(|item| {
            item.get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Unknown::invalid(strip_query(path), "an entry has no `name`"))
        })
        .collect()
}

/// Reads a JSON object answer.
fn object(src: &dyn Source, path: &str, fallback: &str) -> Result<Value, Unknown> {
    let answer = fetch(src, path, fallback)?;
    let body = json(&answer, path)?;
    if !body.is_object() {
        return Err(Unknown::invalid(strip_query(path), "not an object"));
    }
    Ok(body.clone())
}

/// Reads the names of a `{total_count, key: [{name}]}` list answer.
fn named_list(src: &dyn Source, path: &str, key: &str, fallback: &str) -> Read<Vec<String>> {
    let answer = fetch(src, path, fallback)?;
    names(list(&answer, path, Some(key))?, path)
}

fn strip_query(path: &str) -> String {
    path.split('?').next().unwrap_or(path).to_owned()
}

#[derive(Debug, Clone, PartialEq)]
pub struct BypassActor {
    pub actor_id: Option<i64>,
    pub actor_type: String,
    pub bypass_mode: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub kind: String,
    pub parameters: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ruleset {
    pub id: i64,
    pub name: String,
    /// `branch`, `tag` or `push`.
    pub target: String,
    /// `active`, `evaluate` or `disabled`.
    pub enforcement: String,
    /// `Repository` or `Organization`.
    pub source_type: String,
    pub source: String,
    /// `None` when the token may not see who can bypass.
    pub bypass_actors: Option<Vec<BypassActor>>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub rules: Vec<Rule>,
}

impl Ruleset {
    pub fn from_json(v: &Value) -> Option<Self> {
        let strs = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let ref_name = v.pointer("/conditions/ref_name");
        Some(Self {
            id: v.get("id")?.as_i64()?,
            name: v
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            target: v
                .get("target")
                .and_then(Value::as_str)
                .unwrap_or("branch")
                .to_owned(),
            enforcement: v
                .get("enforcement")
                .and_then(Value::as_str)
                .unwrap_or("disabled")
                .to_owned(),
            source_type: v
                .get("source_type")
                .and_then(Value::as_str)
                .unwrap_or("Repository")
                .to_owned(),
            source: v
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            bypass_actors: v.get("bypass_actors").and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|b| BypassActor {
                        actor_id: b.get("actor_id").and_then(Value::as_i64),
                        actor_type: b
                            .get("actor_type")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        bypass_mode: b
                            .get("bypass_mode")
                            .and_then(Value::as_str)
                            .unwrap_or("always")
                            .to_owned(),
                    })
                    .collect()
            }),
            include: strs(ref_name.and_then(|r| r.get("include"))),
            exclude: strs(ref_name.and_then(|r| r.get("exclude"))),
            rules: v
                .get("rules")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|r| {
                            Some(Rule {
                                kind: r.get("type")?.as_str()?.to_owned(),
                                parameters: r.get("parameters").cloned().unwrap_or(Value::Null),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
    }

    pub fn rule(&self, kind: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.kind == kind)
    }

    pub fn is_active(&self) -> bool {
        self.enforcement == "active"
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BranchPolicy {
    pub name: String,
    /// `branch` or `tag`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub name: String,
    /// Number of required reviewers, when the rule exists.
    pub reviewers: Option<usize>,
    pub prevent_self_review: bool,
    /// `None` when GitHub's answer does not say (the field is in no OpenAPI description).
    pub can_admins_bypass: Option<bool>,
    /// `(protected_branches, custom_branch_policies)`, `None` when every branch may deploy.
    pub branch_policy: Option<(bool, bool)>,
    /// The custom policies, read only when `custom_branch_policies` is on.
    pub policies: Read<Vec<BranchPolicy>>,
    pub secrets: Read<Vec<String>>,
}

/// Classic branch protection of the default branch.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicProtection {
    pub enforce_admins: bool,
    pub allow_force_pushes: bool,
    pub allow_deletions: bool,
    pub required_approvals: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Repo {
    pub owner: String,
    pub name: String,
    pub owner_is_org: bool,
    /// github.com or the GHES version, for what it lacks.
    pub server: Server,
    pub default_branch: String,
    /// Whether the token is an admin of the repository, when GitHub said.
    pub admin: Option<bool>,
    pub rulesets: Read<Vec<Ruleset>>,
    /// `Ok(None)`: the default branch has no classic protection.
    pub classic: Read<Option<ClassicProtection>>,
    pub actions: Read<Value>,
    pub workflow: Read<Value>,
    pub environments: Read<Vec<Environment>>,
    pub repo_secrets: Read<Vec<String>>,
    pub org_secrets: Read<Vec<String>>,
    pub immutable_releases: Read<bool>,
}

impl Repo {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub login: String,
    pub two_factor_required: Read<bool>,
    pub default_repository_permission: Read<String>,
    pub owners: Read<usize>,
}

const ADMIN_READ: &str = "\"Administration\" repository permissions (read)";
const METADATA_READ: &str = "\"Metadata\" repository permissions (read)";
const ACTIONS_READ: &str = "\"Actions\" repository permissions (read)";
const SECRETS_READ: &str = "\"Secrets\" repository permissions (read)";
const ENV_READ: &str = "\"Environments\" repository permissions (read)";
const ORG_ADMIN_READ: &str = "\"Administration\" organization permissions (read)";

/// Reads the settings of one repository. `Err` when even the repository itself is unreadable.
pub fn repo(src: &dyn Source, owner: &str, name: &str) -> Result<Repo, Unknown> {
    let base = format!("repos/{}/{}", encode_segment(owner), encode_segment(name));
    let meta = object(src, &base, METADATA_READ)?;
    let server = Server::detect(src);
    let default_branch = meta
        .get("default_branch")
        .and_then(Value::as_str)
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            Unknown::new(
                format!("{base} → default_branch"),
                None,
                Some(METADATA_READ),
            )
        })?
        .to_owned();
    let admin = meta.pointer("/permissions/admin").and_then(Value::as_bool);
    let owner_is_org = meta.pointer("/owner/type").and_then(Value::as_str) == Some("Organization");

    let rulesets_path = format!("{base}/rulesets?includes_parents=true");
    let rulesets = fetch(src, &rulesets_path, METADATA_READ).and_then(|answer| {
        let mut out = Vec::new();
        for summary in list(&answer, &rulesets_path, None)? {
            let id = summary.get("id").and_then(Value::as_i64).ok_or_else(|| {
                Unknown::invalid(strip_query(&rulesets_path), "a ruleset has no `id`")
            })?;
            let path = format!("{base}/rulesets/{id}?includes_parents=true");
            let detail = fetch(src, &path, METADATA_READ)?;
            let rs = Ruleset::from_json(json(&detail, &path)?)
                .ok_or_else(|| Unknown::invalid(strip_query(&path), "not a ruleset"))?;
            out.push(rs);
        }
        Ok(out)
    });

    let branch = encode_segment(&default_branch);
    let protection_path = format!("{base}/branches/{branch}/protection");
    let classic = match src.get(&protection_path) {
        Ok(a) if a.is_ok() => json(&a, &protection_path).map(|body| {
            let on = |p: &str| body.pointer(p).and_then(Value::as_bool).unwrap_or(false);
            Some(ClassicProtection {
                enforce_admins: on("/enforce_admins/enabled"),
                allow_force_pushes: on("/allow_force_pushes/enabled"),
                allow_deletions: on("/allow_deletions/enabled"),
                required_approvals: body
                    .pointer("/required_pull_request_reviews/required_approving_review_count")
                    .and_then(Value::as_u64)
                    .or_else(|| body.get("required_pull_request_reviews").map(|_| 0)),
            })
        }),
        Ok(a)
            if a.status == 404
                && a.body.get("message").and_then(Value::as_str)
                    == Some("Branch not protected") =>
        {
            Ok(None)
        }
        _ => fetch(
            src,
            &format!("{base}/branches/{branch}/protection"),
            ADMIN_READ,
        )
        .map(|_| None),
    };

    let actions = object(src, &format!("{base}/actions/permissions"), ADMIN_READ);
    let workflow = object(
        src,
        &format!("{base}/actions/permissions/workflow"),
        ADMIN_READ,
    );

    let environments_path = format!("{base}/environments");
    let environments = fetch(src, &environments_path, ACTIONS_READ).and_then(|a| {
        list(&a, &environments_path, Some("environments"))?
            .iter()
            .map(|e| environment(src, &base, e))
            .collect()
    });

    let repo_secrets = named_list(
        src,
        &format!("{base}/actions/secrets"),
        "secrets",
        SECRETS_READ,
    );
    let org_secrets = if owner_is_org {
        named_list(
            src,
            &format!("{base}/actions/organization-secrets"),
            "secrets",
            SECRETS_READ,
        )
    } else {
        Ok(Vec::new())
    };

    let path = format!("{base}/immutable-releases");
    let immutable_releases = if !server.has(Feature::ImmutableReleases) {
        Err(Unknown::not_on_server(path))
    } else {
        match src.get(&path) {
            Ok(a) if a.is_ok() => json(&a, &path).and_then(|body| {
                body.get("enabled")
                    .and_then(Value::as_bool)
                    .ok_or_else(|| Unknown::invalid(path.clone(), "no `enabled` flag"))
            }),
            // 404 means "not enabled" only when the token could have seen it.
            Ok(a) if a.status == 404 && admin == Some(true) => Ok(false),
            _ => fetch(src, &path, ADMIN_READ).map(|_| false),
        }
    };

    Ok(Repo {
        owner: owner.to_owned(),
        name: name.to_owned(),
        owner_is_org,
        server,
        default_branch,
        admin,
        rulesets,
        classic,
        actions,
        workflow,
        environments,
        repo_secrets,
        org_secrets,
        immutable_releases,
    })
}

fn environment(src: &dyn Source, base: &str, e: &Value) -> Read<Environment> {
    let name = e
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| Unknown::invalid(format!("{base}/environments"), "an entry has no `name`"))?
        .to_owned();
    let rules = e
        .get("protection_rules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let reviewers_rule = rules
        .iter()
        .find(|r| r.get("type").and_then(Value::as_str) == Some("required_reviewers"));
    let branch_policy = e
        .get("deployment_branch_policy")
        .filter(|p| !p.is_null())
        .map(|p| {
            let on = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
            (on("protected_branches"), on("custom_branch_policies"))
        });
    let env_path = format!("{base}/environments/{}", encode_segment(&name));
    let policies_path = format!("{env_path}/deployment-branch-policies");
    let policies = match branch_policy {
        Some((_, true)) => fetch(src, &policies_path, ACTIONS_READ).and_then(|a| {
            let items = list(&a, &policies_path, Some("branch_policies"))?;
            let names = names(items, &policies_path)?;
            Ok(items
                .iter()
                .zip(names)
                .map(|(p, name)| BranchPolicy {
                    name,
                    kind: p
                        .get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("branch")
                        .to_owned(),
                })
                .collect())
        }),
        _ => Ok(Vec::new()),
    };
    Ok(Environment {
        reviewers: reviewers_rule.map(|r| {
            r.get("reviewers")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        }),
        prevent_self_review: reviewers_rule
            .and_then(|r| r.get("prevent_self_review"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        // In no OpenAPI description: absent (GHES, older answers) is unknown, not "true".
        can_admins_bypass: e.get("can_admins_bypass").and_then(Value::as_bool),
        branch_policy,
        policies,
        secrets: named_list(src, &format!("{env_path}/secrets"), "secrets", ENV_READ),
        name,
    })
}

/// Reads the organization settings the checks need.
pub fn org(src: &dyn Source, login: &str) -> Result<Org, Unknown> {
    let path = format!("orgs/{}", encode_segment(login));
    let body = object(src, &path, ORG_ADMIN_READ)?;
    let field = |k: &str| body.get(k).filter(|v| !v.is_null());
    let hidden = |k: &str| Unknown::new(format!("{path} → {k}"), None, Some(ORG_ADMIN_READ));
    let two_factor_required = field("two_factor_requirement_enabled")
        .and_then(Value::as_bool)
        .ok_or_else(|| hidden("two_factor_requirement_enabled"));
    let default_repository_permission = field("default_repository_permission")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| hidden("default_repository_permission"));
    // The owners list is complete only for someone who sees the organization's private settings.
    let members = format!("{path}/members?role=admin&per_page=100");
    let owners = match &two_factor_required {
        Ok(_) => fetch(src, &members, "\"Members\" organization permissions (read)")
            .and_then(|a| list(&a, &members, None).map(<[Value]>::len)),
        Err(_) => Err(hidden("members?role=admin")),
    };
    Ok(Org {
        login: login.to_owned(),
        two_factor_required,
        default_repository_permission,
        owners,
    })
}

/// The repositories of an organization (`name` only), non-archived.
pub fn org_repos(src: &dyn Source, login: &str) -> Result<Vec<String>, Unknown> {
    let path = format!("orgs/{}/repos?per_page=100", encode_segment(login));
    let answer = fetch(src, &path, METADATA_READ)?;
    let repos: Vec<&Value> = list(&answer, &path, None)?
        .iter()
        .filter(|r| r.get("archived").and_then(Value::as_bool) != Some(true))
        .collect();
    repos
        .iter()
        .map(|r| {
            r.get("name")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| Unknown::invalid(strip_query(&path), "an entry has no `name`"))
        })
        .collect()
}
