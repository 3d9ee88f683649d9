//! `yanked-dependency`: locked versions their registry yanked or unpublished. The registry
//! lookups happen in the lockfile pass (`check_lockfiles`); this file decides on one answer.

use ciguard_core::{Finding, Location, declare_audit};

use crate::lockfile::Ecosystem;

declare_audit! {
    /// ## What it does
    ///
    /// Reports lockfile versions that their registry has yanked (crates.io, PyPI) or unpublished
    /// (npm).
    ///
    /// ## Why is this bad?
    ///
    /// Versions are yanked because they are broken, vulnerable or malicious. A lockfile keeps
    /// installing them until it is updated.
    ///
    /// ## Example
    ///
    /// ```toml
    /// # poetry.lock
    /// [[package]]
    /// name = "example"
    /// version = "2.0.0"   # yanked on PyPI
    /// ```
    ///
    /// Use instead:
    ///
    /// ```toml
    /// [[package]]
    /// name = "example"
    /// version = "2.0.1"
    /// ```
    ///
    /// ## Fix
    ///
    /// Update the package to a version that is not yanked (`cargo update -p NAME`,
    /// `uv lock --upgrade-package NAME`, `npm install NAME@VERSION`).
    pub struct YankedDependency {
        id: "yanked-dependency",
        summary: "locked dependency version was yanked or unpublished",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Dependencies],
        needs_network: true,
        fix: None,
    }
}

/// The finding for `version` of `package`, which its registry yanked (npm: unpublished).
pub(crate) fn finding(package: &str, version: &str, eco: Ecosystem, location: Location) -> Finding {
    let what = if eco == Ecosystem::Npm {
        "unpublished from"
    } else {
        "yanked on"
    };
    Finding::new(
        &YankedDependency::META,
        format!("`{package} {version}` is {what} {}", eco.registry_name()),
        location,
    )
}
