//! Subprocessors for API clients: the register (now, or as of a date) with each entry's history,
//! change notices (drafted, published and withdrawn by the privacy coordinator), and clients'
//! objections with their decisions. Decisions and audit records are `extranet_subprocessors`'.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use extranet_subprocessors::entry::{Entry, Location};
use extranet_subprocessors::notices::NoticeDraft;
use extranet_subprocessors::objections::Decision;
use extranet_subprocessors::{Reader, Subprocessors, SubprocessorsError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::auth::Authenticated;
use super::directory::{MaskedList, MaskedRecord, Peer, id, ip, many, masked};
use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::Problem;
use super::query::ApiQuery;
use super::words::{DecisionWord, NoticeKind, NoticeState, OutcomeWord};

/// The operations of this module and the permission each needs (see `directory::PERMISSIONS`).
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("get", "/api/v1/subprocessors", "subprocessor.list"),
    ("get", "/api/v1/subprocessors/{id}", "subprocessor.list"),
    ("get", "/api/v1/subprocessor-notices", "subprocessor.list"),
    (
        "post",
        "/api/v1/subprocessor-notices",
        "subprocessor.update",
    ),
    (
        "get",
        "/api/v1/subprocessor-notices/{id}",
        "subprocessor.list",
    ),
    (
        "patch",
        "/api/v1/subprocessor-notices/{id}",
        "subprocessor.update",
    ),
    (
        "post",
        "/api/v1/subprocessor-notices/{id}/publish",
        "subprocessor.publish",
    ),
    (
        "post",
        "/api/v1/subprocessor-notices/{id}/withdraw",
        "subprocessor.withdraw",
    ),
    (
        "post",
        "/api/v1/subprocessor-notices/{id}/objections",
        "subprocessor.object",
    ),
    ("get", "/api/v1/objections", "objection.list"),
    ("get", "/api/v1/objections/{id}", "objection.read"),
    ("patch", "/api/v1/objections/{id}", "subprocessor.object"),
    (
        "post",
        "/api/v1/objections/{id}/withdraw",
        "subprocessor.object",
    ),
    (
        "post",
        "/api/v1/objections/{id}/decision",
        "objection.decide",
    ),
];

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_entry))
        .routes(routes!(list_notices, draft_notice))
        .routes(routes!(get_notice, edit_notice))
        .routes(routes!(publish_notice))
        .routes(routes!(withdraw_notice))
        .routes(routes!(object))
        .routes(routes!(list_objections))
        .routes(routes!(get_objection, amend_objection))
        .routes(routes!(withdraw_objection))
        .routes(routes!(decide))
}

impl From<SubprocessorsError> for ApiError {
    fn from(e: SubprocessorsError) -> Self {
        match e {
            SubprocessorsError::NotFound => ApiError::NotFound,
            SubprocessorsError::Forbidden(_) => ApiError::Forbidden,
            SubprocessorsError::Unauthenticated => ApiError::Unauthenticated,
            SubprocessorsError::Invalid { field, message } => ApiError::Invalid { field, message },
            SubprocessorsError::Conflict(m) => ApiError::Conflict(m),
            SubprocessorsError::Internal(m) => ApiError::Internal(m),
            e @ SubprocessorsError::WindowClosed { .. } => ApiError::Coded {
                status: StatusCode::CONFLICT,
                code: e.code(),
                detail: e.to_string(),
            },
        }
    }
}

fn svc(s: &ApiState) -> &Arc<Subprocessors> {
    &s.subprocessors
}

fn reader_of(s: &ApiState, who: &Authenticated, peer: &Peer) -> extranet_directory::Caller {
    super::directory::reader(&s.directory, who, peer)
}

async fn writer_of(
    s: &ApiState,
    who: &Authenticated,
    peer: &Peer,
) -> Result<extranet_directory::Caller, ApiError> {
    Ok(s.subprocessors.caller(who.0.sub, ip(peer)).await?)
}

/// A subprocessor as the caller may see it: the fields granted, and under `masked` the names
/// of those that are not (their values never leave the server). Kept equal to
/// `extranet_access::SubprocessorView` by a unit test.
// Serialize only so that `deny_unknown_fields` is accepted: utoipa publishes it as
// `additionalProperties: false`.
#[derive(ToSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct SubprocessorRecord {
    id: Option<Uuid>,
    legal_name: Option<String>,
    /// Enterprise or registration number.
    registration_number: Option<String>,
    website: Option<String>,
    /// What it does for the certification body.
    service: Option<String>,
    /// Codes of `policies/data_categories.csv` (kind `data`).
    data_categories: Option<Vec<String>>,
    /// Codes of `policies/data_categories.csv` (kind `subjects`).
    subject_categories: Option<Vec<String>>,
    /// ISO 3166-1 alpha-2 codes.
    locations: Option<Vec<String>>,
    /// `US: standard_contractual_clauses` for each location outside the EEA.
    transfers: Option<Vec<String>>,
    /// ISO date of the processing agreement.
    #[schema(value_type = Option<String>, format = Date)]
    agreement_date: Option<Option<String>>,
    /// `announced`, `active` or `retired`.
    state: Option<String>,
    /// An upheld objection took the caller's company out of this entry.
    excluded: Option<bool>,
    masked: Option<Vec<String>>,
}

/// The register on a date.
// Serialize only so that `deny_unknown_fields` is accepted: utoipa publishes it as
// `additionalProperties: false`.
#[derive(ToSchema, serde::Serialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct SubprocessorList {
    /// RFC 3339: the instant the list describes.
    #[schema(format = DateTime)]
    as_of: String,
    /// The active subprocessors then, each masked for the caller.
    items: Vec<SubprocessorRecord>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `YYYY-MM-DD`: the list as it stood at the end of that day (installation time zone);
    /// today or before.
    #[param(format = Date)]
    at: Option<String>,
}

/// The register: the active subprocessors now, or as they stood at the end of `at`.
#[utoipa::path(get, path = "/api/v1/subprocessors", tag = "subprocessors", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = SubprocessorList), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let caller = reader_of(&s, &who, &peer);
    let listing = match q.at.as_deref() {
        Some(at) => svc(&s).as_of(Reader::Person(&caller), at).await?,
        None => svc(&s).current(Reader::Person(&caller)).await?,
    };
    Ok(Json(listing.to_json()).into_response())
}

/// An entry as it stands now, with its history.
#[derive(ToSchema)]
#[allow(dead_code)]
struct EntryWithHistory {
    entry: SubprocessorRecord,
    /// Oldest first: when, what (`announced`, `activated`, `changed`, `retired`, `withdrawn`,
    /// `excluded`), by which notice, and the entry after the change.
    history: Vec<serde_json::Value>,
}

/// One subprocessor with its change history.
#[utoipa::path(get, path = "/api/v1/subprocessors/{id}", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = EntryWithHistory), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn get_entry(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = reader_of(&s, &who, &peer);
    let (entry, history) = svc(&s).entry(Reader::Person(&caller), id(&raw)?).await?;
    Ok(Json(serde_json::json!({ "entry": entry, "history": history })).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticeParams {
    /// Only notices in this state (`draft` for the coordinator only).
    state: Option<NoticeState>,
}

/// Change notices, the latest effective date first.
#[utoipa::path(get, path = "/api/v1/subprocessor-notices", tag = "subprocessors", security(("bearer" = [])),
    params(NoticeParams),
    responses((status = 200, body = MaskedList), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_notices(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(q): ApiQuery<NoticeParams>,
) -> Result<Response, ApiError> {
    let caller = reader_of(&s, &who, &peer);
    let states: Vec<&str> = q.state.map(|x| x.as_str()).into_iter().collect();
    Ok(many(
        &svc(&s).notices(Reader::Person(&caller), &states).await?,
    ))
}

/// A processing location.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationBody {
    /// ISO 3166-1 alpha-2 code.
    country: String,
    /// Outside the EEA (where the installation allows it): `adequacy_decision`,
    /// `standard_contractual_clauses` or `binding_corporate_rules`.
    mechanism: Option<String>,
}

/// A register entry as a notice proposes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryBody {
    legal_name: String,
    registration_number: String,
    /// An https:// address.
    website: String,
    service: String,
    /// Codes of the data categories (policies/data_categories.csv, kind `data`).
    data_categories: Vec<String>,
    /// Codes of the data-subject categories (kind `subjects`).
    subject_categories: Vec<String>,
    locations: Vec<LocationBody>,
    /// `YYYY-MM-DD`.
    #[schema(format = Date)]
    agreement_date: Option<String>,
}

impl From<EntryBody> for Entry {
    fn from(b: EntryBody) -> Entry {
        Entry {
            legal_name: b.legal_name,
            registration_number: b.registration_number,
            website: b.website,
            service: b.service,
            data_categories: b.data_categories,
            subject_categories: b.subject_categories,
            locations: b
                .locations
                .into_iter()
                .map(|l| Location {
                    country: l.country,
                    mechanism: l.mechanism,
                })
                .collect(),
            agreement_date: b.agreement_date,
        }
    }
}

/// A notice as the privacy coordinator writes it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    kind: NoticeKind,
    /// The entry changed, removed or replaced (not for `add`).
    subprocessor_id: Option<Uuid>,
    /// The entry as it will be (not for `remove`).
    entry: Option<EntryBody>,
    /// What changes and why (plain text).
    summary: String,
    /// `YYYY-MM-DD`, at least the notice period after publication.
    #[schema(format = Date)]
    effective_date: String,
}

impl From<NoticeBody> for NoticeDraft {
    fn from(b: NoticeBody) -> NoticeDraft {
        NoticeDraft {
            kind: b.kind.as_str().to_owned(),
            subprocessor_id: b.subprocessor_id,
            entry: b.entry.map(Entry::from),
            summary: b.summary,
            effective_date: b.effective_date,
        }
    }
}

/// Draft a notice (the privacy coordinator); nothing is announced until it is published.
#[utoipa::path(post, path = "/api/v1/subprocessor-notices", tag = "subprocessors", security(("bearer" = [])),
    request_body = NoticeBody,
    responses((status = 201, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn draft_notice(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    ApiJson(b): ApiJson<NoticeBody>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    let n = svc(&s).draft(&caller, &b.into()).await?;
    Ok((StatusCode::CREATED, Json(n)).into_response())
}

/// One notice (drafts for the coordinator only).
#[utoipa::path(get, path = "/api/v1/subprocessor-notices/{id}", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn get_notice(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = reader_of(&s, &who, &peer);
    Ok(masked(
        &svc(&s).notice(Reader::Person(&caller), id(&raw)?).await?,
    ))
}

/// Change a draft (409 once published, withdrawn or applied).
#[utoipa::path(patch, path = "/api/v1/subprocessor-notices/{id}", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NoticeBody,
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn edit_notice(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<NoticeBody>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    Ok(masked(
        &svc(&s).update_draft(&caller, id(&raw)?, &b.into()).await?,
    ))
}

/// Publish a draft: mails every client company's primary contacts and subscribers.
#[utoipa::path(post, path = "/api/v1/subprocessor-notices/{id}/publish", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn publish_notice(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    let (n, _) = svc(&s).publish(&caller, id(&raw)?).await?;
    Ok(masked(&n))
}

/// Why a notice is withdrawn.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawalBody {
    reason: String,
}

/// Withdraw a notice before it takes effect (mailed like its publication).
#[utoipa::path(post, path = "/api/v1/subprocessor-notices/{id}/withdraw", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = WithdrawalBody,
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn withdraw_notice(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<WithdrawalBody>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    Ok(masked(
        &svc(&s).withdraw(&caller, id(&raw)?, &b.reason).await?,
    ))
}

/// An objection's reasons: HTML (paragraphs, lists, emphasis, links), cleaned on arrival.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonsBody {
    reasons: String,
}

/// Object to a published notice for the caller's company, while its window is open (409 with
/// code `window_closed` after).
#[utoipa::path(post, path = "/api/v1/subprocessor-notices/{id}/objections", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ReasonsBody,
    responses((status = 201, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn object(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReasonsBody>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    let o = svc(&s).object(&caller, id(&raw)?, &b.reasons).await?;
    Ok((StatusCode::CREATED, Json(o)).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObjectionParams {
    /// Only the objections to this notice.
    notice_id: Option<Uuid>,
}

/// Objections: the caller's company's, or every company's for staff roles.
#[utoipa::path(get, path = "/api/v1/objections", tag = "subprocessors", security(("bearer" = [])),
    params(ObjectionParams),
    responses((status = 200, body = MaskedList), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn list_objections(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    ApiQuery(q): ApiQuery<ObjectionParams>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    Ok(many(&svc(&s).objections(&caller, q.notice_id).await?))
}

/// One objection.
#[utoipa::path(get, path = "/api/v1/objections/{id}", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json")))]
async fn get_objection(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    Ok(masked(&svc(&s).objection(&caller, id(&raw)?).await?))
}

/// Rewrite the reasons of the company's open objection.
#[utoipa::path(patch, path = "/api/v1/objections/{id}", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ReasonsBody,
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn amend_objection(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<ReasonsBody>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    Ok(masked(
        &svc(&s).amend(&caller, id(&raw)?, &b.reasons).await?,
    ))
}

/// Withdraw the company's open objection.
#[utoipa::path(post, path = "/api/v1/objections/{id}/withdraw", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn withdraw_objection(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    Ok(masked(
        &svc(&s).withdraw_objection(&caller, id(&raw)?).await?,
    ))
}

/// A decision on an objection.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    decision: DecisionWord,
    /// For `upheld`: withdraw the notice, or exclude the company from the entry.
    outcome: Option<OutcomeWord>,
    /// The justification (required to reject) or a note.
    note: String,
}

/// Decide an open objection (the privacy coordinator); the company is told by mail.
#[utoipa::path(post, path = "/api/v1/objections/{id}/decision", tag = "subprocessors", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = DecisionBody,
    responses((status = 200, body = MaskedRecord), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn decide(
    State(s): State<ApiState>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiJson(b): ApiJson<DecisionBody>,
) -> Result<Response, ApiError> {
    let caller = writer_of(&s, &who, &peer).await?;
    let d = Decision {
        decision: b.decision.as_str().to_owned(),
        outcome: b.outcome.map(|o| o.as_str().to_owned()),
        note: b.note,
    };
    Ok(masked(&svc(&s).decide(&caller, id(&raw)?, &d).await?))
}

#[cfg(test)]
mod tests {
    use extranet_access::Outward;

    /// The published schema names every field of the outward type, and nothing else.
    #[test]
    fn the_record_schema_names_every_field() {
        let schema =
            serde_json::to_value(<super::SubprocessorRecord as utoipa::PartialSchema>::schema())
                .unwrap_or_default();
        let mut published: Vec<String> = schema["properties"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        published.sort();
        let mut fields: Vec<String> = extranet_access::SubprocessorView::FIELDS
            .iter()
            .map(|f| (*f).to_owned())
            .chain(["masked".to_owned()])
            .collect();
        fields.sort();
        assert_eq!(published, fields);
    }
}
