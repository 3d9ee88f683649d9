use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Applicability, Edit, Finding, Location};
use crate::models::{HookRepo, PreCommit};
use crate::source::Span;

declare_audit! {
    /// ## What it does
    ///
    /// Reports pre-commit hook repositories (`repo:` in `.pre-commit-config.yaml`) fetched
    /// over `http://` or `git://`, schemes that neither encrypt nor authenticate the server.
    ///
    /// ## Why is this bad?
    ///
    /// pre-commit clones each hook repository and runs its code on every developer's machine
    /// and in CI, often with credentials at hand. Over a plain-text scheme, anyone on the
    /// network path (a café's Wi-Fi, a compromised router, a hostile DNS answer) can serve a
    /// different repository, and a `rev:` tag then names whatever commit they chose.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// repos:
    ///   - repo: git://github.com/pre-commit/pre-commit-hooks
    ///     rev: cef0300fd0fc4d2a87a85fa2093c6b283ea36f4b # v5.0.0
    ///     hooks:
    ///       - id: check-yaml
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// repos:
    ///   - repo: https://github.com/pre-commit/pre-commit-hooks
    ///     rev: cef0300fd0fc4d2a87a85fa2093c6b283ea36f4b # v5.0.0
    ///     hooks:
    ///       - id: check-yaml
    /// ```
    ///
    /// ## Fix
    ///
    /// Unsafe: the scheme is replaced with `https://`, which the host must serve (GitHub,
    /// GitLab and Codeberg do); check that the repository still clones.
    pub struct InsecureUrlScheme {
        id: "insecure-url-scheme",
        summary: "hook repositories fetched over a scheme without encryption",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [PreCommit],
        needs_network: false,
        fix: Unsafe,
    }
}

/// Schemes that carry the repository in plain text, without authenticating the server.
const INSECURE: [&str; 2] = ["http", "git"];

impl Audit for InsecureUrlScheme {
    fn pre_commit(&self, _cx: &AuditContext<'_>, config: &PreCommit<'_>, out: &mut Vec<Finding>) {
        for hook in &config.repos {
            let Some((scheme, _)) = hook.url.split_once("://") else {
                continue;
            };
            let Some(insecure) = INSECURE.iter().find(|s| s.eq_ignore_ascii_case(scheme)) else {
                continue;
            };
            let mut finding = Finding::new(
                &Self::META,
                format!("hook repository is fetched over `{insecure}://`, which anyone on the network path can answer"),
                Location::file(
                    config.file,
                    hook.repo.span(),
                    hook.route.key("repo"),
                    format!("insecure scheme `{insecure}`"),
                ),
            );
            if let Some(span) = scheme_span(config, hook, scheme) {
                finding = finding.fix(
                    "fetch the repository over `https://`",
                    Applicability::Unsafe,
                    vec![Edit::replace(span, "https://")],
                );
            }
            out.push(finding);
        }
    }
}

/// Where `scheme://` is written in the file, when the value is written in place (not through
/// an alias, and without escapes before the scheme).
fn scheme_span(config: &PreCommit<'_>, hook: &HookRepo<'_>, scheme: &str) -> Option<Span> {
    let span = hook.repo.span();
    let written = config.file.slice(span);
    let prefix = format!("{scheme}://");
    let at = written.find(&prefix)?;
    // Only an opening quote may come before the URL.
    if !matches!(&written[..at], "" | "'" | "\"") {
        return None;
    }
    let start = span.start + at;
    Some(Span::new(start, start + prefix.len()))
}
