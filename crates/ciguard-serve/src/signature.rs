//! `X-Hub-Signature-256` verification: HMAC-SHA256 of the raw body, compared in constant time,
//! against every configured secret (several during a rotation). Runs before anything looks at
//! the body.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No `X-Hub-Signature-256` header (a sha1-only `X-Hub-Signature` counts as missing).
    Missing,
    /// Not `sha256=` followed by 64 hexadecimal digits.
    Malformed,
    /// Well formed, but no configured secret produces it.
    Mismatch,
}

impl SignatureError {
    pub fn message(self) -> &'static str {
        match self {
            SignatureError::Missing => "missing X-Hub-Signature-256",
            SignatureError::Malformed => "malformed X-Hub-Signature-256",
            SignatureError::Mismatch => "signature does not match",
        }
    }
}

/// Checks `header` (the value of `X-Hub-Signature-256`) against `body` under each secret.
pub fn verify(
    secrets: &[Secret],
    header: Option<&[u8]>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let expected = parse_header(header)?;
    let mut matched = subtle::Choice::from(0);
    // Every secret is tried, whatever matched first, so timing says nothing about which.
    for secret in secrets {
        matched |= sign(secret, body).ct_eq(&expected);
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The HMAC-SHA256 of `body` under `secret`.
pub fn sign(secret: &Secret, body: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose()).expect("any key length");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The header value GitHub would send for `body`: `sha256=<hex>`.
pub fn header_value(secret: &Secret, body: &[u8]) -> String {
    format!("sha256={}", ciguard_core::hex::encode(&sign(secret, body)))
}

fn parse_header(header: &[u8]) -> Result<[u8; 32], SignatureError> {
    let hex = header
        .strip_prefix(b"sha256=")
        .ok_or(SignatureError::Malformed)?;
    if hex.len() != 64 {
        return Err(SignatureError::Malformed);
    }
    let mut out = [0u8; 32];
    for (i, pair) in hex.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Ok(out)
}

fn nibble(digit: u8) -> Result<u8, SignatureError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(SignatureError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // GitHub's documented test vector ("Validating webhook deliveries").
    const SECRET: &str = "It's a Secret to Everybody";
    const PAYLOAD: &[u8] = b"Hello, World!";
    const EXPECTED: &str =
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    fn secrets() -> Vec<Secret> {
        vec![Secret::new(SECRET)]
    }

    #[test]
    fn githubs_published_vector_verifies() {
        assert_eq!(header_value(&Secret::new(SECRET), PAYLOAD), EXPECTED);
        assert_eq!(
            verify(&secrets(), Some(EXPECTED.as_bytes()), PAYLOAD),
            Ok(())
        );
        let upper = format!("sha256={}", EXPECTED[7..].to_uppercase());
        assert_eq!(verify(&secrets(), Some(upper.as_bytes()), PAYLOAD), Ok(()));
    }

    #[test]
    fn any_flipped_bit_of_signature_or_body_is_rejected() {
        let mut digest = parse_header(EXPECTED.as_bytes()).unwrap();
        for bit in 0..256 {
            digest[bit / 8] ^= 1 << (bit % 8);
            let header = format!("sha256={}", ciguard_core::hex::encode(&digest));
            assert_eq!(
                verify(&secrets(), Some(header.as_bytes()), PAYLOAD),
                Err(SignatureError::Mismatch),
                "bit {bit}"
            );
            digest[bit / 8] ^= 1 << (bit % 8);
        }
        let mut body = PAYLOAD.to_vec();
        for bit in 0..body.len() * 8 {
            body[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                verify(&secrets(), Some(EXPECTED.as_bytes()), &body),
                Err(SignatureError::Mismatch)
            );
            body[bit / 8] ^= 1 << (bit % 8);
        }
    }

    #[test]
    fn missing_sha1_only_and_malformed_headers_are_rejected() {
        assert_eq!(
            verify(&secrets(), None, PAYLOAD),
            Err(SignatureError::Missing)
        );
        for bad in [
            "sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0",
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha256=",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17aa",
            "sha256=z57107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        ] {
            assert_eq!(
                verify(&secrets(), Some(bad.as_bytes()), PAYLOAD),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn any_of_several_secrets_verifies_during_rotation() {
        let rotated = vec![Secret::new("new secret"), Secret::new(SECRET)];
        assert_eq!(verify(&rotated, Some(EXPECTED.as_bytes()), PAYLOAD), Ok(()));
        let other = vec![Secret::new("new secret")];
        assert_eq!(
            verify(&other, Some(EXPECTED.as_bytes()), PAYLOAD),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&[], Some(EXPECTED.as_bytes()), PAYLOAD),
            Err(SignatureError::Mismatch)
        );
    }
}
