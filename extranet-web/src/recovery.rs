//! Forgotten password and invitation pages: ask for a link, then choose a password through it.

use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Router, routing::get};
use extranet_identity::onetime::Purpose;
use extranet_identity::password::Weakness;
use extranet_identity::recovery::{Recovery, SetPassword};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::ui::{Chrome, render};
use crate::session::{Csrf, form_allowed};
use crate::site::Site;

#[derive(Clone)]
pub(crate) struct RecoveryState {
    pub site: Arc<Site>,
    pub recovery: Arc<Recovery>,
}

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    sent: bool,
}

#[derive(Template)]
#[template(path = "password_set.html")]
struct SetPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    title: String,
    action: &'static str,
    token: String,
    valid: bool,
    error: Option<String>,
}

pub(crate) fn routes(state: RecoveryState) -> Router {
    Router::new()
        .route("/password/forgot", get(forgot_form).post(forgot))
        .route("/password/reset", get(reset_form).post(reset))
        .route("/password/set", get(invitation_form).post(invitation))
        .with_state(state)
}

fn lang_of(headers: &HeaderMap, site: &Site) -> Lang {
    negotiate(headers, site.default_language)
}

async fn forgot_form(
    State(st): State<RecoveryState>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&headers, &st.site);
    render(
        lang,
        StatusCode::OK,
        &ForgotPage {
            c: Chrome::new(lang, "/password/forgot"),
            site: &st.site,
            csrf: csrf.0,
            sent: false,
        },
    )
}

#[derive(Deserialize)]
struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

async fn forgot(
    State(st): State<RecoveryState>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    Form(form): Form<ForgotForm>,
) -> Response {
    let lang = lang_of(&headers, &st.site);
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    // The same page whether or not the address has an account and whether or not a mail went
    // out within the limits. Even a failure is not shown: only a request for an existing account
    // writes anything, so a failure page would tell that the account exists. It is logged.
    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip());
    if let Err(e) = st.recovery.request_reset(form.email.trim(), ip).await {
        tracing::error!(error = %e, "password reset request failed");
    }
    render(
        lang,
        StatusCode::OK,
        &ForgotPage {
            c: Chrome::new(lang, "/password/forgot"),
            site: &st.site,
            csrf: csrf.0,
            sent: true,
        },
    )
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
struct SetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf: String,
}

struct Flow {
    purpose: Purpose,
    action: &'static str,
    title_key: &'static str,
}

const RESET: Flow = Flow {
    purpose: Purpose::PasswordReset,
    action: "/password/reset",
    title_key: "reset-title",
};
const INVITATION: Flow = Flow {
    purpose: Purpose::Invitation,
    action: "/password/set",
    title_key: "invite-title",
};

async fn reset_form(
    st: State<RecoveryState>,
    csrf: Extension<Csrf>,
    headers: HeaderMap,
    q: Query<TokenQuery>,
) -> Response {
    show_set_form(&RESET, st, csrf, headers, q).await
}

async fn invitation_form(
    st: State<RecoveryState>,
    csrf: Extension<Csrf>,
    headers: HeaderMap,
    q: Query<TokenQuery>,
) -> Response {
    show_set_form(&INVITATION, st, csrf, headers, q).await
}

async fn reset(
    st: State<RecoveryState>,
    csrf: Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    form: Form<SetForm>,
) -> Response {
    set_password(&RESET, st, csrf, headers, uri, form).await
}

async fn invitation(
    st: State<RecoveryState>,
    csrf: Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    form: Form<SetForm>,
) -> Response {
    set_password(&INVITATION, st, csrf, headers, uri, form).await
}

/// What the new-password page shows: the form (with an error) or that the link is invalid.
struct SetView {
    status: StatusCode,
    token: String,
    valid: bool,
    error: Option<String>,
}

impl SetView {
    fn form(status: StatusCode, token: String, error: Option<String>) -> SetView {
        SetView {
            status,
            token,
            valid: true,
            error,
        }
    }

    fn invalid_link() -> SetView {
        SetView {
            status: StatusCode::GONE,
            token: String::new(),
            valid: false,
            error: None,
        }
    }
}

fn set_page(flow: &Flow, st: &RecoveryState, lang: Lang, csrf: String, view: SetView) -> Response {
    let tr = Tr(lang);
    let mut res = render(
        lang,
        view.status,
        &SetPage {
            c: Chrome::new(lang, flow.action),
            site: &st.site,
            csrf,
            title: tr.t(flow.title_key),
            action: flow.action,
            token: view.token,
            valid: view.valid,
            error: view.error,
        },
    );
    // The token is in this page's URL: keep it out of caches and Referer headers.
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res.headers_mut().insert(
        axum::http::header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    res
}

async fn show_set_form(
    flow: &Flow,
    State(st): State<RecoveryState>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> Response {
    let lang = lang_of(&headers, &st.site);
    let valid = match st.recovery.link_is_valid(&q.token, flow.purpose).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "link check failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let view = if valid {
        SetView::form(StatusCode::OK, q.token, None)
    } else {
        SetView::invalid_link()
    };
    set_page(flow, &st, lang, csrf.0, view)
}

async fn set_password(
    flow: &Flow,
    State(st): State<RecoveryState>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<SetForm>,
) -> Response {
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if form.password != form.confirm {
        let view = SetView::form(
            StatusCode::UNPROCESSABLE_ENTITY,
            form.token,
            Some(tr.t("password-mismatch")),
        );
        return set_page(flow, &st, lang, csrf.0, view);
    }
    match st
        .recovery
        .set_password(&form.token, flow.purpose, &form.password)
        .await
    {
        Ok(SetPassword::Done) => Redirect::to("/login").into_response(),
        Ok(SetPassword::InvalidLink) => set_page(flow, &st, lang, csrf.0, SetView::invalid_link()),
        Ok(SetPassword::Weak(weak)) => {
            let reason = match weak {
                Weakness::TooShort { min } => tr.t1("password-too-short", "min", &min.to_string()),
                Weakness::TooLong { max } => tr.t1("password-too-long", "max", &max.to_string()),
                Weakness::Guessable { .. } => tr.t("password-guessable"),
            };
            let view = SetView::form(StatusCode::UNPROCESSABLE_ENTITY, form.token, Some(reason));
            set_page(flow, &st, lang, csrf.0, view)
        }
        Err(e) => {
            tracing::error!(error = %e, "setting a password failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
