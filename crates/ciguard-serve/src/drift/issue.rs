//! What a drift issue says and what to do with it: the text rendered from a check's findings
//! (escaped: findings quote names that repository admins chose), the hidden marker that
//! identifies it, and the plan that turns (stored issue, issue as read, new result) into the
//! fewest writes.

use sha2::{Digest, Sha256};

use crate::app::checks::markdown_text;

/// The hidden marker of check `check_id`'s issue.
pub fn marker(check_id: &str) -> String {
    format!("<!-- ciguard-drift:{check_id} -->")
}

/// Issue bodies are capped well under GitHub's 65,536 characters.
const MAX_BODY_CHARS: usize = 60_000;
/// Findings listed per issue; the others are counted.
const MAX_LISTED: usize = 50;

/// A failing check as an issue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    pub title: String,
    pub body: String,
}

impl Failing {
    /// The hash stored to tell "same result" from "changed text".
    pub fn hash(&self) -> String {
        ciguard_core::hex::encode(&Sha256::digest(self.body.as_bytes()))
    }
}

/// The issue of `check_id` failing on `subject` (`owner/repo` or `organization owner`), with
/// its findings' messages.
pub fn failing(
    check_id: &str,
    summary: &str,
    docs: &str,
    subject: &str,
    messages: &[String],
) -> Failing {
    let mut body = format!(
        "{}\n**{}** fails on {}: {}\n\n",
        marker(check_id),
        markdown_text(check_id),
        markdown_text(subject),
        markdown_text(summary)
    );
    for m in messages.iter().take(MAX_LISTED) {
        body.push_str(&format!("- {}\n", markdown_text(m)));
    }
    if messages.len() > MAX_LISTED {
        body.push_str(&format!("- and {} more\n", messages.len() - MAX_LISTED));
    }
    if let Some(fix) = fix_section(docs) {
        body.push_str(&format!("\n**Fix:** {fix}\n"));
    }
    body.push_str(&format!(
        "\n`ciguard explain {}` says what the check wants and why.\n",
        markdown_text(check_id)
    ));
    body.push_str("\nThis issue is kept by ciguard's settings drift checks: it is updated when the result changes and closed when the setting complies.\n");
    if body.chars().count() > MAX_BODY_CHARS {
        body = body.chars().take(MAX_BODY_CHARS).collect();
        body.push_str("\n…\n");
    }
    Failing {
        title: format!("ciguard: {check_id} fails on {}", title_text(subject)),
        body,
    }
}

/// The `## Fix` section of a check's documentation (ciguard's own text), on one line.
fn fix_section(docs: &str) -> Option<String> {
    let (_, rest) = docs.split_once("## Fix")?;
    let section = rest.split("\n ## ").next().unwrap_or(rest);
    let text = section.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

/// A subject in a title (plain text: titles are not Markdown, but mentions still notify).
fn title_text(subject: &str) -> String {
    crate::app::checks::plain_text(subject, 120)
}

/// The issue as the store remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub issue_repo: String,
    pub number: u64,
    pub body_hash: String,
    /// `open`, `closed` or `disabled`.
    pub state: String,
    pub written_at: i64,
}

/// The issue as GitHub has it now, when it is still ours (its body has the marker).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub open: bool,
}

/// The result of one check this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Result {
    Fail(Failing),
    Pass,
    /// Could not be read: nothing changes.
    Unknown,
}

/// The writes one check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Nothing,
    /// The stored issue must be read (number + marker) before deciding.
    Read,
    Create,
    /// Reopen with the current body and a comment.
    Reopen,
    /// One comment saying what changed, and the new body.
    Update,
    /// A "still failing" comment (the ping interval passed).
    Ping,
    /// A comment that the setting complies now, and close.
    Close,
}

/// The decision before reading the issue: most runs stop here without a request.
pub fn before_read(stored: Option<&Stored>, result: &Result, ping_due: bool) -> Plan {
    match (result, stored) {
        (Result::Unknown, _) => Plan::Nothing,
        (Result::Pass, Some(s)) if s.state == "open" => Plan::Read,
        (Result::Pass, _) => Plan::Nothing,
        (Result::Fail(_), None) => Plan::Create,
        (Result::Fail(_), Some(s)) if s.state == "disabled" => Plan::Create,
        (Result::Fail(f), Some(s)) => {
            if s.state == "closed" || s.body_hash != f.hash() || ping_due {
                Plan::Read
            } else {
                Plan::Nothing
            }
        }
    }
}

/// The decision once the stored issue was read (`None`: gone, or no longer has the marker).
pub fn after_read(stored: &Stored, found: Option<&Found>, result: &Result) -> Plan {
    match (result, found) {
        (Result::Unknown, _) => Plan::Nothing,
        (Result::Pass, Some(f)) if f.open => Plan::Close,
        (Result::Pass, _) => Plan::Nothing,
        (Result::Fail(_), None) => Plan::Create,
        (Result::Fail(_), Some(f)) if !f.open => Plan::Reopen,
        (Result::Fail(f), Some(_)) if stored.body_hash != f.hash() => Plan::Update,
        (Result::Fail(_), Some(_)) => Plan::Ping,
    }
}

pub const REOPENED: &str = "The setting fails again (ciguard settings drift); the description above is the current result.";
pub const CHANGED: &str = "The result changed (ciguard settings drift); the description above is updated to the current findings.";
pub const STILL: &str = "This setting still fails (ciguard settings drift).";
pub const COMPLIES: &str = "The setting complies now (ciguard settings drift); closing.";

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(state: &str, hash: &str) -> Stored {
        Stored {
            issue_repo: "o/r".into(),
            number: 3,
            body_hash: hash.into(),
            state: state.into(),
            written_at: 0,
        }
    }

    #[test]
    fn the_text_is_escaped_and_marked() {
        let f = failing(
            "settings-bypass",
            "who may bypass",
            " ## What it does\n\n Checks.\n\n ## Fix\n\n Remove the\n bypass actors.\n",
            "o/r",
            &["<img src=x> @admins [x](javascript:1)".into()],
        );
        assert!(
            f.body
                .starts_with("<!-- ciguard-drift:settings-bypass -->\n")
        );
        assert!(f.body.contains("&lt;img"), "{}", f.body);
        assert!(!f.body.contains("@admins"), "{}", f.body);
        assert!(!f.body.contains("](javascript"), "{}", f.body);
        assert_eq!(f.title, "ciguard: settings-bypass fails on o/r");
        assert!(
            f.body.contains("**Fix:** Remove the bypass actors.\n"),
            "{}",
            f.body
        );
        assert!(!f.body.contains("What it does"));
        let many: Vec<String> = (0..80).map(|i| format!("m{i}")).collect();
        let f = failing("c", "s", "", "o/r", &many);
        assert!(f.body.contains("and 30 more"));
    }

    #[test]
    fn plans() {
        let f = failing("c", "s", "", "o/r", &["a".into()]);
        let fail = Result::Fail(f.clone());
        let h = f.hash();
        assert_eq!(before_read(None, &fail, false), Plan::Create);
        assert_eq!(before_read(None, &Result::Pass, false), Plan::Nothing);
        assert_eq!(
            before_read(Some(&stored("open", &h)), &fail, false),
            Plan::Nothing
        );
        assert_eq!(
            before_read(Some(&stored("open", &h)), &fail, true),
            Plan::Read
        );
        assert_eq!(
            before_read(Some(&stored("open", "old")), &fail, false),
            Plan::Read
        );
        assert_eq!(
            before_read(Some(&stored("closed", &h)), &fail, false),
            Plan::Read
        );
        assert_eq!(
            before_read(Some(&stored("open", &h)), &Result::Pass, false),
            Plan::Read
        );
        assert_eq!(
            before_read(Some(&stored("closed", &h)), &Result::Pass, false),
            Plan::Nothing
        );
        assert_eq!(
            before_read(Some(&stored("open", "x")), &Result::Unknown, true),
            Plan::Nothing
        );
        let open = Found { open: true };
        let closed = Found { open: false };
        assert_eq!(
            after_read(&stored("open", "old"), Some(&open), &fail),
            Plan::Update
        );
        assert_eq!(
            after_read(&stored("open", &h), Some(&open), &fail),
            Plan::Ping
        );
        assert_eq!(
            after_read(&stored("closed", &h), Some(&closed), &fail),
            Plan::Reopen
        );
        assert_eq!(after_read(&stored("open", &h), None, &fail), Plan::Create);
        assert_eq!(
            after_read(&stored("open", &h), Some(&open), &Result::Pass),
            Plan::Close
        );
        assert_eq!(
            after_read(&stored("open", &h), Some(&closed), &Result::Pass),
            Plan::Nothing
        );
    }
}
