//! The organization's configuration of the App's automations: `ciguard-app.toml` at the root of
//! the organization's `.github` repository, read from its default branch (never from a pull
//! request). One section per automation (`[drift]`, `[release-gate]`, `[relay]`), each off
//! unless `enabled = true`, with an opt-in list (`repositories = [...]`), an opt-out list
//! (`exclude = [...]`) and per-repository overrides under `[repositories.<name>.<section>]`.
//!
//! A file that does not parse, or a section with an unknown or mistyped key, is an error naming
//! the file and line: the automations report it and never fall back to defaults, which could
//! silently turn a protection off.

use base64::Engine as _;
use serde::de::DeserializeOwned;

use crate::app::App;
use crate::app::api::ApiError;
use crate::app::github::Method;
use crate::app::tokens::org_config_permissions;
use crate::job::RateLimitStore;

/// The repository that holds organization-wide files.
pub const ORG_CONFIG_REPO: &str = ".github";
/// The file's path in that repository.
pub const ORG_CONFIG_PATH: &str = "ciguard-app.toml";
/// The sections the file may have besides `repositories`.
pub const SECTIONS: &[&str] = &["drift", "release-gate", "relay"];
/// A configuration file is a few KB; anything larger is refused rather than parsed.
pub const MAX_BYTES: usize = 256 * 1024;

/// Keys every section has, handled here rather than by the automation.
const ENABLED: &str = "enabled";
const OPT_IN: &str = "repositories";
const OPT_OUT: &str = "exclude";

/// A parsed organization file. The default (no file) leaves every automation off.
#[derive(Debug, Clone, Default)]
pub struct OrgConfig {
    table: toml::Table,
    /// The text, to name the line of a section's error.
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgConfigError {
    /// The file is not valid TOML or has a key this version does not know.
    #[error("{ORG_CONFIG_REPO}/{ORG_CONFIG_PATH}:{line}: {message}")]
    Malformed { line: usize, message: String },
    /// The file is larger than [`MAX_BYTES`].
    #[error(
        "{ORG_CONFIG_REPO}/{ORG_CONFIG_PATH}: {bytes} bytes, more than the {MAX_BYTES} a configuration may have"
    )]
    TooLarge { bytes: usize },
}

/// Why the file could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OrgConfigLoad {
    #[error(transparent)]
    Invalid(#[from] OrgConfigError),
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl OrgConfig {
    pub fn parse(text: &str) -> Result<OrgConfig, OrgConfigError> {
        if text.len() > MAX_BYTES {
            return Err(OrgConfigError::TooLarge { bytes: text.len() });
        }
        let table: toml::Table = toml::from_str(text).map_err(|e| OrgConfigError::Malformed {
            line: e.span().map_or(1, |span| line_of(text, span.start)),
            message: one_line(e.message()),
        })?;
        for (key, value) in &table {
            let known = key == OPT_IN || SECTIONS.contains(&key.as_str());
            if !known {
                return Err(malformed(
                    text,
                    &[key],
                    format!(
                        "unknown section `{}`, expected one of: {}, repositories",
                        escape(key),
                        SECTIONS.join(", ")
                    ),
                ));
            }
            if !value.is_table() {
                return Err(malformed(
                    text,
                    &[key],
                    format!("`{}` must be a table", escape(key)),
                ));
            }
        }
        if let Some(toml::Value::Table(repos)) = table.get(OPT_IN) {
            for (repo, overrides) in repos {
                let Some(overrides) = overrides.as_table() else {
                    return Err(malformed(
                        text,
                        &[OPT_IN, repo],
                        format!("`repositories.{}` must be a table", escape(repo)),
                    ));
                };
                if let Some(key) = overrides.keys().find(|k| !SECTIONS.contains(&k.as_str())) {
                    return Err(malformed(
                        text,
                        &[OPT_IN, repo],
                        format!(
                            "unknown section `{}` in `repositories.{}`, expected one of: {}",
                            escape(key),
                            escape(repo),
                            SECTIONS.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(OrgConfig {
            table,
            text: text.to_owned(),
        })
    }

    /// The `[name]` section for repository `repo` (its name without owner), with
    /// `[repositories.<repo>.<name>]` laid over it key by key. `Ok(None)` when the automation
    /// is off for this repository.
    pub fn section<T: DeserializeOwned>(
        &self,
        name: &str,
        repo: &str,
    ) -> Result<Option<T>, OrgConfigError> {
        let mut merged = self.org_table(name);
        let overrides = self
            .table
            .get(OPT_IN)
            .and_then(|r| r.get(repo))
            .and_then(|r| r.get(name))
            .and_then(toml::Value::as_table);
        if let Some(overrides) = overrides {
            for (k, v) in overrides {
                merged.insert(k.clone(), v.clone());
            }
        }
        let enabled = self.flag(&merged, name, repo, ENABLED)?;
        let opt_in = self.list(&merged, name, repo, OPT_IN)?;
        let opt_out = self.list(&merged, name, repo, OPT_OUT)?;
        let chosen = opt_in.is_none_or(|list| list.iter().any(|r| r == repo));
        let excluded = opt_out.is_some_and(|list| list.iter().any(|r| r == repo));
        if !enabled || !chosen || excluded {
            return Ok(None);
        }
        for key in [ENABLED, OPT_IN, OPT_OUT] {
            merged.remove(key);
        }
        self.deserialize(merged, name, Some(repo)).map(Some)
    }

    /// The organization-level `[name]` section without any repository's overrides (settings
    /// that are one per organization). `Ok(None)` when absent or not enabled.
    pub fn org_section<T: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Option<T>, OrgConfigError> {
        let mut table = self.org_table(name);
        if !self.flag(&table, name, "", ENABLED)? {
            return Ok(None);
        }
        for key in [ENABLED, OPT_IN, OPT_OUT] {
            table.remove(key);
        }
        self.deserialize(table, name, None).map(Some)
    }

    fn org_table(&self, name: &str) -> toml::Table {
        self.table
            .get(name)
            .and_then(toml::Value::as_table)
            .cloned()
            .unwrap_or_default()
    }

    fn flag(
        &self,
        table: &toml::Table,
        name: &str,
        repo: &str,
        key: &str,
    ) -> Result<bool, OrgConfigError> {
        match table.get(key) {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(_) => {
                Err(self.section_error(name, repo, format!("`{key}` must be true or false")))
            }
        }
    }

    fn list(
        &self,
        table: &toml::Table,
        name: &str,
        repo: &str,
        key: &str,
    ) -> Result<Option<Vec<String>>, OrgConfigError> {
        match table.get(key) {
            None => Ok(None),
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| {
                    self.section_error(name, repo, format!("`{key}` must be a list of names"))
                }),
            Some(_) => {
                Err(self.section_error(name, repo, format!("`{key}` must be a list of names")))
            }
        }
    }

    fn deserialize<T: DeserializeOwned>(
        &self,
        table: toml::Table,
        name: &str,
        repo: Option<&str>,
    ) -> Result<T, OrgConfigError> {
        T::deserialize(toml::Value::Table(table))
            .map_err(|e| self.section_error(name, repo.unwrap_or(""), one_line(&e.to_string())))
    }

    /// An error in `[name]` (or its override for `repo`), on the line of the override's header
    /// when there is one, else of the section's.
    fn section_error(&self, name: &str, repo: &str, message: String) -> OrgConfigError {
        let has_override = !repo.is_empty()
            && self
                .table
                .get(OPT_IN)
                .and_then(|r| r.get(repo))
                .and_then(|r| r.get(name))
                .is_some();
        let (path, shown): (Vec<&str>, String) = if has_override {
            (
                vec![OPT_IN, repo, name],
                format!("repositories.{}.{name}", escape(repo)),
            )
        } else {
            (vec![name], name.to_owned())
        };
        malformed(&self.text, &path, format!("[{shown}]: {message}"))
    }
}

impl<R: RateLimitStore> App<R> {
    /// Reads `<owner>/.github/ciguard-app.toml` from its default branch with a contents:read
    /// token scoped to that repository alone. No repository or no file: every automation off.
    pub async fn org_config(
        &self,
        installation: u64,
        owner: &str,
    ) -> Result<OrgConfig, OrgConfigLoad> {
        let permissions = org_config_permissions();
        let token = match self
            .tokens
            .token_for_names(&self.api, installation, &[ORG_CONFIG_REPO], &permissions)
            .await
        {
            Ok(token) => token,
            // 422: the repository does not exist or the App is not installed on it.
            Err(ApiError::Rejected(reason)) if reason.contains(": 422 ") => {
                return Ok(OrgConfig::default());
            }
            Err(e) => return Err(e.into()),
        };
        let target = format!("/repos/{owner}/{ORG_CONFIG_REPO}/contents/{ORG_CONFIG_PATH}");
        let response = self
            .api
            .call_raw(installation, &token, Method::Get, &target)
            .await?;
        if response.status == 404 {
            return Ok(OrgConfig::default());
        }
        let response = crate::app::api::classify("GET", &target, response)?;
        let file: ContentsFile = crate::app::api::decode(&response, &target)?;
        let bytes = file.decode().ok_or_else(|| {
            ApiError::Rejected(format!(
                "{ORG_CONFIG_REPO}/{ORG_CONFIG_PATH}: not a file GitHub sent as base64"
            ))
        })?;
        if bytes.len() > MAX_BYTES {
            return Err(OrgConfigError::TooLarge { bytes: bytes.len() }.into());
        }
        let text = String::from_utf8(bytes).map_err(|e| OrgConfigError::Malformed {
            line: line_of_bytes(e.as_bytes(), e.utf8_error().valid_up_to()),
            message: "not UTF-8 text".into(),
        })?;
        Ok(OrgConfig::parse(&text)?)
    }
}

#[derive(serde::Deserialize)]
struct ContentsFile {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    encoding: String,
    #[serde(default)]
    content: String,
}

impl ContentsFile {
    fn decode(&self) -> Option<Vec<u8>> {
        if self.kind != "file" || self.encoding != "base64" {
            return None;
        }
        let compact: String = self.content.split_whitespace().collect();
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .ok()
    }
}

fn malformed(text: &str, path: &[&str], message: String) -> OrgConfigError {
    OrgConfigError::Malformed {
        line: header_line(text, path),
        message,
    }
}

/// The 1-based line of the `[a.b.c]` header naming `path`, or of the first key of `path[0]`
/// written as a dotted key; 1 when neither is written literally (inline tables).
fn header_line(text: &str, path: &[&str]) -> usize {
    let wanted = path.join(".");
    let quoted: Vec<String> = path
        .iter()
        .map(|p| {
            if p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                (*p).to_owned()
            } else {
                format!("\"{p}\"")
            }
        })
        .collect();
    let quoted = quoted.join(".");
    text.lines()
        .position(|line| {
            let line = line.trim();
            let header = line
                .strip_prefix('[')
                .and_then(|l| l.split(']').next())
                .map(|h| h.trim());
            header == Some(wanted.as_str())
                || header == Some(quoted.as_str())
                || line.starts_with(&format!("{wanted}."))
                || line.starts_with(&format!("{wanted} "))
                || line.starts_with(&format!("{wanted}="))
        })
        .map_or(1, |i| i + 1)
}

fn line_of(text: &str, offset: usize) -> usize {
    line_of_bytes(text.as_bytes(), offset)
}

fn line_of_bytes(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A parser message on one line (TOML's messages may quote the offending source).
fn one_line(message: &str) -> String {
    escape(message.trim()).replace('\n', " ")
}

fn escape(text: &str) -> String {
    ciguard_core::output::escape::text(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Drift {
        #[serde(default)]
        ping_days: Option<u32>,
        #[serde(default)]
        label: Option<String>,
    }

    const FILE: &str = r#"
[drift]
enabled = true
ping-days = 30
exclude = ["sandbox"]

[relay]
enabled = true
repositories = ["web"]

[repositories.api.drift]
ping-days = 7

[repositories.legacy.drift]
enabled = false
"#;

    #[test]
    fn a_missing_file_turns_everything_off() {
        let config = OrgConfig::default();
        assert_eq!(config.section::<Drift>("drift", "api"), Ok(None));
        assert_eq!(config.org_section::<Drift>("drift"), Ok(None));
    }

    #[test]
    fn overrides_lay_over_the_org_section_key_by_key() {
        let config = OrgConfig::parse(FILE).unwrap();
        let api: Drift = config.section("drift", "api").unwrap().unwrap();
        assert_eq!(api.ping_days, Some(7));
        let web: Drift = config.section("drift", "web").unwrap().unwrap();
        assert_eq!(web.ping_days, Some(30));
        let org: Drift = config.org_section("drift").unwrap().unwrap();
        assert_eq!(org.ping_days, Some(30));
    }

    #[test]
    fn opt_in_opt_out_and_per_repository_disable() {
        let config = OrgConfig::parse(FILE).unwrap();
        assert_eq!(config.section::<Drift>("drift", "sandbox"), Ok(None));
        assert_eq!(config.section::<Drift>("drift", "legacy"), Ok(None));
        assert!(config.section::<Drift>("relay", "web").unwrap().is_some());
        assert_eq!(config.section::<Drift>("relay", "api"), Ok(None));
        assert_eq!(config.section::<Drift>("release-gate", "api"), Ok(None));
    }

    #[test]
    fn a_mistyped_key_names_its_line_and_is_never_defaulted() {
        let text = "[drift]\nenabled = true\n\n[repositories.api.drift]\npign-days = 7\n";
        let config = OrgConfig::parse(text).unwrap();
        let err = config.section::<Drift>("drift", "api").unwrap_err();
        match &err {
            OrgConfigError::Malformed { line, message } => {
                assert_eq!(*line, 4);
                assert!(message.contains("pign-days"), "{message}");
                assert!(message.starts_with("[repositories.api.drift]"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().starts_with(".github/ciguard-app.toml:4: "));
        // The other repositories still read the org section.
        assert!(config.section::<Drift>("drift", "web").unwrap().is_some());
    }

    #[test]
    fn unknown_sections_bad_toml_and_bad_flags_are_errors_with_lines() {
        let err = OrgConfig::parse("[drift]\nenabled = true\n[drfit]\n").unwrap_err();
        assert_eq!(
            err,
            OrgConfigError::Malformed {
                line: 3,
                message: "unknown section `drfit`, expected one of: drift, release-gate, relay, repositories".into()
            }
        );
        let err = OrgConfig::parse("[drift]\nenabled = \n").unwrap_err();
        assert!(
            matches!(err, OrgConfigError::Malformed { line: 2, .. }),
            "{err:?}"
        );
        let config = OrgConfig::parse("[drift]\nenabled = \"yes\"\n").unwrap();
        let err = config.section::<Drift>("drift", "x").unwrap_err();
        assert!(
            err.to_string().contains("`enabled` must be true or false"),
            "{err}"
        );
        let err = OrgConfig::parse("[repositories.api.drfit]\nenabled = true\n").unwrap_err();
        assert!(
            matches!(err, OrgConfigError::Malformed { line: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn control_characters_in_keys_are_escaped_in_errors() {
        let err = OrgConfig::parse("\"\\u001b[31m\" = {}\n").unwrap_err();
        assert!(!err.to_string().contains('\u{1b}'), "{err}");
    }

    #[test]
    fn oversized_files_are_refused_unparsed() {
        let big = format!("# {}\n", "x".repeat(MAX_BYTES));
        assert!(matches!(
            OrgConfig::parse(&big),
            Err(OrgConfigError::TooLarge { .. })
        ));
    }
}
