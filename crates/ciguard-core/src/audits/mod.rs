//! The registry: every audit ciguard has, in one list.

use crate::audit::Audit;

mod dangerous_triggers;
mod excessive_permissions;
mod unpinned_images;
mod unpinned_uses;
mod unused_ignore;

pub use dangerous_triggers::DangerousTriggers;
pub use excessive_permissions::ExcessivePermissions;
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
        &UnusedIgnore,
    ]
}

/// The audit with this id.
pub fn by_id(id: &str) -> Option<&'static dyn Audit> {
    all().iter().copied().find(|a| a.meta().id == id)
}
