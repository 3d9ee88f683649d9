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
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};

use crate::audits;
use crate::catalog::Catalogue;
use crate::finding::{Finding, Severity};
use crate::safe_read::{self, ReadError};
use crate::suggest::did_you_mean;

/// Keys every audit table accepts; the rest are the audit's own options.
const GENERIC_KEYS: &[&str] = &["disable", "severity", "ignore"];

/// The top-level tables: `[audits.<id>]` here, `[deps]` for `ciguard deps`, `[settings]` for
/// `ciguard settings`.
pub const TOP_LEVEL_TABLES: &[&str] = &["audits", "deps", "settings"];

/// A configuration file is a few hundred bytes; anything this large is not one.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

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

/// What is wrong with the text of a configuration file, and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, "{line}:{column}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A configuration file that could not be used: `path:line:column: message`, then what to do.
#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {message}\n  help: {help}", position(*.line, *.column))]
pub struct ConfigError {
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: String,
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        _ => String::new(),
    }
}

impl ConfigError {
    fn unreadable(path: &Path, e: &ReadError) -> Self {
        ConfigError {
            path: path.display().to_string().escape_debug().to_string(),
            line: None,
            column: None,
            message: format!("the configuration file {e}"),
            help: "make it a regular file inside the repository, or pass --config or --no-config"
                .into(),
        }
    }

    fn invalid(path: &Path, e: ParseError) -> Self {
        ConfigError {
            path: path.display().to_string().escape_debug().to_string(),
            line: e.line,
            column: e.column,
            message: e.message,
            help: "fix the configuration file; the keys are documented in `ciguard audit --help` \
                   and `ciguard audits` lists the audit ids"
                .into(),
        }
    }
}

/// Accepted by [`Config::load`] as an empty file.
const NULL_DEVICE: &str = "/dev/null";

/// The names of a repository's config file, relative to its root, in order of precedence.
pub const FILE_NAMES: [&str; 2] = ["ciguard.toml", ".github/ciguard.toml"];

impl Config {
    /// The config file for a repository root: `ciguard.toml`, then `.github/ciguard.toml`.
    /// Anything at those names counts, links and FIFOs included, so that loading it refuses it
    /// loudly rather than silently auditing with the defaults.
    pub fn discover(root: &Path) -> Option<PathBuf> {
        FILE_NAMES
            .iter()
            .map(|name| root.join(name))
            .find(|p| std::fs::symlink_metadata(p).is_ok())
    }

    /// The text of the config file discovered under `root`, read without leaving the repository.
    pub fn read_discovered(root: &Path) -> Result<Option<(PathBuf, String)>, ConfigError> {
        let Some(path) = Config::discover(root) else {
            return Ok(None);
        };
        match safe_read::read_text(Some(root), &path, MAX_CONFIG_BYTES) {
            Ok(text) => Ok(Some((path, text))),
            Err(e) => Err(ConfigError::unreadable(&path, &e)),
        }
    }

    /// The configuration discovered under `root`, if any.
    pub fn load_discovered(
        root: &Path,
        catalogue: &Catalogue,
    ) -> Result<Option<Config>, ConfigError> {
        let Some((path, text)) = Config::read_discovered(root)? else {
            return Ok(None);
        };
        Config::from_text(&path, &text, catalogue).map(Some)
    }

    /// A config file the user named (`--config`): links are followed, but it must be a regular
    /// file of sensible size.
    pub fn load(path: &Path, catalogue: &Catalogue) -> Result<Config, ConfigError> {
        // `--config /dev/null` is the usual way to ask for an empty configuration; other
        // devices are refused (they may never end or block).
        if path == Path::new(NULL_DEVICE) {
            return Config::from_text(path, "", catalogue);
        }
        let text = safe_read::read_text(None, path, MAX_CONFIG_BYTES)
            .map_err(|e| ConfigError::unreadable(path, &e))?;
        Config::from_text(path, &text, catalogue)
    }

    fn from_text(path: &Path, text: &str, catalogue: &Catalogue) -> Result<Config, ConfigError> {
        let mut config =
            Config::parse(text, catalogue).map_err(|e| ConfigError::invalid(path, e))?;
        config.path = Some(path.to_owned());
        Ok(config)
    }

    /// Parses and validates the text of a config file. Errors say where, never quote the text
    /// around it (the file may not be a configuration file at all). `[audits.<id>]` tables must
    /// name an audit of `catalogue`.
    pub fn parse(text: &str, catalogue: &Catalogue) -> Result<Config, ParseError> {
        let spans = DeTable::parse(text).map_err(|e| ParseError {
            message: format!("invalid TOML: {}", e.message().trim_end()),
            ..at(text, e.span())
        })?;
        let located = |path: &[Seg<'_>], message: String| ParseError {
            message,
            ..at(text, span_of(spans.get_ref(), path))
        };
        let raw: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| located(&[], format!("invalid TOML: {}", e.message())))?;
        for key in raw.keys() {
            if !TOP_LEVEL_TABLES.contains(&key.as_str()) {
                let hint = did_you_mean(key, TOP_LEVEL_TABLES.iter().copied());
                return Err(located(
                    &[Seg::Key(key)],
                    format!(
                        "unknown top-level key `{}`{hint} (known: {})",
                        key.escape_debug(),
                        TOP_LEVEL_TABLES.join(", ")
                    ),
                ));
            }
        }
        let mut config = Config {
            raw: raw.clone(),
            ..Default::default()
        };
        let Some(audits_value) = raw.get("audits") else {
            return Ok(config);
        };
        let table = audits_value.as_table().ok_or_else(|| {
            located(
                &[Seg::Key("audits")],
                "`audits` must be a table of `[audits.<id>]` sections".into(),
            )
        })?;
        for (id, value) in table {
            let here = |rest: &[Seg<'_>], message: String| {
                let mut path = vec![Seg::Key("audits"), Seg::Key(id)];
                path.extend_from_slice(rest);
                located(&path, message)
            };
            let settings = parse_audit(id, value, catalogue)
                .map_err(|(rest, message)| here(&rest, message))?;
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
        let Some(settings) = self.settings(finding.audit_id()) else {
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

/// One step of a path into the TOML document, for locating an error.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// An error inside `[audits.<id>]`: the path below that table, and the message.
type AuditError<'a> = (Vec<Seg<'a>>, String);

/// Reads one `[audits.<id>]` table.
fn parse_audit<'a>(
    id: &'a str,
    value: &'a toml::Value,
    catalogue: &Catalogue,
) -> Result<AuditSettings, AuditError<'a>> {
    let shown = id.escape_debug();
    let Some(meta) = catalogue.get(id) else {
        let hint = did_you_mean(id, catalogue.ids());
        return Err((
            Vec::new(),
            format!(
                "unknown audit `{shown}` in `[audits.{shown}]`{hint}; `ciguard audits` lists them"
            ),
        ));
    };
    let section = value
        .as_table()
        .ok_or_else(|| (Vec::new(), format!("`[audits.{id}]` must be a table")))?;
    let mut settings = AuditSettings::default();
    if let Some(v) = section.get("disable") {
        settings.disabled = v.as_bool().ok_or_else(|| {
            (
                vec![Seg::Key("disable")],
                format!("`audits.{id}.disable` must be true or false"),
            )
        })?;
    }
    if let Some(v) = section.get("severity") {
        let s = v.as_str().and_then(Severity::parse).ok_or_else(|| {
            (
                vec![Seg::Key("severity")],
                format!("`audits.{id}.severity` must be one of informational, low, medium, high"),
            )
        })?;
        settings.severity = Some(s);
    }
    if let Some(v) = section.get("ignore") {
        let list = v.as_array().ok_or_else(|| {
            (
                vec![Seg::Key("ignore")],
                format!("`audits.{id}.ignore` must be a list of \"path[:line]\""),
            )
        })?;
        for (i, item) in list.iter().enumerate() {
            let entry = item
                .as_str()
                .ok_or_else(|| format!("`audits.{id}.ignore` entries must be strings"))
                .and_then(|s| parse_ignore(s).map_err(|m| format!("`audits.{id}.ignore`: {m}")))
                .map_err(|m| (vec![Seg::Key("ignore"), Seg::Index(i)], m))?;
            settings.ignore.push(entry);
        }
    }
    settings.options = section
        .iter()
        .filter(|(k, _)| !GENERIC_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let first_option = section
        .keys()
        .map(String::as_str)
        .find(|k| !GENERIC_KEYS.contains(k));
    match audits::by_id(meta.id) {
        Some(audit) => audit.validate_options(&settings.options).map_err(|e| {
            let at = first_option.map(Seg::Key).into_iter().collect();
            let hint = first_option.map_or(String::new(), |k| {
                did_you_mean(k, GENERIC_KEYS.iter().copied())
            });
            (at, format!("`[audits.{id}]`: {e}{hint}"))
        })?,
        // Checks of other subcommands take their options from those subcommands' tables.
        None => {
            if let Some(key) = first_option {
                let hint = did_you_mean(key, GENERIC_KEYS.iter().copied());
                return Err((
                    vec![Seg::Key(key)],
                    format!(
                        "`[audits.{id}]` takes no option `{}`{hint}; only disable, severity and ignore",
                        key.escape_debug()
                    ),
                ));
            }
        }
    }
    Ok(settings)
}

/// `path`, `path:line`, or a remote `owner/repo@ref:path`. A suffix after the last `:` that is
/// not a path (no `/` or `.`) must be a line number.
fn parse_ignore(s: &str) -> Result<(String, Option<usize>), String> {
    let Some((path, tail)) = s.rsplit_once(':') else {
        return Ok((s.to_owned(), None));
    };
    if tail.contains('/') || tail.contains('.') {
        return Ok((s.to_owned(), None));
    }
    match tail.parse::<usize>() {
        Ok(line) if line > 0 && !path.is_empty() => Ok((path.to_owned(), Some(line))),
        _ => Err(format!(
            "`{}` is not \"path\" or \"path:line\" (the line must be a number from 1)",
            s.escape_debug()
        )),
    }
}

/// The 1-based line and column of `span`'s start in `text`.
fn at(text: &str, span: Option<Range<usize>>) -> ParseError {
    let Some(span) = span else {
        return ParseError {
            line: None,
            column: None,
            message: String::new(),
        };
    };
    let mut start = span.start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let before = &text[..start];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ParseError {
        line: Some(line),
        column: Some(column),
        message: String::new(),
    }
}

/// The span of the key (or array item) at `path` in the parsed document.
fn span_of(table: &DeTable<'_>, path: &[Seg<'_>]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(name) = first else { return None };
    let (key, value) = table.iter().find(|(k, _)| k.get_ref().as_ref() == *name)?;
    match rest.first() {
        None => Some(key.span()),
        Some(_) => span_in_value(value.get_ref(), rest).or(Some(key.span())),
    }
}

fn span_in_value(value: &DeValue<'_>, path: &[Seg<'_>]) -> Option<Range<usize>> {
    match (value, path.first()?) {
        (DeValue::Table(t), Seg::Key(_)) => span_of(t, path),
        (DeValue::Array(items), Seg::Index(i)) => {
            let item = items.get(*i)?;
            match path.get(1) {
                None => Some(item.span()),
                Some(_) => span_in_value(item.get_ref(), &path[1..]),
            }
        }
        _ => None,
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
            "[audits.unpinned-uses]\nseverity = \"low\"\nignore = [\"ci.yml:3\", \"x.yml\"]\npolicies = { \"actions/*\" = \"ref-pin\" }\n", &audits::catalogue())
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
        let e = Config::parse("[audits.nope]\n", &audits::catalogue()).unwrap_err();
        assert!(e.message.contains("unknown audit `nope`"), "{e}");
        let e = Config::parse(
            "[audits.unpinned-uses]\npolicies = { \"*\" = \"sometimes\" }\n",
            &audits::catalogue(),
        )
        .unwrap_err();
        assert!(e.message.contains("hash-pin"), "{e}");
        let e = Config::parse("audits = [", &audits::catalogue()).unwrap_err();
        assert!(e.message.contains("invalid TOML"), "{e}");
        assert_eq!((e.line, e.column), (Some(1), Some(11)));
    }

    #[test]
    fn typos_are_errors_with_a_position_and_a_suggestion() {
        let cases: [(&str, &str, (usize, usize)); 5] = [
            ("\n[audit.artipacked]\n", "did you mean `audits`?", (2, 2)),
            ("[audits.artipacked]\n\nfoo = 1\n", "unknown audit", (1, 9)),
            ("foo = 1\n", "unknown top-level key `foo`", (1, 1)),
            ("[audits.artipaked]\n", "did you mean `artipacked`?", (1, 9)),
            (
                "[audits.artipacked]\nignore = [\"b.yml\", \"a.yml:notanumber\"]\n",
                "`a.yml:notanumber` is not",
                (2, 20),
            ),
        ];
        for (text, wanted, (line, column)) in cases {
            let e = Config::parse(text, &audits::catalogue()).unwrap_err();
            if wanted == "unknown audit" {
                // `foo` sits inside `[audits.artipacked]`: an option artipacked does not take.
                assert!(e.message.contains("takes no option `foo`"), "{text}: {e}");
                assert_eq!((e.line, e.column), (Some(3), Some(1)), "{text}: {e}");
                continue;
            }
            assert!(e.message.contains(wanted), "{text}: {e}");
            assert_eq!(
                (e.line, e.column),
                (Some(line), Some(column)),
                "{text}: {e}"
            );
        }
        let e = Config::parse(
            "[audits.artipacked]\ndisabled = true\n",
            &audits::catalogue(),
        )
        .unwrap_err();
        assert!(e.message.contains("did you mean `disable`?"), "{e}");
    }

    #[test]
    fn ok_configs_with_every_table_and_remote_ignores_parse() {
        let c = Config::parse(
            "[deps]\ncooldown-days = 3\n[settings]\n[audits.artipacked]\nignore = [\"o/r@main:.github/workflows/ci.yml\", \"x.yml:7\"]\n", &audits::catalogue())
        .unwrap();
        let s = c.settings("artipacked").unwrap();
        assert_eq!(
            s.ignore,
            vec![
                ("o/r@main:.github/workflows/ci.yml".into(), None),
                ("x.yml".into(), Some(7))
            ]
        );
        assert!(
            Config::parse(
                "[audits.artipacked]\nignore = [\"x.yml:0\"]\n",
                &audits::catalogue()
            )
            .is_err()
        );
    }

    #[test]
    fn errors_never_quote_the_text_of_a_file_that_is_not_toml() {
        let text = "PATH=/usr/bin\0GH_TOKEN=ghp_planted_secret\0HOME=/root\0";
        let e = Config::parse(text, &audits::catalogue()).unwrap_err();
        assert!(!e.to_string().contains("ghp_planted_secret"), "{e}");
        let e = Config::parse(
            "first line is fine = 1\nGH_TOKEN ghp_planted_secret\n",
            &audits::catalogue(),
        )
        .unwrap_err();
        assert!(!e.to_string().contains("ghp_planted_secret"), "{e}");
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
