//! `ciguard explain <audit-id>`: an audit's documentation, as in `docs/audits/<id>.md`.

use std::process::ExitCode;

use crate::commands::render::print_stdout;

use ciguard_core::docs;

/// Exit code for an unknown audit id: a usage error.

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The audit to explain, e.g. `unpinned-uses` (see `ciguard audits`).
    pub audit: String,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let wanted = normalize(&args.audit);
    let Some(meta) = super::catalogue().get(&wanted) else {
        eprintln!("{}", unknown_message(&args.audit));
        return Ok(super::exit::ExitStatus::Usage.into());
    };
    let text = for_terminal(&docs::audit_markdown(meta), meta.id);
    // Markdown as written when piped; rendered for a terminal.
    let text = match crate::terminal::stdout_width() {
        Some(width) => {
            let color = crate::commands::render::ColorChoice::Auto.enabled();
            crate::markdown::for_terminal(&text, width, color)
        }
        None => text,
    };
    print_stdout(text.as_bytes())
}

/// Where the repository's files are browsed, from `repository` in Cargo.toml.
const BLOB_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/");

/// The page as `docs/audits/<id>.md` has it, with its relative links made absolute (they point
/// nowhere from a terminal) and the page's own address at the end.
fn for_terminal(markdown: &str, id: &str) -> String {
    let mut text = markdown.replace("](../../", &format!("]({BLOB_URL}"));
    text.push_str(&format!("\nOnline: {BLOB_URL}docs/audits/{id}.md\n"));
    text
}

/// `Unpinned_Uses` and ` unpinned-uses ` name the same audit.
fn normalize(id: &str) -> String {
    id.trim().to_ascii_lowercase().replace('_', "-")
}

fn unknown_message(id: &str) -> String {
    let close = close_matches(&normalize(id));
    let mut msg = format!("error: no audit is called `{id}`");
    if !close.is_empty() {
        msg.push_str(&format!("\n  did you mean: {}?", close.join(", ")));
    }
    msg.push_str("\n  run `ciguard audits` to list every audit");
    msg
}

/// Ids within a small edit distance of `wanted`, or containing it, closest first.
fn close_matches(wanted: &str) -> Vec<&'static str> {
    ciguard_core::suggest::close_matches(wanted, super::catalogue().ids())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_ids() {
        assert_eq!(
            close_matches("unpined-uses").first(),
            Some(&"unpinned-uses")
        );
        assert!(close_matches("unpinned").contains(&"unpinned-uses"));
        assert!(close_matches("unpinned").contains(&"unpinned-images"));
        assert!(close_matches("zzzzzzzzzzzz").is_empty());
        let msg = unknown_message("unpined-uses");
        assert!(msg.contains("did you mean: unpinned-uses"), "{msg}");
        assert!(msg.contains("ciguard audits"));
    }

    #[test]
    fn links_are_absolute() {
        let meta = super::super::catalogue().get("unpinned-uses").unwrap();
        let text = for_terminal(&docs::audit_markdown(meta), meta.id);
        assert!(!text.contains("](../"), "{text}");
        assert!(
            text.contains("(https://github.com/ciguard/ciguard/blob/main/crates/ciguard-core/src/audits/unpinned_uses.rs)"),
            "{text}"
        );
        assert!(text.ends_with(
            "\nOnline: https://github.com/ciguard/ciguard/blob/main/docs/audits/unpinned-uses.md\n"
        ));
    }

    #[test]
    fn ids_are_normalized() {
        assert_eq!(normalize(" Unpinned_Uses "), "unpinned-uses");
    }
}
