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

/// What may be changed on an organisation; `None` leaves a field as it is, an empty text clears
/// an optional one. The kind and the state have operations of their own.
#[derive(Debug, Clone, Default)]
pub struct OrganisationChange {
    /// Staff only (the certification body's people in domain `all`).
    pub name: Option<String>,
    /// The complete list of postal addresses.
    pub addresses: Option<Vec<PostalAddress>>,
    pub phone: Option<String>,
    pub fax: Option<String>,
    pub enterprise_number: Option<String>,
    pub vat_number: Option<String>,
}

/// At most this many postal addresses per organisation.
pub const MAX_ADDRESSES: usize = 5;

impl OrganisationChange {
    /// The names of the fields this change sets, as the organisation record's fields are named.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("addresses", self.addresses.is_some()),
            ("phone", self.phone.is_some()),
            ("fax", self.fax.is_some()),
            ("enterprise_number", self.enterprise_number.is_some()),
            ("vat_number", self.vat_number.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| n)
        .collect()
    }
}

fn address_part(raw: &str, max: usize) -> Result<String> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(DirectoryError::invalid(
            "addresses",
            format!(
                "each address has a street, a postcode and a city, each at most {max} characters, and a country code such as BE"
            ),
        ));
    }
    Ok(s.to_owned())
}

/// Postal addresses as stored: every part given and trimmed, the country a two-letter code;
/// an address left wholly blank is dropped.
pub fn postal_addresses(raw: &[PostalAddress]) -> Result<Vec<PostalAddress>> {
    let mut out = Vec::new();
    for a in raw {
        if [&a.street, &a.postcode, &a.city, &a.country]
            .iter()
            .all(|p| p.trim().is_empty())
        {
            continue;
        }
        let country = a.country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(DirectoryError::invalid(
                "addresses",
                "the country is a two-letter code such as BE",
            ));
        }
        out.push(PostalAddress {
            street: address_part(&a.street, 200)?,
            postcode: address_part(&a.postcode, 12)?,
            city: address_part(&a.city, 100)?,
            country,
        });
    }
    if out.len() > MAX_ADDRESSES {
        return Err(DirectoryError::invalid(
            "addresses",
            format!("at most {MAX_ADDRESSES} addresses"),
        ));
    }
    Ok(out)
}

/// An organisation's postal addresses as stored, for a form that edits them (no audit record:
/// the caller was shown the organisation already).
pub async fn stored_addresses(db: &Db, id: Uuid) -> Result<Vec<PostalAddress>> {
    let raw: Option<String> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT addresses FROM organisation WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(raw
        .map(|r| serde_json::from_str(&r).unwrap_or_default())
        .unwrap_or_default())
}

#[derive(FromRow)]
struct StoredOrganisation {
    name: String,
    enterprise_number: Option<String>,
    vat_number: Option<String>,
    addresses: String,
    phone: Option<String>,
    fax: Option<String>,
}

/// Changes a client or rental company's own details (staff, the privacy coordinator, the
/// company's primary contact). Each field set must be one the caller sees (`policies/fields.csv`;
/// 403 otherwise, recorded); the name only by the certification body's people. Enterprise and VAT
/// numbers are checked ([`EnterpriseNumber`], [`VatNumber`]); an enterprise number another
/// organisation holds is [`DirectoryError::Taken`]. The change and its audit record — naming the
/// fields whose value changed, never the values — commit together.
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    change: &OrganisationChange,
) -> Result<Masked<OrganisationView>> {
    let what = (Resource::Organisation, Action::Update);
    let org = company_for(
        db,
        clock,
        caller,
        what,
        id,
        "the certification body's own details are set at installation",
    )
    .await?;
    let all = caller.relation().of(None, None, false);
    let staff = caller
        .grants
        .allows(Resource::Organisation, Action::Update, all);
    let refused = change
        .fields()
        .into_iter()
        .find(|f| !org.is_visible(f) || (*f == "name" && !staff));
    if let Some(field) = refused {
        return Err(caller
            .deny(
                db,
                clock,
                what,
                ("organisation", Some(id)),
                DirectoryError::FieldNotGranted(field),
            )
            .await);
    }
    let old: Option<StoredOrganisation> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT name, enterprise_number, vat_number, addresses, phone, fax \
             FROM organisation WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    let old = old.ok_or(DirectoryError::NotFound)?;
    let name = match &change.name {
        Some(raw) => {
            let n = raw.trim();
            if n.is_empty() || n.chars().count() > 200 || n.chars().any(char::is_control) {
                return Err(DirectoryError::invalid(
                    "name",
                    "the name is required, at most 200 characters",
                ));
            }
            n.to_owned()
        }
        None => old.name.clone(),
    };
    let enterprise = match &change.enterprise_number {
        Some(raw) => given(&Some(raw.clone()))
            .map(|raw| {
                raw.parse::<EnterpriseNumber>()
                    .map(|n| n.digits().to_owned())
                    .map_err(|e| DirectoryError::invalid("enterprise_number", e.message))
            })
            .transpose()?,
        None => old.enterprise_number.clone(),
    };
    let vat = match &change.vat_number {
        Some(raw) => given(&Some(raw.clone()))
            .map(|raw| {
                raw.parse::<VatNumber>()
                    .map(|n| n.to_string())
                    .map_err(|e| DirectoryError::invalid("vat_number", e.message))
            })
            .transpose()?,
        None => old.vat_number.clone(),
    };
    let phone = match &change.phone {
        Some(raw) => parse_phone(raw).map_err(|e| DirectoryError::invalid("phone", e.message))?,
        None => old.phone.clone(),
    };
    let fax = match &change.fax {
        Some(raw) => parse_phone(raw).map_err(|e| DirectoryError::invalid("fax", e.message))?,
        None => old.fax.clone(),
    };
    let old_addresses: Vec<PostalAddress> =
        serde_json::from_str(&old.addresses).unwrap_or_default();
    let addresses = match &change.addresses {
        Some(raw) => postal_addresses(raw)?,
        None => old_addresses.clone(),
    };
    let addresses_json =
        serde_json::to_string(&addresses).map_err(|e| DirectoryError::Internal(e.to_string()))?;
    let changed: Vec<&str> = [
        ("name", name != old.name),
        ("addresses", addresses != old_addresses),
        ("phone", phone != old.phone),
        ("fax", fax != old.fax),
        ("enterprise_number", enterprise != old.enterprise_number),
        ("vat_number", vat != old.vat_number),
    ]
    .iter()
    .filter(|(_, c)| *c)
    .map(|(n, _)| *n)
    .collect();
    let entry = caller
        .entry(clock, "organisation.update", Outcome::Success)
        .subject("organisation", id)
        .organisation(id)
        .detail(serde_json::json!({ "fields": changed }));
    let now = clock.now();
    with_audit!(db, entry, |tx| {
        sqlx::query(
            "UPDATE organisation SET name = $1, enterprise_number = $2, vat_number = $3, \
             addresses = $4, phone = $5, fax = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&name)
        .bind(&enterprise)
        .bind(&vat)
        .bind(&addresses_json)
        .bind(&phone)
        .bind(&fax)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    })?;
    get(db, clock, caller, id).await
}
