//! The public pages: home, sign-in, the language switch and the error page.

use std::sync::{Arc, OnceLock};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::Cookie;
use bytes::Bytes;
use serde::Deserialize;

use extranet_identity::auth::Auth;
use extranet_identity::recovery::Recovery;

use crate::assets;
use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::site::Site;
use crate::ui::render::page_response;
use crate::ui::signed_in::{is_local_path, lang_cookie};
use crate::ui::{Chrome, render};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    c: Chrome,
    site: &'a Site,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    site_name: String,
    status: u16,
    title: String,
    message: String,
    /// For a failure of ours: the request's id, to quote to the support desk (it is in the log
    /// line of the failure).
    reference: Option<String>,
}

/// The pages: public ones, sign-in and the account page, under the browser-session layer.
/// What the pages need from the rest of the extranet.
#[derive(Clone)]
pub struct Services {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
    pub recovery: Arc<Recovery>,
    pub directory: Arc<extranet_directory::Directory>,
    pub documents: Arc<extranet_documents::Documents>,
    pub subprocessors: Arc<extranet_subprocessors::Subprocessors>,
    pub privacy: Arc<extranet_privacy::Privacy>,
    pub consents: Arc<extranet_privacy::Consents>,
    pub rights: Arc<extranet_rights::Rights>,
}

/// Uploads and downloads of documents, under the session layer: the caller serves them outside
/// the standard request timeout and body limit.
pub fn streaming_routes(s: &Services) -> Router {
    crate::documents::streaming_routes(crate::documents::DocsState {
        site: s.site.clone(),
        documents: s.documents.clone(),
    })
    .layer(axum::Extension(Arc::new(s.clone())))
    .layer(axum::middleware::from_fn_with_state(
        s.auth.clone(),
        crate::session::layer,
    ))
}

pub fn routes(s: &Services) -> Router {
    crate::ui::words::set_installation_tz(s.site.tz());
    let Services {
        site,
        auth,
        recovery,
        directory,
        documents,
        subprocessors: _,
        privacy: _,
        consents: _,
        rights: _,
    } = s.clone();
    let account = crate::account::routes(crate::account::AccountState {
        site: site.clone(),
        auth: auth.clone(),
    })
    .merge(crate::second_factor::routes(
        crate::second_factor::FactorState {
            site: site.clone(),
            auth: auth.clone(),
            directory: directory.clone(),
        },
    ))
    .merge(crate::recovery::routes(crate::recovery::RecoveryState {
        site: site.clone(),
        recovery: recovery.clone(),
    }))
    .merge(crate::audit_log::routes(crate::audit_log::AuditLogState {
        site: site.clone(),
        auth: auth.clone(),
        directory: directory.clone(),
    }))
    .merge(crate::staff::routes(crate::staff::StaffState {
        site: site.clone(),
        recovery,
        directory: directory.clone(),
    }))
    .merge(crate::documents::routes(crate::documents::DocsState {
        site: site.clone(),
        documents: documents.clone(),
    }))
    .merge(crate::home::routes(crate::home::HomeState {
        site: site.clone(),
        auth: auth.clone(),
        directory: directory.clone(),
        documents: documents.clone(),
    }))
    .merge(crate::directory::routes(crate::directory::DirectoryState {
        site: site.clone(),
        directory: directory.clone(),
        documents: documents.clone(),
    }))
    .merge(crate::backoffice::routes(
        crate::backoffice::BackOfficeState {
            site: site.clone(),
            directory,
            documents,
        },
    ))
    .merge(crate::subprocessors::routes())
    .merge(crate::retention::routes())
    .merge(crate::consent::routes())
    .merge(crate::privacy::routes())
    .merge(crate::rights::routes());
    let home_page = Arc::new(HomeCache {
        site: site.clone(),
        pages: Default::default(),
    });
    let pages = Router::new()
        .route("/lang/{code}", get(switch_language))
        .with_state(site)
        .merge(account)
        // An address no page answers: 404 through the layers below, so a signed-in person gets
        // it inside the shell.
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn(crate::ui::error::in_the_shell))
        .layer(axum::Extension(Arc::new(s.clone())))
        .layer(axum::middleware::from_fn_with_state(
            auth,
            crate::session::layer,
        ));
    // Static assets and the public home page (the same for everyone: it shows no session and
    // has no form) need no session, so they skip its cookie work.
    pages
        .route("/", get(home).with_state(home_page))
        .route("/static/{name}", get(assets::serve))
}

/// The public home page depends on nothing but the language and the site (fixed at start-up):
/// it is rendered once per language and then served from memory without a copy.
struct HomeCache {
    site: Arc<Site>,
    pages: [OnceLock<Bytes>; 3],
}

async fn home(State(cache): State<Arc<HomeCache>>, headers: HeaderMap) -> Response {
    // Someone with a session goes to their own home page (which checks the session; this page
    // stays free of the session's work for everyone else).
    if has_session_cookie(&headers) {
        return Redirect::to("/home").into_response();
    }
    let lang = negotiate(&headers, cache.site.default_language);
    let slot = &cache.pages[lang.index()];
    let body = match slot.get() {
        Some(body) => body.clone(),
        None => {
            let page = HomePage {
                c: Chrome::new(lang, "/"),
                site: &cache.site,
            };
            match page.render() {
                Ok(html) => slot.get_or_init(|| Bytes::from(html)).clone(),
                Err(e) => {
                    tracing::error!(error = %e, "template rendering failed");
                    return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
                }
            }
        }
    };
    // `no-store` like every page (the edge's default): it carries no validator, so `no-cache`
    // would fetch it whole each time anyway, and leaving the default costs the response
    // nothing (`cargo bench -p extranet-tests --bench http`).
    page_response(lang, StatusCode::OK, body)
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v).flatten())
        .any(|c| {
            (c.name() == crate::session::ACCESS_COOKIE
                || c.name() == crate::session::REFRESH_COOKIE)
                && !c.value().is_empty()
        })
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

/// Sets the language cookie and goes back where the visitor was. Only local paths are followed,
/// so the switch cannot be used as an open redirect.
async fn switch_language(
    v: crate::ui::Visitor,
    Path(code): Path<String>,
    Query(next): Query<Next>,
) -> Response {
    let Some(lang) = Lang::parse(&code) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Signed in, the choice is the profile's language (pages speak the profile's language
    // first); a failure leaves the profile as it was and the switch still works.
    if let Some(claims) = &v.claims
        && let Ok(language) = code.parse::<extranet_identity::Language>()
        && let Err(e) = v
            .services
            .auth
            .set_own_language(claims, language, v.ip)
            .await
    {
        tracing::warn!(error = %e, "profile language not saved");
    }
    let target = next
        .next
        .filter(|p| is_local_path(p))
        .unwrap_or_else(|| "/".to_owned());
    let mut res = Redirect::to(&target).into_response();
    if let Some(c) = lang_cookie(lang) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// A page for an error status, in the visitor's language. Used by the server for every error
/// that reaches a browser (unknown page, body too large, timeouts…).
pub fn error_page(
    headers: &HeaderMap,
    site: &Site,
    status: StatusCode,
    request_id: Option<&str>,
) -> Response {
    let lang = negotiate(headers, site.default_language);
    error_page_in(Chrome::new(lang, "/"), lang, site, status, request_id)
}

/// The error page inside a given shell (a signed-in person's, with the navigation).
pub(crate) fn error_page_in(
    c: Chrome,
    lang: Lang,
    site: &Site,
    status: StatusCode,
    request_id: Option<&str>,
) -> Response {
    let tr = Tr(lang);
    let (title_key, message_key) = match status.as_u16() {
        400 => ("error-400-title", "error-400-message"),
        403 => ("error-403-title", "error-403-message"),
        404 | 405 => ("error-404-title", "error-404-message"),
        408 => ("error-408-title", "error-408-message"),
        413 => ("error-413-title", "error-413-message"),
        429 => ("error-429-title", "error-429-message"),
        503 => ("error-503-title", "error-503-message"),
        s if s >= 500 => ("error-500-title", "error-500-message"),
        _ => ("error-400-title", "error-400-message"),
    };
    render(
        lang,
        status,
        &ErrorPage {
            c,
            site_name: site.name.clone(),
            status: status.as_u16(),
            title: tr.t(title_key),
            message: tr.t(message_key),
            reference: request_id
                .filter(|_| status.is_server_error())
                .map(|id| tr.t1("error-reference", "id", id)),
        },
    )
}
