//! Timestamps and durations on `jiff`: RFC 3339 instants to Unix seconds, human and ISO 8601
//! durations to seconds, and ages written for people (the one piece written here: the largest
//! whole unit, as messages say it).

use std::time::{SystemTime, UNIX_EPOCH};

pub const MINUTE: i64 = 60;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.frac]]` with `Z` or `±HH:MM` (a space may stand
/// for `T`; no zone means UTC) into Unix seconds, with `jiff`'s RFC 3339 / ISO 8601 parser.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    // No zone: a civil date (and time) read as UTC.
    let civil = s.parse::<jiff::civil::DateTime>().ok()?;
    Some(jiff::tz::Offset::UTC.to_timestamp(civil).ok()?.as_second())
}

/// Parses a duration: `7 days`, `3d`, `1 week 2 days`, `12h`, `P7D`, `PT12H`, with `jiff`'s
/// friendly and ISO 8601 duration parser. Calendar units count as in cooldown settings: a month
/// is 30 days, a year 365. A bare number is `None` because its unit depends on the tool; callers
/// handle it.
pub fn parse_duration(s: &str) -> Option<i64> {
    let span = s.trim().parse::<jiff::Span>().ok()?;
    if span.is_negative() {
        return None;
    }
    let parts = [
        (i64::from(span.get_years()), 365 * DAY),
        (i64::from(span.get_months()), 30 * DAY),
        (i64::from(span.get_weeks()), 7 * DAY),
        (i64::from(span.get_days()), DAY),
        (i64::from(span.get_hours()), HOUR),
        (span.get_minutes(), MINUTE),
        (span.get_seconds(), 1),
    ];
    parts.iter().try_fold(0i64, |total, (n, unit)| {
        total.checked_add(n.checked_mul(*unit)?)
    })
}

/// `3 days`, `5 hours`, `12 minutes`: the largest whole unit.
pub fn human(seconds: i64) -> String {
    let s = seconds.max(0);
    let (n, unit) = if s >= DAY {
        (s / DAY, "day")
    } else if s >= HOUR {
        (s / HOUR, "hour")
    } else {
        (s / MINUTE, "minute")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// A Unix time as `YYYY-MM-DD` (UTC); the seconds themselves when out of `jiff`'s range.
pub fn date(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map_or_else(|_| unix.to_string(), |t| t.strftime("%Y-%m-%d").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2014-12-05T20:20:39Z"), Some(1_417_810_839));
        assert_eq!(
            parse_timestamp("2014-12-05T20:20:39.123456Z"),
            Some(1_417_810_839)
        );
        assert_eq!(
            parse_timestamp("2014-12-05T21:20:39+01:00"),
            Some(1_417_810_839)
        );
        assert_eq!(parse_timestamp("2014-12-05"), Some(1_417_737_600));
        assert_eq!(parse_timestamp("2014-13-05"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2014-12-05T2"), None);
        assert_eq!(parse_timestamp("2014-12-05 20:20:39"), Some(1_417_810_839));
        assert_eq!(parse_timestamp(&"9".repeat(100_000)), None);
        assert_eq!(date(1_417_810_839), "2014-12-05");
        assert_eq!(date(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("7 days"), Some(7 * DAY));
        assert_eq!(parse_duration("3d"), Some(3 * DAY));
        assert_eq!(parse_duration("1 week 2 days"), Some(9 * DAY));
        assert_eq!(parse_duration("P7D"), Some(7 * DAY));
        assert_eq!(parse_duration("PT12H"), Some(12 * HOUR));
        assert_eq!(parse_duration("P1W"), Some(7 * DAY));
        assert_eq!(parse_duration("0"), None);
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("1 month"), Some(30 * DAY));
        assert_eq!(parse_duration("-3d"), None);
        assert_eq!(parse_duration(&"9".repeat(10_000)), None);
        assert_eq!(parse_duration(&"1d ".repeat(10_000)), None);
        assert_eq!(human(3 * DAY + 5), "3 days");
        assert_eq!(human(HOUR), "1 hour");
    }
}
