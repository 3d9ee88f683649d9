//! Any bytes, as a workflow, an action and a Dependabot file: parse, audit, and apply every fix.
//! Nothing may panic, and fixing must converge.
#![no_main]

use std::sync::Arc;

use ciguard_core::audit::AuditContext;
use ciguard_core::engine::audit_file;
use ciguard_core::fix::apply_fixes;
use ciguard_core::yaml::Limits;
use ciguard_core::{Applicability, FileKind, SourceFile, audits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for kind in [FileKind::Workflow, FileKind::Action, FileKind::Dependabot] {
        let file = Arc::new(SourceFile::new("fuzz.yml", kind, text.to_owned()));
        let limits = Limits::default();
        let report = audit_file(&file, &limits, audits::all(), &|_| AuditContext::empty());
        for f in &report.findings {
            if let Some(span) = f.primary.span() {
                let _ = file.line_col(span.start);
                let _ = file.slice(span);
            }
        }
        let reaudit = |f: &Arc<SourceFile>| {
            let r = audit_file(f, &limits, audits::all(), &|_| AuditContext::empty());
            (r.audited, r.findings)
        };
        let all = [Applicability::Safe, Applicability::Unsafe];
        let _ = apply_fixes(&file, &report.findings, &all, &reaudit);
    }
});
