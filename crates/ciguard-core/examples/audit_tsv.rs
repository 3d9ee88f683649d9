//! Runs chosen audits over a directory tree and prints one TSV line per finding:
//! `path line col audit severity confidence persona related-lines message`.
//! Used by `bench/shell-audits-vs-zizmor.sh`; the CLI is the user-facing way to run audits.
//!
//! Usage: `cargo run --release -p ciguard-core --example audit_tsv -- DIR AUDIT-ID...`

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ciguard_core::audit::AuditContext;
use ciguard_core::engine::audit_file;
use ciguard_core::yaml::Limits;
use ciguard_core::{FileKind, SourceFile, audits};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn kind(rel: &str) -> Option<FileKind> {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if name == "action.yml" || name == "action.yaml" {
        Some(FileKind::Action)
    } else if rel.contains(".github/workflows/")
        && (name.ends_with(".yml") || name.ends_with(".yaml"))
    {
        Some(FileKind::Workflow)
    } else if rel.ends_with(".github/dependabot.yml") || rel.ends_with(".github/dependabot.yaml") {
        Some(FileKind::Dependabot)
    } else {
        None
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().expect("usage: audit_tsv DIR AUDIT..."));
    let ids: Vec<String> = args.collect();
    let chosen: Vec<_> = audits::all()
        .iter()
        .copied()
        .filter(|a| ids.is_empty() || ids.iter().any(|i| i == a.meta().id))
        .collect();
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    for path in files {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        let Some(kind) = kind(&rel) else { continue };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let file = Arc::new(SourceFile::new(rel.clone(), kind, text));
        let report = audit_file(&file, &Limits::default(), &chosen, &|_| {
            AuditContext::empty()
        });
        for f in report.findings {
            let Some(span) = f.primary.span() else {
                continue;
            };
            let lc = file.line_col(span.start);
            let related: Vec<String> = f
                .related
                .iter()
                .filter_map(|r| r.span())
                .map(|s| file.line_col(s.start).line.to_string())
                .collect();
            println!(
                "{rel}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                lc.line,
                lc.column,
                f.audit,
                f.severity,
                f.confidence,
                f.persona,
                related.join(","),
                f.message.replace(['\t', '\n'], " ")
            );
        }
    }
}
