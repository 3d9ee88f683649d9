//! Who controls the value of a context path.
//!
//! Outsiders (anyone who can open a pull request, an issue or a comment, or push a branch to a
//! fork) control titles, bodies, branch names, commit messages and author names and emails.
//! Numeric ids, SHAs, URLs built by GitHub, usernames (restricted to letters, digits and `-`),
//! secrets and runner facts are not injectable. Inputs come from maintainers (`workflow_dispatch`)
//! or from the calling workflow (`workflow_call`). Step outputs, job outputs and environment
//! variables set at run time can carry anything: they are unknown.

use super::{ContextPath, Seg};

/// How far a context's value can be trusted, from worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// An outsider chooses the value.
    Attacker,
    /// A workflow input: chosen by whoever dispatches or calls the workflow.
    Input,
    /// Computed at run time from something the workflow does not show.
    Unknown,
    /// Fixed by GitHub or the repository's administrators, or not injectable.
    Safe,
}

/// Paths an outsider controls; `*` matches one segment, a trailing `**` any rest.
const ATTACKER: &[&str] = &[
    "github.head_ref",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.name",
    "github.event.pull_request.head.repo.full_name",
    "github.event.pull_request.head.repo.description",
    "github.event.pull_request.head.repo.homepage",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.pull_request.head.repo.topics",
    "github.event.pull_request.head.repo.owner.name",
    "github.event.pull_request.head.repo.owner.email",
    "github.event.pull_request.milestone.title",
    "github.event.pull_request.milestone.description",
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.issue.milestone.title",
    "github.event.comment.body",
    "github.event.comment.path",
    "github.event.comment.diff_hunk",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.discussion.category.name",
    "github.event.answer.body",
    "github.event.pages.*.page_name",
    "github.event.pages.*.title",
    "github.event.pages.*.summary",
    "github.event.commits.*.message",
    "github.event.commits.*.author.name",
    "github.event.commits.*.author.email",
    "github.event.commits.*.author.username",
    "github.event.commits.*.committer.name",
    "github.event.commits.*.committer.email",
    "github.event.head_commit.message",
    "github.event.head_commit.author.name",
    "github.event.head_commit.author.email",
    "github.event.head_commit.committer.name",
    "github.event.head_commit.committer.email",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.display_title",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author.name",
    "github.event.workflow_run.head_commit.author.email",
    "github.event.workflow_run.head_commit.committer.name",
    "github.event.workflow_run.head_commit.committer.email",
    "github.event.workflow_run.head_repository.description",
    "github.event.workflow_run.head_repository.name",
    "github.event.workflow_run.pull_requests.*.head.ref",
    "github.event.check_suite.head_branch",
    "github.event.check_suite.head_commit.message",
    "github.event.check_run.check_suite.head_branch",
    "github.event.merge_group.head_commit.message",
    "github.event.merge_group.head_commit.author.name",
    "github.event.merge_group.head_commit.author.email",
];

/// Paths that cannot carry injected text (whatever the event), checked before the suffix rules.
const SAFE: &[&str] = &[
    "github.sha",
    "github.run_id",
    "github.run_number",
    "github.run_attempt",
    "github.repository",
    "github.repository_id",
    "github.repository_owner",
    "github.repository_owner_id",
    "github.repositoryurl",
    "github.workspace",
    "github.action_path",
    "github.action",
    "github.action_ref",
    "github.action_repository",
    "github.action_status",
    "github.server_url",
    "github.api_url",
    "github.graphql_url",
    "github.event_name",
    "github.event_path",
    "github.env",
    "github.path",
    "github.output",
    "github.state",
    "github.step_summary",
    "github.job",
    "github.workflow",
    "github.workflow_ref",
    "github.workflow_sha",
    "github.retention_days",
    "github.token",
    "github.actor",
    "github.actor_id",
    "github.triggering_actor",
    "github.secret_source",
    "github.ref_type",
    "github.ref_protected",
    "github.base_ref",
    "github.event.repository.**",
    "github.event.sender.**",
    "github.event.organization.**",
    "github.event.installation.**",
    "github.event.enterprise.**",
    "github.event.pull_request.head.sha",
    "github.event.pull_request.base.**",
    "github.event.pull_request.user.login",
    "github.event.issue.user.login",
    "github.event.comment.user.login",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.conclusion",
    "github.event.workflow_run.event",
    "github.event.workflow_run.name",
    "github.event.workflow_run.path",
    "github.event.workflow_run.status",
    "github.event.workflow_run.actor.login",
    "github.event.workflow_run.triggering_actor.login",
    "github.event.before",
    "github.event.after",
    "github.event.action",
    "github.event.forced",
    "github.event.created",
    "github.event.deleted",
];

/// Last segments that name values GitHub computes: ids, counts, SHAs, URLs, dates, states.
const SAFE_LEAVES: &[&str] = &[
    "number",
    "id",
    "node_id",
    "sha",
    "html_url",
    "url",
    "created_at",
    "updated_at",
    "closed_at",
    "merged_at",
    "state",
    "draft",
    "merged",
    "locked",
    "additions",
    "deletions",
    "changed_files",
    "commits",
    "comments",
    "login",
    "type",
    "site_admin",
    "author_association",
    "private",
    "fork",
    "timestamp",
    "run_number",
    "run_attempt",
    "conclusion",
    "status",
    "size",
    "mergeable",
];

/// Last segments whose values are numbers, booleans or commit SHAs.
const INERT_LEAVES: &[&str] = &[
    "number",
    "id",
    "sha",
    "run_id",
    "run_number",
    "run_attempt",
    "retention_days",
    "additions",
    "deletions",
    "changed_files",
    "commits",
    "comments",
    "size",
    "draft",
    "merged",
    "locked",
    "site_admin",
    "private",
    "fork",
    "mergeable",
    "job-index",
    "job-total",
    "max-parallel",
    "fail-fast",
];

/// Whether a [`Trust::Safe`] context's value is a number, a boolean or a commit SHA: nothing
/// a shell, JavaScript or Python reads as code, so expanding it inline is not even hardening
/// advice. The other safe values (names, fixed words such as `needs.x.result`, secrets,
/// static matrix values) are text that merely cannot be chosen by an outsider. Typed inputs
/// (boolean, number, choice) count as inert: most are booleans and numbers.
pub fn inert(path: &ContextPath) -> bool {
    let typed_input = path.root() == Some("inputs")
        || (path.root() == Some("github")
            && path.name(1) == Some("event")
            && path.name(2) == Some("inputs"));
    if typed_input {
        return true;
    }
    leaf(path).is_some_and(|leaf| {
        INERT_LEAVES.contains(&leaf)
            || leaf.ends_with("_id")
            || leaf.ends_with("_sha")
            || leaf.ends_with("_count")
            || leaf.ends_with("_number")
    })
}

/// Last segments that name free text a user writes.
const ATTACKER_LEAVES: &[&str] = &[
    "body",
    "title",
    "message",
    "email",
    "description",
    "head_ref",
    "head_branch",
    "page_name",
    "display_title",
    "label",
];

fn matches(pattern: &str, path: &ContextPath) -> bool {
    let mut pats = pattern.split('.');
    let mut segs = path.segs.iter();
    loop {
        match (pats.next(), segs.next()) {
            (Some("**"), _) => return true,
            (None, None) => return true,
            (Some("*"), Some(Seg::Any | Seg::Name(_))) => {}
            (Some(p), Some(Seg::Name(n))) if p == n => {}
            _ => return false,
        }
    }
}

fn leaf(path: &ContextPath) -> Option<&str> {
    match path.segs.last() {
        Some(Seg::Name(n)) => Some(n),
        _ => None,
    }
}

/// Classifies a context path by what GitHub documents about it. `env`, `matrix` and `inputs`
/// depend on the workflow: this gives their default ([`Trust::Unknown`], [`Trust::Input`]); the
/// caller refines them with what the workflow defines.
pub fn classify(path: &ContextPath) -> Trust {
    let Some(root) = path.root() else {
        return Trust::Unknown;
    };
    match root {
        "secrets" | "runner" | "job" | "strategy" | "vars" => return Trust::Safe,
        "inputs" => return Trust::Input,
        "env" | "matrix" => return Trust::Unknown,
        "steps" | "needs" => {
            // `steps.x.outcome`, `needs.x.result`: fixed words.
            return match path.name(2) {
                Some("outcome" | "conclusion" | "result") => Trust::Safe,
                _ => Trust::Unknown,
            };
        }
        "github" => {}
        _ => return Trust::Unknown,
    }
    if path.name(1) == Some("event") && path.name(2) == Some("inputs") {
        return Trust::Input;
    }
    if ATTACKER.iter().any(|p| matches(p, path)) {
        return Trust::Attacker;
    }
    if SAFE.iter().any(|p| matches(p, path)) {
        return Trust::Safe;
    }
    if path.segs.len() == 1 {
        // The whole `github` context serialised: it holds the event.
        return Trust::Attacker;
    }
    if path.name(1) != Some("event") {
        // `github.ref`, `github.ref_name`: branch and tag names, chosen by people with push
        // access (on pull requests they are `refs/pull/N/merge`).
        return Trust::Unknown;
    }
    let Some(leaf) = leaf(path) else {
        // `github.event.commits.*` and friends: objects that contain attacker text.
        return if path.segs.len() <= 2 {
            Trust::Attacker
        } else {
            Trust::Unknown
        };
    };
    if leaf.ends_with("_sha")
        || leaf.ends_with("_id")
        || leaf.ends_with("_url")
        || leaf.ends_with("_at")
        || leaf.ends_with("_count")
        || SAFE_LEAVES.contains(&leaf)
    {
        return Trust::Safe;
    }
    if ATTACKER_LEAVES.contains(&leaf) {
        return Trust::Attacker;
    }
    // A whole event object (`github.event.pull_request`) contains attacker text.
    if matches!(
        leaf,
        "event"
            | "pull_request"
            | "issue"
            | "comment"
            | "review"
            | "head_commit"
            | "commits"
            | "discussion"
            | "workflow_run"
            | "head"
            | "pages"
    ) {
        return Trust::Attacker;
    }
    if leaf == "name" && path.segs.iter().any(|s| matches!(s, Seg::Name(n) if n == "author" || n == "committer" || n == "head_commit")) {
        return Trust::Attacker;
    }
    Trust::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn trust(src: &str) -> Trust {
        let e = parse(src).unwrap();
        classify(&e.context_path().unwrap())
    }

    #[test]
    fn attacker_controlled_paths() {
        for p in [
            "github.event.pull_request.title",
            "github.event.pull_request.body",
            "github.event.pull_request.head.ref",
            "github.head_ref",
            "github.event.issue.title",
            "github.event.comment.body",
            "github.event.review.body",
            "github.event.review_comment.body",
            "github.event.discussion.body",
            "github.event.pages[0].page_name",
            "github.event.commits.*.message",
            "github.event.commits[1].author.email",
            "github.event.head_commit.message",
            "github.event.head_commit.author.name",
            "github.event.workflow_run.head_branch",
            "github.event.workflow_run.pull_requests[0].head.ref",
            "github.event['pull_request']['title']",
            "GITHUB.EVENT.PULL_REQUEST.TITLE",
            "github.event.pull_request",
            "github",
        ] {
            assert_eq!(trust(p), Trust::Attacker, "{p}");
        }
    }

    #[test]
    fn safe_paths() {
        for p in [
            "github.sha",
            "github.run_id",
            "github.repository",
            "github.event.pull_request.number",
            "github.event.pull_request.head.sha",
            "github.event.issue.id",
            "github.event.pull_request.base.ref",
            "github.actor",
            "secrets.GITHUB_TOKEN",
            "vars.X",
            "runner.temp",
            "job.status",
            "strategy.job-index",
            "steps.build.outcome",
            "needs.test.result",
            "github.event.pull_request.html_url",
            "github.event.repository.name",
        ] {
            assert_eq!(trust(p), Trust::Safe, "{p}");
        }
    }

    #[test]
    fn numbers_booleans_and_shas_are_inert_names_and_words_are_not() {
        let inert = |src: &str| super::inert(&parse(src).unwrap().context_path().unwrap());
        for p in [
            "github.sha",
            "github.run_id",
            "github.event.pull_request.number",
            "github.event.pull_request.head.sha",
            "github.event.issue.id",
            "strategy.job-index",
            "inputs.dry-run",
            "github.event.pull_request.draft",
        ] {
            assert!(inert(p), "{p}");
        }
        for p in [
            "github.repository",
            "github.event_name",
            "github.triggering_actor",
            "needs.test.result",
            "secrets.TOKEN",
            "matrix.os",
        ] {
            assert!(!inert(p), "{p}");
        }
    }

    #[test]
    fn inputs_and_unknowns() {
        assert_eq!(trust("inputs.version"), Trust::Input);
        assert_eq!(trust("github.event.inputs.version"), Trust::Input);
        assert_eq!(trust("steps.x.outputs.y"), Trust::Unknown);
        assert_eq!(trust("needs.x.outputs.y"), Trust::Unknown);
        assert_eq!(trust("env.FOO"), Trust::Unknown);
        assert_eq!(trust("matrix.os"), Trust::Unknown);
        assert_eq!(trust("github.ref_name"), Trust::Unknown);
        assert_eq!(trust("github.event.client_payload.x"), Trust::Unknown);
    }
}
