//! The JSON schema of `ciguard.toml`, built from the audit catalogue and each audit's
//! [`Audit::options_schema`](crate::audit::Audit::options_schema), so it follows the code. The
//! binary adds the tables of other subcommands (`[deps]`, `[settings]`) and `ciguard schema`
//! prints it; `docs/ciguard.schema.json` is that output, kept current by a test.

use serde_json::{Map, Value, json};

use crate::audits;
use crate::catalog::Catalogue;
use crate::finding::Severity;

/// Where the committed schema is published, for `#:schema` comments and `$id`.
pub const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/ciguard/ciguard/main/docs/ciguard.schema.json";

/// The whole schema: `[audits.<id>]` for every audit of `catalogue`, and `tables`, the other
/// top-level tables, by name.
pub fn schema(catalogue: &Catalogue, tables: Vec<(&str, Value)>) -> Value {
    let mut properties = Map::new();
    properties.insert("audits".to_owned(), audits_schema(catalogue));
    for (name, table) in tables {
        properties.insert(name.to_owned(), table);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        "title": "ciguard.toml",
        "description": "Configuration of ciguard (https://github.com/ciguard/ciguard)",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// `[audits.<id>]` for every audit in the catalogue: the generic keys plus the audit's options.
fn audits_schema(catalogue: &Catalogue) -> Value {
    let mut properties = Map::new();
    for meta in catalogue.iter() {
        let mut keys = generic_keys();
        if let Some(audit) = audits::by_id(meta.id) {
            keys.extend(audit.options_schema());
        }
        properties.insert(
            meta.id.to_owned(),
            json!({
                "description": meta.summary,
                "type": "object",
                "properties": keys,
                "additionalProperties": false,
            }),
        );
    }
    json!({
        "description": "per-audit settings: `[audits.<id>]` (`ciguard audits` lists the ids)",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// The keys every audit table accepts (see `config.rs`).
fn generic_keys() -> Map<String, Value> {
    let mut keys = Map::new();
    keys.insert(
        "disable".to_owned(),
        json!({ "description": "turn the audit off", "type": "boolean" }),
    );
    keys.insert(
        "severity".to_owned(),
        json!({
            "description": "override the severity of its findings",
            "enum": Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        }),
    );
    keys.insert(
        "ignore".to_owned(),
        json!({
            "description": "findings to ignore, by path suffix with an optional line: `ci.yml`, `.github/workflows/release.yml:12`",
            "type": "array",
            "items": { "type": "string" },
        }),
    );
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audit_has_a_table_with_its_options() {
        let schema = schema(&audits::catalogue(), vec![]);
        let audits = &schema["properties"]["audits"]["properties"];
        for audit in audits::all() {
            let id = audit.meta().id;
            let keys = &audits[id]["properties"];
            assert!(keys["severity"].is_object(), "{id}");
            for option in audit.options_schema().keys() {
                assert!(keys[option].is_object(), "{id}.{option}");
            }
        }
        assert!(audits["unpinned-uses"]["properties"]["policies"].is_object());
        assert_eq!(schema["additionalProperties"], false);
    }
}
