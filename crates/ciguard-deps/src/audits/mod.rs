//! The audits of `ciguard deps`: declared like every other audit, so they share the catalogue,
//! the documentation and the outputs. They run in this crate, not in the workflow engine; each
//! lives in the file named after its id, with its logic.

use ciguard_core::audit::AuditMeta;

mod dependency_cooldown;
pub mod missing_cooldown_config;
mod mutable_dependency_source;
mod yanked_dependency;

pub use dependency_cooldown::DependencyCooldown;
pub(crate) use dependency_cooldown::finding as cooldown_finding;
pub use missing_cooldown_config::MissingCooldownConfig;
pub use mutable_dependency_source::MutableDependencySource;
pub(crate) use mutable_dependency_source::mutable_source;
pub use yanked_dependency::YankedDependency;
pub(crate) use yanked_dependency::finding as yanked_finding;

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
