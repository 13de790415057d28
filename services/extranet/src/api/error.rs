//! The API's one error type and its mapping to HTTP: internal details are logged, never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use extranet_identity::IdentityError;

use crate::http::errors::problem;

/// One field a client must correct, by name (empty: the body as a whole).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub enum ApiError {
    /// 400: the body is not JSON at all, or could not be read.
    BadRequest(String),
    /// 415: a JSON body was expected.
    UnsupportedMediaType,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 422: these fields are missing or not acceptable.
    Fields(Vec<FieldError>),
    /// 401 with a `WWW-Authenticate: Bearer` challenge; deliberately without a reason.
    Unauthenticated,
    /// 422: the body was understood but a field is not acceptable.
    Invalid {
        field: &'static str,
        message: String,
    },
    /// 409: the state of things does not allow it (the reason is said).
    Conflict(String),
    /// 409: another record already holds this unique value; names the field.
    Taken(&'static str),
    /// 403: the caller sees the record but may not do this to it.
    Forbidden,
    NotFound,
    /// 429 with `Retry-After`: attempts (sign-in, passwords, refreshes, mails) are being slowed
    /// down.
    TooManyRequests(std::time::Duration),
    /// 429 with `Retry-After` and a stable `code`: a limit of the caller's is reached.
    Limited {
        retry_after: std::time::Duration,
        code: &'static str,
        detail: String,
    },
    /// Any other status, with a stable `code` a client can act on.
    Coded {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    Internal(String),
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Invalid(i) => ApiError::Invalid {
                field: i.code,
                message: i.message,
            },
            IdentityError::Taken(field) => ApiError::Taken(field),
            IdentityError::NotFound => ApiError::NotFound,
            IdentityError::Throttled(wait) => ApiError::TooManyRequests(wait),
            IdentityError::LastAdmin => {
                ApiError::Conflict(extranet_identity::admins::LAST_ADMIN.to_owned())
            }
            IdentityError::Unauthenticated => ApiError::Unauthenticated,
            IdentityError::Store(e) => ApiError::Internal(e.to_string()),
            IdentityError::Internal(e) => ApiError::Internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Unauthenticated => {
                let mut res = problem(StatusCode::UNAUTHORIZED, None);
                res.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static("Bearer"),
                );
                res
            }
            ApiError::Invalid { field, message } => fields_problem(vec![FieldError {
                field: field.to_owned(),
                message,
            }]),
            ApiError::Fields(errors) => fields_problem(errors),
            ApiError::BadRequest(detail) => problem(StatusCode::BAD_REQUEST, Some(detail)),
            ApiError::UnsupportedMediaType => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Some("expected a body of type application/json".into()),
            ),
            ApiError::PayloadTooLarge => problem(StatusCode::PAYLOAD_TOO_LARGE, None),
            ApiError::Conflict(detail) => problem(StatusCode::CONFLICT, Some(detail)),
            ApiError::Taken(field) => {
                let label = extranet_directory::error::taken_label(field);
                let mut res = problem(StatusCode::CONFLICT, None);
                let body = serde_json::json!({
                    "type": "about:blank",
                    "title": "Conflict",
                    "status": 409,
                    "detail": format!("{field}: {label} is already in use"),
                    "errors": [FieldError {
                        field: field.to_owned(),
                        message: format!("{label} is already in use"),
                    }],
                });
                *res.body_mut() = axum::body::Body::from(body.to_string());
                res
            }
            ApiError::NotFound => problem(StatusCode::NOT_FOUND, None),
            ApiError::Forbidden => problem(
                StatusCode::FORBIDDEN,
                Some("your role does not allow this on this record".into()),
            ),
            ApiError::TooManyRequests(wait) => {
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                let mut res = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    Some(format!("too many attempts; try again in {secs} s")),
                );
                if let Ok(v) = axum::http::HeaderValue::from_str(&secs.max(1).to_string()) {
                    res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
                }
                res
            }
            ApiError::Limited {
                retry_after,
                code,
                detail,
            } => {
                let mut res = ApiError::Coded {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    code,
                    detail,
                }
                .into_response();
                let secs = retry_after.as_secs().max(1).to_string();
                if let Ok(v) = axum::http::HeaderValue::from_str(&secs) {
                    res.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
                }
                res
            }
            ApiError::Coded {
                status,
                code,
                detail,
            } => {
                let mut res = problem(status, None);
                let body = serde_json::json!({
                    "type": "about:blank",
                    "title": status.canonical_reason().unwrap_or_default(),
                    "status": status.as_u16(),
                    "detail": detail,
                    "code": code,
                });
                *res.body_mut() = axum::body::Body::from(body.to_string());
                res
            }
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                problem(StatusCode::INTERNAL_SERVER_ERROR, None)
            }
        }
    }
}

/// 422 naming each field, so a client can show every message next to its field at once.
fn fields_problem(errors: Vec<FieldError>) -> Response {
    let detail = match errors.as_slice() {
        [one] if one.field.is_empty() => one.message.clone(),
        [one] => format!("{}: {}", one.field, one.message),
        many => format!("{} fields are not acceptable", many.len()),
    };
    let mut res = problem(StatusCode::UNPROCESSABLE_ENTITY, None);
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": detail,
        "errors": errors,
    });
    *res.body_mut() = axum::body::Body::from(body.to_string());
    res
}
