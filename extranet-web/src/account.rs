//! Signing in and out in the browser, and the signed-in person's own page.

use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Router, routing::get, routing::post};
use extranet_identity::auth::{Auth, LoginError};
use extranet_identity::model::Person;
use extranet_identity::store;
use serde::Deserialize;

use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::pages::{Chrome, render};
use crate::session::{Csrf, CurrentUser, cleared_cookies, form_allowed, session_cookies};
use crate::site::Site;

#[derive(Clone)]
pub(crate) struct AccountState {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    person: Person,
    roles: String,
}

pub(crate) fn routes(state: AccountState) -> Router {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/account", get(account))
        .route("/logout", post(logout))
        .route("/logout/everywhere", post(logout_everywhere))
        .with_state(state)
}

fn lang_of(headers: &HeaderMap, site: &Site) -> Lang {
    negotiate(headers, site.default_language)
}

async fn login_form(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
) -> Response {
    if user.0.is_some() {
        return Redirect::to("/account").into_response();
    }
    let lang = lang_of(&headers, &st.site);
    login_page(&st, lang, StatusCode::OK, csrf.0, String::new(), None)
}

fn login_page(
    st: &AccountState,
    lang: Lang,
    status: StatusCode,
    csrf: String,
    email: String,
    error: Option<String>,
) -> Response {
    render(
        lang,
        status,
        &LoginPage {
            c: Chrome::new(lang, "/login"),
            site: &st.site,
            csrf,
            email,
            error,
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(st): State<AccountState>,
    Extension(csrf): Extension<Csrf>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let email = form.email.trim().chars().take(254).collect::<String>();
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return login_page(
            &st,
            lang,
            StatusCode::FORBIDDEN,
            csrf.0,
            email,
            Some(tr.t("form-expired")),
        );
    }
    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip());
    match st.auth.login(&email, &form.password, ip).await {
        Ok(issued) => {
            let mut res = Redirect::to("/account").into_response();
            for c in session_cookies(&st.auth, &issued) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        Err(LoginError::Refused) => login_page(
            &st,
            lang,
            StatusCode::UNAUTHORIZED,
            csrf.0,
            email,
            Some(tr.t("login-failed")),
        ),
        Err(LoginError::Throttled(wait)) => {
            let secs = wait.as_secs().max(1).to_string();
            let mut res = login_page(
                &st,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                csrf.0,
                email,
                Some(tr.t1("login-throttled", "seconds", &secs)),
            );
            if let Ok(v) = secs.parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(LoginError::Other(e)) => {
            tracing::error!(error = %e, "sign-in failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn account(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    let person = match store::get_person(&st.auth.db, claims.sub).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "own record not readable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let roles = person
        .roles
        .iter()
        .map(|r| tr.t(&format!("role-{}", r.as_str().replace('_', "-"))))
        .collect::<Vec<_>>()
        .join(", ");
    let mut res = render(
        lang,
        StatusCode::OK,
        &AccountPage {
            c: Chrome::new(lang, "/account"),
            site: &st.site,
            csrf: csrf.0,
            person,
            roles,
        },
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        "no-store"
            .parse()
            .unwrap_or(header::HeaderValue::from_static("no-store")),
    );
    res
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CsrfForm>,
) -> Response {
    sign_out(st, user, csrf, headers, uri, form, false).await
}

async fn logout_everywhere(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CsrfForm>,
) -> Response {
    sign_out(st, user, csrf, headers, uri, form, true).await
}

async fn sign_out(
    st: AccountState,
    user: CurrentUser,
    csrf: Csrf,
    headers: HeaderMap,
    uri: Uri,
    form: CsrfForm,
    everywhere: bool,
) -> Response {
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if let Some(claims) = &user.0 {
        let res = if everywhere {
            st.auth.logout_everywhere(claims).await.map(|_| ())
        } else {
            st.auth.logout(claims).await
        };
        if let Err(e) = res {
            tracing::error!(error = %e, "sign-out failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let mut res = Redirect::to("/").into_response();
    for c in cleared_cookies() {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}
