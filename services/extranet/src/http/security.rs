//! Security headers on every response: pages, errors, static files and redirects alike.
//!
//! Caching is denied by default as a bank's portal does: every response is `Cache-Control:
//! no-store` (with `Pragma: no-cache` for HTTP/1.0 proxies) unless its handler chose otherwise
//! (static assets, the JWKS), so a token response or a page with someone's data is never kept
//! by a browser or a proxy.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// No inline script or style anywhere; only our own origin; never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'";

pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), \
    gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()";

/// The headers, built once. A response leaves with a copy of this map and its own headers
/// moved in: one copy of a map already sized for them, where inserting the eight headers into
/// the response's own map hashed each and grew the map on the way
/// (`cargo bench -p extranet-tests --bench http`).
#[derive(Clone)]
pub struct SecurityHeaders {
    template: HeaderMap,
}

/// Room for the security headers plus what a response usually brings (type, length, id,
/// cookies, caching) without growing.
const CAPACITY: usize = 24;

impl SecurityHeaders {
    pub fn new(hsts_max_age_secs: u64) -> SecurityHeaders {
        let hsts =
            HeaderValue::from_str(&format!("max-age={hsts_max_age_secs}; includeSubDomains"))
                .unwrap_or_else(|_| {
                    HeaderValue::from_static("max-age=63072000; includeSubDomains")
                });
        let mut template = HeaderMap::with_capacity(CAPACITY);
        template.insert(header::STRICT_TRANSPORT_SECURITY, hsts);
        template.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        template.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        template.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        template.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        template.insert(PERMISSIONS, HeaderValue::from_static(PERMISSIONS_POLICY));
        template.insert(COOP, HeaderValue::from_static("same-origin"));
        template.insert(CORP, HeaderValue::from_static("same-origin"));
        template.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_STORE));
        template.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        SecurityHeaders { template }
    }

    /// Sets the headers on a response about to leave, and marks its `Set-Cookie` values
    /// sensitive (HTTP/2 then never puts them in the HPACK table).
    ///
    /// A handler may tighten the Content-Security-Policy (a sandboxed preview): its own policy
    /// replaces ours. A handler's `Cache-Control` replaces our `no-store` (and drops our
    /// `Pragma` unless it is `no-store` too). Every other security header is ours, whatever
    /// the handler set.
    pub fn apply(&self, h: &mut HeaderMap) {
        let own = std::mem::replace(h, self.template.clone());
        // `into_iter` names a header once, then gives its further values without a name.
        let mut current: Option<HeaderName> = None;
        let mut handler_policy = false;
        let mut handler_cache = false;
        for (name, mut value) in own {
            if let Some(name) = name {
                current = Some(name);
            }
            let Some(name) = &current else { continue };
            if *name == header::SET_COOKIE {
                value.set_sensitive(true);
            }
            if *name == header::CONTENT_SECURITY_POLICY {
                // The first of the handler's policies replaces ours; any further one is kept
                // too (a browser enforces every policy it is given, so more only restrict).
                if handler_policy {
                    h.append(name.clone(), value);
                } else {
                    h.insert(name.clone(), value);
                    handler_policy = true;
                }
            } else if *name == header::CACHE_CONTROL {
                if handler_cache {
                    h.append(header::CACHE_CONTROL, value);
                } else {
                    if value.as_bytes() != NO_STORE.as_bytes() {
                        h.remove(header::PRAGMA);
                    }
                    h.insert(header::CACHE_CONTROL, value);
                    handler_cache = true;
                }
            } else if !self.template.contains_key(name) {
                h.append(name.clone(), value);
            }
        }
    }
}

const NO_STORE: &str = "no-store";
const PERMISSIONS: HeaderName = HeaderName::from_static("permissions-policy");
const COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
const CORP: HeaderName = HeaderName::from_static("cross-origin-resource-policy");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ours_win_except_a_tighter_policy_and_the_rest_is_kept_in_order() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        h.insert(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("ALLOWALL"),
        );
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        );
        h.append(header::SET_COOKIE, HeaderValue::from_static("a=1"));
        h.append(header::SET_COOKIE, HeaderValue::from_static("b=2"));
        h.append(header::VARY, HeaderValue::from_static("accept"));
        h.append(header::VARY, HeaderValue::from_static("cookie"));
        SecurityHeaders::new(60).apply(&mut h);

        assert_eq!(h[header::CONTENT_TYPE], "text/html");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h.get_all(header::X_FRAME_OPTIONS).iter().count(), 1);
        let csp: Vec<_> = h.get_all(header::CONTENT_SECURITY_POLICY).iter().collect();
        assert_eq!(csp, ["sandbox; default-src 'none'"]);
        let cookies: Vec<_> = h.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert!(cookies.iter().all(|v| v.is_sensitive()));
        let vary: Vec<_> = h.get_all(header::VARY).iter().collect();
        assert_eq!(vary, ["accept", "cookie"]);
        assert_eq!(
            h[header::STRICT_TRANSPORT_SECURITY],
            "max-age=60; includeSubDomains"
        );
        for name in [header::REFERRER_POLICY, PERMISSIONS, COOP, CORP] {
            assert!(h.contains_key(&name), "{name}");
        }
    }

    #[test]
    fn every_policy_a_handler_sets_is_kept_and_ours_is_not_added() {
        let mut h = HeaderMap::new();
        h.append(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        h.append(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox"),
        );
        SecurityHeaders::new(60).apply(&mut h);
        let csp: Vec<_> = h.get_all(header::CONTENT_SECURITY_POLICY).iter().collect();
        assert_eq!(csp, [CONTENT_SECURITY_POLICY, "sandbox"]);
    }

    #[test]
    fn a_response_without_headers_gets_all_of_ours() {
        let mut h = HeaderMap::new();
        SecurityHeaders::new(60).apply(&mut h);
        assert_eq!(h.len(), 10);
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], CONTENT_SECURITY_POLICY);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::CACHE_CONTROL], "no-store");
        assert_eq!(h[header::PRAGMA], "no-cache");
    }

    #[test]
    fn a_handlers_caching_wins_and_keeps_pragma_only_when_it_stores_nothing() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        SecurityHeaders::new(60).apply(&mut h);
        let cc: Vec<_> = h.get_all(header::CACHE_CONTROL).iter().collect();
        assert_eq!(cc, ["public, max-age=60"]);
        assert!(!h.contains_key(header::PRAGMA));

        let mut h = HeaderMap::new();
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        SecurityHeaders::new(60).apply(&mut h);
        assert_eq!(h.get_all(header::CACHE_CONTROL).iter().count(), 1);
        assert_eq!(h[header::PRAGMA], "no-cache");
    }
}
