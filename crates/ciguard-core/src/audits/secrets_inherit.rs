use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Finding, Location};
use crate::models::{Job, Workflow};
use crate::source::Span;

declare_audit! {
    /// ## What it does
    ///
    /// Reports calls to reusable workflows with `secrets: inherit`.
    ///
    /// ## Why is this bad?
    ///
    /// `secrets: inherit` hands every secret the calling workflow can read to the called
    /// workflow, whatever it needs. A called workflow that is compromised, or that runs code it
    /// should not trust, then has all of them. Passing the few secrets it needs by name keeps
    /// the rest out of reach and documents what the call uses.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   release:
    ///     uses: ./.github/workflows/release.yml
    ///     secrets: inherit
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   release:
    ///     uses: $/.github/workflows/release.yml
    ///     secrets:
    ///       npm-token: ${{ secrets.NPM_TOKEN }}
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: list under `secrets:` the secrets the called workflow declares in its
    /// `on.workflow_call.secrets`.
    pub struct SecretsInherit {
        id: "secrets-inherit",
        summary: "secrets unconditionally inherited by a called workflow",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

impl Audit for SecretsInherit {
    fn job(
        &self,
        _cx: &AuditContext<'_>,
        wf: &Workflow<'_>,
        job: &Job<'_>,
        out: &mut Vec<Finding>,
    ) {
        let Some((uses, _)) = job.reusable_uses() else {
            return;
        };
        let Some((key, value)) = job.node.entry("secrets") else {
            return;
        };
        if value.as_str() != Some("inherit") {
            return;
        }
        let called = match uses.as_str() {
            Some(text) => called_name(text),
            None => "the called workflow".to_owned(),
        };
        out.push(
            Finding::new(
                &Self::META,
                format!("`{called}` inherits every secret of the caller"),
                Location::file(
                    wf.file,
                    // From `uses:` to `secrets: inherit`, so an ignore comment on either
                    // line applies.
                    Span::new(uses.span().start, uses.span().end.max(value.span().end)),
                    job.route.key("uses"),
                    "this reusable workflow",
                ),
            )
            .related(Location::file(
                wf.file,
                key.span().cover(value.span()),
                job.route.key("secrets"),
                "inherits all the caller's secrets",
            )),
        );
    }
}

/// How the message names the called workflow: `./path` and `$/path` (GitHub's self-repository
/// syntax) are the same workflow of this repository and are named alike, so rewriting one into
/// the other (the self-repository fix) keeps the finding as it was.
fn called_name(uses: &str) -> String {
    match uses.strip_prefix("$/") {
        Some(path) => format!("./{path}"),
        None => uses.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn self_repository_syntax_is_named_like_a_local_path() {
        assert_eq!(
            super::called_name("$/.github/workflows/r.yml"),
            "./.github/workflows/r.yml"
        );
        assert_eq!(
            super::called_name("./.github/workflows/r.yml"),
            "./.github/workflows/r.yml"
        );
        assert_eq!(
            super::called_name("o/r/.github/workflows/r.yml@v1"),
            "o/r/.github/workflows/r.yml@v1"
        );
    }

    use std::sync::Arc;

    use crate::audit::AuditContext;
    use crate::engine::audit_file;
    use crate::source::{FileKind, SourceFile};
    use crate::suppress::apply_inline_ignores;
    use crate::yaml::Limits;

    #[test]
    fn an_ignore_on_the_secrets_line_suppresses_it() {
        let text = "on: push\njobs:\n  call:\n    uses: ./.github/workflows/r.yml\n    with:\n      a: b\n    secrets: inherit # zizmor: ignore[secrets-inherit]\n";
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let mut findings = audit_file(
            &file,
            &Limits::default(),
            &[&super::SecretsInherit],
            &|_| AuditContext::empty(),
        )
        .findings;
        assert_eq!(findings.len(), 1);
        assert_eq!(
            file.line_col(findings[0].primary.span().unwrap_or_default().start)
                .line,
            4
        );
        let (suppressed, _) = apply_inline_ignores(&file, &mut findings, &["secrets-inherit"]);
        assert_eq!((suppressed, findings.len()), (1, 0));
    }
}
