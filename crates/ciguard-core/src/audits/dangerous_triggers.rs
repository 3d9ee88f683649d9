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
    /// None automatic. Use `pull_request` for anything that builds or tests the contribution; a
    /// `pull_request_target` job must never touch its code.
    ///
    /// When the workflow only comments on or labels the pull request (its steps are known
    /// comment or label actions, `gh pr comment`, `gh issue edit --add-label` and the like,
    /// and downloads of the triggering run's artifacts), the finding says so: that work needs
    /// no privileged workflow at all. A `pull_request` workflow (no secrets, a read-only token)
    /// writes the comment as a small JSON message in the artifact `ciguard-relay`, and the
    /// ciguard App's comment relay posts it, escaped, from the `workflow_run` event, with
    /// labels from an allow-list only (`docs/serve.md`, "Comment relay"; a complete example is
    /// in `docs/examples/comment-relay/`). Before, a `workflow_run` workflow with write access:
    ///
    /// ```text
    /// on:
    ///   workflow_run:
    ///     workflows: [Coverage]
    ///     types: [completed]
    /// permissions:
    ///   pull-requests: write
    /// jobs:
    ///   comment:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/download-artifact@fa0a91b85d4f404e444e00e005971372dc801d16 # v4.1.8
    ///         with:
    ///           run-id: ${{ github.event.workflow_run.id }}
    ///           github-token: ${{ github.token }}
    ///       - uses: marocchino/sticky-pull-request-comment@67d0dec7b07ed060a405f9b2a64b8ab319fdd7db # v2.9.2
    ///         with:
    ///           path: coverage.md
    /// ```
    ///
    /// After, the `Coverage` workflow itself leaves the message (and nothing runs with write
    /// access):
    ///
    /// ```text
    /// on: pull_request
    /// permissions:
    ///   contents: read
    /// jobs:
    ///   coverage:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ///         with:
    ///           persist-credentials: false
    ///       - run: make coverage > coverage.md
    ///       - env:
    ///           PR: ${{ github.event.pull_request.number }}
    ///           SHA: ${{ github.event.pull_request.head.sha }}
    ///         run: |
    ///           jq -n --argjson pr "$PR" --arg sha "$SHA" --rawfile body coverage.md \
    ///             '{version: 1, pr: $pr, head_sha: $sha, body: $body, labels: []}' > ciguard-relay.json
    ///       - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
    ///         with:
    ///           name: ciguard-relay
    ///           path: ciguard-relay.json
    /// ```
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
        let relay_candidate = only_comments_or_labels(wf);
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
            // An `issue_comment` workflow answers a comment: not something a pull request's
            // own run could hand over.
            let relay_hint = if relay_candidate && trigger.event != "issue_comment" {
                "; it only comments or labels, which a `pull_request` workflow can hand to the ciguard App's comment relay"
            } else {
                ""
            };
            let mut finding = Finding::new(
                &Self::META,
                format!("`{}` {why}{relay_hint}", trigger.event),
                location,
            );
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

/// Actions that only comment on or label a pull request.
const COMMENT_OR_LABEL_ACTIONS: &[&str] = &[
    "actions/labeler",
    "actions-ecosystem/action-add-labels",
    "actions-ecosystem/action-remove-labels",
    "andymckay/labeler",
    "christianvuerings/add-labels",
    "marocchino/sticky-pull-request-comment",
    "mshick/add-pr-comment",
    "peter-evans/create-or-update-comment",
    "peter-evans/find-comment",
    "thollander/actions-comment-pull-request",
];

/// `gh` commands that only comment or label.
fn is_comment_or_label_command(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        ["gh", "pr" | "issue", "comment", ..] => true,
        ["gh", "pr" | "issue", "edit", rest @ ..] => rest.iter().all(|w| {
            !w.starts_with('-')
                || w.starts_with("--add-label")
                || w.starts_with("--remove-label")
                || w.starts_with("--repo")
                || w.starts_with("-R")
        }),
        _ => false,
    }
}

/// Whether every step of every job only comments on or labels the pull request, or downloads
/// the artifacts that say what to post, with at least one comment or label: the work the
/// comment relay does without a privileged workflow.
fn only_comments_or_labels(wf: &Workflow<'_>) -> bool {
    if wf.jobs.is_empty() || wf.jobs.iter().any(|j| j.reusable_uses().is_some()) {
        return false;
    }
    let mut posts = false;
    for (_, step) in wf.steps() {
        if let Some(action) = step.action_name() {
            if COMMENT_OR_LABEL_ACTIONS.contains(&action.as_str()) {
                posts = true;
            } else if !action.ends_with("download-artifact") {
                return false;
            }
            continue;
        }
        let Some(script) = step.run_str() else {
            return false;
        };
        let joined = script.replace("\\\n", " ");
        let mut lines = joined
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .peekable();
        if lines.peek().is_none() || !lines.all(is_comment_or_label_command) {
            return false;
        }
        posts = true;
    }
    posts
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

#[cfg(test)]
mod tests {
    use super::is_comment_or_label_command;

    #[test]
    fn only_comment_and_label_commands_count() {
        for yes in [
            "gh pr comment 1 --body hi",
            "gh issue comment \"$PR\" -b x",
            "gh pr edit 1 --add-label a --remove-label b",
            "gh issue edit 1 --repo o/r --add-label a",
        ] {
            assert!(is_comment_or_label_command(yes), "{yes}");
        }
        for no in [
            "gh pr edit 1 --title x",
            "gh pr edit 1 -t x --add-label a",
            "gh pr merge 1",
            "gh pr checkout 1",
            "make",
            "gh api repos/o/r/issues/1/comments",
        ] {
            assert!(!is_comment_or_label_command(no), "{no}");
        }
    }
}
