//! The edge of the application: every request passes here once on its way in, and its
//! response once on its way out.
//!
//! - In: `Authorization`, `Cookie` and `Proxy-Authorization` are marked sensitive before
//!   anything could log them; the request gets its id and its trace span (method, path, id —
//!   never the query string, which carries one-time tokens, and never headers).
//! - Out: `Set-Cookie` is marked sensitive (HTTP/2 then never puts it in the HPACK table), the
//!   security headers and `x-request-id` are set, an error status without a body of ours
//!   becomes a page in the visitor's language (browsers) or `application/problem+json` (API
//!   clients), and a server error is logged inside the request's span.
//! - A panic in a handler becomes a 500 (then rendered like any error) instead of a dropped
//!   connection.
//!
//! One typed layer instead of tower-http's sensitive-header, request-id, trace and catch-panic
//! layers plus a response layer of ours: those are a future (and the trace and catch-panic
//! layers a boxed or wrapped body) around every request each, and the request id went through a
//! `String` and was copied into the request and its extensions. Together they were about a
//! fifth of a `/healthz` request's CPU time (`cargo bench -p extranet-tests --bench http`).
//! Here a successful response costs a copy of the prebuilt security headers with its own moved
//! in (`security.rs`) and one allocation (the id's header value). Only an error response takes
//! the slower, boxed path.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use extranet_platform::outage::{Outage, RETRY_AFTER_SECS};
use extranet_web::Site;
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::Span;
use uuid::Uuid;

use super::errors;
use super::security::SecurityHeaders;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request id a proxy in front of us set is kept when it looks like one: up to this many
/// characters of `[A-Za-z0-9._-]`. Anything else gets an id of ours.
const GIVEN_ID_MAX: usize = 64;

#[derive(Clone)]
pub struct EdgeLayer {
    shared: Arc<Shared>,
}

struct Shared {
    security: SecurityHeaders,
    site: Arc<Site>,
    /// The database's outage watch (PostgreSQL): a server error while it refuses connections
    /// is answered 503 with `Retry-After`.
    outage: Option<Outage>,
}

impl EdgeLayer {
    pub fn new(security: SecurityHeaders, site: Arc<Site>, outage: Option<Outage>) -> EdgeLayer {
        EdgeLayer {
            shared: Arc::new(Shared {
                security,
                site,
                outage,
            }),
        }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    shared: Arc<Shared>,
}

/// A request's id: the one a proxy gave it, or a random UUID of ours, formatted only when a
/// log line or the response header needs it.
enum RequestId {
    Given(HeaderValue),
    New(Uuid),
}

impl RequestId {
    fn of(headers: &HeaderMap) -> RequestId {
        match headers.get(&REQUEST_ID) {
            Some(v) if is_plain_id(v.as_bytes()) => RequestId::Given(v.clone()),
            _ => RequestId::New(Uuid::new_v4()),
        }
    }

    fn header_value(&self) -> HeaderValue {
        match self {
            RequestId::Given(v) => v.clone(),
            RequestId::New(id) => {
                let mut buf = Uuid::encode_buffer();
                HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf))
                    .unwrap_or_else(|_| HeaderValue::from_static("-"))
            }
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Only plain ids are kept (`is_plain_id`), so this is always text.
            RequestId::Given(v) => f.write_str(v.to_str().unwrap_or("-")),
            RequestId::New(id) => fmt::Display::fmt(&id.hyphenated(), f),
        }
    }
}

fn is_plain_id(v: &[u8]) -> bool {
    !v.is_empty()
        && v.len() <= GIVEN_ID_MAX
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Marks the credentials a request carries, so that no `Debug` of the headers can show them.
fn mark_request_secrets(headers: &mut HeaderMap) {
    for (name, value) in headers.iter_mut() {
        if name == header::AUTHORIZATION
            || name == header::COOKIE
            || name == header::PROXY_AUTHORIZATION
        {
            value.set_sensitive(true);
        }
    }
}

/// What the error path needs to know about the request, taken before the request moves on.
/// Header values are reference-counted: keeping two of them copies no bytes.
struct Asked {
    wants_problem: bool,
    accept_language: Option<HeaderValue>,
    cookie: Option<HeaderValue>,
}

impl Asked {
    fn of(req: &Request) -> Asked {
        let h = req.headers();
        Asked {
            wants_problem: errors::wants_problem(req.uri().path(), h),
            accept_language: h.get(header::ACCEPT_LANGUAGE).cloned(),
            cookie: h.get(header::COOKIE).cloned(),
        }
    }

    fn language_headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = &self.accept_language {
            h.insert(header::ACCEPT_LANGUAGE, v.clone());
        }
        if let Some(v) = &self.cookie {
            h.insert(header::COOKIE, v.clone());
        }
        h
    }
}

impl<S, B> Service<Request> for Edge<S>
where
    S: Service<Request, Response = http::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let started = Instant::now();
        mark_request_secrets(req.headers_mut());
        let id = RequestId::of(req.headers());
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.uri().path(),
            request_id = %id,
        );
        let asked = Asked::of(&req);
        let state = match span.in_scope(|| catch_unwind(AssertUnwindSafe(|| self.inner.call(req))))
        {
            Ok(fut) => State::Inner { fut },
            Err(panic) => State::Panicked {
                res: Some(errors::on_panic(panic)),
            },
        };
        EdgeFuture {
            state,
            asked: Some(asked),
            shared: self.shared.clone(),
            id,
            span,
            started,
        }
    }
}

type Rendering = Pin<Box<dyn Future<Output = Response> + Send>>;

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] fut: F },
        // The inner service panicked while building its future.
        Panicked { res: Option<Response> },
        Rendering { fut: Rendering },
    }
}

pin_project! {
    pub struct EdgeFuture<F> {
        #[pin]
        state: State<F>,
        asked: Option<Asked>,
        shared: Arc<Shared>,
        id: RequestId,
        span: Span,
        started: Instant,
    }
}

impl<F, B> Future for EdgeFuture<F>
where
    F: Future<Output = Result<http::Response<B>, Infallible>>,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _entered = this.span.enter();
        loop {
            let res = match this.state.as_mut().project() {
                // A future that panicked is not polled again: the 500 replaces it.
                StateProj::Inner { fut } => match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(Ok(res))) => res.map(axum::body::Body::new),
                    Err(panic) => errors::on_panic(panic),
                },
                StateProj::Panicked { res } => res
                    .take()
                    .unwrap_or_else(|| errors::on_panic(Box::new("polled after completion"))),
                StateProj::Rendering { fut } => {
                    let res = ready!(fut.as_mut().poll(cx));
                    return Poll::Ready(Ok(finish(res, this.shared, this.id, *this.started)));
                }
            };
            let res = unavailable_if_refused(res, this.shared.outage.as_ref());
            match this.asked.take() {
                Some(asked) if errors::needs_rendering(&res) => {
                    let site = this.shared.site.clone();
                    let request_id = this.id.header_value().to_str().ok().map(str::to_owned);
                    let fut: Rendering = Box::pin(async move {
                        let lang = asked.language_headers();
                        errors::render_error(
                            res,
                            asked.wants_problem,
                            &lang,
                            &site,
                            request_id.as_deref(),
                        )
                        .await
                    });
                    this.state.set(State::Rendering { fut });
                }
                _ => return Poll::Ready(Ok(finish(res, this.shared, this.id, *this.started))),
            }
        }
    }
}

/// A 500 raised while the database refuses connections failed because of that, not because of
/// a bug of ours: the client is told to come back (503, `Retry-After`), in its language. Handlers
/// need not tell a refused connection from other database errors, which their error types carry
/// as text; the outage watch knows (`extranet_platform::outage`).
fn unavailable_if_refused(res: Response, outage: Option<&Outage>) -> Response {
    if res.status() != http::StatusCode::INTERNAL_SERVER_ERROR
        || !outage.is_some_and(Outage::is_open)
    {
        return res;
    }
    let mut out = http::StatusCode::SERVICE_UNAVAILABLE.into_response();
    out.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    out
}

/// The headers every response leaves with, and the request's last log line.
fn finish(mut res: Response, shared: &Shared, id: &RequestId, started: Instant) -> Response {
    let status = res.status();
    let headers = res.headers_mut();
    shared.security.apply(headers);
    if !headers.contains_key(&REQUEST_ID) {
        headers.insert(REQUEST_ID, id.header_value());
    }
    if status.is_server_error() {
        tracing::error!(
            status = status.as_u16(),
            latency_ms = started.elapsed().as_millis(),
            "response failed"
        );
    } else if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(
            status = status.as_u16(),
            latency_ms = started.elapsed().as_millis(),
            "finished processing request"
        );
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use tower::ServiceExt;

    fn edge<S>(inner: S) -> Edge<S> {
        EdgeLayer::new(SecurityHeaders::new(60), Arc::new(Site::default()), None).layer(inner)
    }

    fn get(path: &str) -> Request {
        Request::get(path)
            .header(header::ACCEPT_LANGUAGE, "fr")
            .body(Body::empty())
            .unwrap()
    }

    async fn text(res: Response) -> String {
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_success_leaves_with_the_security_headers_and_an_id() {
        let svc = edge(tower::service_fn(|_req: Request| async {
            Ok::<_, Infallible>(([(header::SET_COOKIE, "s=1; Secure")], "hello").into_response())
        }));
        let res = svc.clone().oneshot(get("/x")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        for h in [
            header::STRICT_TRANSPORT_SECURITY,
            header::CONTENT_SECURITY_POLICY,
            header::X_CONTENT_TYPE_OPTIONS,
            header::REFERRER_POLICY,
        ] {
            assert!(res.headers().contains_key(&h), "{h}");
        }
        assert!(res.headers()[header::SET_COOKIE].is_sensitive());
        let first = res.headers()[&REQUEST_ID].clone();
        assert!(Uuid::parse_str(first.to_str().unwrap()).is_ok());
        assert_eq!(text(res).await, "hello");
        let second = svc.oneshot(get("/x")).await.unwrap();
        assert_ne!(
            second.headers()[&REQUEST_ID],
            first,
            "every request has its own id"
        );
    }

    #[tokio::test]
    async fn a_panic_in_the_handler_becomes_a_page_in_the_visitors_language() {
        let svc = edge(tower::service_fn(|_req: Request| async {
            if true {
                panic!("handler bug");
            }
            Ok::<Response, Infallible>(StatusCode::OK.into_response())
        }));
        let res = svc.oneshot(get("/x")).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(res.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(res.headers().contains_key(&REQUEST_ID));
        let page = text(res).await;
        assert!(page.contains("lang=\"fr\""), "{page}");
        assert!(!page.contains("handler bug"), "{page}");
    }

    /// A service that panics while building its future, before any `poll`.
    #[derive(Clone)]
    struct PanicsInCall;

    impl Service<Request> for PanicsInCall {
        type Response = Response;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response, Infallible>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request) -> Self::Future {
            panic!("call bug")
        }
    }

    #[tokio::test]
    async fn a_panic_in_call_becomes_a_problem_document_for_the_api() {
        let res = edge(PanicsInCall).oneshot(get("/api/v1/x")).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let doc = text(res).await;
        assert!(doc.contains("\"status\":500"), "{doc}");
        assert!(!doc.contains("call bug"), "{doc}");
    }

    #[test]
    fn plain_ids_are_kept_others_replaced() {
        for ok in ["abc", "0f8e-12_3.x", &"a".repeat(GIVEN_ID_MAX)] {
            assert!(is_plain_id(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "a\"b",
            "<script>",
            "é",
            &"a".repeat(GIVEN_ID_MAX + 1),
        ] {
            assert!(!is_plain_id(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn a_new_id_is_a_uuid_in_the_header_and_the_log() {
        let id = RequestId::of(&HeaderMap::new());
        let header = id.header_value();
        let text = header.to_str().unwrap();
        assert_eq!(Uuid::parse_str(text).unwrap().get_version_num(), 4);
        assert_eq!(id.to_string(), text);
    }

    #[test]
    fn a_given_id_is_echoed_and_a_hostile_one_replaced() {
        let mut h = HeaderMap::new();
        h.insert(REQUEST_ID, HeaderValue::from_static("lb-1234.5"));
        assert_eq!(RequestId::of(&h).header_value(), "lb-1234.5");
        h.insert(REQUEST_ID, HeaderValue::from_static("x\" onload=1"));
        let replaced = RequestId::of(&h).header_value();
        assert!(Uuid::parse_str(replaced.to_str().unwrap()).is_ok());
    }

    #[test]
    fn credentials_are_marked_sensitive() {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        h.append(header::COOKIE, HeaderValue::from_static("a=1"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        mark_request_secrets(&mut h);
        assert!(h[header::AUTHORIZATION].is_sensitive());
        assert!(
            h.get_all(header::COOKIE)
                .iter()
                .all(HeaderValue::is_sensitive)
        );
        assert!(!h[header::ACCEPT].is_sensitive());
    }
}
