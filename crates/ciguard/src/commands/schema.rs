//! `ciguard schema`: the JSON schema of `ciguard.toml`, for editors (taplo, Even Better TOML).
//! `docs/ciguard.schema.json` is its output, kept current by `tests/config_schema.rs`.

use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

/// The schema: the audits' tables and those of `deps` and `settings`.
pub fn schema() -> serde_json::Value {
    ciguard_core::config_schema::schema(vec![
        ("deps", ciguard_deps::config_schema::schema()),
        ("settings", ciguard_settings::options_schema::schema()),
    ])
}

pub fn run(_args: SchemaArgs) -> anyhow::Result<ExitCode> {
    let mut text = serde_json::to_string_pretty(&schema())?;
    text.push('\n');
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
