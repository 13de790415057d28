//! A certificate's status: changed by staff with a reason, each change kept in the dossier's
//! history (`dossier_status_change`) and the audit log in the same transaction. The statuses are
//! those stored in `dossier.status` ([`STATUSES`]); "granted" is `active`.

use extranet_access::{Action, DossierView, Masked, Resource};
use extranet_audit::Outcome;
use extranet_platform::{Clock, Db, on_pool};
use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::caller::Caller;
use crate::dossiers::{STATUSES, find, get};
use crate::error::{DirectoryError, Result};

pub const MAX_REASON: usize = 1000;

/// Where a certificate may go from each status. A withdrawn certificate stays withdrawn (a new
/// certification opens a new dossier); nothing goes back to `application`, and an application
/// is granted or withdrawn, never suspended or expired. Pages offer these choices.
pub fn next(from: &str) -> &'static [&'static str] {
    match from {
        "application" => &["active", "withdrawn"],
        "active" => &["suspended", "withdrawn", "expired"],
        "suspended" => &["active", "withdrawn", "expired"],
        "expired" => &["active", "withdrawn"],
        _ => &[],
    }
}

/// One change of a dossier's status. `changed_by` is a person id (the page resolves names).
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct StatusChange {
    pub id: Uuid,
    pub dossier_id: Uuid,
    pub from_status: String,
    pub to_status: String,
    pub reason: String,
    pub changed_by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
}

/// Changes a dossier's status (staff). Refused with 422: an unknown status, a blank or too long
/// reason, the status it already has, or a transition [`next`] does not allow (the message says
/// which ones are allowed).
pub async fn set_status(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    to: &str,
    reason: &str,
) -> Result<Masked<DossierView>> {
    let what = (Resource::Dossier, Action::Status);
    let found = find(db, clock, caller, id).await?;
    let current = caller
        .found(db, clock, what, ("dossier", id), found)
        .await?;
    let d = current.inner();
    let rel = caller.relation().of(Some(d.organisation_id), None, false);
    caller.permit(db, clock, what, ("dossier", id), rel).await?;
    if !STATUSES.contains(&to) {
        return Err(DirectoryError::invalid(
            "status",
            format!("one of {}", STATUSES.join(", ")),
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON {
        return Err(DirectoryError::invalid(
            "reason",
            format!("a reason is required, at most {MAX_REASON} characters"),
        ));
    }
    let from = d.status.clone();
    if from == to {
        return Err(DirectoryError::invalid(
            "status",
            format!("the dossier is already {from}"),
        ));
    }
    let allowed = next(&from);
    if !allowed.contains(&to) {
        let hint = if allowed.is_empty() {
            "it stays so".to_owned()
        } else {
            format!("it can become {}", allowed.join(", "))
        };
        return Err(DirectoryError::invalid(
            "status",
            format!("a {from} dossier cannot become {to}: {hint}"),
        ));
    }
    let change = Uuid::now_v7();
    // The reason stays in the history, not in the audit log: it is free text.
    let entry = caller
        .entry(clock, "dossier.status", Outcome::Success)
        .subject("dossier", id)
        .organisation(d.organisation_id)
        .detail(serde_json::json!({ "from": from, "to": to, "change": change }));
    let now = clock.now();
    with_audit!(db, entry, |tx| {
        // Conditional on the status read above: a concurrent change makes this one a conflict
        // instead of a history that skips a step.
        let n = sqlx::query(
            "UPDATE dossier SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(to)
        .bind(now)
        .bind(id)
        .bind(&from)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(DirectoryError::Conflict(
                "the status changed meanwhile; reload and try again".into(),
            ));
        }
        sqlx::query(
            "INSERT INTO dossier_status_change (id, dossier_id, from_status, to_status, reason, \
             changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(change)
        .bind(id)
        .bind(&from)
        .bind(to)
        .bind(reason)
        .bind(caller.person)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    })?;
    get(db, clock, caller, id).await
}

/// A dossier's status changes, oldest first (staff and the privacy coordinator).
pub async fn status_history(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Vec<StatusChange>> {
    let what = (Resource::Dossier, Action::History);
    let found = find(db, clock, caller, id).await?;
    let dossier = caller
        .found(db, clock, what, ("dossier", id), found)
        .await?;
    let rel = caller
        .relation()
        .of(Some(dossier.inner().organisation_id), None, false);
    caller.permit(db, clock, what, ("dossier", id), rel).await?;
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT id, dossier_id, from_status, to_status, reason, changed_by, changed_at \
             FROM dossier_status_change WHERE dossier_id = $1 ORDER BY changed_at, id",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })?)
}
