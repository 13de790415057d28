//! Organisations, people, dossiers and assignments for API clients. Decisions, scoping, masking
//! and audit records are `extranet_directory`'s; these handlers translate HTTP. Each route's
//! permission is listed in [`PERMISSIONS`] and published in the OpenAPI document as
//! `x-permission`, which the end-to-end test turns into its role × route matrix.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use extranet_access::{Action, Masked, Outward};
use extranet_directory::assignments::NewAssignment;
use extranet_directory::delegation::{ContactChange, NewContact};
use extranet_directory::dossiers::NewDossier;
use extranet_directory::organisations::OrganisationChange;
use extranet_directory::people::PersonQuery;
use extranet_directory::{
    Caller, Directory, DirectoryError, assignments, delegation, dossiers, organisations, people,
};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::auth::Authenticated;
use super::backoffice::present;
use super::error::{ApiError, FieldError};
use super::json::ApiJson;
use super::openapi::Problem;
use super::query::ApiQuery;
use super::words::{self, DossierStatus, Gender, Language, Right, Role};

/// Every API operation and what it needs: `resource.action` from the policy, `authenticated`
/// (any signed-in person, on their own behalf) or `public`.
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("post", "/api/v1/auth/login", "public"),
    ("post", "/api/v1/auth/refresh", "public"),
    ("post", "/api/v1/auth/logout", "authenticated"),
    ("get", "/api/v1/me", "authenticated"),
    ("get", "/api/v1/organisations", "organisation.list"),
    ("get", "/api/v1/organisations/{id}", "organisation.read"),
    ("patch", "/api/v1/organisations/{id}", "organisation.update"),
    (
        "post",
        "/api/v1/organisations/{id}/contacts",
        "person.invite",
    ),
    (
        "post",
        "/api/v1/organisations/{id}/primary-contact",
        "person.handover",
    ),
    ("get", "/api/v1/people", "person.list"),
    ("get", "/api/v1/people/export", "person.export"),
    ("get", "/api/v1/people/{id}", "person.read"),
    ("patch", "/api/v1/people/{id}", "person.update"),
    (
        "post",
        "/api/v1/people/{id}/deactivate",
        "person.deactivate",
    ),
    (
        "post",
        "/api/v1/people/{id}/reactivate",
        "person.deactivate",
    ),
    ("put", "/api/v1/people/{id}/rights", "person.grant"),
    ("put", "/api/v1/people/{id}/roles", "person.grant"),
    ("get", "/api/v1/dossiers", "dossier.list"),
    ("post", "/api/v1/dossiers", "dossier.create"),
    ("get", "/api/v1/dossiers/{id}", "dossier.read"),
    ("get", "/api/v1/assignments", "assignment.list"),
    ("post", "/api/v1/assignments", "assignment.create"),
    ("get", "/api/v1/assignments/{id}", "assignment.read"),
    ("post", "/api/v1/assignments/{id}/end", "assignment.end"),
];

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(
            list_organisations,
            super::backoffice::create_organisation
        ))
        .routes(routes!(get_organisation, update_organisation))
        .routes(routes!(invite_contact))
        .routes(routes!(handover))
        .routes(routes!(list_people))
        .routes(routes!(export_people))
        .routes(routes!(get_person, update_person))
        .routes(routes!(deactivate_person))
        .routes(routes!(reactivate_person))
        .routes(routes!(set_rights))
        .routes(routes!(set_roles))
        .routes(routes!(list_dossiers, create_dossier))
        .routes(routes!(get_dossier, super::backoffice::update_dossier))
        .routes(routes!(list_assignments, create_assignment))
        .routes(routes!(get_assignment))
        .routes(routes!(end_assignment))
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound => ApiError::NotFound,
            DirectoryError::Forbidden(_) => ApiError::Forbidden,
            e @ DirectoryError::FieldNotGranted(_) => ApiError::Coded {
                status: StatusCode::FORBIDDEN,
                code: "field_not_granted",
                detail: e.to_string(),
            },
            DirectoryError::Invalid { field, message } => ApiError::Invalid { field, message },
            DirectoryError::Taken(field) => ApiError::Taken(field),
            DirectoryError::LastAdmin => {
                ApiError::Conflict(extranet_identity::admins::LAST_ADMIN.to_owned())
            }
            DirectoryError::Conflict(m) if m == extranet_directory::restriction::RESTRICTED => {
                ApiError::Coded {
                    status: StatusCode::CONFLICT,
                    code: "restricted",
                    detail: m,
                }
            }
            DirectoryError::Conflict(m) => ApiError::Conflict(m),
            DirectoryError::Throttled(wait) => ApiError::TooManyRequests(wait),
            DirectoryError::Unauthenticated => ApiError::Unauthenticated,
            DirectoryError::Internal(m) => ApiError::Internal(m),
        }
    }
}

pub(crate) type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

pub(crate) fn ip(peer: &Peer) -> Option<IpAddr> {
    peer.as_ref().map(|Extension(ConnectInfo(a))| a.ip())
}

pub(crate) fn reader(dir: &Directory, claims: &Authenticated, peer: &Peer) -> Caller {
    let c = &claims.0;
    dir.caller(c.sub, c.org, &c.roles, ip(peer))
}

pub(crate) async fn writer(
    dir: &Directory,
    claims: &Authenticated,
    peer: &Peer,
) -> Result<Caller, ApiError> {
    Ok(dir.current(claims.0.sub, ip(peer)).await?)
}

/// An id in a path: anything that is not an id cannot name a visible record.
pub(crate) fn id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

pub(crate) fn masked<T: Outward>(m: &Masked<T>) -> Response {
    Json(m).into_response()
}

pub(crate) fn many<T: Outward>(items: &[Masked<T>]) -> Response {
    Json(serde_json::json!({ "items": items })).into_response()
}

/// A record as the caller may see it: the granted fields, and under `masked` the names of the
/// fields the caller was not granted (their values never leave the server).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct MaskedRecord {
    id: Option<Uuid>,
    /// The fields hidden from the caller.
    masked: Option<Vec<String>>,
}

/// A list of records, each masked for the caller.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct MaskedList {
    items: Vec<MaskedRecord>,
}

/// All organisations the caller may see: staff and the privacy coordinator all of them, a
/// company's contacts their own, inspectors those of the dossiers assigned to them now.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = MaskedList), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_organisations(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(many(
        &organisations::list(dir.db(), dir.clock(), &caller).await?,
    ))
}

/// One organisation (404 when it is not the caller's to see).
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_organisation(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(masked(
        &organisations::get(dir.db(), dir.clock(), &caller, id(&raw)?).await?,
    ))
}

/// A postal address of an organisation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    street: String,
    postcode: String,
    city: String,
    /// ISO 3166-1 alpha-2, e.g. `BE`.
    country: String,
}

/// What may be changed on an organisation: absent fields stay as they are, `null` clears an
/// optional one. The name is changed by the certification body's staff only.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    name: Option<String>,
    /// The complete list of postal addresses (at most 5).
    addresses: Option<Vec<PostalAddress>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    fax: Option<Option<String>>,
    /// Belgian enterprise number (checked by modulo 97); unique.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    enterprise_number: Option<Option<String>>,
    /// EU VAT number, e.g. `BE0123456749` (Belgian numbers checked by modulo 97).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    vat_number: Option<Option<String>>,
}

/// Absent: unchanged; `null`: cleared (an empty text); a text: set.
fn cleared(v: Option<Option<String>>) -> Option<String> {
    v.map(Option::unwrap_or_default)
}

/// Change a client or rental company's details (staff, the privacy coordinator, the company's
/// primary contact): addresses, phone, fax, enterprise and VAT numbers, and — staff only — the
/// name. A field the caller does not see cannot be set (403); each change is audited with the
/// names of the fields changed.
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = OrganisationPatch,
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The enterprise number is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_organisation(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<OrganisationPatch>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let change = OrganisationChange {
        name: b.name,
        addresses: b.addresses.map(|list| {
            list.into_iter()
                .map(|a| extranet_identity::model::PostalAddress {
                    street: a.street,
                    postcode: a.postcode,
                    city: a.city,
                    country: a.country,
                })
                .collect()
        }),
        phone: cleared(b.phone),
        fax: cleared(b.fax),
        enterprise_number: cleared(b.enterprise_number),
        vat_number: cleared(b.vat_number),
    };
    Ok(masked(
        &organisations::update(dir.db(), dir.clock(), &caller, id(&raw)?, &change).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInvitation {
    first_name: String,
    surname: String,
    #[schema(format = Email)]
    email: String,
    language: Language,
    /// Rights to delegate (none when absent).
    #[serde(default)]
    rights: Vec<Right>,
}

/// Invite a contact into a company (its primary contact, or staff). The contact gets an
/// invitation mail and the rights given, never beyond the inviter's own.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/contacts", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ContactInvitation,
    responses((status = 201, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn invite_contact(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    body: Result<ApiJson<ContactInvitation>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let org = id(&raw)?;
    let ApiJson(b) = refuse_smuggled(&dir, &caller, body, Action::Invite, org).await?;
    let new = NewContact {
        organisation_id: org,
        first_name: b.first_name,
        surname: b.surname,
        email: b.email,
        language: b.language.as_str().to_owned(),
        rights: words::strings(&b.rights, Right::as_str),
    };
    let p = delegation::invite(dir.db(), dir.clock(), &dir.recovery, &caller, &new).await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}

/// A body that names a field the operation does not take (a role, an organisation, a state…)
/// is refused whole, and the attempt is recorded.
async fn refuse_smuggled<T>(
    dir: &Directory,
    caller: &Caller,
    body: Result<ApiJson<T>, ApiError>,
    action: Action,
    subject: Uuid,
) -> Result<ApiJson<T>, ApiError> {
    match body {
        Ok(b) => Ok(b),
        Err(ApiError::Fields(errors)) => {
            let unknown: Vec<&FieldError> = errors
                .iter()
                .filter(|e| e.message.starts_with(super::json::UNKNOWN_FIELD))
                .collect();
            if !unknown.is_empty() {
                let names: Vec<&str> = unknown.iter().map(|e| e.field.as_str()).collect();
                let _ = caller
                    .deny(
                        dir.db(),
                        dir.clock(),
                        (extranet_access::Resource::Person, action),
                        ("person", Some(subject)),
                        DirectoryError::Forbidden(format!(
                            "fields that cannot be set here: {}",
                            names.join(", ")
                        )),
                    )
                    .await;
            }
            Err(ApiError::Fields(errors))
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    /// The contact who becomes the company's primary contact.
    person_id: Uuid,
}

/// Hand the primary-contact role to another active contact of the company.
#[utoipa::path(post, path = "/api/v1/organisations/{id}/primary-contact", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Handover,
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 409, description = "The person's processing is restricted (code `restricted`)", body = Problem, content_type = "application/problem+json")))]
async fn handover(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    body: Result<ApiJson<Handover>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let org = id(&raw)?;
    let ApiJson(b) = refuse_smuggled(&dir, &caller, body, Action::Handover, org).await?;
    Ok(masked(
        &delegation::handover(
            dir.db(),
            dir.clock(),
            dir.revocations(),
            &caller,
            org,
            b.person_id,
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleParams {
    /// Only people of this organisation.
    organisation_id: Option<Uuid>,
    /// Words in the surname, first name or e-mail address (only where the caller sees them).
    q: Option<String>,
    /// 1 to 1000; 100 when absent.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// How many to skip, at most 1,000,000 (narrow the search instead).
    #[param(minimum = 0, maximum = 1000000)]
    offset: Option<u32>,
}

impl PeopleParams {
    fn query(&self) -> PersonQuery {
        PersonQuery {
            id: None,
            organisation: self.organisation_id,
            search: self.q.clone(),
            limit: self.limit.unwrap_or(100),
            offset: self.offset.unwrap_or(0),
        }
    }
}

/// The people the caller may see, masked; every read of someone else's record is audited.
#[utoipa::path(get, path = "/api/v1/people", tag = "directory", security(("bearer" = [])), params(PeopleParams),
    responses((status = 200, body = MaskedList),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_people(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(p): ApiQuery<PeopleParams>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(many(
        &people::list(dir.db(), dir.clock(), &caller, Action::List, &p.query()).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv` (default) or `json`.
    #[param(inline)]
    format: Option<ExportFormat>,
    organisation_id: Option<Uuid>,
}

#[derive(Deserialize, ToSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Json,
}

/// The people the caller may export, as CSV (masked cells read `[hidden]`) or JSON.
#[utoipa::path(get, path = "/api/v1/people/export", tag = "directory", security(("bearer" = [])), params(ExportParams),
    responses((status = 200, description = "The people, as CSV (the default) or JSON", content((String = "text/csv"), (MaskedList = "application/json"))),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn export_people(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    let json = p.format == Some(ExportFormat::Json);
    let query = PersonQuery {
        organisation: p.organisation_id,
        limit: people::MAX_LIMIT,
        ..PersonQuery::default()
    };
    let rows = people::list(dir.db(), dir.clock(), &caller, Action::Export, &query).await?;
    if json {
        return Ok(many(&rows));
    }
    let body =
        extranet_access::mask::to_csv(&rows).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// One person (404 when not the caller's to see); a read of someone else's record is audited.
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "directory", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_person(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(masked(
        &people::get(dir.db(), dir.clock(), &caller, id(&raw)?).await?,
    ))
}

/// What may be changed on a contact: nothing else is accepted (roles, organisation, state and
/// e-mail address have their own operations).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    surname: Option<String>,
    first_name: Option<String>,
    phone: Option<String>,
    mobile: Option<String>,
    fax: Option<String>,
    function: Option<String>,
    language: Option<Language>,
    gender: Option<Gender>,
    /// Rental companies only; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    birth_date: Option<Option<String>>,
    /// Rental companies only: the training certificate is valid until this date; `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    training_valid_until: Option<Option<String>>,
    /// Rental companies only: the complete list of the licence plates of the person's
    /// professional vehicles (at most 10; each 1 to 15 letters, digits, hyphens or spaces).
    licence_plates: Option<Vec<String>>,
}

/// Change a contact's details (their primary contact, staff, or the person themself). A field
/// the caller does not see cannot be set (403, `field_not_granted`); birth date, training
/// certificate and licence plates exist for people of rental companies only (422 elsewhere).
#[utoipa::path(patch, path = "/api/v1/people/{id}", tag = "directory", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = ContactPatch,
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 409, description = "The person's processing is restricted (code `restricted`)", body = Problem, content_type = "application/problem+json")))]
async fn update_person(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    body: Result<ApiJson<ContactPatch>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let person = id(&raw)?;
    let ApiJson(b) = refuse_smuggled(&dir, &caller, body, Action::Update, person).await?;
    let change = ContactChange {
        surname: b.surname,
        first_name: b.first_name,
        phone: b.phone,
        mobile: b.mobile,
        fax: b.fax,
        function: b.function,
        language: b.language.map(|l| l.as_str().to_owned()),
        gender: b.gender.map(|g| g.as_str().to_owned()),
        birth_date: cleared(b.birth_date),
        training_valid_until: cleared(b.training_valid_until),
        licence_plates: b.licence_plates,
    };
    Ok(masked(
        &delegation::update(dir.db(), dir.clock(), &caller, person, &change).await?,
    ))
}

/// Deactivate a person: their sessions and access tokens end at once. Refused (403) for a person
/// holding a role the caller could not give, and (409) for the last active administrator.
#[utoipa::path(post, path = "/api/v1/people/{id}/deactivate", tag = "directory", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn deactivate_person(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    Ok(masked(
        &delegation::set_active(
            dir.db(),
            dir.clock(),
            dir.revocations(),
            &caller,
            id(&raw)?,
            false,
        )
        .await?,
    ))
}

/// Reactivate a contact.
#[utoipa::path(post, path = "/api/v1/people/{id}/reactivate", tag = "directory", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 409, description = "The person's processing is restricted (code `restricted`)", body = Problem, content_type = "application/problem+json")))]
async fn reactivate_person(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    Ok(masked(
        &delegation::set_active(
            dir.db(),
            dir.clock(),
            dir.revocations(),
            &caller,
            id(&raw)?,
            true,
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rights {
    /// The complete set.
    rights: Vec<Right>,
}

/// Replace a contact's delegated rights (never beyond the caller's own).
#[utoipa::path(put, path = "/api/v1/people/{id}/rights", tag = "directory", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = Rights,
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 409, description = "The person's processing is restricted (code `restricted`)", body = Problem, content_type = "application/problem+json")))]
async fn set_rights(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    body: Result<ApiJson<Rights>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let person = id(&raw)?;
    let ApiJson(b) = refuse_smuggled(&dir, &caller, body, Action::Grant, person).await?;
    Ok(masked(
        &delegation::set_rights(
            dir.db(),
            dir.clock(),
            &caller,
            person,
            &words::strings(&b.rights, Right::as_str),
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// The complete set of roles.
    roles: Vec<Role>,
}

/// Replace a person's roles: only roles the caller may give (`policies/roles.csv`) and that fit
/// the organisation, of a person who holds no role the caller could not give (else 403); the
/// last active administrator keeps the role (409). The person's access tokens end at once; their
/// next refresh carries the new roles.
#[utoipa::path(put, path = "/api/v1/people/{id}/roles", tag = "directory", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = Roles,
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last active administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn set_roles(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    body: Result<ApiJson<Roles>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let person = id(&raw)?;
    let ApiJson(b) = refuse_smuggled(&dir, &caller, body, Action::Grant, person).await?;
    Ok(masked(
        &delegation::set_roles(
            dir.db(),
            dir.clock(),
            dir.revocations(),
            &caller,
            person,
            &words::strings(&b.roles, Role::as_str),
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DossierParams {
    organisation_id: Option<Uuid>,
}

/// The dossiers the caller may see.
#[utoipa::path(get, path = "/api/v1/dossiers", tag = "dossiers", security(("bearer" = [])), params(DossierParams),
    responses((status = 200, body = MaskedList),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_dossiers(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(p): ApiQuery<DossierParams>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(many(
        &dossiers::list(dir.db(), dir.clock(), &caller, p.organisation_id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DossierCreation {
    organisation_id: Uuid,
    scheme: String,
    certificate_number: Option<String>,
    status: DossierStatus,
    #[schema(value_type = Option<String>, format = Date)]
    valid_from: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    valid_until: Option<String>,
}

pub(crate) fn date(field: &'static str, raw: Option<&str>) -> Result<Option<time::Date>, ApiError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    raw.map(|s| {
        time::Date::parse(s, &format).map_err(|_| ApiError::Invalid {
            field,
            message: "a date as YYYY-MM-DD".into(),
        })
    })
    .transpose()
}

/// Open a dossier for a client company (staff).
#[utoipa::path(post, path = "/api/v1/dossiers", tag = "dossiers", security(("bearer" = [])), request_body = DossierCreation,
    responses((status = 201, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_dossier(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiJson(b): ApiJson<DossierCreation>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let new = NewDossier {
        organisation_id: b.organisation_id,
        scheme: b.scheme,
        certificate_number: b.certificate_number,
        status: b.status.as_str().to_owned(),
        valid_from: date("valid_from", b.valid_from.as_deref())?,
        valid_until: date("valid_until", b.valid_until.as_deref())?,
    };
    let d = dossiers::create(dir.db(), dir.clock(), &caller, &new).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

/// One dossier (404 when not the caller's to see).
#[utoipa::path(get, path = "/api/v1/dossiers/{id}", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_dossier(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(masked(
        &dossiers::get(dir.db(), dir.clock(), &caller, id(&raw)?).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssignmentParams {
    dossier_id: Option<Uuid>,
}

/// Assignments: all for staff, the caller's own in force for inspectors.
#[utoipa::path(get, path = "/api/v1/assignments", tag = "dossiers", security(("bearer" = [])), params(AssignmentParams),
    responses((status = 200, body = MaskedList),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_assignments(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(p): ApiQuery<AssignmentParams>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(many(
        &assignments::list(dir.db(), dir.clock(), &caller, p.dossier_id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignmentCreation {
    dossier_id: Uuid,
    inspector_id: Uuid,
    /// RFC 3339 instant.
    #[schema(format = DateTime)]
    starts_at: String,
    /// RFC 3339 instant, after `starts_at`.
    #[schema(format = DateTime)]
    ends_at: String,
}

fn instant(field: &'static str, raw: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| ApiError::Invalid {
        field,
        message: "an instant as RFC 3339, e.g. 2026-12-01T08:00:00Z".into(),
    })
}

/// Assign an inspector to a dossier for a period (staff).
#[utoipa::path(post, path = "/api/v1/assignments", tag = "dossiers", security(("bearer" = [])), request_body = AssignmentCreation,
    responses((status = 201, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"), (status = 409, description = "The person's processing is restricted (code `restricted`)", body = Problem, content_type = "application/problem+json")))]
async fn create_assignment(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiJson(b): ApiJson<AssignmentCreation>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let new = NewAssignment {
        dossier_id: b.dossier_id,
        inspector_id: b.inspector_id,
        starts_at: instant("starts_at", &b.starts_at)?,
        ends_at: instant("ends_at", &b.ends_at)?,
    };
    let a = assignments::create(dir.db(), dir.clock(), &caller, &new).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

/// One assignment (404 when not the caller's to see).
#[utoipa::path(get, path = "/api/v1/assignments/{id}", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_assignment(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(masked(
        &assignments::get(dir.db(), dir.clock(), &caller, id(&raw)?).await?,
    ))
}

/// End an assignment now (staff): the inspector loses access at this instant.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/end", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn end_assignment(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    Ok(masked(
        &assignments::end(dir.db(), dir.clock(), &caller, id(&raw)?).await?,
    ))
}
