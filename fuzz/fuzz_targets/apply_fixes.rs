//! Any bytes as a workflow and as an action: apply every fix (safe and unsafe) and check the
//! invariants of issue 10: a fixed file still parses, keeps its line endings, and applying
//! the fixes of the result again changes nothing.
#![no_main]

use std::sync::Arc;

use ciguard_core::audit::AuditContext;
use ciguard_core::engine::audit_file;
use ciguard_core::fix::apply_fixes;
use ciguard_core::yaml::Limits;
use ciguard_core::{Applicability, FileKind, SourceFile, audits};
use libfuzzer_sys::fuzz_target;

fn bare_newlines(text: &str) -> usize {
    text.matches('\n').count() - text.matches("\r\n").count()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    let reaudit = |f: &Arc<SourceFile>| {
        let r = audit_file(f, &limits, audits::all(), &|_| AuditContext::empty());
        (r.audited, r.findings)
    };
    let all = [Applicability::Safe, Applicability::Unsafe];
    for kind in [FileKind::Workflow, FileKind::Action] {
        let file = Arc::new(SourceFile::new("fuzz.yml", kind, text.to_owned()));
        let (_, findings) = reaudit(&file);
        let once = apply_fixes(&file, &findings, &all, &reaudit);
        if !once.changed(text) {
            continue;
        }
        let fixed = Arc::new(SourceFile::new("fuzz.yml", kind, once.text.clone()));
        let (audited, again_findings) = reaudit(&fixed);
        assert!(audited, "a fixed file no longer parses:\n{}", once.text);
        if text.contains("\r\n") {
            assert!(
                bare_newlines(&once.text) <= bare_newlines(text),
                "fixing added LF lines to a CRLF file"
            );
        }
        let twice = apply_fixes(&fixed, &again_findings, &all, &reaudit);
        assert!(
            !twice.changed(&once.text),
            "fixing a fixed file changed it again: {:?}",
            twice.applied
        );
    }
});
