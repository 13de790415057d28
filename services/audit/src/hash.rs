//! The hash chain.
//!
//! `hash = hex(SHA-256(json([VERSION, prev_hash, seq, id, at, actor_id, actor_ip, action,
//! outcome, subject_type, subject_id, organisation_id, detail])))`: a JSON array of the fields in
//! this fixed order is unambiguous (strings are quoted and escaped, absent values are `null`),
//! `at` is written `YYYY-MM-DDTHH:MM:SS.ffffffZ` and `detail` is the stored JSON text itself.
//! Changing any of this makes every existing log fail verification: a new encoding needs a new
//! `VERSION`, with the old one kept for the entries written under it.
//!
//! Version 2 (every entry written since migration 0013) hashes `actor_ip_commit` where version 1
//! hashed `actor_ip`: the commitment is `hex(SHA-256(json([IP_DOMAIN, salt, address])))` with a
//! random salt stored beside the address. The retention schedule erases an old entry's address
//! and salt; the commitment stays, so the entry's hash and the chain still verify, and without
//! the salt the commitment cannot be tested against guessed addresses. Version 1 entries keep
//! their address: erasing it would make their hash unverifiable.

use sha2::{Digest, Sha256};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::error::{AuditError, Result};

/// The `prev_hash` of the first entry, and the head's hash while the log is empty.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const VERSION: &str = "extranet-audit-v1";
const VERSION_2: &str = "extranet-audit-v2";
const IP_DOMAIN: &str = "extranet-audit-ip";

/// The hash version new entries are written under.
pub(crate) const CURRENT_VERSION: i64 = 2;

/// The commitment to a client address under its salt.
pub(crate) fn ip_commitment(salt: &str, ip: &str) -> String {
    let text = serde_json::to_string(&(IP_DOMAIN, salt, ip)).unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}

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
    /// 1: the address itself is hashed; 2: its commitment.
    pub version: i64,
    pub seq: i64,
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor_id: Option<&'a str>,
    pub actor_ip: Option<&'a str>,
    pub actor_ip_commit: Option<&'a str>,
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
    let (version, address) = match f.version {
        1 => (VERSION, f.actor_ip),
        2 => (VERSION_2, f.actor_ip_commit),
        v => {
            return Err(AuditError::Damaged(format!(
                "entry {} has hash version {v}",
                f.seq
            )));
        }
    };
    let canonical = serde_json::to_string(&(
        version,
        prev_hash,
        f.seq,
        id,
        at,
        f.actor_id,
        address,
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
            version: 1,
            seq: 1,
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            at: datetime!(2025-03-01 09:00:00.123456 UTC),
            actor_id: Some("alice"),
            actor_ip: Some("192.0.2.1"),
            actor_ip_commit: None,
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

    /// Version 2 hashes the commitment, not the address: erasing the address (and its salt)
    /// leaves the hash as it was, while a different commitment changes it.
    #[test]
    fn version_2_hashes_the_commitment_to_the_address() {
        let commit = ip_commitment("5a1t", "192.0.2.1");
        let v2 = Fields {
            version: 2,
            actor_ip_commit: Some(&commit),
            ..sample()
        };
        let h = entry_hash(GENESIS_HASH, &v2).unwrap();
        let erased = Fields {
            actor_ip: None,
            ..v2
        };
        assert_eq!(entry_hash(GENESIS_HASH, &erased).unwrap(), h);
        assert_ne!(entry_hash(GENESIS_HASH, &sample()).unwrap(), h);
        let other = ip_commitment("5a1t", "192.0.2.2");
        let changed = Fields {
            actor_ip_commit: Some(&other),
            ..v2
        };
        assert_ne!(entry_hash(GENESIS_HASH, &changed).unwrap(), h);
        assert_ne!(ip_commitment("other", "192.0.2.1"), commit);
        assert!(entry_hash(GENESIS_HASH, &Fields { version: 3, ..v2 }).is_err());
    }

    #[test]
    fn times_are_fixed_width_utc() {
        let at = datetime!(2025-03-01 11:00:00.5 +02:00);
        assert_eq!(format_at(at).unwrap(), "2025-03-01T09:00:00.500000Z");
        let n = normalise_at(datetime!(2025-03-01 09:00:00.123456789 UTC));
        assert_eq!(n, datetime!(2025-03-01 09:00:00.123456 UTC));
    }
}
