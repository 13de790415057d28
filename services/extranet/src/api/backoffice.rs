//! The back office's operations for API clients: creating organisations, editing dossiers and
//! their certificate status (with its history), pending invitations, assignments ending soon and
//! the inspectors staff may assign. Decisions and audit records are `extranet_directory`'s.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use extranet_directory::dossiers::DossierChanges;
use extranet_directory::organisations::NewOrganisation;
use extranet_directory::{Directory, assignments, dossiers, invitations, organisations};
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::auth::Authenticated;
use super::directory::{MaskedList, MaskedRecord, Peer, date, id, many, masked, reader, writer};
use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::Problem;
use super::query::ApiQuery;
use super::words::{DossierStatus, OrganisationKind};

/// The operations of this module and the permission each needs (see `directory::PERMISSIONS`).
/// `/inspectors` lists the people `assignment.create` may name.
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("post", "/api/v1/organisations", "organisation.create"),
    ("patch", "/api/v1/dossiers/{id}", "dossier.update"),
    ("post", "/api/v1/dossiers/{id}/status", "dossier.status"),
    (
        "get",
        "/api/v1/dossiers/{id}/status-history",
        "dossier.history",
    ),
    ("get", "/api/v1/invitations", "invitation.list"),
    (
        "post",
        "/api/v1/invitations/{id}/resend",
        "invitation.resend",
    ),
    (
        "post",
        "/api/v1/invitations/{id}/withdraw",
        "invitation.withdraw",
    ),
    ("get", "/api/v1/assignments/ending-soon", "assignment.list"),
    ("get", "/api/v1/inspectors", "assignment.create"),
];

/// The routes of this module; `create_organisation` and `update_dossier` share their paths
/// with `directory`'s and are routed there.
pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(set_status))
        .routes(routes!(status_history))
        .routes(routes!(list_invitations))
        .routes(routes!(resend_invitation))
        .routes(routes!(withdraw_invitation))
        .routes(routes!(ending_soon))
        .routes(routes!(list_inspectors))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationCreation {
    kind: OrganisationKind,
    name: String,
    /// Belgian enterprise number (checked by modulo 97); unique.
    enterprise_number: Option<String>,
    vat_number: Option<String>,
    phone: Option<String>,
}

/// Create a client or rental company (staff).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "directory", security(("bearer" = [])),
    request_body = OrganisationCreation,
    responses((status = 201, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The enterprise number is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_organisation(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiJson(b): ApiJson<OrganisationCreation>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let new = NewOrganisation {
        kind: b.kind.as_str().to_owned(),
        name: b.name,
        enterprise_number: b.enterprise_number,
        vat_number: b.vat_number,
        phone: b.phone,
    };
    let id = organisations::create(dir.db(), dir.clock(), &caller, new).await?;
    let org = organisations::get(dir.db(), dir.clock(), &caller, id).await?;
    Ok((StatusCode::CREATED, Json(org)).into_response())
}

/// A field that may be cleared: absent → `None` (unchanged), `null` → `Some(None)` (cleared).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// What an edit of a dossier changes; absent fields stay as they are, `null` clears an optional
/// one. The status has its own operation (`/status`, with a reason).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DossierPatch {
    scheme: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    certificate_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    valid_from: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    valid_until: Option<Option<String>>,
}

/// Edit a dossier's scheme, certificate number or validity (staff); audited with old and new
/// values.
#[utoipa::path(patch, path = "/api/v1/dossiers/{id}", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = DossierPatch,
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The certificate number is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn update_dossier(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<DossierPatch>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let opt_date =
        |field, v: Option<Option<String>>| -> Result<Option<Option<time::Date>>, ApiError> {
            v.map(|d| date(field, d.as_deref())).transpose()
        };
    let changes = DossierChanges {
        scheme: b.scheme,
        certificate_number: b.certificate_number,
        valid_from: opt_date("valid_from", b.valid_from)?,
        valid_until: opt_date("valid_until", b.valid_until)?,
    };
    Ok(masked(
        &dossiers::update(dir.db(), dir.clock(), &caller, id(&raw)?, &changes).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// The new status (`active` is a granted certificate).
    status: DossierStatus,
    /// Why, kept in the dossier's status history.
    #[schema(min_length = 1, max_length = 1000)]
    reason: String,
}

/// Change a certificate's status with a reason (staff). Refused (422, saying why): the status it
/// already has, a change that makes no sense (a withdrawn certificate stays withdrawn; nothing
/// returns to `application`), a blank reason.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/status", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = StatusRequest,
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The status changed meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn set_status(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<StatusRequest>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let d = dossiers::set_status(
        dir.db(),
        dir.clock(),
        &caller,
        id(&raw)?,
        b.status.as_str(),
        &b.reason,
    )
    .await?;
    Ok(masked(&d))
}

/// One change of a dossier's status.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct StatusChangeDoc {
    id: Uuid,
    dossier_id: Uuid,
    from_status: DossierStatus,
    to_status: DossierStatus,
    reason: String,
    /// The person who changed it.
    changed_by: Uuid,
    #[schema(format = DateTime)]
    changed_at: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct StatusHistory {
    items: Vec<StatusChangeDoc>,
}

/// A dossier's status changes, oldest first (staff and the privacy coordinator).
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/status-history", tag = "dossiers", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = StatusHistory), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn status_history(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    let items = dossiers::status_history(dir.db(), dir.clock(), &caller, id(&raw)?).await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationParams {
    /// Only this organisation's invitations.
    organisation_id: Option<Uuid>,
}

/// A pending invitation.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct InvitationDoc {
    /// The invited person's id.
    id: Uuid,
    organisation_id: Uuid,
    /// The invited person, masked for the caller.
    person: MaskedRecord,
    #[schema(format = DateTime)]
    invited_at: String,
    /// Who sent the first invitation mail, when known.
    invited_by: Option<Uuid>,
    #[schema(format = DateTime)]
    last_sent_at: Option<String>,
    /// When the latest link expires; null when no usable link is left.
    #[schema(format = DateTime)]
    expires_at: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct InvitationList {
    items: Vec<InvitationDoc>,
}

/// Invitations not yet accepted, oldest first: all the caller's role reaches (staff: every
/// organisation; a primary contact: their company's).
#[utoipa::path(get, path = "/api/v1/invitations", tag = "directory", security(("bearer" = [])), params(InvitationParams),
    responses((status = 200, body = InvitationList),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_invitations(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(p): ApiQuery<InvitationParams>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    let items = invitations::list(dir.db(), dir.clock(), &caller, p.organisation_id).await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

/// Mail an invitation again with a fresh link; the earlier link stops working. The limits of a
/// first invitation apply (429).
#[utoipa::path(post, path = "/api/v1/invitations/{id}/resend", tag = "directory", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = InvitationDoc), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"), (status = 409, description = "The person's processing is restricted (code `restricted`)", body = Problem, content_type = "application/problem+json")))]
async fn resend_invitation(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let i = invitations::resend(dir.db(), dir.clock(), &dir.recovery, &caller, id(&raw)?).await?;
    Ok(Json(i).into_response())
}

/// Withdraw an invitation: its link stops working and the invited account, never activated, is
/// removed, so the address can be invited again.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/withdraw", tag = "directory", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invitation was accepted meanwhile", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn withdraw_invitation(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    invitations::withdraw(dir.db(), dir.clock(), &caller, id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndingParams {
    /// 1 to 366; 30 when absent.
    #[param(minimum = 1, maximum = 366)]
    days: Option<u32>,
}

/// Assignments in force that end within the coming days, soonest first.
#[utoipa::path(get, path = "/api/v1/assignments/ending-soon", tag = "dossiers", security(("bearer" = [])), params(EndingParams),
    responses((status = 200, body = MaskedList),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn ending_soon(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(p): ApiQuery<EndingParams>,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    let days = p.days.unwrap_or(30);
    Ok(many(
        &assignments::ending_soon(dir.db(), dir.clock(), &caller, days).await?,
    ))
}

/// The active inspectors the caller may assign (empty for anyone who may not assign).
#[utoipa::path(get, path = "/api/v1/inspectors", tag = "dossiers", security(("bearer" = [])),
    responses((status = 200, body = MaskedList),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list_inspectors(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
) -> Result<Response, ApiError> {
    let caller = reader(&dir, &who, &peer);
    Ok(many(
        &assignments::inspectors(dir.db(), dir.clock(), &caller).await?,
    ))
}
