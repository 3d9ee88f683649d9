//! The settings checks: one file each, every one declared with `declare_audit!` so it has an id,
//! documentation and defaults like the file audits. A check reads the gathered models only.

use ciguard_core::{AuditMeta, Finding, Location};

use crate::fnmatch::fnmatch;
use crate::gather::{Org, Repo, Ruleset, Unknown};
use crate::options::Options;

mod settings_actions;
mod settings_bypass;
mod settings_default_branch;
mod settings_forbidden_branches;
mod settings_immutable_releases;
mod settings_organization;
mod settings_release_environment;
mod settings_release_tags;
mod settings_secrets;

pub use settings_actions::SettingsActions;
pub use settings_bypass::SettingsBypass;
pub use settings_default_branch::SettingsDefaultBranch;
pub use settings_forbidden_branches::SettingsForbiddenBranches;
pub use settings_immutable_releases::SettingsImmutableReleases;
pub use settings_organization::SettingsOrganization;
pub use settings_release_environment::SettingsReleaseEnvironment;
pub use settings_release_tags::SettingsReleaseTags;
pub use settings_secrets::SettingsSecrets;

/// What a check is given.
pub struct Cx<'a> {
    pub options: &'a Options,
}

impl Cx<'_> {
    /// A settings page of the repository (`page` is relative to `/settings`).
    pub fn repo_url(&self, repo: &Repo, page: &str) -> Option<String> {
        let page = if page.is_empty() {
            String::new()
        } else {
            format!("/{page}")
        };
        Some(format!(
            "{}/{}/{}/settings{page}",
            self.options.web_url, repo.owner, repo.name
        ))
    }

    pub fn org_url(&self, org: &str, page: &str) -> Option<String> {
        Some(format!(
            "{}/organizations/{org}/settings/{page}",
            self.options.web_url
        ))
    }

    /// The page of a ruleset: the repository's or, for an inherited one, the organization's.
    pub fn ruleset_url(&self, repo: &Repo, rs: &Ruleset) -> Option<String> {
        if rs.source_type == "Organization" {
            self.org_url(&rs.source, &format!("rules/{}", rs.id))
        } else {
            self.repo_url(repo, &format!("rules/{}", rs.id))
        }
    }
}

/// The result of one check on one subject.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub unknowns: Vec<Unknown>,
}

impl Outcome {
    pub fn unknown(&mut self, u: &Unknown) {
        if !self.unknowns.contains(u) {
            self.unknowns.push(u.clone());
        }
    }

    pub fn state(&self) -> State {
        if !self.findings.is_empty() {
            State::Fail
        } else if !self.unknowns.is_empty() {
            State::Unknown
        } else {
            State::Pass
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pass,
    Fail,
    Unknown,
}

/// A settings check. Repository checks implement `repo`, organization checks `org`.
pub trait Check: Sync {
    fn meta(&self) -> &'static AuditMeta;
    fn repo(&self, _cx: &Cx<'_>, _repo: &Repo, _out: &mut Outcome) {}
    fn org(&self, _cx: &Cx<'_>, _org: &Org, _out: &mut Outcome) {}
    fn is_org_check(&self) -> bool {
        false
    }
}

/// Every settings check, in catalogue order.
pub fn all() -> &'static [&'static dyn Check] {
    &[
        &SettingsDefaultBranch,
        &SettingsBypass,
        &SettingsForbiddenBranches,
        &SettingsReleaseTags,
        &SettingsActions,
        &SettingsReleaseEnvironment,
        &SettingsSecrets,
        &SettingsImmutableReleases,
        &SettingsOrganization,
    ]
}

/// A finding on a setting of `subject`.
pub fn finding(
    meta: &'static AuditMeta,
    msg: impl Into<String>,
    subject: String,
    url: Option<String>,
    label: &str,
) -> Finding {
    // The subject already names the setting; the label is kept for formats that show one.
    let _ = label;
    Finding::new(meta, msg, Location::setting(subject, url, ""))
}

/// Whether a ruleset's `ref_name` condition selects `full_ref` (`refs/heads/main`).
pub fn applies(rs: &Ruleset, full_ref: &str, default_branch: &str) -> bool {
    let default_ref = format!("refs/heads/{default_branch}");
    let hit = |p: &String| match p.as_str() {
        "~ALL" => true,
        "~DEFAULT_BRANCH" => full_ref == default_ref,
        p => fnmatch(p, full_ref),
    };
    rs.include.iter().any(hit) && !rs.exclude.iter().any(hit)
}

/// A concrete name a user pattern such as `advisory-*` stands for, to test rulesets against.
pub fn sample(pattern: &str, fill: &str) -> String {
    pattern
        .replace("**", fill)
        .replace('*', fill)
        .replace('?', "x")
}

/// The subject for a repository: `owner/repo`.
pub fn subject(repo: &Repo, what: &str) -> String {
    if what.is_empty() {
        repo.full_name()
    } else {
        format!("{}: {what}", repo.full_name())
    }
}

/// Which rulesets can be relied on: active ones of the target that select `full_ref`, split into
/// those whose bypass list is known and those the token cannot see it for.
pub fn relevant<'r>(
    repo: &'r Repo,
    rulesets: &'r [Ruleset],
    target: &str,
    full_ref: &str,
) -> Vec<&'r Ruleset> {
    rulesets
        .iter()
        .filter(|rs| {
            rs.target == target && rs.is_active() && applies(rs, full_ref, &repo.default_branch)
        })
        .collect()
}

/// The unknown a ruleset without `bypass_actors` stands for.
pub fn bypass_unknown(rs: &Ruleset) -> Unknown {
    let perm = if rs.source_type == "Organization" {
        "\"Administration\" organization permissions (read)"
    } else {
        "\"Administration\" repository permissions (read)"
    };
    Unknown::new(
        format!("ruleset \"{}\" → bypass_actors", rs.name),
        None,
        Some(perm),
    )
}

/// The name of the release environment: configured, or the first conventional one that exists.
pub fn release_environment_name(options: &Options, repo: &Repo) -> String {
    if let Some(name) = &options.release_environment {
        return name.clone();
    }
    if let Ok(envs) = &repo.environments {
        for candidate in [
            "release",
            "publish",
            "pypi",
            "npm",
            "crates-io",
            "production",
        ] {
            if let Some(e) = envs.iter().find(|e| e.name.eq_ignore_ascii_case(candidate)) {
                return e.name.clone();
            }
        }
    }
    "release".to_owned()
}

/// `a`, `a and b`, `a, b and c`.
pub fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
