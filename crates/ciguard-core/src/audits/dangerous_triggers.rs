use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location, Severity};
use crate::models::{Step, Workflow};

declare_audit! {
    /// ## What it does
    ///
    /// Reports workflows triggered by `pull_request_target`, `workflow_run` or `issue_comment`,
    /// in every form (`on: pull_request_target`, a list, or a mapping). A `pull_request_target`
    /// workflow whose only step is `actions/labeler` (the documented way to label pull requests
    /// from forks) is not reported.
    ///
    /// ## Why is this bad?
    ///
    /// These triggers run in the context of the base repository, with its secrets and a token
    /// that can write, even when a fork's pull request (or anyone's comment) started them. If such a workflow then
    /// checks out or runs the pull request's code (a checkout of
    /// `${{ github.event.pull_request.head.sha }}`, `gh pr checkout`, or the artifacts of the
    /// triggering run), anyone who can open a pull request can run code with those privileges:
    /// the "pwn request". The finding is high when that is what the workflow does, and lower
    /// when the workflow only uses the trigger.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: pull_request_target
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ///         with:
    ///           ref: ${{ github.event.pull_request.head.sha }}
    ///           persist-credentials: false
    ///       - run: make test
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: pull_request
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ///         with:
    ///           persist-credentials: false
    ///       - run: make test
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic. Use `pull_request` for anything that builds or tests the contribution; keep
    /// `pull_request_target` for labelling or commenting jobs that never touch its code.
    pub struct DangerousTriggers {
        id: "dangerous-triggers",
        summary: "use of fundamentally insecure workflow triggers",
        severity: Medium,
        confidence: Medium,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

/// Expressions that name the pull request's (or triggering run's) code.
const UNTRUSTED_REFS: &[&str] = &[
    "github.event.pull_request.head.",
    "github.event.pull_request.merge_commit_sha",
    "github.head_ref",
    "github.event.workflow_run.head_",
    "github.event.workflow_run.pull_requests",
    "refs/pull/",
];

impl Audit for DangerousTriggers {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        if only_labels(wf) {
            return;
        }
        for trigger in &wf.triggers {
            let why = match trigger.event {
                "pull_request_target" => {
                    "runs with the base repository's secrets and write token, even for pull requests from forks"
                }
                "workflow_run" => {
                    "runs with the base repository's secrets and write token after a workflow that a fork's pull request can start"
                }
                "issue_comment" => {
                    "runs with the base repository's secrets and write token for a comment anyone can post"
                }
                _ => continue,
            };
            let location = Location::file(
                wf.file,
                trigger.name_node.span(),
                trigger_route(trigger.event),
                "triggered here",
            );
            let mut finding =
                Finding::new(&Self::META, format!("`{}` {why}", trigger.event), location);
            if let Some(shared) = shared_configuration(wf) {
                finding = finding.related(shared);
            }
            let runs_untrusted: Vec<_> = wf
                .steps()
                .filter(|(_, step)| checks_out_untrusted(step))
                .collect();
            if runs_untrusted.is_empty() {
                out.push(finding);
                continue;
            }
            finding = finding
                .severity(Severity::High)
                .confidence(Confidence::High);
            for (_, step) in runs_untrusted {
                finding = finding.related(Location::file(
                    wf.file,
                    step.node.span(),
                    step.route.clone(),
                    "this step checks out or runs the pull request's code",
                ));
            }
            out.push(finding);
        }
    }
}

/// The `on:` key, when the trigger block uses an alias: the trigger's filters may be written
/// (and changed) under another event, which the reader must look at too.
fn shared_configuration(wf: &Workflow<'_>) -> Option<Location> {
    if !wf.on.contains_alias() {
        return None;
    }
    let (key, _) = wf.root.entry("on")?;
    Some(Location::file(
        wf.file,
        key.span(),
        crate::route::Route::root().key("on"),
        "the triggers share configuration through YAML aliases",
    ))
}

/// `pull_request_target` is what `actions/labeler` is documented to need (it labels pull
/// requests from forks); a workflow whose only step is the labeler, and that has no other
/// dangerous trigger, runs nothing from the pull request.
fn only_labels(wf: &Workflow<'_>) -> bool {
    let mut steps = wf.steps();
    let only_step = match (steps.next(), steps.next()) {
        (Some((job, step)), None) => {
            wf.jobs.len() == 1
                && step.action_name().as_deref() == Some("actions/labeler")
                && job.reusable_uses().is_none()
        }
        _ => false,
    };
    only_step
        && wf
            .triggers
            .iter()
            .all(|t| !matches!(t.event, "workflow_run" | "issue_comment"))
}

fn trigger_route(event: &str) -> crate::route::Route {
    crate::route::Route::root().key("on").key(event)
}

fn checks_out_untrusted(step: &Step<'_>) -> bool {
    let names_untrusted = |s: &str| UNTRUSTED_REFS.iter().any(|p| s.contains(p));
    if let Some(action) = step.action_name() {
        if action == "actions/checkout" {
            return ["ref", "repository"]
                .iter()
                .filter_map(|k| step.input(k))
                .any(names_untrusted);
        }
        if action.ends_with("download-artifact") {
            return step
                .input("run-id")
                .or_else(|| step.input("run_id"))
                .is_some_and(|r| r.contains("github.event.workflow_run"));
        }
        return false;
    }
    step.run_str().is_some_and(|script| {
        script.contains("gh pr checkout")
            || script.contains("git fetch origin pull/")
            || (script.contains("git ") && names_untrusted(script))
    })
}
