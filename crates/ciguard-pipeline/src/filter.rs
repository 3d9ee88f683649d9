//! Suppress and filter: which findings a report shows. Every subcommand (`audit`, `deps`,
//! `settings`) and the server apply the same [`FindingFilter`], so an `[audits.<id>]` option,
//! a baseline or `--persona` means the same everywhere.

use std::sync::Arc;

use ciguard_core::config::Config;
use ciguard_core::suppress::{Baseline, apply_inline_ignores};
use ciguard_core::transitive::Graph;
use ciguard_core::{Confidence, Finding, Persona, Severity, SourceFile};

/// Why findings were not shown. Their total is the report's `suppressed`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Suppressed {
    /// By an ignore comment or the configuration (`ignore`, `disable`).
    pub ignored: usize,
    pub baselined: usize,
    /// Below the persona; `shown_by` is the lowest persona that shows them all.
    pub below_persona: usize,
    pub shown_by: Option<Persona>,
    /// Below `--min-severity` or `--min-confidence`.
    pub below_floor: usize,
}

impl Suppressed {
    pub fn total(&self) -> usize {
        self.ignored + self.baselined + self.below_persona + self.below_floor
    }
}

/// Who the report is for and how little it shows.
#[derive(Debug, Clone, Copy)]
pub struct View {
    pub persona: Persona,
    pub min_severity: Option<Severity>,
    pub min_confidence: Option<Confidence>,
}

impl Default for View {
    fn default() -> Self {
        Self {
            persona: Persona::Regular,
            min_severity: None,
            min_confidence: None,
        }
    }
}

/// The whole suppress/filter stage: configuration (`[audits.<id>]` disable, severity, ignore),
/// inline ignore comments, the baseline, persona and the severity and confidence floors.
#[derive(Debug, Clone)]
pub struct FindingFilter {
    pub config: Arc<Config>,
    pub baseline: Option<Arc<Baseline>>,
    pub view: View,
}

impl FindingFilter {
    /// Configuration and inline ignores for the findings of one file (`ids`: the audits that ran,
    /// so an ignore naming another is reported unused only when it could have matched). Returns
    /// how many were suppressed; unused ignore comments are added as findings unless
    /// `unused-ignore` is disabled.
    pub fn suppress_in_file(
        &self,
        file: &Arc<SourceFile>,
        findings: &mut Vec<Finding>,
        ids: &[&str],
        graph: &Graph,
    ) -> usize {
        let before = findings.len();
        findings.retain_mut(|f| {
            let line = f.primary.span().map(|s| file.line_col(s.start).line);
            self.config.apply(f, line)
        });
        let mut suppressed = before - findings.len();
        let (inline, mut unused) = apply_inline_ignores(file, findings, ids);
        unused.retain(|u| !graph.may_hide_unused_ignore(file, u));
        suppressed += inline;
        if !self.config.is_disabled("unused-ignore") {
            findings.extend(unused);
        }
        suppressed
    }

    /// Configuration for findings that inline comments do not govern (dependency checks,
    /// settings): a disabled audit, an `ignore` entry or a severity override.
    pub fn suppress_by_config(&self, found: Vec<Finding>) -> (Vec<Finding>, usize) {
        let mut findings = Vec::new();
        let mut suppressed = 0;
        for mut f in found {
            let line = f
                .primary
                .span()
                .and_then(|s| f.primary.source().map(|file| file.line_col(s.start).line));
            if self.config.is_disabled(f.audit_id()) || !self.config.apply(&mut f, line) {
                suppressed += 1;
            } else {
                findings.push(f);
            }
        }
        (findings, suppressed)
    }

    /// Whether persona and the floors let the report show `f`.
    pub fn shows(&self, f: &Finding) -> bool {
        let v = &self.view;
        f.persona <= v.persona
            && v.min_severity.is_none_or(|s| f.severity >= s)
            && v.min_confidence.is_none_or(|c| f.confidence >= c)
    }

    /// The findings the report will show: not in the baseline, shown by persona and floors.
    /// Also what `--fix` may change.
    pub fn reported(&self, mut findings: Vec<Finding>) -> Vec<Finding> {
        if let Some(baseline) = &self.baseline {
            baseline.filter(&mut findings);
        }
        findings.retain(|f| self.shows(f));
        findings
    }

    /// Baseline, persona and floors over the findings of a whole run, counting why each hidden
    /// one was hidden.
    pub fn report_level(&self, findings: &mut Vec<Finding>, why: &mut Suppressed) {
        if let Some(baseline) = &self.baseline {
            why.baselined += baseline.filter(findings);
        }
        findings.retain(|f| {
            if f.persona > self.view.persona {
                why.below_persona += 1;
                why.shown_by = why.shown_by.max(Some(f.persona));
                return false;
            }
            let shown = self.shows(f);
            why.below_floor += usize::from(!shown);
            shown
        });
    }

    /// Everything for findings without inline ignores: configuration, then baseline, persona
    /// and floors. What `deps` and `settings` run.
    pub fn apply_all(&self, found: Vec<Finding>) -> (Vec<Finding>, Suppressed) {
        let (mut findings, ignored) = self.suppress_by_config(found);
        let mut why = Suppressed {
            ignored,
            ..Suppressed::default()
        };
        self.report_level(&mut findings, &mut why);
        (findings, why)
    }
}
