//! Reminders: the coordinator (and the assignee) is mailed once when a request comes within
//! `reminder_days` of its due date, and once when it is overdue. Each is claimed by a
//! conditional update in the transaction that queues its mail, so two instances running the job
//! send each reminder once.

use extranet_audit::{NewEntry, Outcome};
use extranet_notify::outbox::{self, Mail};
// Mail is queued on the wall clock: the sender sends what is due by it, whatever the
// requests' own clock (under test control in end-to-end tests) says.
use extranet_platform::{SystemClock, on_pool, write_tx};
use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;

use crate::due;
use crate::error::{Result, RightsError};
use crate::model::OPEN;
use crate::service::Rights;

#[derive(FromRow)]
struct Due {
    id: Uuid,
    number: Option<String>,
    due: Option<String>,
    assignee_email: Option<String>,
    assignee_language: Option<String>,
    reminded_at: Option<i64>,
    overdue_at: Option<i64>,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub reminders: usize,
    pub overdue: usize,
}

impl Rights {
    /// One pass: remind of requests due within `reminder_days`, and of overdue ones, once each.
    pub async fn remind(&self) -> Result<Sent> {
        let today = self.today();
        let horizon = today + time::Duration::days(i64::from(self.settings.reminder_days));
        let open = OPEN.join("','");
        let rows: Vec<Due> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT r.id, r.number, COALESCE(r.extended_to, r.due_on) AS due, \
                 a.email AS assignee_email, a.language AS assignee_language, r.reminded_at, \
                 r.overdue_at FROM rights_request r LEFT JOIN person a ON a.id = r.assignee_id \
                 WHERE r.state IN ('{open}') AND COALESCE(r.extended_to, r.due_on) <= $1 \
                 AND (r.reminded_at IS NULL OR r.overdue_at IS NULL)"
            )))
            .bind(due::iso(horizon))
            .fetch_all(pool)
            .await
        })?;
        let mut sent = Sent::default();
        for r in rows {
            let Some(day) = r.due.as_deref().and_then(due::parse_iso) else {
                continue;
            };
            let overdue = today > day;
            let column = match (overdue, r.overdue_at, r.reminded_at) {
                (true, None, _) => "overdue_at",
                (false, _, None) => "reminded_at",
                _ => continue,
            };
            if self.send_reminder(&r, day, column).await? {
                if overdue {
                    sent.overdue += 1;
                } else {
                    sent.reminders += 1;
                }
            }
        }
        Ok(sent)
    }

    async fn send_reminder(&self, r: &Due, day: time::Date, column: &'static str) -> Result<bool> {
        let now = self.now();
        let template = if column == "overdue_at" {
            "rights-overdue"
        } else {
            "rights-reminder"
        };
        let mut mails = Vec::new();
        let args = serde_json::json!({
            "site": self.settings.site_name,
            "number": r.number.clone().unwrap_or_default(),
            "due": due::iso(day),
            "link": self.link(&format!("/privacy/requests/{}", r.id)),
        });
        if let Some(to) = &self.settings.coordinator_email {
            mails.push(Mail {
                recipient: to.clone(),
                language: "en".into(),
                template,
                args: args.clone(),
            });
        }
        if let Some(to) = &r.assignee_email
            && Some(to) != self.settings.coordinator_email.as_ref()
        {
            mails.push(Mail {
                recipient: to.clone(),
                language: crate::model::language(r.assignee_language.as_deref().unwrap_or("en"))
                    .into(),
                template,
                args: args.clone(),
            });
        }
        let entry = NewEntry::new(
            self.clock.now(),
            format!("rights_request.{template}"),
            Outcome::Success,
        )
        .subject("rights_request", r.id)
        .detail(serde_json::json!({ "due_on": due::iso(day), "mails": mails.len() }));
        let state_note = if column == "overdue_at" {
            "overdue"
        } else {
            "reminded"
        };
        let id = r.id;
        let res: Result<bool> = write_tx!(self.db(), |tx| async {
            let claimed = sqlx::query(AssertSqlSafe(format!(
                "UPDATE rights_request SET {column} = $1 WHERE id = $2 AND {column} IS NULL"
            )))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                return Ok(false);
            }
            let state: String =
                sqlx::query_scalar("SELECT state FROM rights_request WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            crate::store::event!(
                tx,
                id,
                now,
                None::<Uuid>,
                state_note,
                state,
                true,
                None::<String>
            )?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            outbox::enqueue_many_in(&mut *tx, &SystemClock, &mails).await?;
            Ok::<_, RightsError>(true)
        }
        .await)
        .await;
        res
    }
}

impl Rights {
    /// Runs [`Rights::remind`] every `every` until shutdown.
    pub fn spawn_reminders(
        self: std::sync::Arc<Self>,
        every: std::time::Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        tokio::spawn(async move {
            loop {
                match self.remind().await {
                    Ok(s) if s.reminders + s.overdue > 0 => tracing::info!(
                        reminders = s.reminders,
                        overdue = s.overdue,
                        "rights-request reminders sent"
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "rights-request reminders failed; retried later")
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        });
    }
}
