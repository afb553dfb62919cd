//! Timestamps. The contract writes UTC, ISO 8601, second precision: `2026-04-25T09:14:00Z`.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

pub type Timestamp = DateTime<Utc>;

/// The contract's text form.
pub fn format_utc(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Parses the contract form and the common variants sources write: RFC 3339 with any
/// offset, `YYYY-MM-DD HH:MM:SS[+HH[:MM]]` (PostgreSQL), and a naive time, which is taken
/// in `zone` (UTC when none). Returns `None` for anything else.
pub fn parse_any(s: &str, zone: Option<Tz>) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    // PostgreSQL timestamptz: "2024-03-31 01:30:00+01", "+05:30", fractional seconds.
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return Some(local_to_utc(n, zone));
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(local_to_utc(d.and_hms_opt(0, 0, 0)?, zone));
    }
    None
}

/// A wall-clock time in `zone` (UTC when none) to UTC. In a DST gap the time is moved an
/// hour forward; in a fold the earlier instant is taken.
pub fn local_to_utc(n: NaiveDateTime, zone: Option<Tz>) -> Timestamp {
    match zone {
        None => Utc.from_utc_datetime(&n),
        Some(z) => match z.from_local_datetime(&n) {
            chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
            chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
            chrono::LocalResult::None => {
                let later = n + chrono::Duration::hours(1);
                z.from_local_datetime(&later)
                    .earliest()
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or_else(|| Utc.from_utc_datetime(&n))
            }
        },
    }
}

/// Parses an IANA zone name (`Europe/Berlin`).
pub fn parse_zone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

/// Unix seconds to contract text.
pub fn from_unix(secs: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp(secs, 0).map(format_utc)
}

/// Normalises any parseable timestamp text to contract text.
pub fn normalize(s: &str, zone: Option<Tz>) -> Option<String> {
    parse_any(s, zone).map(format_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postgres_offsets() {
        assert_eq!(
            normalize("2024-03-31 01:30:00+01", None).unwrap(),
            "2024-03-31T00:30:00Z"
        );
        assert_eq!(
            normalize("2024-03-31 01:30:00+05:30", None).unwrap(),
            "2024-03-30T20:00:00Z"
        );
        assert_eq!(
            normalize("2026-04-25T09:14:00Z", None).unwrap(),
            "2026-04-25T09:14:00Z"
        );
    }

    #[test]
    fn naive_times_use_the_zone() {
        let z = parse_zone("America/Los_Angeles");
        assert_eq!(
            normalize("2026-07-01 10:00:00", z).unwrap(),
            "2026-07-01T17:00:00Z"
        );
        assert_eq!(
            normalize("2026-01-01 10:00", z).unwrap(),
            "2026-01-01T18:00:00Z"
        );
    }
}
