//! Timestamps and durations without a date library: RFC 3339 instants to Unix seconds, human and
//! ISO 8601 durations to seconds, and ages written for people.

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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let part = s.get(range)?;
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    part.parse().ok()
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.frac]]` with `Z` or `±HH:MM` (a space may stand
/// for `T`; no zone means UTC) into Unix seconds.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let (y, mo, d) = (digits(s, 0..4)?, digits(s, 5..7)?, digits(s, 8..10)?);
    if s.as_bytes().get(4) != Some(&b'-') || s.as_bytes().get(7) != Some(&b'-') {
        return None;
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let date = days_from_civil(y, mo, d) * DAY;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(date);
    }
    if !rest.starts_with(['T', 't', ' ']) {
        return None;
    }
    let t = &rest[1..];
    let (h, mi) = (digits(t, 0..2)?, digits(t, 3..5)?);
    if t.as_bytes().get(2) != Some(&b':') {
        return None;
    }
    let mut pos = 5;
    let mut sec = 0;
    if t.as_bytes().get(5) == Some(&b':') {
        sec = digits(t, 6..8)?;
        pos = 8;
        if t.as_bytes().get(8) == Some(&b'.') {
            pos = 9 + t[9..].bytes().take_while(u8::is_ascii_digit).count();
        }
    }
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let zone = &t[pos..];
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let zh = digits(zone, 1..3)?;
            let zm = if zone.len() > 3 {
                digits(zone, zone.len() - 2..zone.len())?
            } else {
                0
            };
            sign * (zh * HOUR + zm * MINUTE)
        }
    };
    Some(date + h * HOUR + mi * MINUTE + sec - offset)
}

/// Parses a duration: `7 days`, `3d`, `1 week 2 days`, `12h`, `P7D`, `PT12H`. A bare number is
/// `None` because its unit depends on the tool; callers handle it.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Some(iso) = s.strip_prefix(['P', 'p']) {
        return parse_iso_duration(iso);
    }
    let mut total = 0i64;
    let mut rest = s;
    let mut any = false;
    while !rest.trim_start().is_empty() {
        rest = rest.trim_start();
        let n_len = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
        if n_len == 0 {
            return None;
        }
        let n: i64 = rest[..n_len].parse().ok()?;
        rest = rest[n_len..].trim_start();
        let u_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let unit = unit_seconds(&rest[..u_len].to_ascii_lowercase())?;
        rest = rest[u_len..].trim_start_matches([',', ' ']);
        rest = rest.strip_prefix("and ").unwrap_or(rest);
        total = total.checked_add(n.checked_mul(unit)?)?;
        any = true;
    }
    any.then_some(total)
}

fn unit_seconds(unit: &str) -> Option<i64> {
    Some(match unit {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => MINUTE,
        "h" | "hr" | "hrs" | "hour" | "hours" => HOUR,
        "d" | "day" | "days" => DAY,
        "w" | "week" | "weeks" => 7 * DAY,
        "mo" | "month" | "months" => 30 * DAY,
        "y" | "year" | "years" => 365 * DAY,
        _ => return None,
    })
}

fn parse_iso_duration(s: &str) -> Option<i64> {
    let mut total = 0i64;
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for c in s.chars() {
        match c {
            '0'..='9' => num.push(c),
            'T' | 't' => in_time = true,
            _ => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                let unit = match (c.to_ascii_uppercase(), in_time) {
                    ('Y', false) => 365 * DAY,
                    ('M', false) => 30 * DAY,
                    ('W', false) => 7 * DAY,
                    ('D', false) => DAY,
                    ('H', true) => HOUR,
                    ('M', true) => MINUTE,
                    ('S', true) => 1,
                    _ => return None,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
                any = true;
            }
        }
    }
    (any && num.is_empty()).then_some(total)
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

/// A Unix time as `YYYY-MM-DD`.
pub fn date(unix: i64) -> String {
    let z = unix.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
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
        assert_eq!(date(1_417_810_839), "2014-12-05");
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
        assert_eq!(human(3 * DAY + 5), "3 days");
        assert_eq!(human(HOUR), "1 hour");
    }
}
