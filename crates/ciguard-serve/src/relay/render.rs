//! The comment the App posts for a relay message: a hidden marker naming the workflow (so one
//! comment per pull request and workflow is found again and updated), a header the message
//! cannot change, and the message's text escaped line by line (no HTML, no mention, no link,
//! no image), cut at the configured length.

use std::fmt::Write as _;

use super::message::{MESSAGE_FILE, Message};
use crate::app::checks::markdown_line;

/// Longest line kept (before escaping); longer lines are cut with `…`.
const MAX_LINE: usize = 1_000;

/// The hidden marker of the comment for workflow `workflow_id`. Message text can never produce
/// it: `<` is always escaped.
pub fn marker(workflow_id: u64) -> String {
    format!("<!-- ciguard-relay workflow={workflow_id} -->")
}

/// What the comment says besides the message. No run id: a re-run of the same commit with
/// the same text leaves the comment as it is (no write).
pub struct Context<'a> {
    pub workflow_id: u64,
    pub workflow_name: &'a str,
    pub head_sha: &'a str,
    /// Labels the message asked for that the allow-list refused.
    pub refused_labels: &'a [String],
    pub cap: usize,
}

/// The comment body.
pub fn comment(message: &Message, ctx: &Context) -> String {
    let mut out = marker(ctx.workflow_id);
    let short_sha: String = ctx.head_sha.chars().take(12).collect();
    let _ = write!(
        out,
        "\n**{}** (commit {}), relayed by ciguard from the workflow's `{MESSAGE_FILE}`:\n\n",
        markdown_line(ctx.workflow_name, 100),
        markdown_line(&short_sha, 12),
    );
    let mut used = 0;
    let mut cut = false;
    for line in message.body.lines() {
        let escaped = markdown_line(line.trim_end_matches('\r'), MAX_LINE);
        let len = escaped.chars().count() + 1;
        if used + len > ctx.cap {
            cut = true;
            break;
        }
        used += len;
        out.push_str(&escaped);
        out.push('\n');
    }
    if cut {
        let _ = write!(
            out,
            "\n_(cut: the message is longer than {} characters)_\n",
            ctx.cap
        );
    }
    if !ctx.refused_labels.is_empty() {
        let names: Vec<String> = ctx
            .refused_labels
            .iter()
            .map(|l| markdown_line(l, 60))
            .collect();
        let _ = write!(
            out,
            "\n_Labels not on the relay's allow-list, not applied: {}_\n",
            names.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(cap: usize, refused: &[String]) -> Context<'_> {
        Context {
            workflow_id: 77,
            workflow_name: "Relay <b>",
            head_sha: "0123456789abcdef0123456789abcdef01234567",
            refused_labels: refused,
            cap,
        }
    }

    fn message(body: &str) -> Message {
        Message {
            version: 1,
            pr: 1,
            head_sha: String::new(),
            body: body.into(),
            labels: Vec::new(),
        }
    }

    #[test]
    fn content_is_escaped_and_the_marker_cannot_be_forged() {
        let body = "<!-- ciguard-relay workflow=77 -->\n<img src=x onerror=alert(1)>\n@admin please see [x](https://evil.example) ![i](http://e/x.png)\n#12 www.evil.example\n\u{202e}txt";
        let out = comment(&message(body), &ctx(10_000, &[]));
        assert!(out.starts_with("<!-- ciguard-relay workflow=77 -->\n"));
        assert_eq!(out.matches("<!--").count(), 1, "{out}");
        assert!(!out.contains("<img") && !out.contains("<b>"), "{out}");
        assert!(!out.contains("@admin") && out.contains("@\u{200B}admin"));
        assert!(!out.contains("](") && !out.contains("https://"), "{out}");
        assert!(!out.contains("#12") && !out.contains("www.evil"), "{out}");
        assert!(!out.contains('\u{202e}') && out.contains("202e"), "{out}");
        // Lines are kept.
        assert!(out.lines().count() >= 6);
    }

    #[test]
    fn long_messages_are_cut_and_refused_labels_named() {
        let body = "x".repeat(50) + "\n";
        let long = body.repeat(1_000);
        let refused = vec!["@evil".to_owned()];
        let out = comment(&message(&long), &ctx(500, &refused));
        assert!(out.chars().count() < 1_000, "{}", out.chars().count());
        assert!(out.contains("(cut: the message is longer than 500 characters)"));
        assert!(out.contains("not applied: @\u{200B}evil"));
        let short = comment(&message("fine"), &ctx(500, &[]));
        assert!(!short.contains("cut:") && short.contains("\nfine\n"));
    }
}
