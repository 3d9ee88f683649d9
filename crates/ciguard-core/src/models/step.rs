//! Steps, shared by workflow jobs and composite actions.

use std::cell::OnceCell;

use crate::diagnostic::Checker;
use crate::models::release::{Command, Publication};
use crate::models::run_script::{RunScript, step_shell};
use crate::models::uses::Uses;
use crate::route::Route;
use crate::shell::Dialect;
use crate::source::SourceFile;
use crate::yaml::Node;

/// One entry of `steps:`.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub index: usize,
    pub node: Node<'a>,
    pub route: Route,
    pub uses: Option<Node<'a>>,
    pub run: Option<Node<'a>>,
    pub with: Option<Node<'a>>,
    pub env: Option<Node<'a>>,
    /// The dialect the `run:` script is read in (see [`step_shell`]).
    pub dialect: Dialect,
    /// The parsed `run:` script, read once on first use and shared by every audit.
    script: OnceCell<Option<RunScript<'a>>>,
    /// The `run:` commands as the release chain names them, built once on first use.
    pub(crate) commands: OnceCell<Vec<Command<'a>>>,
    /// What the step publishes, worked out once on first use.
    pub(crate) publications: OnceCell<Vec<Publication>>,
    /// [`Step::action_name`], worked out once on first use.
    action_name: OnceCell<Option<String>>,
}

impl<'a> Step<'a> {
    /// The parsed `uses:` value, when there is one and it parses.
    pub fn uses_ref(&self) -> Option<Uses<'a>> {
        self.uses.and_then(|u| u.as_str()).and_then(Uses::parse)
    }

    pub fn uses_str(&self) -> Option<&'a str> {
        self.uses.and_then(|u| u.as_str())
    }

    pub fn run_str(&self) -> Option<&'a str> {
        self.run.and_then(|r| r.as_str())
    }

    /// The `run:` script read in the step's dialect; `None` for `uses:` steps. `file` must be
    /// the step's file.
    pub fn run_script(&self, file: &SourceFile) -> Option<&RunScript<'a>> {
        self.script
            .get_or_init(|| RunScript::of_step(file, self, self.dialect))
            .as_ref()
    }

    /// A `with:` input as text.
    pub fn input(&self, name: &str) -> Option<&'a str> {
        self.with.and_then(|w| w.get_str(name))
    }

    pub fn input_node(&self, name: &str) -> Option<Node<'a>> {
        self.with.and_then(|w| w.get(name))
    }

    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.node.get(key)
    }

    pub fn name(&self) -> Option<&'a str> {
        self.node.get_str("name")
    }

    /// `owner/repo[/path]` of the action used, lowercased, without the ref.
    pub fn action_name(&self) -> Option<String> {
        self.action_name
            .get_or_init(|| match self.uses_ref()? {
                Uses::Repository(r) => Some(r.name().to_ascii_lowercase()),
                _ => None,
            })
            .clone()
    }
}

/// `job` and `workflow` are the nodes whose `defaults.run.shell` and `runs-on:` decide the
/// dialect of `run:` scripts (`None` for composite actions).
pub(crate) fn parse_steps<'a>(
    checker: &mut Checker<'_>,
    node: Node<'a>,
    route: &Route,
    job: Option<Node<'a>>,
    workflow: Option<Node<'a>>,
) -> Vec<Step<'a>> {
    if !node.is_sequence() {
        checker.error(
            node.span(),
            format!("`{route}` must be a list of steps"),
            "write each step as a `- ` item with `uses:` or `run:`",
        );
        return Vec::new();
    }
    let mut steps = Vec::new();
    for (index, item) in node.items().enumerate() {
        let route = route.index(index);
        // `- parallel: [steps]` runs a group of steps side by side; each is a step like any.
        if let Some(group) = item.get("parallel") {
            if item.is_mapping() && group.is_sequence() && nested_in(&route, "parallel") == 0 {
                for step in parse_steps(checker, group, &route.key("parallel"), job, workflow) {
                    steps.push(Step { index, ..step });
                }
            } else {
                checker.error(
                    group.span(),
                    format!(
                        "`{route}.parallel` must be a list of steps, not nested in another group"
                    ),
                    "write `parallel:` as a list of `- run:` or `- uses:` steps",
                );
            }
            continue;
        }
        if !item.is_mapping() {
            checker.error(
                item.span(),
                format!("step `{route}` must be a mapping"),
                "give the step `uses:` or `run:` keys",
            );
            continue;
        }
        let uses = item.get("uses");
        let run = item.get("run");
        match (uses, run) {
            (None, None) => checker.error(
                item.span(),
                format!("step `{route}` has neither `uses:` nor `run:`"),
                "every step needs exactly one of `uses:` or `run:`",
            ),
            (Some(u), Some(_)) => checker.error(
                u.span(),
                format!("step `{route}` has both `uses:` and `run:`"),
                "split it into two steps",
            ),
            _ => {}
        }
        if let Some(u) = uses
            && !u.is_scalar()
        {
            checker.error(
                u.span(),
                format!("`{route}.uses` must be a string"),
                "write `owner/repo@ref`, `./path` or `docker://image`",
            );
        }
        if let Some(r) = run
            && !r.is_scalar()
        {
            checker.error(
                r.span(),
                format!("`{route}.run` must be a string"),
                "write the script as a string, e.g. with `run: |`",
            );
        }
        for key in ["with", "env"] {
            if let Some(v) = item.get(key)
                && !v.is_mapping()
                && !is_expression(v)
            {
                checker.error(
                    v.span(),
                    format!("`{route}.{key}` must be a mapping"),
                    format!("write `{key}:` as `name: value` pairs"),
                );
            }
        }
        // A step that can never run is checked for shape (GitHub rejects the file otherwise)
        // but left out of the model, so no audit reports it.
        if crate::models::disabled::is_disabled(item) {
            continue;
        }
        let mut step = Step {
            index,
            node: item,
            route,
            uses,
            run,
            with: item.get("with").filter(|w| w.is_mapping()),
            env: item.get("env").filter(|e| e.is_mapping()),
            dialect: Dialect::Posix,
            script: OnceCell::new(),
            commands: OnceCell::new(),
            publications: OnceCell::new(),
            action_name: OnceCell::new(),
        };
        step.dialect = step_shell(&step, job, workflow).dialect;
        steps.push(step);
    }
    steps
}

/// How many `key` segments `route` goes through.
fn nested_in(route: &Route, key: &str) -> usize {
    route
        .segments()
        .iter()
        .filter(|s| matches!(s, crate::route::Segment::Key(k) if k == key))
        .count()
}

/// A scalar that is a whole `${{ }}` expression, allowed where a mapping or list is expected.
pub(crate) fn is_expression(node: Node<'_>) -> bool {
    node.as_str().is_some_and(|s| {
        let s = s.trim();
        s.starts_with("${{") && s.ends_with("}}")
    })
}
