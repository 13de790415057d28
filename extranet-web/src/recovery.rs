//! Forgotten password and invitation pages: ask for a link, then choose a password through it.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use extranet_identity::onetime::Purpose;
use extranet_identity::password::Weakness;
use extranet_identity::recovery::{Recovery, SetPassword};
use serde::Deserialize;

use crate::site::Site;
use crate::ui::{Chrome, CsrfForm, PageError, PageRouter, Visitor, flash, render};

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
    PageRouter::new()
        .page_and_form("/password/forgot", forgot_form, forgot)
        .page_and_form("/password/reset", reset_form, reset)
        .page_and_form("/password/set", invitation_form, invitation)
        .with_state(state)
        .into_router()
}

async fn forgot_form(State(st): State<RecoveryState>, v: Visitor) -> Response {
    render(
        v.lang,
        StatusCode::OK,
        &ForgotPage {
            c: v.chrome(),
            site: &st.site,
            csrf: v.csrf.clone(),
            sent: false,
        },
    )
}

#[derive(Deserialize)]
struct ForgotForm {
    #[serde(default)]
    email: String,
}

async fn forgot(
    State(st): State<RecoveryState>,
    v: Visitor,
    CsrfForm(form): CsrfForm<ForgotForm>,
) -> Response {
    // The same page whether or not the address has an account and whether or not a mail went
    // out within the limits. Even a failure is not shown: only a request for an existing account
    // writes anything, so a failure page would tell that the account exists. It is logged.
    if let Err(e) = st.recovery.request_reset(form.email.trim(), v.ip).await {
        tracing::error!(error = %e, "password reset request failed");
    }
    render(
        v.lang,
        StatusCode::OK,
        &ForgotPage {
            c: v.chrome(),
            site: &st.site,
            csrf: v.csrf.clone(),
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

async fn reset_form(st: State<RecoveryState>, v: Visitor, q: Query<TokenQuery>) -> Response {
    show_set_form(&RESET, st, v, q).await
}

async fn invitation_form(st: State<RecoveryState>, v: Visitor, q: Query<TokenQuery>) -> Response {
    show_set_form(&INVITATION, st, v, q).await
}

async fn reset(st: State<RecoveryState>, v: Visitor, form: CsrfForm<SetForm>) -> Response {
    set_password(&RESET, st, v, form).await
}

async fn invitation(st: State<RecoveryState>, v: Visitor, form: CsrfForm<SetForm>) -> Response {
    set_password(&INVITATION, st, v, form).await
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

fn set_page(flow: &Flow, st: &RecoveryState, v: &Visitor, view: SetView) -> Response {
    let tr = v.tr();
    let mut res = render(
        v.lang,
        view.status,
        &SetPage {
            // Not `v.chrome()`: the language switch must not carry the token in its link.
            c: Chrome::new(v.lang, flow.action),
            site: &st.site,
            csrf: v.csrf.clone(),
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
    v: Visitor,
    Query(q): Query<TokenQuery>,
) -> Response {
    let valid = match st.recovery.link_is_valid(&q.token, flow.purpose).await {
        Ok(valid) => valid,
        Err(e) => return PageError::internal(format!("link check failed: {e}")).into_response(),
    };
    let view = if valid {
        SetView::form(StatusCode::OK, q.token, None)
    } else {
        SetView::invalid_link()
    };
    set_page(flow, &st, &v, view)
}

async fn set_password(
    flow: &Flow,
    State(st): State<RecoveryState>,
    v: Visitor,
    CsrfForm(form): CsrfForm<SetForm>,
) -> Response {
    let tr = v.tr();
    if form.password != form.confirm {
        let view = SetView::form(
            StatusCode::UNPROCESSABLE_ENTITY,
            form.token,
            Some(tr.t("password-mismatch")),
        );
        return set_page(flow, &st, &v, view);
    }
    match st
        .recovery
        .set_password(&form.token, flow.purpose, &form.password)
        .await
    {
        Ok(SetPassword::Done) => flash::done("/login", "password-set"),
        Ok(SetPassword::InvalidLink) => set_page(flow, &st, &v, SetView::invalid_link()),
        Ok(SetPassword::Weak(weak)) => {
            let reason = match weak {
                Weakness::TooShort { min } => tr.t1("password-too-short", "min", &min.to_string()),
                Weakness::TooLong { max } => tr.t1("password-too-long", "max", &max.to_string()),
                Weakness::Guessable { .. } => tr.t("password-guessable"),
            };
            let view = SetView::form(StatusCode::UNPROCESSABLE_ENTITY, form.token, Some(reason));
            set_page(flow, &st, &v, view)
        }
        Err(e) => PageError::internal(format!("setting a password failed: {e}")).into_response(),
    }
}
