//! A GitHub Actions workflow.

use std::cell::OnceCell;
use std::sync::Arc;

use crate::diagnostic::Checker;
use crate::expr::sites::{Site, sites};
use crate::models::disabled::live_sites;
use crate::models::permissions::check_permissions;
use crate::models::run_script::RunScript;
use crate::models::step::{is_expression, parse_steps};
use crate::models::{Step, Uses};
use crate::route::Route;
use crate::source::SourceFile;
use crate::yaml::{Document, Node};

/// Events GitHub accepts under `on:`.
const EVENTS: &[&str] = &[
    "branch_protection_rule",
    "check_run",
    "check_suite",
    "create",
    "delete",
    "deployment",
    "deployment_status",
    "discussion",
    "discussion_comment",
    "fork",
    "gollum",
    "image_version",
    "issue_comment",
    "issues",
    "label",
    "merge_group",
    "milestone",
    "page_build",
    "project",
    "project_card",
    "project_column",
    "public",
    "pull_request",
    "pull_request_comment",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_target",
    "push",
    "registry_package",
    "release",
    "repository_dispatch",
    "schedule",
    "status",
    "watch",
    "workflow_call",
    "workflow_dispatch",
    "workflow_run",
];

const INPUT_TYPES: &[&str] = &["boolean", "choice", "number", "environment", "string"];

#[derive(Debug, Clone)]
pub struct Trigger<'a> {
    pub event: &'a str,
    /// Where the event is named (the key, or the list item, or the whole `on:` string).
    pub name_node: Node<'a>,
    /// The event's configuration, when written as a mapping.
    pub config: Option<Node<'a>>,
}

#[derive(Debug, Clone)]
pub enum JobKind<'a> {
    Normal {
        steps: Vec<Step<'a>>,
    },
    /// A call to a reusable workflow.
    Reusable {
        uses: Node<'a>,
    },
}

#[derive(Debug, Clone)]
pub struct Job<'a> {
    pub id: &'a str,
    pub id_node: Node<'a>,
    pub node: Node<'a>,
    pub route: Route,
    pub kind: JobKind<'a>,
}

impl<'a> Job<'a> {
    pub fn steps(&self) -> &[Step<'a>] {
        match &self.kind {
            JobKind::Normal { steps } => steps,
            JobKind::Reusable { .. } => &[],
        }
    }

    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.node.get(key)
    }

    pub fn permissions(&self) -> Option<Node<'a>> {
        self.node.get("permissions")
    }

    /// The reusable workflow called, if this job is a call.
    pub fn reusable_uses(&self) -> Option<(Node<'a>, Option<Uses<'a>>)> {
        match &self.kind {
            JobKind::Reusable { uses } => Some((*uses, uses.as_str().and_then(Uses::parse))),
            JobKind::Normal { .. } => None,
        }
    }

    /// The deployment environment's name, if the job has one.
    pub fn environment_name(&self) -> Option<&'a str> {
        let env = self.node.get("environment")?;
        env.as_str().or_else(|| env.get_str("name"))
    }
}

/// The top-level keys of GitHub's workflow syntax.
const WORKFLOW_KEYS: &[&str] = &[
    "name",
    "run-name",
    "on",
    "permissions",
    "env",
    "defaults",
    "concurrency",
    "jobs",
];

/// A workflow file, checked for the shape GitHub requires.
pub struct Workflow<'a> {
    pub file: &'a Arc<SourceFile>,
    pub doc: &'a Document,
    pub root: Node<'a>,
    pub on: Node<'a>,
    pub triggers: Vec<Trigger<'a>>,
    pub jobs: Vec<Job<'a>>,
    /// Every expression, parsed once on first use and shared by the audits that read them.
    expr_sites: OnceCell<Vec<Site<'a>>>,
}

impl<'a> Workflow<'a> {
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.root.get(key)
    }

    pub fn permissions(&self) -> Option<Node<'a>> {
        self.root.get("permissions")
    }

    /// Every `${{ }}` expression and bare `if:` condition of the workflow, in document order.
    pub fn expr_sites(&self) -> &[Site<'a>] {
        self.expr_sites
            .get_or_init(|| live_sites(self.root, sites(self.root)))
    }

    /// Every `run:` script with its job and step, read in the step's dialect, in file order.
    pub fn run_scripts(&self) -> impl Iterator<Item = (&Job<'a>, &Step<'a>, &RunScript<'a>)> {
        self.steps()
            .filter_map(|(job, step)| Some((job, step, step.run_script(self.file)?)))
    }

    pub fn has_trigger(&self, event: &str) -> bool {
        self.triggers.iter().any(|t| t.event == event)
    }

    /// Every step of every job, with its job.
    pub fn steps(&self) -> impl Iterator<Item = (&Job<'a>, &Step<'a>)> {
        self.jobs
            .iter()
            .flat_map(|j| j.steps().iter().map(move |s| (j, s)))
    }

    /// Builds the view; returns the problems found, and `None` when the file cannot be audited.
    pub fn build(
        file: &'a Arc<SourceFile>,
        doc: &'a Document,
    ) -> (Option<Workflow<'a>>, Vec<crate::diagnostic::Diagnostic>) {
        let mut ck = Checker::new(file);
        let Some(root) = doc.root() else {
            ck.error(
                Default::default(),
                "workflow file is empty",
                "a workflow needs `on:` and `jobs:`",
            );
            return (None, ck.diagnostics);
        };
        // Other YAML kept beside workflows (a pre-commit config, a template's data) is not a
        // broken workflow: it is named as skipped, and the run does not fail for it.
        if !root.is_mapping() || (root.get("on").is_none() && root.get("jobs").is_none()) {
            ck.warning(
                root.span(),
                "not a workflow (no `on:` or `jobs:`); skipped",
                "move files that are not workflows out of `.github/workflows`",
            );
            return (None, ck.diagnostics);
        }
        let on = match root.get("on") {
            Some(on) => on,
            None => {
                ck.error(
                    root.span(),
                    "workflow has no `on:` trigger",
                    "add `on:` with the events that start it",
                );
                return (None, ck.diagnostics);
            }
        };
        for (key, _) in root.entries() {
            let name = key.as_str().unwrap_or_default();
            if !WORKFLOW_KEYS.contains(&name) {
                ck.warning(
                    key.span(),
                    format!("`{name}` is not a workflow key; GitHub rejects the workflow"),
                    format!("use one of {}", WORKFLOW_KEYS.join(", ")),
                );
            }
        }
        let triggers = parse_triggers(&mut ck, on);
        if let Some(p) = root.get("permissions") {
            check_permissions(&mut ck, p, &Route::root().key("permissions"));
        }
        let jobs = match root.get("jobs") {
            Some(jobs) if jobs.is_mapping() => parse_jobs(&mut ck, jobs, root),
            Some(jobs) => {
                ck.error(
                    jobs.span(),
                    "`jobs` must be a mapping of job ids to jobs",
                    "write `jobs:` as `id: {runs-on: ..., steps: [...]}` entries",
                );
                Vec::new()
            }
            None => {
                ck.error(
                    root.span(),
                    "workflow has no `jobs:`",
                    "add at least one job under `jobs:`",
                );
                Vec::new()
            }
        };
        if ck.has_errors() {
            return (None, ck.diagnostics);
        }
        let wf = Workflow {
            file,
            doc,
            root,
            on,
            triggers,
            jobs,
            expr_sites: OnceCell::new(),
        };
        (Some(wf), ck.diagnostics)
    }
}

fn parse_triggers<'a>(ck: &mut Checker<'_>, on: Node<'a>) -> Vec<Trigger<'a>> {
    let mut triggers = Vec::new();
    let mut add =
        |ck: &mut Checker<'_>, event: &'a str, name_node: Node<'a>, config: Option<Node<'a>>| {
            if !EVENTS.contains(&event) {
                ck.warning(
                    name_node.span(),
                    format!("unknown event `{event}`"),
                    "check the spelling against GitHub's list of workflow events",
                );
            }
            triggers.push(Trigger {
                event,
                name_node,
                config,
            });
        };
    if let Some(event) = on.as_str() {
        add(ck, event, on, None);
    } else if on.is_sequence() {
        for item in on.items() {
            match item.as_str() {
                Some(event) => add(ck, event, item, None),
                None => ck.error(
                    item.span(),
                    "an `on:` list must hold event names",
                    "write `on: [push, pull_request]`, or use a mapping to configure events",
                ),
            }
        }
    } else if on.is_mapping() {
        for (k, v) in on.entries() {
            let Some(event) = k.as_str() else { continue };
            if !(v.is_null() || v.is_mapping() || (event == "schedule" && v.is_sequence())) {
                ck.error(
                    v.span(),
                    format!("`on.{event}` must be a mapping or empty"),
                    format!("write `{event}:` with filters such as `branches:`, or leave it empty"),
                );
                continue;
            }
            if event == "workflow_dispatch" || event == "workflow_call" {
                check_inputs(ck, event, v);
            }
            add(ck, event, k, v.is_mapping().then_some(v));
        }
    } else {
        ck.error(
            on.span(),
            "`on:` must be an event, a list of events or a mapping",
            "write e.g. `on: push` or `on: [push, pull_request]`",
        );
    }
    triggers
}

fn check_inputs(ck: &mut Checker<'_>, event: &str, config: Node<'_>) {
    let Some(inputs) = config.get("inputs") else {
        return;
    };
    for (name, input) in inputs.entries() {
        let Some(ty) = input.get("type") else {
            continue;
        };
        let ty_str = ty.as_str().unwrap_or_default();
        let allowed: &[&str] = if event == "workflow_call" {
            &["boolean", "number", "string"]
        } else {
            INPUT_TYPES
        };
        if !allowed.contains(&ty_str) {
            ck.warning(
                ty.span(),
                format!(
                    "input `{}` of `{event}` has type `{ty_str}`, which GitHub does not know",
                    name.as_str().unwrap_or("?")
                ),
                format!("use one of: {}", allowed.join(", ")),
            );
        }
    }
}

fn parse_jobs<'a>(ck: &mut Checker<'_>, jobs: Node<'a>, root: Node<'a>) -> Vec<Job<'a>> {
    let mut out = Vec::new();
    for (id_node, node) in jobs.entries() {
        let Some(id) = id_node.as_str() else { continue };
        let route = Route::root().key("jobs").key(id);
        if !node.is_mapping() {
            ck.error(
                node.span(),
                format!("job `{id}` must be a mapping"),
                "give the job `runs-on:` and `steps:`, or `uses:` to call a reusable workflow",
            );
            continue;
        }
        if let Some(p) = node.get("permissions") {
            check_permissions(ck, p, &route.key("permissions"));
        }
        let kind = if let Some(uses) = node.get("uses") {
            if !uses.is_scalar() {
                ck.error(uses.span(), format!("`jobs.{id}.uses` must be a string"), "write `owner/repo/.github/workflows/file.yml@ref` or `./.github/workflows/file.yml`");
            }
            JobKind::Reusable { uses }
        } else {
            if node.get("runs-on").is_none() {
                ck.error(
                    id_node.span(),
                    format!("job `{id}` has no `runs-on:`"),
                    "add `runs-on:` with a runner label, or `uses:` to call a reusable workflow",
                );
            }
            let steps = match node.get("steps") {
                Some(s) if is_expression(s) => Vec::new(),
                Some(s) => parse_steps(ck, s, &route.key("steps"), Some(node), Some(root)),
                None => Vec::new(),
            };
            JobKind::Normal { steps }
        };
        // A job that can never run is checked for shape but left out of the model.
        if crate::models::disabled::is_disabled(node) {
            continue;
        }
        out.push(Job {
            id,
            id_node,
            node,
            route,
            kind,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Workflow;
    use crate::diagnostic::Level;
    use crate::source::{FileKind, SourceFile};
    use crate::yaml::{Document, Limits};

    fn build(text: &str) -> (bool, Vec<(Level, Option<usize>, String)>) {
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let doc = Document::parse(&file, &Limits::default()).unwrap();
        let (wf, diags) = Workflow::build(&file, &doc);
        let diags = diags
            .into_iter()
            .map(|d| (d.level, d.line, d.message))
            .collect();
        (wf.is_some(), diags)
    }

    #[test]
    fn an_unknown_top_level_key_is_a_warning() {
        let (ok, diags) =
            build("on: push\nnmae: x\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: x\n");
        assert!(ok);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(matches!(diags[0].0, Level::Warning));
        assert_eq!(diags[0].1, Some(2));
        assert!(diags[0].2.contains("`nmae`"), "{diags:?}");
        let (_, clean) = build(
            "name: n\nrun-name: r\non: push\nenv: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: x\n",
        );
        assert!(clean.is_empty(), "{clean:?}");
    }

    #[test]
    fn yaml_that_is_not_a_workflow_is_skipped_not_failed() {
        for text in ["repos:\n  - repo: local\n", "- a\n- b\n"] {
            let (ok, diags) = build(text);
            assert!(!ok);
            assert_eq!(diags.len(), 1, "{diags:?}");
            assert!(matches!(diags[0].0, Level::Warning), "{diags:?}");
            assert!(diags[0].2.contains("not a workflow"), "{diags:?}");
        }
        let (_, diags) = build("jobs:\n  a:\n    runs-on: x\n    steps:\n      - run: x\n");
        assert!(matches!(diags[0].0, Level::Error), "{diags:?}");
    }

    #[test]
    fn parallel_groups_are_steps() {
        let text = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: one\n      - parallel:\n          - run: two\n          - uses: actions/checkout@v4\n";
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let doc = Document::parse(&file, &Limits::default()).unwrap();
        let (wf, diags) = Workflow::build(&file, &doc);
        assert!(
            diags.is_empty(),
            "{:?}",
            diags.iter().map(|d| &d.message).collect::<Vec<_>>()
        );
        let routes: Vec<String> = wf.unwrap().jobs[0]
            .steps()
            .iter()
            .map(|s| s.route.to_string())
            .collect();
        assert_eq!(
            routes,
            [
                "jobs.a.steps[0]",
                "jobs.a.steps[1].parallel[0]",
                "jobs.a.steps[1].parallel[1]"
            ]
        );
        let (ok, diags) = build(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - parallel:\n          - parallel:\n              - run: x\n",
        );
        assert!(!ok);
        assert!(diags.iter().any(|d| d.2.contains("parallel")), "{diags:?}");
    }
}
