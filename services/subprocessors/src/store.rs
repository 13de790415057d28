//! The statements that run inside the register's transactions, written once for both
//! backends: [`Conn`] is implemented for SQLite's and PostgreSQL's connections by one macro,
//! so a transaction of `write_tx!` (compiled once per backend) can call them.

use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::entry::Snapshot;
use crate::error::{Result, SubprocessorsError};
use crate::notices::NoticeRow;

/// Who gets a notice's mail: the active people of active client companies who hold the
/// primary-contact role and did not unsubscribe, and those who subscribed.
const RECIPIENTS: &str = "SELECT p.email, p.language FROM person p \
     JOIN organisation o ON o.id = p.organisation_id \
     LEFT JOIN subprocessor_subscription s ON s.person_id = p.id \
     WHERE o.kind = 'client' AND o.active = $1 AND p.state = 'active' \
     AND (s.wants_mail = $1 OR (s.person_id IS NULL AND EXISTS \
          (SELECT 1 FROM person_role r WHERE r.person_id = p.id AND r.role = 'client_admin'))) \
     ORDER BY p.id";

pub(crate) trait Conn {
    /// Writes an entry's current state (a new entry, or all of its fields).
    async fn insert_entry(&mut self, id: Uuid, s: &Snapshot, now: i64) -> Result<()>;
    async fn update_entry(&mut self, id: Uuid, s: &Snapshot, now: i64) -> Result<()>;
    /// The entry's state and fields as stored now.
    async fn entry_snapshot(&mut self, id: Uuid) -> Result<Option<Snapshot>>;
    /// One line of an entry's history, holding the whole entry after the change.
    async fn record_change(
        &mut self,
        id: Uuid,
        at: i64,
        kind: &str,
        notice: Option<Uuid>,
        organisation: Option<Uuid>,
        s: &Snapshot,
    ) -> Result<()>;
    /// (e-mail, language) of everyone a notice is mailed to.
    async fn notice_recipients(&mut self) -> Result<Vec<(String, String)>>;
    /// Sets `row` (draft or published) withdrawn with its reason; 409 when it changed meanwhile.
    /// An entry the notice announced is retired.
    async fn withdraw_notice(&mut self, row: &NoticeRow, now: i64) -> Result<()>;
    /// A notice as the demo writes it (published, or applied on its effective date).
    #[allow(clippy::too_many_arguments)]
    async fn insert_notice(
        &mut self,
        id: Uuid,
        kind: &str,
        subprocessor: Option<Uuid>,
        new_entry: Option<Uuid>,
        proposal: &str,
        summary: &str,
        effective: i64,
        state: &str,
        by: Uuid,
        published: i64,
    ) -> Result<()>;
}

macro_rules! impl_conn {
    ($conn:ty) => {
        impl Conn for $conn {
            async fn insert_entry(&mut self, id: Uuid, s: &Snapshot, now: i64) -> Result<()> {
                sqlx::query(
                    "INSERT INTO subprocessor (id, legal_name, registration_number, website, \
                     service, data_categories, subject_categories, locations, agreement_date, \
                     state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
                )
                .bind(id)
                .bind(&s.entry.legal_name)
                .bind(&s.entry.registration_number)
                .bind(&s.entry.website)
                .bind(&s.entry.service)
                .bind(serde_json::to_string(&s.entry.data_categories)?)
                .bind(serde_json::to_string(&s.entry.subject_categories)?)
                .bind(serde_json::to_string(&s.entry.locations)?)
                .bind(&s.entry.agreement_date)
                .bind(&s.state)
                .bind(now)
                .execute(&mut *self)
                .await?;
                Ok(())
            }

            async fn update_entry(&mut self, id: Uuid, s: &Snapshot, now: i64) -> Result<()> {
                sqlx::query(
                    "UPDATE subprocessor SET legal_name = $2, registration_number = $3, \
                     website = $4, service = $5, data_categories = $6, subject_categories = $7, \
                     locations = $8, agreement_date = $9, state = $10, updated_at = $11 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(&s.entry.legal_name)
                .bind(&s.entry.registration_number)
                .bind(&s.entry.website)
                .bind(&s.entry.service)
                .bind(serde_json::to_string(&s.entry.data_categories)?)
                .bind(serde_json::to_string(&s.entry.subject_categories)?)
                .bind(serde_json::to_string(&s.entry.locations)?)
                .bind(&s.entry.agreement_date)
                .bind(&s.state)
                .bind(now)
                .execute(&mut *self)
                .await?;
                Ok(())
            }

            async fn entry_snapshot(&mut self, id: Uuid) -> Result<Option<Snapshot>> {
                let row: Option<crate::register::Row> = sqlx::query_as(AssertSqlSafe(format!(
                    "SELECT {} FROM subprocessor WHERE id = $1",
                    crate::register::COLUMNS
                )))
                .bind(id)
                .fetch_optional(&mut *self)
                .await?;
                row.map(|r| r.snapshot()).transpose()
            }

            async fn record_change(
                &mut self,
                id: Uuid,
                at: i64,
                kind: &str,
                notice: Option<Uuid>,
                organisation: Option<Uuid>,
                s: &Snapshot,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO subprocessor_change (id, subprocessor_id, at, kind, notice_id, \
                     organisation_id, entry) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(Uuid::now_v7())
                .bind(id)
                .bind(at)
                .bind(kind)
                .bind(notice)
                .bind(organisation)
                .bind(serde_json::to_string(s)?)
                .execute(&mut *self)
                .await?;
                Ok(())
            }

            async fn notice_recipients(&mut self) -> Result<Vec<(String, String)>> {
                Ok(sqlx::query_as(RECIPIENTS)
                    .bind(true)
                    .fetch_all(&mut *self)
                    .await?)
            }

            async fn withdraw_notice(&mut self, row: &NoticeRow, now: i64) -> Result<()> {
                let n = sqlx::query(
                    "UPDATE subprocessor_notice SET state = 'withdrawn', withdrawn_at = $1, \
                     withdrawal_reason = $2 WHERE id = $3 AND state = $4",
                )
                .bind(now)
                .bind(&row.withdrawal_reason)
                .bind(row.id)
                .bind(&row.state)
                .execute(&mut *self)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(SubprocessorsError::Conflict(
                        "the notice changed meanwhile; reload and try again".into(),
                    ));
                }
                if let Some(new_id) = row.new_entry_id.filter(|_| row.state == "published") {
                    if let Some(mut snap) = self.entry_snapshot(new_id).await? {
                        snap.state = "retired".into();
                        self.update_entry(new_id, &snap, now).await?;
                        self.record_change(new_id, now, "withdrawn", Some(row.id), None, &snap)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn insert_notice(
                &mut self,
                id: Uuid,
                kind: &str,
                subprocessor: Option<Uuid>,
                new_entry: Option<Uuid>,
                proposal: &str,
                summary: &str,
                effective: i64,
                state: &str,
                by: Uuid,
                published: i64,
            ) -> Result<()> {
                let applied = (state == "applied").then_some(effective);
                sqlx::query(
                    "INSERT INTO subprocessor_notice (id, kind, subprocessor_id, new_entry_id, \
                     proposal, summary, effective_at, state, created_by, created_at, published_at, \
                     applied_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
                )
                .bind(id)
                .bind(kind)
                .bind(subprocessor)
                .bind(new_entry)
                .bind(proposal)
                .bind(summary)
                .bind(effective)
                .bind(state)
                .bind(by)
                .bind(published)
                .bind(applied)
                .execute(&mut *self)
                .await?;
                Ok(())
            }
        }
    };
}

impl_conn!(sqlx::SqliteConnection);
impl_conn!(sqlx::PgConnection);
