//! Inspector assignments: staff give an inspector access to a dossier for a period and can end
//! it; the inspector's view follows the period to the second, because every query compares it
//! with the current instant.

use std::sync::LazyLock;

use extranet_access::{Action, AssignmentView, Masked, PersonView, Resource};
use extranet_audit::Outcome;
use extranet_platform::{Clock, Db, on_pool};
use sqlx::{AssertSqlSafe, FromRow};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::caller::{Caller, unix_now};
use crate::error::{DirectoryError, Result};

/// $1 all, $2 inspector, $3 now — the scope (assignments belong to no tenant) — then $4 one id,
/// $5 one dossier.
static LIST_SQL: LazyLock<String> = LazyLock::new(|| {
    "SELECT a.id, a.dossier_id, a.inspector_id, p.first_name, p.surname, a.starts_at, a.ends_at, \
     a.created_at, p.restricted_at IS NOT NULL AS restricted FROM assignment a JOIN person p ON p.id = a.inspector_id \
     WHERE ($1 OR (a.inspector_id = $2 AND a.starts_at <= $3 AND $3 < a.ends_at)) \
     AND ($4 IS NULL OR a.id = $4) AND ($5 IS NULL OR a.dossier_id = $5) \
     ORDER BY a.starts_at DESC, a.id"
        .to_owned()
});

#[derive(FromRow)]
struct AssignmentRow {
    /// The inspector's processing is restricted (GDPR Art. 18): their name is masked.
    restricted: bool,
    id: Uuid,
    dossier_id: Uuid,
    inspector_id: Uuid,
    first_name: String,
    surname: String,
    starts_at: i64,
    ends_at: i64,
    created_at: OffsetDateTime,
}

fn instant(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

async fn visible(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    action: Action,
    id: Option<Uuid>,
    dossier: Option<Uuid>,
) -> Result<Vec<Masked<AssignmentView>>> {
    let scope = caller.scope(Resource::Assignment, action);
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let now = unix_now(clock);
    let rows: Vec<AssignmentRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(AssertSqlSafe(LIST_SQL.as_str()))
            .bind(scope.all)
            .bind(scope.inspector)
            .bind(now)
            .bind(id)
            .bind(dossier)
            .fetch_all(pool)
            .await
    })?;
    let relation = caller.relation();
    Ok(rows
        .into_iter()
        .map(|r| {
            let current = r.starts_at <= now && now < r.ends_at;
            let rel = relation.of(None, None, r.inspector_id == caller.person && current);
            let state = if now < r.starts_at {
                "planned"
            } else if current {
                "active"
            } else {
                "ended"
            };
            let view = AssignmentView {
                id: r.id,
                dossier_id: r.dossier_id,
                inspector_id: r.inspector_id,
                inspector_name: format!("{} {}", r.first_name, r.surname),
                starts_at: instant(r.starts_at),
                ends_at: instant(r.ends_at),
                state: state.to_owned(),
                created_at: r.created_at.format(&Rfc3339).unwrap_or_default(),
            };
            let masked = Masked::new(view, caller.grants.visible::<AssignmentView>(rel));
            if r.restricted && r.inspector_id != caller.person {
                masked.restrict_fields(&["inspector_name"])
            } else {
                masked
            }
        })
        .collect())
}

pub async fn list(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    dossier: Option<Uuid>,
) -> Result<Vec<Masked<AssignmentView>>> {
    visible(db, clock, caller, Action::List, None, dossier).await
}

pub async fn get(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Masked<AssignmentView>> {
    let found = visible(db, clock, caller, Action::Read, Some(id), None)
        .await?
        .pop();
    caller
        .found(
            db,
            clock,
            (Resource::Assignment, Action::Read),
            ("assignment", id),
            found,
        )
        .await
}

/// An assignment to make: who, which dossier, from when until when.
#[derive(Debug, Clone)]
pub struct NewAssignment {
    pub dossier_id: Uuid,
    pub inspector_id: Uuid,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
}

/// Assigns an inspector to a dossier for a period (staff). Refused: a dossier the caller cannot
/// see (404), a person who is not an active inspector, a period that ends before it starts.
pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    new: &NewAssignment,
) -> Result<Masked<AssignmentView>> {
    let what = (Resource::Assignment, Action::Create);
    let dossier = caller
        .found(
            db,
            clock,
            what,
            ("dossier", new.dossier_id),
            crate::dossiers::find(db, clock, caller, new.dossier_id).await?,
        )
        .await?;
    let rel = caller
        .relation()
        .of(Some(dossier.inner().organisation_id), None, false);
    caller
        .permit(
            db,
            clock,
            (Resource::Assignment, Action::Create),
            ("dossier", new.dossier_id),
            rel,
        )
        .await?;
    let inspector: Option<(String,)> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT p.state FROM person p JOIN person_role r ON r.person_id = p.id \
             WHERE p.id = $1 AND r.role = 'inspector'",
        )
        .bind(new.inspector_id)
        .fetch_optional(pool)
        .await
    })?;
    match inspector {
        Some((state,)) if state == "active" || state == "invited" => {}
        _ => {
            return Err(caller
                .deny(
                    db,
                    clock,
                    what,
                    ("person", Some(new.inspector_id)),
                    DirectoryError::invalid(
                        "inspector_id",
                        "this person is not an inspector of the certification body",
                    ),
                )
                .await);
        }
    }
    // A restricted inspector's data is not used: they are not assigned.
    crate::restriction::refuse_if_restricted(db, clock, caller, what, new.inspector_id).await?;
    let (starts, ends) = (new.starts_at.unix_timestamp(), new.ends_at.unix_timestamp());
    if ends <= starts {
        return Err(caller
            .deny(
                db,
                clock,
                what,
                ("dossier", Some(new.dossier_id)),
                DirectoryError::invalid("ends_at", "the assignment ends before it starts"),
            )
            .await);
    }
    let id = Uuid::now_v7();
    let entry = caller
        .entry(clock, "assignment.create", Outcome::Success)
        .subject("assignment", id)
        .organisation(dossier.inner().organisation_id)
        .detail(serde_json::json!({
            "dossier": new.dossier_id, "inspector": new.inspector_id,
            "starts_at": instant(starts), "ends_at": instant(ends),
        }));
    let now = clock.now();
    with_audit!(db, entry, |tx| {
        sqlx::query(
            "INSERT INTO assignment (id, dossier_id, inspector_id, starts_at, ends_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(new.dossier_id)
        .bind(new.inspector_id)
        .bind(starts)
        .bind(ends)
        .bind(caller.person)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    })?;
    get(db, clock, caller, id).await
}

/// Ends an assignment now (staff): from this instant the inspector no longer sees the dossier.
pub async fn end(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Masked<AssignmentView>> {
    let what = (Resource::Assignment, Action::End);
    let current = caller
        .found(
            db,
            clock,
            what,
            ("assignment", id),
            visible(db, clock, caller, Action::Read, Some(id), None)
                .await?
                .pop(),
        )
        .await?;
    let rel = caller.relation().of(None, None, false);
    caller
        .permit(db, clock, what, ("assignment", id), rel)
        .await?;
    let now = unix_now(clock);
    let entry = caller
        .entry(clock, "assignment.end", Outcome::Success)
        .subject("assignment", id)
        .detail(serde_json::json!({ "dossier": current.inner().dossier_id, "inspector": current.inner().inspector_id }));
    with_audit!(db, entry, |tx| {
        sqlx::query(
            "UPDATE assignment SET ends_at = $1, ended_by = $2 WHERE id = $3 AND ends_at > $1",
        )
        .bind(now)
        .bind(caller.person)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    })?;
    get(db, clock, caller, id).await
}

/// The longest look-ahead of [`ending_soon`].
pub const MAX_ENDING_DAYS: u32 = 366;

/// Assignments in force now that end within `days` (1 to [`MAX_ENDING_DAYS`]), soonest first,
/// within the caller's scope (staff: all; an inspector: their own).
pub async fn ending_soon(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    days: u32,
) -> Result<Vec<Masked<AssignmentView>>> {
    if days == 0 || days > MAX_ENDING_DAYS {
        return Err(DirectoryError::invalid(
            "days",
            format!("1 to {MAX_ENDING_DAYS}"),
        ));
    }
    let now = clock.now();
    let horizon = now + time::Duration::days(i64::from(days));
    let mut out: Vec<Masked<AssignmentView>> = visible(db, clock, caller, Action::List, None, None)
        .await?
        .into_iter()
        .filter(|a| {
            let ends = OffsetDateTime::parse(&a.inner().ends_at, &Rfc3339).ok();
            a.inner().state == "active" && ends.is_some_and(|e| e <= horizon)
        })
        .collect();
    out.sort_by(|a, b| a.inner().ends_at.cmp(&b.inner().ends_at));
    Ok(out)
}

/// The inspectors the caller may assign: active people of the certification body holding the
/// `inspector` role, as the caller may see them (the read is audited like any list of people).
/// Empty for a caller who may not create assignments.
pub async fn inspectors(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
) -> Result<Vec<Masked<PersonView>>> {
    if caller
        .grants
        .domains(Resource::Assignment, Action::Create)
        .is_empty()
    {
        return Ok(Vec::new());
    }
    let body: Option<Uuid> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT id FROM organisation WHERE kind = 'certification_body'")
            .fetch_optional(pool)
            .await
    })?;
    let Some(body) = body else {
        return Ok(Vec::new());
    };
    let query = crate::people::PersonQuery {
        organisation: Some(body),
        limit: crate::people::MAX_LIMIT,
        ..Default::default()
    };
    let people = crate::people::visible(db, clock, caller, Action::List, &query)
        .await?
        .into_iter()
        .filter(|p| p.inner().state == "active" && p.inner().roles.iter().any(|r| r == "inspector"))
        .collect::<Vec<_>>();
    crate::people::record_reads(db, clock, caller, Action::List, &people).await?;
    Ok(people)
}
