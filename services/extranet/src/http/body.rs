//! Bounded routes read a request's whole body before the handler runs.
//!
//! A handler that answers without reading the body (a 401 from the token check, a 404 for an id
//! outside the caller's scope) left hyper to close an HTTP/1.1 connection with the body unread,
//! and without `Connection: close`: a client that reused the connection for its next request
//! lost it ("connection closed without response"), and one still sending could get a reset
//! instead of the answer. Bodies on these routes are small (`server.body_limit_bytes`, read
//! under the request timeout), and the JSON and form extractors buffer them anyway, so reading
//! first costs a copy of a few kilobytes; a request without a body passes untouched. Streaming
//! routes (document transfers) are not under this layer: their bodies can be gigabytes and are
//! refused before they are read, by design.

use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Body as _;

pub async fn read_whole(req: Request, next: Next) -> Response {
    if req.body().is_end_stream() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    // The body limit is the layer outside this one: past it, reading fails.
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(e) if is_over_limit(&e) => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

fn is_over_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = err.source();
    }
    false
}
