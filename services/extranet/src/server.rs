//! The listeners. Each accepted connection runs in its own task: the TLS handshake under a
//! timeout, then hyper (HTTP/2 or HTTP/1.1 by ALPN) under a watch that enforces the header-read
//! and idle timeouts, with a bound on concurrent connections, so that slow or hostile clients
//! cannot starve others.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
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
            let protocol = match tls.get_ref().1.alpn_protocol() {
                Some(b"h2") => Protocol::Http2,
                _ => Protocol::Http1,
            };
            serve_connection(tls, protocol, peer, app, &limits, &shutdown).await;
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
            serve_connection(tcp, Protocol::Http1, peer, app, &limits, &shutdown).await;
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

/// What a connection did since its watch last looked: requests begun, requests still running,
/// and reads that brought bytes. Counted instead of clocked: the watch reads the clock once per
/// tick, so a request pays a few relaxed increments and no timer.
#[derive(Default)]
struct Activity {
    begun: AtomicU64,
    in_flight: AtomicUsize,
    reads: AtomicU64,
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

pin_project! {
    /// The connection's transport, counting the reads that brought bytes.
    struct Counted<T> {
        #[pin]
        inner: T,
        activity: Arc<Activity>,
    }
}

impl<T: AsyncRead> AsyncRead for Counted<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let res = this.inner.poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.reads.fetch_add(1, Ordering::Relaxed);
        }
        res
    }
}

impl<T: AsyncWrite> AsyncWrite for Counted<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

/// Which protocol a connection speaks, as far as the header-read timeout is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// HTTP/1.1: bytes that arrive while no request runs are the start of the next request's
    /// head, and must complete within the header-read timeout.
    Http1,
    /// HTTP/2 (negotiated by ALPN): a quiet connection still exchanges PINGs and SETTINGS, so
    /// only the idle timeout applies; stream headers are bounded by hyper's frame limits.
    Http2,
}

/// What the watch decided at a tick.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Open,
    /// Nothing ran and nothing arrived for the idle timeout: close gracefully.
    Idle,
    /// A request's head began to arrive and did not complete in time (slowloris): drop.
    HeadTooSlow,
}

/// Turns the activity counts, read once per tick, into a verdict. Replaces hyper's own
/// header-read timer, which armed, registered and dropped a timer on every request.
struct Watch {
    protocol: Protocol,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    seen_begun: u64,
    seen_reads: u64,
    quiet_since: Instant,
}

impl Watch {
    fn new(protocol: Protocol, limits: &Limits) -> Watch {
        Watch {
            protocol,
            header_read_timeout: limits.header_read_timeout,
            idle_timeout: limits.idle_timeout,
            seen_begun: 0,
            seen_reads: 0,
            quiet_since: Instant::now(),
        }
    }

    /// How often the watch must look: a verdict is late by at most one tick.
    fn tick(limits: &Limits) -> Duration {
        Duration::from_secs(1)
            .min(limits.idle_timeout)
            .min(limits.header_read_timeout)
            .max(Duration::from_millis(10))
    }

    fn check(&mut self, activity: &Activity, now: Instant) -> Verdict {
        let begun = activity.begun.load(Ordering::Relaxed);
        let reads = activity.reads.load(Ordering::Relaxed);
        if begun != self.seen_begun || activity.in_flight.load(Ordering::Relaxed) > 0 {
            self.seen_begun = begun;
            self.seen_reads = reads;
            self.quiet_since = now;
            return Verdict::Open;
        }
        let quiet = now.saturating_duration_since(self.quiet_since);
        let head_started = reads != self.seen_reads;
        if self.protocol == Protocol::Http1 && head_started && quiet >= self.header_read_timeout {
            Verdict::HeadTooSlow
        } else if quiet >= self.idle_timeout {
            Verdict::Idle
        } else {
            Verdict::Open
        }
    }
}

async fn serve_connection<T, S, B>(
    io: T,
    protocol: Protocol,
    peer: SocketAddr,
    app: S,
    limits: &Limits,
    shutdown: &CancellationToken,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: App<B>,
    B: ResponseBody,
{
    let activity = Arc::new(Activity::default());
    let mut watch = Watch::new(protocol, limits);
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
    let io = TokioIo::new(Counted {
        inner: io,
        activity: activity.clone(),
    });

    let mut builder = auto::Builder::new(TokioExecutor::new());
    // No timer for HTTP/1.1: the header-read timeout is the watch's (see `Watch`).
    builder.http1().max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(128)
        .max_header_list_size(64 * 1024)
        .keep_alive_interval(Some(Duration::from_secs(30)))
        .keep_alive_timeout(Duration::from_secs(20));
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);

    let mut tick = tokio::time::interval(Watch::tick(limits));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            res = conn.as_mut() => {
                if let Err(e) = res {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = shutdown.cancelled() => break,
            now = tick.tick() => match watch.check(&activity, now.into_std()) {
                Verdict::Open => {}
                Verdict::Idle => break,
                Verdict::HeadTooSlow => {
                    metrics::counter!("http_header_read_timeouts_total").increment(1);
                    tracing::debug!(%peer, "request head not received in time; closing");
                    return;
                }
            },
        }
    }
    // Idle or shutting down: stop taking new requests, let the current ones finish.
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.shutdown_grace, conn).await;
}

/// Where the redirect listener sends people, and what it refuses.
///
/// Only a browser's plain `GET`/`HEAD` is redirected, and only to a host this installation
/// answers for: the public URL when one is configured, otherwise the request's host name if
/// the served certificate covers it (never any name a client puts in `Host`). An API request,
/// or any request with a body, gets an error instead of a redirect: a `308` would make the
/// client send its password or token a second time, after it already crossed the network
/// unencrypted.
#[derive(Debug, Clone)]
pub struct RedirectTarget {
    /// The configured public URL, if any: it wins over the request's `Host`.
    pub public_url: Option<url::Url>,
    /// The HTTPS port, used with the request's host name when no public URL is configured.
    pub https_port: u16,
    /// The certificate being served: the host names it covers are the ones redirected to.
    pub certificate: Arc<crate::tls::CertResolver>,
}

impl RedirectTarget {
    fn redirect(&self, req: &Request<Body>) -> Response<Body> {
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .filter(|p| p.starts_with('/'))
            .unwrap_or("/");
        let base = self.base(req);
        let api = req.uri().path() == "/api" || req.uri().path().starts_with("/api/");
        if api || !matches!(*req.method(), http::Method::GET | http::Method::HEAD) {
            return https_required(api, base.as_deref());
        }
        let Some(base) = base else {
            return plain(
                StatusCode::BAD_REQUEST,
                "This host name is not served here; use the address you were given, with https://.\n",
            );
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

    /// `https://name[:port]` for this request, or `None` when its host is not ours.
    fn base(&self, req: &Request<Body>) -> Option<String> {
        if let Some(url) = &self.public_url {
            return Some(url.as_str().trim_end_matches('/').to_owned());
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse::<http::uri::Authority>().ok())?;
        let name = host.host();
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if !self.certificate.covers(bare) {
            return None;
        }
        Some(if self.https_port == 443 {
            format!("https://{name}")
        } else {
            format!("https://{name}:{}", self.https_port)
        })
    }
}

/// 403 for a request that must not be redirected: what to do instead, and that what it
/// carried is to be considered exposed.
fn https_required(api: bool, base: Option<&str>) -> Response<Body> {
    let at = base.map(|b| format!(" ({b}/)")).unwrap_or_default();
    if api {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": "Forbidden",
            "status": 403,
            "code": "https_required",
            "detail": format!(
                "The API answers over HTTPS only{at}; this request was not processed and will \
                 not be redirected. It crossed the network unencrypted: consider any password \
                 or token it carried exposed — change the password, and revoke the token \
                 (sign out over HTTPS)."
            ),
        });
        let mut r = Response::new(Body::from(body.to_string()));
        *r.status_mut() = StatusCode::FORBIDDEN;
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/problem+json"),
        );
        return r;
    }
    let mut r = Response::new(Body::from(format!(
        "This site accepts forms over HTTPS only{at}; nothing was processed. What you sent \
         crossed the network unencrypted: if it held a password, change it.\n"
    )));
    *r.status_mut() = StatusCode::FORBIDDEN;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
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

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(header_read: u64, idle: u64) -> Limits {
        Limits {
            max_connections: 1,
            handshake_timeout: Duration::from_secs(1),
            header_read_timeout: Duration::from_secs(header_read),
            idle_timeout: Duration::from_secs(idle),
            shutdown_grace: Duration::from_secs(1),
        }
    }

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn a_quiet_connection_is_idle_after_the_idle_timeout() {
        let activity = Activity::default();
        let mut watch = Watch::new(Protocol::Http1, &limits(2, 5));
        let t0 = watch.quiet_since;
        assert_eq!(watch.check(&activity, at(t0, 4)), Verdict::Open);
        assert_eq!(watch.check(&activity, at(t0, 5)), Verdict::Idle);
    }

    #[test]
    fn a_head_that_started_must_complete_within_the_header_timeout() {
        let activity = Activity::default();
        let mut watch = Watch::new(Protocol::Http1, &limits(2, 60));
        let t0 = watch.quiet_since;
        activity.reads.fetch_add(1, Ordering::Relaxed);
        assert_eq!(watch.check(&activity, at(t0, 1)), Verdict::Open);
        // More trickled bytes do not buy more time.
        activity.reads.fetch_add(1, Ordering::Relaxed);
        assert_eq!(watch.check(&activity, at(t0, 2)), Verdict::HeadTooSlow);
    }

    #[test]
    fn requests_keep_a_connection_open_and_restart_the_clocks() {
        let activity = Arc::new(Activity::default());
        let mut watch = Watch::new(Protocol::Http1, &limits(2, 5));
        let t0 = watch.quiet_since;
        // A long request: in flight across many ticks, reading its body all along.
        let guard = InFlight::begin(&activity);
        for s in 1..30 {
            activity.reads.fetch_add(1, Ordering::Relaxed);
            assert_eq!(watch.check(&activity, at(t0, s)), Verdict::Open);
        }
        drop(guard);
        // Done at 29 s: quiet from the last tick that saw it running.
        assert_eq!(watch.check(&activity, at(t0, 33)), Verdict::Open);
        assert_eq!(watch.check(&activity, at(t0, 34)), Verdict::Idle);
        // A request that began and ended between two ticks counts as activity at the next.
        InFlight::begin(&activity);
        assert_eq!(watch.check(&activity, at(t0, 35)), Verdict::Open);
        assert_eq!(watch.check(&activity, at(t0, 39)), Verdict::Open);
    }

    #[test]
    fn http2_traffic_without_requests_is_only_idle() {
        let activity = Activity::default();
        let mut watch = Watch::new(Protocol::Http2, &limits(2, 5));
        let t0 = watch.quiet_since;
        // PING answers and SETTINGS arrive on a quiet HTTP/2 connection.
        activity.reads.fetch_add(3, Ordering::Relaxed);
        assert_eq!(watch.check(&activity, at(t0, 4)), Verdict::Open);
        assert_eq!(watch.check(&activity, at(t0, 5)), Verdict::Idle);
    }

    #[tokio::test]
    async fn reads_that_bring_bytes_are_counted() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (client, server) = tokio::io::duplex(64);
        let activity = Arc::new(Activity::default());
        let mut counted = Counted {
            inner: server,
            activity: activity.clone(),
        };
        let mut client = client;
        client.write_all(b"GET / HT").await.unwrap();
        let mut buf = [0u8; 8];
        counted.read_exact(&mut buf).await.unwrap();
        assert!(activity.reads.load(Ordering::Relaxed) >= 1);
        let before = activity.reads.load(Ordering::Relaxed);
        drop(client);
        assert_eq!(counted.read(&mut buf).await.unwrap(), 0);
        assert_eq!(
            activity.reads.load(Ordering::Relaxed),
            before,
            "EOF is no read"
        );
        counted.write_all(b"x").await.unwrap_err();
    }
}
