//! PEP 440 versions, so `1.0.0-Alpha1` in a lockfile finds `1.0.0a1` on PyPI: `pep440_rs` parses
//! every spelling PEP 440 normalises, and compares as PEP 440 does (`1.0` equals `1.0.0`).

use std::str::FromStr;

pub use pep440_rs::Version;

/// The version `v` names (a leading `v`, any case, whitespace around it allowed); `None` when it
/// is not a PEP 440 version.
pub fn parse(v: &str) -> Option<Version> {
    Version::from_str(v.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn normalises_the_spellings_of_pep_440() {
        for (given, want) in [
            ("1.0.0", "1"),
            ("1.0", "1"),
            ("v2.01.3", "2.1.3"),
            ("1.0.0-Alpha1", "1a1"),
            ("1.0a.1", "1a1"),
            ("2.0.0b", "2b0"),
            ("1.0c2", "1rc2"),
            ("1.0.0-preview.3", "1rc3"),
            ("1.0-1", "1.post1"),
            ("1.0.post", "1.post0"),
            ("1.0-r2", "1.post2"),
            ("1.0.dev3", "1.dev3"),
            ("1.0rc1.post2.dev3", "1rc1.post2.dev3"),
            ("0!1.2", "1.2"),
            ("1!1.2", "1!1.2"),
            ("1.2+Ubuntu-1", "1.2+ubuntu.1"),
            ("2024.10.1", "2024.10.1"),
        ] {
            assert_eq!(parse(given), parse(want), "{given}");
            assert!(parse(given).is_some(), "{given}");
        }
        assert_ne!(parse("1.0a1"), parse("1.0b1"));
        assert_ne!(parse("1!1.2"), parse("1.2"));
        for bad in ["", "abc", "1.0..x", "1.0+", "1.0 garbage"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        // Hostile input: no panic, no overflow.
        assert_eq!(parse(&"9".repeat(100_000)), None);
        let _ = parse(&"1.".repeat(50_000));
    }
}
