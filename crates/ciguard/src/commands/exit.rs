//! Exit codes: a documented, stable table (see the README).
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
//! clean or look like a known set of findings.

use ciguard_core::diagnostic::Level;
use ciguard_core::{Report, Severity};

pub const INPUT_ERROR: u8 = 3;
pub const USAGE_ERROR: u8 = 2;
pub const ONLINE_UNAVAILABLE: u8 = 4;
pub const FIX_NOT_WRITTEN: u8 = 5;

pub fn code_for(report: &Report) -> u8 {
    if report.diagnostics.iter().any(|d| d.level == Level::Error) {
        return INPUT_ERROR;
    }
    match report.findings.iter().map(|f| f.severity).max() {
        None => 0,
        Some(Severity::Informational) => 11,
        Some(Severity::Low) => 12,
        Some(Severity::Medium) => 13,
        Some(Severity::High) => 14,
    }
}

/// `code` unless online checks were asked for and none could run, which outranks findings (an
/// audit without them is incomplete) but not input errors.
pub fn with_online_failure(code: u8, online_failed: bool) -> u8 {
    if online_failed && code != INPUT_ERROR {
        ONLINE_UNAVAILABLE
    } else {
        code
    }
}
