//! Values that must never reach logs, errors or `Debug` output.

use std::fmt;

/// A webhook secret (or any key material): `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }

    /// Reads a secret file, dropping one trailing line break (as editors add it).
    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let mut bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
        for end in [b'\n', b'\r'] {
            if bytes.last() == Some(&end) {
                bytes.pop();
            }
        }
        if bytes.is_empty() {
            return Err(format!(
                "the secret file {} is empty: write the App's webhook secret in it",
                path.display()
            ));
        }
        Ok(Secret(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A database URL whose password is masked wherever it is shown.
#[derive(Clone, PartialEq, Eq)]
pub struct DbUrl(String);

impl DbUrl {
    pub fn new(url: impl Into<String>) -> Self {
        DbUrl(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any `user:password@` password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_url_password(&self.0)
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({})", self.redacted())
    }
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Masks the password of `scheme://user:password@host…` and any `password=` query parameter.
pub fn redact_url_password(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest = scheme_end + 3;
        let authority_end = out[rest..].find(['/', '?']).map_or(out.len(), |i| rest + i);
        if let Some(at) = out[rest..authority_end].rfind('@') {
            let userinfo = &out[rest..rest + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest + colon + 1..rest + at, "***");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", masked.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let secret = Secret::new("hunter2-webhook");
        assert!(!format!("{secret:?}").contains("hunter2"));
        let url = DbUrl::new("postgres://ci:hunter2@db:5432/ciguard?password=hunter3&sslmode=off");
        for shown in [format!("{url:?}"), url.to_string(), url.redacted()] {
            assert!(!shown.contains("hunter"), "{shown}");
            assert!(shown.contains("ci:***@db:5432/ciguard"), "{shown}");
            assert!(shown.contains("sslmode=off"), "{shown}");
        }
    }

    #[test]
    fn urls_without_password_are_unchanged() {
        for url in [
            "sqlite:/var/lib/ciguard.db",
            "postgres://ci@db/x",
            "postgres://db/x",
        ] {
            assert_eq!(redact_url_password(url), url);
        }
    }

    #[test]
    fn secret_files_lose_one_trailing_newline_and_must_not_be_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s");
        std::fs::write(&path, "abc\r\n").unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), b"abc");
        std::fs::write(&path, "\n").unwrap();
        assert!(Secret::from_file(&path).unwrap_err().contains("empty"));
    }
}
