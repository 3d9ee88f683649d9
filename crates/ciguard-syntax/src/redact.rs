//! Token redaction: one place that knows which secrets this run holds and masks them in every
//! message it prints (HTTP errors, diagnostics, configuration errors, the final error chain).

use std::sync::{Mutex, OnceLock};

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Environment variables that hold a GitHub token; their values are never printed.
pub const TOKEN_VARIABLES: [&str; 2] = ["GH_TOKEN", "GITHUB_TOKEN"];

/// Secrets shorter than this are not masked: masking `a` would garble every message.
const MIN_SECRET_LEN: usize = 4;

/// `text` with every occurrence of `secret` replaced by [`MASK`].
pub fn redact_secret(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, MASK)
    }
}

fn registry() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| {
        let from_env = TOKEN_VARIABLES
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .map(|v| v.trim().to_owned())
            .filter(|v| v.len() >= MIN_SECRET_LEN)
            .collect();
        Mutex::new(from_env)
    })
}

/// Adds a secret (such as a `--gh-token` value) that [`redact`] masks from now on.
pub fn register_secret(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    if let Ok(mut secrets) = registry().lock()
        && !secrets.iter().any(|s| s == secret)
    {
        secrets.push(secret.to_owned());
    }
}

/// `text` with every registered secret (and the tokens of [`TOKEN_VARIABLES`]) masked.
pub fn redact(text: &str) -> String {
    let Ok(secrets) = registry().lock() else {
        return text.to_owned();
    };
    // Longest first, so a secret that contains another is masked whole.
    let mut ordered: Vec<&String> = secrets.iter().collect();
    ordered.sort_by_key(|s| std::cmp::Reverse(s.len()));
    ordered
        .into_iter()
        .fold(text.to_owned(), |acc, secret| redact_secret(&acc, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_of_a_registered_secret() {
        register_secret("ghp_unit_test_secret_1234");
        assert_eq!(
            redact("a ghp_unit_test_secret_1234 b ghp_unit_test_secret_1234"),
            "a *** b ***"
        );
        assert_eq!(redact("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn tiny_secrets_are_not_registered() {
        register_secret("ab");
        assert_eq!(redact("abc"), "abc");
        assert_eq!(redact_secret("xyx", ""), "xyx");
    }
}
