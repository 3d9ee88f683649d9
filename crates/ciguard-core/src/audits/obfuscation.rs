use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::in_disabled;
use crate::declare_audit;
use crate::expr::sites::Site;
use crate::expr::{Expr, ExprKind, Member};
use crate::finding::{Finding, Location};
use crate::route::{Route, Segment};
use crate::source::SourceFile;
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports what hides what a workflow does: expressions that are constants (`${{ 'foo' }}`,
    /// `${{ format('{0}', 'a') }}`, `${{ fromJSON('"x"') }}`), constant parts of larger
    /// expressions (`format('{0} {1}', github.actor, format('{0}', 'a'))`, `true || false`;
    /// not `fromJSON('[...]')`, the way to write a list), values picked by a computed index
    /// (`${{ env[matrix.name] }}`), and `uses:` paths with `.`, `..` or empty components
    /// (`owner/repo/a/../b@v1`, `./x/../y`) or a trailing `/` before the `@ref`
    /// (`actions/checkout/@v4`); a leading `./`, leading `..`s and a trailing `/` of a local
    /// path are plain.
    ///
    /// ## Why is this bad?
    ///
    /// Reviewers read workflows to see what they run. A constant written as an expression, an
    /// index computed at run time or a path that walks back up says the same thing less plainly,
    /// and is a way to slip something past a review or a scanner.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   build:
    ///     runs-on: ${{ 'ubuntu-latest' }}
    ///     steps:
    ///       - run: echo hi
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
    ///       - run: echo hi
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: write the constant, the field or the path plainly.
    pub struct Obfuscation {
        id: "obfuscation",
        summary: "obfuscated usage of GitHub Actions features",
        severity: Low,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

impl Audit for Obfuscation {
    fn document(&self, _cx: &AuditContext<'_>, doc: AnyDoc<'_, '_>, out: &mut Vec<Finding>) {
        check(doc.file(), doc.root(), doc.expr_sites(), out);
    }
}

/// Functions whose result depends only on their arguments.
const PURE: &[&str] = &[
    "format",
    "fromjson",
    "tojson",
    "join",
    "contains",
    "startswith",
    "endswith",
    "case",
];

fn constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => true,
        ExprKind::String(s) => !s.contains("${{"),
        ExprKind::Ident(_) => false,
        ExprKind::Access { base, member } => {
            constant(base) && !matches!(member, Member::Index(i) if !constant(i))
        }
        ExprKind::Call { name, args } => {
            PURE.contains(&name.to_ascii_lowercase().as_str()) && args.iter().all(constant)
        }
        ExprKind::Not(x) | ExprKind::Group(x) => constant(x),
        ExprKind::Binary { lhs, rhs, .. } => constant(lhs) && constant(rhs),
    }
}

/// A computed part of a larger expression whose value is fixed when written (`format('{0}',
/// 'abc')`, `true || false`). `fromJSON('[...]')` is not: it is how a list is written.
fn reducible(e: &Expr) -> bool {
    let computed = match &e.kind {
        ExprKind::Call { name, args } => {
            !(name.eq_ignore_ascii_case("fromjson")
                && matches!(args.as_slice(), [a] if matches!(a.kind, ExprKind::String(_))))
        }
        ExprKind::Binary { .. } | ExprKind::Not(_) => true,
        _ => false,
    };
    computed && constant(e)
}

/// A path with `.` or empty components, or a `..` that undoes the component before it. The
/// leading `./` of local paths, leading `..`s and a trailing `/` are plain.
fn needless_path(path: &str) -> bool {
    let path = path.strip_prefix("./").unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    if path.is_empty() {
        return false;
    }
    let mut named = false;
    for part in path.split('/') {
        match part {
            "" | "." => return true,
            ".." if named => return true,
            ".." => {}
            _ => named = true,
        }
    }
    false
}

fn check(
    file: &std::sync::Arc<SourceFile>,
    root: Node<'_>,
    sites: &[Site<'_>],
    out: &mut Vec<Finding>,
) {
    for site in sites.iter().filter(|s| !s.bare) {
        let report = |span, msg: &str, out: &mut Vec<Finding>| {
            let at = site.file_span(file, span);
            out.push(Finding::new(
                &Obfuscation::META,
                msg,
                Location::file(file, at, site.route.clone(), "obfuscated"),
            ));
        };
        if constant(&site.expr) {
            report(
                site.expr.span,
                "this expression is a constant: write its value instead",
                out,
            );
            continue;
        }
        let mut reduced: Vec<crate::source::Span> = Vec::new();
        site.expr.walk(&mut |e| {
            if reducible(e) && !reduced.iter().any(|r| r.start <= e.span.start && e.span.end <= r.end) {
                reduced.push(e.span);
                report(
                    e.span,
                    "this part of the expression is a constant: write its value instead",
                    out,
                );
            }
            if let ExprKind::Access {
                member: Member::Index(i),
                ..
            } = &e.kind
                && !i.is_literal()
                && !constant(i)
            {
                report(
                    e.span,
                    "a value picked by a computed index: name it plainly",
                    out,
                );
            }
        });
    }
    root.walk(&Route::root(), &mut |node, route| {
        if !matches!(route.segments().last(), Some(Segment::Key(k)) if k == "uses") {
            return;
        }
        let Some(uses) = node.as_str() else { return };
        if uses.starts_with("docker://") || in_disabled(root, route) {
            return;
        }
        let path = uses.split('@').next().unwrap_or_default();
        // `owner/repo/@ref` resolves like `owner/repo@ref`; the slash only disguises it.
        let trailing = uses.contains('@') && !path.starts_with("./") && path.ends_with('/');
        if trailing || needless_path(path) {
            let msg = "this `uses:` path has `.`, `..`, empty components or a trailing `/`: write the plain path";
            out.push(Finding::new(
                &Obfuscation::META,
                msg,
                Location::file(file, node.span(), route.clone(), "obfuscated path"),
            ));
        }
    });
}
