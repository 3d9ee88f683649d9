//! Parse one file and run audits over it: the pure middle of the pipeline.

use std::sync::Arc;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::diagnostic::{Diagnostic, Level};
use crate::finding::Finding;
use crate::models::{Action, Dependabot, Workflow};
use crate::models::run_script::RunScript;
use crate::source::{FileKind, SourceFile};
use crate::yaml::{Document, Limits};

/// What auditing one file produced.
#[derive(Debug, Default)]
pub struct FileReport {
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the file was audited (it parsed and had a valid shape).
    pub audited: bool,
}

/// Parses `file` and checks its shape; the document is `None` when it cannot be audited.
pub fn parse(file: &SourceFile, limits: &Limits) -> Result<Document, Diagnostic> {
    Document::parse(file, limits).map_err(|e| {
        let d = Diagnostic::at(Level::Error, file, e.span, e.message);
        match e.help {
            Some(h) => d.help(h),
            None => d,
        }
    })
}

/// Runs `audits` over one file. `context` gives each audit its options. For a workflow or an
/// action, each audit in turn gets its specific hook ([`Audit::workflow`] or [`Audit::action`])
/// and then [`Audit::document`], so findings stay grouped by audit in registry order.
pub fn audit_file<'c>(
    file: &Arc<SourceFile>,
    limits: &Limits,
    audits: &[&dyn Audit],
    context: &dyn Fn(&dyn Audit) -> AuditContext<'c>,
) -> FileReport {
    let mut report = FileReport::default();
    let doc = match parse(file, limits) {
        Ok(doc) => doc,
        Err(d) => {
            report.diagnostics.push(d);
            return report;
        }
    };
    let applicable = audits
        .iter()
        .filter(|a| a.meta().inputs.contains(&file.kind));
    match file.kind {
        FileKind::Workflow => {
            let (wf, diags) = Workflow::build(file, &doc);
            report.diagnostics = diags;
            report.diagnostics.extend(expr_limits(file, &doc));
            if let Some(wf) = wf {
                report.audited = true;
                let scripts = wf.run_scripts().map(|(_, _, rs)| rs);
                report.diagnostics.extend(script_limits(file, scripts));
                // Per audit: the specific hook, then the shared one, with one context.
                for audit in applicable {
                    let cx = context(*audit);
                    audit.workflow(&cx, &wf, &mut report.findings);
                    audit.document(&cx, AnyDoc::Workflow(&wf), &mut report.findings);
                }
            }
        }
        FileKind::Action => {
            let (action, diags) = Action::build(file, &doc);
            report.diagnostics = diags;
            report.diagnostics.extend(expr_limits(file, &doc));
            if let Some(action) = action {
                report.audited = true;
                let scripts = action.run_scripts().map(|(_, rs)| rs);
                report.diagnostics.extend(script_limits(file, scripts));
                for audit in applicable {
                    let cx = context(*audit);
                    audit.action(&cx, &action, &mut report.findings);
                    audit.document(&cx, AnyDoc::Action(&action), &mut report.findings);
                }
            }
        }
        FileKind::Dependabot => {
            let (config, diags) = Dependabot::build(file, &doc);
            report.diagnostics = diags;
            if let Some(config) = config {
                report.audited = true;
                for audit in applicable {
                    audit.dependabot(&context(*audit), &config, &mut report.findings);
                }
            }
        }
        // Lockfiles and package-manager configurations are audited by `ciguard-deps`.
        FileKind::Dependencies => {}
    }
    report
}

/// The expressions of a workflow or action that are too large to audit.
fn expr_limits(file: &SourceFile, doc: &Document) -> Option<Diagnostic> {
    crate::expr::sites::over_limit(file, doc.root()?)
}

/// A warning for each `run:` script read only in part (see [`crate::shell::MAX_COMMANDS`]).
fn script_limits<'s, 'a: 's>(
    file: &SourceFile,
    scripts: impl Iterator<Item = &'s RunScript<'a>>,
) -> Vec<Diagnostic> {
    scripts
        .filter(|rs| rs.script.truncated)
        .map(|rs| {
            let message = format!(
                "script not fully audited: it has more than {} commands or {} words",
                crate::shell::MAX_COMMANDS,
                crate::shell::MAX_WORDS
            );
            Diagnostic::at(Level::Warning, file, rs.node.span(), message).help(
                "audits read only its beginning; move the script into a file in the repository",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declare_audit;
    use crate::finding::Location;
    use crate::route::Route;

    declare_audit! {
        /// Records which hooks the engine calls, in order.
        struct Probe {
            id: "probe",
            summary: "records hook calls",
            severity: Low,
            confidence: High,
            persona: Regular,
            inputs: [Workflow, Action, Dependabot],
            needs_network: false,
            fix: None,
        }
    }

    fn note(file: &Arc<SourceFile>, what: &str, out: &mut Vec<Finding>) {
        let at = Location::file(file, Default::default(), Route::root(), "here");
        out.push(Finding::new(&Probe::META, what, at));
    }

    impl Audit for Probe {
        fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
            note(wf.file, "workflow", out);
        }

        fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
            note(action.file, "action", out);
        }

        fn dependabot(&self, _cx: &AuditContext<'_>, c: &Dependabot<'_>, out: &mut Vec<Finding>) {
            note(c.file, "dependabot", out);
        }

        fn document(&self, _cx: &AuditContext<'_>, doc: AnyDoc<'_, '_>, out: &mut Vec<Finding>) {
            let kind = match doc {
                AnyDoc::Workflow(_) => "document workflow",
                AnyDoc::Action(_) => "document action",
            };
            note(doc.file(), kind, out);
        }
    }

    fn calls(kind: FileKind, text: &str) -> Vec<String> {
        let file = Arc::new(SourceFile::new("t.yml", kind, text.to_owned()));
        let report = audit_file(&file, &Limits::default(), &[&Probe, &Probe], &|_| {
            AuditContext::empty()
        });
        report.findings.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn document_hook_follows_the_specific_hook_per_audit() {
        let wf = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: x\n";
        assert_eq!(
            calls(FileKind::Workflow, wf),
            [
                "workflow",
                "document workflow",
                "workflow",
                "document workflow"
            ]
        );
        let action = "name: a\ndescription: d\nruns:\n  using: node20\n  main: index.js\n";
        assert_eq!(
            calls(FileKind::Action, action),
            ["action", "document action", "action", "document action"]
        );
        let dependabot = "version: 2\nupdates: []\n";
        assert_eq!(
            calls(FileKind::Dependabot, dependabot),
            ["dependabot", "dependabot"]
        );
    }
}
