//! Posted forms, readable only once they are known to come from our own page: the browser's
//! CSRF token (double-submit, the `__Host-csrf` cookie) in the form's `csrf` field, and an
//! `Origin`/`Referer` of this site when the browser sends one. A page's POST handler takes
//! [`CsrfForm`] or [`CsrfMultipart`] — [`super::PageRouter`] registers no other — so the check
//! cannot be forgotten.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::PageError;
use crate::session::{Csrf, form_allowed};

/// A URL-encoded form whose CSRF token and origin checked out, deserialised into `T` (its
/// `csrf` field is not part of `T`).
pub struct CsrfForm<T>(pub T);

/// A multipart form whose first part is a valid CSRF token; the rest is read by the handler as
/// it streams in (an upload is not buffered to find the token).
pub struct CsrfMultipart(pub Multipart);

fn checked(headers: &HeaderMap, uri: &Uri, csrf: Option<&Csrf>, submitted: &str) -> bool {
    csrf.is_some_and(|c| form_allowed(headers, uri, c, submitted))
}

impl<T, S> FromRequest<S> for CsrfForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let submitted = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !checked(
            &parts.headers,
            &parts.uri,
            parts.extensions.get::<Csrf>(),
            &submitted,
        ) {
            return Err(PageError::Forbidden.into_response());
        }
        serde_urlencoded::from_bytes(&bytes)
            .map(CsrfForm)
            .map_err(|_| PageError::BadRequest.into_response())
    }
}

/// The longest CSRF token read from a multipart form (ours are 43 characters).
const TOKEN_LIMIT: usize = 256;

impl<S: Send + Sync> FromRequest<S> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let uri = req.uri().clone();
        let csrf = req.extensions().get::<Csrf>().cloned();
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|_| PageError::BadRequest.into_response())?;
        let refused = || PageError::Forbidden.into_response();
        let mut field = form
            .next_field()
            .await
            .map_err(|_| PageError::BadRequest.into_response())?
            .ok_or_else(|| PageError::BadRequest.into_response())?;
        if field.name() != Some("csrf") {
            return Err(refused());
        }
        let mut token = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|_| PageError::BadRequest.into_response())?
        {
            if token.len() + chunk.len() > TOKEN_LIMIT {
                return Err(refused());
            }
            token.extend_from_slice(&chunk);
        }
        drop(field);
        let token = String::from_utf8(token).map_err(|_| refused())?;
        if !checked(&headers, &uri, csrf.as_ref(), &token) {
            return Err(refused());
        }
        Ok(CsrfMultipart(form))
    }
}
