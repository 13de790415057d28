//! Organisations as a caller may see them: scoped in SQL, masked on the way out.

use std::sync::LazyLock;

use extranet_access::{Action, Masked, OrganisationView, Resource};
use extranet_identity::model::PostalAddress;
use extranet_platform::{Clock, Db, on_pool};
use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;

use crate::caller::{Caller, unix_now};
use crate::error::Result;

const ASSIGNED_ORG: &str = "EXISTS (SELECT 1 FROM dossier d JOIN assignment a \
    ON a.dossier_id = d.id WHERE d.organisation_id = o.id AND a.inspector_id = $3 \
    AND a.starts_at <= $4 AND $4 < a.ends_at)";

/// $1 all, $2 own organisation, $3 inspector, $4 now — the scope — then $5 one id. Two shapes,
/// chosen by the scope: every row, or an OR of indexable terms (see `people::where_clause`).
fn list_sql(all: bool) -> String {
    let scope = if all {
        "$1"
    } else {
        "NOT $1 AND (o.id = $2 OR o.id IN (SELECT d.organisation_id FROM dossier d \
         JOIN assignment a ON a.dossier_id = d.id WHERE a.inspector_id = $3 \
         AND a.starts_at <= $4 AND $4 < a.ends_at))"
    };
    format!(
        "SELECT o.id, o.kind, o.name, o.active, o.enterprise_number, o.vat_number, o.addresses, \
         o.phone, o.fax, o.sector, {ASSIGNED_ORG} AS via_assignment FROM organisation o \
         WHERE {scope} AND ($5 IS NULL OR o.id = $5) ORDER BY o.name, o.id"
    )
}

static LIST_SQL: LazyLock<[String; 2]> = LazyLock::new(|| [list_sql(false), list_sql(true)]);

#[derive(FromRow)]
struct OrganisationRow {
    id: Uuid,
    kind: String,
    name: String,
    active: bool,
    enterprise_number: Option<String>,
    vat_number: Option<String>,
    addresses: String,
    phone: Option<String>,
    fax: Option<String>,
    sector: Option<String>,
    via_assignment: bool,
}

fn address_line(a: &PostalAddress) -> String {
    [
        a.street.as_str(),
        &format!("{} {}", a.postcode, a.city),
        a.country.as_str(),
    ]
    .iter()
    .map(|s| s.trim())
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

async fn visible(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    action: Action,
    id: Option<Uuid>,
) -> Result<Vec<Masked<OrganisationView>>> {
    let scope = caller.scope(Resource::Organisation, action);
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let now = unix_now(clock);
    let rows: Vec<OrganisationRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(AssertSqlSafe(LIST_SQL[usize::from(scope.all)].as_str()))
            .bind(scope.all)
            .bind(scope.organisation)
            .bind(scope.inspector)
            .bind(now)
            .bind(id)
            .fetch_all(pool)
            .await
    })?;
    let relation = caller.relation();
    Ok(rows
        .into_iter()
        .map(|r| {
            let rel = relation.of(Some(r.id), None, r.via_assignment);
            let addresses: Vec<PostalAddress> =
                serde_json::from_str(&r.addresses).unwrap_or_default();
            let view = OrganisationView {
                id: r.id,
                kind: r.kind,
                name: r.name,
                active: r.active,
                enterprise_number: r.enterprise_number,
                vat_number: r.vat_number,
                addresses: addresses.iter().map(address_line).collect(),
                phone: r.phone,
                fax: r.fax,
                sector: r.sector,
            };
            Masked::new(view, caller.grants.visible::<OrganisationView>(rel))
        })
        .collect())
}

/// The organisations a caller may list, masked.
pub async fn list(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
) -> Result<Vec<Masked<OrganisationView>>> {
    visible(db, clock, caller, Action::List, None).await
}

/// One organisation, if the caller may read it (404 and an audit record otherwise).
pub async fn get(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Masked<OrganisationView>> {
    let found = visible(db, clock, caller, Action::Read, Some(id))
        .await?
        .pop();
    caller
        .found(
            db,
            clock,
            (Resource::Organisation, Action::Read),
            ("organisation", id),
            found,
        )
        .await
}

/// Whether the caller may read this organisation (no audit record: for decisions).
pub(crate) async fn find(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<Masked<OrganisationView>>> {
    Ok(visible(db, clock, caller, Action::Read, Some(id))
        .await?
        .pop())
}

/// The client or rental company a change is made in: visible to the caller (404 otherwise),
/// the change allowed there (403 otherwise; both recorded), and not the certification body
/// itself (422 with `refusal`).
pub(crate) async fn company_for(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    what: (Resource, Action),
    id: Uuid,
    refusal: &str,
) -> Result<Masked<OrganisationView>> {
    let found = find(db, clock, caller, id).await?;
    let org = caller
        .found(db, clock, what, ("organisation", id), found)
        .await?;
    let rel = caller.relation().of(Some(id), None, false);
    caller
        .permit(db, clock, what, ("organisation", id), rel)
        .await?;
    if org.inner().kind == "certification_body" {
        return Err(crate::error::DirectoryError::invalid(
            "organisation_id",
            refusal,
        ));
    }
    Ok(org)
}
