//! The last word on every response: security headers always, and an error status without a
//! body of ours rendered as a page in the visitor's language (browsers) or as
//! `application/problem+json` (API clients).
//!
//! One typed tower layer rather than two `from_fn` middlewares: every request of the server
//! passes through here, and a successful response costs only the header inserts (no boxed
//! future, no copy of the request headers). Only an error response takes the slower path.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use extranet_web::Site;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use super::errors;
use super::security::SecurityHeaders;

#[derive(Clone)]
pub struct RespondLayer {
    shared: Arc<Shared>,
}

struct Shared {
    security: SecurityHeaders,
    site: Arc<Site>,
}

impl RespondLayer {
    pub fn new(security: SecurityHeaders, site: Arc<Site>) -> RespondLayer {
        RespondLayer {
            shared: Arc::new(Shared { security, site }),
        }
    }
}

impl<S> Layer<S> for RespondLayer {
    type Service = Respond<S>;

    fn layer(&self, inner: S) -> Respond<S> {
        Respond {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Respond<S> {
    inner: S,
    shared: Arc<Shared>,
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

impl<S, B> Service<Request> for Respond<S>
where
    S: Service<Request, Response = http::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RespondFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let asked = Asked::of(&req);
        RespondFuture {
            state: State::Inner {
                fut: self.inner.call(req),
            },
            asked: Some(asked),
            shared: self.shared.clone(),
        }
    }
}

type Rendering = Pin<Box<dyn Future<Output = Response> + Send>>;

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] fut: F },
        Rendering { fut: Rendering },
    }
}

pin_project! {
    pub struct RespondFuture<F> {
        #[pin]
        state: State<F>,
        asked: Option<Asked>,
        shared: Arc<Shared>,
    }
}

impl<F, B> Future for RespondFuture<F>
where
    F: Future<Output = Result<http::Response<B>, Infallible>>,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Inner { fut } => {
                    let Ok(res) = ready!(fut.poll(cx));
                    let mut res = res.map(axum::body::Body::new);
                    if !errors::needs_rendering(&res) {
                        this.shared.security.apply(res.headers_mut());
                        return Poll::Ready(Ok(res));
                    }
                    let Some(asked) = this.asked.take() else {
                        this.shared.security.apply(res.headers_mut());
                        return Poll::Ready(Ok(res));
                    };
                    let site = this.shared.site.clone();
                    let fut: Rendering = Box::pin(async move {
                        let lang = asked.language_headers();
                        errors::render_error(res, asked.wants_problem, &lang, &site).await
                    });
                    this.state.set(State::Rendering { fut });
                }
                StateProj::Rendering { fut } => {
                    let mut res = ready!(fut.as_mut().poll(cx));
                    this.shared.security.apply(res.headers_mut());
                    return Poll::Ready(Ok(res));
                }
            }
        }
    }
}
