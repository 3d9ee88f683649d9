//! Options of the settings checks, from the `[settings]` table of the configuration or flags.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Branch name patterns whose creation must be forbidden.
    pub forbidden_branches: Vec<String>,
    /// Tag patterns of releases (`v*`).
    pub release_tags: Vec<String>,
    /// The environment releases deploy to; by default the first of `release`, `publish`, `pypi`,
    /// `npm`, `crates-io`, `production` that exists, else `release`.
    pub release_environment: Option<String>,
    /// The most organization owners that pass.
    pub max_owners: usize,
    /// Why `allowed_actions: all` is acceptable here; when set, it is not reported.
    pub allow_all_actions_reason: Option<String>,
    /// Team ids that may bypass rulesets (e.g. a small release team).
    pub bypass_teams: Vec<i64>,
    /// The web address settings links point to.
    pub web_url: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            forbidden_branches: vec!["advisory-*".into(), "internal-*".into()],
            release_tags: vec!["v*".into()],
            release_environment: None,
            max_owners: 3,
            allow_all_actions_reason: None,
            bypass_teams: Vec::new(),
            web_url: "https://github.com".into(),
        }
    }
}

impl Options {
    /// Reads options from a TOML table such as the configuration's `[settings]`.
    pub fn from_toml(table: &toml::Table) -> Result<Self, crate::Error> {
        toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| crate::Error::Options {
                message: e.message().to_owned(),
            })
    }
}
