//! Where a document's `uses:` are: built once per workflow or action and shared by the audits
//! that check them.

use std::marker::PhantomData;
use std::sync::Arc;

use crate::finding::Location;

use crate::models::{Action, RepositoryUses, Step, Uses, Workflow};
use crate::route::{Route, Segment};
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

/// A job or step switched off with a condition that is always false (`if: false`,
/// `${{ false }}`, `false && ...`): it never runs.
pub(crate) fn is_disabled(node: Node<'_>) -> bool {
    node.get("if")
        .and_then(|c| c.as_str())
        .is_some_and(crate::expr::constant::is_always_false)
}

/// Whether `route` (from the document root) leads through a job or step that never runs.
pub(crate) fn in_disabled(root: Node<'_>, route: &Route) -> bool {
    in_disabled_with(root, route, &mut is_disabled)
}

/// [`in_disabled`], asking `disabled` about each job or step on the way.
fn in_disabled_with(
    root: Node<'_>,
    route: &Route,
    disabled: &mut impl FnMut(Node<'_>) -> bool,
) -> bool {
    let segments = route.segments();
    let mut node = root;
    for (i, seg) in segments.iter().enumerate() {
        let next = match seg {
            Segment::Key(k) => node.get(k),
            Segment::Index(n) => node.items().nth(*n),
        };
        let Some(next) = next else { return false };
        node = next;
        let is_job = i == 1 && matches!(&segments[0], Segment::Key(k) if k == "jobs");
        let is_step = matches!(seg, Segment::Index(_))
            && i > 0
            && matches!(&segments[i - 1], Segment::Key(k) if k == "steps" || k == "parallel");
        // The condition that switches the job or step off is itself still read.
        let is_own_condition = matches!(&segments[i + 1..], [Segment::Key(k)] if k == "if");
        if (is_job || is_step) && !is_own_condition && disabled(node) {
            return true;
        }
    }
    false
}

fn step_sites<'a>(steps: &[Step<'a>], out: &mut Vec<UsesSite<'a, 'a>>) {
    for step in steps {
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
    for job in &wf.jobs {
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

/// `sites` without the expressions of jobs and steps that never run.
pub(crate) fn live_sites<'a>(
    root: Node<'a>,
    mut sites: Vec<crate::expr::sites::Site<'a>>,
) -> Vec<crate::expr::sites::Site<'a>> {
    // Many sites share a job or step: each condition is evaluated once (keyed by where its node
    // starts, which an alias shares with its anchor, so the answer is the same).
    let mut known: std::collections::HashMap<usize, bool> = std::collections::HashMap::new();
    let mut disabled = |node: Node<'_>| {
        *known
            .entry(node.span().start)
            .or_insert_with(|| is_disabled(node))
    };
    sites.retain(|s| !in_disabled_with(root, &s.route, &mut disabled));
    sites
}
