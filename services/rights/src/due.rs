//! The legal deadlines of a request (GDPR Art. 12(3)): an answer is due one calendar month after
//! receipt, and may be extended once by at most two further months. A period in months ends on
//! the same day of the month it ends in, or on that month's last day when it has no such day
//! (Regulation 1182/71, Art. 3(2)(c)): 31 January → 28 (or 29) February, 31 March → 30 April.
//! The calendar is the installation's: a request received at 23:30 on 31 January in Brussels
//! was received on 31 January.

use time::{Date, Month};

/// `date` plus `months` calendar months, clamped to the last day of the month it lands in.
pub fn add_months(date: Date, months: u8) -> Date {
    let zero_based = i32::from(u8::from(date.month())) - 1 + i32::from(months);
    let year = date.year() + zero_based.div_euclid(12);
    let month = u8::try_from(zero_based.rem_euclid(12) + 1)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::December);
    let day = date.day().min(month.length(year));
    // The day is within the month by construction; the fallback is the month's first day.
    Date::from_calendar_date(year, month, day)
        .or_else(|_| Date::from_calendar_date(year, month, 1))
        .unwrap_or(date)
}

/// The day an answer is due: one calendar month after the day of receipt.
pub fn due_on(received: Date) -> Date {
    add_months(received, 1)
}

/// The latest day an extension may set: three calendar months after the day of receipt (the
/// month the law gives, plus the two further months it allows).
pub fn latest_extension(received: Date) -> Date {
    add_months(received, 3)
}

/// The calendar date of a Unix instant in the installation's time zone.
pub fn local_date(unix: i64, tz: &jiff::tz::TimeZone) -> Date {
    let fallback = Date::MIN;
    let Ok(ts) = jiff::Timestamp::from_second(unix) else {
        return fallback;
    };
    let d = ts.to_zoned(tz.clone()).date();
    u8::try_from(d.month())
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .and_then(|m| {
            Date::from_calendar_date(i32::from(d.year()), m, u8::try_from(d.day()).ok()?).ok()
        })
        .unwrap_or(fallback)
}

/// `YYYY-MM-DD`, as dates are stored.
pub fn iso(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A stored `YYYY-MM-DD`.
pub fn parse_iso(s: &str) -> Option<Date> {
    let mut parts = s.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn one_month_keeps_the_day() {
        assert_eq!(due_on(date!(2026 - 03 - 15)), date!(2026 - 04 - 15));
        assert_eq!(due_on(date!(2026 - 01 - 01)), date!(2026 - 02 - 01));
    }

    #[test]
    fn month_ends_clamp_to_the_last_day() {
        assert_eq!(due_on(date!(2027 - 01 - 31)), date!(2027 - 02 - 28));
        assert_eq!(
            due_on(date!(2028 - 01 - 31)),
            date!(2028 - 02 - 29),
            "leap year"
        );
        assert_eq!(due_on(date!(2028 - 01 - 30)), date!(2028 - 02 - 29));
        assert_eq!(due_on(date!(2026 - 03 - 31)), date!(2026 - 04 - 30));
        assert_eq!(due_on(date!(2026 - 08 - 31)), date!(2026 - 09 - 30));
        assert_eq!(due_on(date!(2026 - 02 - 28)), date!(2026 - 03 - 28));
        assert_eq!(due_on(date!(2028 - 02 - 29)), date!(2028 - 03 - 29));
    }

    #[test]
    fn the_year_turns() {
        assert_eq!(due_on(date!(2026 - 12 - 31)), date!(2027 - 01 - 31));
        assert_eq!(due_on(date!(2026 - 12 - 04)), date!(2027 - 01 - 04));
        assert_eq!(
            latest_extension(date!(2026 - 11 - 30)),
            date!(2027 - 02 - 28)
        );
        assert_eq!(
            latest_extension(date!(2027 - 11 - 30)),
            date!(2028 - 02 - 29)
        );
    }

    #[test]
    fn extension_is_three_months_from_receipt() {
        assert_eq!(
            latest_extension(date!(2026 - 01 - 31)),
            date!(2026 - 04 - 30)
        );
        assert_eq!(
            latest_extension(date!(2026 - 05 - 31)),
            date!(2026 - 08 - 31)
        );
    }

    #[test]
    fn receipt_day_is_the_installations() {
        let brussels = jiff::tz::TimeZone::get("Europe/Brussels").expect("tz");
        // 2027-01-31 23:30 in Brussels is 22:30 UTC.
        let unix = 1_801_434_600;
        assert_eq!(local_date(unix, &brussels), date!(2027 - 01 - 31));
        assert_eq!(local_date(unix + 3600, &brussels), date!(2027 - 02 - 01));
        assert_eq!(
            local_date(unix + 3600, &jiff::tz::TimeZone::UTC),
            date!(2027 - 01 - 31)
        );
    }

    #[test]
    fn iso_round_trips() {
        let d = date!(2028 - 02 - 29);
        assert_eq!(parse_iso(&iso(d)), Some(d));
        assert_eq!(parse_iso("2027-02-29"), None);
        assert_eq!(parse_iso("nonsense"), None);
    }
}
