//! `ciguard audits`: the catalogue of audits, as a table or JSON.

use std::process::ExitCode;

use crate::commands::render::print_stdout;

use ciguard_core::output::audit_docs_url;
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CatalogFormat {
    Plain,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct AuditsArgs {
    /// How to print the catalogue.
    #[arg(long, value_enum, default_value_t = CatalogFormat::Plain)]
    pub format: CatalogFormat,
}

pub fn run(args: AuditsArgs) -> anyhow::Result<ExitCode> {
    let text = match args.format {
        CatalogFormat::Plain => table(),
        CatalogFormat::Json => {
            let mut s = serde_json::to_string_pretty(&catalogue())?;
            s.push('\n');
            s
        }
    };
    print_stdout(text.as_bytes())
}

fn sorted() -> Vec<&'static ciguard_core::AuditMeta> {
    let mut metas: Vec<_> = super::catalogue().iter().collect();
    metas.sort_by_key(|m| m.id);
    metas
}

/// One line per audit: id, default severity, persona and summary, in aligned columns.
pub fn table() -> String {
    let metas = sorted();
    let rows: Vec<[String; 4]> = metas
        .iter()
        .map(|m| {
            [
                m.id.to_owned(),
                m.severity.to_string(),
                m.persona.to_string(),
                m.summary.to_owned(),
            ]
        })
        .collect();
    let header = ["ID", "SEVERITY", "PERSONA", "SUMMARY"].map(str::to_owned);
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (i, width) in widths.iter().enumerate() {
            out.push_str(&format!("{:<width$}  ", row[i], width = *width));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    out
}

/// Every audit's declaration as JSON.
pub fn catalogue() -> serde_json::Value {
    let audits: Vec<_> = sorted()
        .into_iter()
        .map(|m| {
            json!({
                "id": m.id,
                "summary": m.summary,
                "severity": m.severity,
                "confidence": m.confidence,
                "persona": m.persona,
                "inputs": m.inputs,
                "needs_network": m.needs_network,
                "fix": m.fix.as_str(),
                "docs": audit_docs_url(m.id),
            })
        })
        .collect();
    json!({ "version": 1, "audits": audits })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_every_audit_aligned() {
        let t = table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), super::super::catalogue().len() + 1);
        assert!(lines[0].starts_with("ID "));
        let col = lines[0].find("SEVERITY").unwrap();
        for line in &lines[1..] {
            let sev = &line[col..];
            assert!(
                ["high", "medium", "low", "informational"]
                    .iter()
                    .any(|s| sev.starts_with(s)),
                "{line}"
            );
        }
        assert!(t.contains("unpinned-uses"));
    }

    #[test]
    fn catalogue_has_every_field() {
        let c = catalogue();
        let list = c["audits"].as_array().unwrap();
        assert_eq!(list.len(), super::super::catalogue().len());
        let uu = list.iter().find(|a| a["id"] == "unpinned-uses").unwrap();
        assert_eq!(uu["severity"], "high");
        assert_eq!(uu["inputs"], json!(["workflow", "action"]));
        assert_eq!(uu["needs_network"], false);
    }
}
