//! Certification dossiers: created by staff for a client company, seen by the company and by the
//! inspectors assigned to them while the assignment is in force.

use std::sync::LazyLock;

use extranet_access::{Action, DossierView, Masked, Resource};
use extranet_audit::Outcome;
use extranet_platform::{Clock, Db, on_pool};
use sqlx::{AssertSqlSafe, FromRow};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::caller::{Caller, unix_now};
use crate::error::{DirectoryError, Result};

pub use crate::status::{StatusChange, set_status, status_history};

pub const STATUSES: [&str; 5] = ["application", "active", "suspended", "withdrawn", "expired"];

const ASSIGNED_DOSSIER: &str = "EXISTS (SELECT 1 FROM assignment a WHERE a.dossier_id = d.id \
    AND a.inspector_id = $3 AND a.starts_at <= $4 AND $4 < a.ends_at)";

/// $1 all, $2 own organisation, $3 inspector, $4 now — the scope — then $5 one id, $6 one
/// organisation. Two shapes, chosen by the scope: every row, or an OR of indexable terms (see
/// `people::where_clause`).
fn list_sql(all: bool) -> String {
    let scope = if all {
        "$1"
    } else {
        "NOT $1 AND (d.organisation_id = $2 OR d.id IN (SELECT a.dossier_id FROM assignment a \
         WHERE a.inspector_id = $3 AND a.starts_at <= $4 AND $4 < a.ends_at))"
    };
    format!(
        "SELECT d.id, d.organisation_id, o.name AS organisation_name, d.scheme, \
         d.certificate_number, d.status, d.valid_from, d.valid_until, d.created_at, \
         {ASSIGNED_DOSSIER} AS via_assignment \
         FROM dossier d JOIN organisation o ON o.id = d.organisation_id \
         WHERE {scope} AND ($5 IS NULL OR d.id = $5) AND ($6 IS NULL OR d.organisation_id = $6) \
         ORDER BY o.name, d.scheme, d.id"
    )
}

static LIST_SQL: LazyLock<[String; 2]> = LazyLock::new(|| [list_sql(false), list_sql(true)]);

#[derive(FromRow)]
struct DossierRow {
    id: Uuid,
    organisation_id: Uuid,
    organisation_name: String,
    scheme: String,
    certificate_number: Option<String>,
    status: String,
    valid_from: Option<Date>,
    valid_until: Option<Date>,
    created_at: OffsetDateTime,
    via_assignment: bool,
}

async fn visible(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    action: Action,
    id: Option<Uuid>,
    organisation: Option<Uuid>,
) -> Result<Vec<Masked<DossierView>>> {
    let scope = caller.scope(Resource::Dossier, action);
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let now = unix_now(clock);
    let rows: Vec<DossierRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(AssertSqlSafe(LIST_SQL[usize::from(scope.all)].as_str()))
            .bind(scope.all)
            .bind(scope.organisation)
            .bind(scope.inspector)
            .bind(now)
            .bind(id)
            .bind(organisation)
            .fetch_all(pool)
            .await
    })?;
    let relation = caller.relation();
    Ok(rows
        .into_iter()
        .map(|r| {
            let rel = relation.of(Some(r.organisation_id), None, r.via_assignment);
            let view = DossierView {
                id: r.id,
                organisation_id: r.organisation_id,
                organisation_name: r.organisation_name,
                scheme: r.scheme,
                certificate_number: r.certificate_number,
                status: r.status,
                valid_from: r.valid_from.map(|d| d.to_string()),
                valid_until: r.valid_until.map(|d| d.to_string()),
                created_at: r.created_at.format(&Rfc3339).unwrap_or_default(),
            };
            Masked::new(view, caller.grants.visible::<DossierView>(rel))
        })
        .collect())
}

pub async fn list(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    organisation: Option<Uuid>,
) -> Result<Vec<Masked<DossierView>>> {
    visible(db, clock, caller, Action::List, None, organisation).await
}

pub async fn get(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Masked<DossierView>> {
    let found = visible(db, clock, caller, Action::Read, Some(id), None)
        .await?
        .pop();
    caller
        .found(
            db,
            clock,
            (Resource::Dossier, Action::Read),
            ("dossier", id),
            found,
        )
        .await
}

pub(crate) async fn find(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<Masked<DossierView>>> {
    Ok(visible(db, clock, caller, Action::Read, Some(id), None)
        .await?
        .pop())
}

/// A dossier to create.
#[derive(Debug, Clone)]
pub struct NewDossier {
    pub organisation_id: Uuid,
    pub scheme: String,
    pub certificate_number: Option<String>,
    pub status: String,
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
}

/// Creates a dossier for a client or rental company (staff), with its audit record, in one
/// transaction.
pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    new: &NewDossier,
) -> Result<Masked<DossierView>> {
    crate::organisations::company_for(
        db,
        clock,
        caller,
        (Resource::Dossier, Action::Create),
        new.organisation_id,
        "dossiers belong to client or rental companies",
    )
    .await?;
    let scheme = checked_scheme(&new.scheme)?;
    let certificate = checked_certificate(new.certificate_number.as_deref())?;
    if !STATUSES.contains(&new.status.as_str()) {
        return Err(DirectoryError::invalid(
            "status",
            format!("one of {}", STATUSES.join(", ")),
        ));
    }
    checked_period(new.valid_from, new.valid_until)?;
    let id = Uuid::now_v7();
    let now = clock.now();
    let entry = caller
        .entry(clock, "dossier.create", Outcome::Success)
        .subject("dossier", id)
        .organisation(new.organisation_id)
        .detail(serde_json::json!({ "scheme": scheme, "status": new.status }));
    with_audit!(db, entry, |tx| {
        sqlx::query(
            "INSERT INTO dossier (id, organisation_id, scheme, certificate_number, status, \
             valid_from, valid_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id)
        .bind(new.organisation_id)
        .bind(&scheme)
        .bind(&certificate)
        .bind(&new.status)
        .bind(new.valid_from)
        .bind(new.valid_until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    })?;
    get(db, clock, caller, id).await
}

fn checked_scheme(raw: &str) -> Result<String> {
    let scheme = raw.trim();
    if scheme.is_empty() || scheme.chars().count() > 100 || scheme.chars().any(char::is_control) {
        return Err(DirectoryError::invalid(
            "scheme",
            "the scheme is required, at most 100 characters",
        ));
    }
    Ok(scheme.to_owned())
}

/// Blank is none.
fn checked_certificate(raw: Option<&str>) -> Result<Option<String>> {
    let certificate = raw.map(str::trim).filter(|s| !s.is_empty());
    if certificate.is_some_and(|c| c.chars().count() > 50 || c.chars().any(char::is_control)) {
        return Err(DirectoryError::invalid(
            "certificate_number",
            "at most 50 printable characters",
        ));
    }
    Ok(certificate.map(str::to_owned))
}

fn checked_period(from: Option<Date>, until: Option<Date>) -> Result<()> {
    if let (Some(from), Some(until)) = (from, until)
        && until < from
    {
        return Err(DirectoryError::invalid(
            "valid_until",
            "the end of validity comes before its start",
        ));
    }
    Ok(())
}

/// What an edit of a dossier changes: `None` leaves a field as it is; for the optional fields
/// `Some(None)` clears it. The status has its own operation ([`set_status`]), with a reason.
#[derive(Debug, Clone, Default)]
pub struct DossierChanges {
    pub scheme: Option<String>,
    pub certificate_number: Option<Option<String>>,
    pub valid_from: Option<Option<Date>>,
    pub valid_until: Option<Option<Date>>,
}

/// Edits a dossier (staff), validated like [`create`]; the audit record `dossier.update` names
/// each field that changed with its old and new value (none of them personal data).
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    changes: &DossierChanges,
) -> Result<Masked<DossierView>> {
    let what = (Resource::Dossier, Action::Update);
    let found = find(db, clock, caller, id).await?;
    let current = caller
        .found(db, clock, what, ("dossier", id), found)
        .await?;
    let d = current.inner();
    let rel = caller.relation().of(Some(d.organisation_id), None, false);
    caller.permit(db, clock, what, ("dossier", id), rel).await?;
    let date = |s: &Option<String>| s.as_deref().and_then(|s| s.parse_date());
    let scheme = match &changes.scheme {
        Some(s) => checked_scheme(s)?,
        None => d.scheme.clone(),
    };
    let certificate = match &changes.certificate_number {
        Some(c) => checked_certificate(c.as_deref())?,
        None => d.certificate_number.clone(),
    };
    let valid_from = changes.valid_from.unwrap_or_else(|| date(&d.valid_from));
    let valid_until = changes.valid_until.unwrap_or_else(|| date(&d.valid_until));
    checked_period(valid_from, valid_until)?;
    let show = |v: Option<Date>| v.map(|d| d.to_string());
    let mut changed = serde_json::Map::new();
    for (field, old, new) in [
        ("scheme", Some(d.scheme.clone()), Some(scheme.clone())),
        (
            "certificate_number",
            d.certificate_number.clone(),
            certificate.clone(),
        ),
        ("valid_from", d.valid_from.clone(), show(valid_from)),
        ("valid_until", d.valid_until.clone(), show(valid_until)),
    ] {
        if old != new {
            changed.insert(
                field.to_owned(),
                serde_json::json!({ "from": old, "to": new }),
            );
        }
    }
    if changed.is_empty() {
        return Ok(current);
    }
    let entry = caller
        .entry(clock, "dossier.update", Outcome::Success)
        .subject("dossier", id)
        .organisation(d.organisation_id)
        .detail(serde_json::Value::Object(changed));
    let now = clock.now();
    with_audit!(db, entry, |tx| {
        sqlx::query(
            "UPDATE dossier SET scheme = $1, certificate_number = $2, valid_from = $3, \
             valid_until = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(&scheme)
        .bind(&certificate)
        .bind(valid_from)
        .bind(valid_until)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    })?;
    get(db, clock, caller, id).await
}

/// A date as the views write it (`YYYY-MM-DD`).
trait ParseDate {
    fn parse_date(&self) -> Option<Date>;
}

impl ParseDate for str {
    fn parse_date(&self) -> Option<Date> {
        Date::parse(
            self,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()
    }
}
