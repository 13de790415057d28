//! Entering and leaving the signed-in part: the page asked for is remembered across sign-in
//! (a short-lived `__Host-next` cookie, so that it survives the second-factor step without
//! travelling through every form), and a new session starts in the person's own language.

use axum::http::{HeaderMap, HeaderValue, Method, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use extranet_identity::auth::{Auth, Issued};

use crate::lang::{LANG_COOKIE, Lang};
use crate::session::session_cookies;

/// Where the page asked for before sign-in is kept.
pub(crate) const NEXT_COOKIE: &str = "__Host-next";

/// How long a remembered page waits for the sign-in (a second factor included).
const NEXT_LIFETIME_MINUTES: i64 = 15;

/// A path of this site only (no scheme, no other host, no control characters): what may be
/// followed after sign-in or a language switch without making an open redirect.
pub(crate) fn is_local_path(p: &str) -> bool {
    p.starts_with('/')
        && !p.starts_with("//")
        && !p.starts_with("/\\")
        && !p.chars().any(|c| c.is_control() || c == '\\')
}

fn cookie(
    name: &'static str,
    value: String,
    max_age: time::Duration,
    site: SameSite,
) -> Option<HeaderValue> {
    let c = Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(site)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&c.to_string()).ok()
}

/// The language cookie: what every page speaks until the visitor switches.
pub(crate) fn lang_cookie(lang: Lang) -> Option<HeaderValue> {
    cookie(
        LANG_COOKIE,
        lang.code().to_owned(),
        time::Duration::days(365),
        SameSite::Lax,
    )
}

/// The answer of a page that needs a signed-in person to someone who is not: the sign-in page,
/// remembering a `GET` page (a form posted without a session cannot be replayed, so it is not).
pub(crate) fn sign_in_first(method: &Method, uri: &Uri) -> Response {
    let mut res = Redirect::to("/login").into_response();
    let asked = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if (method == Method::GET || method == Method::HEAD)
        && is_local_path(asked)
        && !asked.starts_with("/login")
        && let Some(c) = cookie(
            NEXT_COOKIE,
            asked.to_owned(),
            time::Duration::minutes(NEXT_LIFETIME_MINUTES),
            SameSite::Strict,
        )
    {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// The page remembered before sign-in, if any and if it is one of ours.
fn remembered(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v).flatten())
        .find(|c| c.name() == NEXT_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|p| is_local_path(p))
}

/// A session just started: its cookies, the person's own language (their profile's, whatever
/// the browser asked for), and on to the page asked for before sign-in (else `default`).
pub(crate) async fn session_started(
    auth: &Auth,
    issued: &Issued,
    headers: &HeaderMap,
    default: &str,
) -> Response {
    let target = remembered(headers).unwrap_or_else(|| default.to_owned());
    let mut res = Redirect::to(&target).into_response();
    for c in session_cookies(auth, issued) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    // A failure to read the profile leaves the language as it was; the session stands.
    match extranet_identity::store::get_person(&auth.db, issued.claims.sub).await {
        Ok(person) => {
            if let Some(lang) = Lang::parse(person.language.code()).and_then(lang_cookie) {
                res.headers_mut().append(header::SET_COOKIE, lang);
            }
        }
        Err(e) => tracing::warn!(error = %e, "profile language not read at sign-in"),
    }
    if let Some(c) = cookie(
        NEXT_COOKIE,
        String::new(),
        time::Duration::ZERO,
        SameSite::Strict,
    ) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        for ok in ["/", "/dossiers/1?after=x", "/people/abc"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/a\nb",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn a_get_page_is_remembered_and_a_post_is_not() {
        let uri: Uri = "/dossiers/42?after=x".parse().unwrap();
        let res = sign_in_first(&Method::GET, &uri);
        assert_eq!(res.headers()[header::LOCATION], "/login");
        let set = res.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(set.starts_with("__Host-next=/dossiers/42?after=x"), "{set}");
        assert!(set.contains("HttpOnly") && set.contains("Secure"), "{set}");
        let res = sign_in_first(&Method::POST, &uri);
        assert!(res.headers().get(header::SET_COOKIE).is_none());
    }
}
