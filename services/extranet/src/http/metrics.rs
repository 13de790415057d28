//! Prometheus metrics: requests by route template and status, and latency histograms.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use pin_project_lite::pin_project;
use subtle::ConstantTimeEq;
use tower::{Layer, Service};

use crate::config::Secret;

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder (installed once, however many routers are built).
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Histogram samples wait in a queue until they are folded into their buckets; without this
/// the queue grows with every request between two scrapes (or forever, with no scraper).
pub fn spawn_upkeep(shutdown: tokio_util::sync::CancellationToken) {
    let handle = handle();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => handle.run_upkeep(),
            }
        }
    });
}

/// Methods as labels: the standard ones by name, anything a client invents as `OTHER`, so that
/// nobody can grow the number of series.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Metric handles resolved once per route, method and status: looking a labelled metric up in
/// the registry on every request (allocating its labels) was a measurable part of a request.
#[derive(Default)]
struct RouteHandles {
    requests: HashMap<(&'static str, u16), Counter>,
    latency: HashMap<&'static str, Histogram>,
}

fn handles(method: &'static str, route: &str, status: u16) -> (Counter, Histogram) {
    static ROUTES: OnceLock<Mutex<HashMap<String, RouteHandles>>> = OnceLock::new();
    let mut routes = ROUTES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if !routes.contains_key(route) {
        routes.insert(route.to_owned(), RouteHandles::default());
    }
    let Some(entry) = routes.get_mut(route) else {
        return (Counter::noop(), Histogram::noop());
    };
    let counter = entry
        .requests
        .entry((method, status))
        .or_insert_with(|| {
            metrics::counter!("http_requests_total", "method" => method, "route" => route.to_owned(), "status" => status.to_string())
        })
        .clone();
    let histogram = entry
        .latency
        .entry(method)
        .or_insert_with(|| {
            metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route.to_owned())
        })
        .clone();
    (counter, histogram)
}

/// How many (route, method, status) handles one endpoint keeps at hand; any beyond are still
/// recorded, through the process-wide map.
const SEEN_MAX: usize = 16;

/// The handles one wrapped endpoint has used. axum wraps each route's endpoint separately, so
/// an endpoint serves one route template: after its first requests, a request finds its
/// handles among a few entries under a read lock, instead of hashing the route in the
/// process-wide map under its mutex.
#[derive(Default)]
struct Seen(RwLock<Vec<SeenEntry>>);

struct SeenEntry {
    method: &'static str,
    status: u16,
    route: Box<str>,
    counter: Counter,
    histogram: Histogram,
}

impl Seen {
    fn record(&self, method: &'static str, route: &str, status: u16, seconds: f64) {
        let same = |e: &SeenEntry| e.status == status && e.method == method && *e.route == *route;
        {
            let entries = self.0.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(e) = entries.iter().find(|e| same(e)) {
                e.counter.increment(1);
                e.histogram.record(seconds);
                return;
            }
        }
        let (counter, histogram) = handles(method, route, status);
        counter.increment(1);
        histogram.record(seconds);
        let mut entries = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() < SEEN_MAX && !entries.iter().any(same) {
            entries.push(SeenEntry {
                method,
                status,
                route: route.into(),
                counter,
                histogram,
            });
        }
    }
}

/// Records every request of the routes it wraps (inside the router, so that the matched route
/// is known; requests no route matched count as `unmatched`). The route is the template
/// (`/static/{name}`), never the raw path, so that the number of series stays bounded and no
/// identifier reaches the metrics. A typed layer, not a `from_fn` middleware: it runs on every
/// request, and this way it costs no boxed future.
#[derive(Clone, Copy, Default)]
pub struct TrackLayer;

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track {
            inner,
            seen: Arc::default(),
        }
    }
}

#[derive(Clone)]
pub struct Track<S> {
    inner: S,
    seen: Arc<Seen>,
}

impl<S, B> Service<Request> for Track<S>
where
    S: Service<Request, Response = http::Response<B>>,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let started = Instant::now();
        let method = method_label(req.method());
        let route = req.extensions().get::<MatchedPath>().cloned();
        TrackFuture {
            fut: self.inner.call(req),
            started,
            method,
            route,
            seen: self.seen.clone(),
        }
    }
}

pin_project! {
    pub struct TrackFuture<F> {
        #[pin]
        fut: F,
        started: Instant,
        method: &'static str,
        route: Option<MatchedPath>,
        seen: Arc<Seen>,
    }
}

impl<F, B, E> Future for TrackFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let res = ready!(this.fut.poll(cx));
        if let Ok(res) = &res {
            let route = this.route.as_ref().map_or("unmatched", MatchedPath::as_str);
            this.seen.record(
                this.method,
                route,
                res.status().as_u16(),
                this.started.elapsed().as_secs_f64(),
            );
        }
        Poll::Ready(res)
    }
}

#[derive(Clone)]
pub struct MetricsAccess {
    pub token: Option<Secret>,
    pub handle: PrometheusHandle,
}

/// `/metrics`: with a configured token, only with that bearer token; without one, only to
/// clients on the loopback interface (a scraper on the same host or a sidecar).
pub async fn render(State(access): State<MetricsAccess>, req: Request) -> Response {
    let headers = req.headers();
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>();
    let allowed = match &access.token {
        Some(token) => headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))),
        None => peer.is_some_and(|ConnectInfo(addr)| addr.ip().is_loopback()),
    };
    if !allowed {
        return StatusCode::NOT_FOUND.into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        access.handle.render(),
    )
        .into_response()
}
