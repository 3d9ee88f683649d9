//! The `[deps]` table of `ciguard.toml`.
//!
//! ```toml
//! [deps]
//! cooldown-days = 7                # every ecosystem (default 7; 0 turns the cooldown check off)
//! exempt = ["my-company-*"]        # first-party packages, in every ecosystem (`*` at the end = prefix)
//! exclude = ["tests/fixtures/"]    # paths not read at all (gitignore syntax, from the root)
//! negative-cache-hours = 24        # how long "no such package/version" answers are cached
//!
//! [deps.cargo]                     # also [deps.pypi] and [deps.npm]
//! cooldown-days = 3
//! exempt = ["my-crate", "my-crate-*"]
//!
//! [deps.registries]                # base URLs, for mirrors (same keys as --registry-url)
//! crates-io = "https://index.crates.io"
//! pypi = "https://pypi.org"
//! npm = "https://registry.npmjs.org"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use ciguard_core::{Diagnostic, Level};

use crate::error::ConfigError;
use crate::lockfile::Ecosystem;
use crate::time::DAY;

pub const DEFAULT_COOLDOWN_DAYS: i64 = 7;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EcosystemConfig {
    pub cooldown_days: Option<i64>,
    pub exempt: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DepsConfig {
    pub cooldown_days: i64,
    pub exempt: Vec<String>,
    /// Paths not read at all (gitignore syntax, relative to the repository root).
    pub exclude: Vec<String>,
    /// How long negative registry answers are cached, in hours.
    pub negative_cache_hours: i64,
    pub ecosystems: BTreeMap<Ecosystem, EcosystemConfig>,
    /// Registry base URLs by `--registry-url` key (`crates-io`, `pypi`, `npm`).
    pub registries: BTreeMap<String, String>,
}

impl Default for DepsConfig {
    fn default() -> Self {
        Self {
            cooldown_days: DEFAULT_COOLDOWN_DAYS,
            exempt: Vec::new(),
            exclude: Vec::new(),
            negative_cache_hours: 24,
            ecosystems: BTreeMap::new(),
            registries: BTreeMap::new(),
        }
    }
}

fn days(value: &toml::Value, key: &str) -> Result<i64, ConfigError> {
    match value.as_integer() {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(ConfigError::new(format!(
            "`{key}` must be a whole number of days, 0 or more"
        ))),
    }
}

fn patterns(value: &toml::Value, key: &str) -> Result<Vec<String>, ConfigError> {
    let list = value
        .as_array()
        .ok_or_else(|| ConfigError::new(format!("`{key}` must be a list of package names")))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| ConfigError::new(format!("`{key}` must be a list of package names")))
        })
        .collect()
}

pub const REGISTRY_KEYS: [&str; 3] = ["crates-io", "pypi", "npm"];

/// Checks a registry key and URL (`crates-io=https://…`).
pub fn check_registry(key: &str, url: &str) -> Result<(), ConfigError> {
    if !REGISTRY_KEYS.contains(&key) {
        return Err(ConfigError::new(format!(
            "unknown registry `{key}`: expected one of crates-io, pypi, npm"
        )));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(ConfigError::new(format!(
            "the URL of registry `{key}` must start with http:// or https://, got `{url}`"
        )));
    }
    Ok(())
}

impl DepsConfig {
    /// Reads the `[deps]` table; the error says which key is wrong and what it should be.
    pub fn from_table(table: &toml::Table) -> Result<Self, ConfigError> {
        let mut config = DepsConfig::default();
        for (key, value) in table {
            match key.as_str() {
                "cooldown-days" => config.cooldown_days = days(value, "deps.cooldown-days")?,
                "exempt" => config.exempt = patterns(value, "deps.exempt")?,
                "exclude" => config.exclude = patterns(value, "deps.exclude")?,
                "negative-cache-hours" => config.negative_cache_hours = days(
                    value,
                    "deps.negative-cache-hours",
                )
                .map_err(|_| {
                    ConfigError::new(
                        "`deps.negative-cache-hours` must be a whole number of hours, 0 or more",
                    )
                })?,
                "registries" => {
                    let t = value.as_table().ok_or_else(|| {
                        ConfigError::new("`deps.registries` must be a table of URLs")
                    })?;
                    for (k, v) in t {
                        let url = v.as_str().ok_or_else(|| {
                            ConfigError::new(format!("`deps.registries.{k}` must be a URL"))
                        })?;
                        check_registry(k, url)?;
                        config
                            .registries
                            .insert(k.clone(), url.trim_end_matches('/').to_owned());
                    }
                }
                other => {
                    let eco = Ecosystem::parse(other).filter(|e| e.as_str() == other).ok_or_else(|| {
                        ConfigError::new(format!("unknown key `deps.{other}`: expected cooldown-days, exempt, exclude, negative-cache-hours, registries, cargo, pypi or npm"))
                    })?;
                    let t = value.as_table().ok_or_else(|| {
                        ConfigError::new(format!("`deps.{other}` must be a table"))
                    })?;
                    let mut e = EcosystemConfig::default();
                    for (k, v) in t {
                        match k.as_str() {
                            "cooldown-days" => {
                                e.cooldown_days =
                                    Some(days(v, &format!("deps.{other}.cooldown-days"))?)
                            }
                            "exempt" => e.exempt = patterns(v, &format!("deps.{other}.exempt"))?,
                            _ => {
                                return Err(ConfigError::new(format!(
                                    "unknown key `deps.{other}.{k}`: expected cooldown-days or exempt"
                                )));
                            }
                        }
                    }
                    config.ecosystems.insert(eco, e);
                }
            }
        }
        Ok(config)
    }

    /// Reads `[deps]` from `ciguard.toml` (or `.github/ciguard.toml`) under `root`; the defaults
    /// when there is none.
    pub fn load(root: &Path) -> Result<Self, Diagnostic> {
        // Read as `ciguard audit` reads it: never through a link out of the repository, never
        // from a FIFO, and never quoting a file that is not TOML.
        let found = ciguard_core::config::Config::read_discovered(root).map_err(|e| {
            Diagnostic::file(Level::Error, &e.path, e.message).help(
                "make it a regular file inside the repository, or pass --config or --no-config",
            )
        })?;
        match found {
            Some((path, text)) => Self::parse(&path.display().to_string(), &text),
            None => Ok(DepsConfig::default()),
        }
    }

    /// `[deps]` of a `ciguard.toml` text; `display` names the file in diagnostics.
    pub fn parse(display: &str, text: &str) -> Result<Self, Diagnostic> {
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let mut d = Diagnostic::file(
                Level::Error,
                display,
                format!("invalid TOML: {}", e.message().trim()),
            );
            d.line = line;
            d.help("fix the syntax of the configuration file")
        })?;
        match table.get("deps") {
            None => Ok(DepsConfig::default()),
            Some(toml::Value::Table(deps)) => DepsConfig::from_table(deps).map_err(|m| {
                Diagnostic::file(Level::Error, display, m.message)
                    .help("see the `[deps]` keys in the documentation of `ciguard deps`")
            }),
            Some(_) => Err(
                Diagnostic::file(Level::Error, display, "`deps` must be a table")
                    .help("write it as `[deps]`"),
            ),
        }
    }

    /// The cooldown of an ecosystem, in seconds.
    pub fn cooldown(&self, eco: Ecosystem) -> i64 {
        self.ecosystems
            .get(&eco)
            .and_then(|e| e.cooldown_days)
            .unwrap_or(self.cooldown_days)
            * DAY
    }

    /// Whether a package is first-party (exempt from the cooldown).
    pub fn is_exempt(&self, eco: Ecosystem, name: &str) -> bool {
        let own = self
            .ecosystems
            .get(&eco)
            .map(|e| e.exempt.as_slice())
            .unwrap_or_default();
        self.exempt
            .iter()
            .chain(own)
            .any(|p| match p.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => p == name,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        toml::from_str(text).expect("valid toml")
    }

    #[test]
    fn reads_keys() {
        let c = DepsConfig::from_table(&table(
            "cooldown-days = 5\nexempt = ['acme-*']\nexclude = ['tests/']\nnegative-cache-hours = 2\n[cargo]\ncooldown-days = 2\nexempt = ['mine']\n[registries]\nnpm = 'http://127.0.0.1:1/'\n",
        ))
        .expect("valid");
        assert_eq!(c.cooldown(Ecosystem::Cargo), 2 * DAY);
        assert_eq!(c.cooldown(Ecosystem::Npm), 5 * DAY);
        assert!(c.is_exempt(Ecosystem::Cargo, "mine"));
        assert_eq!(c.exclude, ["tests/"]);
        assert_eq!(c.negative_cache_hours, 2);
        assert!(!c.is_exempt(Ecosystem::Npm, "mine"));
        assert!(c.is_exempt(Ecosystem::Npm, "acme-utils"));
        assert_eq!(
            c.registries.get("npm").map(String::as_str),
            Some("http://127.0.0.1:1")
        );
    }

    #[test]
    fn rejects_bad_keys() {
        assert!(
            DepsConfig::from_table(&table("cooldown = 3"))
                .unwrap_err()
                .message
                .contains("unknown key `deps.cooldown`")
        );
        assert!(DepsConfig::from_table(&table("cooldown-days = -1")).is_err());
        assert!(DepsConfig::from_table(&table("exclude = 'tests'")).is_err());
        assert!(DepsConfig::from_table(&table("negative-cache-hours = -2")).is_err());
        assert!(
            DepsConfig::from_table(&table("[registries]\nmaven = 'https://x'"))
                .unwrap_err()
                .message
                .contains("unknown registry")
        );
        assert!(DepsConfig::from_table(&table("[pip]\ncooldown-days = 1")).is_err());
        assert_eq!(
            DepsConfig::from_table(&table(""))
                .expect("empty")
                .cooldown(Ecosystem::PyPI),
            7 * DAY
        );
    }
}
