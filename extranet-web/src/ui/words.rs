//! Things as people say them: roles by their names, dates and times in the installation's time
//! zone (with the zone named), sizes in KB/MB and durations in days or hours, in the visitor's
//! language.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::i18n::Tr;
use crate::lang::Lang;

/// The installation's time zone, for code that has no [`crate::Site`] at hand (set when the
/// pages are mounted; Europe/Brussels before that).
static INSTALLATION_TZ: std::sync::OnceLock<TimeZone> = std::sync::OnceLock::new();

pub(crate) fn set_installation_tz(tz: TimeZone) {
    let _ = INSTALLATION_TZ.set(tz);
}

pub(crate) fn installation_tz() -> TimeZone {
    INSTALLATION_TZ
        .get()
        .cloned()
        .or_else(|| TimeZone::get("Europe/Brussels").ok())
        .unwrap_or(TimeZone::UTC)
}

/// A role's name in the visitor's language ("Primary contact"), from its stored name.
pub(crate) fn role(tr: &Tr, role: &str) -> String {
    tr.t(&format!("role-{}", role.replace('_', "-")))
}

const MONTHS: [[&str; 12]; 3] = [
    [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
];

/// A calendar date: "4 december 2026", "4 décembre 2026", "4 December 2026".
pub(crate) fn date(lang: Lang, d: time::Date) -> String {
    let month = MONTHS[lang.index()][usize::from(u8::from(d.month())) - 1];
    format!("{} {month} {}", d.day(), d.year())
}

/// A moment, in the installation's time zone with the zone's abbreviation:
/// "4 december 2026 14:05 CET".
pub(crate) fn moment(lang: Lang, tz: &TimeZone, at: time::OffsetDateTime) -> String {
    let Ok(ts) = Timestamp::from_nanosecond(at.unix_timestamp_nanos()) else {
        return at.to_string();
    };
    let zoned = ts.to_zoned(tz.clone());
    let month = MONTHS[lang.index()][usize::try_from(zoned.month() - 1).unwrap_or(0)];
    let abbreviation = tz.to_offset_info(ts).abbreviation().to_owned();
    format!(
        "{} {month} {} {:02}:{:02} {abbreviation}",
        zoned.day(),
        zoned.year(),
        zoned.hour(),
        zoned.minute()
    )
}

/// The calendar date of a moment in the installation's time zone.
pub(crate) fn day_of(lang: Lang, tz: &TimeZone, at: time::OffsetDateTime) -> String {
    let Ok(ts) = Timestamp::from_nanosecond(at.unix_timestamp_nanos()) else {
        return at.date().to_string();
    };
    let zoned = ts.to_zoned(tz.clone());
    let month = MONTHS[lang.index()][usize::try_from(zoned.month() - 1).unwrap_or(0)];
    format!("{} {month} {}", zoned.day(), zoned.year())
}

fn decimal(lang: Lang, value: f64) -> String {
    let text = format!("{value:.1}");
    let text = text.strip_suffix(".0").unwrap_or(&text).to_owned();
    match lang {
        Lang::En => text,
        Lang::Nl | Lang::Fr => text.replace('.', ","),
    }
}

/// A file size: "812 bytes", "14 KB", "2,5 MB" (decimal units, as file browsers show them).
pub(crate) fn size(tr: &Tr, bytes: u64) -> String {
    // Sizes are far below 2^52, where f64 stops being exact.
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if bytes < 1_000 {
        tr.n("size-bytes", "n", bytes)
    } else if bytes < 1_000_000 {
        format!("{} KB", decimal(tr.0, (b / 1_000.0).round()))
    } else if bytes < 1_000_000_000 {
        format!("{} MB", decimal(tr.0, b / 1_000_000.0))
    } else {
        format!("{} GB", decimal(tr.0, b / 1_000_000_000.0))
    }
}

/// A duration as a person reads it: whole days when it is at least a day, else hours, else
/// minutes.
pub(crate) fn duration(tr: &Tr, d: std::time::Duration) -> String {
    let minutes = d.as_secs() / 60;
    if minutes >= 24 * 60 && minutes.is_multiple_of(24 * 60) || minutes >= 7 * 24 * 60 {
        tr.n("duration-days", "n", minutes / (24 * 60))
    } else if minutes >= 60 {
        tr.n("duration-hours", "n", minutes / 60)
    } else {
        tr.n("duration-minutes", "n", minutes.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_in_the_installation_zone_with_its_name() {
        let tz = TimeZone::get("Europe/Brussels").unwrap();
        let winter = time::macros::datetime!(2026-12-04 11:51:31.510356744 UTC);
        assert_eq!(moment(Lang::En, &tz, winter), "4 December 2026 12:51 CET");
        let summer = time::macros::datetime!(2026-07-01 22:30 UTC);
        assert_eq!(moment(Lang::Nl, &tz, summer), "2 juli 2026 00:30 CEST");
        assert_eq!(day_of(Lang::Fr, &tz, summer), "2 juillet 2026");
    }

    #[test]
    fn sizes_and_durations_read_as_people_say_them() {
        assert_eq!(size(&Tr(Lang::En), 14_321), "14 KB");
        assert_eq!(size(&Tr(Lang::Nl), 2_540_000), "2,5 MB");
        assert_eq!(
            duration(&Tr(Lang::En), std::time::Duration::from_secs(10_080 * 60)),
            "7 days"
        );
        assert_eq!(
            duration(&Tr(Lang::En), std::time::Duration::from_secs(3 * 3600)),
            "3 hours"
        );
    }
}
