//! Browser sessions: the access and refresh tokens live in `__Host-` cookies (HttpOnly, Secure,
//! SameSite=Strict, Path=/), the access token is refreshed transparently while the person keeps
//! working, and every state-changing form carries a CSRF token (double-submit, with a
//! `__Host-` cookie) and must come from our own origin.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use extranet_identity::auth::{Auth, Issued};
use extranet_identity::tokens::Claims;
use rand::RngCore;
use subtle::ConstantTimeEq;

pub const ACCESS_COOKIE: &str = "__Host-access";
pub const REFRESH_COOKIE: &str = "__Host-refresh";
pub const CSRF_COOKIE: &str = "__Host-csrf";

/// The signed-in person, if any (set by [`layer`]).
#[derive(Clone, Debug)]
pub struct CurrentUser(pub Option<Arc<Claims>>);

/// This browser's CSRF token, to put in forms.
#[derive(Clone, Debug)]
pub struct Csrf(pub String);

fn cookie(name: &'static str, value: String, max_age_secs: i64) -> HeaderValue {
    let c = Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(max_age_secs))
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The cookies that hold a session.
pub fn session_cookies(auth: &Auth, issued: &Issued) -> [HeaderValue; 2] {
    let access = i64::try_from(auth.tokens.access_lifetime.as_secs()).unwrap_or(300);
    let absolute = i64::try_from(auth.sessions.absolute_lifetime.as_secs()).unwrap_or(43_200);
    [
        cookie(ACCESS_COOKIE, issued.access_token.clone(), access),
        cookie(REFRESH_COOKIE, issued.refresh_token.clone(), absolute),
    ]
}

/// Cookies that remove the session from the browser.
pub fn cleared_cookies() -> [HeaderValue; 2] {
    [
        cookie(ACCESS_COOKIE, String::new(), 0),
        cookie(REFRESH_COOKIE, String::new(), 0),
    ]
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Resolves the session of every page request: a valid access cookie, or else a refresh that
/// sets new cookies on the response. Also makes sure the browser has a CSRF cookie.
/// The session's cookies, read without building a cookie jar (this runs on every page).
#[derive(Default)]
struct SessionCookies {
    access: Option<String>,
    refresh: Option<String>,
    csrf: Option<String>,
}

impl SessionCookies {
    fn of(headers: &HeaderMap) -> SessionCookies {
        let mut found = SessionCookies::default();
        for value in headers.get_all(header::COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            for c in Cookie::split_parse(value).flatten() {
                let slot = match c.name() {
                    ACCESS_COOKIE => &mut found.access,
                    REFRESH_COOKIE => &mut found.refresh,
                    CSRF_COOKIE => &mut found.csrf,
                    _ => continue,
                };
                if !c.value().is_empty() {
                    *slot = Some(c.value().to_owned());
                }
            }
        }
        found
    }
}

pub async fn layer(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    let cookies = SessionCookies::of(req.headers());
    let mut set_cookies: Vec<HeaderValue> = Vec::new();

    let mut user = None;
    if let Some(access) = &cookies.access {
        user = auth.verify(access).await.ok();
    }
    if user.is_none()
        && let Some(refresh) = &cookies.refresh
    {
        // Boxed: the refresh (a database transaction) is a large future that most requests never
        // reach; left inline it made every page request's own future copy kilobytes around.
        let client = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        match Box::pin(auth.refresh(refresh, client)).await {
            Ok(Ok(issued)) => {
                set_cookies.extend(session_cookies(&auth, &issued));
                user = Some(Arc::new(issued.claims));
            }
            Ok(Err(_)) => set_cookies.extend(cleared_cookies()),
            Err(e) => tracing::error!(error = %e, "session refresh failed"),
        }
    }
    let csrf = match cookies.csrf {
        Some(token) if token.len() >= 32 => token,
        _ => {
            let token = random_token();
            set_cookies.push(cookie(CSRF_COOKIE, token.clone(), 12 * 3600));
            token
        }
    };
    req.extensions_mut().insert(CurrentUser(user));
    req.extensions_mut().insert(Csrf(csrf));
    let flash = crate::ui::flash::Flash::of(req.headers());
    if let Some(f) = &flash {
        req.extensions_mut().insert(f.clone());
    }

    let mut res = next.run(req).await;
    // A message is cleared once a page has shown it (not by a redirect on the way there).
    if flash.is_some()
        && res.status().is_success()
        && let Some(c) = crate::ui::flash::cleared()
    {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    let handler_set: bool = res.headers().get_all(header::SET_COOKIE).iter().any(|v| {
        v.to_str()
            .is_ok_and(|s| s.starts_with(ACCESS_COOKIE) || s.starts_with(REFRESH_COOKIE))
    });
    for value in set_cookies {
        // A handler that signed in or out has the last word on the session cookies.
        let is_session = value
            .to_str()
            .is_ok_and(|s| s.starts_with(ACCESS_COOKIE) || s.starts_with(REFRESH_COOKIE));
        if handler_set && is_session {
            continue;
        }
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    res
}

/// A state-changing form is accepted only with the browser's CSRF token and, when the browser
/// says where the request comes from, only from this origin.
pub fn form_allowed(headers: &HeaderMap, uri: &Uri, csrf: &Csrf, submitted: &str) -> bool {
    let token_ok =
        !submitted.is_empty() && bool::from(submitted.as_bytes().ct_eq(csrf.0.as_bytes()));
    token_ok && same_origin(headers, uri)
}

fn same_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    // HTTP/2 carries the host in the request URI's authority, HTTP/1.1 in `Host`.
    let host = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
    });
    match (origin_header(headers), host) {
        (Some(origin), Some(host)) => origin == format!("https://{host}"),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// `Origin`, or the origin part of `Referer` when a browser sends no Origin.
fn origin_header(headers: &HeaderMap) -> Option<String> {
    if let Some(o) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return Some(o.to_owned());
    }
    let referer = headers.get(header::REFERER)?.to_str().ok()?;
    let url = url::Url::parse(referer).ok()?;
    Some(url.origin().ascii_serialization())
}
