//! `ciguard schema`: the JSON schema of `ciguard.toml`, for editors (taplo, Even Better TOML).
//! `docs/ciguard.schema.json` is its output, kept current by `tests/config_schema.rs`.

use std::process::ExitCode;

use crate::commands::render::print_stdout;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

/// The schema: the audits' tables and those of `deps` and `settings`.
pub fn schema() -> serde_json::Value {
    ciguard_core::config_schema::schema(
        super::catalogue(),
        vec![
            ("deps", ciguard_deps::config_schema::schema()),
            ("settings", ciguard_settings::options_schema::schema()),
        ],
    )
}

pub fn run(_args: SchemaArgs) -> anyhow::Result<ExitCode> {
    let mut text = serde_json::to_string_pretty(&schema())?;
    text.push('\n');
    print_stdout(text.as_bytes())
}
