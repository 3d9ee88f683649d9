//! The registry: every audit ciguard has, in one list.

use crate::audit::Audit;

mod cache_poisoning;
mod dangerous_triggers;
mod dependabot_cooldown;
mod dependabot_execution;
mod excessive_permissions;
mod missing_attestations;
mod release_isolation;
mod trusted_publishing;
mod unpinned_images;
mod unpinned_uses;
mod unused_ignore;
mod use_trusted_publishing;

pub use cache_poisoning::CachePoisoning;
pub use dangerous_triggers::DangerousTriggers;
pub use dependabot_cooldown::DependabotCooldown;
pub use dependabot_execution::DependabotExecution;
pub use excessive_permissions::ExcessivePermissions;
pub use missing_attestations::MissingAttestations;
pub use release_isolation::ReleaseIsolation;
pub use trusted_publishing::TrustedPublishing;
pub use unpinned_images::UnpinnedImages;
pub use unpinned_uses::UnpinnedUses;
pub use unused_ignore::UnusedIgnore;
pub use use_trusted_publishing::UseTrustedPublishing;

/// Every audit, in catalogue order.
pub fn all() -> &'static [&'static dyn Audit] {
    &[
        &DangerousTriggers,
        &ExcessivePermissions,
        &UnpinnedImages,
        &UnpinnedUses,
        &CachePoisoning,
        &DependabotCooldown,
        &DependabotExecution,
        &UseTrustedPublishing,
        &MissingAttestations,
        &ReleaseIsolation,
        &TrustedPublishing,
        &UnusedIgnore,
    ]
}

/// The audit with this id.
pub fn by_id(id: &str) -> Option<&'static dyn Audit> {
    all().iter().copied().find(|a| a.meta().id == id)
}
