//! Transitive auditing for `ciguard audit`: fetch the actions and reusable workflows the audited
//! files use (recursively, up to `--transitive-depth` hops) and audit each once with every
//! audit; [`Graph::lift`] then reports their findings at the `uses:` that leads to them.

use std::sync::Arc;

use ciguard_core::audit::AuditContext;
use ciguard_core::diagnostic::Diagnostic;
use ciguard_core::engine::audit_file;
use ciguard_core::facts::{Facts, UsesRef};
use ciguard_core::transitive::Graph;
use ciguard_core::yaml::Limits;
use ciguard_core::{SourceFile, audits, plural};
use rayon::prelude::*;

/// Fetches and audits the dependencies of `files`. Without a client (offline or no token) or
/// with `depth` 0 nothing is fetched and the graph is empty. Returns the graph and notes for the
/// report.
pub fn audit_dependencies(
    client: Option<&ciguard_github::Client>,
    files: &[Result<Arc<SourceFile>, Diagnostic>],
    facts: &mut Facts,
    asked: &[UsesRef],
    depth: usize,
) -> (Graph, Vec<String>) {
    if depth == 0 {
        return (Graph::default(), Vec::new());
    }
    // Without the network, the one "skipped (need the network)" note of the report says so.
    let Some(client) = client else {
        return (Graph::default(), Vec::new());
    };
    let before = client.request_count();
    let roots: Vec<Arc<SourceFile>> = files.iter().flatten().cloned().collect();
    let fetched = ciguard_github::transitive::fetch(client, &roots, facts, asked, depth);
    let mut graph = fetched.graph;
    graph.ran = true;
    let facts: &Facts = facts;
    let limits = Limits::default();
    let options = toml::Table::new();
    let found: Vec<_> = graph
        .files
        .par_iter()
        .map(|(key, dep)| {
            let report = audit_file(&dep.file, &limits, audits::all(), &|_| AuditContext {
                options: &options,
                facts,
                // A dependency's own lockfile is not fetched: its `uses:` count as written.
                actions_lock: None,
            });
            // Why a dependency could not be audited (not YAML, not an action...): a note.
            let problem = (!report.audited).then(|| {
                report
                    .diagnostics
                    .first()
                    .map_or_else(|| "cannot be audited".to_owned(), |d| d.message.clone())
            });
            (key.clone(), report.findings, problem)
        })
        .collect();
    let count: usize = found.iter().map(|(_, f, _)| f.len()).sum();
    let mut notes: Vec<String> = fetched
        .warnings
        .iter()
        .map(|w| format!("transitive: {w}"))
        .collect();
    let mut audited = 0;
    for (key, findings, problem) in found {
        match problem {
            Some(problem) => notes.push(format!("transitive: `{key}`: {problem}; not audited")),
            None => audited += 1,
        }
        if !findings.is_empty() {
            graph.findings.insert(key, findings);
        }
    }
    notes.push(format!(
        "transitive: {} audited (depth {depth}), {} inside them, {}",
        plural::count(audited, "dependency file", "dependency files"),
        plural::count(count, "finding", "findings"),
        plural::count(client.request_count() - before, "request", "requests")
    ));
    (graph, notes)
}
