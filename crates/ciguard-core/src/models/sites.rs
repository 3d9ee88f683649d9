//! Where a document's `uses:` are: built once per workflow or action and shared by the audits
//! that check them.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::finding::Location;

use crate::models::{Action, RepositoryUses, Step, Uses, Workflow};
use crate::route::Route;
use crate::source::SourceFile;
use crate::yaml::Node;

/// One `uses:` of a step or a reusable-workflow job.
pub(crate) struct UsesSite<'s, 'a> {
    /// The `uses:` value.
    pub node: Node<'a>,
    /// The route of the `uses:` value.
    pub route: Route,
    pub uses: Uses<'a>,
    _steps: PhantomData<&'s Step<'a>>,
}

impl<'a> UsesSite<'_, 'a> {
    /// The repository reference, unless it is local, Docker, or GitHub's `$/` self syntax.
    pub fn repo(&self) -> Option<&RepositoryUses<'a>> {
        match &self.uses {
            Uses::Repository(r) if r.owner != "$" => Some(r),
            _ => None,
        }
    }

    /// A finding's location at this `uses:` value of `file`.
    pub fn location(&self, file: &Arc<SourceFile>, label: impl Into<String>) -> Location {
        Location::file(file, self.node.span(), self.route.clone(), label)
    }
}

/// A job or step switched off with `if: false` (or `${{ false }}`): it never runs.
pub(crate) fn is_disabled(node: Node<'_>) -> bool {
    node.get("if").is_some_and(|c| {
        let c = c.as_str().unwrap_or_default().trim();
        let c = c
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(c);
        c.trim() == "false" && !c.is_empty()
    })
}

/// The steps that can run (not `if: false`).
pub(crate) fn live_steps<'s, 'a>(steps: &'s [Step<'a>]) -> impl Iterator<Item = &'s Step<'a>> {
    steps.iter().filter(|s| !is_disabled(s.node))
}

fn step_sites<'a>(steps: &[Step<'a>], out: &mut Vec<UsesSite<'a, 'a>>) {
    for step in live_steps(steps) {
        if let (Some(node), Some(uses)) = (step.uses, step.uses_ref()) {
            out.push(UsesSite {
                node,
                route: step.route.key("uses"),
                uses,
                _steps: PhantomData,
            });
        }
    }
}

/// Every `uses:` of a workflow that can run: reusable-workflow jobs and steps, in file order
/// per job; jobs and steps with `if: false` are left out.
pub(crate) fn workflow_sites<'a>(wf: &Workflow<'a>) -> Vec<UsesSite<'a, 'a>> {
    let mut out = Vec::new();
    for job in wf.jobs.iter().filter(|j| !is_disabled(j.node)) {
        if let Some((node, Some(uses))) = job.reusable_uses() {
            out.push(UsesSite {
                node,
                route: job.route.key("uses"),
                uses,
                _steps: PhantomData,
            });
        }
        step_sites(job.steps(), &mut out);
    }
    out
}

/// Every `uses:` of a composite action's steps.
pub(crate) fn action_sites<'a>(action: &Action<'a>) -> Vec<UsesSite<'a, 'a>> {
    let mut out = Vec::new();
    step_sites(action.steps(), &mut out);
    out
}
