//! Every expression of a document: `${{ }}` in any scalar, and the bare conditions of `if:`.

use super::{Expr, ExprError, MAX_DEPTH, expansion_bounds, expansions, parse, value_span_to_file};
use crate::diagnostic::{Diagnostic, Level};
use crate::route::{Route, Segment};
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

/// One parsed expression and where it is.
pub struct Site<'a> {
    /// The scalar that holds it.
    pub node: Node<'a>,
    pub route: Route,
    /// Whether the scalar is the value of an `if:` key.
    pub is_condition: bool,
    /// Whether it is written without `${{ }}` (a bare `if:` condition).
    pub bare: bool,
    /// Where the expression's text starts in the scalar's value.
    pub body_start: usize,
    /// The `${{ ... }}` (or the whole bare condition) in the scalar's value.
    pub whole: Span,
    pub expr: Expr,
}

impl Site<'_> {
    /// The file span of a part of the expression (a span relative to its text).
    pub fn file_span(&self, file: &SourceFile, inner: Span) -> Span {
        let value = Span::new(self.body_start + inner.start, self.body_start + inner.end);
        value_span_to_file(file, self.node, value)
    }
}

/// Every expression that parses under `root`, in document order. Malformed ones are skipped.
pub fn sites<'a>(root: Node<'a>) -> Vec<Site<'a>> {
    let mut out = Vec::new();
    root.walk(&Route::root(), &mut |node, route| {
        let Some(value) = node.as_str() else { return };
        let is_condition = matches!(route.segments().last(), Some(Segment::Key(k)) if k == "if");
        if is_condition && !value.contains("${{") {
            if let Ok(expr) = parse(value) {
                out.push(Site {
                    node,
                    route: route.clone(),
                    is_condition,
                    bare: true,
                    body_start: 0,
                    whole: Span::new(0, value.len()),
                    expr,
                });
            }
            return;
        }
        for exp in expansions(value) {
            if let Ok(expr) = exp.parsed {
                out.push(Site {
                    node,
                    route: route.clone(),
                    is_condition,
                    bare: false,
                    body_start: exp.body_start,
                    whole: exp.span,
                    expr,
                });
            }
        }
    });
    out
}

/// Whether parsing `body` could hit a limit: each token is at least one byte, and each level of
/// nesting starts at a `(`, `[` or `!` (counted inside strings too, so this never says no to an
/// expression that is over). Most expressions are far below both, and are not parsed again.
fn may_be_over_limit(body: &str) -> bool {
    body.len() >= crate::expr::MAX_TOKENS
        || body
            .bytes()
            .filter(|b| matches!(b, b'(' | b'[' | b'!'))
            .count()
            > MAX_DEPTH
}

/// A warning for the first expression under `root` that is over the parser's limits (too deep,
/// too many tokens), which audits cannot see; later ones are counted in its message. Malformed
/// expressions stay silent here: they are GitHub's error to report, not a limit of ciguard.
pub fn over_limit(file: &SourceFile, root: Node<'_>) -> Option<Diagnostic> {
    let mut first: Option<(Node<'_>, Span, String)> = None;
    let mut more = 0usize;
    root.walk(&Route::root(), &mut |node, route| {
        // Nothing shorter than the nesting limit can be over a limit.
        let Some(value) = node.as_str().filter(|v| v.len() > MAX_DEPTH) else {
            return;
        };
        let is_condition = matches!(route.segments().last(), Some(Segment::Key(k)) if k == "if");
        let errors: Vec<(Span, ExprError)> = if is_condition && !value.contains("${{") {
            Some(value)
                .filter(|v| may_be_over_limit(v))
                .and_then(|v| parse(v).err())
                .map(|e| (Span::new(0, value.len()), e))
                .into_iter()
                .collect()
        } else {
            // Only closed bodies long enough to be over a limit are parsed again.
            expansion_bounds(value)
                .into_iter()
                .filter(|(span, start, end)| {
                    span.end != *end && may_be_over_limit(&value[*start..*end])
                })
                .filter_map(|(span, start, end)| parse(&value[start..end]).err().map(|e| (span, e)))
                .collect()
        };
        for (span, error) in errors.into_iter().filter(|(_, e)| e.over_limit) {
            if first.is_none() {
                first = Some((node, span, error.message));
            } else {
                more += 1;
            }
        }
    });
    let (node, span, message) = first?;
    let at = value_span_to_file(file, node, span);
    let others = match more {
        0 => String::new(),
        n => format!(" ({n} more in this file)"),
    };
    Some(
        Diagnostic::at(
            Level::Warning,
            file,
            at,
            format!("expression not audited: {message}{others}"),
        )
        .help("audits skip this expression; split it into smaller ones"),
    )
}
