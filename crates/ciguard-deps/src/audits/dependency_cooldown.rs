//! `dependency-cooldown`: locked versions published more recently than the cooldown. The
//! registry lookups happen in the lockfile pass (`check_lockfiles`); this file decides on one
//! looked-up version.

use ciguard_core::{Finding, Location, declare_audit};

use crate::lockfile::Ecosystem;
use crate::time;

declare_audit! {
    /// ## What it does
    ///
    /// Looks up the publish time of every version pinned in a lockfile (`Cargo.lock`, `uv.lock`,
    /// `pylock.toml`, `poetry.lock`, `requirements*.txt`, `package-lock.json`, `pnpm-lock.yaml`,
    /// `yarn.lock`) in its registry and reports versions younger than the cooldown (7 days by
    /// default).
    ///
    /// ## Why is this bad?
    ///
    /// A release is most dangerous in its first days: compromised maintainer accounts and
    /// malicious releases are usually found and yanked within hours or days. Taking a version
    /// only after a cooldown lets the community notice first.
    ///
    /// ## Example
    ///
    /// ```toml
    /// # Cargo.lock, two days after serde 1.0.999 was published
    /// [[package]]
    /// name = "serde"
    /// version = "1.0.999"
    /// source = "registry+https://github.com/rust-lang/crates.io-index"
    /// ```
    ///
    /// Use instead:
    ///
    /// ```toml
    /// [[package]]
    /// name = "serde"
    /// version = "1.0.228"
    /// source = "registry+https://github.com/rust-lang/crates.io-index"
    /// ```
    ///
    /// ## Fix
    ///
    /// Go back to an older version until the new one is older than the cooldown, and configure a
    /// cooldown in the update tools (see `missing-cooldown-config`). For first-party packages,
    /// list them under `exempt` in the `[deps]` table of `ciguard.toml`; change the cooldown
    /// with `cooldown-days` (all ecosystems) or `[deps.cargo]`, `[deps.pypi]`, `[deps.npm]`.
    pub struct DependencyCooldown {
        id: "dependency-cooldown",
        summary: "locked dependency version published more recently than the cooldown",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Dependencies],
        needs_network: true,
        fix: None,
    }
}

/// The finding for `version` of `package`, published `age` seconds ago (at `published`), when
/// that is within `cooldown` seconds.
pub(crate) fn finding(
    package: &str,
    version: &str,
    eco: Ecosystem,
    (age, published): (i64, i64),
    cooldown: i64,
    location: Location,
) -> Option<Finding> {
    if age >= cooldown {
        return None;
    }
    let message = format!(
        "`{package} {version}` was published {} ago ({}), within the {}-day cooldown for {eco}",
        time::human(age),
        time::date(published),
        cooldown / time::DAY
    );
    Some(Finding::new(&DependencyCooldown::META, message, location))
}
