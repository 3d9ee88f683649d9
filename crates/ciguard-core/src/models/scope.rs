//! What a workflow tells about `env`, `matrix` and `inputs` where a step runs: refines the
//! default trust of [`classify`] with the definitions in scope.

use crate::expr::contexts::{Trust, classify};
use crate::expr::{ContextPath, Seg, expansions};
use crate::models::{Job, Step, Workflow};
use crate::yaml::Node;

/// The definitions visible from one step.
#[derive(Default, Clone)]
pub struct Scope<'a> {
    /// `env:` mappings, innermost (step) first.
    envs: Vec<Node<'a>>,
    matrix: Option<Node<'a>>,
    /// `inputs:` of `workflow_dispatch` and `workflow_call`.
    inputs: Vec<Node<'a>>,
}

impl<'a> Scope<'a> {
    /// The scope of a workflow step (or of a job, with `step` `None`).
    pub fn workflow(wf: &Workflow<'a>, job: &Job<'a>, step: Option<&Step<'a>>) -> Self {
        let mut envs = Vec::new();
        if let Some(env) = step.and_then(|s| s.node.get("env")) {
            envs.push(env);
        }
        envs.extend(job.get("env"));
        envs.extend(wf.get("env"));
        let inputs = wf
            .triggers
            .iter()
            .filter(|t| matches!(t.event, "workflow_dispatch" | "workflow_call"))
            .filter_map(|t| t.config.and_then(|c| c.get("inputs")))
            .collect();
        Scope {
            envs,
            matrix: job.get("strategy").and_then(|s| s.get("matrix")),
            inputs,
        }
    }

    /// The scope of a composite action's step: its inputs come from the caller.
    pub fn action_step(step: &Step<'a>) -> Self {
        Scope {
            envs: step.node.get("env").into_iter().collect(),
            ..Default::default()
        }
    }

    /// How far the value of `path` can be trusted here.
    pub fn trust(&self, path: &ContextPath) -> Trust {
        self.trust_at(path, 0)
    }

    fn trust_at(&self, path: &ContextPath, depth: usize) -> Trust {
        let base = classify(path);
        match path.root() {
            Some("env") => self.env_trust(path, depth),
            Some("matrix") if self.matrix.is_some_and(is_static) => Trust::Safe,
            Some("inputs") => self.input_trust(path.name(1)),
            Some("github") if base == Trust::Input => self.input_trust(path.name(3)),
            _ => base,
        }
    }

    fn env_trust(&self, path: &ContextPath, depth: usize) -> Trust {
        let Some(name) = path.name(1) else {
            return Trust::Unknown;
        };
        for env in &self.envs {
            if !env.is_mapping() {
                // `env: ${{ fromJSON(...) }}`: anything.
                return Trust::Unknown;
            }
            let Some((_, value)) = env
                .entries()
                .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            else {
                continue;
            };
            let Some(text) = value.as_str() else {
                return Trust::Safe;
            };
            if depth > 2 {
                return Trust::Unknown;
            }
            return self.text_trust(text, depth + 1);
        }
        Trust::Unknown
    }

    fn input_trust(&self, name: Option<&str>) -> Trust {
        let Some(name) = name else {
            return Trust::Input;
        };
        let mut declared = false;
        for inputs in &self.inputs {
            let Some((_, decl)) = inputs
                .entries()
                .find(|(k, _)| k.as_str().is_some_and(|k| k.eq_ignore_ascii_case(name)))
            else {
                continue;
            };
            declared = true;
            if !matches!(
                decl.get_str("type"),
                Some("boolean" | "number" | "choice" | "environment")
            ) {
                return Trust::Input;
            }
        }
        if declared { Trust::Safe } else { Trust::Input }
    }

    /// The worst trust of the values expanded in `text` (a scalar with `${{ }}` in it).
    pub fn text_trust(&self, text: &str, depth: usize) -> Trust {
        let mut worst = Trust::Safe;
        for exp in expansions(text) {
            let Some(expr) = exp.expr() else {
                return Trust::Unknown;
            };
            for (path, _) in expr.value_contexts() {
                worst = worst.min(self.trust_at(&path, depth));
            }
        }
        worst
    }
}

/// A matrix whose every value is written in the workflow.
fn is_static(matrix: Node<'_>) -> bool {
    if !matrix.is_mapping() {
        return false;
    }
    let mut dynamic = false;
    matrix.walk(&crate::route::Route::root(), &mut |n, _| {
        if n.as_str().is_some_and(|s| s.contains("${{")) {
            dynamic = true;
        }
    });
    !dynamic
}

/// A short environment variable name for a context path: `github.event.pull_request.title`
/// gives `PULL_REQUEST_TITLE`, `github.head_ref` gives `HEAD_REF`.
pub fn env_name_for(path: &ContextPath) -> String {
    let names: Vec<&str> = path
        .segs
        .iter()
        .filter_map(|s| match s {
            Seg::Name(n) if n != "github" && n != "event" => Some(n.as_str()),
            _ => None,
        })
        .collect();
    let tail = &names[names.len().saturating_sub(2)..];
    let mut out: String = tail
        .join("_")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || out.starts_with("GITHUB_")
    {
        out.insert_str(0, "EXPR_");
    }
    out
}
