//! Filing without an account: the public page asks for an address, a name, the language of the
//! answers and the rights; the mailed link's page confirms (a `GET` only shows the button, as
//! mail scanners follow links) and shows the receipt.

use std::collections::HashMap;

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use extranet_rights::filing::{LinkRefused, PublicRequest};
use serde::Deserialize;

use super::{page_error, refusal, right_choices};
use crate::lang::Lang;
use crate::ui::{Chrome, CsrfForm, Visitor, render, words};

#[derive(Template)]
#[template(path = "rights_public.html")]
struct PublicPage {
    c: Chrome,
    site_name: String,
    sent: bool,
    choices: Vec<(&'static str, String)>,
    chosen: Vec<String>,
    email: String,
    name: String,
    language: String,
    details: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "rights_confirm.html")]
struct ConfirmPage {
    c: Chrome,
    site_name: String,
    token: String,
    refused: Option<String>,
    number: String,
    received: String,
    due: String,
    rights: Vec<String>,
    receipt: String,
}

/// The shell of a page whose form a visitor without a session posts: with their CSRF token
/// (the public shell leaves it out).
fn form_chrome(v: &Visitor) -> Chrome {
    let mut c = v.chrome();
    c.csrf = v.csrf.clone();
    c
}

fn public_page(
    v: &Visitor,
    form: &HashMap<String, String>,
    sent: bool,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let tr = v.tr();
    let chosen = extranet_rights::model::RIGHTS
        .iter()
        .filter(|r| form.contains_key(&format!("right_{r}")))
        .map(|r| (*r).to_owned())
        .collect();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let language = form
        .get("language")
        .cloned()
        .unwrap_or_else(|| v.lang.code().to_owned());
    let page = PublicPage {
        c: form_chrome(v),
        site_name: v.services.site.name.clone(),
        sent,
        choices: right_choices(&tr),
        chosen,
        email: get("email"),
        name: get("name"),
        language,
        details: get("details"),
        error,
    };
    render(v.lang, status, &page)
}

/// A signed-in person files from their account, where they follow the request too.
pub(super) async fn page(v: Visitor) -> Response {
    if v.claims.is_some() {
        return axum::response::IntoResponse::into_response(axum::response::Redirect::to(
            "/account/requests",
        ));
    }
    public_page(&v, &HashMap::new(), false, None, StatusCode::OK)
}

pub(super) async fn file(
    v: Visitor,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Response {
    let rights = extranet_rights::model::RIGHTS
        .iter()
        .filter(|r| form.contains_key(&format!("right_{r}")))
        .map(|r| (*r).to_owned())
        .collect();
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let req = PublicRequest {
        email: get("email"),
        name: get("name"),
        language: get("language"),
        rights,
        details: get("details"),
    };
    match v.services.rights.file_public(&req, v.ip).await {
        Ok(()) => public_page(&v, &HashMap::new(), true, None, StatusCode::OK),
        Err(e) => {
            let status = match e {
                extranet_rights::RightsError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            match refusal(&v.tr(), &e) {
                Some(msg) => public_page(&v, &form, false, Some(msg), status),
                None => axum::response::IntoResponse::into_response(page_error(e)),
            }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn confirm_view(
    v: &Visitor,
    token: String,
    refused: Option<String>,
    row: Option<&extranet_rights::store::RequestRow>,
    status: StatusCode,
) -> Response {
    let tr = v.tr();
    let lang: Lang = v.lang;
    let page = ConfirmPage {
        c: form_chrome(v),
        site_name: v.services.site.name.clone(),
        token,
        refused,
        number: row.and_then(|r| r.number.clone()).unwrap_or_default(),
        received: row
            .and_then(|r| r.received_at)
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .map(|t| words::moment(lang, &words::installation_tz(), t))
            .unwrap_or_default(),
        due: row
            .and_then(|r| r.due())
            .map(|d| words::date(lang, d))
            .unwrap_or_default(),
        rights: row
            .map(|r| {
                r.rights()
                    .iter()
                    .map(|x| tr.t(&format!("rights-right-{x}")))
                    .collect()
            })
            .unwrap_or_default(),
        receipt: row.and_then(|r| r.receipt.clone()).unwrap_or_default(),
    };
    render(v.lang, status, &page)
}

pub(super) async fn confirm_page(v: Visitor, Query(q): Query<TokenQuery>) -> Response {
    confirm_view(&v, q.token, None, None, StatusCode::OK)
}

pub(super) async fn confirm(
    v: Visitor,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Response {
    let token = form.get("token").cloned().unwrap_or_default();
    match v.services.rights.confirm(&token, v.ip).await {
        Ok(Ok(row)) => confirm_view(&v, String::new(), None, Some(&row), StatusCode::OK),
        Ok(Err(why)) => {
            let key = match why {
                LinkRefused::Expired => "rights-link-expired",
                LinkRefused::Invalid => "rights-link-invalid",
            };
            confirm_view(
                &v,
                String::new(),
                Some(v.tr().t(key)),
                None,
                StatusCode::CONFLICT,
            )
        }
        Err(e) => axum::response::IntoResponse::into_response(page_error(e)),
    }
}
