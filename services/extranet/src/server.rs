//! The listeners. Each accepted connection runs in its own task: the TLS handshake under a
//! timeout, then hyper (HTTP/2 or HTTP/1.1 by ALPN) with a header-read timeout, an idle timeout
//! and a bound on concurrent connections, so that slow or hostile clients cannot starve others.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub shutdown_grace: Duration,
}

/// Accepts HTTPS connections until `shutdown`, then waits (up to the grace period) for the
/// connections in flight to finish their requests.
pub async fn run_https<S, B>(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: S,
    limits: Limits,
    shutdown: CancellationToken,
) where
    S: App<B>,
    B: ResponseBody,
{
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    accept_loop(&listener, &slots, &shutdown, |tcp, peer, permit| {
        let acceptor = acceptor.clone();
        let app = app.clone();
        let limits = limits.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let tls =
                match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        metrics::counter!("tls_handshake_failures_total", "reason" => "error")
                            .increment(1);
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        metrics::counter!("tls_handshake_failures_total", "reason" => "timeout")
                            .increment(1);
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
            serve_connection(TokioIo::new(tls), peer, app, &limits, &shutdown).await;
        });
    })
    .await;
    drain(&slots, &limits).await;
}

/// The plain-HTTP listener: every request gets a permanent redirect to HTTPS, nothing else.
pub async fn run_redirect(
    listener: TcpListener,
    target: RedirectTarget,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let target = Arc::new(target);
    accept_loop(&listener, &slots, &shutdown, |tcp, peer, permit| {
        let target = target.clone();
        let limits = limits.clone();
        let shutdown = shutdown.clone();
        let app = Router::new().fallback(move |req: Request<Body>| {
            let target = target.clone();
            async move { target.redirect(&req) }
        });
        tokio::spawn(async move {
            let _permit = permit;
            serve_connection(TokioIo::new(tcp), peer, app, &limits, &shutdown).await;
        });
    })
    .await;
    drain(&slots, &limits).await;
}

async fn accept_loop(
    listener: &TcpListener,
    slots: &Arc<Semaphore>,
    shutdown: &CancellationToken,
    mut spawn: impl FnMut(TcpStream, SocketAddr, OwnedSemaphorePermit),
) {
    loop {
        // At the connection limit we stop accepting; the kernel's backlog holds the rest.
        let permit = tokio::select! {
            _ = shutdown.cancelled() => return,
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        let (tcp, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        spawn(tcp, peer, permit);
    }
}

async fn drain(slots: &Arc<Semaphore>, limits: &Limits) {
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(limits.shutdown_grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace period over; closing the remaining connections");
    }
}

/// What the listeners serve: the application (`app::service`) or the redirect router.
pub trait App<B>:
    Service<Request<Body>, Response = Response<B>, Error = Infallible, Future: Send + 'static>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<S, B> App<B> for S where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible, Future: Send + 'static>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// A response body hyper can send.
pub trait ResponseBody:
    http_body::Body<Data = bytes::Bytes, Error: Into<axum::BoxError>> + Send + 'static
{
}

impl<B> ResponseBody for B where
    B: http_body::Body<Data = bytes::Bytes, Error: Into<axum::BoxError>> + Send + 'static
{
}

/// What a connection's requests did since the idle check last looked: how many began and how
/// many are still running. Counting instead of reading the clock on every request: the check
/// runs once per tick, and a connection is idle when whole ticks pass with nothing running and
/// nothing begun.
#[derive(Default)]
struct Activity {
    begun: AtomicU64,
    in_flight: AtomicUsize,
}

/// Decrements the in-flight count even when the client goes away mid-request.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> InFlight {
        activity.begun.fetch_add(1, Ordering::Relaxed);
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(activity.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Turns the activity counts, read once per tick, into how long the connection has been idle.
struct IdleClock {
    seen: u64,
    idle_since: Instant,
}

impl IdleClock {
    fn new() -> IdleClock {
        IdleClock {
            seen: 0,
            idle_since: Instant::now(),
        }
    }

    /// How long nothing has happened, as of this check. A request that began and ended between
    /// two checks counts as activity at this check: idleness is known to within one tick.
    fn idle_for(&mut self, activity: &Activity) -> Duration {
        let begun = activity.begun.load(Ordering::Relaxed);
        let now = Instant::now();
        if begun != self.seen || activity.in_flight.load(Ordering::Relaxed) > 0 {
            self.seen = begun;
            self.idle_since = now;
        }
        now.saturating_duration_since(self.idle_since)
    }
}

async fn serve_connection<I, S, B>(
    io: I,
    peer: SocketAddr,
    app: S,
    limits: &Limits,
    shutdown: &CancellationToken,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: App<B>,
    B: ResponseBody,
{
    let activity = Arc::new(Activity::default());
    let mut idle = IdleClock::new();
    let tracker = activity.clone();
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        let guard = InFlight::begin(&tracker);
        // The accept loop knows the peer; handlers (rate limits, /metrics) read it from here.
        req.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        async move {
            let res = app.oneshot(req.map(Body::new)).await;
            drop(guard);
            res
        }
    });

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(128)
        .max_header_list_size(64 * 1024)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);

    let mut tick = tokio::time::interval(Duration::from_secs(1).min(limits.idle_timeout));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {
                if idle.idle_for(&activity) >= limits.idle_timeout {
                    break;
                }
            }
        }
    }
    // Idle or shutting down: stop taking new requests, let the current ones finish.
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.shutdown_grace, conn).await;
}

/// Where the redirect listener sends people.
#[derive(Debug, Clone)]
pub struct RedirectTarget {
    /// The configured public URL, if any: it wins over the request's `Host`.
    pub public_url: Option<url::Url>,
    /// The HTTPS port, used with the request's host name when no public URL is configured.
    pub https_port: u16,
}

impl RedirectTarget {
    fn redirect(&self, req: &Request<Body>) -> Response<Body> {
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| p.starts_with('/'))
            .unwrap_or("/");
        let base = match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => {
                let host = req
                    .headers()
                    .get(header::HOST)
                    .and_then(|h| h.to_str().ok())
                    .and_then(|h| h.parse::<http::uri::Authority>().ok());
                let Some(host) = host else {
                    return plain(StatusCode::BAD_REQUEST, "missing or invalid Host header\n");
                };
                let name = host.host();
                if self.https_port == 443 {
                    format!("https://{name}")
                } else {
                    format!("https://{name}:{}", self.https_port)
                }
            }
        };
        let location = format!("{base}{path}");
        match Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(header::LOCATION, &location)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Body::from(format!("Moved to {location}\n")))
        {
            Ok(r) => r,
            Err(_) => plain(StatusCode::BAD_REQUEST, "invalid request target\n"),
        }
    }
}

fn plain(status: StatusCode, msg: &'static str) -> Response<Body> {
    let mut r = Response::new(Body::from(msg));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}
