//! Exit status: one documented, stable table for every subcommand (see the README).
//!
//! | code | meaning |
//! |------|---------|
//! | 0  | no findings, every input read; `--write-baseline` once written |
//! | 1  | ciguard failed (I/O, configuration, internal error); `pin`: a ref could not be resolved |
//! | 2  | usage error (unknown flag or value) |
//! | 3  | some input could not be read or is not a valid workflow, action or config, or nothing was audited |
//! | 4  | the network stopped the checks: a token was given but no online check could run, or `pin --check` could not verify some version comments (see pin.rs) |
//! | 5  | `--fix` could not write some fixed files (the others were written) |
//! | 11 | findings, the highest informational |
//! | 12 | findings, the highest low |
//! | 13 | findings, the highest medium |
//! | 14 | findings, the highest high; `pin --check`: problems found (see pin.rs) |
//!
//! Unwritten fixes (5) take precedence over input errors (3), then online checks that could not
//! run (4), which take precedence over findings: an incomplete audit or fix must not pass as
//! clean or look like a known set of findings. `--no-exit-codes` makes findings exit 0; errors
//! keep their codes.

use std::process::ExitCode;

use ciguard_core::diagnostic::Level;
use ciguard_core::{Report, Severity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Clean,
    ToolFailure,
    Usage,
    InputError,
    OnlineUnavailable,
    FixNotWritten,
    /// Findings were reported; the highest severity among them.
    Findings(Severity),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Clean => 0,
            ExitStatus::ToolFailure => 1,
            ExitStatus::Usage => 2,
            ExitStatus::InputError => 3,
            ExitStatus::OnlineUnavailable => 4,
            ExitStatus::FixNotWritten => 5,
            ExitStatus::Findings(Severity::Informational) => 11,
            ExitStatus::Findings(Severity::Low) => 12,
            ExitStatus::Findings(Severity::Medium) => 13,
            ExitStatus::Findings(Severity::High) => 14,
        }
    }

    /// An input error, else the highest severity found (clean with `no_exit_codes`).
    pub fn for_report(report: &Report, no_exit_codes: bool) -> Self {
        Self::for_run(
            report,
            report.findings.iter().map(|f| f.severity).max(),
            no_exit_codes,
        )
    }

    /// [`ExitStatus::for_report`] for a streamed report, whose findings are gone: the highest
    /// severity shown is given.
    pub fn for_run(report: &Report, highest: Option<Severity>, no_exit_codes: bool) -> Self {
        if report.diagnostics.iter().any(|d| d.level == Level::Error) {
            return ExitStatus::InputError;
        }
        match highest {
            Some(severity) if !no_exit_codes => ExitStatus::Findings(severity),
            _ => ExitStatus::Clean,
        }
    }

    /// This status unless online checks were asked for and none could run, which outranks
    /// findings (an audit without them is incomplete) but not input errors.
    pub fn with_online_failure(self, online_failed: bool) -> Self {
        if online_failed && self != ExitStatus::InputError {
            ExitStatus::OnlineUnavailable
        } else {
            self
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_table() {
        let table = [
            (ExitStatus::Clean, 0),
            (ExitStatus::ToolFailure, 1),
            (ExitStatus::Usage, 2),
            (ExitStatus::InputError, 3),
            (ExitStatus::OnlineUnavailable, 4),
            (ExitStatus::FixNotWritten, 5),
            (ExitStatus::Findings(Severity::Informational), 11),
            (ExitStatus::Findings(Severity::High), 14),
        ];
        for (status, code) in table {
            assert_eq!(status.code(), code, "{status:?}");
        }
        assert_eq!(
            ExitStatus::InputError.with_online_failure(true),
            ExitStatus::InputError
        );
        assert_eq!(
            ExitStatus::Findings(Severity::Low).with_online_failure(true),
            ExitStatus::OnlineUnavailable
        );
    }
}
