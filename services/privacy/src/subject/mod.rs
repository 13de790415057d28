//! The rights of access, portability and a company's hand-over (issue 17), carried out from
//! the register and the data:
//!
//! - [`report`]: the access report (GDPR Art. 15) — every field held on a person, the
//!   activities that apply to them, who read their data and when, the documents they uploaded —
//!   and its archive (`report.json`, `report.html`, `documents/…`);
//! - [`portability`]: what the person provided, as JSON and CSV with its JSON Schema (Art. 20);
//! - [`handover`]: a company's organisation, people, dossiers and documents as one archive.
//!
//! Each function reads; the caller decides who may ask. Every generation leaves an audit record
//! ([`record_export`]) naming who asked, whose data and which export.

pub mod handover;
mod held;
pub mod portability;
pub mod report;
mod zipfile;

pub use held::{Field, HeldTable};
pub use zipfile::ArchiveSummary;

use extranet_audit::{NewEntry, Outcome};
use extranet_platform::Db;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// Who asked for an export, for its audit record: a person (web, a request's handler) or the
/// command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Requester {
    pub actor: Option<Uuid>,
    pub ip: Option<std::net::IpAddr>,
}

/// Appends `subject.<what>` (`subject.report`, `subject.portability`, `subject.handover`) about
/// `(kind, id)`, with the format and how many documents went in. Never the data itself.
pub async fn record_export(
    db: &Db,
    at: OffsetDateTime,
    who: Requester,
    what: &str,
    subject: (&str, Uuid),
    detail: serde_json::Value,
) -> Result<()> {
    let mut e = NewEntry::new(at, format!("subject.{what}"), Outcome::Success)
        .subject(subject.0, subject.1)
        .detail(detail);
    if let Some(a) = who.actor {
        e = e.actor(a);
    }
    if let Some(ip) = who.ip {
        e = e.ip(ip);
    }
    extranet_audit::append(db, &e).await?;
    Ok(())
}

/// `time` values as RFC 3339 in JSON, both ways.
pub(crate) use time::serde::rfc3339;

/// The person with this e-mail address (compared as stored: trimmed, lower case), with their
/// language.
pub async fn person_by_email(db: &Db, email: &str) -> Result<Option<(Uuid, String)>> {
    let normalized = email.trim().to_lowercase();
    Ok(extranet_platform::on_pool!(db, read, |pool| {
        sqlx::query_as("SELECT id, language FROM person WHERE email_normalized = $1")
            .bind(&normalized)
            .fetch_optional(pool)
            .await
    })?)
}

/// An organisation by its id or its enterprise number (ten digits, as stored).
pub async fn organisation_by(
    db: &Db,
    id: Option<Uuid>,
    enterprise_digits: Option<&str>,
) -> Result<Option<Uuid>> {
    Ok(extranet_platform::on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT id FROM organisation WHERE id = $1 OR enterprise_number = $2")
            .bind(id)
            .bind(enterprise_digits)
            .fetch_optional(pool)
            .await
    })?)
}
