//! Certification documents for API clients. Decisions, scoping, masking, audit records and the
//! crash-consistent upload are `extranet_documents`'s; the multipart and download plumbing is
//! `extranet_web::transfer`'s (shared with the pages); these handlers translate HTTP.
//!
//! Uploads and downloads are "bulk" routes ([`bulk_routes`]): they stream, so they sit outside
//! the request timeout and body limit every other route has, and enforce their own (the size
//! limit while streaming; a body that stalls or drips in below the minimum rate is cut off);
//! uploads also count toward the caller's hourly limits (429 with `Retry-After`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use extranet_access::Action;
use extranet_documents::{Documents, DocumentsError};
use extranet_web::transfer::{self, Destination, PacedForm};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::auth::Authenticated;
use super::directory::{MaskedList, MaskedRecord, Peer, ip};
use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::Problem;
use super::query::ApiQuery;

/// Each document operation and the permission it needs (see `directory::PERMISSIONS`).
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("get", "/api/v1/document-types", "authenticated"),
    ("get", "/api/v1/dossiers/{id}/documents", "document.read"),
    ("post", "/api/v1/dossiers/{id}/documents", "document.upload"),
    ("put", "/api/v1/dossiers/{id}/legal-hold", "dossier.hold"),
    ("get", "/api/v1/documents/{id}", "document.read"),
    ("delete", "/api/v1/documents/{id}", "document.delete"),
    ("post", "/api/v1/documents/{id}/restore", "document.restore"),
    ("post", "/api/v1/documents/{id}/versions", "document.upload"),
    ("get", "/api/v1/documents/{id}/content", "document.read"),
    (
        "get",
        "/api/v1/organisations/{id}/document-accesses",
        "document.access_log",
    ),
];

/// Routes with bounded requests (under the standard timeout and body limit).
pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(document_types))
        .routes(routes!(list_documents))
        .routes(routes!(set_legal_hold))
        .routes(routes!(get_document, delete_document))
        .routes(routes!(restore_document))
        .routes(routes!(access_log))
}

/// Streaming routes: uploads and downloads.
pub fn bulk_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(upload_document))
        .routes(routes!(upload_version))
        .routes(routes!(download))
        // The size limit is the documents service's, enforced while the file streams in.
        .layer(DefaultBodyLimit::disable())
}

impl From<DocumentsError> for ApiError {
    fn from(e: DocumentsError) -> Self {
        let status = match &e {
            DocumentsError::NotFound => return ApiError::NotFound,
            DocumentsError::Forbidden(_) => return ApiError::Forbidden,
            DocumentsError::Unauthenticated => return ApiError::Unauthenticated,
            DocumentsError::Invalid { field, message } => {
                return ApiError::Invalid {
                    field,
                    message: message.clone(),
                };
            }
            DocumentsError::Internal(m) => return ApiError::Internal(m.clone()),
            DocumentsError::LimitReached(reached) => {
                return ApiError::Limited {
                    retry_after: reached.retry_after,
                    code: e.code(),
                    detail: e.to_string(),
                };
            }
            DocumentsError::TooSlow { .. } => StatusCode::REQUEST_TIMEOUT,
            DocumentsError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            DocumentsError::TypeNotAllowed | DocumentsError::TypeMismatch { .. } => {
                StatusCode::UNSUPPORTED_MEDIA_TYPE
            }
            DocumentsError::Empty | DocumentsError::Rejected => StatusCode::UNPROCESSABLE_ENTITY,
            DocumentsError::ScanUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            DocumentsError::LegalHold | DocumentsError::Conflict(_) => StatusCode::CONFLICT,
            DocumentsError::Interrupted(_) => StatusCode::BAD_REQUEST,
        };
        ApiError::Coded {
            status,
            code: e.code(),
            detail: e.to_string(),
        }
    }
}

async fn caller(
    docs: &Documents,
    who: &Authenticated,
    peer: &Peer,
) -> Result<extranet_directory::Caller, ApiError> {
    Ok(docs.caller(who.0.sub, ip(peer)).await?)
}

/// An id in a path: anything that is not an id cannot name a visible record.
fn id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

/// A body announced larger than the limit (plus room for the form around the file) is refused
/// before a byte of it is read.
fn refuse_oversized(docs: &Documents, headers: &HeaderMap) -> Result<(), ApiError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = docs.settings().max_bytes;
    match announced {
        Some(n) if n > limit.saturating_add(64 * 1024) => {
            Err(DocumentsError::TooLarge { limit }.into())
        }
        _ => Ok(()),
    }
}

/// What is refused before a byte of an upload's body is read: a body announced over the size
/// limit, a caller over their hourly upload limits, a body that is not a multipart form. The
/// body is then read under the installation's pace.
async fn refuse_early(
    docs: &Documents,
    caller: &extranet_directory::Caller,
    request: Request,
) -> Result<PacedForm, ApiError> {
    // Announced over the limit: not read at all (the connection closes, as HTTP allows).
    refuse_oversized(docs, request.headers())?;
    if let Err(e) = docs.check_upload_limit(caller).await {
        transfer::drain_body(request.into_body()).await;
        return Err(e.into());
    }
    Ok(PacedForm::new(request, transfer::pace_of(docs)).await?)
}

/// An upload: decided (404/403, recorded) and checked against the limits before its body is
/// read, then streamed in. A refusal reads and drops a little of the body first
/// ([`transfer::drain_body`]), so the client reads the answer rather than a reset.
async fn upload(
    docs: &Documents,
    decided: Result<(extranet_directory::Caller, Destination), ApiError>,
    request: Request,
) -> Result<Response, ApiError> {
    let (caller, into) = match decided {
        Ok(d) => d,
        Err(e) => {
            transfer::drain_body(request.into_body()).await;
            return Err(e);
        }
    };
    let mut form = refuse_early(docs, &caller, request).await?;
    match transfer::receive(docs, &caller, into, &mut form).await {
        Ok(doc) => Ok((StatusCode::CREATED, Json(doc)).into_response()),
        Err(e) => {
            form.drain().await;
            Err(e.into())
        }
    }
}

/// The configured document types, in the order forms offer them.
#[utoipa::path(get, path = "/api/v1/document-types", tag = "documents", security(("bearer" = [])),
    responses((status = 200, body = Vec<String>), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn document_types(State(docs): State<Arc<Documents>>, _who: Authenticated) -> Response {
    Json(&docs.settings().types).into_response()
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
}

/// A page of a dossier's documents, newest change first, each with its latest version.
#[utoipa::path(get, path = "/api/v1/dossiers/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path), ListParams),
    responses((status = 200, body = MaskedList), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_documents(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let caller = caller(&docs, &who, &peer).await?;
    let page = docs
        .list(
            &caller,
            id(&raw)?,
            p.after.as_deref(),
            p.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(serde_json::json!({
        "items": page.items, "next": page.next, "legal_hold": page.legal_hold,
    }))
    .into_response())
}

/// The form of a new document (multipart/form-data); the text fields come before the file.
/// No other part is accepted.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct NewDocumentForm {
    /// The document's title, on one line.
    #[schema(min_length = 1, max_length = 200)]
    title: String,
    /// One of `/api/v1/document-types` (the document lists the configured ones).
    doc_type: String,
    /// The file: PDF, an image or an office document, checked by its bytes.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
}

/// The form of a new version (multipart/form-data): the file alone.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct VersionForm {
    /// The file: PDF, an image or an office document, checked by its bytes.
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
}

/// States in the document what the upload forms accept: the configured document types, and no
/// part beyond the form's own.
pub(crate) fn describe_forms(doc: &mut utoipa::openapi::OpenApi, types: &[String]) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for name in ["NewDocumentForm", "VersionForm"] {
        let Some(RefOr::T(Schema::Object(form))) = components.schemas.get_mut(name) else {
            continue;
        };
        form.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        if let Some(RefOr::T(Schema::Object(doc_type))) = form.properties.get_mut("doc_type") {
            doc_type.enum_values = Some(types.iter().map(|t| serde_json::json!(t)).collect());
        }
    }
}

/// Upload a new document into a dossier: streamed to storage, checked by its bytes (type,
/// size, optional malware scan), visible only once complete.
#[utoipa::path(post, path = "/api/v1/dossiers/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = NewDocumentForm, content_type = "multipart/form-data"),
    responses((status = 201, body = MaskedRecord), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"), (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "the body arrived slower than the installation's minimum rate and was cut off", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "the caller's hourly upload limit (uploads or bytes) is reached", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "seconds until the upload may be tried again")))))]
async fn upload_document(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let decided = async {
        let caller = caller(&docs, &who, &peer).await?;
        let dossier = id(&raw)?;
        docs.dossier_for(&caller, dossier, Action::Upload).await?;
        Ok::<_, ApiError>((caller, Destination::Dossier(dossier)))
    };
    upload(&docs, decided.await, request).await
}

/// Upload a new version of a document.
#[utoipa::path(post, path = "/api/v1/documents/{id}/versions", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = VersionForm, content_type = "multipart/form-data"),
    responses((status = 201, body = MaskedRecord), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"), (status = 415, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 408, description = "the body arrived slower than the installation's minimum rate and was cut off", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "the caller's hourly upload limit (uploads or bytes) is reached", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "seconds until the upload may be tried again")))))]
async fn upload_version(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let decided = async {
        let caller = caller(&docs, &who, &peer).await?;
        let document = id(&raw)?;
        docs.document_for(&caller, document, Action::Upload).await?;
        Ok::<_, ApiError>((caller, Destination::Document(document)))
    };
    upload(&docs, decided.await, request).await
}

/// A document with its versions, newest first (recorded as a view).
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_document(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller(&docs, &who, &peer).await?;
    let (doc, versions) = docs.get(&caller, id(&raw)?).await?;
    Ok(Json(serde_json::json!({ "document": doc, "versions": versions })).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContentParams {
    /// A version number; the latest when absent.
    #[param(minimum = 1)]
    version: Option<i64>,
    /// `true`: shown in the browser (PDFs and images only, under a sandboxing CSP).
    inline: Option<bool>,
}

/// A version's bytes: streamed, with `Range`, `ETag` (the SHA-256), `Content-Disposition`
/// and `Cache-Control: no-store`. Recorded as a download (or a view, inline).
#[utoipa::path(get, path = "/api/v1/documents/{id}/content", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path), ContentParams),
    responses((status = 200, description = "the bytes"), (status = 206, description = "the requested range"),
        (status = 401, body = Problem, content_type = "application/problem+json"), (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"), (status = 416, body = Problem, content_type = "application/problem+json")))]
async fn download(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    ApiQuery(p): ApiQuery<ContentParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller(&docs, &who, &peer).await?;
    let inline = p.inline.unwrap_or(false);
    let opened = docs.open(&caller, id(&raw)?, p.version, inline).await?;
    Ok(transfer::serve(&docs, &opened, &headers, inline).await)
}

/// Delete a document (soft: staff can restore it). Refused while the dossier is held.
#[utoipa::path(delete, path = "/api/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
async fn delete_document(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller(&docs, &who, &peer).await?;
    docs.delete(&caller, id(&raw)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Undo a deletion (staff).
#[utoipa::path(post, path = "/api/v1/documents/{id}/restore", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedRecord), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn restore_document(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller(&docs, &who, &peer).await?;
    Ok(Json(docs.restore(&caller, id(&raw)?).await?).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalHold {
    /// `true` places the hold, `false` lifts it.
    hold: bool,
}

/// Place or lift a legal hold on a dossier (staff): while it holds, no document of the dossier
/// can be deleted.
#[utoipa::path(put, path = "/api/v1/dossiers/{id}/legal-hold", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = LegalHold,
    responses((status = 204), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn set_legal_hold(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
    body: Result<ApiJson<LegalHold>, ApiError>,
) -> Result<Response, ApiError> {
    let caller = caller(&docs, &who, &peer).await?;
    let dossier = id(&raw)?;
    let ApiJson(b) = body?;
    docs.set_hold(&caller, dossier, b.hold).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Who viewed or downloaded the organisation's documents, newest first (its primary contact,
/// and staff), as far as the caller's field grants show.
#[utoipa::path(get, path = "/api/v1/organisations/{id}/document-accesses", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MaskedList), (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"), (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn access_log(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller(&docs, &who, &peer).await?;
    let items = docs.access_log(&caller, id(&raw)?).await?;
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}
