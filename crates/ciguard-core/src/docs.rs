//! Documentation generated from the audits' declarations: one markdown page per audit
//! (`docs/audits/<id>.md`) and an index (`docs/audits/README.md`). `ciguard explain` prints the
//! same page; a test keeps the files in `docs/` in step with the code.

use std::fmt::Write as _;

use crate::catalog::{AuditMeta, Catalogue};

/// The first line of every generated file.
pub const GENERATED_NOTICE: &str = "<!-- Generated from the audit's declaration (its doc comment, in the file linked as its source). \
Do not edit: change the code, then run `CIGUARD_BLESS=1 cargo test -p ciguard --test docs_pages`. -->";

/// The name of the index page inside `docs/audits/`.
pub const INDEX_FILE: &str = "README.md";

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The summary as a sentence: first letter upper case, final period.
fn sentence(summary: &str) -> String {
    let mut chars = summary.trim().chars();
    let mut s: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !s.is_empty() && !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// An audit's page in markdown: title, summary, a table of its facts, then its documentation.
pub fn audit_markdown(meta: &AuditMeta) -> String {
    let mut out = String::new();
    let inputs = meta
        .inputs
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let source = meta.source;
    let _ = writeln!(out, "# `{}`\n", meta.id);
    let _ = writeln!(out, "{}\n", sentence(meta.summary));
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| id | `{}` |", meta.id);
    let _ = writeln!(out, "| default severity | {} |", meta.severity);
    let _ = writeln!(out, "| default confidence | {} |", meta.confidence);
    let _ = writeln!(out, "| persona | {} |", meta.persona);
    let _ = writeln!(out, "| inputs | {inputs} |");
    let _ = writeln!(out, "| needs network | {} |", yes_no(meta.needs_network));
    let _ = writeln!(out, "| fix | {} |", meta.fix.as_str());
    let _ = writeln!(out, "| source | [`{source}`](../../{source}) |\n");
    out.push_str(meta.documentation().trim_end());
    out.push('\n');
    out
}

/// The file `docs/audits/<id>.md`.
pub fn audit_page(meta: &AuditMeta) -> String {
    format!("{GENERATED_NOTICE}\n\n{}", audit_markdown(meta))
}

/// The file `docs/audits/README.md`: every audit with its severity, persona and summary.
pub fn index_page(catalogue: &Catalogue) -> String {
    let mut metas: Vec<&AuditMeta> = catalogue.iter().collect();
    metas.sort_by_key(|m| m.id);
    let mut out = format!("{GENERATED_NOTICE}\n\n# Audits\n\n");
    let _ = writeln!(
        out,
        "ciguard has {} audits. `ciguard audits` lists them and `ciguard explain <id>` shows one.\n",
        metas.len()
    );
    let _ = writeln!(
        out,
        "| audit | severity | confidence | persona | fix | summary |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for m in metas {
        let _ = writeln!(
            out,
            "| [`{id}`]({id}.md) | {} | {} | {} | {} | {} |",
            m.severity,
            m.confidence,
            m.persona,
            m.fix.as_str(),
            m.summary.replace('|', "\\|"),
            id = m.id
        );
    }
    out
}

/// Every generated file of `docs/audits/`: `(file name, contents)`, index first.
pub fn pages(catalogue: &Catalogue) -> Vec<(String, String)> {
    let mut pages = vec![(INDEX_FILE.to_owned(), index_page(catalogue))];
    let mut metas: Vec<&AuditMeta> = catalogue.iter().collect();
    metas.sort_by_key(|m| m.id);
    pages.extend(
        metas
            .into_iter()
            .map(|m| (format!("{}.md", m.id), audit_page(m))),
    );
    pages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audits;

    #[test]
    fn a_page_has_title_table_and_docs() {
        let audit = audits::by_id("unpinned-uses").expect("registered");
        let page = audit_page(audit.meta());
        assert!(page.starts_with(GENERATED_NOTICE));
        assert!(page.contains("# `unpinned-uses`\n\nActions and reusable workflows"));
        assert!(page.contains("| default severity | high |"));
        assert!(page.contains("| inputs | workflow, action |"));
        assert!(page.contains("| needs network | no |"));
        assert!(page.contains("](../../crates/ciguard-core/src/audits/unpinned_uses.rs)"));
        assert!(page.contains("## Why is this bad?\n"));
        assert!(page.ends_with("```\n") || page.ends_with(".\n") || page.ends_with("`\n"));
    }

    #[test]
    fn the_index_lists_every_audit() {
        let catalogue = audits::catalogue();
        let index = index_page(&catalogue);
        for id in catalogue.ids() {
            assert!(index.contains(&format!("[`{id}`]({id}.md)")));
        }
        assert_eq!(pages(&catalogue).len(), catalogue.len() + 1);
    }

    #[test]
    fn sentences() {
        assert_eq!(sentence("uses not pinned"), "Uses not pinned.");
        assert_eq!(sentence("done."), "Done.");
        assert_eq!(sentence(""), "");
    }
}
