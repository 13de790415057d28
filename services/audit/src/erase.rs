//! Erasing old client addresses (the retention schedule's `audit_addresses`): the address and
//! its salt are emptied; the commitment that version 2 hashes stays, so the chain verifies.
//! Entries written under version 1 hashed the address itself and keep it.

use extranet_platform::{Db, on_pool};
use time::OffsetDateTime;

use crate::error::Result;
use crate::sql::At;

/// Addresses recorded before `before`: (erasable, kept because written under version 1).
pub async fn count_addresses(db: &Db, before: OffsetDateTime) -> Result<(u64, u64)> {
    let (erasable, kept): (i64, i64) = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT \
               COALESCE(SUM(CASE WHEN hash_version >= 2 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN hash_version < 2 THEN 1 ELSE 0 END), 0) \
             FROM audit_log WHERE actor_ip IS NOT NULL AND at < $1",
        )
        .bind(At(before))
        .fetch_one(pool)
        .await
    })?;
    Ok((erasable.max(0) as u64, kept.max(0) as u64))
}

/// A connection old addresses can be erased on, inside the caller's transaction (the `tx` of
/// `extranet_platform::write_tx!`): `SqliteConnection` or `PgConnection`.
pub trait EraseConn: Send {
    /// Erases at most `limit` addresses recorded before `before`, oldest first; returns how
    /// many.
    fn erase_addresses(
        &mut self,
        before: OffsetDateTime,
        limit: i64,
    ) -> impl std::future::Future<Output = Result<u64>> + Send;
}

macro_rules! impl_erase {
    ($conn:ty) => {
        impl EraseConn for $conn {
            async fn erase_addresses(&mut self, before: OffsetDateTime, limit: i64) -> Result<u64> {
                let done = sqlx::query(
                    "UPDATE audit_log SET actor_ip = NULL, actor_ip_salt = NULL WHERE seq IN \
                     (SELECT seq FROM audit_log \
                      WHERE hash_version >= 2 AND actor_ip IS NOT NULL AND at < $1 \
                      ORDER BY seq LIMIT $2)",
                )
                .bind(At(before))
                .bind(limit)
                .execute(&mut *self)
                .await?;
                Ok(done.rows_affected())
            }
        }
    };
}

impl_erase!(sqlx::SqliteConnection);
impl_erase!(sqlx::PgConnection);
