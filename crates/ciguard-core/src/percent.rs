//! Percent-encoding for URL paths and query values (RFC 3986): one implementation for the
//! API clients, SARIF URIs and settings paths.

/// Bytes kept in a single path segment: RFC 3986's unreserved characters.
pub const SEGMENT: &[u8] = b"-._~";
/// Bytes kept in a path of several segments: unreserved and `/`.
pub const PATH: &[u8] = b"-._~/";
/// Bytes kept in a path that may hold sub-delimiters (git refs, file names): unreserved, `/`,
/// sub-delims and `@`.
pub const PATH_WITH_SUB_DELIMS: &[u8] = b"-._~/!$&'()*+,;=@";

/// `s` with every byte that is not ASCII alphanumeric or listed in `keep` written as `%XX`.
pub fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_each_context_reserves() {
        assert_eq!(encode("a b/c", PATH), "a%20b/c");
        assert_eq!(encode("a b/c", SEGMENT), "a%20b%2Fc");
        assert_eq!(encode("a?b#c d@x", PATH_WITH_SUB_DELIMS), "a%3Fb%23c%20d@x");
        assert_eq!(encode("é", SEGMENT), "%C3%A9");
    }
}
