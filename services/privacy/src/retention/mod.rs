//! The retention job: carries out the register's retention schedule.
//!
//! A run counts every cut-off from one instant (`as_of`, stored with the run), then works rule
//! by rule in batches; each batch deletes or anonymises and adds to the run's counts in one
//! transaction, so an interrupted run (kill -9) resumes from its row with the same instant and
//! neither redoes nor double-counts anything. Objects are removed before their rows: a crash in
//! between leaves a soft-deleted row whose object is gone, which the resumed run finishes; never
//! an object without its row. At the end, one audit record with the counts per rule.
//!
//! The daily run is claimed by inserting the day's row (unique): one instance runs it. A run
//! whose heartbeat stopped for [`STALE_SECS`] is taken over by the next instance that looks.

pub(crate) mod anonymise;
pub mod holds;
pub(crate) mod targets;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use extranet_audit::erase::{EraseConn, count_addresses};
use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{on_pool, write_tx};
use serde::Serialize;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::{PrivacyError, Result};
use crate::register::{Action, Rule, Target};
use crate::service::Privacy;
use targets::{Progress, sources};

/// A run not heard from for this long is taken over.
pub const STALE_SECS: i64 = 600;

/// One rule in a plan or a run.
#[derive(Debug, Clone, Serialize)]
pub struct RuleLine {
    pub rule: String,
    pub applies_to: &'static str,
    pub after: String,
    pub action: &'static str,
    /// Records before this instant are past the rule.
    pub cutoff: String,
    /// Past the rule and not held: what the run deletes or anonymises.
    pub due: u64,
    /// Past the rule but kept by a legal hold.
    pub held: u64,
    /// Past the rule but kept for another reason (audit entries hashed under version 1).
    pub kept: u64,
}

/// What the next run would do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub as_of: String,
    pub rules: Vec<RuleLine>,
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run: Uuid,
    pub as_of: String,
    pub resumed: bool,
    /// Records deleted or anonymised, per rule id.
    pub counts: BTreeMap<String, u64>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn action_word(a: &Action) -> &'static str {
    match a {
        Action::Delete => "delete",
        Action::Anonymise { .. } => "anonymise",
    }
}

/// The run row's writes inside a batch's transaction, on either engine.
pub(crate) trait RunConn: Send {
    fn set_progress(
        &mut self,
        run: Uuid,
        counts: &str,
        now: i64,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
}

macro_rules! impl_run_conn {
    ($conn:ty) => {
        impl RunConn for $conn {
            async fn set_progress(&mut self, run: Uuid, counts: &str, now: i64) -> Result<()> {
                sqlx::query(
                    "UPDATE retention_run SET counts = $1, heartbeat_at = $2 WHERE id = $3",
                )
                .bind(counts)
                .bind(now)
                .bind(run)
                .execute(&mut *self)
                .await?;
                Ok(())
            }
        }
    };
}

impl_run_conn!(sqlx::SqliteConnection);
impl_run_conn!(sqlx::PgConnection);

/// A past or running run, as the pages list them.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub id: Uuid,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub daily: bool,
    pub records: u64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    as_of: i64,
    heartbeat_at: i64,
    counts: String,
}

impl Privacy {
    /// What a run now would do, rule by rule; changes nothing.
    pub async fn retention_plan(&self) -> Result<Plan> {
        let as_of = self.clock().now();
        let register = self.register();
        let mut rules = Vec::new();
        for rule in &register.rules {
            let cutoff = rule.after.before(as_of);
            let (mut due, mut held, mut kept) = (0, 0, 0);
            match rule.target {
                Target::AuditAddresses => {
                    (due, kept) = count_addresses(self.db(), cutoff).await?;
                }
                Target::External => {}
                t => {
                    let (srcs, cut) = sources(t, cutoff);
                    for s in &srcs {
                        let (d, h) = targets::count(self.db(), s, cut).await?;
                        due += d;
                        held += h;
                    }
                }
            }
            rules.push(RuleLine {
                rule: rule.id.clone(),
                applies_to: rule.target.as_str(),
                after: rule.after.to_string(),
                action: action_word(&rule.action),
                cutoff: rfc3339(cutoff),
                due,
                held,
                kept,
            });
        }
        Ok(Plan {
            as_of: rfc3339(as_of),
            rules,
        })
    }

    /// The latest runs, newest first.
    pub async fn recent_runs(&self, limit: i64) -> Result<Vec<RunSummary>> {
        // (id, started, finished, day, counts)
        type Row = (Uuid, i64, Option<i64>, Option<String>, String);
        let rows: Vec<Row> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT id, started_at, finished_at, day, counts FROM retention_run \
                     ORDER BY started_at DESC, id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, started_at, finished_at, day, counts)| RunSummary {
                id,
                started_at,
                finished_at,
                daily: day.is_some(),
                records: serde_json::from_str::<BTreeMap<String, u64>>(&counts)
                    .map(|m| m.values().sum())
                    .unwrap_or(0),
            })
            .collect())
    }

    /// Runs the schedule now (`extranet retention run`): first finishes an interrupted run, if
    /// any, then runs afresh. Refused while another instance's run is alive.
    pub async fn retention_run(&self) -> Result<Vec<RunReport>> {
        let mut reports = Vec::new();
        let now = self.clock().now().unix_timestamp();
        for row in self.unfinished().await? {
            if now - row.heartbeat_at < STALE_SECS {
                return Err(PrivacyError::Conflict(format!(
                    "a retention run started at {} is in progress; try again later",
                    row.as_of
                )));
            }
            if let Some(r) = self.take_over(row).await? {
                reports.push(r);
            }
        }
        let row = self.start(None).await?;
        if let Some(row) = row {
            reports.push(self.execute(row, false).await?);
        }
        Ok(reports)
    }

    /// The daily run: claimed by whichever instance inserts today's row first; also takes over
    /// a run whose instance died. `None` when there was nothing for this instance to do.
    pub async fn retention_daily(&self) -> Result<Option<RunReport>> {
        let now = self.clock().now().unix_timestamp();
        for row in self.unfinished().await? {
            if now - row.heartbeat_at >= STALE_SECS {
                return self.take_over(row).await;
            }
        }
        let day = self.clock().now().date().to_string();
        match self.start(Some(day)).await? {
            Some(row) => Ok(Some(self.execute(row, false).await?)),
            None => Ok(None),
        }
    }

    /// Every `every`, the daily run (once a day across instances).
    pub fn spawn_retention(self: Arc<Self>, every: Duration, shutdown: CancellationToken) {
        tokio::spawn(async move {
            loop {
                match self.retention_daily().await {
                    Ok(Some(r)) => tracing::info!(run = %r.run, "retention run finished"),
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "retention run failed; retried later"),
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        });
    }

    async fn holds_in_force(&self) -> Result<bool> {
        let n: (i64,) = on_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT COUNT(*) FROM privacy_hold WHERE lifted_at IS NULL")
                .fetch_one(pool)
                .await
        })?;
        Ok(n.0 > 0)
    }

    async fn unfinished(&self) -> Result<Vec<RunRow>> {
        let rows: Vec<RunRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT id, as_of, heartbeat_at, counts FROM retention_run \
                 WHERE finished_at IS NULL ORDER BY started_at",
            )
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Claims a stale run (only one claimant's conditional update matches) and finishes it.
    async fn take_over(&self, row: RunRow) -> Result<Option<RunReport>> {
        let now = self.clock().now().unix_timestamp();
        let claimed = on_pool!(self.db(), write, |pool| {
            sqlx::query(
                "UPDATE retention_run SET heartbeat_at = $1 WHERE id = $2 AND heartbeat_at = $3 \
                 AND finished_at IS NULL",
            )
            .bind(now)
            .bind(row.id)
            .bind(row.heartbeat_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        if claimed == 0 {
            return Ok(None);
        }
        tracing::warn!(run = %row.id, "resuming an interrupted retention run");
        Ok(Some(self.execute(row, true).await?))
    }

    /// Inserts a new run; with a day, only if that day has none yet.
    async fn start(&self, day: Option<String>) -> Result<Option<RunRow>> {
        let now = self.clock().now().unix_timestamp();
        let id = Uuid::now_v7();
        let inserted = on_pool!(self.db(), write, |pool| {
            sqlx::query(
                "INSERT INTO retention_run (id, day, as_of, started_at, heartbeat_at, counts) \
                 VALUES ($1, $2, $3, $3, $3, '{}') ON CONFLICT (day) DO NOTHING",
            )
            .bind(id)
            .bind(&day)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok((inserted == 1).then(|| RunRow {
            id,
            as_of: now,
            heartbeat_at: now,
            counts: "{}".into(),
        }))
    }

    async fn execute(&self, row: RunRow, resumed: bool) -> Result<RunReport> {
        let as_of = OffsetDateTime::from_unix_timestamp(row.as_of)
            .map_err(|e| PrivacyError::Internal(e.to_string()))?;
        let mut start: BTreeMap<String, u64> =
            serde_json::from_str(&row.counts).unwrap_or_default();
        let register = self.register();
        for rule in register
            .rules
            .iter()
            .filter(|r| r.target != Target::External)
        {
            start.entry(rule.id.clone()).or_default();
        }
        let counts = Mutex::new(start);
        for rule in &register.rules {
            self.carry_out(row.id, rule, as_of, &counts).await?;
        }
        let counts = counts.into_inner().unwrap_or_default();
        let now = self.clock().now();
        let entry = NewEntry::new(now, "retention.run", Outcome::Success)
            .subject("retention_run", row.id.to_string())
            .detail(serde_json::json!({
                "as_of": rfc3339(as_of),
                "resumed": resumed,
                "counts": counts,
            }));
        let res: std::result::Result<(), PrivacyError> = write_tx!(self.db(), |tx| async {
            sqlx::query("UPDATE retention_run SET finished_at = $1 WHERE id = $2")
                .bind(now.unix_timestamp())
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<(), PrivacyError>(())
        }
        .await)
        .await;
        res?;
        Ok(RunReport {
            run: row.id,
            as_of: rfc3339(as_of),
            resumed,
            counts,
        })
    }

    /// One rule, batch after batch until nothing past it is left.
    async fn carry_out(
        &self,
        run: Uuid,
        rule: &Rule,
        as_of: OffsetDateTime,
        counts: &Mutex<BTreeMap<String, u64>>,
    ) -> Result<()> {
        let cutoff = rule.after.before(as_of);
        let progress = |now: i64| Progress {
            run,
            rule: &rule.id,
            counts,
            now,
        };
        if rule.target == Target::AuditAddresses {
            loop {
                let p = progress(self.clock().now().unix_timestamp());
                let n: std::result::Result<u64, PrivacyError> = write_tx!(self.db(), |tx| async {
                    let n = tx
                        .erase_addresses(cutoff, self.settings().batch as i64)
                        .await?;
                    p.record_in(&mut *tx, n).await?;
                    Ok::<u64, PrivacyError>(n)
                }
                .await)
                .await;
                let n = n?;
                p.commit(n);
                if n == 0 {
                    return Ok(());
                }
            }
        }
        let (mut srcs, cut) = sources(rule.target, cutoff);
        // Without a hold on any person or company, the per-row hold condition is left out.
        if !self.holds_in_force().await? {
            for s in srcs.iter_mut().filter(|s| s.person_hold) {
                s.held = None;
            }
        }
        for s in &srcs {
            // What a batch handles leaves the condition (deleted, or anonymised once), so each
            // batch takes the first keys still matching: no cursor, and no sort.
            loop {
                if !s.documents && matches!(rule.action, Action::Delete) {
                    let p = progress(self.clock().now().unix_timestamp());
                    let n = targets::take_and_delete(self.db(), s, cut, self.settings().batch, &p)
                        .await?;
                    p.commit(n);
                    if n == 0 {
                        break;
                    }
                    continue;
                }
                let keys = targets::next_keys(self.db(), s, cut, self.settings().batch).await?;
                if keys.is_empty() {
                    break;
                }
                let p = progress(self.clock().now().unix_timestamp());
                let n = match &rule.action {
                    Action::Delete => {
                        if s.documents {
                            let objects = targets::object_keys(self.db(), &keys).await?;
                            self.objects().delete_many(objects).await?;
                        }
                        targets::delete_batch(self.db(), s, &keys, &p).await?
                    }
                    Action::Anonymise { erase, replace } => {
                        anonymise::people(
                            self.db(),
                            &keys,
                            erase,
                            replace,
                            as_of.unix_timestamp(),
                            &p,
                        )
                        .await?
                    }
                };
                p.commit(n);
                if n == 0 {
                    // Another runner took these; it carries on with the rest.
                    break;
                }
            }
        }
        Ok(())
    }
}
