//! The `[drift]` section of the organization's `ciguard-app.toml` (with per-repository
//! overrides under `[repositories.<name>.drift]`).

use std::time::Duration;

use serde::Deserialize;

/// The default label of drift issues.
pub const DEFAULT_LABEL: &str = "ciguard-drift";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftConfig {
    /// The label every drift issue carries (1 to 50 characters).
    #[serde(deserialize_with = "label")]
    pub label: String,
    /// Days between two "still failing" comments on an issue whose text did not change
    /// (0: never ping).
    pub ping_days: u64,
    /// UTC weekdays (`monday`…`sunday`) on which no ping is written.
    pub quiet_days: Vec<Weekday>,
    /// A repository of the organization (name without owner) that receives every drift issue
    /// instead of each repository.
    #[serde(deserialize_with = "repository_name")]
    pub central_repository: Option<String>,
}

impl Default for DriftConfig {
    fn default() -> Self {
        Self {
            label: DEFAULT_LABEL.into(),
            ping_days: 7,
            quiet_days: Vec::new(),
            central_repository: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Sunday,
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
}

impl Weekday {
    /// The UTC weekday of `unix_ms` (1970-01-01 was a Thursday).
    pub fn of(unix_ms: i64) -> Weekday {
        const DAYS: [Weekday; 7] = [
            Weekday::Sunday,
            Weekday::Monday,
            Weekday::Tuesday,
            Weekday::Wednesday,
            Weekday::Thursday,
            Weekday::Friday,
            Weekday::Saturday,
        ];
        let days = unix_ms.div_euclid(86_400_000);
        DAYS[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)]
    }
}

impl DriftConfig {
    pub fn ping_interval(&self) -> Option<Duration> {
        (self.ping_days > 0).then(|| Duration::from_secs(self.ping_days.saturating_mul(86_400)))
    }

    /// Whether a ping may be written at `now_ms`, the last write having been at `written_ms`.
    pub fn ping_due(&self, written_ms: i64, now_ms: i64) -> bool {
        let Some(interval) = self.ping_interval() else {
            return false;
        };
        let interval = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        now_ms.saturating_sub(written_ms) >= interval
            && !self.quiet_days.contains(&Weekday::of(now_ms))
    }
}

/// A plain repository name is all `central_repository` may be (it becomes a URL path); the
/// error goes through the organization file's loader, which names the line.
fn repository_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name = String::deserialize(d)?;
    let ok = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !ok {
        return Err(serde::de::Error::custom(
            "central_repository must be a repository name of the organization, without owner",
        ));
    }
    Ok(Some(name))
}

fn label<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let label = String::deserialize(d)?;
    let n = label.chars().count();
    if n == 0 || n > 50 || label.chars().any(char::is_control) {
        return Err(serde::de::Error::custom(
            "label must be 1 to 50 characters without control characters",
        ));
    }
    Ok(label)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org_config::OrgConfig;

    #[test]
    fn weekdays_and_pings() {
        assert_eq!(Weekday::of(0), Weekday::Thursday);
        // 2026-12-05 is a Saturday.
        let saturday = 1_796_428_800_000;
        assert_eq!(Weekday::of(saturday), Weekday::Saturday);
        let day = 86_400_000;
        let c = DriftConfig {
            ping_days: 2,
            quiet_days: vec![Weekday::Saturday],
            ..DriftConfig::default()
        };
        assert!(!c.ping_due(saturday - day, saturday), "too soon");
        assert!(!c.ping_due(saturday - 3 * day, saturday), "quiet day");
        assert!(c.ping_due(saturday - 2 * day + day, saturday + day));
        let never = DriftConfig {
            ping_days: 0,
            ..DriftConfig::default()
        };
        assert!(!never.ping_due(0, saturday));
    }

    #[test]
    fn the_section_with_overrides_and_its_errors() {
        let text = "[drift]\nenabled = true\nping_days = 3\nexclude = [\"legacy\"]\n\n[repositories.api.drift]\nquiet_days = [\"sunday\"]\n";
        let org = OrgConfig::parse(text).unwrap();
        let api: DriftConfig = org.section("drift", "api").unwrap().unwrap();
        assert_eq!(
            (api.ping_days, api.quiet_days.clone()),
            (3, vec![Weekday::Sunday])
        );
        assert_eq!(api.label, DEFAULT_LABEL);
        assert!(
            org.section::<DriftConfig>("drift", "legacy")
                .unwrap()
                .is_none()
        );
        let off = OrgConfig::parse("[drift]\nping_days = 3\n").unwrap();
        assert!(
            off.section::<DriftConfig>("drift", "api")
                .unwrap()
                .is_none()
        );
        let typo = OrgConfig::parse("[drift]\nenabled = true\nping_dayz = 3\n").unwrap();
        let err = typo.section::<DriftConfig>("drift", "api").unwrap_err();
        assert!(err.to_string().contains("ping_dayz"), "{err}");
        let bad = OrgConfig::parse(
            "[drift]\nenabled = true\n\n[repositories.api.drift]\ncentral_repository = \"../x\"\n",
        )
        .unwrap();
        let err = bad
            .section::<DriftConfig>("drift", "api")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(":4:") && err.contains("central_repository"),
            "{err}"
        );
        let bad = OrgConfig::parse("[drift]\nenabled = true\nlabel = \"\"\n").unwrap();
        assert!(bad.section::<DriftConfig>("drift", "api").is_err());
        let fine =
            OrgConfig::parse("[drift]\nenabled = true\ncentral_repository = \"sec.issues\"\n")
                .unwrap();
        let c: DriftConfig = fine.section("drift", "api").unwrap().unwrap();
        assert_eq!(c.central_repository.as_deref(), Some("sec.issues"));
    }
}
