//! The JSON schema of the `[settings]` table ([`Options`]), for the schema of `ciguard.toml`.
//! A test checks that it names exactly the fields of `Options`.

use serde_json::{Value, json};

#[cfg(doc)]
use crate::options::Options;

pub fn schema() -> Value {
    let strings = |description: &str| json!({ "description": description, "type": "array", "items": { "type": "string" } });
    json!({
        "description": "`ciguard settings`: options of the repository and organization checks",
        "type": "object",
        "properties": {
            "forbidden_branches": strings("branch name patterns whose creation must be forbidden (default advisory-*, internal-*)"),
            "release_tags": strings("tag patterns of releases (default v*)"),
            "release_environment": {
                "description": "the environment releases deploy to (default: the first of release, publish, pypi, npm, crates-io, production that exists)",
                "type": "string",
            },
            "max_owners": {
                "description": "the most organization owners that pass (default 3)",
                "type": "integer",
                "minimum": 0,
            },
            "allow_all_actions_reason": {
                "description": "why `allowed_actions: all` is acceptable here; when set, it is not reported",
                "type": "string",
            },
            "bypass_teams": {
                "description": "team ids that may bypass rulesets",
                "type": "array",
                "items": { "type": "integer" },
            },
            "web_url": {
                "description": "the web address settings links point to (default https://github.com)",
                "type": "string",
            },
        },
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Options;

    #[test]
    fn names_exactly_the_fields_of_options() {
        let fields = serde_json::to_value(Options::default()).unwrap();
        let mut fields: Vec<_> = fields.as_object().unwrap().keys().cloned().collect();
        let schema = schema();
        let mut keys: Vec<_> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        fields.sort();
        keys.sort();
        assert_eq!(keys, fields);
    }
}
