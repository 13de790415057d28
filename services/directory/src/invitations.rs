//! Invitations not yet accepted. An invitation is a person created in state `invited` (no
//! password) and a single-use link mailed to them (`one_time_token`, purpose `invitation`);
//! setting a password through the link activates the account. Staff see, resend and withdraw
//! the invitations of any client or rental company, a primary contact those of their own
//! (`invitation.*` in the policy).
//!
//! Withdrawing deletes the invited account with its roles, rights and links. Why not keep it
//! marked: the account never had a password, so nothing was ever done under it that a record
//! must point to; keeping it would keep a name and an e-mail address for no purpose and keep the
//! address from being invited again; and a new state would have to be learnt by every check
//! that reads `person.state`. The audit log keeps who invited and who withdrew, by id. The
//! deletion is conditional on the account still being invited without a password, in its own
//! transaction, so an invitation accepted a moment before is never removed.

use std::collections::HashMap;

use extranet_access::{Action, Masked, PersonView, Resource};
use extranet_audit::Outcome;
use extranet_identity::recovery::Recovery;
use extranet_platform::{Clock, Db, on_pool};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{DirectoryError, Result};
use crate::people::{MAX_LIMIT, PersonQuery};

/// A pending invitation: the invited person as the caller may see them, and its links.
#[derive(Debug, Serialize)]
pub struct PendingInvitation {
    /// The invited person's id.
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub person: Masked<PersonView>,
    /// When the account was created.
    #[serde(with = "time::serde::rfc3339")]
    pub invited_at: OffsetDateTime,
    /// Who sent the first link (unknown for invitations sent before this was kept).
    pub invited_by: Option<Uuid>,
    /// When the latest link was mailed, and when it expires (none: no usable link left).
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
}

type LinkRow = (
    Uuid,
    OffsetDateTime,
    OffsetDateTime,
    Option<OffsetDateTime>,
    Option<Uuid>,
);

/// The pending invitations within the caller's scope for `invitation.list`, without recording
/// the read of the people.
async fn pending(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    organisation: Option<Uuid>,
    id: Option<Uuid>,
) -> Result<Vec<PendingInvitation>> {
    let scope = caller.scope(Resource::Invitation, Action::List);
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let query = PersonQuery {
        id,
        organisation,
        limit: MAX_LIMIT,
        ..PersonQuery::default()
    };
    let people: Vec<Masked<PersonView>> = crate::people::in_scope(db, clock, caller, scope, &query)
        .await?
        .into_iter()
        .filter(|p| p.inner().state == "invited")
        .collect();
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let links: Vec<LinkRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT t.person_id, t.created_at, t.expires_at, t.used_at, t.created_by \
             FROM one_time_token t JOIN person p ON p.id = t.person_id \
             WHERE p.state = 'invited' AND t.purpose = 'invitation' AND ($1 IS NULL OR p.id = $1) \
             ORDER BY t.created_at",
        )
        .bind(id)
        .fetch_all(pool)
        .await
    })?;
    let mut by_person: HashMap<Uuid, Vec<LinkRow>> = HashMap::new();
    for l in links {
        by_person.entry(l.0).or_default().push(l);
    }
    let now = clock.now();
    let mut out: Vec<PendingInvitation> = people
        .into_iter()
        .map(|person| {
            let p = person.inner();
            let links = by_person.get(&p.id).map(Vec::as_slice).unwrap_or_default();
            let usable = links
                .iter()
                .rev()
                .find(|l| l.3.is_none() && l.2 > now)
                .map(|l| l.2);
            let invited_at = OffsetDateTime::parse(
                &p.created_at,
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap_or(now);
            PendingInvitation {
                id: p.id,
                organisation_id: p.organisation_id,
                invited_at,
                invited_by: links.first().and_then(|l| l.4),
                last_sent_at: links.last().map(|l| l.1),
                expires_at: usable,
                person,
            }
        })
        .collect();
    out.sort_by_key(|i| (i.invited_at, i.id));
    Ok(out)
}

/// Pending invitations, of one organisation or of all the caller sees, oldest first; the read
/// of the invited people is audited like any list of people.
pub async fn list(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    organisation: Option<Uuid>,
) -> Result<Vec<PendingInvitation>> {
    let out = pending(db, clock, caller, organisation, None).await?;
    let people: Vec<Masked<PersonView>> = out.iter().map(|i| i.person.clone()).collect();
    crate::people::record_reads(db, clock, caller, Action::List, &people).await?;
    Ok(out)
}

/// The pending invitation `id` (a person id) that the caller may `action`: 404 when it is not
/// theirs to see (or not pending), 403 when they see it but may not, 422 in the certification
/// body itself (its people are invited and managed by administrators and staff through the
/// accounts' own operations); refusals recorded.
async fn target(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    action: Action,
) -> Result<PendingInvitation> {
    let what = (Resource::Invitation, action);
    let found = pending(db, clock, caller, None, Some(id)).await?.pop();
    let invitation = caller.found(db, clock, what, ("person", id), found).await?;
    let org = invitation.organisation_id;
    crate::organisations::company_for(
        db,
        clock,
        caller,
        what,
        org,
        "invitations are resent and withdrawn in client or rental companies",
    )
    .await?;
    let rel = caller.relation().of(Some(org), Some(id), false);
    caller.permit(db, clock, what, ("person", id), rel).await?;
    // Mailing the invitation again uses a restricted person's address: refused.
    if action == Action::Resend {
        crate::restriction::refuse_if_restricted(db, clock, caller, what, id).await?;
    }
    // Withdrawing removes an account: like a deactivation, only of someone holding no role the
    // caller could not give.
    if action == Action::Withdraw {
        crate::delegation::refuse_outranked(db, clock, caller, what, &invitation.person, rel)
            .await?;
    }
    Ok(invitation)
}

/// Mails the invitation again with a fresh link; the earlier links stop working in the same
/// transaction, which also writes `invitation.resend` (with the client address). The mail limits
/// of a first invitation apply (429 past them, recorded).
pub async fn resend(
    db: &Db,
    clock: &dyn Clock,
    recovery: &Recovery,
    caller: &Caller,
    id: Uuid,
) -> Result<PendingInvitation> {
    let invitation = target(db, clock, caller, id, Action::Resend).await?;
    let entry = caller
        .entry(clock, "invitation.resend", Outcome::Success)
        .subject("person", id)
        .organisation(invitation.organisation_id);
    match recovery
        .resend_invitation(id, caller.ip, caller.person, entry)
        .await
    {
        Ok(()) => {}
        Err(extranet_identity::IdentityError::Throttled(wait)) => {
            return Err(caller
                .deny(
                    db,
                    clock,
                    (Resource::Invitation, Action::Resend),
                    ("person", Some(id)),
                    DirectoryError::Throttled(wait),
                )
                .await);
        }
        Err(e) => return Err(e.into()),
    }
    let found = pending(db, clock, caller, None, Some(id)).await?.pop();
    found.ok_or(DirectoryError::NotFound)
}

/// Withdraws an invitation: its links stop working and the invited account is removed (see the
/// module's note), so that the address can be invited again; `invitation.withdraw` (ids only)
/// in the same transaction. An invitation accepted meanwhile is a conflict (409).
pub async fn withdraw(db: &Db, clock: &dyn Clock, caller: &Caller, id: Uuid) -> Result<()> {
    let invitation = target(db, clock, caller, id, Action::Withdraw).await?;
    let entry = caller
        .entry(clock, "invitation.withdraw", Outcome::Success)
        .subject("person", id)
        .organisation(invitation.organisation_id);
    let now = clock.now();
    with_audit!(db, entry, |tx| {
        // Claims the row (a write lock on PostgreSQL, the writer on SQLite) only if it is still
        // an invitation: a password set a moment ago keeps the account.
        let claimed = sqlx::query(
            "UPDATE person SET updated_at = $1 WHERE id = $2 AND state = 'invited' \
             AND password_hash IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Err(DirectoryError::Conflict(
                "the invitation was accepted meanwhile".into(),
            ));
        }
        for sql in [
            "DELETE FROM one_time_token WHERE person_id = $1",
            "DELETE FROM person_right WHERE person_id = $1",
            "DELETE FROM person_role WHERE person_id = $1",
            "DELETE FROM person WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
    })
}
