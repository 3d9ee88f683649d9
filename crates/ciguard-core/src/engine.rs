//! Parse one file and run audits over it: the pure middle of the pipeline.

use std::sync::Arc;

use crate::audit::{Audit, AuditContext};
use crate::diagnostic::{Diagnostic, Level};
use crate::finding::Finding;
use crate::models::{Action, Dependabot, Workflow};
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

/// Runs `audits` over one file. `context` gives each audit its options.
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
            if let Some(wf) = wf {
                report.audited = true;
                for audit in applicable {
                    audit.workflow(&context(*audit), &wf, &mut report.findings);
                }
            }
        }
        FileKind::Action => {
            let (action, diags) = Action::build(file, &doc);
            report.diagnostics = diags;
            if let Some(action) = action {
                report.audited = true;
                for audit in applicable {
                    audit.action(&context(*audit), &action, &mut report.findings);
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
    }
    report
}
