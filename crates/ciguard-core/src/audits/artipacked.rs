use crate::audit::{Audit, AuditContext};
use crate::audits::common::{File, column_of, toolkit_bool};
use crate::declare_audit;
use crate::finding::{Applicability, Confidence, Edit, Finding, Location, Persona, Severity};
use crate::models::{Action, Step, Uses, Workflow};
use crate::route::Route;
use crate::source::Span;
use crate::yaml::{Node, Style};

declare_audit! {
    /// ## What it does
    ///
    /// Reports `actions/checkout` steps that do not set `persist-credentials: false`. The finding
    /// is high when a later step of the same job uploads the workspace (`path: .`, `..` or
    /// `${{ github.workspace }}`) with `actions/upload-artifact` and the checkout is older than
    /// v6, which wrote the token into `.git/config`. An explicit `persist-credentials: true` is
    /// taken as intended and reported only to auditors.
    ///
    /// ## Why is this bad?
    ///
    /// By default `actions/checkout` leaves the job's token on disk so that later `git` commands
    /// are authenticated: in `.git/config` up to v5, in a file under `$RUNNER_TEMP` from v6 (no
    /// version changed the default to `false`). Every later step, including third-party actions
    /// and build scripts, can read it; up to v5 an artifact of the workspace publishes it.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
    ///         with:
    ///           persist-credentials: false
    /// ```
    ///
    /// ## Fix
    ///
    /// Safe: `--fix` adds `persist-credentials: false` to the step's `with:` (creating it when
    /// absent), keeping the file's indentation and flow mappings. A step that sets
    /// `persist-credentials` to `true` or an expression gets an unsafe fix: jobs that push need
    /// the credential.
    pub struct Artipacked {
        id: "artipacked",
        summary: "credentials persisted by actions/checkout",
        severity: Medium,
        confidence: Low,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: Safe,
        transitive: Consumer,
    }
}

impl Audit for Artipacked {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        for job in &wf.jobs {
            let aliases = step_aliases(job.node.get("steps"), &job.route.key("steps"));
            check_steps(wf.file, job.steps(), &aliases, out);
        }
    }

    fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        let route = Route::root().key("runs").key("steps");
        let aliases = step_aliases(action.runs_node.get("steps"), &route);
        check_steps(action.file, action.steps(), &aliases, out);
    }
}

fn is(step: &Step<'_>, name: &str) -> bool {
    matches!(step.uses_ref(), Some(Uses::Repository(r)) if r.slug().eq_ignore_ascii_case(name) && r.path.is_none())
}

/// The checkout's major version from its ref or the `# vX` comment of a SHA pin.
fn major_version(file: &File, step: &Step<'_>) -> Option<u32> {
    let Some(Uses::Repository(r)) = step.uses_ref() else {
        return None;
    };
    let from = |s: &str| -> Option<u32> {
        let digits: String = s
            .trim()
            .trim_start_matches(['v', 'V'])
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    match r.git_ref {
        Some(_) if r.is_sha_pinned() => file
            .trailing_comment(step.uses?.span())
            .and_then(|c| c.split_whitespace().find_map(from)),
        Some(g) => from(g),
        None => None,
    }
}

fn leaks_workspace(step: &Step<'_>) -> bool {
    is(step, "actions/upload-artifact")
        && step.input("path").is_some_and(|p| {
            p.lines().map(str::trim).any(|l| {
                matches!(l, "." | "./" | ".." | "../")
                    || (l.contains("${{") && l.contains("github.workspace"))
            })
        })
}

/// The steps written as an alias (`- *checkout`), by route, with where the alias is: the
/// models see the anchored step itself, so a finding on it would otherwise never show the job
/// that pulls it in.
fn step_aliases(steps: Option<Node<'_>>, route: &Route) -> Vec<(Route, Span)> {
    let mut found = Vec::new();
    if let Some(steps) = steps {
        steps.walk(route, &mut |node, at| {
            if node.is_alias() && node.resolve().is_mapping() {
                found.push((at.clone(), node.span()));
            }
        });
    }
    found
}

/// The `&name` anchor written just before a node (`- &checkout` above its first key, or before
/// the `{` of a flow mapping), which
/// the parser does not keep: a fix there changes every step that aliases it.
fn anchor_before(text: &str, start: usize) -> Option<Span> {
    let blank = [' ', '\t', '\r', '\n'];
    // A flow mapping's span starts at its first key, after the `{`.
    let before = text.get(..start)?.trim_end_matches(blank);
    let before = before
        .strip_suffix('{')
        .unwrap_or(before)
        .trim_end_matches(blank);
    let token_start = before
        .rfind(|c: char| c.is_whitespace() || matches!(c, '-' | '[' | '{' | ',' | ':'))
        .map_or(0, |i| i + 1);
    let token = &before[token_start..];
    (token.len() > 1 && token.starts_with('&')).then(|| Span::new(token_start, before.len()))
}

fn check_steps(file: &File, steps: &[Step<'_>], aliases: &[(Route, Span)], out: &mut Vec<Finding>) {
    for (i, step) in steps.iter().enumerate() {
        if !is(step, "actions/checkout") {
            continue;
        }
        let setting = step.input_node("persist-credentials");
        let explicit_true = match setting {
            None => false,
            Some(n) => match toolkit_bool(n) {
                Some(false) => continue,
                Some(true) => true,
                None => false,
            },
        };
        let in_git_config = major_version(file, step).is_none_or(|v| v < 6);
        let upload = steps[i + 1..]
            .iter()
            .find(|s| leaks_workspace(s))
            .filter(|_| in_git_config);
        let message = if upload.is_some() {
            "checkout persists credentials into `.git/config` and a later step uploads the workspace"
        } else {
            "checkout persists credentials on disk for every later step to read"
        };
        let mut f = Finding::new(
            &Artipacked::META,
            message,
            Location::file(
                file,
                step.node.span(),
                step.route.clone(),
                "does not set `persist-credentials: false`",
            ),
        );
        if let Some(up) = upload {
            f = f
                .severity(Severity::High)
                .confidence(Confidence::High)
                .related(Location::file(
                    file,
                    up.node.span(),
                    up.route.clone(),
                    "uploads the workspace with the credentials",
                ));
        }
        if let Some((_, at)) = aliases.iter().find(|(r, _)| *r == step.route) {
            f = f.related(Location::file(
                file,
                *at,
                step.route.clone(),
                "the anchored checkout is used here",
            ));
        }
        if let Some(anchor) = anchor_before(&file.text, step.node.span().start) {
            f = f.related(Location::file(
                file,
                anchor,
                step.route.clone(),
                "anchored here: a fix applies to every alias",
            ));
        }
        if step.get("with").is_some_and(|w| !w.is_mapping())
            && let Some(span) = step.node.entry_span("with")
        {
            f = f.related(Location::file(
                file,
                span,
                step.route.key("with"),
                "`with:` is one expression: whether it sets `persist-credentials` is unknown",
            ));
        }
        if explicit_true {
            f = f.persona(Persona::Auditor);
        }
        if let Some(edit) = fix_edit(file, step) {
            let applicability = if setting.is_some() {
                Applicability::Unsafe
            } else {
                Applicability::Safe
            };
            f = f.fix(
                "set `persist-credentials: false`",
                applicability,
                vec![edit],
            );
        }
        out.push(f);
    }
}

/// Where and how to write `persist-credentials: false` into the step.
fn fix_edit(file: &File, step: &Step<'_>) -> Option<Edit> {
    const ENTRY: &str = "persist-credentials: false";
    if let Some(existing) = step.input_node("persist-credentials") {
        return Some(Edit::replace(existing.span(), "false"));
    }
    let text = &file.text;
    match step.get("with") {
        Some(with) if with.is_flow() => {
            let inner = file
                .slice(with.span())
                .trim_start_matches('{')
                .trim_end_matches('}');
            if inner.trim().is_empty() {
                return Some(Edit::replace(with.span(), format!("{{ {ENTRY} }}")));
            }
            let last = with.entries().last()?.1;
            Some(Edit::insert(last.span().end, format!(", {ENTRY}")))
        }
        Some(with) if with.is_mapping() => {
            let (first_key, _) = with.entries().next()?;
            let at = first_key.span().start;
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            let indent = &text[line_start..at];
            if !indent.bytes().all(|c| c == b' ') {
                return None;
            }
            let last = with.entries().last()?.1;
            let one_line = matches!(
                last.style(),
                Some(Style::Plain | Style::SingleQuoted | Style::DoubleQuoted)
            ) && !last.is_alias()
                && !file.slice(last.span()).contains('\n');
            if one_line {
                Some(insert_line_after(
                    text,
                    last.span().end,
                    &format!("{indent}{ENTRY}"),
                ))
            } else {
                // First in `with:`, so the block scalar ending it keeps its lines.
                Some(Edit::insert(
                    at,
                    format!("{ENTRY}{}{indent}", newline(text)),
                ))
            }
        }
        Some(_) => None,
        None if step.node.is_flow() => Some(Edit::insert(
            step.uses?.span().end,
            format!(", with: {{ {ENTRY} }}"),
        )),
        None => {
            let (uses_key, uses_value) = step.node.entry("uses")?;
            let col = column_of(file, uses_key.span().start);
            let indent = " ".repeat(col);
            let newline = newline(text);
            Some(insert_line_after(
                text,
                uses_value.span().end,
                &format!("{indent}with:{newline}{indent}  {ENTRY}"),
            ))
        }
    }
}

/// The line break the file is written with.
fn newline(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// An edit adding `line` as a new line after the line on which byte `end` lies.
fn insert_line_after(text: &str, end: usize, line: &str) -> Edit {
    let newline = newline(text);
    if end > 0 && text.as_bytes().get(end - 1) == Some(&b'\n') {
        return Edit::insert(end, format!("{line}{newline}"));
    }
    let eol = text[end..].find('\n').map_or(text.len(), |i| end + i);
    let eol = if eol > 0 && text.as_bytes()[eol - 1] == b'\r' {
        eol - 1
    } else {
        eol
    };
    Edit::insert(eol, format!("{newline}{line}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::audit::AuditContext;
    use crate::engine::audit_file;
    use crate::finding::{Persona, Severity};
    use crate::source::{FileKind, SourceFile};
    use crate::yaml::Limits;

    fn findings(checkout: &str, with: &str) -> Vec<crate::finding::Finding> {
        let text = format!(
            "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {checkout}\n{with}      - uses: actions/upload-artifact@v4\n        with:\n          path: ${{{{ github.workspace }}}}\n"
        );
        let file = Arc::new(SourceFile::new("w.yml", FileKind::Workflow, text));
        audit_file(&file, &Limits::default(), &[&super::Artipacked], &|_| {
            AuditContext::empty()
        })
        .findings
    }

    #[test]
    fn an_upload_of_the_workspace_is_high_only_before_v6() {
        let old = findings("actions/checkout@v4", "");
        assert_eq!(
            (old.len(), old[0].severity, old[0].related.len()),
            (1, Severity::High, 1)
        );
        let pinned_old = findings(
            "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2",
            "",
        );
        assert_eq!(pinned_old[0].severity, Severity::High);
        // v6 keeps the token out of `.git/config`, so the artifact does not carry it.
        let new = findings("actions/checkout@v6", "");
        assert_eq!((new.len(), new[0].severity), (1, Severity::Medium));
        let pinned_new = findings(
            "actions/checkout@1af3b93b6815bc44a9784bd300feb67ff0d1eeb3 # v6.0.0",
            "",
        );
        assert_eq!(pinned_new[0].severity, Severity::Medium);
    }

    #[test]
    fn explicit_true_is_for_auditors() {
        let f = findings(
            "actions/checkout@v4",
            "        with:\n          persist-credentials: true\n",
        );
        assert_eq!(f[0].persona, Persona::Auditor);
        assert!(
            findings(
                "actions/checkout@v4",
                "        with:\n          persist-credentials: false\n"
            )
            .is_empty()
        );
    }

    fn lines_of(text: &str) -> Vec<(usize, Vec<usize>)> {
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let report = audit_file(&file, &Limits::default(), &[&super::Artipacked], &|_| {
            AuditContext::empty()
        });
        let line = |l: &crate::finding::Location| file.line_col(l.span().unwrap().start).line;
        report
            .findings
            .iter()
            .map(|f| (line(&f.primary), f.related.iter().map(line).collect()))
            .collect()
    }

    #[test]
    fn an_aliased_step_points_at_the_alias_and_the_anchor() {
        let text = "on: push\njobs:\n  _anchors:\n    runs-on: x\n    steps:\n      - &checkout\n        uses: actions/checkout@v4\n  real:\n    runs-on: x\n    steps:\n      - *checkout\n      - &flow { uses: \"actions/checkout@v4\" }\n      - *flow\n";
        // The primary stays on the anchored step (the text to change); the alias pulling it
        // into `real` and the `&anchor` line are related.
        assert_eq!(
            lines_of(text),
            vec![
                (7, vec![6]),
                (7, vec![11, 6]),
                (12, vec![12]),
                (12, vec![13, 12])
            ]
        );
    }

    #[test]
    fn a_with_that_is_one_expression_is_shown() {
        let text = "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v4\n        with: ${{ fromJSON(needs.a.outputs.o) }}\n      - uses: actions/checkout@v4\n        with:\n          fetch-depth: 0\n";
        assert_eq!(lines_of(text), vec![(6, vec![7]), (8, vec![])]);
    }
}
