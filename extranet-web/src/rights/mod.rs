//! Rights requests in the browser (issue 17): "My privacy requests" in the account (file one,
//! follow each step, download the receipt), the public page for people without an account
//! (`/rights`, confirmed by the mailed link at `/rights/confirm`), and the privacy
//! coordinator's queue with each request's page and its steps (`/privacy/requests`). Decisions,
//! mails and audit records are `extranet_rights`'.

mod coordinator;
mod mine;
mod public;

use axum::Router;
use extranet_access::{Masked, RightsEventView, RightsRequestView};
use extranet_rights::RightsError;
use extranet_rights::workflow::Detail;

use crate::i18n::Tr;
use crate::lang::Lang;
use crate::ui::{PageError, PageRouter, words};

pub(crate) fn routes() -> Router {
    PageRouter::new()
        .page_and_form("/account/requests", mine::list, mine::file)
        .page("/account/requests/{id}", mine::one)
        .page("/account/requests/{id}/receipt", mine::receipt)
        .page_and_form("/rights", public::page, public::file)
        .page_and_form("/rights/confirm", public::confirm_page, public::confirm)
        .page("/privacy/requests", coordinator::queue)
        .page_and_form(
            "/privacy/requests/{id}",
            coordinator::one,
            coordinator::step,
        )
        .into_router()
}

pub(crate) fn page_error(e: RightsError) -> PageError {
    match e {
        RightsError::NotFound => PageError::NotFound,
        RightsError::Forbidden(_) => PageError::Forbidden,
        RightsError::TooMany(_) => PageError::TooMany,
        RightsError::Invalid { .. } => PageError::BadRequest,
        RightsError::Conflict { .. } => PageError::Conflict,
        RightsError::Internal(m) => PageError::internal(m),
    }
}

/// The message a refused change shows on its form, in the person's language.
pub(crate) fn refusal(tr: &Tr, e: &RightsError) -> Option<String> {
    let key = match e {
        RightsError::Invalid { code, .. } => match *code {
            "required" | "unknown_right"
                if matches!(
                    e,
                    RightsError::Invalid {
                        field: "rights",
                        ..
                    }
                ) =>
            {
                "rights-error-rights"
            }
            "too_long" => "rights-error-too-long",
            "email" | "not_own" => "rights-error-email",
            "extension_too_long" => "rights-error-months",
            "ground_required" | "ground_not_refused" | "unknown_ground" | "unknown_outcome" => {
                "rights-error-ground"
            }
            _ if matches!(e, RightsError::Invalid { field: "name", .. }) => "rights-error-name",
            _ => "rights-error-required",
        },
        RightsError::Conflict { code, .. } => match *code {
            "closed" => "rights-error-closed",
            "extended_already" => "rights-error-extended",
            "identity_pending" => "rights-error-identity",
            _ => "rights-error-changed",
        },
        RightsError::TooMany(_) => "rights-error-too-many",
        _ => return None,
    };
    Some(tr.t(key))
}

/// A request as a page shows it: words in the reader's language, dates in the installation's
/// time zone, only the fields the reader was granted.
pub(crate) struct RequestView {
    pub id: String,
    pub number: String,
    pub rights: Vec<String>,
    pub details: String,
    pub requester: String,
    pub state: String,
    pub state_word: String,
    pub received: String,
    pub due: String,
    pub original_due: String,
    pub extension_reason: String,
    pub overdue: bool,
    pub assignee: String,
    pub outcome: String,
    pub ground: String,
    pub receipt: String,
    pub closed: bool,
}

pub(crate) struct EventLine {
    /// The step's word (`filed`, `extended`…), for the page's markup.
    pub code: String,
    pub at: String,
    pub kind: String,
    pub state: String,
    pub who: String,
    pub note: String,
    pub internal: bool,
}

fn shown(m: &Masked<RightsRequestView>, field: &str, value: Option<String>) -> String {
    if m.is_visible(field) {
        value.unwrap_or_default()
    } else {
        String::new()
    }
}

fn moment(lang: Lang, rfc3339: Option<&str>) -> String {
    rfc3339
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|t| words::moment(lang, &words::installation_tz(), t))
        .unwrap_or_default()
}

fn day(lang: Lang, iso: Option<&str>) -> String {
    iso.and_then(extranet_rights::due::parse_iso)
        .map(|d| words::date(lang, d))
        .unwrap_or_default()
}

pub(crate) fn request_view(tr: &Tr, lang: Lang, m: &Masked<RightsRequestView>) -> RequestView {
    let r = m.inner();
    RequestView {
        id: r.id.to_string(),
        number: shown(m, "number", r.number.clone()),
        rights: if m.is_visible("rights") {
            r.rights
                .iter()
                .map(|x| tr.t(&format!("rights-right-{x}")))
                .collect()
        } else {
            Vec::new()
        },
        details: shown(m, "details", Some(r.details.clone())),
        requester: shown(m, "name", Some(format!("{} <{}>", r.name, r.email))),
        state: r.state.clone(),
        state_word: if m.is_visible("state") {
            tr.t(&format!("rights-state-{}", r.state))
        } else {
            String::new()
        },
        received: if m.is_visible("received_at") {
            moment(lang, r.received_at.as_deref())
        } else {
            String::new()
        },
        due: if m.is_visible("due_on") {
            day(lang, r.due_on.as_deref())
        } else {
            String::new()
        },
        original_due: if m.is_visible("original_due_on") {
            day(lang, r.original_due_on.as_deref())
        } else {
            String::new()
        },
        extension_reason: shown(m, "extension_reason", r.extension_reason.clone()),
        overdue: m.is_visible("overdue") && r.overdue,
        assignee: shown(m, "assignee_name", r.assignee_name.clone()),
        outcome: shown(m, "outcome_note", r.outcome_note.clone()),
        ground: if m.is_visible("refusal_ground") {
            r.refusal_ground
                .as_deref()
                .map(|g| tr.t(&format!("rights-ground-{g}")))
                .unwrap_or_default()
        } else {
            String::new()
        },
        receipt: shown(m, "receipt", r.receipt.clone()),
        closed: extranet_rights::model::CLOSED.contains(&r.state.as_str()),
    }
}

pub(crate) fn event_lines(
    tr: &Tr,
    lang: Lang,
    events: &[Masked<RightsEventView>],
) -> Vec<EventLine> {
    events
        .iter()
        .map(|m| {
            let e = m.inner();
            EventLine {
                code: e.kind.clone(),
                at: moment(lang, Some(&e.at)),
                kind: tr.t(&format!("rights-kind-{}", e.kind)),
                state: tr.t(&format!("rights-state-{}", e.state)),
                who: if m.is_visible("actor_name") {
                    e.actor_name.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                note: if m.is_visible("note") {
                    e.note.clone().unwrap_or_default()
                } else {
                    String::new()
                },
                internal: e.internal,
            }
        })
        .collect()
}

pub(crate) fn detail_views(tr: &Tr, lang: Lang, d: &Detail) -> (RequestView, Vec<EventLine>) {
    (
        request_view(tr, lang, &d.request),
        event_lines(tr, lang, &d.events),
    )
}

/// Each right with its label, for the forms.
pub(crate) fn right_choices(tr: &Tr) -> Vec<(&'static str, String)> {
    extranet_rights::model::RIGHTS
        .iter()
        .map(|r| (*r, tr.t(&format!("rights-right-{r}"))))
        .collect()
}

pub(crate) fn parse_id(raw: &str) -> Result<uuid::Uuid, PageError> {
    raw.parse().map_err(|_| PageError::NotFound)
}
