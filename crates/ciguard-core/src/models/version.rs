//! Version tags and version comments: the one reader `pin`, `ref-version-mismatch`,
//! `known-vulnerable-actions`, the release chain and `ciguard-github`'s update resolver share, so
//! a comment one of them accepts is a comment all of them read the same way.
//!
//! Hand-written rather than `semver`: action tags are not SemVer (`v4`, `v4.2`, `1.2.3.4`, a `v`
//! prefix), and a tag that is not a version must simply be `None`.

/// A version tag: `v1`, `v1.2`, `1.2.3`, `v1.2.3-rc.1` (at most four numbers).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub parts: Vec<u64>,
    /// Text after `-` or `+`; such versions are prereleases.
    pub pre: Option<String>,
}

impl Version {
    pub fn parse(tag: &str) -> Option<Self> {
        let s = tag
            .strip_prefix('v')
            .or_else(|| tag.strip_prefix('V'))
            .unwrap_or(tag);
        let (core, pre) = match s.find(['-', '+']) {
            Some(i) => (&s[..i], Some(s[i + 1..].to_owned())),
            None => (s, None),
        };
        // At most five pieces are split off: a hostile tag of thousands of dots costs no more.
        let mut parts = Vec::new();
        for p in core.splitn(6, '.') {
            parts.push(p.parse().ok()?);
        }
        (!parts.is_empty() && parts.len() <= 4).then_some(Self { parts, pre })
    }

    pub fn major(&self) -> u64 {
        self.parts.first().copied().unwrap_or(0)
    }

    pub fn minor(&self) -> u64 {
        self.parts.get(1).copied().unwrap_or(0)
    }

    /// Compares by numbers, missing ones as 0; a prerelease sorts before its release.
    pub fn cmp_numbers(&self, other: &Self) -> std::cmp::Ordering {
        let n = self.parts.len().max(other.parts.len());
        let get = |v: &Self, i: usize| v.parts.get(i).copied().unwrap_or(0);
        (0..n)
            .map(|i| get(self, i).cmp(&get(other, i)))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| other.pre.is_some().cmp(&self.pre.is_some()))
    }
}

/// What the comment after a `uses:` value (the text after `#`, trimmed) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionComment {
    /// The tag as it would be looked up: `v4.2.2` for `# tag=v4.2.2`, `v5` for `#v 5`.
    pub tag: String,
    /// The tag read as a version; `None` for a comment such as `# main` or `# bump later`.
    /// Only comments naming a version are claims that `pin --check` and
    /// `ref-version-mismatch` verify.
    pub version: Option<Version>,
}

impl VersionComment {
    /// Reads `v4.2.2`, `v4.2.2 (2024-01-01)`, `tag=v4`, `tag: v4`, `pin@v4`,
    /// `ratchet:owner/repo@v4`, `v 5`, `version: 4.1`. `None` for an empty comment.
    pub fn parse(comment: &str) -> Option<VersionComment> {
        let mut words = comment.split_whitespace();
        let first = words.next()?;
        let tag = match first.to_ascii_lowercase().as_str() {
            // A label followed by the version as the next word.
            "tag:" | "tag=" | "pin@" | "version:" | "version=" => clean(words.next()?).to_owned(),
            // `#v 5.0.0`
            "v" => format!("v{}", clean(words.next()?)),
            _ => {
                let lower = first.to_ascii_lowercase();
                let rest = ["tag=", "tag:", "pin@", "version=", "version:"]
                    .iter()
                    .find(|p| lower.starts_with(**p))
                    .map(|p| &first[p.len()..]);
                let rest = match rest {
                    Some(r) => r,
                    None if lower.starts_with("ratchet:") => {
                        let r = &first["ratchet:".len()..];
                        r.rsplit_once('@').map_or(r, |(_, v)| v)
                    }
                    None => first,
                };
                clean(rest).to_owned()
            }
        };
        if tag.is_empty() {
            return None;
        }
        let version = Version::parse(&tag);
        Some(VersionComment { tag, version })
    }

    /// The comment's tag when it names a version: the claim the checks verify.
    pub fn version_tag(comment: &str) -> Option<String> {
        Self::parse(comment)
            .filter(|c| c.version.is_some())
            .map(|c| c.tag)
    }
}

/// Punctuation that follows a version in prose: `v1.2.3,`, `(v1.2.3)`.
fn clean(word: &str) -> &str {
    word.trim_start_matches('(')
        .trim_end_matches([',', ';', ')', '.'])
}

/// The most specific of `names` (tags on one commit): `v4.2.2` rather than `v4`. With `hint`
/// (the ref the user wrote), tags extending it (`v4` → `v4.2.2`) win over unrelated ones; then
/// releases over prereleases, more numbers over fewer, the longer name, the smaller name.
pub fn most_specific_tag<'t>(
    names: impl IntoIterator<Item = &'t str>,
    hint: Option<&str>,
) -> Option<&'t str> {
    names.into_iter().max_by_key(|name| {
        let extends = hint.is_some_and(|h| {
            *name == h
                || name
                    .strip_prefix(h)
                    .is_some_and(|r| r.starts_with('.') || r.starts_with('-'))
        });
        let version = Version::parse(name);
        let is_release = version.as_ref().is_some_and(|v| v.pre.is_none());
        let parts = version.as_ref().map_or(0, |v| v.parts.len());
        (
            extends,
            is_release,
            parts,
            name.len(),
            std::cmp::Reverse(*name),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("v10.0.0").cmp_numbers(&v("v9.9.9")).is_gt());
        assert!(v("v4").cmp_numbers(&v("v4.0.0")).is_eq());
        assert!(v("v4.0.0-rc1").cmp_numbers(&v("v4.0.0")).is_lt());
        assert_eq!(v("1.2.3").major(), 1);
        assert_eq!(v("v4.11").minor(), 11);
        assert!(Version::parse("main").is_none());
        assert!(Version::parse("v1..2").is_none());
        assert!(Version::parse("1.2.3.4.5").is_none());
        assert!(Version::parse(&".".repeat(100_000)).is_none());
    }

    #[test]
    fn reads_every_comment_spelling() {
        let cases = [
            ("v1.2.3", Some("v1.2.3")),
            ("v1.2.3 (2024-01-01)", Some("v1.2.3")),
            ("v1.2.3,", Some("v1.2.3")),
            ("tag=v1", Some("v1")),
            ("tag=v1.0.0 pinned", Some("v1.0.0")),
            ("TODO: bump", None),
            ("tag: v1", Some("v1")),
            ("tag:v1", Some("v1")),
            ("TAG=v1", Some("v1")),
            ("pin@v1", Some("v1")),
            ("ratchet:owner/repo@v1", Some("v1")),
            ("v 5", Some("v5")),
            ("v 5.0.0", Some("v5.0.0")),
            ("version: 4.1", Some("4.1")),
            ("4.1.0", Some("4.1.0")),
            ("main", None),
            ("bump later", None),
            ("", None),
            ("tag:", None),
        ];
        for (comment, want) in cases {
            assert_eq!(
                VersionComment::version_tag(comment).as_deref(),
                want,
                "{comment:?}"
            );
        }
        // A comment that names no version still names a ref (`pin` keeps it as a hint).
        assert_eq!(VersionComment::parse("main").unwrap().tag, "main");
    }

    #[test]
    fn picks_the_most_specific_tag() {
        let on_aa = ["v4", "v4.2", "v4.2.2", "latest"];
        assert_eq!(most_specific_tag(on_aa, Some("v4")), Some("v4.2.2"));
        assert_eq!(most_specific_tag(on_aa, None), Some("v4.2.2"));
        assert_eq!(most_specific_tag(["v4.2.1"], Some("main")), Some("v4.2.1"));
        assert_eq!(most_specific_tag([], None), None);
        let odd = ["v1.0.0", "v2.0.0-rc1"];
        assert_eq!(most_specific_tag(odd, Some("v2")), Some("v2.0.0-rc1"));
        assert_eq!(most_specific_tag(odd, None), Some("v1.0.0"));
        // `v4` does not extend to `v40.1`.
        assert_eq!(most_specific_tag(["v4", "v40.1.0"], Some("v4")), Some("v4"));
    }
}
