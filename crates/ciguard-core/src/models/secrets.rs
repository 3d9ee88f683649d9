//! References to the `secrets` context, found by the expression parser (so `'secrets.X'` in a
//! string literal, `inputs.secrets.x` and `mysecrets.x` are not references) and named as
//! written (the parser lowercases names; messages quote the user's spelling).

use crate::expr::{Expr, Seg, expansions, parse};

/// One reference: `secrets.NAME`, `secrets['NAME']`, or the whole context (`toJSON(secrets)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretRef<'t> {
    /// Byte offset of the reference in the text searched.
    pub at: usize,
    /// The reference as written (`secrets.NAME`, `secrets['NAME']`, `secrets`).
    pub raw: &'t str,
    /// The secret's name; `None` for the whole context or a computed index.
    pub name: Option<&'t str>,
}

/// What the text searched is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Within {
    /// The body of one expression (what `${{` and `}}` enclose).
    Expression,
    /// Any text: only its closed `${{ }}` expansions are read.
    Template,
}

/// Whether `GITHUB_TOKEN` counts. `secrets-outside-env` reports it unless allowed
/// (`Keep`); the release chain looks for long-lived credentials, and the job token is
/// short-lived (`Skip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GithubToken {
    Keep,
    Skip,
}

/// The references to the `secrets` context in `text`, in order.
pub fn secret_refs(text: &str, within: Within, token: GithubToken) -> Vec<SecretRef<'_>> {
    let mut out = Vec::new();
    match within {
        Within::Expression => {
            if text.to_ascii_lowercase().contains("secrets")
                && let Ok(expr) = parse(text)
            {
                refs_in(&expr, text, 0, &mut out);
            }
        }
        Within::Template => {
            // An unterminated `${{` does not parse: the runner does not evaluate it either.
            for exp in expansions(text) {
                if let Some(expr) = exp.expr() {
                    refs_in(expr, exp.body, exp.body_start, &mut out);
                }
            }
        }
    }
    if token == GithubToken::Skip {
        out.retain(|r| {
            !r.name
                .is_some_and(|n| n.eq_ignore_ascii_case("GITHUB_TOKEN"))
        });
    }
    out
}

/// Whether text passes a long-lived secret (any `secrets.*` inside `${{ }}` but `GITHUB_TOKEN`).
pub fn has_long_lived_secret(text: &str) -> bool {
    // Most values have no expression at all: skip the parser for them.
    text.contains("${{") && !secret_refs(text, Within::Template, GithubToken::Skip).is_empty()
}

fn refs_in<'t>(expr: &Expr, body: &'t str, offset: usize, out: &mut Vec<SecretRef<'t>>) {
    for (path, span) in expr.contexts() {
        if path.root() != Some("secrets") {
            continue;
        }
        let Some(raw) = body.get(span.start..span.end) else {
            continue;
        };
        let name = match path.segs.get(1) {
            Some(Seg::Name(_)) => name_as_written(raw),
            _ => None,
        };
        // `secrets.A.b` reads a member of one secret: the reference is `secrets.A`.
        let raw = match name {
            Some(n) => {
                let end = n.as_ptr() as usize - raw.as_ptr() as usize + n.len();
                let end = if raw[end..].starts_with(['\'', '"']) {
                    end + 2
                } else {
                    end
                };
                raw.get(..end).unwrap_or(raw)
            }
            None => &raw[..raw.len().min("secrets".len())],
        };
        out.push(SecretRef {
            at: offset + span.start,
            raw,
            name,
        });
    }
}

/// `NAME` of `secrets.NAME…` or `secrets['NAME']…` (any case of `secrets`).
fn name_as_written(raw: &str) -> Option<&str> {
    let rest = raw.get("secrets".len()..)?.trim_start();
    if let Some(r) = rest.strip_prefix('.') {
        let r = r.trim_start();
        let end = r
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(r.len());
        return (end > 0).then(|| &r[..end]);
    }
    let r = rest.strip_prefix('[')?.trim_start();
    let q = r.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let close = r[1..].find(q)?;
    Some(&r[1..1 + close])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<'t>(refs: &[SecretRef<'t>]) -> Vec<(&'t str, Option<&'t str>)> {
        refs.iter().map(|r| (r.raw, r.name)).collect()
    }

    #[test]
    fn finds_references_in_an_expression() {
        let text = " secrets.A || secrets['B-c'] || toJSON(secrets) || inputs.secrets.x || 'secrets.no' || secrets.GITHUB_TOKEN ";
        let refs = secret_refs(text, Within::Expression, GithubToken::Keep);
        assert_eq!(
            names(&refs),
            vec![
                ("secrets.A", Some("A")),
                ("secrets['B-c']", Some("B-c")),
                ("secrets", None),
                ("secrets.GITHUB_TOKEN", Some("GITHUB_TOKEN")),
            ]
        );
        assert_eq!(
            &text[refs[1].at..refs[1].at + refs[1].raw.len()],
            "secrets['B-c']"
        );
    }

    #[test]
    fn finds_references_in_a_template_without_the_job_token() {
        let text = "a ${{ secrets.PYPI }} b ${{ secrets['X'] }} ${{ secrets.GITHUB_TOKEN }} secrets.NOPE ${{ format('{0}', Secrets.Mixed.sub) }} ${{ secrets.OPEN";
        let refs = secret_refs(text, Within::Template, GithubToken::Skip);
        assert_eq!(
            names(&refs),
            vec![
                ("secrets.PYPI", Some("PYPI")),
                ("secrets['X']", Some("X")),
                ("Secrets.Mixed", Some("Mixed")),
            ]
        );
        assert_eq!(&text[refs[0].at..refs[0].at + 12], "secrets.PYPI");
        assert!(has_long_lived_secret("${{ secrets.NPM }}"));
        assert!(!has_long_lived_secret(
            "${{ secrets.GITHUB_TOKEN }} secrets.X"
        ));
    }

    #[test]
    fn hostile_expressions_are_bounded() {
        let deep = format!(
            "${{{{ {}secrets.A{} }}}}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        let _ = secret_refs(&deep, Within::Template, GithubToken::Keep);
        let many = "${{ secrets.A }}".repeat(10_000);
        assert_eq!(
            secret_refs(&many, Within::Template, GithubToken::Keep).len(),
            10_000
        );
    }
}
