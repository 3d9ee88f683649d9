use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, UsesSite};
use crate::declare_audit;
use crate::finding::{Applicability, Edit, Finding};

use crate::models::{Step, Uses};
use crate::source::Span;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `uses: ./path` of actions and reusable workflows of the same repository, where
    /// GitHub's self-repository syntax `uses: $/path` (July 2026, runner 2.336.0) says the
    /// same thing exactly.
    ///
    /// ## Why is this bad?
    ///
    /// `./path` is read from the runner's workspace at the time the step runs, so whatever
    /// earlier steps checked out or wrote there is what runs: another ref, a pull request's
    /// head, a file a build script changed. `$/path` resolves to the commit of the running
    /// workflow, needs no checkout, and satisfies policies that require SHA-pinned actions.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ///         with:
    ///           persist-credentials: false
    ///       - uses: ./.github/actions/setup
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: $/.github/actions/setup
    /// ```
    ///
    /// ## Fix
    ///
    /// Unsafe: `--fix=unsafe` rewrites the leading `./` to `$/`. It is not a safe fix: `$/`
    /// needs runner 2.336.0 or later (older self-hosted runners and GitHub Enterprise Server
    /// fail the job), and the step then runs the workflow's commit rather than what an earlier
    /// step checked out, which is the point but changes behaviour. No fix is offered when the
    /// path leaves the repository (`./../x`), is written with escapes, or when an earlier
    /// checkout in the job put a repository into a `path:` or checked out another
    /// `repository:`, where `./` does not mean the repository root.
    pub struct SelfRepository {
        id: "self-repository",
        summary: "same-repository actions used through the workspace instead of `$/`",
        severity: Low,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: Unsafe,
    }
}

impl Audit for SelfRepository {
    fn uses(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &UsesSite<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc, site, out);
    }
}

fn check(doc: AnyDoc<'_, '_>, site: &UsesSite<'_>, out: &mut Vec<Finding>) {
    let file = doc.file();

    let Uses::Local(path) = site.uses else {
        return;
    };
    if !path.starts_with("./") && path != "." {
        return;
    }
    let mut f = Finding::new(
        &SelfRepository::META,
        format!("`{path}` runs whatever is in the workspace; `$/` pins it to this commit"),
        site.location(file, "use `$/...` instead of `./...`"),
    );
    if let Some(edit) = fix_edit(file, site, path, after_relocating_checkout(doc, site)) {
        f = f.fix("rewrite `./` to `$/`", Applicability::Unsafe, vec![edit]);
    }
    out.push(f);
}

/// The edit turning the `.` of `./` into `$`, when `$/` names the same files.
fn fix_edit(file: &File, site: &UsesSite<'_>, path: &str, relocated: bool) -> Option<Edit> {
    if path.split('/').any(|seg| seg == "..") || relocated {
        return None;
    }
    // The source must spell the path as it is (plain or quoted, no escapes), so the offset of
    // its `.` is exact.
    let span = site.node.span();
    let raw = file.slice(span);
    let quote = usize::from(raw.starts_with(['\'', '"']));
    if raw.get(quote..quote + path.len()) != Some(path) || !raw.is_char_boundary(quote) {
        return None;
    }
    let at = span.start + quote;
    Some(if path == "." {
        Edit::replace(Span::new(at, at + 1), "$/")
    } else {
        Edit::replace(Span::new(at, at + 1), "$")
    })
}

/// Whether `site` is the `uses:` of a step that runs after a checkout into a `path:` or of
/// another `repository:`: there `./` is not this repository's root.
fn after_relocating_checkout(doc: AnyDoc<'_, '_>, site: &UsesSite<'_>) -> bool {
    let step_lists: &mut dyn Iterator<Item = &[Step<'_>]> = match doc {
        AnyDoc::Workflow(wf) => &mut wf.jobs.iter().map(|job| job.steps()),
        AnyDoc::Action(action) => &mut std::iter::once(action.steps()),
    };
    // The site's route is its step's route and `uses`.
    let segments = site.route.segments();
    let step_route = &segments[..segments.len().saturating_sub(1)];
    for steps in step_lists {
        if let Some(at) = steps.iter().position(|s| s.route.segments() == step_route) {
            return steps[..at].iter().any(relocates);
        }
    }
    false
}

fn relocates(step: &Step<'_>) -> bool {
    let is_checkout = step
        .action_name()
        .is_some_and(|name| name == "actions/checkout");
    let moved_path = step
        .input_node("path")
        .is_some_and(|p| !matches!(p.as_str(), Some("" | "." | "./")));
    is_checkout && (moved_path || step.input_node("repository").is_some())
}
