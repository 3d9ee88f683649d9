//! `mutable-dependency-source`: locked dependencies whose content the lockfile does not fix
//! (git without a commit, URL without a hash, a path outside the repository). Offline.

use std::collections::HashSet;

use ciguard_core::{Finding, Location, Route, declare_audit};

use crate::lockfile::{Lockfile, Package, Source};
use crate::repo::{self, RepoFiles};

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

/// The finding for `pkg` of the lockfile `lock` (at `rel`) when its source is mutable. A path
/// outside the repository is reported once per lockfile (`seen`).
pub(crate) fn mutable_source(
    repo: &RepoFiles,
    rel: &str,
    lock: &Lockfile,
    pkg: &Package,
    seen: &mut HashSet<(String, String)>,
) -> Option<Finding> {
    let message = match &pkg.source {
        Source::Git { url, commit: None } => format!(
            "`{}` comes from git `{url}` without a pinned commit",
            pkg.name
        ),
        Source::Url { url, hashed: false } => {
            format!("`{}` is downloaded from `{url}` without a hash", pkg.name)
        }
        Source::Path { path } if repo::points_outside(&repo.root, rel, path) => {
            if !seen.insert((rel.to_owned(), path.clone())) {
                return None;
            }
            format!(
                "`{}` is a path dependency outside the repository (`{path}`)",
                pkg.name
            )
        }
        _ => return None,
    };
    let route: Route = pkg.route.clone();
    Some(Finding::new(
        &MutableDependencySource::META,
        message,
        Location::file(
            &lock.file,
            pkg.span,
            route,
            format!("{} is not pinned to fixed content", pkg.name),
        ),
    ))
}
