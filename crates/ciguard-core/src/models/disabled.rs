//! `if: false`: a job or step whose condition is constant-false never runs. The models leave such
//! jobs and steps out (after checking their shape), so every audit walking them skips them alike;
//! the helpers here answer the same question for what is found by route in the raw document.

use crate::route::{Route, Segment};
use crate::yaml::Node;

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
