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
    let scheme = new.scheme.trim();
    if scheme.is_empty() || scheme.chars().count() > 100 {
        return Err(DirectoryError::invalid(
            "scheme",
            "the scheme is required, at most 100 characters",
        ));
    }
    let certificate = new
        .certificate_number
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if certificate.is_some_and(|c| c.chars().count() > 50 || c.chars().any(char::is_control)) {
        return Err(DirectoryError::invalid(
            "certificate_number",
            "at most 50 printable characters",
        ));
    }
    if !STATUSES.contains(&new.status.as_str()) {
        return Err(DirectoryError::invalid(
            "status",
            format!("one of {}", STATUSES.join(", ")),
        ));
    }
    if let (Some(from), Some(until)) = (new.valid_from, new.valid_until)
        && until < from
    {
        return Err(DirectoryError::invalid(
            "valid_until",
            "the end of validity comes before its start",
        ));
    }
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
        .bind(scheme)
        .bind(certificate)
        .bind(&new.status)
        .bind(new.valid_from)
        .bind(new.valid_until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    })?;
    get(db, clock, caller, id).await
}
