//! The registry: every audit ciguard has, in one list.

use crate::audit::Audit;
use crate::catalog::Catalogue;

mod adhoc_packages;
mod anonymous_definition;
mod archived_uses;
mod artipacked;
mod bot_conditions;
mod cache_poisoning;
pub(crate) mod common;
mod concurrency_limits;
mod dangerous_triggers;
mod dependabot_cooldown;
mod dependabot_execution;
mod excessive_permissions;
mod forbidden_uses;
mod github_app;
mod github_env;
mod hardcoded_container_credentials;
mod impostor_commit;
mod insecure_commands;
mod known_vulnerable_actions;
mod misfeature;
mod missing_attestations;
mod mutable_downloads;
mod narrow_permissions;
mod obfuscation;
mod online;
mod overprovisioned_secrets;
mod ref_confusion;
mod ref_version_mismatch;
mod release_isolation;
mod release_mutation;
mod secrets_inherit;
mod secrets_outside_env;
mod self_hosted_runner;
mod self_repository;
mod stale_action_refs;
mod superfluous_actions;
mod template_injection;
mod trusted_publishing;
mod typosquat_uses;
mod undocumented_permissions;
mod unpinned_images;
mod unpinned_tools;
mod unpinned_uses;
mod unredacted_secrets;
mod unsound_condition;
mod unsound_contains;
mod unsound_ternary;
mod unused_ignore;
mod use_trusted_publishing;

pub use adhoc_packages::AdhocPackages;
pub use anonymous_definition::AnonymousDefinition;
pub use archived_uses::ArchivedUses;
pub use artipacked::Artipacked;
pub use bot_conditions::BotConditions;
pub use cache_poisoning::CachePoisoning;
pub use concurrency_limits::ConcurrencyLimits;
pub use dangerous_triggers::DangerousTriggers;
pub use dependabot_cooldown::DependabotCooldown;
pub use dependabot_execution::DependabotExecution;
pub use excessive_permissions::ExcessivePermissions;
pub use forbidden_uses::ForbiddenUses;
pub use github_app::GithubApp;
pub use github_env::GithubEnv;
pub use hardcoded_container_credentials::HardcodedContainerCredentials;
pub use impostor_commit::ImpostorCommit;
pub use insecure_commands::InsecureCommands;
pub use known_vulnerable_actions::KnownVulnerableActions;
pub use misfeature::Misfeature;
pub use missing_attestations::MissingAttestations;
pub use mutable_downloads::MutableDownloads;
pub use obfuscation::Obfuscation;
pub use overprovisioned_secrets::OverprovisionedSecrets;
pub use ref_confusion::RefConfusion;
pub use ref_version_mismatch::RefVersionMismatch;
pub use release_isolation::ReleaseIsolation;
pub use release_mutation::ReleaseMutation;
pub use secrets_inherit::SecretsInherit;
pub use secrets_outside_env::SecretsOutsideEnv;
pub use self_hosted_runner::SelfHostedRunner;
pub use self_repository::SelfRepository;
pub use stale_action_refs::StaleActionRefs;
pub use superfluous_actions::SuperfluousActions;
pub use template_injection::TemplateInjection;
pub use trusted_publishing::TrustedPublishing;
pub use typosquat_uses::TyposquatUses;
pub use undocumented_permissions::UndocumentedPermissions;
pub use unpinned_images::UnpinnedImages;
pub use unpinned_tools::UnpinnedTools;
pub use unpinned_uses::UnpinnedUses;
pub use unredacted_secrets::UnredactedSecrets;
pub use unsound_condition::UnsoundCondition;
pub use unsound_contains::UnsoundContains;
pub use unsound_ternary::UnsoundTernary;
pub use unused_ignore::UnusedIgnore;
pub use use_trusted_publishing::UseTrustedPublishing;

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
        &CachePoisoning,
        &DependabotCooldown,
        &DependabotExecution,
        &UseTrustedPublishing,
        &MissingAttestations,
        &ReleaseIsolation,
        &TrustedPublishing,
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
        &AdhocPackages,
        &GithubEnv,
        &InsecureCommands,
        &MutableDownloads,
        &ReleaseMutation,
        &UnpinnedTools,
        &ImpostorCommit,
        &RefVersionMismatch,
        &StaleActionRefs,
        &RefConfusion,
        &KnownVulnerableActions,
    ]
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
