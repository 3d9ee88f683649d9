use crate::audit::{Audit, AuditContext};
use crate::audits::common::{is_expression_str, scalars_under};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location};
use crate::models::{Job, Workflow};
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports jobs that run on self-hosted runners: a `self-hosted` label in `runs-on:`, a
    /// runner `group:`, an expression label in a list of labels, or a `runs-on:` expression
    /// whose matrix lists `self-hosted`. It is a lead for auditors: ciguard cannot see whether the
    /// runners are ephemeral and isolated.
    ///
    /// ## Why is this bad?
    ///
    /// A self-hosted runner that is not ephemeral keeps state between jobs: a job that runs
    /// untrusted code (a pull request from a fork) can leave a backdoor for the next job, with
    /// its secrets, and can reach the network the runner sits in. GitHub advises against them in
    /// public repositories.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   bench:
    ///     runs-on: [self-hosted, linux]
    ///     steps:
    ///       - run: make bench
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   bench:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make bench
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: use GitHub-hosted or ephemeral, isolated runners (one job per machine),
    /// and never run untrusted code on persistent ones.
    pub struct SelfHostedRunner {
        id: "self-hosted-runner",
        summary: "jobs that run on self-hosted runners",
        severity: Medium,
        confidence: High,
        persona: Auditor,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

impl Audit for SelfHostedRunner {
    fn job(
        &self,
        _cx: &AuditContext<'_>,
        wf: &Workflow<'_>,
        job: &Job<'_>,
        out: &mut Vec<Finding>,
    ) {
        let Some((key, runs_on)) = job.node.entry("runs-on") else {
            return;
        };
        let Some((message, confidence)) = classify(job, runs_on) else {
            return;
        };
        let span = key.span().cover(runs_on.span());
        out.push(
            Finding::new(
                &Self::META,
                format!("job `{}` {message}", job.id),
                Location::file(
                    wf.file,
                    span,
                    job.route.key("runs-on"),
                    "runner chosen here",
                ),
            )
            .confidence(confidence),
        );
    }
}

fn classify(job: &Job<'_>, runs_on: Node<'_>) -> Option<(&'static str, Confidence)> {
    let labels: Vec<Node<'_>> = if runs_on.is_mapping() {
        if runs_on.get("group").is_some() {
            return Some((
                "runs on a runner group, which holds self-hosted runners",
                Confidence::Low,
            ));
        }
        runs_on.get("labels").map(scalars_under).unwrap_or_default()
    } else {
        scalars_under(runs_on)
    };
    let texts: Vec<&str> = labels.iter().filter_map(|n| n.as_str()).collect();
    if texts
        .iter()
        .any(|l| l.trim().eq_ignore_ascii_case("self-hosted"))
    {
        return Some(("runs on a self-hosted runner", Confidence::High));
    }
    let expression = texts.iter().find(|l| is_expression_str(l))?;
    let matrix_self_hosted = expression.contains("matrix.")
        && job
            .get("strategy")
            .and_then(|s| s.get("matrix"))
            .is_some_and(matrix_lists_self_hosted);
    if !matrix_self_hosted && runs_on.is_scalar() {
        // A whole `runs-on: ${{ ... }}` is usually a list of hosted images (`matrix.os`);
        // without a `self-hosted` in the matrix it is too weak a lead to report.
        return None;
    }
    if matrix_self_hosted {
        Some((
            "runs on a self-hosted runner listed in its matrix",
            Confidence::High,
        ))
    } else {
        Some((
            "runs on a runner chosen by an expression, which may be self-hosted",
            Confidence::Low,
        ))
    }
}

/// Whether some combination of the matrix has a `self-hosted` value: one of a key's values
/// that no single-key `exclude:` entry removes, or one added by `include:`.
fn matrix_lists_self_hosted(matrix: Node<'_>) -> bool {
    let self_hosted = |n: Node<'_>| {
        scalars_under(n)
            .iter()
            .filter_map(|s| s.as_str())
            .any(|v| v.contains("self-hosted"))
    };
    let excluded = |key: &str, value: Node<'_>| {
        let Some(v) = value.as_str() else {
            return false;
        };
        matrix.get("exclude").is_some_and(|ex| {
            ex.items().any(|entry| {
                let mut keys = entry.entries();
                matches!((keys.next(), keys.next()), (Some((k, ev)), None)
                    if k.as_str() == Some(key) && ev.as_str() == Some(v))
            })
        })
    };
    matrix.entries().any(|(k, values)| match k.as_str() {
        Some("include") => self_hosted(values),
        Some("exclude") | None => false,
        Some(key) if values.is_sequence() => {
            values.items().any(|v| self_hosted(v) && !excluded(key, v))
        }
        Some(_) => self_hosted(values),
    })
}
