//! The collector: removes what interrupted uploads left behind.
//!
//! 1. Upload intents not touched for `stale_after` (the process that owned them died, or the
//!    client stopped sending) are claimed (`touched_at = -1`, so a late publish fails), their
//!    object and multipart leftovers removed, then the intent deleted.
//! 2. Objects under `documents/` older than `stale_after` that no version and no intent names
//!    are deleted (a safety net: nothing should produce them).
//! 3. Upload usage older than the upload limits' hour is forgotten.
//!
//! Every instance runs it. The claim is a conditional update that also leases the intent
//! (`collect_retry_at`), so two instances never work on the same intent at once, and every step
//! is idempotent.
//!
//! One item that cannot be settled never holds up the others: the round goes on past it. An
//! intent that fails is tried again after a pause that doubles with each failure
//! (`collect_failures`, `collect_retry_at`: it survives restarts and is shared by the
//! instances); an orphan object that cannot be deleted, the same, in this process's memory (it
//! has no row). Both are counted in `/metrics` (`upload_collector_failures_total`, and the
//! gauges `upload_collector_intents_backed_off` and `upload_collector_orphans_backed_off`) and
//! logged with the intent's id or the object's key — random values, never personal data.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use extranet_platform::on_pool;
use futures::TryStreamExt;
use sqlx::AssertSqlSafe;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::{DocumentsError, Result};
use crate::service::Documents;

/// What one run removed, and how many items it could not settle this time.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Collected {
    pub uploads: usize,
    pub orphans: usize,
    pub failures: usize,
}

const BATCH: usize = 500;

/// The longest pause between two tries of an item that keeps failing: long enough not to
/// flood the log, short enough that a fixed cause is noticed the same day.
const MAX_BACKOFF: Duration = Duration::from_secs(6 * 3600);

/// The pause after `failures` failures in a row: the collector's period, doubled with each
/// failure after the first, at most [`MAX_BACKOFF`] (and never less than one period).
fn backoff(every: Duration, failures: u32) -> Duration {
    let doubled = every.saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    doubled.min(MAX_BACKOFF).max(every)
}

/// An orphan object whose deletion failed: when it may be tried again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OrphanRetry {
    failures: u32,
    next: i64,
    /// Listed in the current sweep (entries of objects gone meanwhile are dropped after it).
    seen: bool,
}

/// An intent due for collection: id, object key, multipart id, failures so far.
type DueIntent = (Uuid, String, Option<String>, i32);

pub(crate) type OrphanRetries = std::sync::Mutex<HashMap<String, OrphanRetry>>;

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Counts a failed item and says so, with what identifies it (an id or a random key).
fn failed(
    item: &'static str,
    what: &str,
    failures: u32,
    retry_in: Option<Duration>,
    e: &DocumentsError,
) {
    metrics::counter!("upload_collector_failures_total", "item" => item).increment(1);
    match retry_in {
        Some(pause) => tracing::warn!(
            item,
            id = what,
            failures,
            retry_in_secs = pause.as_secs(),
            error = %e,
            "upload collector: item not settled; retrying after a pause"
        ),
        None => {
            tracing::warn!(item, id = what, error = %e, "upload collector: step failed; retrying next round")
        }
    }
}

impl Documents {
    /// One round. Never stops at a failing item: what fails is counted in `failures`, logged,
    /// and tried again later.
    pub async fn collect(&self) -> Collected {
        let mut done = Collected::default();
        self.collect_intents(&mut done).await;
        self.sweep_orphans(&mut done).await;
        if let Err(e) = self.forget_old_usage().await {
            done.failures += 1;
            failed("usage", "-", 1, None, &e);
        }
        if done.uploads + done.orphans > 0 {
            tracing::info!(
                uploads = done.uploads,
                orphans = done.orphans,
                "collected leftovers of interrupted uploads"
            );
        }
        done
    }

    async fn collect_intents(&self, done: &mut Collected) {
        let now = self.clock().now().unix_timestamp();
        let cutoff = now.saturating_sub(secs(self.settings.stale_after));
        let due: Result<Vec<DueIntent>> =
            on_pool!(self.db(), read, |pool| {
                sqlx::query_as(
                    "SELECT id, object_key, multipart_id, collect_failures FROM document_upload \
                     WHERE touched_at < $1 AND (collect_retry_at IS NULL OR collect_retry_at <= $2)",
                )
                .bind(cutoff)
                .bind(now)
                .fetch_all(pool)
                .await
            })
            .map_err(Into::into);
        match due {
            Ok(due) => {
                for (id, key, multipart, failures) in due {
                    match self
                        .collect_intent(id, &key, multipart.as_deref(), now, cutoff)
                        .await
                    {
                        Ok(true) => {
                            done.uploads += 1;
                            metrics::counter!("upload_collector_removed_total", "item" => "intent")
                                .increment(1);
                        }
                        Ok(false) => {}
                        Err(e) => {
                            done.failures += 1;
                            let failures = u32::try_from(failures).unwrap_or(0).saturating_add(1);
                            self.intent_failed(id, failures, now, &e).await;
                        }
                    }
                }
            }
            Err(e) => {
                done.failures += 1;
                failed("intents", "-", 1, None, &e);
            }
        }
        let backed_off: Result<i64> = on_pool!(self.db(), read, |pool| {
            sqlx::query_scalar("SELECT COUNT(*) FROM document_upload WHERE collect_failures > 0")
                .fetch_one(pool)
                .await
        })
        .map_err(Into::into);
        if let Ok(n) = backed_off {
            metrics::gauge!("upload_collector_intents_backed_off").set(n as f64);
        }
    }

    /// Claims, cleans up and deletes one intent; `false` when another instance has it.
    async fn collect_intent(
        &self,
        id: Uuid,
        key: &str,
        multipart: Option<&str>,
        now: i64,
        cutoff: i64,
    ) -> Result<bool> {
        // The lease: should this process die mid-way, another instance takes over after it.
        let lease = now.saturating_add(secs(self.settings.stale_after));
        let claimed = on_pool!(self.db(), write, |pool| {
            sqlx::query(
                "UPDATE document_upload SET touched_at = -1, collect_retry_at = $3 \
                 WHERE id = $1 AND touched_at < $2 \
                 AND (collect_retry_at IS NULL OR collect_retry_at <= $4)",
            )
            .bind(id)
            .bind(cutoff)
            .bind(lease)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if claimed != 1 {
            return Ok(false);
        }
        self.objects.discard(key, multipart).await?;
        on_pool!(self.db(), write, |pool| {
            sqlx::query("DELETE FROM document_upload WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(true)
    }

    /// Records a failure of an intent we hold (claimed, so no one else writes it) and when to
    /// try it again.
    async fn intent_failed(&self, id: Uuid, failures: u32, now: i64, e: &DocumentsError) {
        let pause = backoff(self.settings.collect_every, failures);
        failed("intent", &id.to_string(), failures, Some(pause), e);
        let res = on_pool!(self.db(), write, |pool| {
            sqlx::query(
                "UPDATE document_upload SET collect_failures = $1, collect_retry_at = $2 WHERE id = $3",
            )
            .bind(i32::try_from(failures).unwrap_or(i32::MAX))
            .bind(now.saturating_add(secs(pause)))
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        });
        if let Err(e) = res {
            // The claim's lease still holds it back until `stale_after` has passed.
            tracing::warn!(intent = %id, error = %extranet_platform::error::concise(&e), "upload collector: failure not recorded");
        }
    }

    async fn sweep_orphans(&self, done: &mut Collected) {
        let now = self.clock().now();
        let before = now - self.settings.stale_after;
        let mut listed = self.objects.list_older("documents", before);
        let mut batch = Vec::with_capacity(BATCH);
        let mut complete = true;
        loop {
            let next = match listed.try_next().await {
                Ok(next) => next,
                Err(e) => {
                    // A listing cannot be resumed mid-way: what it did list is still handled.
                    done.failures += 1;
                    failed("listing", "documents/", 1, None, &e.into());
                    complete = false;
                    None
                }
            };
            let end = next.is_none();
            if let Some(key) = next {
                batch.push(key);
            }
            if batch.len() == BATCH || (end && !batch.is_empty()) {
                self.remove_unreferenced(std::mem::take(&mut batch), now.unix_timestamp(), done)
                    .await;
            }
            if end {
                break;
            }
        }
        let mut retries = self
            .orphan_retries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if complete {
            retries.retain(|_, r| std::mem::replace(&mut r.seen, false));
        }
        metrics::gauge!("upload_collector_orphans_backed_off").set(retries.len() as f64);
    }

    async fn remove_unreferenced(&self, keys: Vec<String>, now: i64, done: &mut Collected) {
        let known = match self.referenced(&keys).await {
            Ok(known) => known,
            Err(e) => {
                done.failures += 1;
                failed("orphans", "-", 1, None, &e);
                return;
            }
        };
        for key in keys.iter().filter(|k| !known.contains(*k)) {
            let waiting = {
                let mut retries = self
                    .orphan_retries
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                retries.get_mut(key).map(|r| {
                    r.seen = true;
                    (r.failures, r.next > now)
                })
            };
            if let Some((_, true)) = waiting {
                continue;
            }
            let res = self.objects.delete(key).await;
            let mut retries = self
                .orphan_retries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match res {
                Ok(()) => {
                    retries.remove(key);
                    done.orphans += 1;
                    metrics::counter!("upload_collector_removed_total", "item" => "orphan")
                        .increment(1);
                }
                Err(e) => {
                    done.failures += 1;
                    let failures = waiting.map_or(0, |(f, _)| f).saturating_add(1);
                    let pause = backoff(self.settings.collect_every, failures);
                    retries.insert(
                        key.clone(),
                        OrphanRetry {
                            failures,
                            next: now.saturating_add(secs(pause)),
                            seen: true,
                        },
                    );
                    drop(retries);
                    failed("orphan", key, failures, Some(pause), &e.into());
                }
            }
        }
    }

    /// Which of `keys` a version or an intent names.
    async fn referenced(&self, keys: &[String]) -> Result<HashSet<String>> {
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
            for k in keys {
                q = q.bind(k);
            }
            q.fetch_all(pool).await
        })?;
        Ok(known.into_iter().collect())
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
                        self.collect().await;
                    }
                    () = shutdown.cancelled() => break,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let every = Duration::from_secs(600);
        assert_eq!(backoff(every, 1), every);
        assert_eq!(backoff(every, 2), every * 2);
        assert_eq!(backoff(every, 4), every * 8);
        assert_eq!(backoff(every, 6), every * 32);
        assert_eq!(backoff(every, 7), MAX_BACKOFF);
        assert_eq!(backoff(every, u32::MAX), MAX_BACKOFF);
        let daily = Duration::from_secs(86_400);
        assert_eq!(backoff(daily, 3), daily);
    }
}
