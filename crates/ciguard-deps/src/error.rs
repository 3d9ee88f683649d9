//! Errors of the deps crate: a registry that could not be asked or answered badly, a body that is
//! not what the registry serves, and a configuration value that is wrong (the message says which
//! key and what it should be). The binary adds context with `anyhow`.

/// Asking a registry for a package's versions went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No connection (DNS, refused, reset, TLS, timeout); `url` is the registry's base URL, as
    /// this is said once per registry rather than once per package.
    #[error("cannot reach {registry} at {url}: {source}")]
    Unreachable {
        registry: &'static str,
        url: String,
        source: Box<ciguard_http::Error>,
    },
    /// The request failed after a connection (protocol error, redirect refused, ...).
    #[error("request to {registry} failed for {url}: {source}")]
    Request {
        registry: &'static str,
        url: String,
        source: Box<ciguard_http::Error>,
    },
    /// An answer other than 200, 304, 404 or 410.
    #[error("{registry} answered HTTP {status} for {url}")]
    Status {
        registry: &'static str,
        url: String,
        status: u16,
    },
    /// The body could not be read (cut, too large, not UTF-8).
    #[error("cannot read the answer of {registry} for {url}: {source}")]
    Read {
        registry: &'static str,
        url: String,
        source: Box<ciguard_http::Error>,
    },
    /// The body is not the document this registry serves.
    #[error("unexpected answer from {registry} for {url}: {source}")]
    Decode {
        registry: &'static str,
        url: String,
        source: DecodeError,
    },
}

impl Error {
    /// Worth another try, and a sign the registry is down: no connection, or a 5xx.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Unreachable { .. } => true,
            Error::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// A registry body that is not what it should be.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A line of a sparse-index file.
    #[error("line {line}: {source}")]
    Line {
        line: usize,
        source: serde_json::Error,
    },
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// A wrong value in the `[deps]` configuration, a `--registry` flag or a `deps.exclude` pattern;
/// the message names the key and says what it should be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    pub message: String,
}

impl ConfigError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16) -> Error {
        Error::Status {
            registry: "crates.io",
            url: "https://index.crates.io/se/rd/serde".into(),
            status,
        }
    }

    #[test]
    fn only_5xx_and_no_connection_count_as_unreachable() {
        assert!(status(503).is_unreachable());
        assert!(!status(429).is_unreachable());
        assert!(!status(403).is_unreachable());
        let decode = Error::Decode {
            registry: "npm",
            url: "https://registry.npmjs.org/x".into(),
            source: DecodeError::from(serde_json::from_str::<u8>("x").unwrap_err()),
        };
        assert!(!decode.is_unreachable());
    }

    #[test]
    fn messages_keep_their_wording() {
        assert_eq!(
            status(503).to_string(),
            "crates.io answered HTTP 503 for https://index.crates.io/se/rd/serde"
        );
        let line = DecodeError::Line {
            line: 2,
            source: serde_json::from_str::<u8>("x").unwrap_err(),
        };
        assert!(line.to_string().starts_with("line 2: "), "{line}");
    }
}
