//! Security headers on every response: pages, errors, static files and redirects alike.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

/// No inline script or style anywhere; only our own origin; never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'";

pub const PERMISSIONS_POLICY: &str = "accelerometer=(), camera=(), geolocation=(), \
    gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()";

#[derive(Clone)]
pub struct SecurityHeaders {
    hsts: HeaderValue,
}

impl SecurityHeaders {
    pub fn new(hsts_max_age_secs: u64) -> SecurityHeaders {
        let hsts =
            HeaderValue::from_str(&format!("max-age={hsts_max_age_secs}; includeSubDomains"))
                .unwrap_or_else(|_| {
                    HeaderValue::from_static("max-age=63072000; includeSubDomains")
                });
        SecurityHeaders { hsts }
    }
}

impl SecurityHeaders {
    /// Sets the headers on a response about to leave.
    pub fn apply(&self, h: &mut HeaderMap) {
        // One growth of the map instead of several as the headers go in.
        h.reserve(9);
        h.insert(header::STRICT_TRANSPORT_SECURITY, self.hsts.clone());
        // A handler may tighten the policy (a sandboxed preview); it never loosens it.
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            );
        }
        h.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        h.insert(PERMISSIONS, HeaderValue::from_static(PERMISSIONS_POLICY));
        h.insert(COOP, HeaderValue::from_static("same-origin"));
        h.insert(CORP, HeaderValue::from_static("same-origin"));
    }
}

const PERMISSIONS: HeaderName = HeaderName::from_static("permissions-policy");
const COOP: HeaderName = HeaderName::from_static("cross-origin-opener-policy");
const CORP: HeaderName = HeaderName::from_static("cross-origin-resource-policy");
