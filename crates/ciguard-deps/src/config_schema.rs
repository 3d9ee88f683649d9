//! The JSON schema of the `[deps]` table (see [`crate::config`]), for the schema of
//! `ciguard.toml`. The binary's schema test checks it against `DepsConfig::from_table` on the
//! documented examples and on typos, so the two cannot drift apart unnoticed.

use serde_json::{Map, Value, json};

use crate::config::{DEFAULT_COOLDOWN_DAYS, REGISTRY_KEYS};
use crate::lockfile::Ecosystem;

pub fn schema() -> Value {
    let mut properties = common_keys();
    properties.insert(
        "exclude".to_owned(),
        json!({
            "description": "paths (gitignore syntax) whose lockfiles and settings are not checked, such as test fixtures",
            "type": "array",
            "items": { "type": "string" },
        }),
    );
    properties.insert(
        "negative-cache-hours".to_owned(),
        json!({
            "description": "how long answers that a package or version does not exist are cached (default 24)",
            "type": "integer",
            "minimum": 0,
        }),
    );
    let registries: Map<String, Value> = REGISTRY_KEYS
        .iter()
        .map(|key| {
            let url = json!({ "type": "string", "pattern": "^https?://" });
            ((*key).to_owned(), url)
        })
        .collect();
    properties.insert(
        "registries".to_owned(),
        json!({
            "description": "registry base URLs, for mirrors (the keys of --registry-url)",
            "type": "object",
            "properties": registries,
            "additionalProperties": false,
        }),
    );
    for eco in Ecosystem::ALL {
        properties.insert(
            eco.as_str().to_owned(),
            json!({
                "description": format!("overrides for {}", eco.registry_name()),
                "type": "object",
                "properties": common_keys(),
                "additionalProperties": false,
            }),
        );
    }
    json!({
        "description": "`ciguard deps`: cooldowns and first-party packages",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

/// The keys of `[deps]` that `[deps.<ecosystem>]` also takes.
fn common_keys() -> Map<String, Value> {
    let mut keys = Map::new();
    keys.insert(
        "cooldown-days".to_owned(),
        json!({
            "description": format!("versions younger than this many days are reported (default {DEFAULT_COOLDOWN_DAYS}; 0 turns the check off)"),
            "type": "integer",
            "minimum": 0,
        }),
    );
    keys.insert(
        "exempt".to_owned(),
        json!({
            "description": "first-party package names (`*` at the end: a prefix)",
            "type": "array",
            "items": { "type": "string" },
        }),
    );
    keys
}
