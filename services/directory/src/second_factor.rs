//! An administrator's reset of someone's second factor (a lost phone, a wiped app): the factor
//! and the recovery codes are removed, pending sign-ins voided and the person's sessions ended,
//! with the audit record, in one transaction. At their next sign-in they enrol again (when a
//! role of theirs requires a factor) or sign in with the password alone (when none does).

use extranet_access::{Action, Resource};
use extranet_audit::Outcome;
use extranet_identity::factor::store as factors;
use extranet_identity::revocation::{Ending, Revocations, RevokeConn, Revoked};
use extranet_platform::{Clock, Db, write_tx};
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{DirectoryError, Result};

/// What a reset removed and ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reset {
    pub factors_removed: u64,
    pub sessions_ended: u64,
}

/// Resets person `id`'s second factor. 404 (recorded) when the caller does not see them, 403
/// (recorded) when the policy does not allow `person.reset_second_factor` on them.
/// `keep_session`: an administrator resetting their own factor keeps the session they are
/// using (like a password change), every other one ends.
pub async fn reset(
    db: &Db,
    clock: &dyn Clock,
    revocations: &Revocations,
    caller: &Caller,
    id: Uuid,
    keep_session: Option<Uuid>,
) -> Result<Reset> {
    let what = (Resource::Person, Action::ResetSecondFactor);
    let person = caller
        .found(
            db,
            clock,
            what,
            ("person", id),
            crate::people::find(db, clock, caller, id).await?,
        )
        .await?;
    let organisation = person.inner().organisation_id;
    let rel = caller.relation().of(Some(organisation), Some(id), false);
    caller.permit(db, clock, what, ("person", id), rel).await?;

    let now = clock.now();
    let keep = keep_session.filter(|_| id == caller.person);
    let entry = caller
        .entry(clock, "auth.second_factor.reset", Outcome::Success)
        .subject("person", id)
        .organisation(organisation);
    let reason = "second factor reset";
    let which = match keep {
        Some(keep) => Ending::PersonExcept(id, keep),
        None => Ending::Person(id),
    };
    let res: Result<(Reset, Revoked)> = write_tx!(db, |tx| async {
        let factors_removed = sqlx::query(factors::DELETE_FACTORS)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query(factors::DELETE_RECOVERY_CODES)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(factors::VOID_CHALLENGES)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        // Whoever holds a session of theirs may be the one who found the lost phone: the
        // sessions and their access tokens end at once.
        let ended = tx.end_sessions(which, now, reason).await?;
        let sessions_ended = ended.count();
        let entry = entry.detail(serde_json::json!({
            "factors_removed": factors_removed,
            "sessions_ended": sessions_ended,
        }));
        extranet_audit::append_in(&mut *tx, &entry).await?;
        Ok::<(Reset, Revoked), DirectoryError>((
            Reset {
                factors_removed,
                sessions_ended,
            },
            ended,
        ))
    }
    .await)
    .await;
    let (reset, ended) = res?;
    revocations.after_commit(db, clock, &ended).await;
    Ok(reset)
}
