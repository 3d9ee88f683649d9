//! The document before and after a fix, compared as trees (aliases followed): every difference
//! must be the work of an edit. A changed value must be overlapped by a replacement (an
//! insertion next to a block scalar that changes it is not), a removed entry by a replacement,
//! and an added key or item must be inserted inside its parent. Where the path to a node goes
//! through an alias, the edit must touch the alias itself: an edit of the anchored node would
//! change every place that uses it. This catches an edit that lands in a shared anchor, a block
//! scalar that gains or loses a line next to an insertion, and edits that spill into neighbours.

use std::collections::HashMap;

use crate::finding::Edit;
use crate::route::Route;
use crate::source::Span;
use crate::yaml::{Document, Node, NodeId, NodeKind, Style};

/// Most node pairs compared, so an alias-expanded document costs bounded time.
const MAX_NODES: usize = 200_000;

#[derive(Debug, Clone, Copy)]
enum Change {
    /// A key or item that is new; the span of its parent in the original.
    Added(Span),
    /// An entry that is gone; its span (key to value) in the original.
    Removed(Span),
    /// A scalar whose value differs; its span in the original.
    Value(Span),
    /// A node whose kind or length differs; its span in the original.
    Shape(Span),
}

/// Why `edits` of `old_text` changed `old` into `new` beyond the nodes they touch, or `None`
/// when they did not.
pub(super) fn unintended(
    old_text: &str,
    old: &Document,
    new: &Document,
    edits: &[Edit],
) -> Option<String> {
    let diffs = match differences(old, new) {
        Ok(diffs) => diffs,
        Err(reason) => return Some(reason),
    };
    let replaces = |s: Span| {
        edits
            .iter()
            .any(|e| e.start < e.end && e.start < s.end && e.end > s.start)
    };
    let inside = |s: Span| edits.iter().any(|e| e.start >= s.start && e.end <= s.end);
    // A key or item is added from the start of its parent's first line (before its indent) to
    // the end of its last line (after a comment, say).
    let line_start = |at: usize| {
        old_text
            .get(..at)
            .and_then(|head| head.rfind('\n'))
            .map_or(0, |i| i + 1)
    };
    let line_end = |at: usize| {
        old_text
            .get(at..)
            .and_then(|rest| rest.find('\n'))
            .map_or(old_text.len(), |i| at + i + 1)
    };
    for (at, change) in diffs {
        let (intended, verb) = match change {
            Change::Added(parent) => (
                inside(Span::new(line_start(parent.start), line_end(parent.end))),
                "add",
            ),
            Change::Removed(span) => (replaces(span), "remove"),
            Change::Value(span) => (replaces(span), "change"),
            Change::Shape(span) => (replaces(span) || inside(span), "change"),
        };
        if !intended {
            let at = if at.is_root() {
                "the document".to_owned()
            } else {
                format!("`{at}`")
            };
            return Some(format!("it would also {verb} {at}"));
        }
    }
    None
}

/// Every place where the trees differ, or why they could not be compared. The span given with
/// a node is where it is written: for anything reached through an alias, the alias.
fn differences(old: &Document, new: &Document) -> Result<Vec<(Route, Change)>, String> {
    let mut out = Vec::new();
    let (Some(a), Some(b)) = (old.root(), new.root()) else {
        if old.root().is_some() != new.root().is_some() {
            out.push((Route::root(), Change::Shape(Span::new(0, usize::MAX))));
        }
        return Ok(out);
    };
    let mut stack: Vec<(Node<'_>, Node<'_>, Route, Option<Span>)> =
        vec![(a, b, Route::root(), None)];
    let mut budget = MAX_NODES;
    while let Some((a, b, route, via)) = stack.pop() {
        budget = budget
            .checked_sub(1)
            .ok_or("the document is too large to compare after the fix")?;
        let via = via.or(a.is_alias().then(|| a.span()));
        let written = |n: Node<'_>| via.unwrap_or(n.resolve().span());
        match (a.kind(), b.kind()) {
            (
                NodeKind::Scalar {
                    value: va,
                    style: sa,
                },
                NodeKind::Scalar {
                    value: vb,
                    style: sb,
                },
            ) => {
                // A plain `true` and a quoted one are different values.
                if va != vb || (*sa == Style::Plain) != (*sb == Style::Plain) {
                    out.push((route, Change::Value(written(a))));
                }
            }
            (NodeKind::Mapping(ea), NodeKind::Mapping(eb)) => {
                let mut new_entries = keyed(b.doc(), eb)?;
                for (key, (k, va)) in keyed(a.doc(), ea)? {
                    match new_entries.remove(key) {
                        Some((_, vb)) => stack.push((va, vb, route.key(key), via)),
                        None => {
                            let span = via.unwrap_or(Span::new(k.span().start, va.span().end));
                            out.push((route.key(key), Change::Removed(span)));
                        }
                    }
                }
                for key in new_entries.into_keys() {
                    out.push((route.key(key), Change::Added(written(a))));
                }
            }
            (NodeKind::Sequence(ia), NodeKind::Sequence(ib)) if ia.len() == ib.len() => {
                for (i, (x, y)) in ia.iter().zip(ib).enumerate() {
                    let (x, y) = (a.doc().node(*x), b.doc().node(*y));
                    stack.push((x, y, route.index(i), via));
                }
            }
            _ => out.push((route, Change::Shape(written(a)))),
        }
    }
    Ok(out)
}

/// A mapping's entries (key node, value as written, alias or not) by key text; a key that is
/// not a scalar cannot be compared.
fn keyed<'a>(
    doc: &'a Document,
    entries: &'a [(NodeId, NodeId)],
) -> Result<HashMap<&'a str, (Node<'a>, Node<'a>)>, String> {
    entries
        .iter()
        .map(|(k, v)| {
            let (k, v) = (doc.node(*k), doc.node(*v));
            k.as_str()
                .map(|key| (key, (k, v)))
                .ok_or_else(|| "a mapping key is not a plain value".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileKind, SourceFile};
    use crate::yaml::Limits;

    fn check(old: &str, edits: &[Edit]) -> Option<String> {
        let new = crate::fix::apply_edits(old, edits).unwrap();
        let parse = |t: &str| {
            let f = SourceFile::new("w.yml", FileKind::Workflow, t.to_owned());
            Document::parse(&f, &Limits::default()).unwrap()
        };
        unintended(old, &parse(old), &parse(&new), edits)
    }

    #[test]
    fn edits_may_change_what_they_touch() {
        let text = "a:\n  b: x\n  c: y\n";
        assert_eq!(check(text, &[Edit::replace(Span::new(8, 9), "z")]), None);
        assert_eq!(check(text, &[Edit::insert(16, "\n  d: w")]), None);
    }

    #[test]
    fn an_insertion_that_changes_a_block_scalar_is_refused() {
        let text = "a:\n  b: |+\n    x\n\n  c: y\n";
        let at = text.find("x\n").unwrap() + 1;
        let why = check(text, &[Edit::insert(at, "\n  d: w")]).unwrap();
        assert!(why.contains("`a.b`"), "{why}");
    }

    #[test]
    fn an_edit_through_an_alias_is_refused() {
        let text = "s:\n  - &x\n    run: a\n  - *x\n";
        let at = text.find("run: a").unwrap() + 5;
        let why = check(text, &[Edit::replace(Span::new(at, at + 1), "b")]).unwrap();
        assert!(why.contains("s[1]"), "{why}");
    }
}
