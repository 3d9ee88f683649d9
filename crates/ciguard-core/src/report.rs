//! The result of a run, as handed to the output formats.

use crate::diagnostic::Diagnostic;
use crate::finding::Finding;

#[derive(Debug, Default)]
pub struct Report {
    /// Findings that survived suppression and filters, sorted by file, position and audit.
    pub findings: Vec<Finding>,
    /// Problems with the inputs (unreadable or invalid files).
    pub diagnostics: Vec<Diagnostic>,
    pub files_audited: usize,
    /// Findings hidden by inline ignores, configuration, the baseline, persona or floors.
    pub suppressed: usize,
    /// Things the user should know about the run, e.g. audits skipped because they need the network.
    pub notes: Vec<String>,
}

impl Report {
    /// Orders findings by file, position, audit and message, so output is stable.
    pub fn sort(&mut self) {
        self.findings.sort_by(order);
    }
}

/// The order of a report's findings: file, position, audit, message.
pub fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (
        a.primary.path(),
        a.primary.span().map(|s| s.start),
        a.audit_id(),
        &a.message,
    )
        .cmp(&(
            b.primary.path(),
            b.primary.span().map(|s| s.start),
            b.audit_id(),
            &b.message,
        ))
}
