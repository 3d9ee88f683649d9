//! Which GitHub answers: github.com (or GHEC) or a GitHub Enterprise Server version, and what
//! that server lacks. An endpoint or field a GHES version does not have is "unknown, not
//! available on this server", never a finding.

use serde_json::Value;

use crate::snapshot::Source;

/// Something ciguard reads that not every server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `GET /repos/{owner}/{repo}/immutable-releases`.
    ImmutableReleases,
    /// `sha_pinning_required` in `GET /repos/{owner}/{repo}/actions/permissions`.
    ShaPinningRequired,
}

impl Feature {
    /// Where the feature lives in GitHub's OpenAPI description: the GET path and, for a field,
    /// its name in the 200 answer.
    pub fn openapi(self) -> (&'static str, Option<&'static str>) {
        match self {
            Feature::ImmutableReleases => ("/repos/{owner}/{repo}/immutable-releases", None),
            Feature::ShaPinningRequired => (
                "/repos/{owner}/{repo}/actions/permissions",
                Some("sha_pinning_required"),
            ),
        }
    }
}

/// The first GHES version that has each feature. Checked against the GHES OpenAPI descriptions
/// by the conformance test (`crates/ciguard/tests/openapi.rs`): every GHES description older than the version
/// given lacks the feature, every newer one has it. A version newer than every known description
/// is assumed to have it.
pub const GHES_SINCE: &[(Feature, (u32, u32))] = &[
    // Absent from the descriptions of GHES 3.17, 3.18 and 3.19.
    (Feature::ImmutableReleases, (3, 20)),
    // Absent from GHES 3.17 and 3.18, present in 3.19.
    (Feature::ShaPinningRequired, (3, 19)),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Server {
    /// github.com, or GHEC: has everything.
    #[default]
    Cloud,
    /// GitHub Enterprise Server, `(major, minor)`.
    Enterprise((u32, u32)),
}

impl Server {
    /// Asks `GET /meta`: GHES answers with its `installed_version`, github.com without one. A
    /// source that cannot answer (an older snapshot) is taken for github.com.
    pub fn detect(src: &dyn Source) -> Self {
        let Ok(answer) = src.get("meta") else {
            return Server::Cloud;
        };
        if !answer.is_ok() {
            return Server::Cloud;
        }
        answer
            .body
            .get("installed_version")
            .and_then(Value::as_str)
            // A version that does not parse is taken for the oldest: unknown, never a finding.
            .map_or(Server::Cloud, |v| {
                Server::Enterprise(parse_version(v).unwrap_or((0, 0)))
            })
    }

    pub fn has(&self, feature: Feature) -> bool {
        match self {
            Server::Cloud => true,
            Server::Enterprise(version) => GHES_SINCE
                .iter()
                .find(|(f, _)| *f == feature)
                .is_none_or(|(_, since)| version >= since),
        }
    }
}

/// `3.17.2` → `(3, 17)`, read by the one version parser (`ciguard_core::models::version`); a
/// version without a minor number is `None`.
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let v = ciguard_core::models::version::Version::parse(text.trim())?;
    if v.parts.len() < 2 {
        return None;
    }
    Some((
        u32::try_from(v.major()).ok()?,
        u32::try_from(v.minor()).ok()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Answer, MemorySource};
    use serde_json::json;

    fn server(meta: Option<Value>) -> Server {
        let mut src = MemorySource::default();
        if let Some(meta) = meta {
            src.insert("meta", Answer::json(200, meta)).unwrap();
        }
        Server::detect(&src)
    }

    #[test]
    fn ghes_versions_lack_what_their_descriptions_lack() {
        let ghes = |v: &str| server(Some(json!({"installed_version": v})));
        assert_eq!(ghes("3.17.4"), Server::Enterprise((3, 17)));
        assert_eq!(parse_version(" 3.19 "), Some((3, 19)));
        assert_eq!(parse_version("3"), None);
        assert_eq!(parse_version("3.x"), None);
        assert_eq!(parse_version("99999999999.1"), None);
        assert!(!ghes("3.17.4").has(Feature::ImmutableReleases));
        assert!(!ghes("3.19.0").has(Feature::ImmutableReleases));
        assert!(!ghes("3.18.1").has(Feature::ShaPinningRequired));
        assert!(ghes("3.19.0").has(Feature::ShaPinningRequired));
        // github.com's meta has no version; a snapshot without meta is github.com.
        let cloud = server(Some(json!({"verifiable_password_authentication": true})));
        assert_eq!(cloud, Server::Cloud);
        assert!(cloud.has(Feature::ImmutableReleases));
        assert_eq!(server(None), Server::Cloud);
        assert!(!ghes("not a version").has(Feature::ImmutableReleases));
    }
}
