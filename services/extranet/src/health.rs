//! `/healthz` (the process answers) and `/readyz` (its database commits a write and its object
//! store answers).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;

const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Probed every few seconds by every load balancer: a constant answer, nothing to build.
pub async fn healthz() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    let (db, objects) = tokio::join!(
        tokio::time::timeout(CHECK_TIMEOUT, state.db.ping_write()),
        tokio::time::timeout(CHECK_TIMEOUT, state.objects.ping()),
    );
    let db_ok = check("database", db);
    let objects_ok = check("object store", objects);
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    if db_ok && objects_ok {
        return Json(json!({ "status": "ok", "database": "ok", "object_store": "ok" }))
            .into_response();
    }
    // A problem document with the state of each dependency (RFC 9457 extension members).
    let body = json!({
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "database": word(db_ok),
        "object_store": word(objects_ok),
    });
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// Failures are logged here with their cause; the response only says "unavailable".
fn check(
    what: &str,
    res: Result<extranet_platform::Result<()>, tokio::time::error::Elapsed>,
) -> bool {
    match res {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: {what} unavailable");
            false
        }
        Err(_) => {
            tracing::warn!("readiness: {what} did not answer within {CHECK_TIMEOUT:?}");
            false
        }
    }
}
