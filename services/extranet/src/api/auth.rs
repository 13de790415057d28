//! Sign-in for API clients: login, refresh, logout, the caller's own record, and the public keys.

use std::net::SocketAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use axum::Extension;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get, routing::post};
use extranet_identity::sessions::{self, Grant, Refresh, SessionSettings};
use extranet_identity::throttle::{self, ThrottleSettings};
use extranet_identity::tokens::{self, Claims, KeyRing, TokenSettings, VerifyError};
use extranet_identity::{password, store};
use extranet_platform::{Clock, Db};
use serde::{Deserialize, Serialize};

use super::error::ApiError;

/// Everything authentication needs, shared by the API and (later) the browser session layer.
pub struct Auth {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub keys: ArcSwap<KeyRing>,
    pub tokens: TokenSettings,
    pub sessions: SessionSettings,
    pub throttle: ThrottleSettings,
}

impl Auth {
    pub async fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        tokens: TokenSettings,
        sessions: SessionSettings,
        throttle: ThrottleSettings,
    ) -> extranet_identity::Result<Auth> {
        let keys = KeyRing::load(&db, clock.as_ref()).await?;
        Ok(Auth {
            db,
            clock,
            keys: ArcSwap::from_pointee(keys),
            tokens,
            sessions,
            throttle,
        })
    }

    /// Verifies an access token. A key id we do not know may have been added by another
    /// instance (or `extranet keys rotate`): reload once before refusing.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let first = self.keys.load().verify(token, &self.tokens);
        match first {
            Err(VerifyError::UnknownKey) => {
                if let Ok(ring) = KeyRing::load(&self.db, self.clock.as_ref()).await {
                    self.keys.store(Arc::new(ring));
                }
                self.keys.load().verify(token, &self.tokens)
            }
            other => other,
        }
    }

    async fn issue(&self, grant: &Grant) -> Result<TokenResponse, ApiError> {
        // Issuing already costs database round trips; one more notices a key rotation.
        let current = tokens::current_signing_kid(&self.db).await?;
        if current.as_deref() != Some(self.keys.load().signing_kid()) {
            self.keys.store(Arc::new(
                KeyRing::load(&self.db, self.clock.as_ref()).await?,
            ));
        }
        let person = store::get_person(&self.db, grant.person_id).await?;
        let claims = tokens::access_claims(
            &self.tokens,
            self.clock.now(),
            grant.person_id,
            grant.organisation_id,
            person.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            grant.session_id,
        );
        let access_token = self.keys.load().sign(&claims)?;
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: self.tokens.access_lifetime.as_secs(),
            refresh_token: grant.refresh_token.clone(),
        })
    }
}

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
    let mut keys = vec![throttle::account_key(&req.email)];
    if let Some(Extension(ConnectInfo(addr))) = peer {
        keys.push(throttle::ip_key(addr.ip()));
    }
    if let Some(wait) = throttle::blocked_for(&auth.db, auth.clock.as_ref(), &keys).await? {
        return Err(ApiError::TooManyRequests(wait));
    }
    if req.password.len() > password::MAX_LENGTH * 4 {
        return Err(ApiError::Unauthenticated);
    }
    let creds = store::credentials_by_email(&auth.db, &req.email).await?;
    // Same work whether or not the account exists, so that timing does not tell.
    let ok = match &creds {
        Some(c) => match &c.password_hash {
            Some(hash) => password::verify(&req.password, hash),
            None => {
                password::verify_dummy(&req.password);
                false
            }
        },
        None => {
            password::verify_dummy(&req.password);
            false
        }
    };
    let Some(creds) = creds.filter(|c| ok && c.may_sign_in()) else {
        throttle::record_failure(&auth.db, auth.clock.as_ref(), &auth.throttle, &keys).await?;
        return Err(ApiError::Unauthenticated);
    };
    throttle::record_success(&auth.db, &throttle::account_key(&req.email)).await?;
    let grant = sessions::start(&auth.db, auth.clock.as_ref(), &auth.sessions, &creds).await?;
    Ok(Json(auth.issue(&grant).await?).into_response())
}

async fn refresh(
    State(auth): State<Arc<Auth>>,
    Json(req): Json<RefreshRequest>,
) -> Result<Response, ApiError> {
    match sessions::refresh(
        &auth.db,
        auth.clock.as_ref(),
        &auth.sessions,
        &req.refresh_token,
    )
    .await?
    {
        Refresh::Granted(grant) => Ok(Json(auth.issue(&grant).await?).into_response()),
        Refresh::Refused(why) => {
            tracing::info!(reason = ?why, "refresh refused");
            Err(ApiError::Unauthenticated)
        }
    }
}

async fn logout(
    State(auth): State<Arc<Auth>>,
    Authenticated(claims): Authenticated,
) -> Result<Response, ApiError> {
    sessions::revoke(&auth.db, auth.clock.as_ref(), claims.sid, "logout").await?;
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
