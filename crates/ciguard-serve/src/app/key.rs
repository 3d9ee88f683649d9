//! The App's private key and the RS256 JWTs it signs (GitHub's "authenticating as a GitHub
//! App"). Signed with `ring`, already in the tree through rustls; no `rsa` crate
//! (RUSTSEC-2023-0071, a timing side channel).

use std::fmt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

use super::secret::Secret;

/// `iat` is back-dated by this much against clock drift, as GitHub recommends.
pub const IAT_BACKDATE: Duration = Duration::from_secs(60);
/// Lifetime from `iat` to `exp`: GitHub refuses more than 10 minutes.
pub const JWT_LIFETIME: Duration = Duration::from_secs(600);
/// A PEM file larger than this is not a key (a 4096-bit key is about 3.3 KB).
const MAX_KEY_FILE: u64 = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the private key file {path}: {message}")]
    Read { path: String, message: String },
    #[error(
        "{path}: not a PEM private key (expected `BEGIN RSA PRIVATE KEY` as GitHub issues it, or \
         `BEGIN PRIVATE KEY`); download a new key from the App's settings page"
    )]
    NotPem { path: String },
    #[error(
        "{path}: the private key is encrypted; decrypt it (`openssl rsa -in KEY -out KEY.pem`)"
    )]
    Encrypted { path: String },
    #[error("{path}: not a usable RSA key ({reason})")]
    Rejected { path: String, reason: String },
    #[error("cannot sign the App JWT: {0}")]
    Sign(String),
}

/// The App's id and RSA key. `Debug` shows the id only.
pub struct AppKey {
    app_id: u64,
    pair: RsaKeyPair,
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppKey")
            .field("app_id", &self.app_id)
            .field("key", &"***")
            .finish()
    }
}

impl AppKey {
    /// Reads `--private-key-file`, warning (through tracing) when its mode lets others read it.
    pub fn load(path: &Path, app_id: u64) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let read_err = |e: std::io::Error| KeyError::Read {
            path: shown.clone(),
            message: e.to_string(),
        };
        let meta = std::fs::metadata(path).map_err(read_err)?;
        if meta.len() > MAX_KEY_FILE {
            return Err(KeyError::NotPem { path: shown });
        }
        if let Some(mode) = too_open(&meta) {
            tracing::warn!(
                "{shown}: the private key file has mode {mode:o}, readable by others; \
                 run `chmod 600 {shown}`"
            );
        }
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        Self::from_pem(&text, app_id, &shown)
    }

    /// Parses a PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`) PEM; `shown`
    /// names it in errors.
    pub fn from_pem(text: &str, app_id: u64, shown: &str) -> Result<Self, KeyError> {
        let path = shown.to_owned();
        if text.contains("ENCRYPTED") {
            return Err(KeyError::Encrypted { path });
        }
        let rejected = |e: ring::error::KeyRejected| KeyError::Rejected {
            path: shown.to_owned(),
            reason: e.to_string(),
        };
        let pair = if let Some(der) = pem_block(text, "RSA PRIVATE KEY") {
            RsaKeyPair::from_der(&der).map_err(rejected)?
        } else if let Some(der) = pem_block(text, "PRIVATE KEY") {
            RsaKeyPair::from_pkcs8(&der).map_err(rejected)?
        } else {
            return Err(KeyError::NotPem { path });
        };
        Ok(Self { app_id, pair })
    }

    pub fn app_id(&self) -> u64 {
        self.app_id
    }

    /// A JWT for the App API, issued at `now - 60 s`, expiring `JWT_LIFETIME` after that.
    pub fn jwt(&self, now: SystemTime) -> Result<Secret, KeyError> {
        let iat = now
            .checked_sub(IAT_BACKDATE)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let exp = iat + JWT_LIFETIME.as_secs();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({"iat": iat, "exp": exp, "iss": self.app_id});
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| KeyError::Sign("the RSA signature failed".into()))?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// The DER bytes of the first `-----BEGIN {label}-----` block.
fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

#[cfg(unix)]
fn too_open(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn too_open(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_key() {
        let err = AppKey::from_pem("hello", 1, "k.pem").unwrap_err();
        assert!(err.to_string().contains("not a PEM private key"), "{err}");
        let err = AppKey::from_pem(
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
            1,
            "k.pem",
        )
        .unwrap_err();
        assert!(matches!(err, KeyError::Rejected { .. }), "{err}");
        let err = AppKey::from_pem(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            1,
            "k.pem",
        )
        .unwrap_err();
        assert!(matches!(err, KeyError::Encrypted { .. }), "{err}");
    }

    #[test]
    fn pem_blocks_ignore_line_breaks_and_surroundings() {
        let text = "junk\n-----BEGIN X-----\nAQID\nBA==\n-----END X-----\nmore";
        assert_eq!(pem_block(text, "X"), Some(vec![1, 2, 3, 4]));
        assert_eq!(pem_block(text, "Y"), None);
    }
}
