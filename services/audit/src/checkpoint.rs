//! Checkpoints: the log's head (its number of entries and last hash) signed by the
//! installation (the binary signs; see `extranet audit checkpoint`) and kept — here, and above
//! all outside the database. [`crate::verify_checkpoint`] proves a log still holds what a
//! checkpoint recorded.

use extranet_platform::{Db, on_pool};
use time::OffsetDateTime;

use crate::error::Result;

/// Stores a signed checkpoint. With `mail_slot`, it also claims that period's mail to the
/// privacy coordinator: `true` when this checkpoint is the one to mail, `false` when another
/// (from this instance or another) already has the period.
pub async fn store(
    db: &Db,
    seq: i64,
    hash: &str,
    at: OffsetDateTime,
    jws: &str,
    mail_slot: Option<i64>,
) -> Result<bool> {
    let insert = |slot: Option<i64>| async move {
        on_pool!(db, write, |pool| {
            sqlx::query(
                "INSERT INTO audit_checkpoint (seq, hash, created_at, jws, mail_slot) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(seq)
            .bind(hash)
            .bind(at.unix_timestamp())
            .bind(jws)
            .bind(slot)
            .execute(pool)
            .await
            .map(|_| ())
        })
    };
    match insert(mail_slot).await {
        Ok(()) => Ok(mail_slot.is_some()),
        Err(sqlx::Error::Database(e)) if mail_slot.is_some() && e.is_unique_violation() => {
            insert(None).await?;
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Gives a period's mail back (its message could not be queued), so that the next checkpoint
/// in the period mails instead.
pub async fn release_mail(db: &Db, mail_slot: i64) -> Result<()> {
    on_pool!(db, write, |pool| {
        sqlx::query("UPDATE audit_checkpoint SET mail_slot = NULL WHERE mail_slot = $1")
            .bind(mail_slot)
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
