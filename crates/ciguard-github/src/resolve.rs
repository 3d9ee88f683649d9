//! Refs to commits and back: the lookups `ciguard pin` needs, with few requests. A repository's
//! tag list (one paginated listing, peeled to commits) answers most questions; a commit lookup is
//! only needed for refs that are not tags (branches) and for the date of an unreleased tag.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ciguard_core::models::uses::is_full_sha;
use ciguard_core::models::version::Version;
use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;

/// A tag and the commit it points at (annotated tags peeled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub commit: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub tag_name: String,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub prerelease: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub sha: String,
    /// Committer date, RFC 3339.
    pub date: Option<String>,
}

#[derive(Deserialize)]
struct TagJson {
    name: String,
    commit: ShaJson,
}

#[derive(Deserialize)]
struct ShaJson {
    sha: String,
}

#[derive(Deserialize)]
struct CommitJson {
    sha: String,
    commit: CommitInner,
}

#[derive(Deserialize)]
struct CommitInner {
    committer: Option<Person>,
    author: Option<Person>,
}

#[derive(Deserialize)]
struct Person {
    date: Option<String>,
}

/// Every tag of `owner/repo` with its commit (`GET /repos/{slug}/tags`, paginated).
pub fn tags(client: &Client, slug: &str) -> Result<Vec<Tag>, Error> {
    let tags: Vec<TagJson> = client.get_paginated(&format!("/repos/{slug}/tags"))?;
    Ok(tags
        .into_iter()
        .map(|t| Tag {
            name: t.name,
            commit: t.commit.sha.to_ascii_lowercase(),
        })
        .collect())
}

/// Every release of `owner/repo` (`GET /repos/{slug}/releases`, paginated).
pub fn releases(client: &Client, slug: &str) -> Result<Vec<Release>, Error> {
    client.get_paginated(&format!("/repos/{slug}/releases"))
}

/// The commit `reference` (branch, tag or SHA) names; `None` when there is none.
pub fn commit(client: &Client, slug: &str, reference: &str) -> Result<Option<Commit>, Error> {
    let path = format!("/repos/{slug}/commits/{reference}");
    match client.get_json::<CommitJson>(&path) {
        Ok(Some(c)) => {
            let date = c
                .commit
                .committer
                .and_then(|p| p.date)
                .or_else(|| c.commit.author.and_then(|p| p.date));
            Ok(Some(Commit {
                sha: c.sha.to_ascii_lowercase(),
                date,
            }))
        }
        Ok(None) => Ok(None),
        Err(Error::Status {
            status: 422 | 409, ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The commit a `uses:` ref names: a full SHA as is (no request), a tag from the tag list, else
/// a commit lookup (branches). `None` when the ref does not exist.
pub fn resolve_ref(
    client: &Client,
    slug: &str,
    reference: &str,
    tags: &[Tag],
) -> Result<Option<String>, Error> {
    if is_full_sha(reference) {
        return Ok(Some(reference.to_ascii_lowercase()));
    }
    if let Some(t) = tags.iter().find(|t| t.name == reference) {
        return Ok(Some(t.commit.clone()));
    }
    Ok(commit(client, slug, reference)?.map(|c| c.sha))
}

/// The names of the tags on commit `sha`, for [`most_specific_tag`].
pub fn names_at<'t>(tags: &'t [Tag], sha: &str) -> impl Iterator<Item = &'t str> + Clone {
    let sha = sha.to_ascii_lowercase();
    tags.iter()
        .filter(move |t| t.commit == sha)
        .map(|t| t.name.as_str())
}

/// Where an update candidate's age came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgeSource {
    Release,
    CommitDate,
}

/// A version `--update` can move to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub tag: String,
    pub commit: String,
    pub age: Duration,
    pub age_source: AgeSource,
}

/// The newest release at least `min_age` old, within `current`'s major version unless
/// `any_major`; never older than `current`. Releases are aged by `published_at`; tags without a
/// release by their commit date; drafts and prereleases are skipped.
pub fn newest_aged(
    client: &Client,
    slug: &str,
    tags: &[Tag],
    current: &Version,
    min_age: Duration,
    any_major: bool,
    now: SystemTime,
) -> Result<Option<Update>, Error> {
    let releases = releases(client, slug)?;
    let mut candidates: Vec<(Version, &Tag)> = tags
        .iter()
        .filter_map(|t| Some((Version::parse(&t.name)?, t)))
        .filter(|(v, _)| v.pre.is_none() && (any_major || v.major() == current.major()))
        .collect();
    // Only the most specific spelling of each line: v4.2.2, not the moving v4 or v4.2.
    let deepest = candidates
        .iter()
        .map(|(v, _)| v.parts.len())
        .max()
        .unwrap_or(0);
    candidates.retain(|(v, _)| v.parts.len() == deepest);
    candidates.sort_by(|a, b| b.0.cmp_numbers(&a.0));
    let now_secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    for (version, tag) in candidates {
        if version.cmp_numbers(current).is_lt() {
            break;
        }
        let release = releases.iter().find(|r| r.tag_name == tag.name);
        let (date, source) = match release {
            Some(r) if r.draft || r.prerelease => continue,
            Some(r) => (r.published_at.clone(), AgeSource::Release),
            None => (
                commit(client, slug, &tag.commit)?.and_then(|c| c.date),
                AgeSource::CommitDate,
            ),
        };
        let Some(published) = date.as_deref().and_then(parse_rfc3339) else {
            continue;
        };
        let age = Duration::from_secs(now_secs.saturating_sub(published));
        if age >= min_age {
            return Ok(Some(Update {
                tag: tag.name.clone(),
                commit: tag.commit.clone(),
                age,
                age_source: source,
            }));
        }
    }
    Ok(None)
}

/// Seconds since the epoch of an RFC 3339 time (`2024-01-02T03:04:05Z`, fractions and offsets
/// allowed; a time without an offset is UTC), with `jiff`'s parser.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    let s = s.trim();
    let t = s.parse::<jiff::Timestamp>().ok().or_else(|| {
        let civil = s.parse::<jiff::civil::DateTime>().ok()?;
        jiff::tz::Offset::UTC.to_timestamp(civil).ok()
    })?;
    u64::try_from(t.as_second()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciguard_core::models::version::most_specific_tag;

    fn tag(name: &str, commit: &str) -> Tag {
        Tag {
            name: name.into(),
            commit: commit.into(),
        }
    }

    #[test]
    fn names_the_tags_on_a_commit() {
        let tags = [tag("v4", "aa"), tag("v4.2.2", "aa"), tag("v4.2.1", "bb")];
        assert_eq!(
            most_specific_tag(names_at(&tags, "AA"), Some("v4")),
            Some("v4.2.2")
        );
        assert_eq!(names_at(&tags, "cc").count(), 0);
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00Z"), Some(1_704_067_200));
        assert_eq!(
            parse_rfc3339("2024-01-01T01:00:00+01:00"),
            Some(1_704_067_200)
        );
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00.5Z"), Some(1_704_067_200));
        assert_eq!(parse_rfc3339("garbage"), None);
        assert_eq!(parse_rfc3339("2024-01-01 00:00:00"), Some(1_704_067_200));
        assert_eq!(parse_rfc3339("1969-12-31T23:59:59Z"), None);
        assert_eq!(parse_rfc3339(&"2".repeat(100_000)), None);
    }
}
