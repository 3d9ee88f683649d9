use crate::audit::{Audit, AuditContext, AuditMeta};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location};
use crate::models::{Action, ActionRuns, DockerImage, Uses, Workflow};
use crate::route::Route;
use crate::source::SourceFile;
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports container images that are not pinned to a digest: `docker://` in `uses:`, a job's
    /// `container:`, `services:` images, and a Docker action's `runs.image`.
    ///
    /// ## Why is this bad?
    ///
    /// A tag such as `node:22` or `latest` is a moving pointer: whoever can push to the image's
    /// repository decides what your job runs, and a compromised registry account changes it
    /// silently. Only an `@sha256:` digest names one immutable image.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     container: node:22
    ///     steps:
    ///       - run: npm test
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
    ///     container: node:22@sha256:4c2a1d6a1d5e0b1c6f0c5b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e
    ///     steps:
    ///       - run: npm test
    /// ```
    ///
    /// ## Fix
    ///
    /// `ciguard pin --images` looks up each image's digest in its registry and pins it.
    pub struct UnpinnedImages {
        id: "unpinned-images",
        summary: "container images not pinned to a digest",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for UnpinnedImages {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        for job in &wf.jobs {
            if let Some(container) = job.get("container") {
                let image = container.get("image").unwrap_or(container);
                let route = if container.is_mapping() {
                    job.route.key("container").key("image")
                } else {
                    job.route.key("container")
                };
                check(wf.file, image, route, out);
            }
            if let Some(services) = job.get("services") {
                for (name, service) in services.entries() {
                    let name = name.as_str().unwrap_or_default();
                    let image = service.get("image").unwrap_or(service);
                    check(
                        wf.file,
                        image,
                        job.route.key("services").key(name).key("image"),
                        out,
                    );
                }
            }
            for step in job.steps() {
                if let (Some(node), Some(Uses::Docker(_))) = (step.uses, step.uses_ref()) {
                    check(wf.file, node, step.route.key("uses"), out);
                }
            }
        }
    }

    fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        if let ActionRuns::Docker { image } = &action.runs
            && image.as_str().is_some_and(|s| !is_dockerfile(s))
        {
            check(
                action.file,
                *image,
                Route::root().key("runs").key("image"),
                out,
            );
        }
        for step in action.steps() {
            if let (Some(node), Some(Uses::Docker(_))) = (step.uses, step.uses_ref()) {
                check(action.file, node, step.route.key("uses"), out);
            }
        }
    }
}

/// A Docker action's `runs.image` names a Dockerfile built from the action's own files, unless
/// it is a `docker://` reference or a registry image (`ghcr.io/o/i:tag`, which GitHub also pulls).
fn is_dockerfile(image: &str) -> bool {
    let image = image.trim();
    if image.starts_with("docker://") {
        return false;
    }
    let lower = image.to_ascii_lowercase();
    image.starts_with("./")
        || lower.ends_with("dockerfile")
        || lower.contains("dockerfile.")
        || !image.contains([':', '/'])
}

fn check(file: &std::sync::Arc<SourceFile>, node: Node<'_>, route: Route, out: &mut Vec<Finding>) {
    let Some(raw) = node.as_str() else { return };
    let reference = raw.trim().trim_start_matches("docker://");
    if reference.is_empty() {
        return;
    }
    let image = DockerImage::parse(reference);
    if image.is_digest_pinned() {
        return;
    }
    let dynamic = reference.contains("${{");
    let message = if dynamic {
        format!("image `{reference}` is chosen by an expression and may not be pinned to a digest")
    } else {
        format!("image `{reference}` is not pinned to a digest")
    };
    let mut finding = Finding::new(
        &UnpinnedImages::META,
        message,
        Location::file(file, node.span(), route, "not pinned to an @sha256: digest"),
    );
    if dynamic {
        finding = finding.confidence(Confidence::Low);
    }
    out.push(finding);
}
