//! The retention schedule's rules, and the words they are written in.

use std::fmt;

use serde::Deserialize;
use toml::Spanned;

use super::texts::Texts;

/// The records a rule applies to: each word is a set of rows (and objects) the retention job
/// knows how to find by their trigger and to delete or anonymise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// Sessions (with their refresh tokens and revocations) that ended.
    Sessions,
    /// One-time links and sign-in challenges, used or expired.
    OneTimeLinks,
    /// Sign-in failure counters (their key holds the client address).
    SignInFailures,
    /// E-mails the outbox delivered.
    DeliveredMail,
    /// Soft-deleted documents, with every version's object.
    DeletedDocuments,
    /// Client addresses in the audit log.
    AuditAddresses,
    /// Deactivated people.
    DeactivatedPeople,
    /// The people of deactivated organisations.
    EndedClients,
    /// The documents of withdrawn or expired certification files.
    EndedCertifications,
    /// Withdrawn consents (the proof of consent).
    WithdrawnConsents,
    /// Closed rights requests, with their history.
    RightsRequests,
    /// Rights requests filed without an account whose address was never confirmed.
    UnconfirmedRequests,
    /// Records kept outside the extranet: described, not carried out here.
    External,
}

impl Target {
    pub const ALL: [Target; 13] = [
        Target::Sessions,
        Target::OneTimeLinks,
        Target::SignInFailures,
        Target::DeliveredMail,
        Target::DeletedDocuments,
        Target::AuditAddresses,
        Target::DeactivatedPeople,
        Target::EndedClients,
        Target::EndedCertifications,
        Target::WithdrawnConsents,
        Target::RightsRequests,
        Target::UnconfirmedRequests,
        Target::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Sessions => "sessions",
            Target::OneTimeLinks => "one_time_links",
            Target::SignInFailures => "sign_in_failures",
            Target::DeliveredMail => "delivered_mail",
            Target::DeletedDocuments => "deleted_documents",
            Target::AuditAddresses => "audit_addresses",
            Target::DeactivatedPeople => "deactivated_people",
            Target::EndedClients => "ended_clients",
            Target::EndedCertifications => "ended_certifications",
            Target::WithdrawnConsents => "withdrawn_consents",
            Target::RightsRequests => "rights_requests",
            Target::UnconfirmedRequests => "unconfirmed_requests",
            Target::External => "external",
        }
    }

    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The actions the job can carry out on these records.
    pub(crate) fn actions(self) -> &'static [&'static str] {
        match self {
            Target::AuditAddresses => &["anonymise"],
            // Other records refer to people: they are anonymised, never deleted.
            Target::DeactivatedPeople | Target::EndedClients => &["anonymise"],
            Target::External => &["delete", "anonymise"],
            _ => &["delete"],
        }
    }

    /// Fields a rule may empty (nullable columns).
    pub(crate) fn erasable(self) -> &'static [&'static str] {
        match self {
            Target::AuditAddresses => &["actor_ip"],
            Target::DeactivatedPeople | Target::EndedClients => PERSON_ERASABLE,
            _ => &[],
        }
    }

    /// Fields a rule may overwrite with a text of its own.
    pub(crate) fn replaceable(self) -> &'static [&'static str] {
        match self {
            Target::DeactivatedPeople | Target::EndedClients => {
                &["surname", "first_name", "email", "function", "gender"]
            }
            _ => &[],
        }
    }
}

const PERSON_ERASABLE: &[&str] = &[
    "phone",
    "mobile",
    "fax",
    "function",
    "birth_date",
    "training_valid_until",
    // Not a column: the person's vehicles (table `vehicle`) are deleted.
    "licence_plates",
    "password_hash",
    "password_changed_at",
];

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A retention period: a number of days, months or years (calendar months and years).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duration {
    Days(u32),
    Months(u32),
    Years(u32),
}

impl Duration {
    /// "30 days", "1 day", "12 months", "7 years", "2 weeks".
    pub fn parse(s: &str) -> Option<Duration> {
        let mut words = s.split_whitespace();
        let n: u32 = words.next()?.parse().ok()?;
        let unit = words.next()?;
        if words.next().is_some() || n == 0 || n > 100 * 366 {
            return None;
        }
        match unit {
            "day" | "days" => Some(Duration::Days(n)),
            "week" | "weeks" => n.checked_mul(7).map(Duration::Days),
            "month" | "months" => Some(Duration::Months(n)),
            "year" | "years" => Some(Duration::Years(n)),
            _ => None,
        }
    }

    /// The instant this long before `now` (calendar arithmetic in UTC).
    pub fn before(self, now: time::OffsetDateTime) -> time::OffsetDateTime {
        let date = now.date();
        let shifted = match self {
            Duration::Days(d) => return now - time::Duration::days(i64::from(d)),
            Duration::Months(m) => months_back(date, m),
            Duration::Years(y) => months_back(date, y.saturating_mul(12)),
        };
        shifted.with_time(now.time()).assume_offset(now.offset())
    }

    /// Number and unit, for the texts: (n, "days" | "months" | "years").
    pub fn parts(self) -> (u32, &'static str) {
        match self {
            Duration::Days(n) => (n, "days"),
            Duration::Months(n) => (n, "months"),
            Duration::Years(n) => (n, "years"),
        }
    }
}

/// The same day `months` months earlier, or that month's last day when it is shorter.
fn months_back(date: time::Date, months: u32) -> time::Date {
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 - months as i32;
    let year = total.div_euclid(12);
    let month = time::Month::try_from(u8::try_from(total.rem_euclid(12) + 1).unwrap_or(1))
        .unwrap_or(time::Month::January);
    let last = time::util::days_in_month(month, year);
    time::Date::from_calendar_date(year, month, date.day().min(last)).unwrap_or(date)
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (n, unit) = self.parts();
        write!(f, "{n} {unit}")
    }
}

/// What happens at a rule's end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The rows go, with their objects in storage.
    Delete,
    /// `erase` fields are emptied, `replace` fields overwritten (`{id}` is the record's id).
    Anonymise {
        erase: Vec<String>,
        replace: Vec<(String, String)>,
    },
}

/// A checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub target: Target,
    pub after: Duration,
    pub trigger: Texts,
    pub action: Action,
    /// Where records kept outside the extranet are (target `external`).
    pub kept_in: Option<Texts>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSchedule {
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub id: Spanned<String>,
    pub applies_to: Spanned<String>,
    pub after: Spanned<String>,
    pub trigger: Spanned<Texts>,
    pub action: Spanned<String>,
    #[serde(default)]
    pub erase: Vec<Spanned<String>>,
    #[serde(default)]
    pub replace: Option<Spanned<toml::Table>>,
    #[serde(default)]
    pub kept_in: Option<Texts>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn durations_parse_and_count_back_in_calendar_units() {
        assert_eq!(Duration::parse("30 days"), Some(Duration::Days(30)));
        assert_eq!(Duration::parse("1 year"), Some(Duration::Years(1)));
        assert_eq!(Duration::parse("2 weeks"), Some(Duration::Days(14)));
        for bad in [
            "",
            "30",
            "days",
            "0 days",
            "thirty days",
            "3 fortnights",
            "1 year extra",
        ] {
            assert_eq!(Duration::parse(bad), None, "{bad}");
        }
        let now = datetime!(2026-03-31 10:00 UTC);
        assert_eq!(
            Duration::Months(1).before(now),
            datetime!(2026-02-28 10:00 UTC)
        );
        assert_eq!(
            Duration::Years(2).before(now),
            datetime!(2024-03-31 10:00 UTC)
        );
        assert_eq!(
            Duration::Days(31).before(now),
            datetime!(2026-02-28 10:00 UTC)
        );
        assert_eq!(
            Duration::Months(14).before(datetime!(2026-01-15 0:00 UTC)),
            datetime!(2024-11-15 0:00 UTC)
        );
    }
}
