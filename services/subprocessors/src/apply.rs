//! The job that applies published notices on their date, exactly once: the notice moves from
//! `published` to `applied` by a conditional update in the transaction that changes the
//! register, so of two instances on one database only the one whose update took the row goes
//! on; the other's update finds it applied and changes nothing.

use std::sync::Arc;

use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{on_pool, write_tx};
use sqlx::AssertSqlSafe;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::entry::Snapshot;
use crate::error::{Result, SubprocessorsError};
use crate::notices::{NOTICE_SELECT, NoticeRow};
use crate::service::{OnOpenObjections, Subprocessors};
use crate::store::Conn;

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Run {
    pub applied: Vec<Uuid>,
    /// Due, but waiting for objections to be decided.
    pub waiting: Vec<Uuid>,
}

impl Subprocessors {
    /// Applies every published notice whose date has come, except those that wait for
    /// objections to be decided.
    pub async fn apply_due(&self) -> Result<Run> {
        let now = self.clock().now().unix_timestamp();
        let due: Vec<NoticeRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "{NOTICE_SELECT} WHERE n.state = 'published' AND n.effective_at <= $1 \
                 ORDER BY n.effective_at, n.id"
            )))
            .bind(now)
            .fetch_all(pool)
            .await
        })?;
        let mut run = Run::default();
        for r in due {
            if self.is_waiting(&r, now) {
                run.waiting.push(r.id);
                continue;
            }
            if self.apply_one(&r, now).await? {
                run.applied.push(r.id);
                // The public list changed: the next reader reads it afresh.
                self.public.store(None);
            }
        }
        Ok(run)
    }

    /// Applies one notice; false when another instance did, or an objection was lodged and
    /// the installation waits for decisions.
    async fn apply_one(&self, r: &NoticeRow, now: i64) -> Result<bool> {
        let wait = self.settings.on_open_objections == OnOpenObjections::Wait;
        let proposal = r.proposal()?;
        let audit = NewEntry::new(
            self.clock().now(),
            "subprocessor.notice.apply",
            Outcome::Success,
        )
        .subject("notice", r.id)
        .detail(serde_json::json!({ "kind": r.kind }));
        let applied = crate::tx(
            write_tx!(self.db(), |tx| async {
                let n = sqlx::query(
                    "UPDATE subprocessor_notice SET state = 'applied', applied_at = $1 \
                     WHERE id = $2 AND state = 'published' AND effective_at <= $1",
                )
                .bind(now)
                .bind(r.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Ok(false);
                }
                if wait {
                    let open: Option<(Uuid,)> = sqlx::query_as(
                        "SELECT id FROM subprocessor_objection WHERE notice_id = $1 \
                         AND state = 'open'",
                    )
                    .bind(r.id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if open.is_some() {
                        return Err(SubprocessorsError::Conflict("waiting".into()));
                    }
                }
                match r.kind.as_str() {
                    "add" | "replace" => {
                        if let Some(new_id) = r.new_entry_id
                            && let Some(mut s) = tx.entry_snapshot(new_id).await?
                        {
                            s.state = "active".into();
                            tx.update_entry(new_id, &s, now).await?;
                            tx.record_change(new_id, now, "activated", Some(r.id), None, &s)
                                .await?;
                        }
                        if r.kind == "replace"
                            && let Some(old) = r.subprocessor_id
                        {
                            retire(&mut *tx, old, now, r.id).await?;
                        }
                    }
                    "remove" => {
                        if let Some(old) = r.subprocessor_id {
                            retire(&mut *tx, old, now, r.id).await?;
                        }
                    }
                    _ => {
                        if let (Some(id), Some(entry)) = (r.subprocessor_id, &proposal) {
                            let s = Snapshot {
                                entry: entry.clone(),
                                state: "active".into(),
                            };
                            tx.update_entry(id, &s, now).await?;
                            tx.record_change(id, now, "changed", Some(r.id), None, &s)
                                .await?;
                        }
                    }
                }
                extranet_audit::append_in(&mut *tx, &audit).await?;
                Ok::<bool, SubprocessorsError>(true)
            }
            .await)
            .await,
        );
        match applied {
            Err(SubprocessorsError::Conflict(m)) if m == "waiting" => Ok(false),
            other => other,
        }
    }

    /// Runs [`Self::apply_due`] every `apply_every` until shutdown.
    pub fn spawn_applier(self: Arc<Self>, shutdown: CancellationToken) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(self.settings.apply_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tick.tick() => {}
                }
                match self.apply_due().await {
                    Ok(run) if !run.applied.is_empty() => {
                        tracing::info!(applied = run.applied.len(), "subprocessor notices applied");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "applying subprocessor notices failed"),
                }
            }
        });
    }
}

async fn retire<C: Conn + ?Sized>(tx: &mut C, id: Uuid, now: i64, notice: Uuid) -> Result<()> {
    if let Some(mut s) = tx.entry_snapshot(id).await? {
        s.state = "retired".into();
        tx.update_entry(id, &s, now).await?;
        tx.record_change(id, now, "retired", Some(notice), None, &s)
            .await?;
    }
    Ok(())
}
