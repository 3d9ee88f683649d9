use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::expr::{BinOp, Expr, ExprKind, Seg};
use crate::finding::{Confidence, Finding, Location};
use crate::models::{Action, ActionRuns, DockerImage, Job, Step, Uses, Workflow};
use crate::route::Route;
use crate::source::SourceFile;
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports container images that are not pinned to a digest: `docker://` in `uses:`, a job's
    /// `container:`, `services:` images, and a Docker action's `runs.image`. An image expression
    /// whose every outcome is a pinned image or empty (`${{ matrix.db || '' }}` over a static
    /// matrix of pinned images) is pinned.
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
        transitive: Consumer,
    }
}

impl Audit for UnpinnedImages {
    fn job(
        &self,
        _cx: &AuditContext<'_>,
        wf: &Workflow<'_>,
        job: &Job<'_>,
        out: &mut Vec<Finding>,
    ) {
        if let Some(container) = job.get("container") {
            let image = container.get("image").unwrap_or(container);
            let route = if container.is_mapping() {
                job.route.key("container").key("image")
            } else {
                job.route.key("container")
            };
            check(wf.file, image, route, Some(job.node), out);
        }
        if let Some(services) = job.get("services") {
            for (name, service) in services.entries() {
                let name = name.as_str().unwrap_or_default();
                let image = service.get("image").unwrap_or(service);
                check(
                    wf.file,
                    image,
                    job.route.key("services").key(name).key("image"),
                    Some(job.node),
                    out,
                );
            }
        }
    }

    fn step(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        job: Option<&Job<'_>>,
        step: &Step<'_>,
        out: &mut Vec<Finding>,
    ) {
        if let (Some(node), Some(Uses::Docker(_))) = (step.uses, step.uses_ref()) {
            let route = step.route.key("uses");
            check(doc.file(), node, route, job.map(|j| j.node), out);
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
                None,
                out,
            );
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

fn check(
    file: &std::sync::Arc<SourceFile>,
    node: Node<'_>,
    route: Route,
    job: Option<Node<'_>>,
    out: &mut Vec<Finding>,
) {
    let Some(raw) = node.as_str() else { return };
    let reference = raw.trim().trim_start_matches("docker://");
    if reference.is_empty() {
        return;
    }
    let image = DockerImage::parse(reference);
    if image.is_digest_pinned() || every_outcome_pinned(reference, job) {
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

/// Whether a whole `${{ }}` image expression can only give digest-pinned images or nothing
/// (`${{ matrix.db || '' }}` where every `matrix.db` is pinned, `${{ c && 'i@sha256:..' || '' }}`).
fn every_outcome_pinned(reference: &str, job: Option<Node<'_>>) -> bool {
    let Some(body) = reference
        .strip_prefix("${{")
        .and_then(|r| r.strip_suffix("}}"))
        .filter(|b| !b.contains("${{") && !b.contains("}}"))
    else {
        return false;
    };
    let matrix = job
        .and_then(|j| j.get("strategy"))
        .and_then(|s| s.get("matrix"));
    let Ok(expr) = crate::expr::parse(body) else {
        return false;
    };
    outcomes(&expr, matrix).is_some_and(|all| {
        all.iter()
            .all(|o| o.is_empty() || DockerImage::parse(o).is_digest_pinned())
    })
}

/// Every text an image expression can evaluate to (`""` for a falsy result), or `None` when
/// it depends on something other than literals and a static matrix.
fn outcomes(e: &Expr, matrix: Option<Node<'_>>) -> Option<Vec<String>> {
    match &e.kind {
        ExprKind::String(s) => Some(vec![s.clone()]),
        ExprKind::Null | ExprKind::Bool(false) => Some(vec![String::new()]),
        ExprKind::Group(x) => outcomes(x, matrix),
        // `a || b` gives a truthy `a` or else `b`; `a && b` a falsy `a` (no image) or `b`.
        ExprKind::Binary {
            op: BinOp::Or,
            lhs,
            rhs,
        } => {
            let mut all = outcomes(lhs, matrix)?;
            all.extend(outcomes(rhs, matrix)?);
            Some(all)
        }
        ExprKind::Binary {
            op: BinOp::And,
            rhs,
            ..
        } => {
            let mut all = outcomes(rhs, matrix)?;
            all.push(String::new());
            Some(all)
        }
        _ => {
            let path = e.context_path()?;
            let key = match path.segs.as_slice() {
                [Seg::Name(root), Seg::Name(key)] if root == "matrix" => key,
                _ => return None,
            };
            matrix_values(matrix?, key)
        }
    }
}

/// The values `matrix.<key>` takes: the key's list, and each `include:` entry's value (`""`
/// for an entry without the key). `None` when any of them is computed.
fn matrix_values(matrix: Node<'_>, key: &str) -> Option<Vec<String>> {
    let mut all = Vec::new();
    for (k, v) in matrix.entries() {
        match k.as_str() {
            Some("include") => {
                for entry in v.items() {
                    let value = entry
                        .entries()
                        .find(|(ek, _)| ek.as_str().is_some_and(|ek| ek.eq_ignore_ascii_case(key)));
                    match value {
                        Some((_, ev)) => {
                            all.push(ev.as_str().filter(|s| !s.contains("${{"))?.to_owned())
                        }
                        None => all.push(String::new()),
                    }
                }
            }
            Some(name) if name.eq_ignore_ascii_case(key) => {
                if !v.is_sequence() {
                    return None;
                }
                for item in v.items() {
                    all.push(item.as_str().filter(|s| !s.contains("${{"))?.to_owned());
                }
            }
            _ => {}
        }
    }
    (!all.is_empty()).then_some(all)
}
