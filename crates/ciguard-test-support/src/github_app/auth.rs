//! How the fake authenticates like GitHub: App JWTs verified with the App's public key (RS256,
//! `iat`/`exp` checked, at most ten minutes), installation tokens (`ghs_…`) that carry their
//! repositories and permissions.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::Value;

/// An installation token the fake minted.
#[derive(Debug, Clone)]
pub struct MintedToken {
    pub token: String,
    pub installation: u64,
    pub repository_ids: Vec<u64>,
    /// Permission name → `read` or `write`.
    pub permissions: BTreeMap<String, String>,
    pub expires_at: u64,
}

impl MintedToken {
    /// Whether the token grants `level` (`read` or `write`) of `permission`.
    pub fn grants(&self, permission: &str, level: &str) -> bool {
        // Every installation token can read metadata.
        if permission == "metadata" && level == "read" {
            return true;
        }
        match self.permissions.get(permission).map(String::as_str) {
            Some("write") => true,
            Some("read") => level == "read",
            _ => false,
        }
    }
}

/// The DER body of the first PEM block labelled `label`.
pub fn pem_der(text: &str, label: &str) -> Option<Vec<u8>> {
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

/// Verifies an App JWT as GitHub does; the refusal message otherwise.
pub fn verify_jwt(jwt: &str, public_key_der: &[u8], app_id: u64, now: u64) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("A JSON web token could not be decoded".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
    let header: Value = decode(header)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("A JSON web token could not be decoded")?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err("A JSON web token could not be decoded".into());
    }
    let signature = decode(signature).ok_or("A JSON web token could not be decoded")?;
    let signed = &jwt[..jwt.len() - parts[2].len() - 1];
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key_der)
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "A JSON web token could not be decoded".to_owned())?;
    let claims: Value = decode(claims)
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("A JSON web token could not be decoded")?;
    let iat = claims
        .get("iat")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
    let iss = match claims.get("iss") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if iss != app_id.to_string() {
        return Err("Integration not found".into());
    }
    if iat > now + 60 {
        return Err(
            "'Issued at' claim ('iat') must be an Integer representing a time in the past".into(),
        );
    }
    if exp <= now {
        return Err("'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires".into());
    }
    if exp > now + 600 || exp.saturating_sub(iat) > 600 {
        return Err("'Expiration time' claim ('exp') is too far in the future".into());
    }
    Ok(())
}
