//! The resolve stage: online facts for the `uses:` of the audited files (when a token is
//! available and the run is not offline), then the transitive dependencies they lead to.

use std::collections::BTreeSet;
use std::sync::Arc;

use ciguard_core::SourceFile;
use ciguard_core::diagnostic::Diagnostic;
use ciguard_core::facts::{Facts, UsesRef};
use ciguard_core::plural::count;
use ciguard_core::refs::uses_refs;
use ciguard_core::transitive::Graph;
use ciguard_github::ClientConfig;

use crate::{network, transitive};

/// What the resolve stage learnt: facts, the dependency graph, notes, and whether online checks
/// were asked for but none could run.
pub struct Resolved {
    pub facts: Facts,
    pub graph: Graph,
    pub notes: Vec<String>,
    pub online_failed: bool,
}

/// Resolves the refs of `files` with a client built from `config`, then audits their
/// dependencies up to `depth` hops.
pub fn resolve(
    config: ClientConfig,
    files: &[Result<Arc<SourceFile>, Diagnostic>],
    depth: usize,
) -> Resolved {
    let (mut facts, mut notes, client, asked) = online_facts(config, files);
    let (graph, transitive_notes) =
        transitive::audit_dependencies(client.as_ref(), files, &mut facts, &asked, depth);
    notes.extend(transitive_notes);
    let asked_repos = asked
        .iter()
        .map(|u| u.slug.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let online_failed = client
        .as_ref()
        .is_some_and(|c| network::nothing_ran(c, asked_repos, facts.repos.len()));
    if online_failed {
        // Audits that need the network then say they were skipped, as offline.
        facts.online = false;
    }
    if let Some(c) = &client {
        notes = network::diagnose(c, notes, asked_repos, facts.repos.len());
    }
    Resolved {
        facts,
        graph,
        notes,
        online_failed,
    }
}

/// Resolves the `uses:` of `files` online when a token is available and the run is not
/// offline: the facts, notes on what could not be resolved, the client (for transitive
/// auditing) and the refs it was asked to resolve.
fn online_facts(
    config: ClientConfig,
    files: &[Result<Arc<SourceFile>, Diagnostic>],
) -> (
    Facts,
    Vec<String>,
    Option<ciguard_github::Client>,
    Vec<UsesRef>,
) {
    if config.offline || config.token.is_none() {
        return (Facts::default(), Vec::new(), None, Vec::new());
    }
    let mut uses: Vec<_> = files.iter().flatten().flat_map(uses_refs).collect();
    uses.sort();
    uses.dedup();
    let client = ciguard_github::Client::new(config);
    let resolution = ciguard_github::online::resolve(&client, &uses);
    let mut notes: Vec<String> = resolution
        .warnings
        .iter()
        .map(|w| format!("online: {w}"))
        .collect();
    notes.push(format!(
        "online: {} resolved with {}",
        count(resolution.facts.repos.len(), "repository", "repositories"),
        count(client.request_count(), "request", "requests")
    ));
    (resolution.facts, notes, Some(client), uses)
}
