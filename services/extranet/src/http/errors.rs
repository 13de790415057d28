//! The one place where an error status becomes what the client reads.
//!
//! Whatever produced the status (an unknown route, a body over the limit, a timeout, a panic, a
//! rejected JSON body), the browser gets a page in the visitor's language and an API client gets
//! `application/problem+json` (RFC 9457). Responses that already carry one of those are left
//! alone. Internal details are logged by whoever failed, never sent.

use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use extranet_web::Site;

/// Text bodies up to this size (framework rejections) become the problem's `detail`.
const DETAIL_LIMIT: usize = 1024;

/// Whether the client reads problem documents rather than pages: API paths, and clients that
/// ask for JSON without asking for HTML.
pub fn wants_problem(path: &str, headers: &HeaderMap) -> bool {
    path.starts_with("/api/")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("json") && !a.contains("text/html"))
}

/// An error status whose body is not already a page or a problem document of ours.
pub fn needs_rendering(res: &Response) -> bool {
    let status = res.status();
    (status.is_client_error() || status.is_server_error()) && !already_rendered(res)
}

/// The error response the client reads, in place of `res` (see [`needs_rendering`]).
/// `lang_headers` holds only what language negotiation needs.
pub async fn render_error(
    res: Response,
    wants_problem: bool,
    lang_headers: &HeaderMap,
    site: &Site,
    request_id: Option<&str>,
) -> Response {
    let status = res.status();
    let (parts, body) = res.into_parts();
    let mut out = if wants_problem {
        let detail = text_detail(&parts.headers, body).await;
        problem(status, detail)
    } else {
        extranet_web::error_page(lang_headers, site, status, request_id)
    };
    // Keep what the producer said about the error (Allow, Retry-After…), not its body's type.
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

fn already_rendered(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/problem+json"))
}

async fn text_detail(headers: &HeaderMap, body: Body) -> Option<String> {
    let is_text = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    if !is_text {
        return None;
    }
    let bytes = to_bytes(body, DETAIL_LIMIT).await.ok()?;
    let text = String::from_utf8(bytes.to_vec()).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// An RFC 9457 problem document.
pub fn problem(status: StatusCode, detail: Option<String>) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let mut doc = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
    });
    if let Some(detail) = detail {
        doc["detail"] = serde_json::Value::String(detail);
    }
    let mut res = (status, doc.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    res
}

/// A panic in a handler: logged without the request, answered as a plain 500 that
/// [`super::respond`]
/// turns into a page or a problem document.
pub fn on_panic(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_owned());
    tracing::error!(panic = %what, "handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}
