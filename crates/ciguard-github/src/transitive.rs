//! Fetching for transitive auditing: the `action.yml` (or `action.yaml`) of every action and the
//! file of every reusable workflow the audited files use, at the commit their ref resolves to,
//! then the same for what those files use, level by level up to a depth. Each level's new refs
//! are resolved in one [`online::resolve`] batch and its files fetched concurrently; files are
//! asked for by commit SHA, so the client's cache keeps them for good.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ciguard_core::facts::{Facts, UsesRef};
use ciguard_core::transitive::{DepFile, DepKey, DepKind, Graph, Site, dependency_sites, target};
use ciguard_core::yaml::Limits;
use ciguard_core::{FileKind, SourceFile};
use serde::Deserialize;

use crate::client::Client;
use crate::error::{ContentProblem, Error};
use crate::online;
use crate::remote::{blob_url, decode_base64};

/// The dependency files fetched and what could not be fetched or resolved.
#[derive(Debug, Default)]
pub struct Fetched {
    pub graph: Graph,
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
struct ContentJson {
    #[serde(default)]
    r#type: String,
    #[serde(default)]
    encoding: String,
    #[serde(default)]
    content: String,
}

/// Fetches the dependencies of `roots` up to `depth` hops (0: none). `facts` must hold the
/// resolution of the roots' own refs; the refs of dependency files are resolved into it, so the
/// online audits can judge dependency files too. `already_asked` are the refs the caller already
/// tried to resolve (not asked again).
pub fn fetch(
    client: &Client,
    roots: &[Arc<SourceFile>],
    facts: &mut Facts,
    already_asked: &[UsesRef],
    depth: usize,
) -> Fetched {
    let mut fetched = Fetched {
        graph: Graph {
            depth,
            ..Graph::default()
        },
        warnings: Vec::new(),
    };
    if depth == 0 {
        return fetched;
    }
    let mut asked: HashSet<UsesRef> = already_asked.iter().cloned().collect();
    let mut visited: HashSet<DepKey> = HashSet::new();
    let mut unresolved: BTreeSet<String> = BTreeSet::new();
    let mut frontier: Vec<Site> = roots
        .iter()
        .flat_map(ciguard_core::refs::repository_sites)
        .collect();
    for level in 0..=depth {
        // Resolve the refs this level uses (the roots' are resolved already), so that the
        // files of this level are audited with complete facts and their targets are known.
        let mut missing: Vec<UsesRef> = frontier
            .iter()
            .map(Site::uses_ref)
            .filter(|u| facts.git_ref(&u.slug, &u.git_ref).is_none() && asked.insert(u.clone()))
            .collect();
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            let resolution = online::resolve(client, &missing);
            fetched.warnings.extend(resolution.warnings);
            merge(facts, resolution.facts);
        }
        if level == depth {
            break;
        }
        let mut keys: Vec<DepKey> = Vec::new();
        for site in &frontier {
            match target(site, facts) {
                Some(key) => {
                    if visited.insert(key.clone()) {
                        keys.push(key);
                    }
                }
                None => {
                    // A repository unread for a network cause (said once by the caller) has no
                    // facts: "does not resolve" would blame the ref.
                    let known = facts.repos.contains_key(&site.uses_ref().slug);
                    if known || client.network_failures().is_empty() {
                        unresolved.insert(site.display.clone());
                    }
                }
            }
        }
        keys.sort();
        let api_url = client.config().api_url.clone();
        let results = client.map_concurrent(&keys, |key| (key.clone(), fetch_one(client, key)));
        frontier = Vec::new();
        for (key, result) in results {
            match result {
                Ok(Some((path, text))) => {
                    let kind = match key.kind {
                        DepKind::Action => FileKind::Action,
                        DepKind::Workflow => FileKind::Workflow,
                    };
                    // Named like a remote input's file; outputs that link (SARIF) use the
                    // web address of the file at its commit.
                    let name = format!("{}@{}:{path}", key.slug, key.commit);
                    let uri = blob_url(&api_url, &key.slug, &key.commit, &path);
                    let file = Arc::new(SourceFile::new(name, kind, text).with_uri(uri));
                    let own = dependency_sites(&file, &key);
                    frontier.extend(own.iter().cloned());
                    fetched
                        .graph
                        .files
                        .insert(key, DepFile { file, sites: own });
                }
                Ok(None) => fetched.warnings.push(match key.kind {
                    DepKind::Action => {
                        format!("`{key}`: no action.yml or action.yaml; not audited")
                    }
                    DepKind::Workflow => format!("`{key}`: workflow file not found; not audited"),
                }),
                Err(e) => fetched.warnings.push(format!("`{key}`: {e}; not audited")),
            }
        }
        if frontier.is_empty() {
            break;
        }
    }
    fetched.warnings.extend(
        unresolved
            .into_iter()
            .map(|d| format!("`{d}`: the ref does not resolve to a commit; not audited")),
    );
    fetched
}

/// Adds what `new` learned to `facts` (refs of a repository already known are added to it).
fn merge(facts: &mut Facts, new: Facts) {
    facts.online |= new.online;
    for (slug, repo) in new.repos {
        match facts.repos.get_mut(&slug) {
            Some(known) => {
                known.refs.extend(repo.refs);
                known.reachable.extend(repo.reachable);
                if known.tags.is_none() {
                    known.tags = repo.tags;
                }
                if known.advisories.is_none() {
                    known.advisories = repo.advisories;
                }
            }
            None => {
                facts.repos.insert(slug, repo);
            }
        }
    }
}

/// The file of `key` at its commit: `(path in the repository, text)`, `None` when absent.
fn fetch_one(client: &Client, key: &DepKey) -> Result<Option<(String, String)>, Error> {
    let candidates: Vec<String> = match key.kind {
        DepKind::Workflow => vec![key.path.clone()],
        DepKind::Action if key.path.is_empty() => vec!["action.yml".into(), "action.yaml".into()],
        DepKind::Action => vec![
            format!("{}/action.yml", key.path),
            format!("{}/action.yaml", key.path),
        ],
    };
    for path in candidates {
        let api = format!(
            "/repos/{}/contents/{}?ref={}",
            key.slug,
            ciguard_core::percent::encode(&path, ciguard_core::percent::PATH),
            key.commit
        );
        let Some(content) = client.get_json::<ContentJson>(&api)? else {
            continue;
        };
        if content.r#type != "file" {
            continue;
        }
        if content.encoding != "base64" {
            return Err(Error::Content {
                path,
                problem: ContentProblem::TooLargeForApi,
            });
        }
        let bytes = decode_base64(&content.content).ok_or_else(|| Error::Content {
            path: path.clone(),
            problem: ContentProblem::InvalidBase64,
        })?;
        if bytes.len() > Limits::default().max_bytes {
            return Err(Error::Content {
                path,
                problem: ContentProblem::TooLarge(Limits::default().max_bytes),
            });
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        return Ok(Some((path, text)));
    }
    Ok(None)
}
