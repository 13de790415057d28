//! Extractors pages start from: [`Visitor`] for any page, [`SignedIn`] for the signed-in part.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use extranet_directory::Caller;
use extranet_identity::tokens::Claims;

use super::chrome::Chrome;
use super::flash::Flash;
use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::pages::Services;
use crate::session::{Csrf, CurrentUser};

/// Anyone asking for a page: their language (the language cookie, which sign-in and the
/// profile keep equal to the profile's language, then `Accept-Language`, then the site's
/// default), this browser's CSRF token, the path asked for, the client address, the flash
/// message left by the previous action, and the signed-in person if any.
pub(crate) struct Visitor {
    pub(crate) services: Arc<Services>,
    pub(crate) lang: Lang,
    pub(crate) csrf: String,
    pub(crate) here: String,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) flash: Option<Flash>,
    pub(crate) claims: Option<Arc<Claims>>,
}

impl Visitor {
    pub(crate) fn tr(&self) -> Tr {
        Tr(self.lang)
    }

    /// The shell of a page for someone not signed in.
    pub(crate) fn chrome(&self) -> Chrome {
        Chrome::public(self)
    }
}

/// Pages are mounted with the services as an extension (see `pages::routes`); a router without
/// them is a programming error that every page test would show at once.
fn services(parts: &Parts) -> Result<Arc<Services>, super::PageError> {
    parts
        .extensions
        .get::<Arc<Services>>()
        .cloned()
        .ok_or_else(|| super::PageError::internal("page mounted without its services"))
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let services = services(parts).map_err(IntoResponse::into_response)?;
        let lang = negotiate(&parts.headers, services.site.default_language);
        Ok(Visitor {
            lang,
            csrf: parts
                .extensions
                .get::<Csrf>()
                .map(|c| c.0.clone())
                .unwrap_or_default(),
            here: parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".to_owned()),
            ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
            flash: parts.extensions.get::<Flash>().cloned(),
            claims: parts
                .extensions
                .get::<CurrentUser>()
                .and_then(|u| u.0.clone()),
            services,
        })
    }
}

/// The signed-in person: the claims of a verified access token (or of the one the session layer
/// just refreshed), the directory's [`Caller`] built from them (what the policy lets them do;
/// changes re-read it from the database) and everything a [`Visitor`] has. Without a session,
/// the page answers with the sign-in page instead, remembering a `GET` page so that sign-in
/// leads back to it.
pub(crate) struct SignedIn {
    pub(crate) claims: Arc<Claims>,
    pub(crate) caller: Caller,
    pub(crate) v: Visitor,
}

impl SignedIn {
    pub(crate) fn lang(&self) -> Lang {
        self.v.lang
    }

    pub(crate) fn tr(&self) -> Tr {
        Tr(self.v.lang)
    }

    pub(crate) fn csrf(&self) -> String {
        self.v.csrf.clone()
    }

    pub(crate) fn services(&self) -> &Services {
        &self.v.services
    }

    /// The shell of a page: navigation from the policy, the person's name, sign-out.
    pub(crate) async fn chrome(&self) -> Chrome {
        Chrome::signed_in(self).await
    }

    /// The caller as the database says now (for a change: a role taken away a moment ago is
    /// not used).
    pub(crate) async fn current(&self) -> Result<Caller, super::PageError> {
        Ok(self
            .v
            .services
            .directory
            .current(self.claims.sub, self.v.ip)
            .await?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let v = Visitor::from_request_parts(parts, state).await?;
        let Some(claims) = v.claims.clone() else {
            return Err(super::signed_in::sign_in_first(&parts.method, &parts.uri));
        };
        let caller = v
            .services
            .directory
            .caller(claims.sub, claims.org, &claims.roles, v.ip);
        Ok(SignedIn { claims, caller, v })
    }
}
