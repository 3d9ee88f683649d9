use std::sync::Arc;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location};
use crate::models::{Job, Step};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports steps using an action that installs a tool, when the tool's version is left to
    /// a floating default (the input is omitted) or set to a floating value such as `latest`.
    /// Known actions: `aquasecurity/setup-trivy` and `1password/load-secrets-action`
    /// (`version`, default `latest`), `extractions/setup-just` (`just-version`) and
    /// `extractions/setup-crate` (`version`), whose default is any version,
    /// `hashicorp/setup-terraform` (`terraform_version`, default `latest`) and
    /// `azure/setup-helm` (`version`, default `latest`). A version chosen by an expression is
    /// reported at low confidence.
    ///
    /// ## Why is this bad?
    ///
    /// Pinning the action to a commit does not pin what it downloads. With a floating version
    /// the job runs whatever binary was released last: a compromised or broken release of the
    /// tool (as happened to Trivy's installers in 2026) reaches the job the moment it is
    /// published, and two runs of the same commit may use different tools.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   scan:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: aquasecurity/setup-trivy@81e514348e19b6112ce2a7e3ecbafe19c1e1f567 # v0.3.1
    ///         with:
    ///           version: latest
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   scan:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: aquasecurity/setup-trivy@81e514348e19b6112ce2a7e3ecbafe19c1e1f567 # v0.3.1
    ///         with:
    ///           version: v0.65.0
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: choose the version to pin, and let a dependency update tool raise it.
    pub struct UnpinnedTools {
        id: "unpinned-tools",
        summary: "action installs an unpinned external tool",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

/// Actions that install a tool: (action, version input, values that float).
pub(crate) const TOOL_ACTIONS: &[(&str, &str, &[&str])] = &[
    ("aquasecurity/setup-trivy", "version", &["latest"]),
    ("1password/load-secrets-action", "version", &["latest"]),
    ("extractions/setup-just", "just-version", &["*", "latest"]),
    ("extractions/setup-crate", "version", &["*", "latest"]),
    (
        "hashicorp/setup-terraform",
        "terraform_version",
        &["latest"],
    ),
    ("azure/setup-helm", "version", &["latest"]),
];

/// The tool-installing action a step uses, with its version input and floating values.
pub(crate) fn tool_action(step: &Step<'_>) -> Option<(&'static str, &'static [&'static str])> {
    let name = step.action_name()?;
    TOOL_ACTIONS
        .iter()
        .find(|(a, _, _)| name == *a)
        .map(|(_, input, floating)| (*input, *floating))
}

impl Audit for UnpinnedTools {
    fn step(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        _job: Option<&Job<'_>>,
        step: &Step<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), step, out);
    }
}

fn check(file: &Arc<SourceFile>, step: &Step<'_>, out: &mut Vec<Finding>) {
    let (Some((input, floating)), Some(uses)) = (tool_action(step), step.uses) else {
        return;
    };
    let name = step.action_name().unwrap_or_default();
    let uses_loc = Location::file(
        file,
        uses.span(),
        step.route.key("uses"),
        "this action installs a tool",
    );
    let Some(value) = step.input_node(input) else {
        out.push(Finding::new(
            &UnpinnedTools::META,
            format!("`{name}` installs an unpinned tool: `{input}` is not set, so it floats"),
            Location::file(
                file,
                uses.span(),
                step.route.key("uses"),
                format!("omitting `{input}` selects an unpinned tool version"),
            ),
        ));
        return;
    };
    let text = value.as_str().unwrap_or_default().trim();
    let route = step.route.key("with").key(input);
    if text.contains("${{") {
        out.push(
            Finding::new(
                &UnpinnedTools::META,
                format!(
                    "`{name}` installs a tool whose version `{input}` is chosen by an expression"
                ),
                Location::file(file, value.span(), route, "tool version may be unpinned"),
            )
            .related(uses_loc)
            .confidence(Confidence::Low),
        );
    } else if text.is_empty() || floating.iter().any(|f| text.eq_ignore_ascii_case(f)) {
        out.push(
            Finding::new(
                &UnpinnedTools::META,
                format!("`{name}` installs an unpinned tool: `{input}: {text}` floats"),
                Location::file(
                    file,
                    value.span(),
                    route,
                    "selects an unpinned tool version",
                ),
            )
            .related(uses_loc),
        );
    }
}
