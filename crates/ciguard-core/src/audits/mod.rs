//! The registry: every audit ciguard has, in one list.

use crate::audit::Audit;

mod bot_conditions;
mod dangerous_triggers;
mod excessive_permissions;
mod obfuscation;
mod overprovisioned_secrets;
mod template_injection;
mod unpinned_images;
mod unpinned_uses;
mod unredacted_secrets;
mod unsound_condition;
mod unsound_contains;
mod unsound_ternary;
mod unused_ignore;

pub use bot_conditions::BotConditions;
pub use dangerous_triggers::DangerousTriggers;
pub use excessive_permissions::ExcessivePermissions;
pub use obfuscation::Obfuscation;
pub use overprovisioned_secrets::OverprovisionedSecrets;
pub use template_injection::TemplateInjection;
pub use unpinned_images::UnpinnedImages;
pub use unpinned_uses::UnpinnedUses;
pub use unredacted_secrets::UnredactedSecrets;
pub use unsound_condition::UnsoundCondition;
pub use unsound_contains::UnsoundContains;
pub use unsound_ternary::UnsoundTernary;
pub use unused_ignore::UnusedIgnore;

/// Every audit, in catalogue order.
pub fn all() -> &'static [&'static dyn Audit] {
    &[
        &DangerousTriggers,
        &ExcessivePermissions,
        &BotConditions,
        &Obfuscation,
        &OverprovisionedSecrets,
        &UnredactedSecrets,
        &UnsoundCondition,
        &UnsoundContains,
        &UnsoundTernary,
        &TemplateInjection,
        &UnpinnedImages,
        &UnpinnedUses,
        &UnusedIgnore,
    ]
}

/// The audit with this id.
pub fn by_id(id: &str) -> Option<&'static dyn Audit> {
    all().iter().copied().find(|a| a.meta().id == id)
}
