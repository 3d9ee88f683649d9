use std::sync::Arc;

use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location};
use crate::models::run_script::{RunScript, action_scripts, run_key_span, workflow_scripts};
use crate::models::{Action, Step, Workflow};
use crate::shell::{EnvFile, EnvWrite};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `run:` steps that write computed data to `$GITHUB_ENV` or `$GITHUB_PATH` (by
    /// `>>` redirect, `tee`, or PowerShell's `Out-File`/`Add-Content`) in workflows triggered by
    /// `pull_request_target` or `workflow_run`, and in composite actions, whose callers may be
    /// such workflows. Writes of fixed text (`echo "CI=true" >> $GITHUB_ENV`) are not reported.
    ///
    /// ## Why is this bad?
    ///
    /// Every later step of the job reads these files. A line such as `LD_PRELOAD=...`,
    /// `BASH_ENV=...`, `NODE_OPTIONS=--require ...` or a directory prepended to `PATH` runs
    /// code in every following step. When the written value comes from the pull request (its
    /// title, branch name, an artifact of the triggering run), an outsider chooses that line,
    /// and with a privileged trigger that code runs with the repository's secrets. The finding
    /// is high confidence when the written text contains an expression an outsider controls.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: pull_request_target
    /// permissions: {}
    /// jobs:
    ///   label:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: echo "TITLE=${{ github.event.pull_request.title }}" >> "$GITHUB_ENV"
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: pull_request
    /// permissions: {}
    /// jobs:
    ///   label:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - id: title
    ///         env:
    ///           TITLE: ${{ github.event.pull_request.title }}
    ///         run: echo "Title is $TITLE"
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic. Pass values between steps through `$GITHUB_OUTPUT` and `steps.<id>.outputs`,
    /// or through a step-level `env:`, which cannot set other variables.
    pub struct GithubEnv {
        id: "github-env",
        summary: "dangerous use of environment files",
        severity: High,
        confidence: Low,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

/// Contexts an outsider writes, as they appear inside `${{ }}`.
const ATTACKER_CONTEXTS: &[&str] = &[
    "github.head_ref",
    ".title",
    ".body",
    "head.ref",
    "head.label",
    "head_branch",
    "head_commit.message",
    ".commits",
    "display_title",
    "head.repo.",
    "pages.",
];

impl Audit for GithubEnv {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        let Some(trigger) = ["pull_request_target", "workflow_run"]
            .into_iter()
            .find(|t| wf.has_trigger(t))
        else {
            return;
        };
        let context = format!("in a workflow triggered by `{trigger}`");
        for (_, step, rs) in workflow_scripts(wf) {
            check(wf.file, step, rs, &context, out);
        }
    }

    fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        for (step, rs) in action_scripts(action) {
            check(
                action.file,
                step,
                rs,
                "in a composite action, which privileged workflows may call",
                out,
            );
        }
    }
}

fn check(
    file: &Arc<SourceFile>,
    step: &Step<'_>,
    rs: &RunScript<'_>,
    context: &str,
    out: &mut Vec<Finding>,
) {
    for write in rs.script.env_writes() {
        if !matches!(write.file, EnvFile::Env | EnvFile::Path) || writes_fixed_text(rs, &write) {
            continue;
        }
        let writer = &rs.script.commands[write.writer];
        let sink = &rs.script.commands[write.sink];
        let range = writer.span.cover(sink.span);
        let name = writer.program().unwrap_or("command");
        let attacker = written_text(rs, &write).is_some_and(|t| {
            t.split("${{").skip(1).any(|e| {
                let e = e.split("}}").next().unwrap_or_default();
                ATTACKER_CONTEXTS.iter().any(|c| e.contains(c))
            })
        });
        let mut finding = Finding::new(
            &GithubEnv::META,
            format!("`{name}` writes to {} {context}", write.file.name()),
            Location::file(
                file,
                rs.span(file, range),
                step.route.key("run"),
                format!(
                    "write to {} may set variables for later steps",
                    write.file.name()
                ),
            ),
        )
        .related(Location::file(
            file,
            run_key_span(step),
            step.route.key("run"),
            "in this step",
        ));
        if attacker {
            finding = finding.confidence(Confidence::High);
        }
        out.push(finding);
    }
}

/// `echo`/`printf`/`Write-Output` of literal words only: the line written is fixed.
fn writes_fixed_text(rs: &RunScript<'_>, write: &EnvWrite) -> bool {
    let writer = &rs.script.commands[write.writer];
    let fixed_words = writer.args().iter().all(|w| w.is_literal());
    let is_print = matches!(
        writer.program().map(str::to_ascii_lowercase).as_deref(),
        Some("echo" | "printf" | "write-output" | "write-host")
    );
    is_print && fixed_words && writer.program_index() == Some(0)
}

/// The text written: the writer's words and any heredoc body.
fn written_text<'t>(rs: &'t RunScript<'_>, write: &EnvWrite) -> Option<&'t str> {
    let writer = &rs.script.commands[write.writer];
    let mut span = writer.span;
    for r in &writer.redirects {
        if let Some(body) = r.heredoc {
            span = span.cover(body);
        }
    }
    rs.text.get(span.start..span.end)
}
