//! A secret that never prints: an API token is logged by mistake without leaking, and every
//! message of the run masks it once it is known.

use std::fmt;

/// An API token. Its `Debug` and `Display` print `***`: it can be logged by mistake without
/// leaking. Only [`Token::expose`] gives the secret, for the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// `None` for an empty or blank value (an unset secret in Actions expands to "").
    pub fn new(secret: impl Into<String>) -> Option<Self> {
        let s = secret.into().trim().to_owned();
        // Every message the run prints masks it from now on, not only HTTP errors.
        ciguard_core::redact::register_secret(&s);
        (!s.is_empty()).then_some(Token(s))
    }

    /// A token minted per job by a long-running process (an App's installation token): not
    /// added to the process-wide list that [`Token::new`] feeds, which would grow with every
    /// token minted. The client still masks it in its own errors, and the App's logs mask
    /// installation tokens by their shape.
    pub fn short_lived(secret: impl Into<String>) -> Option<Self> {
        let s = secret.into().trim().to_owned();
        (!s.is_empty()).then_some(Token(s))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A short hash naming whose token this is, for cache keys: never the token itself.
    pub fn identity(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("ciguard-token-identity\0{}", self.0).as_bytes());
        ciguard_core::hex::encode(&digest[..8])
    }

    /// `text` with every occurrence of the token replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        ciguard_core::redact::redact_secret(text, &self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_never_prints() {
        let t = Token::new("ghp_secret123").unwrap();
        assert_eq!(format!("{t}"), "***");
        assert_eq!(format!("{t:?}"), "Token(***)");
        assert!(!t.identity().contains("secret"));
        assert_eq!(t.redact("bearer ghp_secret123!"), "bearer ***!");
        assert!(Token::new("  ").is_none());
    }

    #[test]
    fn a_short_lived_token_is_masked_by_its_client_but_not_registered_for_the_process() {
        let t = Token::short_lived("ghs_minted_for_one_job_1234").unwrap();
        assert_eq!(t.redact("x ghs_minted_for_one_job_1234"), "x ***");
        let text = "x ghs_minted_for_one_job_1234";
        assert_eq!(ciguard_core::redact::redact(text), text);
        assert!(Token::short_lived(" ").is_none());
    }
}
