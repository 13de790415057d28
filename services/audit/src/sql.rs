//! How entries are stored and read back, for both engines.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Encode, Postgres, Sqlite, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::entry::Entry;
use crate::error::{AuditError, Result};
use crate::hash::{Fields, format_at};

/// The columns of `audit_log`, in the order of [`StoredRow`].
macro_rules! columns {
    () => {
        "seq, id, at, actor_id, actor_ip, action, outcome, subject_type, subject_id, \
         organisation_id, detail, prev_hash, hash, hash_version, actor_ip_salt, actor_ip_commit"
    };
}
pub(crate) use columns;

/// A time bound as `at` is stored: TIMESTAMPTZ on PostgreSQL; on SQLite, TEXT in the fixed-width
/// format of [`format_at`]. sqlx's own SQLite text drops trailing fractional zeros, and
/// `…:00Z` sorts after `…:00.5Z`, so text comparisons (period filters) would be wrong.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At(pub OffsetDateTime);

impl Type<Sqlite> for At {
    fn type_info() -> <Sqlite as Database>::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
}

impl Encode<'_, Sqlite> for At {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'_, Sqlite>>::encode(format_at(self.0)?, buf)
    }
}

impl Type<Postgres> for At {
    fn type_info() -> <Postgres as Database>::TypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
}

impl Encode<'_, Postgres> for At {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<'_, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

/// A row as stored, before anything is parsed: verification hashes exactly these values.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct StoredRow {
    pub seq: i64,
    pub id: Uuid,
    pub at: OffsetDateTime,
    pub actor_id: Option<String>,
    pub actor_ip: Option<String>,
    pub action: String,
    pub outcome: String,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub organisation_id: Option<String>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
    pub hash_version: i64,
    pub actor_ip_salt: Option<String>,
    pub actor_ip_commit: Option<String>,
}

impl StoredRow {
    /// Under version 2, a stored address must match its commitment (an address edited, or put
    /// back after erasure, does not); an erased one (no address, no salt) is fine.
    pub fn address_matches(&self) -> bool {
        if self.hash_version < 2 {
            return true;
        }
        match (&self.actor_ip, &self.actor_ip_salt, &self.actor_ip_commit) {
            (None, _, _) => true,
            (Some(ip), Some(salt), Some(commit)) => crate::hash::ip_commitment(salt, ip) == *commit,
            _ => false,
        }
    }

    pub fn fields(&self) -> Fields<'_> {
        Fields {
            version: self.hash_version,
            seq: self.seq,
            id: self.id,
            at: self.at,
            actor_id: self.actor_id.as_deref(),
            actor_ip: self.actor_ip.as_deref(),
            actor_ip_commit: self.actor_ip_commit.as_deref(),
            action: &self.action,
            outcome: &self.outcome,
            subject_type: self.subject_type.as_deref(),
            subject_id: self.subject_id.as_deref(),
            organisation_id: self.organisation_id.as_deref(),
            detail: &self.detail,
        }
    }

    pub fn into_entry(self) -> Result<Entry> {
        let seq = self.seq;
        let damaged = |what: &str, e: &dyn std::fmt::Display| {
            AuditError::Damaged(format!("entry {seq} holds an unreadable {what}: {e}"))
        };
        let actor_ip = match &self.actor_ip {
            Some(ip) => Some(ip.parse().map_err(|e| damaged("actor_ip", &e))?),
            None => None,
        };
        let outcome = self.outcome.parse().map_err(|e| damaged("outcome", &e))?;
        let detail = serde_json::from_str(&self.detail).map_err(|e| damaged("detail", &e))?;
        Ok(Entry {
            seq,
            id: self.id,
            at: self.at,
            actor_id: self.actor_id,
            actor_ip,
            action: self.action,
            outcome,
            subject_type: self.subject_type,
            subject_id: self.subject_id,
            organisation_id: self.organisation_id,
            detail,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}
