//! The registry: every audit ciguard has, in one list.

use crate::audit::Audit;

mod anonymous_definition;
mod archived_uses;
mod artipacked;
pub(crate) mod common;
mod concurrency_limits;
mod dangerous_triggers;
mod excessive_permissions;
mod forbidden_uses;
mod github_app;
mod hardcoded_container_credentials;
mod misfeature;
mod secrets_inherit;
mod secrets_outside_env;
mod self_hosted_runner;
mod self_repository;
mod superfluous_actions;
mod typosquat_uses;
mod undocumented_permissions;
mod unpinned_images;
mod unpinned_uses;
mod unused_ignore;

pub use anonymous_definition::AnonymousDefinition;
pub use archived_uses::ArchivedUses;
pub use artipacked::Artipacked;
pub use concurrency_limits::ConcurrencyLimits;
pub use dangerous_triggers::DangerousTriggers;
pub use excessive_permissions::ExcessivePermissions;
pub use forbidden_uses::ForbiddenUses;
pub use github_app::GithubApp;
pub use hardcoded_container_credentials::HardcodedContainerCredentials;
pub use misfeature::Misfeature;
pub use secrets_inherit::SecretsInherit;
pub use secrets_outside_env::SecretsOutsideEnv;
pub use self_hosted_runner::SelfHostedRunner;
pub use self_repository::SelfRepository;
pub use superfluous_actions::SuperfluousActions;
pub use typosquat_uses::TyposquatUses;
pub use undocumented_permissions::UndocumentedPermissions;
pub use unpinned_images::UnpinnedImages;
pub use unpinned_uses::UnpinnedUses;
pub use unused_ignore::UnusedIgnore;

/// Every audit, in catalogue order.
pub fn all() -> &'static [&'static dyn Audit] {
    &[
        &DangerousTriggers,
        &ExcessivePermissions,
        &UnpinnedImages,
        &UnpinnedUses,
        &AnonymousDefinition,
        &ArchivedUses,
        &Artipacked,
        &ConcurrencyLimits,
        &ForbiddenUses,
        &GithubApp,
        &HardcodedContainerCredentials,
        &Misfeature,
        &SecretsInherit,
        &SecretsOutsideEnv,
        &SelfHostedRunner,
        &SelfRepository,
        &SuperfluousActions,
        &TyposquatUses,
        &UndocumentedPermissions,
        &UnusedIgnore,
    ]
}

/// The audit with this id.
pub fn by_id(id: &str) -> Option<&'static dyn Audit> {
    all().iter().copied().find(|a| a.meta().id == id)
}
