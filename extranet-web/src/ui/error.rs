//! The one error type of pages. A handler returns `PageResult<Response>` and uses `?`; the
//! cause is logged here (never shown), and the bare status goes on to the server's edge, which
//! renders the error page in the visitor's language with the request id (see `error_page`).

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use extranet_directory::DirectoryError;
use extranet_documents::DocumentsError;
use extranet_identity::IdentityError;

pub(crate) type PageResult<T = Response> = Result<T, PageError>;

#[derive(Debug)]
pub(crate) enum PageError {
    /// Not there, or not the visitor's to see (the same answer, so nothing is revealed).
    NotFound,
    /// The visitor sees the record but may not do this.
    Forbidden,
    /// A request no page of ours makes (a tampered form, a wrong parameter).
    BadRequest,
    /// Not this person's to reach while signed out, or an expired session on a form.
    Unauthorized,
    /// The change conflicts with the state of things (a value in use, the last administrator).
    Conflict,
    /// Too many attempts.
    TooMany,
    /// Our failure: the cause goes to the log, the visitor gets a reference.
    Internal(String),
}

impl PageError {
    pub(crate) fn internal(cause: impl std::fmt::Display) -> PageError {
        PageError::Internal(cause.to_string())
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Forbidden => StatusCode::FORBIDDEN,
            PageError::BadRequest => StatusCode::BAD_REQUEST,
            PageError::Unauthorized => StatusCode::UNAUTHORIZED,
            PageError::Conflict => StatusCode::CONFLICT,
            PageError::TooMany => StatusCode::TOO_MANY_REQUESTS,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let PageError::Internal(cause) = &self {
            // The request id is on the span of this request, so the log line and the page's
            // reference meet.
            tracing::error!(error = %cause, "page failed");
        }
        self.status().into_response()
    }
}

impl From<DirectoryError> for PageError {
    fn from(e: DirectoryError) -> PageError {
        match e {
            DirectoryError::NotFound => PageError::NotFound,
            DirectoryError::Forbidden(_) | DirectoryError::FieldNotGranted(_) => {
                PageError::Forbidden
            }
            DirectoryError::Unauthenticated => PageError::Unauthorized,
            DirectoryError::Invalid { .. } => PageError::BadRequest,
            DirectoryError::Taken(_) | DirectoryError::Conflict(_) | DirectoryError::LastAdmin => {
                PageError::Conflict
            }
            DirectoryError::Throttled(_) => PageError::TooMany,
            other => PageError::internal(other),
        }
    }
}

/// The audit log failing to be read or written is never the visitor's doing.
impl From<extranet_audit::AuditError> for PageError {
    fn from(e: extranet_audit::AuditError) -> PageError {
        PageError::internal(e)
    }
}

impl From<DocumentsError> for PageError {
    fn from(e: DocumentsError) -> PageError {
        match e {
            DocumentsError::NotFound => PageError::NotFound,
            DocumentsError::Forbidden(_) => PageError::Forbidden,
            DocumentsError::Unauthenticated => PageError::Unauthorized,
            other => PageError::internal(other),
        }
    }
}

impl From<extranet_subprocessors::SubprocessorsError> for PageError {
    fn from(e: extranet_subprocessors::SubprocessorsError) -> PageError {
        use extranet_subprocessors::SubprocessorsError as E;
        match e {
            E::NotFound => PageError::NotFound,
            E::Forbidden(_) => PageError::Forbidden,
            E::Unauthenticated => PageError::Unauthorized,
            E::Invalid { .. } => PageError::BadRequest,
            E::Conflict(_) | E::WindowClosed { .. } => PageError::Conflict,
            E::Internal(m) => PageError::internal(m),
        }
    }
}

impl From<IdentityError> for PageError {
    fn from(e: IdentityError) -> PageError {
        match e {
            IdentityError::NotFound => PageError::NotFound,
            IdentityError::Unauthenticated => PageError::Unauthorized,
            IdentityError::Throttled(_) => PageError::TooMany,
            IdentityError::Taken(_) | IdentityError::LastAdmin => PageError::Conflict,
            IdentityError::Invalid(_) => PageError::BadRequest,
            other => PageError::internal(other),
        }
    }
}

impl From<askama::Error> for PageError {
    fn from(e: askama::Error) -> PageError {
        PageError::internal(format!("template rendering failed: {e}"))
    }
}

/// For a signed-in person asking for a page, a client-error status that a page (or an unknown
/// address) left bare becomes the error page inside the shell — navigation, name, sign-out — so
/// the way on is at hand. Server errors go on to the edge, which quotes the request id.
pub(crate) async fn in_the_shell(req: Request, next: Next) -> Response {
    let wants_page = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    let signed_in = req
        .extensions()
        .get::<crate::session::CurrentUser>()
        .is_some_and(|u| u.0.is_some());
    if !(wants_page && signed_in) {
        return next.run(req).await;
    }
    // What the shell needs of the request, kept before the handler consumes it.
    let mut kept = Request::new(());
    *kept.method_mut() = req.method().clone();
    *kept.uri_mut() = req.uri().clone();
    *kept.headers_mut() = req.headers().clone();
    let from = req.extensions();
    let to = kept.extensions_mut();
    if let Some(v) = from.get::<std::sync::Arc<crate::pages::Services>>() {
        to.insert(v.clone());
    }
    if let Some(v) = from.get::<crate::session::CurrentUser>() {
        to.insert(v.clone());
    }
    if let Some(v) = from.get::<crate::session::Csrf>() {
        to.insert(v.clone());
    }
    if let Some(v) = from.get::<ConnectInfo<std::net::SocketAddr>>() {
        to.insert(*v);
    }
    let res = next.run(req).await;
    let status = res.status();
    if !status.is_client_error() || res.headers().contains_key(header::CONTENT_TYPE) {
        return res;
    }
    let (mut parts, ()) = kept.into_parts();
    let Ok(me) = super::SignedIn::from_request_parts(&mut parts, &()).await else {
        return res;
    };
    let mut page = crate::pages::error_page_in(
        me.chrome().await,
        me.lang(),
        &me.services().site,
        status,
        None,
    );
    // What the producer said about the error (Allow, Retry-After…) and the cookies it set.
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = res.headers().get(&name) {
            page.headers_mut().insert(name, v.clone());
        }
    }
    for v in res.headers().get_all(header::SET_COOKIE) {
        page.headers_mut().append(header::SET_COOKIE, v.clone());
    }
    page
}
