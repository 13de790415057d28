//! The collector: removes what interrupted uploads left behind.
//!
//! 1. Upload intents not touched for `stale_after` (the process that owned them died, or the
//!    client stopped sending) are claimed (`touched_at = -1`, so a late publish fails), their
//!    object and multipart leftovers removed, then the intent deleted.
//! 2. Objects under `documents/` older than `stale_after` that no version and no intent names
//!    are deleted (a safety net: nothing should produce them).
//! 3. Upload usage older than the upload limits' hour is forgotten.
//!
//! Every instance runs it; the claim is a conditional update, so two instances never work on
//! the same intent at once, and every step is idempotent.

use std::collections::HashSet;
use std::sync::Arc;

use extranet_platform::on_pool;
use futures::TryStreamExt;
use sqlx::AssertSqlSafe;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::Result;
use crate::service::Documents;

/// What one run removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub uploads: usize,
    pub orphans: usize,
}

const BATCH: usize = 500;

impl Documents {
    pub async fn collect(&self) -> Result<Collected> {
        let mut done = Collected::default();
        let now = self.clock().now();
        let stale = i64::try_from(self.settings.stale_after.as_secs()).unwrap_or(i64::MAX);
        let cutoff = now.unix_timestamp().saturating_sub(stale);
        let stale_intents: Vec<(Uuid, String, Option<String>)> = on_pool!(
            self.db(),
            read,
            |pool| {
                sqlx::query_as(
                    "SELECT id, object_key, multipart_id FROM document_upload WHERE touched_at < $1",
                )
                .bind(cutoff)
                .fetch_all(pool)
                .await
            }
        )?;
        for (id, key, multipart) in stale_intents {
            let claimed = on_pool!(self.db(), write, |pool| {
                sqlx::query(
                    "UPDATE document_upload SET touched_at = -1 WHERE id = $1 AND touched_at < $2",
                )
                .bind(id)
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            })?;
            if claimed != 1 {
                continue;
            }
            self.objects.discard(&key, multipart.as_deref()).await?;
            on_pool!(self.db(), write, |pool| {
                sqlx::query("DELETE FROM document_upload WHERE id = $1")
                    .bind(id)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })?;
            done.uploads += 1;
        }

        let before = now - self.settings.stale_after;
        let mut listed = self.objects.list_older("documents", before);
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let next = listed.try_next().await?;
            let end = next.is_none();
            if let Some(key) = next {
                batch.push(key);
            }
            if batch.len() == BATCH || (end && !batch.is_empty()) {
                done.orphans += self.remove_unreferenced(std::mem::take(&mut batch)).await?;
            }
            if end {
                break;
            }
        }
        self.forget_old_usage().await?;
        if done != Collected::default() {
            tracing::info!(
                uploads = done.uploads,
                orphans = done.orphans,
                "collected leftovers of interrupted uploads"
            );
        }
        Ok(done)
    }

    async fn remove_unreferenced(&self, keys: Vec<String>) -> Result<usize> {
        let marks = (1..=keys.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT object_key FROM document_version WHERE object_key IN ({marks}) \
             UNION SELECT object_key FROM document_upload WHERE object_key IN ({marks})"
        );
        let known: Vec<String> = on_pool!(self.db(), read, |pool| {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql.as_str()));
            for k in &keys {
                q = q.bind(k);
            }
            q.fetch_all(pool).await
        })?;
        let known: HashSet<String> = known.into_iter().collect();
        let mut removed = 0;
        for key in keys.iter().filter(|k| !known.contains(*k)) {
            self.objects.delete(key).await?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Runs the collector now and then every `collect_every`, until `shutdown` fires.
    pub fn spawn_collector(
        self: Arc<Self>,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.settings.collect_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = self.collect().await {
                            tracing::warn!(error = %e, "collecting upload leftovers failed; retrying later");
                        }
                    }
                    () = shutdown.cancelled() => break,
                }
            }
        })
    }
}
