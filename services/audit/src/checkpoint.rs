//! Checkpoints: the log's head (its number of entries and last hash) signed by the
//! installation (the binary signs; see `extranet audit checkpoint`) and kept — here, and above
//! all outside the database. [`crate::verify_checkpoint`] proves a log still holds what a
//! checkpoint recorded.

use extranet_platform::{Db, on_pool};
use time::OffsetDateTime;

use crate::error::Result;

/// Stores a signed checkpoint.
pub async fn store(db: &Db, seq: i64, hash: &str, at: OffsetDateTime, jws: &str) -> Result<()> {
    on_pool!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO audit_checkpoint (seq, hash, created_at, jws) VALUES ($1, $2, $3, $4)",
        )
        .bind(seq)
        .bind(hash)
        .bind(at.unix_timestamp())
        .bind(jws)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

/// The newest stored checkpoint's JWS, if any.
pub async fn latest(db: &Db) -> Result<Option<String>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT jws FROM audit_checkpoint ORDER BY seq DESC, created_at DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await
    })?)
}
