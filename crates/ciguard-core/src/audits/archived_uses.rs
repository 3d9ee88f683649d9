use std::sync::LazyLock;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, UsesSite};
use crate::declare_audit;
use crate::facts::Facts;
use crate::finding::{Finding, Location};
use crate::models::PreCommit;

declare_audit! {
    /// ## What it does
    ///
    /// Reports actions, reusable workflows and pre-commit hook repositories whose repository
    /// is archived: from a built-in list of archived repositories (`actions/create-release`,
    /// `actions/upload-release-asset`, `actions-rs/*`, `pre-commit/mirrors-prettier`, ...),
    /// and, when ciguard runs online, from what GitHub says about each action repository used.
    ///
    /// ## Why is this bad?
    ///
    /// An archived repository gets no fixes: its vulnerabilities stay, its Node.js runtime
    /// goes out of support, and nobody answers reports. Its owner may also abandon the account
    /// name, which someone else can then register to serve code under the same `uses:`.
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
    ///       - uses: actions-rs/toolchain@16499b5e05bf2e26879000db0c1d13f7e13fa3af # v1.0.7
    ///         with:
    ///           toolchain: stable
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
    ///       - run: rustup toolchain install stable --profile minimal
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: move to the maintained successor (`gh release`, `rustup`,
    /// `gradle/actions/setup-gradle`, ...) or to a `run:` step.
    pub struct ArchivedUses {
        id: "archived-uses",
        summary: "actions and reusable workflows from archived repositories",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action, PreCommit],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

/// Archived action repositories, lowercase `owner/repo`, one a line: facts gathered from
/// GitHub (the same list zizmor ships).
const ARCHIVED: &str = include_str!("data/archived-repos.txt");

fn is_listed(slug: &str) -> bool {
    static LIST: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let mut v: Vec<&str> = ARCHIVED.lines().collect();
        v.sort_unstable();
        v
    });
    LIST.binary_search(&slug).is_ok()
}

impl Audit for ArchivedUses {
    fn uses(
        &self,
        cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &UsesSite<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), cx.facts, site, out);
    }

    /// Hook repositories on github.com, from the built-in list (online facts are gathered for
    /// `uses:` only).
    fn pre_commit(&self, _cx: &AuditContext<'_>, config: &PreCommit<'_>, out: &mut Vec<Finding>) {
        for hook in &config.repos {
            let Some(slug) = hook.github_slug().filter(|s| is_listed(s)) else {
                continue;
            };
            out.push(Finding::new(
                &ArchivedUses::META,
                format!("`{slug}` is archived and gets no fixes"),
                Location::file(
                    config.file,
                    hook.repo.span(),
                    hook.route.key("repo"),
                    "repository is archived",
                ),
            ));
        }
    }
}

fn check(file: &File, facts: &Facts, site: &UsesSite<'_>, out: &mut Vec<Finding>) {
    let Some(repo) = site.repo() else { return };
    let slug = repo.slug().to_ascii_lowercase();
    let known = is_listed(&slug);
    if known || facts.repo(&slug).is_some_and(|r| r.archived) {
        out.push(Finding::new(
            &ArchivedUses::META,
            format!("`{slug}` is archived and gets no fixes"),
            site.location(file, "repository is archived"),
        ));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_sorted_lowercase_and_searchable() {
        let lines: Vec<&str> = super::ARCHIVED.lines().collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
        assert!(
            lines
                .iter()
                .all(|s| *s == s.to_ascii_lowercase() && s.contains('/'))
        );
        assert!(super::is_listed("actions/create-release"));
    }
}
