//! The one walk over the references a workflow or action names: every `uses:` (steps,
//! `parallel:` groups, reusable-workflow jobs) and container image (`container:`, `services:`, a
//! Docker action's `runs.image`), found in the document's tree by the models' rules of shape and
//! each marked when `if: false` switches its job or step off. The audits see the live `uses:`
//! ([`super::workflow_uses`]); pinning rewrites them all, images and disabled jobs included.

use crate::models::disabled::is_disabled;
use crate::route::Route;
use crate::source::FileKind;
use crate::yaml::Node;

/// What a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// A step's `uses:` of an action (`owner/repo[/path]@ref`, `./local`).
    Action,
    /// A job's `uses:` of a reusable workflow.
    ReusableWorkflow,
    /// A step's `uses: docker://image`.
    DockerStep,
    /// A container image: `container:`, `services.*`, a Docker action's `runs.image`.
    Image,
}

impl RefKind {
    /// Whether the reference is written as `uses:` (audited by the `uses` audits).
    pub fn is_uses(self) -> bool {
        !matches!(self, RefKind::Image)
    }
}

/// One reference as written.
#[derive(Debug, Clone)]
pub struct DocRef<'d> {
    /// The value (a scalar for a well-formed file).
    pub node: Node<'d>,
    pub route: Route,
    pub kind: RefKind,
    /// The outermost flow collection (`{...}`, `[...]`) the value is written in, if any.
    pub flow: Option<Node<'d>>,
    /// Its job or step has a constant-false `if:` and never runs.
    pub disabled: bool,
}

/// Every reference of a workflow or action document, in document order.
pub fn document_refs<'d>(kind: FileKind, root: Node<'d>) -> Vec<DocRef<'d>> {
    let mut w = Walk { out: Vec::new() };
    match kind {
        FileKind::Workflow => w.workflow(root),
        FileKind::Action => w.action(root),
        FileKind::Dependabot | FileKind::Dependencies | FileKind::PreCommit => {}
    }
    w.out
}

struct Walk<'d> {
    out: Vec<DocRef<'d>>,
}

impl<'d> Walk<'d> {
    fn push(&mut self, node: Node<'d>, route: Route, kind: RefKind, chain: &[Node<'d>], off: bool) {
        self.out.push(DocRef {
            node,
            route,
            kind,
            flow: chain.iter().copied().find(|n| n.is_flow()),
            disabled: off,
        });
    }

    fn workflow(&mut self, root: Node<'d>) {
        let Some(jobs) = root.get("jobs").filter(|j| j.is_mapping()) else {
            return;
        };
        for (key, job) in jobs.entries() {
            let Some(id) = key.as_str() else { continue };
            if !job.is_mapping() {
                continue;
            }
            let route = Route::root().key("jobs").key(id);
            let off = is_disabled(job);
            let chain = [root, jobs, job];
            // A job that calls a reusable workflow has no runner of its own.
            if let Some(uses) = job.get("uses") {
                self.push(
                    uses,
                    route.key("uses"),
                    RefKind::ReusableWorkflow,
                    &chain,
                    off,
                );
                continue;
            }
            if let Some(container) = job.get("container") {
                match container.get("image") {
                    Some(image) => self.push(
                        image,
                        route.key("container").key("image"),
                        RefKind::Image,
                        &[root, jobs, job, container],
                        off,
                    ),
                    None => self.push(
                        container,
                        route.key("container"),
                        RefKind::Image,
                        &chain,
                        off,
                    ),
                }
            }
            if let Some(services) = job.get("services") {
                for (name, service) in services.entries() {
                    let Some(name) = name.as_str() else { continue };
                    let r = route.key("services").key(name);
                    match service.get("image") {
                        Some(image) => self.push(
                            image,
                            r.key("image"),
                            RefKind::Image,
                            &[root, jobs, job, services, service],
                            off,
                        ),
                        None => self.push(
                            service,
                            r,
                            RefKind::Image,
                            &[root, jobs, job, services],
                            off,
                        ),
                    }
                }
            }
            if let Some(steps) = job.get("steps") {
                self.steps(steps, route.key("steps"), &chain, off, false);
            }
        }
    }

    fn action(&mut self, root: Node<'d>) {
        let Some(runs) = root.get("runs") else { return };
        if let Some(image) = runs.get("image")
            && image
                .as_str()
                .is_some_and(|i| i.trim_start().starts_with("docker://"))
        {
            let route = Route::root().key("runs").key("image");
            self.push(image, route, RefKind::Image, &[root, runs], false);
        }
        if let Some(steps) = runs.get("steps") {
            let route = Route::root().key("runs").key("steps");
            self.steps(steps, route, &[root, runs], false, false);
        }
    }

    /// The `uses:` of `steps` (a list; `${{ }}` and other scalars have none), with `parallel:`
    /// groups one level deep as the models read them.
    fn steps(
        &mut self,
        steps: Node<'d>,
        route: Route,
        outer: &[Node<'d>],
        off: bool,
        nested: bool,
    ) {
        let mut chain = outer.to_vec();
        chain.push(steps);
        for (i, step) in steps.items().enumerate() {
            let route = route.index(i);
            let mut chain = chain.clone();
            chain.push(step);
            if let Some(group) = step.get("parallel") {
                if step.is_mapping() && group.is_sequence() && !nested {
                    self.steps(group, route.key("parallel"), &chain, off, true);
                }
                continue;
            }
            if !step.is_mapping() {
                continue;
            }
            let Some(uses) = step.get("uses") else {
                continue;
            };
            let image = uses
                .as_str()
                .is_some_and(|u| u.trim_start().starts_with("docker://"));
            let kind = if image {
                RefKind::DockerStep
            } else {
                RefKind::Action
            };
            self.push(
                uses,
                route.key("uses"),
                kind,
                &chain,
                off || is_disabled(step),
            );
        }
    }
}
