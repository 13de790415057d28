//! An organisation's lifecycle. Deactivating one ends the sessions of all its people and keeps
//! them out (sign-in and refresh check the organisation too); the change, the revocations and
//! the audit record commit together.

use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{Clock, Db, write_tx};
use uuid::Uuid;

use crate::error::{IdentityError, Result};
use crate::model::OrganisationKind;
use crate::store;

/// Deactivates `id`; returns how many sessions ended. The certification body itself is refused
/// (its staff and administrators would lock themselves out).
pub async fn deactivate(db: &Db, clock: &dyn Clock, id: Uuid, actor: Option<Uuid>) -> Result<u64> {
    let org = store::get_organisation(db, id).await?;
    if org.kind == OrganisationKind::CertificationBody {
        return Err(IdentityError::Invalid(crate::types::Invalid {
            code: "organisation",
            message: "the certification body itself cannot be deactivated".into(),
        }));
    }
    let now = clock.now();
    let mut entry = NewEntry::new(now, "organisation.deactivate", Outcome::Success)
        .subject("organisation", id)
        .organisation(id);
    if let Some(actor) = actor {
        entry = entry.actor(actor);
    }
    write_tx!(db, |tx| async {
        let changed = sqlx::query("UPDATE organisation SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(false)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(IdentityError::NotFound);
        }
        let ended = sqlx::query(
            "UPDATE auth_session SET revoked_at = $1, revoked_reason = $2 \
             WHERE revoked_at IS NULL AND person_id IN (SELECT id FROM person WHERE organisation_id = $3)",
        )
        .bind(now)
        .bind("organisation deactivated")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        extranet_audit::append_in(&mut *tx, &entry.clone().detail(serde_json::json!({ "sessions_ended": ended }))).await?;
        Ok::<_, IdentityError>(ended)
    }
    .await)
    .await
}

/// Reactivates `id`. Its people's own account states are left as they are.
pub async fn reactivate(db: &Db, clock: &dyn Clock, id: Uuid, actor: Option<Uuid>) -> Result<()> {
    let now = clock.now();
    let mut entry = NewEntry::new(now, "organisation.reactivate", Outcome::Success)
        .subject("organisation", id)
        .organisation(id);
    if let Some(actor) = actor {
        entry = entry.actor(actor);
    }
    write_tx!(db, |tx| async {
        let changed =
            sqlx::query("UPDATE organisation SET active = $1, updated_at = $2 WHERE id = $3")
                .bind(true)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if changed == 0 {
            return Err(IdentityError::NotFound);
        }
        extranet_audit::append_in(&mut *tx, &entry).await?;
        Ok::<_, IdentityError>(())
    }
    .await)
    .await
}
