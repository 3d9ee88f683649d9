use std::sync::LazyLock;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, UsesSite};
use crate::declare_audit;
use crate::finding::Finding;

declare_audit! {
    /// ## What it does
    ///
    /// Reports actions whose `owner/repo` is one typo away from a popular action of another
    /// owner: a missing, doubled, swapped or mistyped character (`actoins/checkout`,
    /// `action/checkout`), a look-alike (`0` for `o`, `rn` for `m`, `l` for `1`, `_` for
    /// `-`), or the popular repository under a near-miss of its owner. A repository of the
    /// popular action's own owner is never reported.
    ///
    /// ## Why is this bad?
    ///
    /// Attackers register near-miss names of popular actions and wait for a typo. The squatted
    /// action behaves like the real one and also steals the job's token and secrets; the typo is
    /// easy to miss in review.
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
    ///       - uses: actoins/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0
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
    ///       - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: check the name against the action's Marketplace page and correct it.
    pub struct TyposquatUses {
        id: "typosquat-uses",
        summary: "actions whose name is a near miss of a popular action",
        severity: High,
        confidence: Low,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

/// Popular actions, lowercase `owner/repo`, one a line.
const POPULAR: &str = include_str!("data/popular-actions.txt");

fn popular() -> impl Iterator<Item = &'static str> {
    POPULAR.lines().filter(|l| !l.is_empty())
}

/// Characters often typed or read for one another; both sides map to the first.
const LOOKALIKES: &[(&str, &str)] = &[
    ("0", "o"),
    ("1", "l"),
    ("i", "l"),
    ("rn", "m"),
    ("vv", "w"),
    ("_", "-"),
    (".", "-"),
];

fn normalize(s: &str) -> String {
    let mut out = s.to_ascii_lowercase();
    for (from, to) in LOOKALIKES {
        out = out.replace(from, to);
    }
    out
}

/// Optimal string alignment distance, stopping early past 1.
fn within_one_edit(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (
        &ra[..ra.len() - suffix.min(ra.len())],
        &rb[..rb.len() - suffix.min(rb.len())],
    );
    match (ma.len(), mb.len()) {
        (0, 0) | (1, 0) | (0, 1) | (1, 1) => true,
        (2, 2) => ma[0] == mb[1] && ma[1] == mb[0],
        _ => false,
    }
}

/// Each popular action with its owner and its normalized form, worked out once.
static POPULAR_NORMALIZED: LazyLock<Vec<(&'static str, &'static str, String)>> =
    LazyLock::new(|| {
        popular()
            .map(|p| (p, p.split('/').next().unwrap_or_default(), normalize(p)))
            .collect()
    });

/// The popular action `slug` imitates, if any.
fn imitated(slug: &str, owner: &str) -> Option<&'static str> {
    if slug.len() < 8 || POPULAR_NORMALIZED.iter().any(|(p, _, _)| *p == slug) {
        return None;
    }
    let normalized = normalize(slug);
    POPULAR_NORMALIZED
        .iter()
        .find(|(popular, popular_owner, popular_normalized)| {
            *popular_owner != owner
                && (within_one_edit(slug, popular) || *popular_normalized == normalized)
        })
        .map(|(popular, _, _)| *popular)
}

impl Audit for TyposquatUses {
    fn uses(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &UsesSite<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), site, out);
    }
}

fn check(file: &File, site: &UsesSite<'_>, out: &mut Vec<Finding>) {
    let Some(repo) = site.repo() else { return };
    let slug = repo.slug().to_ascii_lowercase();
    let Some(popular) = imitated(&slug, &repo.owner.to_ascii_lowercase()) else {
        return;
    };
    out.push(Finding::new(
        &TyposquatUses::META,
        format!("`{slug}` looks like a typo of the popular `{popular}`"),
        site.location(file, format!("resembles `{popular}`")),
    ));
}

#[cfg(test)]
mod tests {
    use super::imitated;

    #[test]
    fn near_misses_are_caught_and_real_names_are_not() {
        assert_eq!(
            imitated("actoins/checkout", "actoins"),
            Some("actions/checkout")
        );
        assert_eq!(
            imitated("action/checkout", "action"),
            Some("actions/checkout")
        );
        assert_eq!(
            imitated("docker/setup-buildx-actlon", "docker"),
            None,
            "same owner"
        );
        assert_eq!(
            imitated("dockerr/login-action", "dockerr"),
            Some("docker/login-action")
        );
        assert_eq!(imitated("astral-sh/setup-uv", "astral-sh"), None);
        assert_eq!(
            imitated("swatinern/rust-cache", "swatinern"),
            Some("swatinem/rust-cache")
        );
        assert_eq!(imitated("codecov/codecov-action", "codecov"), None);
    }
}
