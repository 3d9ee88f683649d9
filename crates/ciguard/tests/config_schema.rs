//! The JSON schema of `ciguard.toml` (`ciguard schema`, committed as `docs/ciguard.schema.json`):
//! it is current (`CIGUARD_BLESS=1` rewrites it), it accepts the project's own configuration and
//! every example configuration in the docs, and it rejects typos, as the parsers do.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use ciguard_pipeline::catalogue;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generated() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .arg("schema")
        .stdin(Stdio::null())
        .output()
        .expect("run ciguard");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&generated()).expect("schema is JSON");
    jsonschema::validator_for(&schema).expect("schema compiles")
}

fn errors(validator: &jsonschema::Validator, toml_text: &str) -> Vec<String> {
    let table: toml::Table = toml_text.parse().expect("example is TOML");
    let instance = serde_json::to_value(table).expect("TOML as JSON");
    validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// What ciguard itself says of the text: the audits' tables, `[deps]` and `[settings]`.
fn parser_error(toml_text: &str) -> Option<String> {
    // The binary's catalogue, so the dependency and settings checks are known ids.
    if let Err(e) = ciguard_core::config::Config::parse(toml_text, &catalogue::build()) {
        return Some(e.to_string());
    }
    let table: toml::Table = toml_text.parse().ok()?;
    let deps = table
        .get("deps")
        .map(|d| ciguard_deps::config::DepsConfig::from_table(d.as_table()?).err())
        .map(|e| e.map(|e| e.to_string()));
    let settings = table
        .get("settings")
        .map(|s| ciguard_settings::options::Options::from_toml(s.as_table()?).err())
        .map(|e| e.map(|e| e.to_string()));
    deps.flatten().or(settings.flatten())
}

#[test]
fn committed_schema_is_current() {
    let path = root().join("docs/ciguard.schema.json");
    let actual = generated();
    if std::env::var_os("CIGUARD_BLESS").is_some_and(|v| v != "0") {
        std::fs::write(&path, &actual).expect("write schema");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == actual,
        "docs/ciguard.schema.json is stale: run `CIGUARD_BLESS=1 cargo test -p ciguard --test config_schema`"
    );
}

/// The ```toml blocks of a Markdown text, or of doc comments (`//!` or `///` lines).
fn toml_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim_start();
        let line = ["//! ", "/// ", "//!", "///"]
            .iter()
            .find_map(|p| line.strip_prefix(p))
            .unwrap_or(line);
        match &mut current {
            None if line.trim() == "```toml" => current = Some(String::new()),
            Some(block) if line.trim() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

/// A block is a `ciguard.toml` example when it has one of its tables (lockfile examples do not).
fn is_config(block: &str) -> bool {
    block.lines().any(|l| {
        let l = l.trim();
        l.starts_with("[audits.") || l.starts_with("[deps") || l == "[settings]"
    })
}

fn markdown_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read docs") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            markdown_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// Every example configuration: in the README, docs/, and the doc comments of the config code
/// and of the audits that take options.
fn examples() -> Vec<(String, String)> {
    let root = root();
    let mut files = vec![root.join("README.md")];
    markdown_files(&root.join("docs"), &mut files);
    for source in [
        "crates/ciguard-core/src/config.rs",
        "crates/ciguard-deps/src/config.rs",
    ] {
        files.push(root.join(source));
    }
    let audits = root.join("crates/ciguard-core/src/audits");
    for entry in std::fs::read_dir(audits).expect("audits dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    let mut examples = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let name = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        for block in toml_blocks(&text).into_iter().filter(|b| is_config(b)) {
            examples.push((name.clone(), block));
        }
    }
    examples
}

#[test]
fn accepts_every_documented_example() {
    let validator = validator();
    let examples = examples();
    // The README's, settings.md's, the two config modules' and the audits' options examples.
    assert!(examples.len() >= 6, "found only {examples:?}");
    for (file, block) in &examples {
        assert_eq!(
            errors(&validator, block),
            Vec::<String>::new(),
            "{file}:\n{block}"
        );
        assert_eq!(parser_error(block), None, "{file}:\n{block}");
    }
}

#[test]
fn accepts_the_projects_own_configuration() {
    let path = root().join("ciguard.toml");
    let text = std::fs::read_to_string(&path).expect("the repository has a ciguard.toml");
    assert!(
        text.starts_with("#:schema ./docs/ciguard.schema.json"),
        "the project's config points editors at the schema"
    );
    assert_eq!(errors(&validator(), &text), Vec::<String>::new());
    assert_eq!(parser_error(&text), None);
}

#[test]
fn rejects_typos_as_the_parsers_do() {
    let validator = validator();
    let typos = [
        "[audits.unpined-uses]\ndisable = true\n",
        "[audits.unpinned-uses]\npolicy = { \"*\" = \"hash-pin\" }\n",
        "[audits.unpinned-uses]\npolicies = { \"*\" = \"hashpin\" }\n",
        "[audits.excessive-permissions]\nseverity = \"critical\"\n",
        "[audits.excessive-permissions]\ndisabled = true\n",
        "[audits.excessive-permissions]\nignore = \"ci.yml\"\n",
        "[audits.dependabot-cooldown]\ndays = 365\n",
        "[audits.forbidden-uses]\nallows = [\"actions/*\"]\n",
        "[audits.dependency-cooldown]\ndays = 3\n",
        "[deps]\ncooldown_days = 3\n",
        "[deps]\ncooldown-days = -1\n",
        "[deps.cargoo]\nexempt = [\"x\"]\n",
        "[deps.registries]\ncratesio = \"https://example.org\"\n",
        "[deps.registries]\npypi = \"ftp://example.org\"\n",
        "[settings]\nmax-owners = 3\n",
        "[settings]\nbypass_teams = [\"release\"]\n",
    ];
    for typo in typos {
        assert_ne!(
            errors(&validator, typo),
            Vec::<String>::new(),
            "schema accepts:\n{typo}"
        );
        assert!(parser_error(typo).is_some(), "parser accepts:\n{typo}");
    }
    // A misspelt top-level table: the schema names the tables ciguard reads.
    assert_ne!(
        errors(&validator, "[audit.unpinned-uses]\ndisable = true\n"),
        Vec::<String>::new()
    );
    // The compliant neighbours of those typos pass.
    for ok in [
        "[audits.unpinned-uses]\npolicies = { \"*\" = \"hash-pin\" }\n",
        "[audits.dependency-cooldown]\nseverity = \"low\"\n",
        "[deps]\ncooldown-days = 0\n[deps.cargo]\nexempt = [\"my-*\"]\n",
        "[settings]\nmax_owners = 2\n",
    ] {
        assert_eq!(errors(&validator, ok), Vec::<String>::new(), "{ok}");
        assert_eq!(parser_error(ok), None, "{ok}");
    }
}
