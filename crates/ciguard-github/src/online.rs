//! Online resolution for `ciguard audit`: the facts the online audits read, gathered with few
//! requests. Per repository: its metadata (archived, default branch) and its tag list; per named
//! ref one branch lookup (a ref both branch and tag is confusing); the advisories of every action
//! used in batched queries; per pinned SHA that no tag or branch head
//! points at, comparisons against the default branch (then other branches and tags) to prove it
//! is reachable — a commit that only a fork has is an impostor.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ciguard_core::facts::{Advisory, Facts, RefFacts, RepoFacts, TagFact, UsesRef};
use serde::Deserialize;
use serde_json::Value;

use crate::client::Client;
use crate::error::Error;
use crate::resolve;
use ciguard_core::models::uses::is_full_sha;

/// At most this many extra branches and tags are compared against when a SHA is not on the
/// default branch.
const MAX_EXTRA_COMPARES: usize = 10;

/// Packages per advisory query: one request covers this many actions, and the URL stays short.
const ADVISORY_BATCH: usize = 60;

/// What resolution could not find out, for the report's notes.
#[derive(Debug, Default)]
pub struct Resolution {
    pub facts: Facts,
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
struct RepoJson {
    #[serde(default)]
    archived: bool,
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct ObjectJson {
    sha: String,
}

#[derive(Deserialize)]
struct CompareJson {
    status: String,
}

/// A global security advisory, with every field the OpenAPI description marks nullable (or
/// that could be absent) optional, so one odd advisory cannot fail its whole batch.
#[derive(Deserialize)]
struct AdvisoryJson {
    ghsa_id: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    vulnerabilities: Option<Vec<VulnerabilityJson>>,
    /// Set when GitHub withdrew the advisory: it no longer applies.
    #[serde(default)]
    withdrawn_at: Option<String>,
}

#[derive(Deserialize)]
struct VulnerabilityJson {
    #[serde(default)]
    package: Option<PackageJson>,
    #[serde(default)]
    vulnerable_version_range: Option<String>,
    /// A string in the global advisory API, `{identifier}` in some others.
    #[serde(default)]
    first_patched_version: Value,
}

#[derive(Deserialize)]
struct PackageJson {
    #[serde(default)]
    ecosystem: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// Resolves every ref of `uses` (repositories looked up concurrently, bounded by the client).
/// Failures for one repository leave its facts unknown and add a warning; they never fail the
/// run.
pub fn resolve(client: &Client, uses: &[UsesRef]) -> Resolution {
    let mut by_repo: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    // Every action name used (and each repository's own name), with its repository.
    let mut packages: BTreeMap<&str, &str> = BTreeMap::new();
    for u in uses {
        by_repo.entry(&u.slug).or_default().insert(&u.git_ref);
        packages.insert(&u.slug, &u.slug);
        packages.insert(&u.name, &u.slug);
    }
    let repos: Vec<(&str, BTreeSet<&str>)> = by_repo.into_iter().collect();
    let results = client.map_concurrent(&repos, |(slug, refs)| {
        (slug.to_string(), repo_facts(client, slug, refs))
    });
    let mut resolution = Resolution {
        facts: Facts {
            online: true,
            repos: HashMap::new(),
        },
        warnings: Vec::new(),
    };
    for (slug, (facts, warnings)) in results {
        resolution.warnings.extend(warnings);
        if let Some(facts) = facts {
            resolution.facts.repos.insert(slug, facts);
        }
    }
    attach_advisories(client, &packages, &mut resolution);
    resolution
}

/// Looks up the advisories of every action used, a batch of packages per request, and gives
/// each resolved repository its own. A repository whose batch failed keeps `None` (unknown).
fn attach_advisories(
    client: &Client,
    packages: &BTreeMap<&str, &str>,
    resolution: &mut Resolution,
) {
    let asked: Vec<&str> = packages
        .iter()
        .filter(|(_, slug)| resolution.facts.repos.contains_key(**slug))
        .map(|(package, _)| *package)
        .collect();
    let batches: Vec<&[&str]> = asked.chunks(ADVISORY_BATCH).collect();
    let answers = client.map_concurrent(&batches, |batch| (*batch, advisories(client, batch)));
    for (batch, answer) in answers {
        match answer {
            Ok(list) => {
                for package in batch {
                    if let Some(repo) = resolution.facts.repos.get_mut(packages[package]) {
                        repo.advisories.get_or_insert_with(Vec::new);
                    }
                }
                // `advisories` keeps only the packages asked for, so each has its repository.
                for advisory in list {
                    let slug = packages.get(advisory.package.as_str());
                    if let Some(repo) = slug.and_then(|s| resolution.facts.repos.get_mut(*s)) {
                        let known = repo.advisories.get_or_insert_with(Vec::new);
                        if !known.contains(&advisory) {
                            known.push(advisory);
                        }
                    }
                }
            }
            Err(e) => resolution.warnings.push(format!(
                "cannot list advisories for {}: {e}",
                batch.join(", ")
            )),
        }
    }
}

/// The facts of one repository; `None` when it does not exist (or cannot be read).
fn repo_facts(
    client: &Client,
    slug: &str,
    refs: &BTreeSet<&str>,
) -> (Option<RepoFacts>, Vec<String>) {
    let mut warnings = Vec::new();
    let meta = match client.get_json::<RepoJson>(&format!("/repos/{slug}")) {
        Ok(Some(m)) => m,
        Ok(None) => {
            warnings.push(format!("`{slug}`: repository not found"));
            return (None, warnings);
        }
        Err(e) => {
            warnings.push(format!("`{slug}`: {e}"));
            return (None, warnings);
        }
    };
    let mut facts = RepoFacts {
        archived: meta.archived,
        default_branch: meta.default_branch,
        ..RepoFacts::default()
    };
    match resolve::tags(client, slug) {
        Ok(tags) => {
            facts.tags = Some(
                tags.into_iter()
                    .map(|t| TagFact {
                        name: t.name,
                        commit: t.commit,
                    })
                    .collect(),
            )
        }
        Err(e) => warnings.push(format!("`{slug}`: cannot list tags: {e}")),
    }
    let mut branches: Option<Vec<(String, String)>> = None;
    for reference in refs {
        let result = if is_full_sha(reference) {
            sha_facts(client, slug, reference, &mut facts, &mut branches)
        } else {
            named_ref_facts(client, slug, reference, &mut facts)
        };
        if let Err(e) = result {
            warnings.push(format!("`{slug}@{reference}`: {e}"));
        }
    }
    (Some(facts), warnings)
}

/// A branch or tag name (or a short SHA): whether it is a branch, a tag, and its commit.
fn named_ref_facts(
    client: &Client,
    slug: &str,
    reference: &str,
    facts: &mut RepoFacts,
) -> Result<(), Error> {
    let tag_commit = facts.tag_commit(reference).map(str::to_owned);
    // `matching-refs` answers 200 with a list even when no branch has that name, so a warm run
    // revalidates it with a 304 where `git/ref` would ask again for a 404.
    let branch = client
        .get_json::<Vec<RefListJson>>(&format!(
            "/repos/{slug}/git/matching-refs/heads/{reference}"
        ))?
        .unwrap_or_default()
        .into_iter()
        .find(|r| r.r#ref.strip_prefix("refs/heads/") == Some(reference))
        .map(|r| r.object.sha.to_ascii_lowercase());
    let commit = match (&tag_commit, &branch) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(b)) => Some(b.clone()),
        // Not a tag nor a branch: perhaps a short SHA (or a tag the list missed).
        (None, None) => resolve::commit(client, slug, reference)?.map(|c| c.sha),
    };
    facts.refs.insert(
        reference.to_owned(),
        RefFacts {
            commit,
            is_branch: branch.is_some(),
            is_tag: tag_commit.is_some(),
        },
    );
    Ok(())
}

/// A pinned SHA: whether a branch or tag of the repository reaches it.
fn sha_facts(
    client: &Client,
    slug: &str,
    sha: &str,
    facts: &mut RepoFacts,
    branches: &mut Option<Vec<(String, String)>>,
) -> Result<(), Error> {
    let sha = sha.to_ascii_lowercase();
    let tagged = facts
        .tags
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| t.commit == sha));
    let mut entry = RefFacts {
        commit: Some(sha.clone()),
        ..RefFacts::default()
    };
    let reachable = if tagged {
        Some(true)
    } else {
        reachable(client, slug, &sha, facts, branches)?
    };
    if reachable.is_none() {
        // The commit does not exist at all, not even in a fork.
        entry.commit = None;
    }
    facts.refs.insert(sha.clone(), entry);
    if let Some(r) = reachable {
        facts.reachable.insert(sha, r);
    }
    Ok(())
}

/// `Some(true)` when a branch or tag reaches `sha`, `Some(false)` when none does, `None` when
/// the commit does not exist in the repository's network.
fn reachable(
    client: &Client,
    slug: &str,
    sha: &str,
    facts: &RepoFacts,
    branches: &mut Option<Vec<(String, String)>>,
) -> Result<Option<bool>, Error> {
    let default = facts.default_branch.clone();
    if let Some(default) = &default {
        match compare(client, slug, default, sha)? {
            None => return Ok(None),
            Some(true) => return Ok(Some(true)),
            Some(false) => {}
        }
    }
    if branches.is_none() {
        let heads: Vec<RefListJson> =
            client.get_paginated(&format!("/repos/{slug}/git/matching-refs/heads"))?;
        *branches = Some(
            heads
                .into_iter()
                .filter_map(|h| {
                    let name = h.r#ref.strip_prefix("refs/heads/")?.to_owned();
                    Some((name, h.object.sha.to_ascii_lowercase()))
                })
                .collect(),
        );
    }
    let heads = branches.as_deref().unwrap_or_default();
    if heads.iter().any(|(_, head)| head == sha) {
        return Ok(Some(true));
    }
    let mut bases: Vec<String> = heads
        .iter()
        .filter(|(name, _)| Some(name) != default.as_ref())
        .map(|(name, _)| name.clone())
        .take(MAX_EXTRA_COMPARES)
        .collect();
    let mut seen = BTreeSet::new();
    bases.extend(
        facts
            .tags
            .iter()
            .flatten()
            .filter(|t| seen.insert(t.commit.clone()))
            .map(|t| t.commit.clone())
            .take(MAX_EXTRA_COMPARES),
    );
    for base in bases {
        if compare(client, slug, &base, sha)? == Some(true) {
            return Ok(Some(true));
        }
    }
    Ok(Some(false))
}

#[derive(Deserialize)]
struct RefListJson {
    r#ref: String,
    object: ObjectJson,
}

/// Whether `base` contains `head` (`Some(true)`), does not (`Some(false)`), or `head` is
/// unknown (`None`, a 404 or 422 about the commit itself).
fn compare(client: &Client, slug: &str, base: &str, head: &str) -> Result<Option<bool>, Error> {
    let path = format!("/repos/{slug}/compare/{base}...{head}");
    let response = client.get(&path)?;
    match response.status {
        s if (200..300).contains(&s) => {
            let c: CompareJson = response.json(&client.url(&path)?)?;
            Ok(Some(matches!(c.status.as_str(), "behind" | "identical")))
        }
        // Both commits exist but share no history (an orphan commit pushed to a fork): `base`
        // does not contain `head`, and other refs must still be asked.
        404 if no_common_ancestor(&response.body) => Ok(Some(false)),
        404 | 422 => Ok(None),
        status => Err(Error::Status {
            url: client.url(&path)?,
            status,
            message: redact(client, &error_message(&response.body)),
        }),
    }
}

fn redact(client: &Client, text: &str) -> String {
    match &client.config().token {
        Some(token) => token.redact(text),
        None => text.to_owned(),
    }
}

/// GitHub's answer to a compare of unrelated histories:
/// `404 {"message": "No common ancestor between BASE and HEAD.", ...}`.
fn no_common_ancestor(body: &[u8]) -> bool {
    error_message(body).starts_with("No common ancestor between ")
}

/// The `message` of a GitHub error body (empty when there is none), at most 200 characters.
fn error_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")?
                .as_str()
                .map(|m| m.chars().take(200).collect())
        })
        .unwrap_or_default()
}

/// The reviewed advisories of the actions ecosystem affecting any of `packages` (`owner/repo`
/// or `owner/repo/path`, lowercase), in one paginated query.
fn advisories(client: &Client, packages: &[&str]) -> Result<Vec<Advisory>, Error> {
    let affects = packages.join(",");
    let list: Vec<Value> =
        client.get_paginated(&format!("/advisories?ecosystem=actions&affects={affects}"))?;
    let mut out = Vec::new();
    // An advisory that does not read (no `ghsa_id`) is skipped, not the whole batch.
    for a in list
        .into_iter()
        .filter_map(|a| serde_json::from_value::<AdvisoryJson>(a).ok())
        .filter(|a| a.withdrawn_at.is_none())
    {
        for v in a.vulnerabilities.into_iter().flatten() {
            let Some(package) = v.package else { continue };
            let (Some(ecosystem), Some(name)) = (package.ecosystem, package.name) else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            let ours = packages.contains(&name.as_str());
            if !ecosystem.eq_ignore_ascii_case("actions") || !ours {
                continue;
            }
            let first_patched = match &v.first_patched_version {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o
                    .get("identifier")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            };
            out.push(Advisory {
                id: a.ghsa_id.clone(),
                summary: a.summary.clone().unwrap_or_default(),
                severity: a.severity.clone().unwrap_or_default(),
                package: name,
                vulnerable_range: v.vulnerable_version_range.unwrap_or_default(),
                first_patched,
            });
        }
    }
    Ok(out)
}
