//! Sign-in for API clients: login, refresh, logout, the caller's own record, and the public keys.
//! The work is `extranet_identity::auth::Auth`'s; these handlers translate HTTP.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
pub use extranet_identity::auth::Auth;
use extranet_identity::auth::{Issued, LoginError};
use extranet_identity::store;
use extranet_identity::tokens::Claims;
use serde::{Deserialize, Serialize};

use super::error::ApiError;

/// The caller, proven by a valid Bearer access token.
pub struct Authenticated(pub Claims);

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

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    refresh_token: String,
}

#[derive(Serialize)]
pub struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
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

pub fn routes(auth: Arc<Auth>) -> Router {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
        .with_state(auth)
}

pub fn jwks_route(auth: Arc<Auth>) -> Router {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(auth)
}

async fn login(
    State(auth): State<Arc<Auth>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Json(req): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let ip = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    match auth.login(&req.email, &req.password, ip).await {
        Ok(issued) => Ok(tokens(&auth, issued)),
        Err(LoginError::Refused) => Err(ApiError::Unauthenticated),
        Err(LoginError::Throttled(wait)) => Err(ApiError::TooManyRequests(wait)),
        Err(LoginError::Other(e)) => Err(e.into()),
    }
}

async fn refresh(
    State(auth): State<Arc<Auth>>,
    Json(req): Json<RefreshRequest>,
) -> Result<Response, ApiError> {
    match auth.refresh(&req.refresh_token).await? {
        Ok(issued) => Ok(tokens(&auth, issued)),
        Err(why) => {
            tracing::info!(reason = ?why, "refresh refused");
            Err(ApiError::Unauthenticated)
        }
    }
}

async fn logout(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
) -> Result<Response, ApiError> {
    auth.logout(&claims).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn me(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
) -> Result<Response, ApiError> {
    let person = store::get_person(&auth.db, claims.sub).await?;
    Ok(Json(person).into_response())
}

async fn jwks(State(auth): State<Arc<Auth>>) -> Response {
    let mut res = Json(auth.keys.load().jwks()).into_response();
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=60"),
    );
    res
}
