//! The second factor over the API: the second step of signing in, the signed-in person's own
//! factor (`/api/v1/me/second-factor`), and an administrator's reset of someone else's. The work
//! is `extranet_identity::factor`'s (and the directory's, for the reset); these handlers
//! translate HTTP.
//!
//! Contract: `POST /api/v1/auth/login` with the right password for someone who needs a second
//! factor answers **401** problem+json with `code` = `second_factor_required` (or
//! `second_factor_enrolment_required`, with `enrolment`: the secret and its `otpauth://` URI)
//! and a `challenge`; `POST /api/v1/auth/login/second-factor` with `{challenge, code}` answers
//! the tokens. A client that treats every 401 as "not signed in" stays safe.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use extranet_directory::Directory;
use extranet_identity::auth::Auth;
use extranet_identity::factor::manage::Manage;
use extranet_identity::factor::sign_in::{SignIn, Via};
use extranet_identity::factor::{Challenge, Enrolment, Proof};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::ApiState;
use super::auth::Authenticated;
use super::error::ApiError;
use super::json::ApiJson;
use super::openapi::Problem;
use crate::http::errors::problem;

/// What each operation of this module needs (see `api::directory::PERMISSIONS`).
pub const PERMISSIONS: &[(&str, &str, &str)] = &[
    ("post", "/api/v1/auth/login/second-factor", "public"),
    ("get", "/api/v1/me/second-factor", "authenticated"),
    ("post", "/api/v1/me/second-factor", "authenticated"),
    ("post", "/api/v1/me/second-factor/confirm", "authenticated"),
    (
        "post",
        "/api/v1/me/second-factor/recovery-codes",
        "authenticated",
    ),
    ("post", "/api/v1/me/second-factor/disable", "authenticated"),
    (
        "delete",
        "/api/v1/people/{id}/second-factor",
        "person.reset_second_factor",
    ),
];

pub fn routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(login_second_factor))
        .routes(routes!(status, begin))
        .routes(routes!(confirm))
        .routes(routes!(recovery_codes))
        .routes(routes!(disable))
        .routes(routes!(reset))
}

type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

fn ip(peer: &Peer) -> Option<std::net::IpAddr> {
    peer.as_ref().map(|Extension(ConnectInfo(a))| a.ip())
}

/// The answer to a sign-in whose password was right but which needs its second step: a 401
/// problem document with the challenge (see the module's doc).
#[derive(Serialize, ToSchema)]
pub struct LoginRefused {
    /// `about:blank`
    r#type: String,
    title: String,
    status: u16,
    detail: Option<String>,
    /// `second_factor_required`, `second_factor_enrolment_required`; absent for a wrong
    /// address or password.
    code: Option<String>,
    /// With a `code`: send it back with the code to `/api/v1/auth/login/second-factor`. Good once.
    challenge: Option<String>,
    /// Seconds the challenge stays valid.
    expires_in: Option<u64>,
    /// With `second_factor_enrolment_required`: what to add to an authenticator app.
    enrolment: Option<EnrolmentBody>,
}

/// A TOTP secret to add to an authenticator app (SHA-1, 6 digits, 30 s).
#[derive(Serialize, ToSchema)]
pub struct EnrolmentBody {
    /// The secret in base32, to type in.
    secret: String,
    /// `otpauth://totp/…`, what a QR code carries.
    otpauth_uri: String,
}

impl From<Enrolment> for EnrolmentBody {
    fn from(e: Enrolment) -> Self {
        EnrolmentBody {
            secret: e.secret,
            otpauth_uri: e.uri,
        }
    }
}

/// 401 with `WWW-Authenticate` and a stable `code`, plus `extra` members.
fn unauthorized(code: &str, detail: &str, extra: serde_json::Value) -> Response {
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": detail,
        "code": code,
    });
    if let (Some(body), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let mut res = problem(StatusCode::UNAUTHORIZED, None);
    *res.body_mut() = axum::body::Body::from(body.to_string());
    res.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    res
}

/// The answer of `/api/v1/auth/login` when a second step is needed.
pub(crate) fn challenge_answer(challenge: Challenge) -> Response {
    let expires_in = challenge.expires_in.as_secs();
    match challenge.enrolment {
        None => unauthorized(
            "second_factor_required",
            "the password is right; send a code from the authenticator app (or a recovery code) \
             with the challenge to /api/v1/auth/login/second-factor",
            serde_json::json!({ "challenge": challenge.token, "expires_in": expires_in }),
        ),
        Some(enrolment) => unauthorized(
            "second_factor_enrolment_required",
            "the password is right; your role requires a second factor: add `enrolment` to an \
             authenticator app, then send its first code with the challenge to \
             /api/v1/auth/login/second-factor",
            serde_json::json!({
                "challenge": challenge.token,
                "expires_in": expires_in,
                "enrolment": {
                    "secret": enrolment.secret,
                    "otpauth_uri": enrolment.uri,
                },
            }),
        ),
    }
}

/// 429 with `Retry-After`.
fn throttled(wait: Duration) -> Response {
    let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    let mut res = problem(
        StatusCode::TOO_MANY_REQUESTS,
        Some(format!("too many wrong codes; try again in {secs} s")),
    );
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::Coded {
        status: StatusCode::CONFLICT,
        code,
        detail: detail.to_owned(),
    }
}

fn wrong(field: &'static str, what: &str) -> ApiError {
    ApiError::Invalid {
        field,
        message: format!("{what} is not right"),
    }
}

/// The outcomes every change to one's own factor shares.
fn refused<T>(m: Manage<T>, proof_field: &'static str) -> Result<T, Box<Response>> {
    Err(Box::new(match m {
        Manage::Done(t) => return Ok(t),
        Manage::Wrong => wrong(proof_field, "the code or password").into_response(),
        Manage::Throttled(wait) => throttled(wait),
        Manage::NotEnrolled => conflict("not_enrolled", "you have no second factor").into_response(),
        Manage::AlreadyEnrolled => conflict(
            "already_enrolled",
            "you already have a second factor; turn it off first (or ask an administrator to reset it)",
        )
        .into_response(),
        Manage::NoEnrolment => conflict(
            "no_enrolment",
            "no enrolment in progress: start one with POST /api/v1/me/second-factor",
        )
        .into_response(),
        Manage::RequiredByRole => ApiError::Coded {
            status: StatusCode::FORBIDDEN,
            code: "required_by_role",
            detail: "a role of yours requires a second factor: it cannot be turned off".into(),
        }
        .into_response(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorRequest {
    /// The `challenge` of the login answer.
    challenge: String,
    /// A 6-digit code from the authenticator app, or a recovery code (`xxxx-xxxx-xxxx-xxxx`).
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct SignInResponse {
    /// An EdDSA-signed JWT for `Authorization: Bearer`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires (at most 300).
    expires_in: u64,
    /// Opaque; exchange it at `/api/v1/auth/refresh` before it idles out.
    refresh_token: String,
    /// After a first sign-in that enrolled the factor: the one-time recovery codes. They are
    /// shown this once; keep them somewhere safe.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes: Option<Vec<String>>,
    /// After signing in with a recovery code (now spent): how many are left.
    #[serde(skip_serializing_if = "Option::is_none")]
    recovery_codes_left: Option<u32>,
}

/// Complete a sign-in with a second factor.
///
/// Wrong codes are counted per person and per client address; after five in a row each attempt
/// must wait (429 with `Retry-After`). A code is good once. A recovery code is spent by its use.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login/second-factor",
    tag = "auth",
    request_body = SecondFactorRequest,
    responses(
        (status = 200, description = "Signed in", body = SignInResponse),
        (status = 401, description = "`code`: `wrong_code` (the challenge stays valid) or `challenge_expired` (unknown, used or expired: sign in again)", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of type application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or mistyped fields, each named in `errors`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn login_second_factor(
    State(auth): State<Arc<Auth>>,
    peer: Peer,
    ApiJson(req): ApiJson<SecondFactorRequest>,
) -> Result<Response, ApiError> {
    let ip = ip(&peer);
    Ok(
        match auth.complete_sign_in(&req.challenge, &req.code, ip).await? {
            SignIn::Done { issued, via } => {
                let (recovery_codes, recovery_codes_left) = match via {
                    Via::Totp => (None, None),
                    Via::RecoveryCode { left } => (None, Some(left)),
                    Via::Enrolled { recovery_codes } => (Some(recovery_codes), None),
                };
                Json(SignInResponse {
                    access_token: issued.access_token,
                    token_type: "Bearer",
                    expires_in: auth.tokens.access_lifetime.as_secs(),
                    refresh_token: issued.refresh_token,
                    recovery_codes,
                    recovery_codes_left,
                })
                .into_response()
            }
            SignIn::Wrong => unauthorized(
                "wrong_code",
                "the code is not right (or was used already); try the next one",
                serde_json::json!({}),
            ),
            SignIn::Throttled(wait) => throttled(wait),
            SignIn::Expired => unauthorized(
                "challenge_expired",
                "this sign-in is no longer waiting for a code; sign in again with the password",
                serde_json::json!({}),
            ),
        },
    )
}

#[derive(Serialize, ToSchema)]
pub struct FactorStatus {
    /// A confirmed second factor is in force.
    enrolled: bool,
    /// Since when (RFC 3339), if enrolled.
    enrolled_since: Option<String>,
    /// A role of the caller's requires a second factor (it cannot be turned off).
    required: bool,
    /// Unused recovery codes.
    recovery_codes_left: u32,
}

/// The caller's second factor.
#[utoipa::path(
    get,
    path = "/api/v1/me/second-factor",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Where the caller's second factor stands", body = FactorStatus),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn status(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
) -> Result<Response, ApiError> {
    let s = auth.second_factor_status(claims.sub).await?;
    let since = s.enrolled_since.and_then(|t| {
        t.format(&time::format_description::well_known::Rfc3339)
            .ok()
    });
    Ok(Json(FactorStatus {
        enrolled: s.enrolled(),
        enrolled_since: since,
        required: s.required,
        recovery_codes_left: s.recovery_codes_left,
    })
    .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeginRequest {
    /// The account's password, asked again.
    password: String,
}

/// Start enrolling a second factor (an authenticator app).
///
/// Needs the password again. Answers a new secret; it is in force once
/// `/api/v1/me/second-factor/confirm` received a first code from it. Starting again replaces an
/// unfinished enrolment.
#[utoipa::path(
    post,
    path = "/api/v1/me/second-factor",
    tag = "me",
    security(("bearer" = [])),
    request_body = BeginRequest,
    responses(
        (status = 201, description = "The secret to add to an authenticator app", body = EnrolmentBody),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_enrolled`: turn the present factor off first", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of type application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing fields, or a password that is not right", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn begin(
    State(auth): State<Arc<Auth>>,
    peer: Peer,
    Authenticated(claims): Authenticated,
    ApiJson(req): ApiJson<BeginRequest>,
) -> Result<Response, ApiError> {
    let outcome = auth
        .begin_enrolment(claims.sub, &req.password, ip(&peer))
        .await?;
    let enrolment = match refused(outcome, "password") {
        Ok(e) => e,
        Err(res) => return Ok(*res),
    };
    Ok((StatusCode::CREATED, Json(EnrolmentBody::from(enrolment))).into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// A 6-digit code from the authenticator app.
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// One-time codes for when the authenticator is lost: shown this once, keep them safe.
    /// The previous ones no longer work.
    recovery_codes: Vec<String>,
}

/// Confirm the enrolment with a first code; answers the recovery codes.
#[utoipa::path(
    post,
    path = "/api/v1/me/second-factor/confirm",
    tag = "me",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "The factor is in force; the recovery codes, shown once", body = RecoveryCodes),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`already_enrolled`, or `no_enrolment` (none started)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of type application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing fields, or a code that is not right", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn confirm(
    State(auth): State<Arc<Auth>>,
    peer: Peer,
    Authenticated(claims): Authenticated,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Response, ApiError> {
    let outcome = auth
        .confirm_enrolment(claims.sub, &req.code, ip(&peer))
        .await?;
    Ok(match refused(outcome, "code") {
        Ok(recovery_codes) => Json(RecoveryCodes { recovery_codes }).into_response(),
        Err(res) => *res,
    })
}

/// Replace the recovery codes, after a current code from the authenticator app.
#[utoipa::path(
    post,
    path = "/api/v1/me/second-factor/recovery-codes",
    tag = "me",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "The new recovery codes, shown once; the old ones no longer work", body = RecoveryCodes),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_enrolled`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of type application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing fields, or a code that is not right", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong codes", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn recovery_codes(
    State(auth): State<Arc<Auth>>,
    peer: Peer,
    Authenticated(claims): Authenticated,
    ApiJson(req): ApiJson<CodeRequest>,
) -> Result<Response, ApiError> {
    let outcome = auth
        .new_recovery_codes(claims.sub, &req.code, ip(&peer))
        .await?;
    Ok(match refused(outcome, "code") {
        Ok(recovery_codes) => Json(RecoveryCodes { recovery_codes }).into_response(),
        Err(res) => *res,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableRequest {
    /// A current code from the authenticator app (or a recovery code)…
    code: Option<String>,
    /// …or the account's password.
    password: Option<String>,
}

/// Turn one's own second factor off.
///
/// Only when no role of the caller's requires one; needs a current code or the password.
#[utoipa::path(
    post,
    path = "/api/v1/me/second-factor/disable",
    tag = "me",
    security(("bearer" = [])),
    request_body = DisableRequest,
    responses(
        (status = 204, description = "Turned off; signing in needs the password only"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`required_by_role`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`not_enrolled`", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of type application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Neither a code nor a password, or one that is not right", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many wrong attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn disable(
    State(auth): State<Arc<Auth>>,
    peer: Peer,
    Authenticated(claims): Authenticated,
    ApiJson(req): ApiJson<DisableRequest>,
) -> Result<Response, ApiError> {
    let (proof, field) = match (req.code, req.password) {
        (Some(code), _) if !code.trim().is_empty() => (Proof::Code(code), "code"),
        (_, Some(pw)) if !pw.is_empty() => (Proof::Password(pw), "password"),
        _ => {
            return Err(ApiError::Invalid {
                field: "code",
                message: "a current code or the password is required".into(),
            });
        }
    };
    let outcome = auth
        .disable_second_factor(claims.sub, &proof, ip(&peer))
        .await?;
    Ok(match refused(outcome, field) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(res) => *res,
    })
}

#[derive(Serialize, ToSchema)]
pub struct ResetDone {
    /// Second factors removed (0 when the person had none).
    factors_removed: u64,
    /// Their sessions ended by the reset.
    sessions_ended: u64,
}

/// Reset a person's second factor (administrators).
///
/// For someone who lost their authenticator and their recovery codes: the factor and the
/// recovery codes are removed and the person's sessions end; at their next sign-in they enrol
/// again. Recorded in the audit log.
#[utoipa::path(
    delete,
    path = "/api/v1/people/{id}/second-factor",
    tag = "directory",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Reset", body = ResetDone),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Your role may not reset this person's second factor", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such person, or not yours to see", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn reset(
    State(dir): State<Arc<Directory>>,
    peer: Peer,
    Authenticated(claims): Authenticated,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id: Uuid = raw.parse().map_err(|_| ApiError::NotFound)?;
    let caller = dir.current(claims.sub, ip(&peer)).await?;
    let done = extranet_directory::second_factor::reset(
        dir.db(),
        dir.clock(),
        dir.revocations(),
        &caller,
        id,
        Some(claims.sid),
    )
    .await?;
    Ok(Json(ResetDone {
        factors_removed: done.factors_removed,
        sessions_ended: done.sessions_ended,
    })
    .into_response())
}
