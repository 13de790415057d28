//! The privacy coordinator's queue (by due date, with filters) and a request's page with its
//! steps: assign to oneself, a message or an internal note, an identity check, start, extend
//! once with a reason, and close — after a confirmation, as the requester is told at once.

use std::borrow::Cow;
use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use extranet_rights::Who;
use extranet_rights::workflow::{Filter, Step};
use serde::Deserialize;

use super::mine::RequestPage;
use super::{
    RequestView, detail_views, done_views, page_error, parse_id, proposals, refusal, request_view,
};
use crate::ui::confirm::{self, Confirm};
use crate::ui::{Chrome, CsrfForm, PageError, PageResult, SignedIn, flash, render};

#[derive(Template)]
#[template(path = "rights_queue.html")]
struct QueuePage {
    c: Chrome,
    site_name: String,
    requests: Vec<RequestView>,
    state: String,
    overdue: bool,
    mine: bool,
    states: Vec<(&'static str, String)>,
}

#[derive(Deserialize, Default)]
pub(super) struct QueueQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    overdue: Option<String>,
    #[serde(default)]
    mine: Option<String>,
}

pub(super) async fn queue(me: SignedIn, Query(q): Query<QueueQuery>) -> PageResult {
    let caller = me.current().await?;
    let w = Who {
        person: caller.person,
        grants: &caller.grants,
        ip: me.v.ip,
    };
    let rights = &me.services().rights;
    if !rights.coordinates(&caller.grants) {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let state = q
        .state
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "open".into());
    let overdue = q.overdue.is_some();
    let mine = q.mine.is_some();
    let filter = Filter {
        state: Some(state.clone()),
        overdue,
        assignee: mine.then_some(caller.person),
    };
    let requests = rights
        .queue(&w, &filter)
        .await
        .map_err(page_error)?
        .iter()
        .map(|m| request_view(&tr, me.lang(), m))
        .collect();
    let mut states = vec![
        ("open", tr.t("rights-filter-open")),
        ("all", tr.t("rights-filter-all")),
    ];
    states.extend(
        extranet_rights::model::STATES
            .iter()
            .filter(|s| **s != "unconfirmed")
            .map(|s| (*s, tr.t(&format!("rights-state-{s}")))),
    );
    let page = QueuePage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        requests,
        state,
        overdue,
        mine,
        states,
    };
    Ok(render(me.lang(), StatusCode::OK, &page))
}

async fn view(
    me: &SignedIn,
    id: uuid::Uuid,
    error: Option<String>,
    status: StatusCode,
) -> PageResult {
    let caller = me.current().await?;
    let w = Who {
        person: caller.person,
        grants: &caller.grants,
        ip: me.v.ip,
    };
    let rights = &me.services().rights;
    if !rights.coordinates(&caller.grants) {
        return Err(PageError::NotFound);
    }
    let d = rights.detail(&w, id).await.map_err(page_error)?;
    let tr = me.tr();
    let (r, events) = detail_views(&tr, me.lang(), &d);
    let grounds = extranet_rights::model::GROUNDS
        .iter()
        .map(|g| (*g, tr.t(&format!("rights-ground-{g}"))))
        .collect();
    let done = done_views(&tr, &d.events);
    let pending = RequestPage::pending_of(&tr, &d.request.inner().rights, &done);
    let page = RequestPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        receipt_href: String::new(),
        back: "/privacy/requests".into(),
        proposals: proposals(&tr, &d.request),
        r,
        events,
        coordinator: true,
        error,
        grounds,
        done,
        pending,
        downloads: Vec::new(),
    };
    Ok(render(me.lang(), status, &page))
}

pub(super) async fn one(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    view(&me, parse_id(&raw)?, None, StatusCode::OK).await
}

/// The step a form names, from its fields.
fn step_of(form: &HashMap<String, String>, me: uuid::Uuid) -> Option<Step> {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    Some(match form.get("step")?.as_str() {
        "assign" => Step::Assign { assignee: me },
        "comment" => Step::Comment {
            note: get("note"),
            internal: form.contains_key("internal"),
        },
        "identity_check" => Step::IdentityCheck { note: get("note") },
        "start" => Step::Start {
            note: String::new(),
        },
        "extend" => Step::Extend {
            months: get("months").parse().unwrap_or(0),
            reason: get("reason"),
        },
        "close" => Step::Close {
            outcome: get("outcome"),
            note: get("note"),
            ground: Some(get("ground")).filter(|g| !g.is_empty()),
        },
        _ => return None,
    })
}

pub(super) async fn step(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    if form.get("step").map(String::as_str) == Some("carry_out") {
        return carry_out(&me, &caller, id, &form).await;
    }
    let Some(step) = step_of(&form, caller.person) else {
        return Err(PageError::BadRequest);
    };
    let tr = me.tr();
    // Closing tells the requester at once and cannot be undone: asked first.
    if matches!(step, Step::Close { .. })
        && form.get("confirmed").map(String::as_str) != Some("yes")
    {
        let number = me
            .services()
            .rights
            .detail(
                &Who {
                    person: caller.person,
                    grants: &caller.grants,
                    ip: me.v.ip,
                },
                id,
            )
            .await
            .map_err(page_error)?
            .row
            .number
            .unwrap_or_default();
        let mut hidden: Vec<(Cow<'static, str>, String)> = vec![("confirmed".into(), "yes".into())];
        for k in ["step", "outcome", "note", "ground"] {
            hidden.push((
                Cow::Owned(k.to_owned()),
                form.get(k).cloned().unwrap_or_default(),
            ));
        }
        let ask = Confirm {
            title: tr.t1("rights-close-confirm-heading", "number", &number),
            message: tr.t("rights-close-confirm-message"),
            button: tr.t("rights-close"),
            hidden,
            cancel: format!("/privacy/requests/{id}"),
            danger: true,
        };
        return Ok(confirm::page(&me, ask).await);
    }
    let w = Who {
        person: caller.person,
        grants: &caller.grants,
        ip: me.v.ip,
    };
    match me.services().rights.step(&w, id, &step).await {
        Ok(_) => Ok(flash::done(
            &format!("/privacy/requests/{id}"),
            "rights-step",
        )),
        Err(e) => match refusal(&tr, &e) {
            Some(msg) => {
                let status = match e {
                    extranet_rights::RightsError::Conflict { .. } => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                view(&me, id, Some(msg), status).await
            }
            None => Err(page_error(e)),
        },
    }
}

/// Carries out one right. Everything but a report changes the person's data and tells them at
/// once: asked first.
async fn carry_out(
    me: &SignedIn,
    caller: &extranet_directory::Caller,
    id: uuid::Uuid,
    form: &HashMap<String, String>,
) -> PageResult {
    let tr = me.tr();
    let right = form.get("right").cloned().unwrap_or_default();
    let accept: Vec<String> = extranet_rights::model::PROPOSABLE
        .iter()
        .filter(|f| form.contains_key(&format!("accept_{f}")))
        .map(|f| (*f).to_owned())
        .collect();
    let asks = !matches!(right.as_str(), "access" | "portability");
    if asks && form.get("confirmed").map(String::as_str) != Some("yes") {
        let mut hidden: Vec<(Cow<'static, str>, String)> = vec![
            ("confirmed".into(), "yes".into()),
            ("step".into(), "carry_out".into()),
            ("right".into(), right.clone()),
        ];
        for f in &accept {
            hidden.push((Cow::Owned(format!("accept_{f}")), "on".into()));
        }
        let ask = Confirm {
            title: tr.t1(
                "rights-carry-confirm-heading",
                "right",
                &tr.t(&format!("rights-right-{right}")),
            ),
            message: tr.t(&format!("rights-carry-confirm-{right}")),
            button: tr.t("rights-carry-out"),
            hidden,
            cancel: format!("/privacy/requests/{id}"),
            danger: right == "erasure",
        };
        return Ok(confirm::page(me, ask).await);
    }
    let what = extranet_rights::CarryOut { right, accept };
    match me.services().rights.carry_out(caller, id, &what).await {
        Ok(_) => Ok(flash::done(
            &format!("/privacy/requests/{id}"),
            "rights-carried",
        )),
        Err(e) => match refusal(&tr, &e) {
            Some(msg) => {
                let status = match e {
                    extranet_rights::RightsError::Conflict { .. } => StatusCode::CONFLICT,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                view(me, id, Some(msg), status).await
            }
            None => Err(page_error(e)),
        },
    }
}
