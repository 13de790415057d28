//! Restriction of processing (GDPR Art. 18). The privacy coordinator flags a person; while the
//! flag holds, their data is stored but not used:
//! - other roles see them as restricted with every field masked ([`crate::people`] marks the
//!   record, `Masked::restricted`), and exports leave them out;
//! - every change by someone else, an assignment of a restricted inspector, an invitation mail
//!   sent again, a primary-contact handover to them is refused (409, [`RESTRICTED`]) and recorded
//!   as `access.denied` with the reason ([`refuse_if_restricted`]);
//! - only essential mail reaches them (`extranet_notify::sender` withholds the rest).
//!
//! The person themself still signs in and sees their own record. Placing and lifting are audit
//! records (`person.restriction.place`, `person.restriction.lift`) committed with the change.

use extranet_access::{Action, Resource};
use extranet_audit::Outcome;
use extranet_platform::{Clock, Db, on_pool};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{DirectoryError, Result};

/// The refusal's message (409) when a use of a restricted person is attempted. Pages show it in
/// the visitor's language (`restrict-refused`).
pub const RESTRICTED: &str =
    "the processing of this person's data is restricted (GDPR Art. 18): it is stored but not used";

/// The longest reason kept with a restriction.
pub const MAX_REASON: usize = 2000;

/// A person's restriction as it stands.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Restriction {
    pub person_id: Uuid,
    pub restricted: bool,
    /// RFC 3339, while restricted.
    pub restricted_at: Option<String>,
    /// Who placed it, while restricted.
    pub restricted_by: Option<Uuid>,
    pub reason: Option<String>,
}

/// What [`restrict`] or [`lift`] did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RestrictionOutcome {
    /// `restricted` or `lifted`.
    pub action: &'static str,
    /// False when the person already was in that state (nothing written, no audit record).
    pub changed: bool,
    pub restriction: Restriction,
}

type Row = (Option<OffsetDateTime>, Option<Uuid>, Option<String>);

async fn row(db: &Db, person: Uuid) -> Result<Option<Row>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT restricted_at, restricted_by, restriction_reason FROM person WHERE id = $1",
        )
        .bind(person)
        .fetch_optional(pool)
        .await
    })?)
}

fn restriction(person_id: Uuid, row: Row) -> Restriction {
    let (at, by, reason) = row;
    Restriction {
        person_id,
        restricted: at.is_some(),
        restricted_at: at.and_then(|t| t.format(&Rfc3339).ok()),
        restricted_by: by,
        reason,
    }
}

/// Whether a person's processing is restricted: what other crates ask before using someone's
/// data. An unknown id is not restricted.
pub async fn is_restricted(db: &Db, person: Uuid) -> Result<bool> {
    Ok(row(db, person).await?.is_some_and(|r| r.0.is_some()))
}

/// A person's restriction, for code that decides (no audit record: it holds no personal data
/// but the reason, and only callers that already decided may show it).
pub async fn status(db: &Db, person: Uuid) -> Result<Option<Restriction>> {
    Ok(row(db, person).await?.map(|r| restriction(person, r)))
}

/// The target of a restriction, found within the caller's scope and permitted
/// (`person.restrict`): 404 or 403, recorded, otherwise. Public so that a handler decides
/// before it reads a body.
pub async fn may_restrict(db: &Db, clock: &dyn Clock, caller: &Caller, id: Uuid) -> Result<()> {
    let what = (Resource::Person, Action::Restrict);
    let person = caller
        .found(
            db,
            clock,
            what,
            ("person", id),
            crate::people::find(db, clock, caller, id).await?,
        )
        .await?;
    let rel = caller
        .relation()
        .of(Some(person.inner().organisation_id), Some(id), false);
    caller.permit(db, clock, what, ("person", id), rel).await
}

/// Restricts the processing of a person's data, with the reason (required: the request it
/// answers). Restricting someone already restricted changes nothing and says so.
pub async fn restrict(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    reason: &str,
) -> Result<RestrictionOutcome> {
    may_restrict(db, clock, caller, id).await?;
    if id == caller.person {
        return Err(caller
            .deny(
                db,
                clock,
                (Resource::Person, Action::Restrict),
                ("person", Some(id)),
                DirectoryError::Forbidden(
                    "nobody restricts the processing of their own data: file a request".into(),
                ),
            )
            .await);
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON || reason.contains('\0') {
        return Err(DirectoryError::invalid(
            "reason",
            format!("required, at most {MAX_REASON} characters"),
        ));
    }
    let now = clock.now();
    let entry = caller
        .entry(clock, "person.restriction.place", Outcome::Success)
        .subject("person", id);
    let mut changed = false;
    with_audit!(db, entry, |tx| {
        let n = sqlx::query(
            "UPDATE person SET restricted_at = $1, restricted_by = $2, restriction_reason = $3, \
             updated_at = $1 WHERE id = $4 AND restricted_at IS NULL",
        )
        .bind(now)
        .bind(caller.person)
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        changed = n == 1;
        if !changed {
            // Already restricted: roll back, so that no audit record claims a change.
            return Err(DirectoryError::Conflict(String::new()));
        }
    })
    .or_else(|e| unchanged(e, changed))?;
    outcome(db, id, "restricted", changed).await
}

/// Lifts a person's restriction: their data is used again as before.
pub async fn lift(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<RestrictionOutcome> {
    may_restrict(db, clock, caller, id).await?;
    let now = clock.now();
    let entry = caller
        .entry(clock, "person.restriction.lift", Outcome::Success)
        .subject("person", id);
    let mut changed = false;
    with_audit!(db, entry, |tx| {
        let n = sqlx::query(
            "UPDATE person SET restricted_at = NULL, restricted_by = NULL, \
             restriction_reason = NULL, updated_at = $1 WHERE id = $2 \
             AND restricted_at IS NOT NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        changed = n == 1;
        if !changed {
            return Err(DirectoryError::Conflict(String::new()));
        }
    })
    .or_else(|e| unchanged(e, changed))?;
    outcome(db, id, "lifted", changed).await
}

/// The transaction was rolled back on purpose when nothing was to change; any other error
/// stands.
fn unchanged(e: DirectoryError, changed: bool) -> Result<()> {
    match e {
        DirectoryError::Conflict(m) if m.is_empty() && !changed => Ok(()),
        other => Err(other),
    }
}

async fn outcome(
    db: &Db,
    id: Uuid,
    action: &'static str,
    changed: bool,
) -> Result<RestrictionOutcome> {
    let restriction = status(db, id).await?.ok_or(DirectoryError::NotFound)?;
    Ok(RestrictionOutcome {
        action,
        changed,
        restriction,
    })
}

/// Refuses (409, recorded as `access.denied` with the reason) `what` on a restricted person by
/// anyone but that person. Every use of someone's data by others passes here.
pub async fn refuse_if_restricted(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    what: (Resource, Action),
    person: Uuid,
) -> Result<()> {
    if person == caller.person || !is_restricted(db, person).await? {
        return Ok(());
    }
    Err(caller
        .deny(
            db,
            clock,
            what,
            ("person", Some(person)),
            DirectoryError::Conflict(RESTRICTED.to_owned()),
        )
        .await)
}
