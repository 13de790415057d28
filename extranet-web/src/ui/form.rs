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

/// Reads a multipart form's first part, which must be the CSRF token, before anything else.
async fn first_part_checked(
    form: &mut Multipart,
    headers: &HeaderMap,
    uri: &Uri,
    csrf: Option<&Csrf>,
) -> Result<(), PageError> {
    let mut field = form
        .next_field()
        .await
        .map_err(|_| PageError::BadRequest)?
        .ok_or(PageError::BadRequest)?;
    if field.name() != Some("csrf") {
        return Err(PageError::Forbidden);
    }
    let mut token = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|_| PageError::BadRequest)? {
        if token.len() + chunk.len() > TOKEN_LIMIT {
            return Err(PageError::Forbidden);
        }
        token.extend_from_slice(&chunk);
    }
    let token = String::from_utf8(token).map_err(|_| PageError::Forbidden)?;
    if checked(headers, uri, csrf, &token) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

impl<S: Send + Sync> FromRequest<S> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let uri = req.uri().clone();
        let csrf = req.extensions().get::<Csrf>().cloned();
        let mut form = Multipart::from_request(req, state)
            .await
            .map_err(|_| PageError::BadRequest.into_response())?;
        first_part_checked(&mut form, &headers, &uri, csrf.as_ref())
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(CsrfMultipart(form))
    }
}

/// An upload, whose body may be opened only once the handler has decided, unread, whether the
/// caller may upload there at all (access, limits, announced size); opening it reads the CSRF
/// token first and refuses the form without a valid one. The body is reachable no other way.
pub struct CsrfUpload {
    request: Request,
}

impl<S: Send + Sync> FromRequest<S> for CsrfUpload {
    type Rejection = Response;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        Ok(CsrfUpload { request })
    }
}

/// Why an upload's body was not opened.
pub(crate) enum UploadRefused {
    /// No valid CSRF token first (or a broken form).
    Form(PageError),
    /// The pace could not be set up.
    Documents(extranet_documents::DocumentsError),
}

impl CsrfUpload {
    pub(crate) fn headers(&self) -> &HeaderMap {
        self.request.headers()
    }

    /// The paced form after its CSRF token, positioned at the part that follows it.
    pub(crate) async fn open(
        self,
        pace: crate::pace::Pace,
    ) -> Result<crate::transfer::PacedForm, UploadRefused> {
        let headers = self.request.headers().clone();
        let uri = self.request.uri().clone();
        let csrf = self.request.extensions().get::<Csrf>().cloned();
        let mut form = crate::transfer::PacedForm::new(self.request, pace)
            .await
            .map_err(UploadRefused::Documents)?;
        first_part_checked(&mut form.form, &headers, &uri, csrf.as_ref())
            .await
            .map_err(UploadRefused::Form)?;
        Ok(form)
    }
}
