//! Report assembly: sorted findings, redacted diagnostics and notes, each note said once.

use ciguard_core::audits;
use ciguard_core::diagnostic::Diagnostic;
use ciguard_core::redact::redact;
use ciguard_core::{Finding, Report};

use crate::filter::Suppressed;

/// The report of a run: findings sorted, every diagnostic and note through the token redaction,
/// and a note repeated by two stages kept once.
pub fn assemble(
    findings: Vec<Finding>,
    diagnostics: Vec<Diagnostic>,
    notes: Vec<String>,
    files_audited: usize,
    suppressed: &Suppressed,
) -> Report {
    let mut report = Report {
        findings,
        diagnostics: diagnostics.into_iter().map(Diagnostic::redacted).collect(),
        files_audited,
        suppressed: suppressed.total(),
        notes: Vec::new(),
    };
    report.sort();
    for note in notes {
        push_note(&mut report, redact(&note));
    }
    report
}

/// Adds `note` unless the report already says it.
pub fn push_note(report: &mut Report, note: String) {
    if !report.notes.contains(&note) {
        report.notes.push(note);
    }
}

/// The audits that need the network, named in one note when the run had no online facts.
pub fn note_skipped_online(report: &mut Report, online: bool) {
    if online {
        return;
    }
    let mut skipped: Vec<&str> = audits::all()
        .iter()
        .filter(|a| a.meta().needs_network)
        .map(|a| a.meta().id)
        .collect();
    // Transitive auditing needs the same facts; said here, once, rather than in its own note.
    skipped.push("transitive auditing");
    if !skipped.is_empty() {
        push_note(
            report,
            format!("skipped (need the network): {}", skipped.join(", ")),
        );
    }
}
