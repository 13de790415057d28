//! Organisations as a caller may see them: scoped in SQL, masked on the way out.

use std::sync::LazyLock;

use extranet_access::{Action, DossierView, Masked, OrganisationView, PersonView, Resource};
use extranet_audit::Outcome;
use extranet_identity::model::PostalAddress;
use extranet_identity::organisations::{change_active, state_action};
use extranet_identity::revocation::Revocations;
use extranet_identity::store::parse_phone;
use extranet_identity::{EnterpriseNumber, VatNumber};
use extranet_platform::{Clock, Db, on_pool};
use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;

use crate::caller::{Caller, unix_now};
use crate::error::{DirectoryError, Result};

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
        return Err(DirectoryError::invalid("organisation_id", refusal));
    }
    Ok(org)
}

/// A client or rental company to create. Text as typed; [`create`] validates it.
#[derive(Debug, Clone, Default)]
pub struct NewOrganisation {
    /// `client` or `rental` (the certification body exists once, from installation).
    pub kind: String,
    pub name: String,
    pub enterprise_number: Option<String>,
    pub vat_number: Option<String>,
    pub phone: Option<String>,
}

/// Blank is none.
fn given(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Creates a client or rental company (staff), with the audit record `organisation.create` in
/// the same transaction. An enterprise number another organisation holds is
/// [`DirectoryError::Taken`] naming `enterprise_number`.
pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    new: NewOrganisation,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let rel = caller.relation().of(None, None, false);
    caller
        .permit(
            db,
            clock,
            (Resource::Organisation, Action::Create),
            ("organisation", id),
            rel,
        )
        .await?;
    let kind = match new.kind.as_str() {
        "client" | "rental" => new.kind.clone(),
        _ => return Err(DirectoryError::invalid("kind", "client or rental")),
    };
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(DirectoryError::invalid(
            "name",
            "the name is required, at most 200 characters",
        ));
    }
    let enterprise = given(&new.enterprise_number)
        .map(|raw| {
            raw.parse::<EnterpriseNumber>()
                .map(|n| n.digits().to_owned())
                .map_err(|e| DirectoryError::invalid("enterprise_number", e.message))
        })
        .transpose()?;
    let vat = given(&new.vat_number)
        .map(|raw| {
            raw.parse::<VatNumber>()
                .map(|n| n.to_string())
                .map_err(|e| DirectoryError::invalid("vat_number", e.message))
        })
        .transpose()?;
    let phone = match &new.phone {
        Some(raw) => parse_phone(raw).map_err(|e| DirectoryError::invalid("phone", e.message))?,
        None => None,
    };
    let entry = caller
        .entry(clock, "organisation.create", Outcome::Success)
        .subject("organisation", id)
        .organisation(id)
        .detail(serde_json::json!({ "kind": kind, "name": name }));
    let now = clock.now();
    with_audit!(db, entry, |tx| {
        sqlx::query(
            "INSERT INTO organisation (id, kind, name, enterprise_number, vat_number, addresses, \
             phone, fax, sector, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, '[]', $6, NULL, NULL, $7, $8, $8)",
        )
        .bind(id)
        .bind(&kind)
        .bind(name)
        .bind(&enterprise)
        .bind(&vat)
        .bind(&phone)
        .bind(true)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    })?;
    Ok(id)
}

/// Deactivates or reactivates a client or rental company (staff). Deactivation ends every
/// session of its people at once; the change, the revocations and the audit record (with the
/// client address) commit together (`extranet_identity::organisations::change_active`).
pub async fn set_active(
    db: &Db,
    clock: &dyn Clock,
    revocations: &Revocations,
    caller: &Caller,
    id: Uuid,
    active: bool,
) -> Result<Masked<OrganisationView>> {
    company_for(
        db,
        clock,
        caller,
        (Resource::Organisation, Action::Deactivate),
        id,
        "the certification body itself cannot be deactivated",
    )
    .await?;
    let entry = caller.entry(clock, state_action(active), Outcome::Success);
    let ended = change_active(db, clock, id, active, entry).await?;
    revocations.after_commit(db, clock, &ended).await;
    get(db, clock, caller, id).await
}

/// An organisation's page: the organisation, its dossiers and its people, each as the caller
/// may see them (reads of people are audited as in [`crate::people::list`]).
#[derive(Debug)]
pub struct OrganisationDetail {
    pub organisation: Masked<OrganisationView>,
    pub dossiers: Vec<Masked<DossierView>>,
    pub people: Vec<Masked<PersonView>>,
}

pub async fn detail(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<OrganisationDetail> {
    let organisation = get(db, clock, caller, id).await?;
    let dossiers = crate::dossiers::list(db, clock, caller, Some(id)).await?;
    let query = crate::people::PersonQuery {
        organisation: Some(id),
        limit: crate::people::MAX_LIMIT,
        ..Default::default()
    };
    let people = crate::people::list(db, clock, caller, Action::List, &query).await?;
    Ok(OrganisationDetail {
        organisation,
        dossiers,
        people,
    })
}
