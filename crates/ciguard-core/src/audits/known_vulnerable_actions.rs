use std::cmp::Ordering;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::{File, UsesSite};
use crate::audits::online::resolved;
use crate::declare_audit;
use crate::facts::Facts;
use crate::finding::{Applicability, Finding, Severity};
use crate::models::version::{Version, most_specific_tag};

declare_audit! {
    /// ## What it does
    ///
    /// Reports actions used at a version that a GitHub security advisory (the `actions`
    /// ecosystem of the GitHub Advisory Database) lists as vulnerable. The version is the most
    /// specific version tag on the commit the ref resolves to, so `@v4` and a SHA pin are
    /// judged by the release they really run. Needs the network.
    ///
    /// ## Why is this bad?
    ///
    /// A published advisory means the weakness is known to everyone, attackers included:
    /// e.g. `tj-actions/changed-files` before 41 let a crafted file name run commands.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   build:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: tj-actions/changed-files@v40
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   build:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: tj-actions/changed-files@ed68ef82c095e0d48ec87eccea555d944a631a4c # v46.0.5
    /// ```
    ///
    /// ## Fix
    ///
    /// Display only: move to the first patched version the advisory names (`ciguard pin
    /// --update` moves pins within their major version).
    pub struct KnownVulnerableActions {
        id: "known-vulnerable-actions",
        summary: "action versions with a known security advisory",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: true,
        fix: DisplayOnly,
        transitive: Consumer,
    }
}

impl Audit for KnownVulnerableActions {
    fn uses(
        &self,
        cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &UsesSite<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), cx.facts, site, out);
    }
}

fn check(file: &File, facts: &Facts, site: &UsesSite<'_>, out: &mut Vec<Finding>) {
    let Some(r) = resolved(facts, site) else {
        return;
    };
    let Some(advisories) = r.repo.advisories.as_ref().filter(|a| !a.is_empty()) else {
        return;
    };
    let tags = r
        .commit()
        .and_then(|c| r.repo.tags_at(&c))
        .unwrap_or_default();
    let versions = tags
        .iter()
        .copied()
        .filter(|t| version_numbers(t).is_some());
    let version =
        most_specific_tag(versions, None).or_else(|| version_numbers(r.git_ref).map(|_| r.git_ref));
    let Some(version) = version else { return };
    let Some(numbers) = version_numbers(version) else {
        return;
    };
    let name = r.uses.name().to_ascii_lowercase();
    for a in advisories {
        if (a.package != name && a.package != r.slug) || !in_range(&numbers, &a.vulnerable_range) {
            continue;
        }
        let severity = match a.severity.as_str() {
            "low" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            _ => Severity::High,
        };
        let fix = match &a.first_patched {
            Some(p) => format!("upgrade `{}` to `{p}` or later", a.package),
            None => format!("no patched version of `{}`: replace the action", a.package),
        };
        out.push(
            Finding::new(
                &KnownVulnerableActions::META,
                format!(
                    "`{name}` {version} is vulnerable ({}: {})",
                    a.id,
                    a.summary.trim()
                ),
                r.site.location(file, "vulnerable version"),
            )
            .severity(severity)
            .fix(fix, Applicability::DisplayOnly, Vec::new()),
        );
    }
}

/// Whether `version` satisfies GitHub's range syntax: `< 1.2.3`, `>= 1.0.0, < 1.2.3`,
/// `= 1.0.0`, `<= 2`. An unreadable range matches nothing.
fn in_range(version: &[u64], range: &str) -> bool {
    let mut any = false;
    for part in range.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (op, rest) = ["<=", ">=", "<", ">", "="]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|rest| (*op, rest.trim())))
            .unwrap_or(("=", part));
        let Some(bound) = version_numbers(rest) else {
            return false;
        };
        let n = version.len().max(bound.len());
        let get = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
        let ord = (0..n)
            .map(|i| get(version, i).cmp(&get(&bound, i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal);
        let ok = match op {
            "<" => ord.is_lt(),
            "<=" => ord.is_le(),
            ">" => ord.is_gt(),
            ">=" => ord.is_ge(),
            _ => ord.is_eq(),
        };
        if !ok {
            return false;
        }
        any = true;
    }
    any
}

/// The numbers of a version (`v1.2.3-rc1` → `[1, 2, 3]`): advisories compare numbers only.
fn version_numbers(tag: &str) -> Option<Vec<u64>> {
    Version::parse(tag.trim()).map(|v| v.parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(in_range(&[1, 2, 2], "< 1.2.3"));
        assert!(!in_range(&[1, 2, 3], "< 1.2.3"));
        assert!(in_range(&[1, 5], ">= 1.0.0, < 2"));
        assert!(in_range(&[1, 0, 0], "= 1.0.0"));
        assert!(!in_range(&[1], "garbage"));
        assert!(!in_range(&[1], ""));
    }
}
