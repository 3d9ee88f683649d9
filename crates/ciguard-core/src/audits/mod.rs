//! The registry: every audit ciguard has, in one list. An audit is one line of `audits!`
//! (`module::Type`, the module named after the id): the macro declares the module, re-exports
//! the type and lists it in [`all`], in catalogue order.

use crate::audit::Audit;
use crate::catalog::Catalogue;

pub(crate) mod common;
mod narrow_permissions;
mod online;

macro_rules! audits {
    ($($module:ident::$name:ident),* $(,)?) => {
        $(
            mod $module;
            pub use $module::$name;
        )*

        /// Every audit, in catalogue order.
        pub fn all() -> &'static [&'static dyn Audit] {
            &[$(&$name),*]
        }
    };
}

audits! {
    dangerous_triggers::DangerousTriggers,
    excessive_permissions::ExcessivePermissions,
    bot_conditions::BotConditions,
    obfuscation::Obfuscation,
    overprovisioned_secrets::OverprovisionedSecrets,
    unredacted_secrets::UnredactedSecrets,
    unsound_condition::UnsoundCondition,
    unsound_contains::UnsoundContains,
    unsound_ternary::UnsoundTernary,
    template_injection::TemplateInjection,
    unpinned_images::UnpinnedImages,
    unpinned_uses::UnpinnedUses,
    cache_poisoning::CachePoisoning,
    dependabot_cooldown::DependabotCooldown,
    dependabot_execution::DependabotExecution,
    use_trusted_publishing::UseTrustedPublishing,
    missing_attestations::MissingAttestations,
    release_isolation::ReleaseIsolation,
    trusted_publishing::TrustedPublishing,
    anonymous_definition::AnonymousDefinition,
    archived_uses::ArchivedUses,
    artipacked::Artipacked,
    concurrency_limits::ConcurrencyLimits,
    forbidden_uses::ForbiddenUses,
    github_app::GithubApp,
    hardcoded_container_credentials::HardcodedContainerCredentials,
    misfeature::Misfeature,
    secrets_inherit::SecretsInherit,
    secrets_outside_env::SecretsOutsideEnv,
    self_hosted_runner::SelfHostedRunner,
    self_repository::SelfRepository,
    superfluous_actions::SuperfluousActions,
    typosquat_uses::TyposquatUses,
    undocumented_permissions::UndocumentedPermissions,
    unused_ignore::UnusedIgnore,
    adhoc_packages::AdhocPackages,
    github_env::GithubEnv,
    insecure_commands::InsecureCommands,
    mutable_downloads::MutableDownloads,
    release_mutation::ReleaseMutation,
    unpinned_tools::UnpinnedTools,
    impostor_commit::ImpostorCommit,
    ref_version_mismatch::RefVersionMismatch,
    stale_action_refs::StaleActionRefs,
    ref_confusion::RefConfusion,
    known_vulnerable_actions::KnownVulnerableActions,
    insecure_url_scheme::InsecureUrlScheme,
}

/// The audit with this id.
pub fn by_id(id: &str) -> Option<&'static dyn Audit> {
    all().iter().copied().find(|a| a.meta().id == id)
}

/// This crate's audits as a [`Catalogue`]. Front ends extend it with the audits of the
/// other crates (`ciguard_deps::audits`, `ciguard_settings::checks`) and pass it on.
pub fn catalogue() -> Catalogue {
    Catalogue::new(all().iter().map(|a| a.meta()))
}
