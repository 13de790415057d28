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
    DoneView, EventLine, RequestView, detail_views, done_views, page_error, parse_id, proposals,
    refusal, request_view, right_choices,
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
    /// Rectification: each proposable field with its label and the value typed.
    fields: Vec<(&'static str, String, String)>,
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
    /// What the system did, right by right.
    pub done: Vec<DoneView>,
    /// The coordinator's: the rights not carried out yet (code, label).
    pub pending: Vec<(String, String)>,
    /// A rectification's proposed values (field, label, value).
    pub proposals: Vec<(String, String, String)>,
    /// The requester's: the answers to download (href, label, id).
    pub downloads: Vec<(String, String, &'static str)>,
}

impl RequestPage {
    /// The rights of the request not carried out yet, for the coordinator's buttons.
    pub fn pending_of(
        tr: &crate::i18n::Tr,
        rights: &[String],
        done: &[DoneView],
    ) -> Vec<(String, String)> {
        rights
            .iter()
            .filter(|r| !done.iter().any(|d| &d.right == *r))
            .map(|r| (r.clone(), tr.t(&format!("rights-right-{r}"))))
            .collect()
    }
}

async fn view(
    me: &SignedIn,
    chosen: Vec<String>,
    details: String,
    typed: &HashMap<String, String>,
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
        fields: extranet_rights::model::PROPOSABLE
            .iter()
            .map(|f| {
                (
                    *f,
                    tr.t(&format!("rights-field-{f}")),
                    typed.get(*f).cloned().unwrap_or_default(),
                )
            })
            .collect(),
        error,
    };
    Ok(render(me.lang(), status, &page))
}

pub(super) async fn list(me: SignedIn) -> PageResult {
    view(
        &me,
        Vec::new(),
        String::new(),
        &HashMap::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// The values proposed for a rectification (`proposal_surname=…`), by field.
fn typed(form: &HashMap<String, String>) -> HashMap<String, String> {
    extranet_rights::model::PROPOSABLE
        .iter()
        .filter_map(|f| {
            form.get(&format!("proposal_{f}"))
                .filter(|v| !v.trim().is_empty())
                .map(|v| ((*f).to_owned(), v.clone()))
        })
        .collect()
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
    let typed = typed(&form);
    let req = NewRequest {
        rights: rights.clone(),
        details: details.clone(),
        email: None,
        proposals: typed.clone().into_iter().collect(),
    };
    match me.services().rights.file(&w, &req).await {
        Ok(m) => Ok(flash::done(
            &format!("/account/requests/{}", m.inner().id),
            "rights-filed",
        )),
        Err(e) => match refusal(&me.tr(), &e) {
            Some(msg) => {
                view(
                    &me,
                    rights,
                    details,
                    &typed,
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
    let done = done_views(&tr, &d.events);
    let mut downloads = Vec::new();
    if done.iter().any(|x| x.right == "access") {
        downloads.push((
            format!("/account/requests/{id}/report"),
            tr.t("rights-download-report"),
            "rights-report",
        ));
        downloads.push((
            format!("/account/requests/{id}/report.zip"),
            tr.t("rights-download-report-zip"),
            "rights-report-zip",
        ));
    }
    if done.iter().any(|x| x.right == "portability") {
        downloads.push((
            format!("/account/requests/{id}/portability.zip"),
            tr.t("rights-download-portability"),
            "rights-portability-zip",
        ));
    }
    let page = RequestPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        receipt_href: format!("/account/requests/{id}/receipt"),
        back: "/account/requests".into(),
        proposals: proposals(&tr, &d.request),
        r,
        events,
        coordinator: false,
        error: None,
        grounds: Vec::new(),
        done,
        pending: Vec::new(),
        downloads,
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
