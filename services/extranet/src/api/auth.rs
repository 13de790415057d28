//! Sign-in for API clients: login, refresh, logout, the caller's own record, and the public keys.
//! The work is `extranet_identity::auth::Auth`'s; these handlers translate HTTP.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::Problem;
pub use extranet_identity::auth::Auth;
use extranet_identity::auth::{Issued, LoginError};
use extranet_identity::sessions::Refused;
use extranet_identity::tokens::Claims;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json::ApiJson;

/// The caller, proven by a valid Bearer access token.
pub struct Authenticated(pub Arc<Claims>);

impl<S> FromRequestParts<S> for Authenticated
where
    Arc<Auth>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Arc::<Auth>::from_ref(state);
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        match auth.verify(token.trim()).await {
            Ok(claims) => Ok(Authenticated(claims)),
            Err(e) => {
                tracing::info!(reason = %e, "access token refused");
                Err(ApiError::Unauthenticated)
            }
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's e-mail address.
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token of the last answer; it can be used once.
    refresh_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    /// An EdDSA-signed JWT for `Authorization: Bearer`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds until the access token expires (at most 300).
    expires_in: u64,
    /// Opaque; exchange it at `/api/v1/auth/refresh` before it idles out.
    refresh_token: String,
}

fn tokens(auth: &Auth, issued: Issued) -> Response {
    Json(TokenResponse {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: auth.tokens.access_lifetime.as_secs(),
        refresh_token: issued.refresh_token,
    })
    .into_response()
}

/// The routes of this module, each with its OpenAPI description (one source for both).
pub fn routes() -> OpenApiRouter<super::ApiState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
}

pub fn jwks_route(auth: Arc<Auth>) -> Router {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(auth)
}

/// Sign in with e-mail address and password.
///
/// Failed attempts are counted per client address and per account; past a few, each further
/// attempt must wait (429 with `Retry-After`). The answer never says whether the account exists.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Wrong address or password, or an inactive account; or, with `code` = `second_factor_required` / `second_factor_enrolment_required`, a right password whose sign-in needs its second step (`challenge`)", body = super::second_factor::LoginRefused, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of type application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or mistyped fields, each named in `errors`", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn login(
    State(auth): State<Arc<Auth>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    match auth.login(&req.email, &req.password, ip).await {
        Ok(issued) => Ok(tokens(&auth, issued)),
        Err(LoginError::Refused) => Err(ApiError::Unauthenticated),
        Err(LoginError::Throttled(wait)) => Err(ApiError::TooManyRequests(wait)),
        Err(LoginError::SecondFactor(challenge)) => {
            Ok(super::second_factor::challenge_answer(challenge))
        }
        Err(LoginError::Other(e)) => Err(e.into()),
    }
}

/// Exchange a refresh token for new tokens.
///
/// The refresh token presented is used up; presenting it again revokes the whole session. Refused
/// once the account or its organisation is deactivated. Tokens that were never issued count
/// against the client's address: past a few, each further attempt must wait (429).
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = TokenResponse),
        (status = 401, description = "Unknown, used, expired or revoked refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many unknown refresh tokens from this address", body = Problem, content_type = "application/problem+json"),
        (status = 400, description = "The body is not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "The body is not of type application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing or mistyped fields, each named in `errors`", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn refresh(
    State(auth): State<Arc<Auth>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Response, ApiError> {
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    match auth.refresh(&req.refresh_token, ip).await? {
        Ok(issued) => Ok(tokens(&auth, issued)),
        Err(Refused::Throttled(wait)) => Err(ApiError::TooManyRequests(wait)),
        Err(why) => {
            tracing::info!(reason = ?why, "refresh refused");
            Err(ApiError::Unauthenticated)
        }
    }
}

/// End the session of the access token presented.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn logout(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
) -> Result<Response, ApiError> {
    auth.logout(&claims).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The caller's own record.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "me",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller, as every record: through the field grants (a person sees all of their own fields)", body = super::directory::MaskedRecord),
        (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn me(
    State(dir): State<Arc<extranet_directory::Directory>>,
    Authenticated(claims): Authenticated,
) -> Result<Response, ApiError> {
    let caller = dir.caller(claims.sub, claims.org, &claims.roles, None);
    let me = extranet_directory::people::get(dir.db(), dir.clock(), &caller, claims.sub).await?;
    Ok(Json(me).into_response())
}

async fn jwks(State(auth): State<Arc<Auth>>) -> Response {
    let mut res = Json(auth.keys.load().jwks()).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=60"),
    );
    res
}
