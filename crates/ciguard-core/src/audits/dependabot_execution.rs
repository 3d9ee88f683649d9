use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Applicability, Edit, Finding, Location};
use crate::models::Dependabot;

declare_audit! {
    /// ## What it does
    ///
    /// Reports Dependabot `updates` entries with `insecure-external-code-execution: allow`.
    ///
    /// ## Why is this bad?
    ///
    /// Some ecosystems (Bundler, Mix, pip with `setup.py`) run code from the manifest or from
    /// the dependencies while Dependabot resolves updates. With `allow`, that code runs with the
    /// credentials Dependabot holds for your private registries, so one malicious dependency
    /// can steal them.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// version: 2
    /// updates:
    ///   - package-ecosystem: bundler
    ///     directory: /
    ///     insecure-external-code-execution: allow
    ///     schedule:
    ///       interval: weekly
    ///     cooldown:
    ///       default-days: 7
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// version: 2
    /// updates:
    ///   - package-ecosystem: bundler
    ///     directory: /
    ///     insecure-external-code-execution: deny
    ///     schedule:
    ///       interval: weekly
    ///     cooldown:
    ///       default-days: 7
    /// ```
    ///
    /// ## Fix
    ///
    /// Unsafe: sets the value to `deny`, which may break updates that need the code to run.
    pub struct DependabotExecution {
        id: "dependabot-execution",
        summary: "external code execution in Dependabot updates",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Dependabot],
        needs_network: false,
        fix: Unsafe,
    }
}

impl Audit for DependabotExecution {
    fn dependabot(&self, _cx: &AuditContext<'_>, config: &Dependabot<'_>, out: &mut Vec<Finding>) {
        let key = "insecure-external-code-execution";
        for update in &config.updates {
            let Some((k, v)) = update.node.entry(key) else {
                continue;
            };
            if v.as_str() != Some("allow") {
                continue;
            }
            let deny = match config.file.slice(v.span()) {
                "'allow'" => "'deny'",
                "\"allow\"" => "\"deny\"",
                _ => "deny",
            };
            out.push(
                Finding::new(
                    &Self::META,
                    format!(
                        "`{}` updates may run code from dependencies while resolving them",
                        update.ecosystem
                    ),
                    Location::file(
                        config.file,
                        k.span().cover(v.span()),
                        update.route.key(key),
                        "enabled here",
                    ),
                )
                .fix(
                    "set `insecure-external-code-execution: deny`",
                    Applicability::Unsafe,
                    vec![Edit::replace(v.span(), deny)],
                ),
            );
        }
    }
}
