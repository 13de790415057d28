//! Router assembly: the routes of every crate, under the layers every request goes through.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::get;
use extranet_platform::{Db, Objects};
use tower::{Service, ServiceBuilder};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::config::Config;
use crate::health;
use crate::http::{edge, metrics, security};

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
    pub subprocessors: Arc<extranet_subprocessors::Subprocessors>,
    pub privacy: Arc<extranet_privacy::Privacy>,
    pub consents: Arc<extranet_privacy::Consents>,
    pub rights: Arc<extranet_rights::Rights>,
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

/// The whole HTTP application: the routes, under the layers every request goes through.
///
/// The layer every request passes (`http::edge`: request id, trace span, security headers,
/// error pages, panics) wraps the router once. Applied with `Router::layer` it would be applied
/// to every route separately instead, and each application is one more boxed service that axum
/// clones — an allocation — on every request.
pub fn service(
    config: &Config,
    state: AppState,
) -> impl Service<
    Request,
    Response = axum::response::Response,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    let site = Arc::new(config.site.clone());
    ServiceBuilder::new()
        .layer(edge::EdgeLayer::new(
            security::SecurityHeaders::new(config.server.hsts_max_age_secs),
            site,
            state.db.outage().cloned(),
        ))
        .service(router(config, state))
}

/// The routes of every crate, in three groups: bounded (a request timeout and a body limit),
/// streaming (document transfers) and operations (probes and metrics). Each group's layers are
/// applied as one stack, so that a request passes one boxed service for them.
fn router(config: &Config, state: AppState) -> Router {
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
        subprocessors: state.subprocessors.clone(),
        consents: state.consents.clone(),
        rights: state.rights.clone(),
    });
    let api_unknown = Router::new().fallback(|| async { StatusCode::NOT_FOUND });
    let jwks = crate::api::auth::jwks_route(state.auth.clone());
    let web = extranet_web::Services {
        site: site.clone(),
        auth: state.auth.clone(),
        recovery: state.recovery.clone(),
        directory: state.directory.clone(),
        documents: state.documents.clone(),
        subprocessors: state.subprocessors.clone(),
        privacy: state.privacy.clone(),
        consents: state.consents.clone(),
        rights: state.rights.clone(),
    };

    // Every bounded route: metrics, a request timeout and a body limit; the body is read whole
    // before the handler runs (`http/body.rs`).
    let bounded = Router::new()
        .merge(jwks)
        .merge(extranet_web::routes(&web))
        .merge(api)
        .nest("/api/v1", api_unknown)
        .layer(
            ServiceBuilder::new()
                .layer(metrics::TrackLayer)
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(config.server.request_timeout_secs),
                ))
                .layer(RequestBodyLimitLayer::new(config.server.body_limit_bytes))
                .map_request(
                    |r: axum::http::Request<tower_http::body::Limited<axum::body::Body>>| {
                        r.map(axum::body::Body::new)
                    },
                )
                .layer(axum::middleware::from_fn(crate::http::body::read_whole)),
        );
    // Uploads and downloads stream for as long as the file takes: no overall timeout and no
    // body limit here; the documents service limits the size while streaming and the readers
    // cut off a body that stalls.
    let streaming = Router::new()
        .merge(extranet_web::streaming_routes(&web))
        .merge(api_bulk)
        .layer(metrics::TrackLayer);

    // The probes and the scrape read no body and wait on nothing unbounded (`/readyz` times its
    // checks out itself): metrics only. Load balancers call `/healthz` every few seconds on
    // every instance, so it carries nothing it does not need.
    let ops = ops.layer(metrics::TrackLayer);

    bounded.merge(streaming).merge(ops)
}
