use std::sync::Arc;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Applicability, Confidence, Edit, Finding, Location, Persona};
use crate::models::{Job, Step, Workflow, is_expression};
use crate::route::Route;
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `ACTIONS_ALLOW_UNSECURE_COMMANDS` set to a true value in an `env:` block of a
    /// workflow, a job, a step, or a composite action's step. An `env:` that is a whole
    /// expression (`env: ${{ matrix.env }}`) may set it too: that is reported for auditors.
    ///
    /// ## Why is this bad?
    ///
    /// The variable re-enables the `::set-env::` and `::add-path::` workflow commands, which
    /// GitHub disabled in 2020 because any text a step prints can issue them: a log line
    /// containing `::set-env name=NODE_OPTIONS::--require /tmp/x.js` taken from an issue title
    /// or a dependency's output then runs code in every later step (CVE-2020-15228).
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// env:
    ///   ACTIONS_ALLOW_UNSECURE_COMMANDS: true
    /// jobs:
    ///   build:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   build:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make
    /// ```
    ///
    /// ## Fix
    ///
    /// Safe: the `ACTIONS_ALLOW_UNSECURE_COMMANDS` entry is removed (the whole `env:` when it
    /// was its only entry). Write variables through `$GITHUB_ENV` and paths through
    /// `$GITHUB_PATH` instead of the disabled commands.
    pub struct InsecureCommands {
        id: "insecure-commands",
        summary: "execution of insecure workflow commands is enabled",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: Safe,
        transitive: Consumer,
    }
}

const VAR: &str = "ACTIONS_ALLOW_UNSECURE_COMMANDS";

impl Audit for InsecureCommands {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        check(wf.file, wf.root, &Route::root(), out);
    }

    fn job(
        &self,
        _cx: &AuditContext<'_>,
        wf: &Workflow<'_>,
        job: &Job<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(wf.file, job.node, &job.route, out);
    }

    fn step(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        _job: Option<&Job<'_>>,
        step: &Step<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), step.node, &step.route, out);
    }
}

/// C#'s notion of true, which the runner uses: `true` in any case, or a non-zero number.
fn truthy(value: Node<'_>) -> bool {
    let Some(s) = value.as_str() else {
        return false;
    };
    let s = s.trim();
    s.eq_ignore_ascii_case("true") || s.parse::<f64>().is_ok_and(|n| n != 0.0)
}

/// Checks the `env:` of `owner` (the workflow, a job or a step).
fn check(file: &Arc<SourceFile>, owner: Node<'_>, route: &Route, out: &mut Vec<Finding>) {
    let Some((env_key, env)) = owner.entry("env") else {
        return;
    };
    let route = route.key("env");
    if is_expression(env) {
        out.push(
            Finding::new(
                &InsecureCommands::META,
                format!("`{route}` is an expression that may set {VAR}"),
                Location::file(file, env.span(), route, "non-static environment"),
            )
            .confidence(Confidence::Low)
            .persona(Persona::Auditor),
        );
        return;
    }
    let Some((key, value)) = env.entry(VAR) else {
        return;
    };
    if !truthy(value) {
        return;
    }
    let edit = if env.len() == 1 {
        // The only entry: remove the whole `env:`.
        removal(file, env_key.span().cover(env.span()), owner.is_flow())
    } else {
        removal(file, key.span().cover(value.span()), env.is_flow())
    };
    out.push(
        Finding::new(
            &InsecureCommands::META,
            format!(
                "`{VAR}: {}` re-enables the `set-env` and `add-path` workflow commands",
                value.as_str().unwrap_or_default()
            ),
            Location::file(
                file,
                key.span(),
                route.key(VAR),
                "insecure commands enabled here",
            ),
        )
        .related(Location::file(
            file,
            env_key.span(),
            route,
            "in this environment",
        ))
        .fix(format!("remove `{VAR}`"), Applicability::Safe, vec![edit]),
    );
}

/// The edit removing the entry at `span`: in a flow mapping with its comma, in a block mapping
/// its whole line(s) when nothing else is on them.
fn removal(file: &SourceFile, span: Span, flow: bool) -> Edit {
    let text = file.text.as_str();
    let bytes = text.as_bytes();
    if flow {
        // `{A: 1, X: true}` → `{A: 1}`; `{X: true, A: 1}` → `{A: 1}`.
        let mut end = span.end;
        while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
            end += 1;
        }
        if bytes.get(end) == Some(&b',') {
            end += 1;
            while end < bytes.len() && matches!(bytes[end], b' ' | b'\t' | b'\n' | b'\r') {
                end += 1;
            }
            return Edit::replace(Span::new(span.start, end), "");
        }
        let mut start = span.start;
        while start > 0 && matches!(bytes[start - 1], b' ' | b'\t' | b'\n' | b'\r') {
            start -= 1;
        }
        if start > 0 && bytes[start - 1] == b',' {
            return Edit::replace(Span::new(start - 1, span.end), "");
        }
        return Edit::replace(span, "");
    }
    let line_start = text[..span.start].rfind('\n').map_or(0, |n| n + 1);
    let line_end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |n| span.end + n + 1);
    let before = &text[line_start..span.start];
    let after = text[span.end..line_end].trim();
    if before.trim().is_empty() && (after.is_empty() || after.starts_with('#')) {
        Edit::replace(Span::new(line_start, line_end), "")
    } else {
        Edit::replace(span, "")
    }
}
