//! Helpers shared by several audits: where `uses:` appear, `owner/repo` patterns, `${{ }}`
//! scanning, comments, and the Actions toolkit's idea of a boolean input.

use std::sync::Arc;

use crate::models::RepositoryUses;
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

pub(crate) use crate::models::disabled::in_disabled;
pub(crate) use crate::refs::UsesSite;

/// `owner/repo[/path][@ref]` patterns with `*` wildcards for the repository (`owner/*`) or the
/// whole reference (`*`). Names match case-insensitively, a ref exactly (as git compares refs);
/// a pattern without a path matches every path of the repository, one without a ref every ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepoPattern {
    owner: String,
    /// `None` for `owner/*`.
    repo: Option<String>,
    path: Option<String>,
    git_ref: Option<String>,
}

impl RepoPattern {
    pub fn parse(s: &str) -> Option<Self> {
        let (name, git_ref) = match s.trim().split_once('@') {
            Some((name, r)) if !r.is_empty() && !r.contains(['@', '*']) => {
                (name, Some(r.to_owned()))
            }
            Some(_) => return None,
            None => (s.trim(), None),
        };
        let s = name.to_ascii_lowercase();
        if s == "*" {
            return git_ref.is_none().then(|| Self {
                owner: "*".into(),
                repo: None,
                path: None,
                git_ref: None,
            });
        }
        let mut parts = s.splitn(3, '/');
        let owner = parts
            .next()
            .filter(|o| !o.is_empty() && !o.contains(['*', '@']))?;
        let repo = parts.next().filter(|r| !r.is_empty() && !r.contains('@'))?;
        let path = parts
            .next()
            .map(|p| p.trim_end_matches('/').to_owned())
            .filter(|p| !p.is_empty());
        let repo = match repo {
            "*" if path.is_none() && git_ref.is_none() => None,
            "*" => return None,
            r if r.contains('*') => return None,
            r => Some(r.to_owned()),
        };
        Some(Self {
            owner: owner.to_owned(),
            repo,
            path,
            git_ref,
        })
    }

    pub fn matches(&self, uses: &RepositoryUses<'_>) -> bool {
        if self.owner == "*" {
            return true;
        }
        if !uses.owner.eq_ignore_ascii_case(&self.owner) {
            return false;
        }
        let Some(repo) = &self.repo else { return true };
        if !uses.repo.eq_ignore_ascii_case(repo) {
            return false;
        }
        if let Some(want) = &self.git_ref
            && uses.git_ref != Some(want.as_str())
        {
            return false;
        }
        match (&self.path, uses.path) {
            (None, _) => true,
            (Some(want), Some(have)) => have.trim_end_matches('/').eq_ignore_ascii_case(want),
            (Some(_), None) => false,
        }
    }
}

/// Byte ranges (absolute, in `file`) of the `${{ ... }}` expressions written inside `node`'s
/// source, with the inner text. Nothing for non-scalars.
pub(crate) fn expressions_in<'f>(file: &'f SourceFile, node: Node<'_>) -> Vec<(Span, &'f str)> {
    let span = node.span();
    let text = file.slice(span);
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("${{") {
        let start = from + open;
        let Some(close) = text[start + 3..].find("}}") else {
            break;
        };
        let end = start + 3 + close + 2;
        out.push((
            Span::new(span.start + start, span.start + end),
            &text[start + 3..end - 2],
        ));
        from = end;
    }
    out
}

/// Every scalar under `node` (aliases followed once), keys excluded.
pub(crate) fn scalars_under<'a>(node: Node<'a>) -> Vec<Node<'a>> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.is_scalar() {
            out.push(n);
        } else if n.is_mapping() {
            stack.extend(n.entries().map(|(_, v)| v));
        } else {
            stack.extend(n.items());
        }
    }
    out.sort_by_key(|n| n.span().start);
    out
}

/// Whether a scalar is a whole `${{ }}` expression.
pub(crate) fn is_expression_str(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("${{") && s.ends_with("}}")
}

/// The Actions toolkit's `getBooleanInput`: `true`/`True`/`TRUE` and the same for false.
pub(crate) fn toolkit_bool(node: Node<'_>) -> Option<bool> {
    match node.as_str()? {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// A `# comment` with words in it on the line where `span` starts or ends, or on the lines
/// directly above its start (full-line comments only).
pub(crate) fn has_meaningful_comment(file: &SourceFile, span: Span) -> bool {
    // Directives to tools (`zizmor: ignore[...]`, `ciguard: ignore`, test markers) explain nothing.
    let directive = |c: &str| {
        let c = c.trim_start().to_ascii_lowercase();
        [
            "zizmor:",
            "ciguard:",
            "expect:",
            "yamllint",
            "noqa",
            "pragma",
            "renovate:",
        ]
        .iter()
        .any(|d| c.starts_with(d))
    };
    let meaningful = |c: &str| c.chars().any(|ch| ch.is_alphanumeric()) && !directive(c);
    if file.trailing_comment(span).is_some_and(meaningful) {
        return true;
    }
    let mut line = file.line_col(span.start).line;
    while line > 1 {
        line -= 1;
        let text = file.line_text(line).trim();
        match text.strip_prefix('#') {
            Some(c) if meaningful(c) => return true,
            Some(_) => continue,
            None => return false,
        }
    }
    false
}

/// The 0-based column (in bytes) at which `offset` sits on its line.
pub(crate) fn column_of(file: &SourceFile, offset: usize) -> usize {
    let line = file.line_col(offset).line;
    offset.saturating_sub(file.line_span(line).start)
}

/// Shorthand for the file of a finding.
pub(crate) type File = Arc<SourceFile>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Uses;

    fn repo(s: &str) -> RepositoryUses<'_> {
        match Uses::parse(s) {
            Some(Uses::Repository(r)) => r,
            _ => panic!("{s}"),
        }
    }

    #[test]
    fn patterns_match_owner_repo_and_path() {
        let p = RepoPattern::parse("actions/*").unwrap();
        assert!(p.matches(&repo("Actions/checkout@v4")));
        assert!(!p.matches(&repo("other/checkout@v4")));
        let p = RepoPattern::parse("github/codeql-action/init").unwrap();
        assert!(p.matches(&repo("github/codeql-action/init@v3")));
        assert!(!p.matches(&repo("github/codeql-action/analyze@v3")));
        assert!(
            RepoPattern::parse("github/codeql-action")
                .unwrap()
                .matches(&repo("github/codeql-action/init@v3"))
        );
        assert!(RepoPattern::parse("*").unwrap().matches(&repo("a/b@c")));
        assert_eq!(RepoPattern::parse("no-slash"), None);
        assert_eq!(RepoPattern::parse("*/repo"), None);
    }

    #[test]
    fn patterns_with_a_ref_match_that_ref_only() {
        let p = RepoPattern::parse("actions/checkout@v4").unwrap();
        assert!(p.matches(&repo("actions/checkout@v4")));
        assert!(!p.matches(&repo("actions/checkout@v3")));
        assert!(!p.matches(&repo("actions/checkout@V4")));
        let p = RepoPattern::parse("pypa/gh-action-pypi-publish@release/v1").unwrap();
        assert!(p.matches(&repo("pypa/gh-action-pypi-publish@release/v1")));
        assert_eq!(RepoPattern::parse("actions/*@v4"), None);
        assert_eq!(RepoPattern::parse("*@v4"), None);
        assert_eq!(RepoPattern::parse("actions/checkout@"), None);
    }
}
