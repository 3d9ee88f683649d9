//! Which triggers start releases, and whether a job can mint OIDC tokens.

use super::*;
use crate::models::{Job, Workflow};
use crate::yaml::Node;

/// The triggers that usually start releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseTrigger {
    ReleaseEvent,
    TagPush,
    ReleaseBranchPush,
    /// `workflow_dispatch` in a workflow named or with inputs named like a release.
    Dispatch,
}

/// The release triggers of a workflow with the node that names them. `Dispatch` is reported only
/// when `wide` is set (zizmor's scope leaves it out).
pub fn release_triggers<'a>(wf: &Workflow<'a>, wide: bool) -> Vec<(ReleaseTrigger, Node<'a>)> {
    let mut out = Vec::new();
    for t in &wf.triggers {
        match t.event {
            "release" => out.push((ReleaseTrigger::ReleaseEvent, t.name_node)),
            "push" => {
                let Some(cfg) = t.config else { continue };
                if cfg.get("tags").is_some() || cfg.get("tags-ignore").is_some() {
                    out.push((ReleaseTrigger::TagPush, t.name_node));
                }
                let release_branch = cfg
                    .get("branches")
                    .map(|b| {
                        b.as_str()
                            .is_some_and(|s| s.to_ascii_lowercase().contains("release"))
                            || b.items().any(|i| {
                                i.as_str()
                                    .is_some_and(|s| s.to_ascii_lowercase().contains("release"))
                            })
                    })
                    .unwrap_or(false);
                if release_branch {
                    out.push((ReleaseTrigger::ReleaseBranchPush, t.name_node));
                }
            }
            "workflow_dispatch" if wide => {
                let named = |s: &str| {
                    let s = s.to_ascii_lowercase();
                    s.contains("release") || s.contains("publish") || s.contains("deploy")
                };
                let wf_named = wf.get("name").and_then(|n| n.as_str()).is_some_and(named)
                    || wf.file.path.rsplit('/').next().is_some_and(named);
                let inputs_named = t
                    .config
                    .and_then(|c| c.get("inputs"))
                    .is_some_and(|i| i.entries().any(|(k, _)| k.as_str().is_some_and(named)));
                if wf_named || inputs_named {
                    out.push((ReleaseTrigger::Dispatch, t.name_node));
                }
            }
            _ => {}
        }
    }
    out
}

/// A release workflow: started by a release trigger, or with a job that publishes.
pub fn is_release_workflow(wf: &Workflow<'_>) -> bool {
    !release_triggers(wf, true).is_empty()
        || wf
            .jobs
            .iter()
            .any(|j| !job_publications(wf.file, j).is_empty())
}

/// Whether the job's token can mint OIDC tokens (`id-token: write`, on the job or inherited).
pub fn job_has_id_token(wf: &Workflow<'_>, job: &Job<'_>) -> bool {
    let grants =
        |p: Node<'_>| p.as_str() == Some("write-all") || p.get_str("id-token") == Some("write");
    match job.permissions() {
        Some(p) => grants(p),
        None => wf.permissions().is_some_and(grants),
    }
}
