//! Legal holds on a person or an organisation: while one is in force, the retention job keeps
//! everything it covers past its rule. Placing and lifting are audit records.

use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{on_pool, write_tx};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{PrivacyError, Result};
use crate::service::Privacy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    Person,
    Organisation,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Person => "person",
            Subject::Organisation => "organisation",
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Hold {
    pub id: Uuid,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub reason: String,
    pub placed_by: Uuid,
    pub placed_at: i64,
}

/// A hold in force as the pages show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NamedHold {
    pub id: Uuid,
    pub subject_type: String,
    pub subject_id: Uuid,
    pub reason: String,
    pub placed_at: i64,
    pub subject_name: String,
    pub placed_by_name: String,
}

impl Privacy {
    /// Places a hold; `by` is the person placing it (staff, the coordinator).
    pub async fn place_hold(
        &self,
        subject: Subject,
        id: Uuid,
        reason: &str,
        by: Uuid,
    ) -> Result<Hold> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 500 || reason.chars().any(char::is_control)
        {
            return Err(PrivacyError::invalid(
                "reason",
                "say why, in at most 500 characters on one line",
            ));
        }
        let table = match subject {
            Subject::Person => "SELECT 1 FROM person WHERE id = $1",
            Subject::Organisation => "SELECT 1 FROM organisation WHERE id = $1",
        };
        let exists: Option<(i32,)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(table).bind(id).fetch_optional(pool).await
        })?;
        if exists.is_none() {
            return Err(PrivacyError::NotFound);
        }
        let now = self.clock().now();
        let hold = Hold {
            id: Uuid::now_v7(),
            subject_type: subject.as_str().into(),
            subject_id: id,
            reason: reason.to_owned(),
            placed_by: by,
            placed_at: now.unix_timestamp(),
        };
        // The reason may name the matter; the audit record says that a hold was placed.
        let entry = NewEntry::new(now, "privacy.hold.place", Outcome::Success)
            .actor(by.to_string())
            .subject(subject.as_str(), id.to_string())
            .detail(serde_json::json!({ "hold": hold.id }));
        let res: std::result::Result<(), PrivacyError> = write_tx!(self.db(), |tx| async {
            sqlx::query(
                "INSERT INTO privacy_hold (id, subject_type, subject_id, reason, placed_by, placed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(hold.id)
            .bind(&hold.subject_type)
            .bind(hold.subject_id)
            .bind(&hold.reason)
            .bind(hold.placed_by)
            .bind(hold.placed_at)
            .execute(&mut *tx)
            .await?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<(), PrivacyError>(())
        }
        .await)
        .await;
        res?;
        Ok(hold)
    }

    /// Lifts a hold in force.
    pub async fn lift_hold(&self, hold: Uuid, by: Uuid) -> Result<()> {
        let now = self.clock().now();
        let res: std::result::Result<(), PrivacyError> = write_tx!(self.db(), |tx| async {
            let row: Option<(String, Uuid)> = sqlx::query_as(
                "UPDATE privacy_hold SET lifted_by = $1, lifted_at = $2 \
                 WHERE id = $3 AND lifted_at IS NULL RETURNING subject_type, subject_id",
            )
            .bind(by)
            .bind(now.unix_timestamp())
            .bind(hold)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((kind, subject)) = row else {
                return Err(PrivacyError::NotFound);
            };
            let entry = NewEntry::new(now, "privacy.hold.lift", Outcome::Success)
                .actor(by.to_string())
                .subject(kind, subject.to_string())
                .detail(serde_json::json!({ "hold": hold }));
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<(), PrivacyError>(())
        }
        .await)
        .await;
        res
    }

    /// An active staff member's or privacy coordinator's id, by e-mail address (who places a
    /// hold from the command line).
    pub async fn staff_by_email(&self, email: &str) -> Result<Option<Uuid>> {
        let email = email.trim().to_lowercase();
        let row: Option<(Uuid,)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT p.id FROM person p JOIN person_role r ON r.person_id = p.id \
                 WHERE p.email_normalized = $1 AND p.state = 'active' \
                 AND r.role IN ('staff', 'privacy_officer') LIMIT 1",
            )
            .bind(&email)
            .fetch_optional(pool)
            .await
        })?;
        Ok(row.map(|(id,)| id))
    }

    /// The holds in force, with the name of who or what they cover (a person: their name and
    /// company) and who placed them.
    pub async fn holds_named(&self) -> Result<Vec<NamedHold>> {
        let rows: Vec<NamedHold> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT h.id, h.subject_type, h.subject_id, h.reason, h.placed_at, \
                   COALESCE(p.first_name || ' ' || p.surname || ' (' || po.name || ')', o.name, '') \
                     AS subject_name, \
                   COALESCE(b.first_name || ' ' || b.surname, '') AS placed_by_name \
                 FROM privacy_hold h \
                 LEFT JOIN person p ON h.subject_type = 'person' AND p.id = h.subject_id \
                 LEFT JOIN organisation po ON po.id = p.organisation_id \
                 LEFT JOIN organisation o ON h.subject_type = 'organisation' AND o.id = h.subject_id \
                 LEFT JOIN person b ON b.id = h.placed_by \
                 WHERE h.lifted_at IS NULL ORDER BY h.placed_at, h.id",
            )
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }

    /// Organisations a hold can be placed on: (id, name), by name.
    pub async fn organisations(&self) -> Result<Vec<(Uuid, String)>> {
        let rows: Vec<(Uuid, String)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT id, name FROM organisation ORDER BY name, id")
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// A person by e-mail address (whatever their state): their id.
    pub async fn person_by_email(&self, email: &str) -> Result<Option<Uuid>> {
        let email = email.trim().to_lowercase();
        let row: Option<(Uuid,)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT id FROM person WHERE email_normalized = $1")
                .bind(&email)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(id,)| id))
    }

    /// The holds in force.
    pub async fn holds(&self) -> Result<Vec<Hold>> {
        let rows: Vec<Hold> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT id, subject_type, subject_id, reason, placed_by, placed_at \
                 FROM privacy_hold WHERE lifted_at IS NULL ORDER BY placed_at",
            )
            .fetch_all(pool)
            .await
        })?;
        Ok(rows)
    }
}
