//! `ciguard.toml`: per-audit switches, ignores, severity overrides and options.
//!
//! ```toml
//! [audits.unpinned-uses]
//! disable = false                     # turn the audit off
//! severity = "medium"                 # override the severity of its findings
//! ignore = ["ci.yml", ".github/workflows/release.yml:12"]  # path suffix, optional line
//! policies = { "my-org/*" = "ref-pin" }   # any other key is an option of the audit
//! ```
//! Other top-level tables (such as `[deps]`) belong to other subcommands and are kept as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::audits;
use crate::finding::{Finding, Severity};

/// Keys every audit table accepts; the rest are the audit's own options.
const GENERIC_KEYS: &[&str] = &["disable", "severity", "ignore"];

#[derive(Debug, Clone, Default)]
pub struct AuditSettings {
    pub disabled: bool,
    pub severity: Option<Severity>,
    /// `(path suffix, optional line)`.
    pub ignore: Vec<(String, Option<usize>)>,
    pub options: toml::Table,
}

#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where it was read from, for messages.
    pub path: Option<PathBuf>,
    pub audits: BTreeMap<String, AuditSettings>,
    /// The whole file, for subcommands with their own tables.
    pub raw: toml::Table,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// The names of a repository's config file, relative to its root, in order of precedence.
pub const FILE_NAMES: [&str; 2] = ["ciguard.toml", ".github/ciguard.toml"];

impl Config {
    /// The config file for a repository root: `ciguard.toml`, then `.github/ciguard.toml`.
    pub fn discover(root: &Path) -> Option<PathBuf> {
        FILE_NAMES
            .iter()
            .map(|name| root.join(name))
            .find(|p| p.is_file())
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        let mut config = Config::parse(&text).map_err(|message| ConfigError {
            path: path.display().to_string(),
            message,
        })?;
        config.path = Some(path.to_owned());
        Ok(config)
    }

    /// Parses and validates the text of a config file.
    pub fn parse(text: &str) -> Result<Config, String> {
        let raw: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| format!("invalid TOML: {}", e.to_string().trim_end()))?;
        let mut config = Config {
            raw: raw.clone(),
            ..Default::default()
        };
        let Some(audits_value) = raw.get("audits") else {
            return Ok(config);
        };
        let table = audits_value
            .as_table()
            .ok_or("`audits` must be a table of `[audits.<id>]` sections")?;
        for (id, value) in table {
            if audits::meta_by_id(id).is_none() {
                return Err(format!(
                    "unknown audit `{id}` in `[audits.{id}]`; `ciguard audits` lists them"
                ));
            }
            let section = value
                .as_table()
                .ok_or_else(|| format!("`[audits.{id}]` must be a table"))?;
            let mut settings = AuditSettings::default();
            if let Some(v) = section.get("disable") {
                settings.disabled = v
                    .as_bool()
                    .ok_or_else(|| format!("`audits.{id}.disable` must be true or false"))?;
            }
            if let Some(v) = section.get("severity") {
                let s = v.as_str().and_then(Severity::parse).ok_or_else(|| {
                    format!(
                        "`audits.{id}.severity` must be one of informational, low, medium, high"
                    )
                })?;
                settings.severity = Some(s);
            }
            if let Some(v) = section.get("ignore") {
                let list = v.as_array().ok_or_else(|| {
                    format!("`audits.{id}.ignore` must be a list of \"path[:line]\"")
                })?;
                for item in list {
                    let s = item
                        .as_str()
                        .ok_or_else(|| format!("`audits.{id}.ignore` entries must be strings"))?;
                    settings.ignore.push(parse_ignore(s));
                }
            }
            settings.options = section
                .iter()
                .filter(|(k, _)| !GENERIC_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            match audits::by_id(id) {
                Some(audit) => audit
                    .validate_options(&settings.options)
                    .map_err(|e| format!("`[audits.{id}]`: {e}"))?,
                // Checks of other subcommands take their options from those subcommands' tables.
                None => {
                    if let Some(key) = settings.options.keys().next() {
                        return Err(format!(
                            "`[audits.{id}]` takes no option `{key}`; only disable, severity and ignore"
                        ));
                    }
                }
            }
            config.audits.insert(id.clone(), settings);
        }
        Ok(config)
    }

    pub fn settings(&self, audit: &str) -> Option<&AuditSettings> {
        self.audits.get(audit)
    }

    pub fn is_disabled(&self, audit: &str) -> bool {
        self.settings(audit).is_some_and(|s| s.disabled)
    }

    /// Applies the severity override; returns false when the finding is ignored by path.
    pub fn apply(&self, finding: &mut Finding, line: Option<usize>) -> bool {
        let Some(settings) = self.settings(finding.audit) else {
            return true;
        };
        if let Some(sev) = settings.severity {
            finding.severity = sev;
        }
        let path = finding.primary.path().replace('\\', "/");
        !settings.ignore.iter().any(|(suffix, want_line)| {
            path_matches(&path, suffix) && want_line.is_none_or(|l| Some(l) == line)
        })
    }
}

fn parse_ignore(s: &str) -> (String, Option<usize>) {
    match s.rsplit_once(':') {
        Some((path, line)) if line.parse::<usize>().is_ok() => (path.to_owned(), line.parse().ok()),
        _ => (s.to_owned(), None),
    }
}

/// `suffix` matches whole path components at the end of `path`.
fn path_matches(path: &str, suffix: &str) -> bool {
    let suffix = suffix.trim_start_matches("./");
    // `:` ends a remote repository's prefix: `owner/repo@main:.github/workflows/ci.yml`.
    path == suffix || path.ends_with(&format!("/{suffix}")) || path.ends_with(&format!(":{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_generic_keys_and_options() {
        let c = Config::parse(
            "[audits.unpinned-uses]\nseverity = \"low\"\nignore = [\"ci.yml:3\", \"x.yml\"]\npolicies = { \"actions/*\" = \"ref-pin\" }\n",
        )
        .unwrap();
        let s = c.settings("unpinned-uses").unwrap();
        assert_eq!(s.severity, Some(Severity::Low));
        assert_eq!(
            s.ignore,
            vec![("ci.yml".into(), Some(3)), ("x.yml".into(), None)]
        );
        assert!(s.options.contains_key("policies"));
    }

    #[test]
    fn rejects_unknown_audits_and_bad_options() {
        assert!(
            Config::parse("[audits.nope]\n")
                .unwrap_err()
                .contains("unknown audit `nope`")
        );
        let e = Config::parse("[audits.unpinned-uses]\npolicies = { \"*\" = \"sometimes\" }\n")
            .unwrap_err();
        assert!(e.contains("hash-pin"), "{e}");
        assert!(
            Config::parse("audits = [")
                .unwrap_err()
                .contains("invalid TOML")
        );
    }

    #[test]
    fn path_suffixes_match_whole_components() {
        assert!(path_matches("repo/.github/workflows/ci.yml", "ci.yml"));
        assert!(path_matches(
            "repo/.github/workflows/ci.yml",
            ".github/workflows/ci.yml"
        ));
        assert!(!path_matches("repo/.github/workflows/myci.yml", "ci.yml"));
        assert!(path_matches(
            "o/r@main:.github/workflows/ci.yml",
            ".github/workflows/ci.yml"
        ));
    }
}
