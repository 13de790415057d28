//! Installation-wide settings kept in the database (`instance_setting`).

use crate::clock::Clock;
use crate::db::Db;
use crate::error::{PlatformError, Result};

pub async fn get(db: &Db, key: &str) -> Result<Option<String>> {
    crate::on_pool!(db, read, |pool| {
        sqlx::query_scalar::<_, String>("SELECT value FROM instance_setting WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await
    })
    .map_err(PlatformError::query)
}

pub async fn set(db: &Db, clock: &dyn Clock, key: &str, value: &str) -> Result<()> {
    let now = clock.now();
    crate::on_pool!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO instance_setting (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
    .map_err(PlatformError::query)
}

/// Sets `key` only if it is absent, atomically; returns whether this call set it. Used so that
/// two instances starting at once load demo data exactly once.
pub async fn set_if_absent(db: &Db, clock: &dyn Clock, key: &str, value: &str) -> Result<bool> {
    let now = clock.now();
    let inserted: Result<u64, sqlx::Error> = crate::write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO instance_setting (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .bind(now)
        .execute(tx)
        .await
        .map(|r| r.rows_affected())
    })
    .await;
    inserted.map(|n| n == 1).map_err(PlatformError::query)
}
