//! An organisation's lifecycle. Deactivating one ends the sessions of all its people and keeps
//! them out (sign-in and refresh check the organisation too); the change, the revocations and
//! the audit record commit together.

use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{Clock, Db, write_tx};
use uuid::Uuid;

use crate::error::{IdentityError, Result};
use crate::model::OrganisationKind;
use crate::revocation::{Ending, RevokeConn, Revoked};
use crate::store;

/// Deactivates `id`; returns the sessions ended (for `Revocations::after_commit`). The
/// certification body itself is refused (its staff and administrators would lock themselves out).
pub async fn deactivate(
    db: &Db,
    clock: &dyn Clock,
    id: Uuid,
    actor: Option<Uuid>,
) -> Result<Revoked> {
    let org = store::get_organisation(db, id).await?;
    if org.kind == OrganisationKind::CertificationBody {
        return Err(IdentityError::Invalid(crate::types::Invalid {
            code: "organisation",
            message: "the certification body itself cannot be deactivated".into(),
        }));
    }
    set_active(db, clock, id, false, actor).await
}

/// Reactivates `id`. Its people's own account states are left as they are.
pub async fn reactivate(db: &Db, clock: &dyn Clock, id: Uuid, actor: Option<Uuid>) -> Result<()> {
    set_active(db, clock, id, true, actor).await.map(|_| ())
}

/// The audit action of a change of an organisation's state.
pub fn state_action(active: bool) -> &'static str {
    if active {
        "organisation.reactivate"
    } else {
        "organisation.deactivate"
    }
}

async fn set_active(
    db: &Db,
    clock: &dyn Clock,
    id: Uuid,
    active: bool,
    actor: Option<Uuid>,
) -> Result<Revoked> {
    let mut entry = NewEntry::new(clock.now(), state_action(active), Outcome::Success);
    if let Some(actor) = actor {
        entry = entry.actor(actor);
    }
    change_active(db, clock, id, active, entry).await
}

/// One transaction: the flag, (on deactivation) the end of every session of the organisation's
/// people, and `entry` (its subject set here) with the number of sessions ended. Decisions
/// (may the caller, is it the certification body) are the caller's to take first.
pub async fn change_active(
    db: &Db,
    clock: &dyn Clock,
    id: Uuid,
    active: bool,
    entry: NewEntry,
) -> Result<Revoked> {
    let now = clock.now();
    let entry = entry.subject("organisation", id).organisation(id);
    write_tx!(db, |tx| async {
        let changed =
            sqlx::query("UPDATE organisation SET active = $1, updated_at = $2 WHERE id = $3")
                .bind(active)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if changed == 0 {
            return Err(IdentityError::NotFound);
        }
        let ended = if active {
            Revoked::default()
        } else {
            tx.end_sessions(Ending::Organisation(id), now, "organisation deactivated")
                .await?
        };
        let entry = entry.detail(serde_json::json!({ "sessions_ended": ended.count() }));
        extranet_audit::append_in(&mut *tx, &entry).await?;
        Ok::<_, IdentityError>(ended)
    }
    .await)
    .await
}
