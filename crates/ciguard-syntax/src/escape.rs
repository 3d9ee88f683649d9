//! One place where text read from the input is made safe to print. A repository chooses file
//! names, `uses:` values and scripts, and findings quote them: a raw newline would let a value
//! forge a GitHub workflow command (`::error::`), an ESC or C1 byte would drive the terminal,
//! and bidirectional overrides would make a line read differently from what it is.
//!
//! - [`text`] is for people (plain output, stderr diagnostics) and for the message part of
//!   workflow commands: each such character becomes a visible escape (`\n`, `\x1b`, `\u{202e}`).
//! - [`json`] is for JSON and SARIF: values keep their exact text, but DEL, C1 and bidi controls,
//!   which JSON allows raw, are written as `\uXXXX` so the bytes never reach a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Unicode characters that reorder or hide text (the "Trojan Source" set) and separators some
/// terminals and viewers treat as line breaks.
fn is_invisible_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{2028}' | '\u{2029}')
}

/// Whether `c` must not be printed as it is: C0 (tab and newline included), DEL, C1, and the
/// bidirectional and line-separator characters.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || is_invisible_control(c)
}

/// `s` with every unsafe character written as a visible escape; borrowed when nothing changes.
pub fn text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 && is_unsafe(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Serialized JSON with DEL, C1 and the invisible controls written as `\uXXXX`. serde_json
/// already escapes C0; these others are legal raw in JSON strings, and can only occur inside
/// strings, so a byte-level pass keeps the document's values exactly as they were.
pub fn json(serialized: &[u8]) -> Cow<'_, [u8]> {
    // Each such character is DEL or starts with one of these bytes in UTF-8 (C1: C2 80..9F,
    // U+061C: D8 9C, the U+20xx ones: E2 ..). Output is mostly ASCII: a byte scan decides.
    if !has_unsafe_sequence(serialized) {
        return Cow::Borrowed(serialized);
    }
    let Ok(text) = std::str::from_utf8(serialized) else {
        return Cow::Borrowed(serialized);
    };
    let needs =
        |c: char| c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) || is_invisible_control(c);
    if !text.chars().any(needs) {
        return Cow::Borrowed(serialized);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs(c) {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out.into_bytes())
}

/// Whether UTF-8 `bytes` hold DEL, a C1 control or one of [`is_invisible_control`]'s characters,
/// matched on their encodings so that other non-ASCII text (`…`, `→`) costs no decoding.
fn has_unsafe_sequence(bytes: &[u8]) -> bool {
    // Every finding passes through here, and almost all of it is ASCII: a pass without early
    // exit over each 32-byte block, which the compiler vectorizes, finds the blocks holding one
    // of the four lead bytes; only those are checked byte by byte.
    const BLOCK: usize = 32;
    let lead = |b: u8| b == 0x7F || b == 0xC2 || b == 0xD8 || b == 0xE2;
    bytes.chunks(BLOCK).enumerate().any(|(n, block)| {
        block.iter().fold(false, |seen, &b| seen | lead(b))
            && (n * BLOCK..n * BLOCK + block.len()).any(|i| unsafe_at(bytes, i))
    })
}

/// Whether an unsafe character's encoding starts at `bytes[i]`.
fn unsafe_at(bytes: &[u8], i: usize) -> bool {
    match bytes[i] {
        0x7F => true,
        0xC2 => bytes.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n)),
        0xD8 => bytes.get(i + 1) == Some(&0x9C),
        0xE2 => match (bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(0x80), Some(n)) => matches!(n, 0x8E | 0x8F | 0xA8..=0xAE),
            (Some(0x81), Some(n)) => (0xA6..=0xA9).contains(n),
            _ => false,
        },
        _ => false,
    }
}

/// At most `max` characters of `s`, ending with `…` when cut; for quoting input in messages.
pub fn elide(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}…", &s[..cut])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_scan_finds_exactly_the_unsafe_characters() {
        // Padded so that each character also starts at, and straddles, a 32-byte block's end.
        for pad in [1, 29, 30, 31, 32, 63] {
            let pad = "a".repeat(pad);
            for c in ('\u{0}'..='\u{3000}').chain(['\u{FEFF}', '\u{1F600}']) {
                let text = format!("{pad}{c}b");
                let unsafe_here =
                    c == '\u{7f}' || ('\u{80}'..='\u{9f}').contains(&c) || is_invisible_control(c);
                assert_eq!(
                    has_unsafe_sequence(text.as_bytes()),
                    unsafe_here,
                    "{pad:?} {c:?}"
                );
            }
        }
    }

    #[test]
    fn text_makes_controls_visible_and_leaves_the_rest() {
        assert_eq!(text("actions/checkout@v4 é ☕"), "actions/checkout@v4 é ☕");
        assert!(matches!(text("plain"), Cow::Borrowed(_)));
        assert_eq!(
            text("evil/y@v1\n::error::forged"),
            "evil/y@v1\\n::error::forged"
        );
        assert_eq!(text("a\r\tb\x1b[31mc\x7f"), "a\\r\\tb\\x1b[31mc\\x7f");
        assert_eq!(text("\u{9b}2J"), "\\u{9b}2J");
        assert_eq!(text("x\u{202e}y\u{2028}"), "x\\u{202e}y\\u{2028}");
        for c in (0u32..0x20).chain(0x7f..0xa0) {
            let c = char::from_u32(c).unwrap();
            assert!(!text(&c.to_string()).contains(c), "{c:?}");
        }
    }

    #[test]
    fn json_escapes_what_serde_leaves_raw_and_keeps_the_value() {
        let value = "a\u{7f}b\u{9b}c\u{202e}d\x1b";
        let raw = serde_json::to_vec(&value).unwrap();
        let safe = json(&raw);
        let shown = std::str::from_utf8(&safe).unwrap();
        assert_eq!(shown, r#""a\u007fb\u009bc\u202ed\u001b""#);
        assert_eq!(serde_json::from_slice::<String>(&safe).unwrap(), value);
        let clean = serde_json::to_vec(&"é ☕").unwrap();
        assert!(matches!(json(&clean), Cow::Borrowed(_)));
    }

    #[test]
    fn elide_cuts_on_characters() {
        assert_eq!(elide("abc", 3), "abc");
        assert_eq!(elide("abcd", 3), "abc…");
        assert_eq!(elide("ééé", 2), "éé…");
        assert_eq!(elide("", 0), "");
    }
}
