//! A company's data handed over (issue 17): `GET /api/v1/organisations/{id}/export`, the
//! organisation, its people, dossiers and documents as one ZIP with its JSON Schema
//! (`extranet_privacy::subject::handover`). Its primary contact may export their own company,
//! staff any company (`organisation.export` in the policy); anyone who sees the company but
//! may not export it is refused (403), a company the caller does not see is not found (404). The export is recorded as `subject.handover`.

use std::io::{BufWriter, Seek, SeekFrom};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use extranet_access::{Action, Resource};
use extranet_documents::Documents;
use extranet_privacy::subject::{Requester, handover};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::auth::Authenticated;
use super::directory::{Peer, ip};
use super::error::ApiError;
use super::openapi::Problem;

/// The operations of this module and the permission each needs (see `directory::PERMISSIONS`).
pub const PERMISSIONS: &[(&str, &str, &str)] = &[(
    "get",
    "/api/v1/organisations/{id}/export",
    "organisation.export",
)];

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(export_organisation))
}

/// The company's organisation, people, dossiers and documents as one ZIP archive
/// (`organisation.json`, `schema.json`, `documents/…`).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/export", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the ZIP archive", content_type = "application/zip"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn export_organisation(
    State(docs): State<Arc<Documents>>,
    peer: Peer,
    who: Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id: Uuid = raw.parse().map_err(|_| ApiError::NotFound)?;
    // Decided on the roles as the database holds them now, like every route: a company the
    // caller may not see is not found (404), one they see but may not export is refused
    // (403); both are recorded before anything is read.
    let caller = docs.caller(who.0.sub, ip(&peer)).await?;
    extranet_directory::organisations::get(docs.db(), docs.clock(), &caller, id).await?;
    let rel = caller.relation().of(Some(id), None, false);
    caller
        .permit(
            docs.db(),
            docs.clock(),
            (Resource::Organisation, Action::Export),
            ("organisation", id),
            rel,
        )
        .await?;
    // The archive is written to an unlinked temporary file (documents can be large), then
    // streamed from it; the file disappears when the stream ends.
    let path = std::env::temp_dir().join(format!("extranet-export-{}.zip", Uuid::new_v4()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| ApiError::Internal(format!("export: {e}")))?;
    let _ = std::fs::remove_file(&path);
    let who = Requester {
        actor: Some(who.0.sub),
        ip: ip(&peer),
    };
    let (out, _) = handover::export(docs.db(), docs.objects(), id, BufWriter::new(file), who)
        .await
        .map_err(ApiError::from)?;
    let mut file = out
        .into_inner()
        .map_err(|e| ApiError::Internal(format!("export: {}", e.error())))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| ApiError::Internal(format!("export: {e}")))?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let mut res = Body::from_stream(stream).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"organisation-{id}.zip\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
