//! What the plain report says after its summary: what to do next (fixes, `ciguard pin`), why
//! findings were not shown and which flag shows them, and the `--statistics` table.

use std::collections::BTreeMap;

use ciguard_core::finding::{Applicability, Finding};
use ciguard_core::plural::count;

pub use ciguard_pipeline::Suppressed;

/// What the lines after the summary and `--statistics` need of the findings shown, counted as
/// they stream by.
#[derive(Debug, Default)]
pub struct Shown {
    findings: usize,
    safe: usize,
    unsafe_only: usize,
    unpinned_without_fix: usize,
    /// Per audit: findings, with a fix, severity.
    per_audit: BTreeMap<&'static str, (usize, usize, String)>,
}

impl Shown {
    pub fn add(&mut self, findings: &[Finding]) {
        let has = |f: &Finding, a: Applicability| f.fixes.iter().any(|x| x.applicability == a);
        for f in findings {
            self.findings += 1;
            let safe = has(f, Applicability::Safe);
            self.safe += usize::from(safe);
            self.unsafe_only += usize::from(!safe && has(f, Applicability::Unsafe));
            self.unpinned_without_fix +=
                usize::from(f.audit_id() == "unpinned-uses" && f.fixes.is_empty());
            let entry =
                self.per_audit
                    .entry(f.audit_id())
                    .or_insert((0, 0, f.severity.to_string()));
            entry.0 += 1;
            entry.1 += usize::from(!f.fixes.is_empty());
        }
    }
}

/// The lines after the summary, each complete (`help: ...`, `suppressed: ...`).
pub fn lines(shown: &Shown, suppressed: &Suppressed, fixing: bool) -> Vec<String> {
    let mut out = Vec::new();
    let (safe, unsafe_only) = (shown.safe, shown.unsafe_only);
    if !fixing && safe + unsafe_only > 0 {
        let mut parts = Vec::new();
        if safe > 0 {
            parts.push(format!("{safe} fixable with --fix"));
        }
        if unsafe_only > 0 {
            let lead = if safe > 0 { "" } else { "fixable " };
            parts.push(format!("{unsafe_only} {lead}with --fix=unsafe"));
        }
        out.push(format!(
            "help: {} (--diff previews the changes)",
            parts.join(", ")
        ));
    }
    let unpinned = shown.unpinned_without_fix;
    if unpinned > 0 {
        out.push(format!(
            "help: {unpinned} unpinned-uses: run `ciguard pin` (it pins to commit SHAs)"
        ));
    }
    let mut parts = Vec::new();
    if suppressed.ignored > 0 {
        parts.push(format!(
            "{} by ignore comments or configuration",
            suppressed.ignored
        ));
    }
    if suppressed.baselined > 0 {
        parts.push(format!("{} in the baseline", suppressed.baselined));
    }
    if suppressed.below_persona > 0 {
        let flag = suppressed
            .shown_by
            .map_or(String::new(), |p| format!(" (--persona {p} shows them)"));
        parts.push(format!(
            "{} hidden by the persona{flag}",
            suppressed.below_persona
        ));
    }
    if suppressed.below_floor > 0 {
        parts.push(format!(
            "{} below --min-severity/--min-confidence",
            suppressed.below_floor
        ));
    }
    if !parts.is_empty() {
        out.push(format!("suppressed: {}", parts.join(", ")));
    }
    out
}

/// `--statistics`: findings per audit, most first, with how many have a fix.
pub fn statistics(shown: &Shown) -> String {
    let per_audit = shown.per_audit.clone();
    let mut rows: Vec<_> = per_audit.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    let width = rows
        .iter()
        .map(|(id, _)| id.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:>5}  {:<width$}  {:<13}  fixable\n",
        "count", "audit", "severity"
    );
    for (id, (n, fixable, severity)) in rows {
        out.push_str(&format!(
            "{n:>5}  {id:<width$}  {severity:<13}  {fixable}\n"
        ));
    }
    out.push_str(&format!(
        "{}\n",
        count(shown.findings, "finding", "findings")
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciguard_core::finding::Persona;

    #[test]
    fn suppressed_parts_name_the_flag_that_shows_them() {
        let s = Suppressed {
            ignored: 1,
            baselined: 0,
            below_persona: 4,
            shown_by: Some(Persona::Auditor),
            below_floor: 2,
        };
        assert_eq!(
            lines(&Shown::default(), &s, false),
            vec![
                "suppressed: 1 by ignore comments or configuration, 4 hidden by the persona \
                 (--persona auditor shows them), 2 below --min-severity/--min-confidence"
            ]
        );
        assert!(lines(&Shown::default(), &Suppressed::default(), false).is_empty());
    }
}
