use ciguard_core::{AuditMeta, declare_audit};

use super::{Check, Cx, Outcome, finding, subject};
use crate::gather::Repo;

declare_audit! {
    /// ## What it does
    ///
    /// Checks that immutable releases are enabled for the repository
    /// (`GET /repos/{owner}/{repo}/immutable-releases` answers `"enabled": true`).
    ///
    /// ## Why is this bad?
    ///
    /// Without it, the assets of a published release can be replaced and its tag moved, so the
    /// same version can mean different files on different days.
    ///
    /// ## Example
    ///
    /// ```json
    /// { "enabled": false, "enforced_by_owner": false }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "enabled": true, "enforced_by_owner": false }
    /// ```
    ///
    /// ## Fix
    ///
    /// Settings → General → Releases → Enable release immutability, or
    /// `ciguard settings recommend --apply`.
    pub struct SettingsImmutableReleases {
        id: "settings-immutable-releases",
        summary: "releases can be changed after publication",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

impl Check for SettingsImmutableReleases {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn repo(&self, cx: &Cx<'_>, repo: &Repo, out: &mut Outcome) {
        match &repo.immutable_releases {
            Ok(true) => {}
            Ok(false) => out.findings.push(finding(
                &Self::META,
                "immutable releases are not enabled, so release assets and tags can be changed after publication",
                subject(repo, "releases → immutable"),
                cx.repo_url(repo, ""),
                "disabled",
            )),
            Err(u) => out.unknown(u),
        }
    }
}
