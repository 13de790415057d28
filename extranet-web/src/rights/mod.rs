//! Rights requests in the browser (issue 17): "My privacy requests" in the account (file one,
//! follow each step, download the receipt), the public page for people without an account
//! (`/rights`, confirmed by the mailed link at `/rights/confirm`), and the privacy
//! coordinator's queue with each request's page and its steps (`/privacy/requests`). Decisions,
//! mails and audit records are `extranet_rights`'.

pub(crate) mod answers;
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
        .page("/account/requests/{id}/report", answers::report_page)
        .page("/account/requests/{id}/report.zip", answers::report_archive)
        .page(
            "/account/requests/{id}/portability.zip",
            answers::portability_archive,
        )
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
            "no_proposals" | "not_proposed" => "rights-error-proposals",
            "proposals_without_rectification" | "unknown_field" => "rights-error-proposals-right",
            "ground_required" | "ground_not_refused" | "unknown_ground" | "unknown_outcome" => {
                "rights-error-ground"
            }
            _ if matches!(e, RightsError::Invalid { field: "name", .. }) => "rights-error-name",
            _ => "rights-error-required",
        },
        RightsError::Conflict { code, .. } => match *code {
            "closed" => "rights-error-closed",
            "done_already" => "rights-error-done",
            "own_request" => "rights-error-own",
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

/// What the system did for one right, as the request's page shows it.
pub(crate) struct DoneView {
    pub right: String,
    pub right_word: String,
    pub result: String,
    pub result_word: String,
    /// Why something was not done, and its legal ground (empty when all was done).
    pub reason: String,
    pub ground: String,
    /// What was erased, kept (where, on which ground, until when), withdrawn, corrected.
    pub lines: Vec<String>,
    /// Where to name another contact (withdrawal refused: the only contact).
    pub how: String,
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

/// The rights carried out, from the history's `carried_out` lines.
pub(crate) fn done_views(tr: &Tr, events: &[Masked<RightsEventView>]) -> Vec<DoneView> {
    events
        .iter()
        .filter(|m| m.inner().kind == "carried_out" && m.is_visible("detail"))
        .filter_map(|m| m.inner().detail.clone())
        .map(|d| {
            let right = d["right"].as_str().unwrap_or_default().to_owned();
            let result = d["result"].as_str().unwrap_or_default().to_owned();
            let x = &d["detail"];
            let mut lines = Vec::new();
            let list = |v: &serde_json::Value| {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default()
            };
            for e in x["erased"].as_array().into_iter().flatten() {
                lines.push(tr.t_args(
                    "rights-done-erased",
                    &[
                        ("table", e["table"].as_str().unwrap_or_default().to_owned()),
                        (
                            "action",
                            e["action"].as_str().unwrap_or_default().to_owned(),
                        ),
                        ("rows", e["rows"].to_string()),
                        ("objects", e["objects"].to_string()),
                    ],
                ));
            }
            for k in x["kept"].as_array().into_iter().flatten() {
                let ground = match k["ground"]["kind"].as_str() {
                    Some("rule") => k["ground"]["rule"].as_str().unwrap_or_default().to_owned(),
                    Some("activity") => k["ground"]["activity"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    _ => tr.t("rights-done-hold"),
                };
                lines.push(tr.t_args(
                    "rights-done-kept",
                    &[
                        ("table", k["table"].as_str().unwrap_or_default().to_owned()),
                        ("columns", list(&k["columns"])),
                        ("rows", k["rows"].to_string()),
                        ("ground", ground),
                        ("until", k["until"].as_str().unwrap_or_default().to_owned()),
                    ],
                ));
            }
            if let Some(w) = x["withdrawn"].as_array() {
                lines.push(tr.t_args(
                    "rights-done-withdrawn",
                    &[
                        ("purposes", list(&x["withdrawn"])),
                        ("count", w.len().to_string()),
                    ],
                ));
            }
            if let Some(a) = x["accepted"].as_object() {
                for (field, value) in a {
                    lines.push(tr.t_args(
                        "rights-done-accepted",
                        &[
                            ("field", tr.t(&format!("rights-field-{field}"))),
                            ("value", value.as_str().unwrap_or_default().to_owned()),
                        ],
                    ));
                }
            }
            for f in x["refused"].as_array().into_iter().flatten() {
                let field = f.as_str().unwrap_or_default();
                lines.push(tr.t1(
                    "rights-done-refused",
                    "field",
                    &tr.t(&format!("rights-field-{field}")),
                ));
            }
            if let Some(n) = x["activities"].as_u64() {
                lines.push(tr.t_args(
                    "rights-done-report",
                    &[
                        ("activities", n.to_string()),
                        ("tables", x["tables"].to_string()),
                        ("accesses", x["accesses"].to_string()),
                        ("documents", x["documents"].to_string()),
                    ],
                ));
            }
            if let Some(acts) = x["activities"].as_array()
                && !acts.is_empty()
            {
                lines.push(tr.t1(
                    "rights-done-objection",
                    "activities",
                    &list(&x["activities"]),
                ));
            }
            if let Some(o) = x["organisation"].as_str() {
                let primary = x["primary_contact"].as_str().unwrap_or_default();
                lines.push(if x["requester_is_primary"].as_bool() == Some(true) {
                    tr.t1("rights-done-only-contact-primary", "organisation", o)
                } else {
                    tr.t_args(
                        "rights-done-only-contact",
                        &[
                            ("organisation", o.to_owned()),
                            ("primary", primary.to_owned()),
                        ],
                    )
                });
            }
            DoneView {
                right_word: tr.t(&format!("rights-right-{right}")),
                result_word: tr.t(&format!("rights-result-{result}")),
                reason: d["reason"]
                    .as_str()
                    .map(|r| tr.t(&format!("rights-reason-{r}")))
                    .unwrap_or_default(),
                ground: d["ground"]
                    .as_str()
                    .map(|g| tr.t(&format!("rights-ground-{g}")))
                    .unwrap_or_default(),
                how: x["organisation"]
                    .as_str()
                    .map(|_| "/company#contacts".to_owned())
                    .unwrap_or_default(),
                right,
                result,
                lines,
            }
        })
        .collect()
}

/// A rectification's proposed values: (field, its label, the value).
pub(crate) fn proposals(tr: &Tr, m: &Masked<RightsRequestView>) -> Vec<(String, String, String)> {
    if !m.is_visible("proposals") {
        return Vec::new();
    }
    m.inner()
        .proposals
        .as_ref()
        .and_then(|p| p.as_object())
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        tr.t(&format!("rights-field-{k}")),
                        v.as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
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
