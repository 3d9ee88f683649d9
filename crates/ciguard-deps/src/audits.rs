//! The audits of `ciguard deps`: declared like every other audit, so they share the catalogue,
//! the documentation and the outputs. They run in this crate, not in the workflow engine.

use ciguard_core::audit::AuditMeta;
use ciguard_core::declare_audit;

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

declare_audit! {
    /// ## What it does
    ///
    /// Reports locked dependencies whose content is not fixed by the lockfile: git dependencies
    /// without a commit, archives downloaded from a URL without a hash, and path dependencies
    /// outside the repository (in a lockfile or a `Cargo.toml`).
    ///
    /// ## Why is this bad?
    ///
    /// A branch or tag moves, a URL can serve different bytes tomorrow, and a directory outside
    /// the repository is whatever the build machine has there: none of them is reviewable or
    /// reproducible, so a compromise there goes unnoticed.
    ///
    /// ## Example
    ///
    /// ```text
    /// # requirements.txt
    /// mylib @ git+https://github.com/example/mylib@main
    /// ```
    ///
    /// Use instead:
    ///
    /// ```text
    /// mylib @ git+https://github.com/example/mylib@0123456789abcdef0123456789abcdef01234567
    /// ```
    ///
    /// ## Fix
    ///
    /// Pin git dependencies to a full commit id, add the archive's hash (`#sha256=…` or
    /// `--hash=sha256:…`), and vendor or publish packages that live outside the repository.
    pub struct MutableDependencySource {
        id: "mutable-dependency-source",
        summary: "dependency source not pinned to fixed content",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Dependencies],
        needs_network: false,
        fix: None,
    }
}

declare_audit! {
    /// ## What it does
    ///
    /// Finds the package ecosystems a repository uses (Cargo, Python, npm, GitHub Actions) and
    /// reports each one that has no cooldown configured anywhere: a Dependabot `cooldown` on its
    /// `updates` entries (`default-days`, or all of `semver-major-days`, `semver-minor-days` and
    /// `semver-patch-days`), Renovate `minimumReleaseAge` (`renovate.json`, `renovate.json5`,
    /// `.renovaterc*`, `package.json` `renovate`), uv `exclude-newer` (`pyproject.toml`
    /// `[tool.uv]`, `uv.toml`), pnpm `minimumReleaseAge` (`pnpm-workspace.yaml`), `.npmrc`
    /// `min-release-age` / `minimum-release-age`, Yarn `npmMinimalAgeGate`, Bun
    /// `minimumReleaseAge`, or Cargo `registry.global-min-publish-age` (`.cargo/config.toml`).
    ///
    /// A cooldown shorter than the policy (7 days, `[deps] cooldown-days` in `ciguard.toml`) is
    /// reported too, as `dependabot-cooldown` does. Dependabot `include: ["*"]` covers every
    /// dependency. Renovate is read from the files Renovate reads (the root, `.github/`,
    /// `.gitlab/`), with per-manager blocks, `matchPackageNames: ["*"]` and presets whose file is
    /// in the repository; a cooldown possibly set in a preset that was not read is reported as
    /// unknown, never as missing. A package manager's setting governs its own directory and those
    /// below it. The finding points at the Dependabot entry, the setting, or the lockfile.
    ///
    /// ## Why is this bad?
    ///
    /// Without a cooldown, update tools propose (and lockfiles take) releases minutes after they
    /// are published, which is when a compromised release does its damage.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// # .github/dependabot.yml
    /// version: 2
    /// updates:
    ///   - package-ecosystem: cargo
    ///     directory: /
    ///     schedule:
    ///       interval: weekly
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// version: 2
    /// updates:
    ///   - package-ecosystem: cargo
    ///     directory: /
    ///     schedule:
    ///       interval: weekly
    ///     cooldown:
    ///       default-days: 7
    /// ```
    ///
    /// ## Fix
    ///
    /// Add a cooldown where the ecosystem is updated: `cooldown: {default-days: 7}` in
    /// Dependabot, `"minimumReleaseAge": "7 days"` in Renovate, `exclude-newer = "7 days"` under
    /// `[tool.uv]`, `minimumReleaseAge: 10080` in `pnpm-workspace.yaml`, or
    /// `[registry] global-min-publish-age = "7 days"` in `.cargo/config.toml`.
    pub struct MissingCooldownConfig {
        id: "missing-cooldown-config",
        summary: "package ecosystem without any update cooldown",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Dependencies, Dependabot],
        needs_network: false,
        fix: None,
    }
}

/// Every audit of this crate.
pub fn all() -> [&'static AuditMeta; 4] {
    [
        &DependencyCooldown::META,
        &YankedDependency::META,
        &MutableDependencySource::META,
        &MissingCooldownConfig::META,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented() {
        for meta in all() {
            for heading in ["What it does", "Why is this bad?", "Example", "Fix"] {
                assert!(
                    meta.section(heading).is_some_and(|s| !s.trim().is_empty()),
                    "{} lacks `## {heading}`",
                    meta.id
                );
            }
            assert!(meta.documentation().contains("Use instead:"), "{}", meta.id);
            assert!(
                meta.summary.chars().next().is_some_and(char::is_lowercase),
                "{}",
                meta.id
            );
        }
    }
}
