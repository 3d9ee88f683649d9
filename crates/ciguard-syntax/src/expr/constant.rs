//! Conditions whose outcome is fixed when the workflow is written (`false`, `!true`,
//! `false && x`, `'a' == 'b'`): a job or step behind a condition that is always false never
//! runs, so no audit reports it.

use super::{BinOp, Expr, ExprKind, parse};

/// A literal value, as GitHub's expression language compares them.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
}

impl Value {
    fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0 && !n.is_nan(),
            Value::String(s) => !s.is_empty(),
        }
    }

    /// `==` as GitHub evaluates it: strings case-insensitively, mixed types as numbers.
    fn loosely_equals(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            _ => match (self.as_number(), other.as_number()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            },
        }
    }

    fn as_number(&self) -> Option<f64> {
        match self {
            Value::Null => Some(0.0),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Number(n) => Some(*n),
            Value::String(s) if s.trim().is_empty() => Some(0.0),
            Value::String(s) => s.trim().parse().ok(),
        }
    }
}

/// What is known of a run started by a tag: a tag push or a `release` event.
#[derive(Debug, Clone, Copy)]
pub struct TagRun<'e> {
    /// `push` or `release`.
    pub event_name: &'e str,
}

impl TagRun<'_> {
    /// The value of a context this run fixes.
    fn context(&self, e: &Expr) -> Option<Value> {
        let path = e.context_path()?.to_string();
        match path.as_str() {
            "github.ref_type" => Some(Value::String("tag".into())),
            "github.event_name" => Some(Value::String(self.event_name.into())),
            _ => None,
        }
    }

    /// `startsWith(github.ref, 'refs/tags/')` and the like: `github.ref` is `refs/tags/<tag>`.
    fn call(&self, name: &str, args: &[Expr]) -> Option<Value> {
        let [subject, prefix] = args else { return None };
        let is_ref = subject
            .context_path()
            .is_some_and(|p| p.to_string() == "github.ref");
        let ExprKind::String(prefix) = &prefix.ungroup().kind else {
            return None;
        };
        if !name.eq_ignore_ascii_case("startswith") || !is_ref {
            return None;
        }
        let prefix = prefix.to_ascii_lowercase();
        if "refs/tags/".starts_with(&prefix) {
            Some(Value::Bool(true))
        } else if prefix.starts_with("refs/") && !prefix.starts_with("refs/tags/") {
            Some(Value::Bool(false))
        } else {
            None
        }
    }
}

/// The value of an expression made only of literals, `!`, `&&`, `||`, `==`, `!=` and
/// parentheses (and, in a tag run, of what that run fixes); `None` as soon as anything else
/// depends on the run.
fn constant(e: &Expr, run: Option<TagRun<'_>>) -> Option<Value> {
    let constant = |e: &Expr| constant(e, run);
    match &e.kind {
        ExprKind::Null => Some(Value::Null),
        ExprKind::Bool(b) => Some(Value::Bool(*b)),
        ExprKind::Number(n) => Some(Value::Number(*n)),
        ExprKind::String(s) => Some(Value::String(s.clone())),
        ExprKind::Group(x) => constant(x),
        ExprKind::Not(x) => Some(Value::Bool(!constant(x)?.truthy())),
        ExprKind::Binary { op, lhs, rhs } => match op {
            // Short-circuits decide on the left side alone.
            BinOp::And => {
                let l = constant(lhs)?;
                if l.truthy() { constant(rhs) } else { Some(l) }
            }
            BinOp::Or => {
                let l = constant(lhs)?;
                if l.truthy() { Some(l) } else { constant(rhs) }
            }
            BinOp::Eq => Some(Value::Bool(constant(lhs)?.loosely_equals(&constant(rhs)?))),
            BinOp::Ne => Some(Value::Bool(!constant(lhs)?.loosely_equals(&constant(rhs)?))),
            _ => None,
        },
        ExprKind::Call { name, args } => run?.call(name, args),
        _ => run?.context(e),
    }
}

/// Whether a whole `${{ }}` value is false in every run started by a tag (the
/// `sccache: ${{ !startsWith(github.ref, 'refs/tags/') }}` guard of release jobs).
pub fn is_false_in_tag_run(value: &str, run: TagRun<'_>) -> bool {
    let Some(body) = value
        .trim()
        .strip_prefix("${{")
        .and_then(|c| c.strip_suffix("}}"))
        .filter(|c| !c.contains("${{"))
    else {
        return false;
    };
    parse(body)
        .ok()
        .and_then(|e| constant(&e, Some(run)))
        .is_some_and(|v| !v.truthy())
}

/// Whether an `if:` value (bare or in `${{ }}`) is false whatever happens in the run. The model
/// and the site filter both ask about each condition: answers are kept per thread by text (a
/// pure function of it), in a table cleared when it grows past a bound.
pub fn is_always_false(condition: &str) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    const MAX_KEPT: usize = 4096;
    thread_local! {
        static KNOWN: RefCell<HashMap<Box<str>, bool>> = RefCell::new(HashMap::new());
    }
    if let Some(known) = KNOWN.with(|k| k.borrow().get(condition).copied()) {
        return known;
    }
    let answer = evaluate_always_false(condition);
    KNOWN.with(|k| {
        let mut k = k.borrow_mut();
        if k.len() >= MAX_KEPT {
            k.clear();
        }
        k.insert(condition.into(), answer);
    });
    answer
}

fn evaluate_always_false(condition: &str) -> bool {
    let text = condition.trim();
    let body = text
        .strip_prefix("${{")
        .and_then(|c| c.strip_suffix("}}"))
        .filter(|c| !c.contains("${{"))
        .unwrap_or(text);
    if body.trim().is_empty() {
        return false;
    }
    // A `${{ }}` with text around it is a non-empty string: truthy.
    if body == text && text.contains("${{") {
        return false;
    }
    parse(body)
        .ok()
        .and_then(|e| constant(&e, None))
        .is_some_and(|v| !v.truthy())
}

#[cfg(test)]
mod tests {
    use super::{TagRun, is_always_false, is_false_in_tag_run};

    #[test]
    fn constant_false_conditions() {
        for c in [
            "false",
            "${{ false }}",
            " ${{ false }} ",
            "!true",
            "false && github.event_name == 'push'",
            "(false)",
            "'a' == 'b'",
            "1 != 1",
            "0",
            "''",
            "null",
            "!(true || github.actor)",
        ] {
            assert!(is_always_false(c), "{c}");
        }
    }

    #[test]
    fn conditions_that_depend_on_the_run() {
        for c in [
            "true",
            "",
            "github.event_name == 'push'",
            "false || github.actor == 'x'",
            "always()",
            "${{ false }} && x",
            "x ${{ false }}",
            "'false'",
            "'A' == 'a'",
            "not an expression (",
        ] {
            assert!(!is_always_false(c), "{c}");
        }
    }

    #[test]
    fn guards_that_are_off_in_tag_runs() {
        let push = TagRun { event_name: "push" };
        let release = TagRun {
            event_name: "release",
        };
        for c in [
            "${{ !startsWith(github.ref, 'refs/tags/') }}",
            "${{ !(github.event_name == 'push' && github.ref_type == 'tag') }}",
            "${{ github.ref_type != 'tag' }}",
            "${{ startsWith(github.ref, 'refs/heads/') }}",
        ] {
            assert!(is_false_in_tag_run(c, push), "{c}");
        }
        let on_tags = "${{ !startsWith(github.ref, 'refs/tags/') }}";
        assert!(is_false_in_tag_run(on_tags, release));
        let push_only = "${{ !(github.event_name == 'push' && github.ref_type == 'tag') }}";
        assert!(!is_false_in_tag_run(push_only, release));
        for c in [
            "${{ matrix.os == 'ubuntu-latest' }}",
            "${{ startsWith(github.ref, 'refs/tags/v') }}",
            "true",
            "${{ github.ref == 'refs/heads/main' }}",
        ] {
            assert!(!is_false_in_tag_run(c, push), "{c}");
        }
    }
}
