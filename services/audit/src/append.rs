//! Appending entries.
//!
//! One body, compiled for both engines by `impl_audit_conn!`: lock the head row by bumping its
//! number by as many entries as are written (`UPDATE … RETURNING`, so concurrent appenders queue
//! on PostgreSQL's row lock and on SQLite's write lock), chain each to the one before, starting
//! from the head's hash, insert them, move the head's hash forward once.

use std::future::Future;

use extranet_platform::Db;
use uuid::Uuid;

use crate::entry::{Entry, MAX_DETAIL, NewEntry};
use crate::error::{AuditError, Result};
use crate::hash::{CURRENT_VERSION, Fields, entry_hash, ip_commitment, normalise_at};
use crate::sql::At;

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::SqliteConnection {}
    impl Sealed for sqlx::PgConnection {}
}

/// A connection an entry can be appended on: `SqliteConnection` or `PgConnection`, typically
/// the `tx` of `extranet_platform::write_tx!`. Sealed: the two are all there is.
pub trait AuditConn: sealed::Sealed + Send {
    #[doc(hidden)]
    fn append_entry<'a>(
        &'a mut self,
        entry: &'a NewEntry,
    ) -> impl Future<Output = Result<Entry>> + Send + 'a;

    #[doc(hidden)]
    fn append_entries<'a>(
        &'a mut self,
        entries: &'a [&'a NewEntry],
    ) -> impl Future<Output = Result<Vec<Entry>>> + Send + 'a;
}

/// Appends `entry` in a transaction shared with the other stand-alone records waiting at the
/// same moment (group commit, [`crate::batch`]), and returns once it is committed.
pub async fn append(db: &Db, entry: &NewEntry) -> Result<Entry> {
    #[cfg(feature = "bench-unaudited")]
    if std::env::var_os("BENCH_UNAUDITED").is_some() {
        entry.validate()?;
        return Ok(Prepared::new(entry)?.into_entry(0, String::new(), String::new()));
    }
    crate::batch::submit(db, entry).await
}

/// Appends `entry` inside the caller's transaction, so that it commits or rolls back with the
/// change it records:
///
/// ```no_run
/// # async fn demo(db: &extranet_platform::Db, account: &str) -> extranet_audit::Result<()> {
/// use extranet_audit::{AuditError, NewEntry, Outcome};
/// let now = time::OffsetDateTime::now_utc();
/// let entry = NewEntry::new(now, "account.deactivate", Outcome::Success).subject("account", account);
/// let res: Result<_, AuditError> = extranet_platform::write_tx!(db, |tx| async {
///     sqlx::query("UPDATE account SET active = FALSE WHERE id = $1")
///         .bind(account)
///         .execute(&mut *tx)
///         .await?;
///     let recorded = extranet_audit::append_in(&mut *tx, &entry).await?;
///     Ok::<_, AuditError>(recorded)
/// }
/// .await)
/// .await;
/// # res.map(|_| ())
/// # }
/// ```
///
/// The transaction must be a write transaction (`write_tx!`: `BEGIN IMMEDIATE` on SQLite) at
/// PostgreSQL's default READ COMMITTED isolation; under REPEATABLE READ or SERIALIZABLE a
/// concurrent append makes this fail with a serialization error. The head row stays locked until
/// the caller commits, so keep such transactions short.
pub async fn append_in<C: AuditConn + ?Sized>(conn: &mut C, entry: &NewEntry) -> Result<Entry> {
    conn.append_entry(entry).await
}

/// An entry checked and put in its stored form, before it has a number.
struct Prepared<'a> {
    entry: &'a NewEntry,
    id: Uuid,
    at: time::OffsetDateTime,
    actor_ip: Option<String>,
    /// Random per entry (a v4 UUID's 122 bits), so that the commitment reveals nothing once
    /// the address and salt are erased.
    actor_ip_salt: Option<String>,
    actor_ip_commit: Option<String>,
    detail: String,
}

impl<'a> Prepared<'a> {
    fn new(entry: &'a NewEntry) -> Result<Prepared<'a>> {
        entry.validate()?;
        let detail = serde_json::to_string(&entry.detail)
            .map_err(|e| AuditError::Invalid(format!("detail cannot be encoded: {e}")))?;
        if detail.len() > MAX_DETAIL {
            return Err(AuditError::Invalid(format!(
                "detail is {} bytes; at most {MAX_DETAIL} are kept",
                detail.len()
            )));
        }
        let actor_ip = entry.actor_ip.map(|ip| ip.to_string());
        let actor_ip_salt = actor_ip
            .as_ref()
            .map(|_| Uuid::new_v4().simple().to_string());
        let actor_ip_commit = match (&actor_ip, &actor_ip_salt) {
            (Some(ip), Some(salt)) => Some(ip_commitment(salt, ip)),
            _ => None,
        };
        Ok(Prepared {
            entry,
            id: Uuid::now_v7(),
            at: normalise_at(entry.at),
            actor_ip,
            actor_ip_salt,
            actor_ip_commit,
            detail,
        })
    }

    fn fields(&self, seq: i64) -> Fields<'_> {
        let e = self.entry;
        Fields {
            version: CURRENT_VERSION,
            seq,
            id: self.id,
            at: self.at,
            actor_id: e.actor_id.as_deref(),
            actor_ip: self.actor_ip.as_deref(),
            actor_ip_commit: self.actor_ip_commit.as_deref(),
            action: &e.action,
            outcome: e.outcome.as_str(),
            subject_type: e.subject_type.as_deref(),
            subject_id: e.subject_id.as_deref(),
            organisation_id: e.organisation_id.as_deref(),
            detail: &self.detail,
        }
    }

    fn into_entry(self, seq: i64, prev_hash: String, hash: String) -> Entry {
        let e = self.entry;
        Entry {
            seq,
            id: self.id,
            at: self.at,
            actor_id: e.actor_id.clone(),
            actor_ip: e.actor_ip,
            action: e.action.clone(),
            outcome: e.outcome,
            subject_type: e.subject_type.clone(),
            subject_id: e.subject_id.clone(),
            organisation_id: e.organisation_id.clone(),
            detail: e.detail.clone(),
            prev_hash,
            hash,
        }
    }
}

const INSERT: &str = concat!(
    "INSERT INTO audit_log (",
    crate::sql::columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
);

macro_rules! impl_audit_conn {
    ($conn:ty) => {
        impl AuditConn for $conn {
            fn append_entry<'a>(
                &'a mut self,
                entry: &'a NewEntry,
            ) -> impl Future<Output = Result<Entry>> + Send + 'a {
                async move {
                    let mut one = self.append_entries(&[entry]).await?;
                    one.pop().ok_or_else(|| AuditError::Damaged("no entry written".into()))
                }
            }

            fn append_entries<'a>(
                &'a mut self,
                entries: &'a [&'a NewEntry],
            ) -> impl Future<Output = Result<Vec<Entry>>> + Send + 'a {
                async move {
                    // Checked before the head is touched: a refused entry uses no number.
                    let prepared = entries
                        .iter()
                        .map(|e| Prepared::new(e))
                        .collect::<Result<Vec<_>>>()?;
                    if prepared.is_empty() {
                        return Ok(Vec::new());
                    }
                    let n = i64::try_from(prepared.len())
                        .map_err(|_| AuditError::Invalid("too many entries".into()))?;
                    let head: Option<(i64, String)> = sqlx::query_as(
                        "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
                    )
                    .bind(n)
                    .fetch_optional(&mut *self)
                    .await?;
                    let (last, mut prev_hash) = head.ok_or_else(|| {
                        AuditError::Damaged("the audit_head row is missing".into())
                    })?;
                    let mut written = Vec::with_capacity(prepared.len());
                    for (i, new) in prepared.into_iter().enumerate() {
                        let seq = last - n + 1 + i as i64;
                        let f = new.fields(seq);
                        let hash = entry_hash(&prev_hash, &f)?;
                        sqlx::query(INSERT)
                            .bind(seq)
                            .bind(f.id)
                            .bind(At(f.at))
                            .bind(f.actor_id)
                            .bind(f.actor_ip)
                            .bind(f.action)
                            .bind(f.outcome)
                            .bind(f.subject_type)
                            .bind(f.subject_id)
                            .bind(f.organisation_id)
                            .bind(f.detail)
                            .bind(&prev_hash)
                            .bind(&hash)
                            .bind(CURRENT_VERSION)
                            .bind(&new.actor_ip_salt)
                            .bind(f.actor_ip_commit)
                            .execute(&mut *self)
                            .await?;
                        tracing::debug!(seq, action = %new.entry.action, "audit entry appended");
                        let p = std::mem::replace(&mut prev_hash, hash.clone());
                        written.push(new.into_entry(seq, p, hash));
                    }
                    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
                        .bind(&prev_hash)
                        .execute(&mut *self)
                        .await?;
                    Ok(written)
                }
            }
        }
    };
}

impl_audit_conn!(sqlx::SqliteConnection);
impl_audit_conn!(sqlx::PgConnection);
