//! Per-person upload limits: how many uploads a person may begin, and how many bytes they may
//! send, in any hour (`uploads_per_hour`, `upload_bytes_per_hour`). Every upload begun leaves a
//! row in `upload_usage` (its bytes renewed while it streams and final when it ends, whether it
//! is published or refused), so the limits hold across instances and restarts; a refusal says
//! when to try again and is recorded in the audit log.
//!
//! Two uploads begun at the same moment on PostgreSQL may both pass the count check (the check
//! and the new row are one transaction, not a lock): a person can exceed the count by the
//! number of uploads they start at once, and each upload's bytes count toward the others' once
//! renewed (every 30 s) or finished.

use std::fmt;
use std::time::Duration;

use extranet_audit::Outcome;
use extranet_directory::Caller;
use extranet_directory::caller::unix_now;
use extranet_platform::on_pool;
use uuid::Uuid;

use crate::error::{DocumentsError, Result};
use crate::service::Documents;

/// The window the limits count over.
pub const WINDOW: Duration = Duration::from_secs(3600);

/// Which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Uploads(u32),
    Bytes(u64),
}

/// A limit reached, and when the person may try again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub limit: Limit,
    pub retry_after: Duration,
}

impl fmt::Display for Reached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limit {
            Limit::Uploads(n) => write!(f, "the limit of {n} uploads an hour is reached"),
            Limit::Bytes(n) => write!(f, "the limit of {n} bytes uploaded an hour is reached"),
        }?;
        write!(f, "; try again in {} s", self.retry_after.as_secs())
    }
}

/// What a person may still send within the hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    /// Bytes left (`None`: no byte limit).
    pub bytes_left: Option<u64>,
    /// When some of the bytes used free up, for a refusal in mid-upload.
    pub bytes_free_in: Duration,
}

/// Judges the uploads a person began in the window (`(started_at, bytes)`, oldest first, Unix
/// seconds) against the limits (0: none).
pub fn judge(
    rows: &[(i64, i64)],
    now: i64,
    uploads_per_hour: u32,
    bytes_per_hour: u64,
) -> std::result::Result<Allowance, Reached> {
    let window = i64::try_from(WINDOW.as_secs()).unwrap_or(3600);
    // When the upload begun at `started` leaves the window, from now.
    let frees = |started: i64| {
        Duration::from_secs(
            u64::try_from(started.saturating_add(window).saturating_sub(now)).unwrap_or(0),
        )
        .max(Duration::from_secs(1))
    };
    let limit = usize::try_from(uploads_per_hour).unwrap_or(usize::MAX);
    if limit > 0 && rows.len() >= limit {
        let oldest_needed = rows[rows.len() - limit].0;
        return Err(Reached {
            limit: Limit::Uploads(uploads_per_hour),
            retry_after: frees(oldest_needed),
        });
    }
    let bytes = |b: i64| u64::try_from(b).unwrap_or(0);
    let used: u64 = rows.iter().map(|r| bytes(r.1)).sum();
    let bytes_free_in = rows.first().map_or(WINDOW, |r| frees(r.0));
    if bytes_per_hour == 0 {
        return Ok(Allowance {
            bytes_left: None,
            bytes_free_in,
        });
    }
    if used >= bytes_per_hour {
        // The first moment enough of the oldest uploads have left the window.
        let mut left = used;
        let mut at = bytes_free_in;
        for (started, b) in rows {
            left -= bytes(*b).min(left);
            at = frees(*started);
            if left < bytes_per_hour {
                break;
            }
        }
        return Err(Reached {
            limit: Limit::Bytes(bytes_per_hour),
            retry_after: at,
        });
    }
    Ok(Allowance {
        bytes_left: Some(bytes_per_hour - used),
        bytes_free_in,
    })
}

impl Documents {
    /// What the caller may still upload this hour; over a limit, the refusal is recorded and
    /// answered with when to try again. Handlers call it before reading a body;
    /// [`Documents::begin_upload`] again, authoritatively.
    pub async fn check_upload_limit(&self, caller: &Caller) -> Result<Allowance> {
        let s = &self.settings;
        if s.uploads_per_hour == 0 && s.upload_bytes_per_hour == 0 {
            return Ok(Allowance {
                bytes_left: None,
                bytes_free_in: WINDOW,
            });
        }
        let now = unix_now(self.clock());
        let since = now - i64::try_from(WINDOW.as_secs()).unwrap_or(3600);
        let rows: Vec<(i64, i64)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT started_at, bytes FROM upload_usage WHERE person_id = $1 AND started_at > $2 \
                 ORDER BY started_at",
            )
            .bind(caller.person)
            .bind(since)
            .fetch_all(pool)
            .await
        })?;
        match judge(&rows, now, s.uploads_per_hour, s.upload_bytes_per_hour) {
            Ok(allowance) => Ok(allowance),
            Err(reached) => Err(self.refuse_over_limit(caller, reached).await),
        }
    }

    /// Records a refusal for a reached limit and turns it into the error to answer with.
    pub(crate) async fn refuse_over_limit(
        &self,
        caller: &Caller,
        reached: Reached,
    ) -> DocumentsError {
        let (limit, value) = match reached.limit {
            Limit::Uploads(n) => ("uploads_per_hour", u64::from(n)),
            Limit::Bytes(n) => ("upload_bytes_per_hour", n),
        };
        let entry = caller
            .entry(self.clock(), "document.upload", Outcome::Denied)
            .subject("person", caller.person)
            .organisation(caller.organisation)
            .detail(serde_json::json!({
                "reason": "hourly upload limit",
                "limit": limit,
                "value": value,
                "retry_after_secs": reached.retry_after.as_secs(),
            }));
        if let Err(e) = extranet_audit::append(self.db(), &entry).await {
            tracing::error!(error = %e, "refused upload not recorded in the audit log");
        }
        DocumentsError::LimitReached(reached)
    }

    /// Removes usage rows that have left the window (the collector's).
    pub(crate) async fn forget_old_usage(&self) -> Result<u64> {
        let before = unix_now(self.clock()) - i64::try_from(WINDOW.as_secs()).unwrap_or(3600);
        Ok(on_pool!(self.db(), write, |pool| {
            sqlx::query("DELETE FROM upload_usage WHERE started_at <= $1")
                .bind(before)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?)
    }
}

/// Renews an upload's bytes in its usage row (best effort: the row only feeds the limits).
pub(crate) async fn record_bytes(db: &extranet_platform::Db, id: Uuid, bytes: u64) {
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    let res = on_pool!(db, write, |pool| {
        sqlx::query("UPDATE upload_usage SET bytes = $1 WHERE id = $2")
            .bind(bytes)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    });
    if let Err(e) = res {
        tracing::warn!(error = %extranet_platform::error::concise(&e), "upload usage not renewed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 100_000;

    #[test]
    fn the_count_limit_frees_when_the_oldest_needed_upload_leaves_the_hour() {
        let rows = [(NOW - 3000, 10), (NOW - 2000, 10), (NOW - 1000, 10)];
        let r = judge(&rows, NOW, 3, 0).unwrap_err();
        assert_eq!(r.limit, Limit::Uploads(3));
        assert_eq!(r.retry_after, Duration::from_secs(600));
        let r = judge(&rows, NOW, 2, 0).unwrap_err();
        assert_eq!(r.retry_after, Duration::from_secs(1600));
        assert!(judge(&rows, NOW, 4, 0).is_ok());
        assert!(judge(&rows, NOW, 0, 0).is_ok(), "0 is no limit");
    }

    #[test]
    fn the_byte_limit_says_what_is_left_and_when_enough_frees() {
        let rows = [(NOW - 3000, 60), (NOW - 2000, 30), (NOW - 1000, 30)];
        let ok = judge(&rows, NOW, 0, 200).unwrap();
        assert_eq!(ok.bytes_left, Some(80));
        assert_eq!(ok.bytes_free_in, Duration::from_secs(600));
        let r = judge(&rows, NOW, 0, 100).unwrap_err();
        assert_eq!(r.limit, Limit::Bytes(100));
        // 120 used: once the first 60 leave, 60 < 100.
        assert_eq!(r.retry_after, Duration::from_secs(600));
        let r = judge(&rows, NOW, 0, 50).unwrap_err();
        // 120 → 60 → 30 < 50: after the second leaves.
        assert_eq!(r.retry_after, Duration::from_secs(1600));
        assert_eq!(
            judge(&[], NOW, 5, 100).unwrap(),
            Allowance {
                bytes_left: Some(100),
                bytes_free_in: WINDOW
            }
        );
        assert!(r.to_string().contains("try again in 1600 s"), "{r}");
    }
}
