//! The hash chain.
//!
//! `hash = hex(SHA-256(json([VERSION, prev_hash, seq, id, at, actor_id, actor_ip, action,
//! outcome, subject_type, subject_id, organisation_id, detail])))`: a JSON array of the fields in
//! this fixed order is unambiguous (strings are quoted and escaped, absent values are `null`),
//! `at` is written `YYYY-MM-DDTHH:MM:SS.ffffffZ` and `detail` is the stored JSON text itself.
//! Changing any of this makes every existing log fail verification: a new encoding needs a new
//! `VERSION`, with the old one kept for the entries written under it.

use sha2::{Digest, Sha256};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::error::{AuditError, Result};

/// The `prev_hash` of the first entry, and the head's hash while the log is empty.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const VERSION: &str = "extranet-audit-v1";

/// Fixed width (six fractional digits, `Z`), so that the text also sorts as the time does; the
/// SQLite column holds exactly this (see `sql::At`).
const AT_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub(crate) fn format_at(at: OffsetDateTime) -> Result<String> {
    at.to_offset(UtcOffset::UTC)
        .format(AT_FORMAT)
        .map_err(|e| AuditError::Invalid(format!("time {at} cannot be recorded: {e}")))
}

/// What is stored for `at`: UTC, truncated to microseconds, so that it reads back (and hashes)
/// identically from both databases.
pub(crate) fn normalise_at(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(UtcOffset::UTC).truncate_to_microsecond()
}

/// Every hashed field of an entry, as stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub seq: i64,
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor_id: Option<&'a str>,
    pub actor_ip: Option<&'a str>,
    pub action: &'a str,
    pub outcome: &'a str,
    pub subject_type: Option<&'a str>,
    pub subject_id: Option<&'a str>,
    pub organisation_id: Option<&'a str>,
    pub detail: &'a str,
}

pub(crate) fn entry_hash(prev_hash: &str, f: &Fields<'_>) -> Result<String> {
    let id = f.id.hyphenated().to_string();
    let at = format_at(f.at)?;
    let canonical = serde_json::to_string(&(
        VERSION,
        prev_hash,
        f.seq,
        id,
        at,
        f.actor_id,
        f.actor_ip,
        f.action,
        f.outcome,
        f.subject_type,
        f.subject_id,
        f.organisation_id,
        f.detail,
    ))
    .map_err(|e| AuditError::Invalid(format!("entry cannot be encoded: {e}")))?;
    Ok(hex::encode(Sha256::digest(canonical.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample() -> Fields<'static> {
        Fields {
            seq: 1,
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            at: datetime!(2025-03-01 09:00:00.123456 UTC),
            actor_id: Some("alice"),
            actor_ip: Some("192.0.2.1"),
            action: "auth.login.success",
            outcome: "success",
            subject_type: Some("account"),
            subject_id: Some("alice"),
            organisation_id: None,
            detail: r#"{"method":"password"}"#,
        }
    }

    /// Pinned: if this changes, every log written so far stops verifying. The value was also
    /// computed outside Rust from the encoding described above (Python's json + hashlib).
    #[test]
    fn the_encoding_is_stable() {
        let h = entry_hash(GENESIS_HASH, &sample()).unwrap();
        assert_eq!(
            h,
            "ef5d4b9affc8ec711086ec1fcdf86bde20ed2df95fc905701b57817a171d9100"
        );
    }

    #[test]
    fn every_field_counts() {
        let base = entry_hash(GENESIS_HASH, &sample()).unwrap();
        let variants = [
            Fields { seq: 2, ..sample() },
            Fields {
                actor_id: None,
                ..sample()
            },
            Fields {
                actor_ip: Some("192.0.2.2"),
                ..sample()
            },
            Fields {
                outcome: "failure",
                ..sample()
            },
            Fields {
                organisation_id: Some(""),
                ..sample()
            },
            Fields {
                detail: r#"{"method":"passkey"}"#,
                ..sample()
            },
            Fields {
                at: datetime!(2025-03-01 09:00:00.123457 UTC),
                ..sample()
            },
            // A value moved to the neighbouring field must not hash the same.
            Fields {
                subject_type: Some("alice"),
                subject_id: Some("account"),
                ..sample()
            },
        ];
        for v in variants {
            assert_ne!(entry_hash(GENESIS_HASH, &v).unwrap(), base, "{v:?}");
        }
        assert_ne!(entry_hash(&"1".repeat(64), &sample()).unwrap(), base);
    }

    #[test]
    fn times_are_fixed_width_utc() {
        let at = datetime!(2025-03-01 11:00:00.5 +02:00);
        assert_eq!(format_at(at).unwrap(), "2025-03-01T09:00:00.500000Z");
        let n = normalise_at(datetime!(2025-03-01 09:00:00.123456789 UTC));
        assert_eq!(n, datetime!(2025-03-01 09:00:00.123456 UTC));
    }
}
