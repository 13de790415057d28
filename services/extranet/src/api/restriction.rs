//! Restriction of processing (GDPR Art. 18) for API clients: the privacy coordinator places a
//! restriction on a person (with the reason) and lifts it. Decisions and audit records are
//! `extranet_directory::restriction`'s.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use extranet_directory::Directory;
use extranet_directory::restriction::{self, RestrictionOutcome};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiState;
use super::auth::Authenticated;
use super::directory::{Peer, id, writer};
use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::Problem;

/// The operations of this module and the permission each needs (see `directory::PERMISSIONS`).
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("put", "/api/v1/people/{id}/restriction", "person.restrict"),
    (
        "delete",
        "/api/v1/people/{id}/restriction",
        "person.restrict",
    ),
];

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(place, lift))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Placing {
    /// Why (the request it answers): required (not only spaces), at most 2,000 characters.
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = "^[^\\u0000]*\\S[^\\u0000]*$"
    )]
    reason: String,
}

/// What was done: `action` (`restricted` or `lifted`), `changed` (false when the person already
/// was in that state) and the restriction as it now stands.
#[derive(ToSchema)]
#[allow(dead_code)]
struct Outcome {
    action: String,
    changed: bool,
    /// `person_id`, `restricted`, `restricted_at`, `restricted_by`, `reason`.
    restriction: serde_json::Value,
}

fn answer(o: &RestrictionOutcome) -> Response {
    Json(o).into_response()
}

/// Restrict the processing of a person's data (GDPR Art. 18; the privacy coordinator): while it
/// holds, other roles see the person as restricted with every field masked, exports leave them
/// out, every change, assignment or invitation mail concerning them is refused (409, code
/// `restricted`) and only essential mail reaches them. The person still signs in and sees their
/// own data. Nobody restricts their own record (403: they file a request).
#[utoipa::path(put, path = "/api/v1/people/{id}/restriction", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Placing,
    responses((status = 200, body = Outcome), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn place(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    body: Result<ApiJson<Placing>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let person = id(&raw)?;
    // The decision (404/403, recorded) before the body: a refusal says nothing of its form.
    restriction::may_restrict(dir.db(), dir.clock(), &caller, person).await?;
    let ApiJson(b) = body?;
    let done = restriction::restrict(dir.db(), dir.clock(), &caller, person, &b.reason).await?;
    Ok(answer(&done))
}

/// Lift a person's restriction (the privacy coordinator): their data is used again as before.
#[utoipa::path(delete, path = "/api/v1/people/{id}/restriction", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Outcome), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn lift(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer(&dir, &who, &peer).await?;
    let done = restriction::lift(dir.db(), dir.clock(), &caller, id(&raw)?).await?;
    Ok(answer(&done))
}
