//! `permissions:` blocks: their shape, and what they grant.

use crate::diagnostic::Checker;
use crate::models::is_expression;
use crate::route::Route;
use crate::yaml::Node;

/// Every scope the `GITHUB_TOKEN` knows.
pub const SCOPES: &[&str] = &[
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
    "artifact-metadata",
];

pub(crate) fn check_permissions(ck: &mut Checker<'_>, node: Node<'_>, route: &Route) {
    if let Some(s) = node.as_str() {
        if !matches!(s, "read-all" | "write-all") && !is_expression(node) && !node.is_null() {
            ck.error(
                node.span(),
                format!("`{route}` must be `read-all`, `write-all` or a mapping of scopes"),
                "write e.g. `permissions: {contents: read}`",
            );
        }
        return;
    }
    if !node.is_mapping() {
        ck.error(
            node.span(),
            format!("`{route}` must be a mapping of scopes"),
            "write e.g. `permissions: {contents: read}`",
        );
        return;
    }
    for (scope, level) in node.entries() {
        let name = scope.as_str().unwrap_or_default();
        if !SCOPES.contains(&name) {
            ck.warning(
                scope.span(),
                format!("unknown permission scope `{name}`"),
                format!("known scopes: {}", SCOPES.join(", ")),
            );
        }
        if !matches!(level.as_str(), Some("read" | "write" | "none")) {
            ck.error(
                level.span(),
                format!("`{route}.{name}` must be `read`, `write` or `none`"),
                "GitHub rejects any other level",
            );
        }
    }
}

/// The scopes a `permissions:` mapping grants write access to, with their nodes.
pub fn write_scopes<'a>(node: Node<'a>) -> Vec<(&'a str, Node<'a>)> {
    node.entries()
        .filter(|(_, level)| level.as_str() == Some("write"))
        .filter_map(|(scope, _)| Some((scope.as_str()?, scope)))
        .collect()
}
