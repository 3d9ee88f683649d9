use crate::audit::{Audit, AuditContext};
use crate::audits::common::is_expression_str;
use crate::declare_audit;
use crate::finding::{Finding, Location};
use crate::models::{Job, Workflow};
use crate::route::Route;
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports a `password` (and a `username`) written as plain text in the `credentials:` of
    /// a job's `container:` or of its `services:`.
    ///
    /// ## Why is this bad?
    ///
    /// A workflow file is readable by everyone who can read the repository, its forks and its
    /// history: a registry password written there is public for good, and rotating it is the
    /// only remedy. Secrets are masked in logs and can be rotated without touching the file.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     container:
    ///       image: ghcr.io/acme/build@sha256:0000000000000000000000000000000000000000000000000000000000000000
    ///       credentials:
    ///         username: acme
    ///         password: hunter2
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
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     container:
    ///       image: ghcr.io/acme/build@sha256:0000000000000000000000000000000000000000000000000000000000000000
    ///       credentials:
    ///         username: ${{ github.actor }}
    ///         password: ${{ github.token }}
    ///     steps:
    ///       - run: make
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: revoke the password, store a new one as a secret, and write
    /// `password: ${{ secrets.REGISTRY_PASSWORD }}`.
    pub struct HardcodedContainerCredentials {
        id: "hardcoded-container-credentials",
        summary: "hardcoded credentials in container configurations",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

impl Audit for HardcodedContainerCredentials {
    fn job(
        &self,
        _cx: &AuditContext<'_>,
        wf: &Workflow<'_>,
        job: &Job<'_>,
        out: &mut Vec<Finding>,
    ) {
        if let Some(container) = job.get("container") {
            check(wf, container, job.route.key("container"), "container", out);
        }
        for (name, service) in job.get("services").into_iter().flat_map(|s| s.entries()) {
            let name = name.as_str().unwrap_or("?");
            check(
                wf,
                service,
                job.route.key("services").key(name),
                &format!("service `{name}`"),
                out,
            );
        }
    }
}

fn check(wf: &Workflow<'_>, container: Node<'_>, route: Route, what: &str, out: &mut Vec<Finding>) {
    let Some(credentials) = container.get("credentials") else {
        return;
    };
    for field in ["username", "password"] {
        let Some(value) = credentials.get(field) else {
            continue;
        };
        let Some(text) = value.as_str() else { continue };
        if text.is_empty() || is_expression_str(text) {
            continue;
        }
        out.push(Finding::new(
            &HardcodedContainerCredentials::META,
            format!("{what} registry {field} is hardcoded"),
            Location::file(
                wf.file,
                value.span(),
                route.key("credentials").key(field),
                format!("hardcoded {field}"),
            ),
        ));
    }
}
