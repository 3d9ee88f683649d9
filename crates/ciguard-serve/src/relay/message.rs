//! The relay message a `pull_request` workflow leaves as an artifact, and the configuration
//! that says which runs are relayed and which labels they may set. Everything in a message is
//! written by the pull request's own code: it is checked here and escaped when rendered.

use serde::Deserialize;

/// The artifact's name, by convention.
pub const ARTIFACT_NAME: &str = "ciguard-relay";
/// The file inside the artifact's zip.
pub const MESSAGE_FILE: &str = "ciguard-relay.json";
/// The message schema this App reads.
pub const MESSAGE_VERSION: u64 = 1;
/// Labels a message may ask for, at most.
pub const MAX_LABELS: usize = 20;
/// GitHub's limit on a label name.
pub const MAX_LABEL_CHARS: usize = 50;

/// `[relay]` in the organization's `ciguard-app.toml` (with per-repository overrides).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RelayConfig {
    /// Workflow files (`.github/workflows/comment.yml`) whose completed `pull_request` runs
    /// are relayed. Anything a run leaves is still untrusted: this only selects runs.
    pub workflows: Vec<String>,
    /// The labels a message may add; others are dropped and named in the comment.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The rendered comment is cut at this many characters (at most [`MAX_COMMENT_CHARS`]).
    #[serde(default = "default_max_comment")]
    pub max_comment_chars: usize,
}

/// GitHub refuses comments over 65,536 characters; the marker and notes need some room.
pub const MAX_COMMENT_CHARS: usize = 60_000;

fn default_max_comment() -> usize {
    10_000
}

impl RelayConfig {
    /// Whether runs of the workflow file `path` are relayed.
    pub fn relays(&self, path: &str) -> bool {
        self.workflows.iter().any(|w| w == path)
    }

    pub fn comment_cap(&self) -> usize {
        self.max_comment_chars.clamp(100, MAX_COMMENT_CHARS)
    }
}

/// The JSON file in the artifact (`version` 1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub version: u64,
    /// The pull request the comment is for.
    pub pr: u64,
    /// The commit the workflow ran on (`github.event.pull_request.head.sha`).
    pub head_sha: String,
    /// Plain text (Markdown is shown literally).
    pub body: String,
    #[serde(default)]
    pub labels: Vec<String>,
}

/// Why a message is refused (the summary of the job; nothing is posted).
pub fn parse(bytes: &[u8]) -> Result<Message, String> {
    let message: Message = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "{MESSAGE_FILE} is not a relay message: {}",
            ciguard_core::output::escape::text(&e.to_string())
        )
    })?;
    if message.version != MESSAGE_VERSION {
        return Err(format!(
            "{MESSAGE_FILE} has version {}, this App reads version {MESSAGE_VERSION}",
            message.version
        ));
    }
    if message.labels.len() > MAX_LABELS {
        return Err(format!(
            "{MESSAGE_FILE} asks for {} labels, more than {MAX_LABELS}",
            message.labels.len()
        ));
    }
    Ok(message)
}

/// The message's labels split into (allowed, refused), each once, in the message's order.
pub fn split_labels(message: &Message, config: &RelayConfig) -> (Vec<String>, Vec<String>) {
    let mut allowed = Vec::new();
    let mut refused = Vec::new();
    for label in &message.labels {
        let ok = label.chars().count() <= MAX_LABEL_CHARS && config.labels.contains(label);
        let list = if ok { &mut allowed } else { &mut refused };
        if !list.contains(label) {
            list.push(label.clone());
        }
    }
    (allowed, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(labels: &[&str]) -> RelayConfig {
        RelayConfig {
            workflows: vec![".github/workflows/relay.yml".into()],
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            max_comment_chars: 10_000,
        }
    }

    #[test]
    fn messages_are_strict() {
        let ok = br#"{"version":1,"pr":3,"head_sha":"abc","body":"hi","labels":["a"]}"#;
        assert_eq!(parse(ok).unwrap().pr, 3);
        assert!(parse(br#"{"version":2,"pr":3,"head_sha":"a","body":""}"#).is_err());
        assert!(parse(br#"{"version":1,"pr":3,"head_sha":"a","body":"","extra":1}"#).is_err());
        assert!(parse(br#"{"version":1,"pr":-3,"head_sha":"a","body":""}"#).is_err());
        assert!(parse(b"\xff\xfe").is_err());
        let many: Vec<String> = (0..21).map(|i| format!("\"l{i}\"")).collect();
        let text = format!(
            r#"{{"version":1,"pr":3,"head_sha":"a","body":"","labels":[{}]}}"#,
            many.join(",")
        );
        assert!(parse(text.as_bytes()).is_err());
    }

    #[test]
    fn only_allowed_labels_pass() {
        let m = parse(
            br#"{"version":1,"pr":3,"head_sha":"a","body":"","labels":["ok","admin","ok","OK"]}"#,
        )
        .unwrap();
        let (allowed, refused) = split_labels(&m, &config(&["ok"]));
        assert_eq!(allowed, vec!["ok"]);
        assert_eq!(refused, vec!["admin", "OK"]);
        let (allowed, _) = split_labels(&m, &config(&[]));
        assert!(allowed.is_empty());
    }

    #[test]
    fn config_is_strict_and_capped() {
        let c: RelayConfig = toml::from_str(
            "workflows = [\".github/workflows/relay.yml\"]\nlabels = [\"x\"]\nmax-comment-chars = 999999\n",
        )
        .unwrap();
        assert!(c.relays(".github/workflows/relay.yml"));
        assert!(!c.relays("relay.yml"));
        assert_eq!(c.comment_cap(), MAX_COMMENT_CHARS);
        assert!(toml::from_str::<RelayConfig>("workflows = []\nlabel = [\"x\"]\n").is_err());
    }
}
