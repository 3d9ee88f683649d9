use crate::audit::{AnyDoc, Audit, AuditContext, InvalidOption};
use crate::declare_audit;
use crate::finding::{Finding, Location};
use crate::models::{RepositoryUses, Uses};
use crate::refs::UsesSite;
use crate::route::Route;
use crate::source::SourceFile;
use crate::yaml::{Node, Style};

declare_audit! {
    /// ## What it does
    ///
    /// Reports `uses:` of actions and reusable workflows that are not pinned to a full commit SHA:
    /// tags (`@v4`), branches (`@main`), short SHAs and missing refs. Local actions (`./path`)
    /// are fine; `docker://` images are the concern of `unpinned-images`.
    ///
    /// ## Why is this bad?
    ///
    /// Tags and branches move. Whoever controls the action's repository, or compromises it, can
    /// point `v4` at new code that then runs in your workflow with your secrets, as happened to
    /// `tj-actions/changed-files` in 2025. A full 40-character SHA names one immutable commit;
    /// GitHub's "require actions to be pinned to a full-length commit SHA" policy fails runs
    /// that do not use one.
    ///
    /// ## Options
    ///
    /// `policies` maps patterns to a policy: `hash-pin` (a full SHA, the default for `*`),
    /// `ref-pin` (any ref, but one must be given) or `any`. Patterns are `owner/*`,
    /// `owner/repo`, `owner/repo/path` or `*`; the most specific match wins.
    ///
    /// ```toml
    /// [audits.unpinned-uses]
    /// policies = { "my-org/*" = "ref-pin", "*" = "hash-pin" }
    /// ```
    ///
    /// ## Actions lockfile
    ///
    /// A step's `uses:` that GitHub's actions lockfile (`.github/workflows/actions.lock`,
    /// written by `gh actions-lock` or `ciguard pin --lockfile`) lists for that workflow, with
    /// the exact `uses` string and a locked commit, runs that commit: it is not reported. Refs
    /// the lockfile does not list, workflows it does not list, composite actions and
    /// reusable-workflow calls (which the lockfile does not lock) are reported as before;
    /// zizmor 1.32 silences every finding of a listed workflow instead. A lockfile that does not
    /// parse is reported as an error and ignored.
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
    ///       - uses: actions/checkout@v4
    ///         with:
    ///           persist-credentials: false
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
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ///         with:
    ///           persist-credentials: false
    /// ```
    ///
    /// ## Fix
    ///
    /// `ciguard pin` resolves each ref to its commit and rewrites it as `@<sha> # <tag>`.
    pub struct UnpinnedUses {
        id: "unpinned-uses",
        summary: "actions and reusable workflows not pinned to a commit SHA",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Policy {
    HashPin,
    RefPin,
    Any,
}

impl Policy {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "hash-pin" => Some(Policy::HashPin),
            "ref-pin" => Some(Policy::RefPin),
            "any" => Some(Policy::Any),
            _ => None,
        }
    }
}

fn policies(options: &toml::Table) -> Vec<(String, Policy)> {
    options
        .get("policies")
        .and_then(|p| p.as_table())
        .map(|t| {
            t.iter()
                .filter_map(|(k, v)| Some((k.to_ascii_lowercase(), Policy::parse(v.as_str()?)?)))
                .collect()
        })
        .unwrap_or_default()
}

/// The policy of the most specific pattern matching `uses`; `hash-pin` when none does.
fn policy_for(policies: &[(String, Policy)], uses: &RepositoryUses<'_>) -> Policy {
    let name = uses.name().to_ascii_lowercase();
    let owner = uses.owner.to_ascii_lowercase();
    policies
        .iter()
        .filter(|(pattern, _)| {
            pattern == "*"
                || *pattern == name
                || *pattern == uses.slug().to_ascii_lowercase()
                || pattern.strip_suffix("/*").is_some_and(|prefix| {
                    prefix == owner || name.starts_with(&format!("{prefix}/"))
                })
        })
        .max_by_key(|(pattern, _)| if pattern == "*" { 0 } else { pattern.len() })
        .map_or(Policy::HashPin, |(_, p)| *p)
}

impl Audit for UnpinnedUses {
    fn options_schema(&self) -> serde_json::Map<String, serde_json::Value> {
        let policy = serde_json::json!({ "enum": ["hash-pin", "ref-pin", "any"] });
        let policies = serde_json::json!({
            "description": "pattern (`owner/*`, `owner/repo`, `owner/repo/path`, `*`) = policy; the most specific match wins",
            "type": "object",
            "additionalProperties": policy,
        });
        [("policies".to_owned(), policies)].into_iter().collect()
    }

    fn validate_options(&self, options: &toml::Table) -> Result<(), InvalidOption> {
        for (key, value) in options {
            if key != "policies" {
                return Err(InvalidOption::new(format!(
                    "`unpinned-uses` has no option `{key}`; it takes `policies`"
                )));
            }
            let table = value.as_table().ok_or_else(|| {
                InvalidOption::new("`policies` must be a table of pattern = policy")
            })?;
            for (pattern, policy) in table {
                if policy.as_str().and_then(Policy::parse).is_none() {
                    return Err(InvalidOption::new(format!(
                        "policy for `{pattern}` must be \"hash-pin\", \"ref-pin\" or \"any\""
                    )));
                }
            }
        }
        Ok(())
    }

    fn uses(
        &self,
        cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &UsesSite<'_>,
        out: &mut Vec<Finding>,
    ) {
        let Uses::Repository(uses) = &site.uses else {
            return;
        };
        // Only refs the lockfile really lists for this workflow are locked; it locks the
        // actions of workflow steps, not reusable-workflow calls or composite actions' steps.
        let file = doc.file();
        let locked = matches!(doc, AnyDoc::Workflow(_))
            && site.is_step()
            && site.node.as_str().is_some_and(|u| {
                cx.actions_lock
                    .is_some_and(|lock| lock.is_locked(&file.path, u))
            });
        if !locked {
            let policies = policies(cx.options);
            check(file, site.node, site.route.clone(), uses, &policies, out);
        }
    }
}

fn check(
    file: &std::sync::Arc<SourceFile>,
    node: Node<'_>,
    route: Route,
    uses: &RepositoryUses<'_>,
    policies: &[(String, Policy)],
    out: &mut Vec<Finding>,
) {
    let policy = policy_for(policies, uses);
    let problem = match (uses.git_ref, policy) {
        (_, Policy::Any) => return,
        (None, _) => "has no ref at all",
        (Some(_), Policy::RefPin) => return,
        (Some(_), Policy::HashPin) if uses.is_sha_pinned() => return,
        (Some(r), Policy::HashPin) if r.len() >= 7 && r.bytes().all(|b| b.is_ascii_hexdigit()) => {
            "is pinned to a short SHA, which can collide with a fork's commit"
        }
        (Some(r), Policy::HashPin) if r.contains("${{") => "is chosen by an expression",
        (Some(_), Policy::HashPin) => "is pinned to a tag or branch, which can be moved",
    };
    let name = uses.name();
    let message = match uses.git_ref {
        Some(r) => format!("`{name}@{r}` {problem}"),
        None => format!("`{name}` {problem}"),
    };
    out.push(Finding::new(
        &UnpinnedUses::META,
        message,
        Location::file(
            file,
            value_text(file, node),
            route,
            "not pinned to a commit SHA",
        ),
    ));
}

/// Where the reference itself is written: for a block scalar (`uses: |` or `>`), from its
/// first line of text rather than the indicator, since that line is the one to change.
fn value_text(file: &SourceFile, node: Node<'_>) -> crate::source::Span {
    let span = node.span();
    if !matches!(node.style(), Some(Style::Literal | Style::Folded)) {
        return span;
    }
    let written = file.slice(span);
    let Some(newline) = written.find('\n') else {
        return span;
    };
    let body = &written[newline..];
    let skipped = body.len() - body.trim_start().len();
    let start = span.start + newline + skipped;
    if start >= span.end {
        return span;
    }
    crate::source::Span::new(start, span.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(s: &str) -> RepositoryUses<'_> {
        match Uses::parse(s) {
            Some(Uses::Repository(r)) => r,
            _ => panic!("{s}"),
        }
    }

    #[test]
    fn the_most_specific_pattern_wins() {
        let p = vec![
            ("*".to_owned(), Policy::Any),
            ("actions/*".to_owned(), Policy::RefPin),
            ("actions/checkout".to_owned(), Policy::HashPin),
        ];
        assert_eq!(
            policy_for(&p, &uses("actions/checkout@v4")),
            Policy::HashPin
        );
        assert_eq!(policy_for(&p, &uses("actions/setup-go@v5")), Policy::RefPin);
        assert_eq!(policy_for(&p, &uses("other/thing@v1")), Policy::Any);
        assert_eq!(policy_for(&[], &uses("other/thing@v1")), Policy::HashPin);
    }

    const LOCKED_WORKFLOW: &str = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v5.0.1\n      - uses: actions/setup-node@v4\n      - uses: actions/cache@v4\n  call:\n    uses: org/reusable/.github/workflows/build.yml@v2\n";

    const LOCKFILE: &str = "version: 'v0.0.2'\nworkflows:\n    '.github/workflows/ci.yml':\n        - 'actions/checkout@v5.0.1'\n        - 'actions/setup-node@v4'\n        - 'org/reusable/.github/workflows/build.yml@v2'\ndependencies:\n    'actions/checkout@v5.0.1':\n        ref: 'v5.0.1'\n        commit: 'sha1-93cb6efe18208431cddfb8368fd83d5badbf9bfd'\n    'actions/setup-node@v4':\n        ref: 'v4'\n    'org/reusable/.github/workflows/build.yml@v2':\n        ref: 'v2'\n        commit: 'sha1-0123456789012345678901234567890123456789'\n";

    fn lines(path: &str, lock: Option<&crate::actions_lock::ActionsLock>) -> Vec<usize> {
        let file = std::sync::Arc::new(SourceFile::new(
            path,
            crate::source::FileKind::Workflow,
            LOCKED_WORKFLOW.to_owned(),
        ));
        let facts = crate::facts::Facts::default();
        let report = crate::engine::audit_file(
            &file,
            &crate::yaml::Limits::default(),
            &[&UnpinnedUses],
            &|_| AuditContext {
                options: AuditContext::empty().options,
                facts: &facts,
                actions_lock: lock,
            },
        );
        report
            .findings
            .iter()
            .map(|f| file.line_col(f.primary.span().unwrap().start).line)
            .collect()
    }

    #[test]
    fn only_refs_the_lockfile_really_lists_are_locked() {
        let lock = crate::actions_lock::ActionsLock::parse(LOCKFILE).unwrap();
        assert_eq!(
            lines("repo/.github/workflows/ci.yml", None),
            vec![6, 7, 8, 10]
        );
        // checkout is listed with a commit; setup-node is listed without one; cache is not
        // listed; the reusable call is listed but the lockfile does not lock calls.
        assert_eq!(
            lines("repo/.github/workflows/ci.yml", Some(&lock)),
            vec![7, 8, 10]
        );
        // Another workflow of the repository is not listed: nothing is locked there.
        assert_eq!(
            lines("repo/.github/workflows/other.yml", Some(&lock)),
            vec![6, 7, 8, 10]
        );
    }

    #[test]
    fn a_block_scalar_reference_is_reported_on_its_text() {
        let text = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: |\n          actions/checkout@v4\n      - uses: >-\n\n          actions/cache@v4\n      - uses: actions/setup-go@v5\n";
        let file = std::sync::Arc::new(SourceFile::new(
            "w.yml",
            crate::source::FileKind::Workflow,
            text.to_owned(),
        ));
        let report = crate::engine::audit_file(
            &file,
            &crate::yaml::Limits::default(),
            &[&UnpinnedUses],
            &|_| AuditContext::empty(),
        );
        let at: Vec<_> = report
            .findings
            .iter()
            .map(|f| file.line_col(f.primary.span().unwrap().start).line)
            .collect();
        assert_eq!(at, vec![7, 10, 11]);
    }
}
