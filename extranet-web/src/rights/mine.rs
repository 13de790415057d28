//! "My privacy requests": the person's own requests, filing one, each request's page with its
//! history, and its receipt as a file.

use std::collections::HashMap;

use askama::Template;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use extranet_rights::Who;
use extranet_rights::filing::NewRequest;

use super::{
    EventLine, RequestView, detail_views, page_error, parse_id, refusal, request_view,
    right_choices,
};
use crate::ui::{Chrome, CsrfForm, PageResult, SignedIn, flash, render};

#[derive(Template)]
#[template(path = "rights_mine.html")]
struct MinePage {
    c: Chrome,
    site_name: String,
    requests: Vec<RequestView>,
    choices: Vec<(&'static str, String)>,
    chosen: Vec<String>,
    details: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "rights_request.html")]
pub(crate) struct RequestPage {
    pub c: Chrome,
    pub site_name: String,
    pub r: RequestView,
    pub events: Vec<EventLine>,
    /// The coordinator's page (steps, internal notes) or the requester's.
    pub coordinator: bool,
    pub receipt_href: String,
    pub back: String,
    pub error: Option<String>,
    pub grounds: Vec<(&'static str, String)>,
}

async fn view(
    me: &SignedIn,
    chosen: Vec<String>,
    details: String,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let caller = me.current().await?;
    let w = Who {
        person: caller.person,
        grants: &caller.grants,
        ip: me.v.ip,
    };
    let tr = me.tr();
    let rights = &me.services().rights;
    let requests = rights
        .mine(&w)
        .await
        .map_err(page_error)?
        .iter()
        .map(|m| request_view(&tr, me.lang(), m))
        .collect();
    let page = MinePage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        requests,
        choices: right_choices(&tr),
        chosen,
        details,
        error,
    };
    Ok(render(me.lang(), status, &page))
}

pub(super) async fn list(me: SignedIn) -> PageResult {
    view(&me, Vec::new(), String::new(), None, StatusCode::OK).await
}

/// The rights ticked (`right_access=on`…) and the details.
fn chosen(form: &HashMap<String, String>) -> Vec<String> {
    extranet_rights::model::RIGHTS
        .iter()
        .filter(|r| form.contains_key(&format!("right_{r}")))
        .map(|r| (*r).to_owned())
        .collect()
}

pub(super) async fn file(
    me: SignedIn,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let caller = me.current().await?;
    let w = Who {
        person: caller.person,
        grants: &caller.grants,
        ip: me.v.ip,
    };
    let rights = chosen(&form);
    let details = form.get("details").cloned().unwrap_or_default();
    let req = NewRequest {
        rights: rights.clone(),
        details: details.clone(),
        email: None,
    };
    match me.services().rights.file(&w, &req).await {
        Ok(m) => Ok(flash::done(
            &format!("/account/requests/{}", m.inner().id),
            "flash-rights-filed",
        )),
        Err(e) => match refusal(&me.tr(), &e) {
            Some(msg) => {
                view(
                    &me,
                    rights,
                    details,
                    Some(msg),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
            None => Err(page_error(e)),
        },
    }
}

pub(super) async fn one(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let w = Who {
        person: caller.person,
        grants: &caller.grants,
        ip: me.v.ip,
    };
    let d = me
        .services()
        .rights
        .detail(&w, id)
        .await
        .map_err(page_error)?;
    // Someone else's request is not found here, even for the coordinator (their page is the
    // queue's).
    if d.row.person_id != Some(caller.person) {
        return Err(crate::ui::PageError::NotFound);
    }
    let tr = me.tr();
    let (r, events) = detail_views(&tr, me.lang(), &d);
    let page = RequestPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        receipt_href: format!("/account/requests/{id}/receipt"),
        back: "/account/requests".into(),
        r,
        events,
        coordinator: false,
        error: None,
        grounds: Vec::new(),
    };
    Ok(render(me.lang(), StatusCode::OK, &page))
}

pub(super) async fn receipt(
    me: SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, crate::ui::PageError> {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let w = Who {
        person: caller.person,
        grants: &caller.grants,
        ip: me.v.ip,
    };
    let (number, jws) = me
        .services()
        .rights
        .receipt(&w, id)
        .await
        .map_err(page_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/jose".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"receipt-{number}.jws\""),
            ),
        ],
        jws,
    )
        .into_response())
}
