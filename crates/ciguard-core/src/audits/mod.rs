//! The registry: every audit ciguard has, in one list.

use crate::audit::Audit;

mod adhoc_packages;
mod dangerous_triggers;
mod excessive_permissions;
mod github_env;
mod insecure_commands;
mod mutable_downloads;
mod release_mutation;
mod unpinned_images;
mod unpinned_tools;
mod unpinned_uses;
mod unused_ignore;

pub use adhoc_packages::AdhocPackages;
pub use dangerous_triggers::DangerousTriggers;
pub use excessive_permissions::ExcessivePermissions;
pub use github_env::GithubEnv;
pub use insecure_commands::InsecureCommands;
pub use mutable_downloads::MutableDownloads;
pub use release_mutation::ReleaseMutation;
pub use unpinned_images::UnpinnedImages;
pub use unpinned_tools::UnpinnedTools;
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
        &AdhocPackages,
        &GithubEnv,
        &InsecureCommands,
        &MutableDownloads,
        &ReleaseMutation,
        &UnpinnedTools,
    ]
}

/// The audit with this id.
pub fn by_id(id: &str) -> Option<&'static dyn Audit> {
    all().iter().copied().find(|a| a.meta().id == id)
}
