//! An action definition (`action.yml`).

use std::cell::OnceCell;
use std::sync::Arc;

use crate::diagnostic::{Checker, Diagnostic};
use crate::expr::sites::{Site, sites};
use crate::models::Step;
use crate::models::disabled::live_sites;
use crate::models::run_script::RunScript;
use crate::models::step::{is_expression, parse_steps};
use crate::route::Route;
use crate::source::SourceFile;
use crate::yaml::{Document, Node};

#[derive(Debug, Clone)]
pub enum ActionRuns<'a> {
    Composite {
        steps: Vec<Step<'a>>,
    },
    Docker {
        image: Node<'a>,
    },
    /// A JavaScript action (`node20`, `node24`, ...).
    Node {
        using: &'a str,
    },
}

pub struct Action<'a> {
    pub file: &'a Arc<SourceFile>,
    pub doc: &'a Document,
    pub root: Node<'a>,
    pub runs: ActionRuns<'a>,
    pub runs_node: Node<'a>,
    /// Every expression, parsed once on first use and shared by the audits that read them.
    expr_sites: OnceCell<Vec<Site<'a>>>,
}

impl<'a> Action<'a> {
    /// Every `${{ }}` expression and bare `if:` condition of the action, in document order.
    pub fn expr_sites(&self) -> &[Site<'a>] {
        self.expr_sites
            .get_or_init(|| live_sites(self.root, sites(self.root)))
    }

    /// Every `run:` script of a composite action with its step, read in the step's `shell:`.
    pub fn run_scripts(&self) -> impl Iterator<Item = (&Step<'a>, &RunScript<'a>)> {
        self.steps()
            .iter()
            .filter_map(|step| Some((step, step.run_script(self.file)?)))
    }

    pub fn steps(&self) -> &[Step<'a>] {
        match &self.runs {
            ActionRuns::Composite { steps } => steps,
            _ => &[],
        }
    }

    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.root.get(key)
    }

    pub fn build(
        file: &'a Arc<SourceFile>,
        doc: &'a Document,
    ) -> (Option<Action<'a>>, Vec<Diagnostic>) {
        let mut ck = Checker::new(file);
        let Some(root) = doc.root() else {
            ck.error(
                Default::default(),
                "action file is empty",
                "an action needs `name:` and `runs:`",
            );
            return (None, ck.diagnostics);
        };
        if !root.is_mapping() {
            ck.error(
                root.span(),
                "an action must be a mapping",
                "start the file with `name:` and `runs:` keys",
            );
            return (None, ck.diagnostics);
        }
        let Some(runs_node) = root.get("runs").filter(|r| r.is_mapping()) else {
            let span = root.get("runs").map_or(root.span(), |r| r.span());
            ck.error(
                span,
                "action has no `runs:` mapping",
                "add `runs:` with `using: composite`, `docker` or `node24`",
            );
            return (None, ck.diagnostics);
        };
        let route = Route::root().key("runs");
        let using = runs_node.get_str("using").unwrap_or_default();
        let runs = match using {
            "composite" => {
                let steps = match runs_node.get("steps") {
                    Some(s) if !is_expression(s) => {
                        parse_steps(&mut ck, s, &route.key("steps"), None, None)
                    }
                    Some(_) => Vec::new(),
                    None => {
                        ck.error(
                            runs_node.span(),
                            "composite action has no `runs.steps`",
                            "add the steps the action runs",
                        );
                        Vec::new()
                    }
                };
                ActionRuns::Composite { steps }
            }
            "docker" => match runs_node.get("image") {
                Some(image) => ActionRuns::Docker { image },
                None => {
                    ck.error(
                        runs_node.span(),
                        "docker action has no `runs.image`",
                        "name a Dockerfile or a `docker://` image",
                    );
                    return (None, ck.diagnostics);
                }
            },
            u if u.starts_with("node") => ActionRuns::Node { using: u },
            other => {
                let span = runs_node
                    .get("using")
                    .map_or(runs_node.span(), |u| u.span());
                ck.error(
                    span,
                    format!("unknown `runs.using: {other}`"),
                    "use `composite`, `docker`, or a Node.js version such as `node24`",
                );
                return (None, ck.diagnostics);
            }
        };
        if ck.has_errors() {
            return (None, ck.diagnostics);
        }
        (
            Some(Action {
                file,
                doc,
                root,
                runs,
                runs_node,
                expr_sites: OnceCell::new(),
            }),
            ck.diagnostics,
        )
    }
}
