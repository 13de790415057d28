//! Instants as the register stores them (Unix seconds) and shows them (RFC 3339), and dates in
//! the installation's time zone.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{Result, SubprocessorsError};

pub fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

pub fn instant(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A `YYYY-MM-DD` date, or an error naming `field`.
pub fn parse_date(field: &'static str, s: &str) -> Result<jiff::civil::Date> {
    let s = s.trim();
    let ok = s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-';
    ok.then(|| s.parse::<jiff::civil::Date>().ok())
        .flatten()
        .ok_or_else(|| SubprocessorsError::invalid(field, "a date as YYYY-MM-DD, e.g. 2026-03-01"))
}

/// The first second of `date` in `tz`, as Unix seconds.
pub fn start_of(date: jiff::civil::Date, tz: &jiff::tz::TimeZone) -> Result<i64> {
    date.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_second())
        .map_err(|e| SubprocessorsError::Internal(format!("date in time zone: {e}")))
}

/// Today in `tz`, at `now`.
pub fn today(now: OffsetDateTime, tz: &jiff::tz::TimeZone) -> jiff::civil::Date {
    jiff::Timestamp::from_second(now.unix_timestamp())
        .map(|t| t.to_zoned(tz.clone()).date())
        .unwrap_or_default()
}

/// `date` plus `days`.
pub fn add_days(date: jiff::civil::Date, days: i64) -> jiff::civil::Date {
    date.checked_add(jiff::Span::new().days(days))
        .unwrap_or(date)
}
