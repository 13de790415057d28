//! Router assembly: the routes of every crate, under the layers every request goes through.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, StatusCode, header};
use axum::routing::get;
use extranet_platform::{Db, Objects};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::config::Config;
use crate::health;
use crate::http::{errors, metrics, respond, security};

/// What handlers of this crate share. Behind one `Arc`: axum clones a route's state for every
/// request it serves.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    pub objects: Objects,
    pub auth: Arc<crate::api::Auth>,
    pub recovery: Arc<extranet_identity::recovery::Recovery>,
    pub directory: Arc<extranet_directory::Directory>,
    pub documents: Arc<extranet_documents::Documents>,
}

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(config: &Config, state: AppState) -> Router {
    let site = Arc::new(config.site.clone());
    let metrics_access = metrics::MetricsAccess {
        token: config.metrics.token.clone(),
        handle: metrics::handle(),
    };

    let ops = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .with_state(state.clone())
        .route("/metrics", get(metrics::render).with_state(metrics_access));

    // Unknown API paths answer problem+json 404 through the error layer, not an HTML page.
    let (api, api_bulk) = crate::api::openapi::router(crate::api::ApiState {
        auth: state.auth.clone(),
        directory: state.directory.clone(),
        documents: state.documents.clone(),
    });
    let api_unknown = Router::new().fallback(|| async { StatusCode::NOT_FOUND });
    let jwks = crate::api::auth::jwks_route(state.auth.clone());
    let web = extranet_web::Services {
        site: site.clone(),
        auth: state.auth.clone(),
        recovery: state.recovery.clone(),
        directory: state.directory.clone(),
        documents: state.documents.clone(),
    };

    // Every bounded route: a request timeout and a body limit.
    let bounded = Router::new()
        .merge(ops)
        .merge(jwks)
        .merge(extranet_web::routes(&web))
        .merge(api)
        .nest("/api/v1", api_unknown)
        .layer(
            ServiceBuilder::new()
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(config.server.request_timeout_secs),
                ))
                .layer(RequestBodyLimitLayer::new(config.server.body_limit_bytes)),
        );
    // Uploads and downloads stream for as long as the file takes: no overall timeout and no
    // body limit here; the documents service limits the size while streaming and the readers
    // cut off a body that stalls.
    let streaming = Router::new()
        .merge(extranet_web::streaming_routes(&web))
        .merge(api_bulk);

    bounded
        .merge(streaming)
        .route_layer(metrics::TrackLayer)
        .layer(
            // Outermost first. Sensitive headers are marked before anything can log them, and
            // the trace layer records method, path and status only — never headers.
            ServiceBuilder::new()
                .layer(SetSensitiveRequestHeadersLayer::new([
                    header::AUTHORIZATION,
                    header::COOKIE,
                    header::PROXY_AUTHORIZATION,
                ]))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().include_headers(false)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]))
                .layer(respond::RespondLayer::new(
                    security::SecurityHeaders::new(config.server.hsts_max_age_secs),
                    site,
                ))
                .layer(CatchPanicLayer::custom(errors::on_panic)),
        )
}

/// The span of a request: method, path and request id. Never the query string (password-reset
/// and invitation links carry their one-time token there) and never headers.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %id,
    )
}
