//! Percent-encoding for URL paths and query values (RFC 3986): one implementation for the
//! API clients, SARIF URIs and settings paths, on the `percent-encoding` crate. Each set keeps
//! ASCII letters and digits and the bytes listed; every other byte (non-ASCII included) is
//! written as `%XX`.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Bytes kept in a single path segment: RFC 3986's unreserved characters.
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Bytes kept in a path of several segments: unreserved and `/`.
pub const PATH: &AsciiSet = &SEGMENT.remove(b'/');
/// Bytes kept in a path that may hold sub-delimiters (git refs, file names): unreserved, `/`,
/// sub-delims and `@`.
pub const PATH_WITH_SUB_DELIMS: &AsciiSet = &PATH
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b'@');
/// Bytes kept in a whole URI: every reserved character, and `%` (already encoded input).
pub const URI: &AsciiSet = &PATH_WITH_SUB_DELIMS
    .remove(b':')
    .remove(b'?')
    .remove(b'#')
    .remove(b'[')
    .remove(b']')
    .remove(b'%');

/// `s` with every byte outside `keep` written as `%XX`.
pub fn encode(s: &str, keep: &'static AsciiSet) -> String {
    utf8_percent_encode(s, keep).to_string()
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
        assert_eq!(encode("a b%20?x=[1]\u{7f}", URI), "a%20b%20?x=[1]%7F");
        // Exactly the listed bytes are kept, as the hand-written encoder did.
        for b in 0u8..128 {
            let c = char::from(b).to_string();
            let kept = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@:?#[]%".contains(&b);
            assert_eq!(encode(&c, URI) == c, kept, "{b}");
        }
    }
}
