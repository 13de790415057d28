//! Subprocessors in the browser (issue 15): the register as it stands now or stood on a date,
//! each entry with its history, the notices of change with their days left, objections lodged,
//! amended, withdrawn and decided, the subscription to the notices' mails, and the privacy
//! coordinator's management page (drafting, editing, publishing and withdrawing notices, the
//! objections to decide per notice). The register is also published as JSON, CSV and an Atom
//! feed, for signed-in people or, where the installation says so, for anyone.
//!
//! Every decision and audit record is `extranet_subprocessors`'s: a button appears only when the
//! caller's grants allow its action (delegated rights read from the database), and the service
//! decides again. Bad input comes back on its form with the typed values kept (422; a conflict
//! 409), with the message in the person's language.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use extranet_access::{
    Action, Domain, DomainSet, Masked, NoticeView, ObjectionView, Outward, Resource,
    SubprocessorView,
};
use extranet_directory::Caller;
use extranet_subprocessors::entry::{Entry, Location, MECHANISMS};
use extranet_subprocessors::notices::NoticeDraft;
use extranet_subprocessors::objections::{Decision, Tally};
use extranet_subprocessors::vocabulary::Kind;
use extranet_subprocessors::{Listing, Reader, Subprocessors, SubprocessorsError};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::i18n::Tr;
use crate::lang::Lang;
use crate::ui::confirm::{self, Confirm};
use crate::ui::{
    Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, Visitor, flash, render, words,
};

pub(crate) fn routes() -> Router {
    PageRouter::new()
        .page("/subprocessors", list)
        .page("/subprocessors.json", json_file)
        .page("/subprocessors.csv", csv_file)
        .page("/subprocessors/feed.atom", atom_feed)
        .form("/subprocessors/subscription", subscription)
        .page("/subprocessors/manage", manage)
        .page_and_form("/subprocessors/manage/new", new_page, create)
        .page_and_form("/subprocessors/manage/notices/{id}/edit", edit_page, edit)
        .page("/subprocessors/{id}", entry_page)
        .page_and_form("/subprocessors/notices/{id}", notice_page, object)
        .page_and_form(
            "/subprocessors/notices/{id}/publish",
            publish_confirm,
            publish,
        )
        .page_and_form(
            "/subprocessors/notices/{id}/withdraw",
            withdraw_confirm,
            withdraw,
        )
        .page_and_form("/subprocessors/objections/{id}", objection_page, amend)
        .page_and_form(
            "/subprocessors/objections/{id}/withdraw",
            withdraw_objection_confirm,
            withdraw_objection,
        )
        .form("/subprocessors/objections/{id}/decision", decide)
        .into_router()
}

fn sp(me: &SignedIn) -> &Subprocessors {
    &me.services().subprocessors
}

fn all() -> DomainSet {
    DomainSet::default().with(Domain::All)
}

fn own() -> DomainSet {
    all().with(Domain::Organisation)
}

fn parse_id(raw: &str) -> PageResult<Uuid> {
    raw.parse().map_err(|_| PageError::NotFound)
}

fn may_object(c: &Caller) -> bool {
    c.grants
        .allows(Resource::Subprocessor, Action::Object, own())
}

fn may_manage(c: &Caller) -> bool {
    c.grants
        .allows(Resource::Subprocessor, Action::Update, all())
}

fn may_decide(c: &Caller) -> bool {
    c.grants.allows(Resource::Objection, Action::Decide, all())
}

fn may_list_objections(c: &Caller) -> bool {
    !c.grants
        .domains(Resource::Objection, Action::List)
        .is_empty()
}

// ---------------------------------------------------------------------------------------------
// Words

/// A field of a masked record in words (`None`: not granted, shown as "hidden").
fn shown<T: Outward>(m: &Masked<T>, field: &str, f: impl FnOnce(&T) -> String) -> Option<String> {
    m.is_visible(field).then(|| f(m.inner()))
}

fn instant(raw: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(raw, &Rfc3339).ok()
}

/// An RFC 3339 instant as a moment in the installation's time zone.
fn moment(me: &SignedIn, raw: &str) -> String {
    instant(raw)
        .map(|t| words::moment(me.lang(), &me.services().site.tz(), t))
        .unwrap_or_else(|| raw.to_owned())
}

/// An RFC 3339 instant as the date it falls on in the installation's time zone.
fn day(me: &SignedIn, raw: &str) -> String {
    instant(raw)
        .map(|t| words::day_of(me.lang(), &me.services().site.tz(), t))
        .unwrap_or_else(|| raw.to_owned())
}

fn parse_day(raw: &str) -> Option<time::Date> {
    time::Date::parse(
        raw.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// `2026-12-04` in words; anything else as it is.
fn iso_day(lang: Lang, raw: &str) -> String {
    parse_day(raw)
        .map(|d| words::date(lang, d))
        .unwrap_or_else(|| raw.to_owned())
}

fn category_names(s: &Subprocessors, lang: Lang, kind: Kind, codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| {
            s.vocabulary()
                .category(kind, c)
                .map(|x| x.names.get(lang.code()).to_owned())
                .unwrap_or_else(|| c.clone())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn country_name(s: &Subprocessors, lang: Lang, code: &str) -> String {
    s.vocabulary()
        .country(code)
        .map(|c| c.names.get(lang.code()).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

fn country_names(s: &Subprocessors, lang: Lang, codes: &[String]) -> String {
    codes
        .iter()
        .map(|c| country_name(s, lang, c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `US: standard_contractual_clauses` as "United States: standard contractual clauses".
fn transfer_words(s: &Subprocessors, tr: &Tr, transfers: &[String]) -> String {
    transfers
        .iter()
        .map(|t| match t.split_once(": ") {
            Some((country, mechanism)) => format!(
                "{}: {}",
                country_name(s, tr.0, country),
                tr.t(&format!("sp-mechanism-{}", mechanism.replace('_', "-")))
            ),
            None => t.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn kind_word(tr: &Tr, kind: &str) -> String {
    tr.t(&format!("sp-kind-{kind}"))
}

fn state_word(tr: &Tr, state: &str) -> String {
    tr.t(&format!("sp-state-{state}"))
}

fn objection_state_word(tr: &Tr, state: &str) -> String {
    tr.t(&format!("sp-objection-state-{state}"))
}

/// Today in the installation's time zone, and the earliest effective date a notice may have.
fn earliest(me: &SignedIn) -> (String, String) {
    let s = sp(me);
    let now = s.clock().now().unix_timestamp();
    let date = jiff::Timestamp::from_second(now)
        .ok()
        .map(|t| t.to_zoned(me.services().site.tz()).date())
        .and_then(|d| {
            d.checked_add(jiff::Span::new().days(i64::from(s.settings().notice_days)))
                .ok()
        })
        .map(|d| d.to_string())
        .unwrap_or_default();
    let words = iso_day(me.lang(), &date);
    (date, words)
}

/// What the service refused, for the page: the status, the field concerned (`""`: the form as
/// a whole) and the message in the person's language. `conflict`: the catalogue key of a
/// conflict on this form. Anything else is a failure the error page answers.
fn refusal(
    me: &SignedIn,
    e: SubprocessorsError,
    conflict: &str,
) -> Result<(StatusCode, &'static str, String), PageError> {
    let tr = me.tr();
    Ok(match e {
        SubprocessorsError::Invalid { field, .. } => {
            let message = match field {
                "effective_date" => tr.t1("sp-error-effective_date", "date", &earliest(me).1),
                "legal_name"
                | "registration_number"
                | "website"
                | "service"
                | "data_categories"
                | "subject_categories"
                | "locations"
                | "agreement_date"
                | "summary"
                | "kind"
                | "subprocessor_id"
                | "entry"
                | "reasons"
                | "note"
                | "decision"
                | "outcome"
                | "reason"
                | "at" => tr.t(&format!("sp-error-{field}")),
                _ => tr.t("sp-error-general"),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, field, message)
        }
        SubprocessorsError::WindowClosed { closed_at } => (
            StatusCode::CONFLICT,
            "",
            tr.t1(
                "sp-error-window-closed",
                "when",
                &words::moment(me.lang(), &me.services().site.tz(), closed_at),
            ),
        ),
        SubprocessorsError::Conflict(_) => (StatusCode::CONFLICT, "", tr.t(conflict)),
        other => return Err(other.into()),
    })
}

/// Messages of a refused form, each next to its field.
#[derive(Default)]
pub(crate) struct Problems(Vec<(&'static str, String)>);

impl Problems {
    fn one(field: &'static str, message: String) -> Problems {
        Problems(vec![(field, message)])
    }

    pub(crate) fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Messages about the form as a whole, or about fields the form does not show.
    pub(crate) fn general(&self, shown: &[&str]) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(f, _)| f.is_empty() || !shown.contains(f))
            .map(|(_, m)| m.as_str())
            .collect()
    }
}

/// Reasons written as Markdown (paragraphs, lists, emphasis, links) as HTML; the service cleans
/// it with ammonia before storing it, so anything Markdown lets through raw is removed there.
fn markdown(text: &str) -> String {
    let parser = pulldown_cmark::Parser::new_ext(text, pulldown_cmark::Options::empty());
    let mut html = String::with_capacity(text.len() * 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    html
}

// ---------------------------------------------------------------------------------------------
// The list

struct EntryLine {
    id: Uuid,
    name: Option<String>,
    service: Option<String>,
    data: Option<String>,
    subjects: Option<String>,
    countries: Option<String>,
    transfers: Option<String>,
    agreement: Option<String>,
    excluded: bool,
    state: String,
}

fn entry_line(s: &Subprocessors, tr: &Tr, m: &Masked<SubprocessorView>) -> EntryLine {
    let lang = tr.0;
    EntryLine {
        id: m.inner().id,
        name: shown(m, "legal_name", |v| v.legal_name.clone()),
        service: shown(m, "service", |v| v.service.clone()),
        data: shown(m, "data_categories", |v| {
            category_names(s, lang, Kind::Data, &v.data_categories)
        }),
        subjects: shown(m, "subject_categories", |v| {
            category_names(s, lang, Kind::Subjects, &v.subject_categories)
        }),
        countries: shown(m, "locations", |v| country_names(s, lang, &v.locations)),
        transfers: shown(m, "transfers", |v| {
            if v.transfers.is_empty() {
                "—".to_owned()
            } else {
                transfer_words(s, tr, &v.transfers)
            }
        }),
        agreement: shown(m, "agreement_date", |v| {
            v.agreement_date
                .as_deref()
                .map(|d| iso_day(lang, d))
                .unwrap_or_else(|| "—".to_owned())
        }),
        excluded: m.is_visible("excluded") && m.inner().excluded,
        state: state_word(tr, &m.inner().state),
    }
}

struct NoticeLine {
    id: Uuid,
    title: String,
    kind: String,
    state: String,
    summary: Option<String>,
    effective: String,
    days_left: i64,
    /// "12 days left", "waiting for decisions", "withdrawn on…".
    status: String,
    open: bool,
    tally: Option<String>,
    open_objections: i64,
}

/// "New subprocessor: Hosting NV", "Old NV replaced by New NV".
fn title_of(tr: &Tr, m: &Masked<NoticeView>) -> String {
    let n = m.inner();
    let name = shown(m, "subprocessor_name", |v| v.subprocessor_name.clone())
        .unwrap_or_else(|| tr.t("hidden"));
    let old = shown(m, "replaces_name", |v| {
        v.replaces_name.clone().unwrap_or_default()
    })
    .unwrap_or_else(|| tr.t("hidden"));
    if n.kind == "replace" {
        tr.t2("sp-notice-title-replace", ("old", &old), ("name", &name))
    } else {
        tr.t1(&format!("sp-notice-title-{}", n.kind), "name", &name)
    }
}

fn notice_line(me: &SignedIn, m: &Masked<NoticeView>, tally: Option<&Tally>) -> NoticeLine {
    let tr = me.tr();
    let n = m.inner();
    let now = sp(me).clock().now();
    let open = n.state == "published" && instant(&n.effective_at).is_some_and(|t| t > now);
    let status = if n.waiting {
        tr.t("sp-notice-waiting")
    } else if open {
        tr.n("sp-days-left", "n", u64::try_from(n.days_left).unwrap_or(0))
    } else {
        match n.state.as_str() {
            "withdrawn" => tr.t1(
                "sp-notice-withdrawn-on",
                "date",
                &n.withdrawn_at
                    .as_deref()
                    .map(|d| day(me, d))
                    .unwrap_or_default(),
            ),
            "applied" => tr.t1(
                "sp-notice-applied-on",
                "date",
                &n.applied_at
                    .as_deref()
                    .map(|d| day(me, d))
                    .unwrap_or_default(),
            ),
            "published" => tr.t("sp-notice-closed"),
            other => state_word(&tr, other),
        }
    };
    let title = title_of(&tr, m);
    NoticeLine {
        id: n.id,
        title,
        kind: kind_word(&tr, &n.kind),
        state: state_word(&tr, &n.state),
        summary: shown(m, "summary", |v| v.summary.clone()),
        effective: day(me, &n.effective_at),
        days_left: n.days_left,
        status,
        open,
        tally: tally.map(|t| {
            tr.t2(
                "sp-tally",
                ("open", &t.open.to_string()),
                ("decided", &(t.upheld + t.rejected + t.settled).to_string()),
            )
        }),
        open_objections: tally.map_or(0, |t| t.open),
    }
}

struct ObjectionLine {
    id: Uuid,
    notice_id: Uuid,
    company: Option<String>,
    author: Option<String>,
    state: String,
    lodged: String,
    decision: Option<String>,
}

fn objection_line(me: &SignedIn, m: &Masked<ObjectionView>) -> ObjectionLine {
    let tr = me.tr();
    let o = m.inner();
    ObjectionLine {
        id: o.id,
        notice_id: o.notice_id,
        company: shown(m, "organisation_name", |v| v.organisation_name.clone()),
        author: shown(m, "author_name", |v| v.author_name.clone()),
        state: objection_state_word(&tr, &o.state),
        lodged: moment(me, &o.created_at),
        decision: shown(m, "decision_note", |v| {
            v.decision_note.clone().unwrap_or_default()
        })
        .filter(|n| !n.is_empty()),
    }
}

#[derive(Template)]
#[template(path = "sp_list.html")]
struct ListPage {
    c: Chrome,
    site_name: String,
    as_of: String,
    at: String,
    at_error: Option<String>,
    today: String,
    entries: Vec<EntryLine>,
    notices: Vec<NoticeLine>,
    can_object: bool,
    objections: Option<Vec<ObjectionLine>>,
    /// `Some(wants)`: the person may choose whether the notices are mailed to them.
    subscription: Option<bool>,
    manage: bool,
    files_at: String,
}

#[derive(Deserialize)]
struct AtQuery {
    at: Option<String>,
}

async fn list(me: SignedIn, Query(q): Query<AtQuery>) -> PageResult {
    let s = sp(&me);
    let tr = me.tr();
    let lang = me.lang();
    let at = q.at.unwrap_or_default().trim().to_owned();
    let reader = Reader::Person(&me.caller);
    let mut status = StatusCode::OK;
    let mut at_error = None;
    let listing: Listing = if at.is_empty() {
        s.current(reader).await?
    } else if parse_day(&at).is_none() {
        status = StatusCode::UNPROCESSABLE_ENTITY;
        at_error = Some(tr.t("sp-error-at"));
        s.current(reader).await?
    } else {
        match s.as_of(reader, &at).await {
            Ok(l) => l,
            Err(SubprocessorsError::Invalid { .. }) => {
                status = StatusCode::UNPROCESSABLE_ENTITY;
                at_error = Some(tr.t("sp-error-at-future"));
                s.current(reader).await?
            }
            Err(e) => return Err(e.into()),
        }
    };
    let current = me.current().await?;
    let notices = s
        .notices(reader, &["published"])
        .await?
        .iter()
        .map(|n| notice_line(&me, n, None))
        .collect();
    let objections = if may_list_objections(&current) {
        Some(
            s.objections(&current, None)
                .await?
                .iter()
                .map(|o| objection_line(&me, o))
                .collect(),
        )
    } else {
        None
    };
    let subscription = if Subprocessors::may_subscribe(&current) {
        Some(s.wants_mail(&current).await?)
    } else {
        None
    };
    let shown_at = if at_error.is_none() {
        at.clone()
    } else {
        String::new()
    };
    let page = ListPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        as_of: words::moment(lang, &me.services().site.tz(), listing.as_of),
        files_at: if shown_at.is_empty() {
            String::new()
        } else {
            format!("?at={shown_at}")
        },
        at,
        at_error,
        today: earliest_today(&me),
        entries: listing
            .entries
            .iter()
            .map(|e| entry_line(s, &tr, e))
            .collect(),
        notices,
        can_object: may_object(&current),
        objections,
        subscription,
        manage: may_manage(&current),
    };
    Ok(render(lang, status, &page))
}

/// Today's date (`YYYY-MM-DD`) in the installation's time zone: the latest "as of" date.
fn earliest_today(me: &SignedIn) -> String {
    let now = sp(me).clock().now().unix_timestamp();
    jiff::Timestamp::from_second(now)
        .ok()
        .map(|t| t.to_zoned(me.services().site.tz()).date().to_string())
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct SubscriptionForm {
    wants: String,
}

async fn subscription(me: SignedIn, CsrfForm(form): CsrfForm<SubscriptionForm>) -> PageResult {
    let caller = me.current().await?;
    let wants = match form.wants.as_str() {
        "yes" => true,
        "no" => false,
        _ => return Err(PageError::BadRequest),
    };
    sp(&me).set_wants_mail(&caller, wants).await?;
    Ok(flash::done(
        "/subprocessors#subscription",
        if wants {
            "sp-subscribed"
        } else {
            "sp-unsubscribed"
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// An entry and its history

struct HistoryLine {
    when: String,
    what: String,
    /// "Service: Hosting", one line per field that changed.
    changes: Vec<String>,
    notice: Option<Uuid>,
}

/// An entry's fields in words, in order, for comparing one change with the one before.
fn entry_words(
    s: &Subprocessors,
    tr: &Tr,
    e: &Entry,
    state: &str,
    visible: &dyn Fn(&str) -> bool,
) -> Vec<(&'static str, String)> {
    let lang = tr.0;
    let countries: Vec<String> = e.locations.iter().map(|l| l.country.clone()).collect();
    let fields: [(&'static str, String); 10] = [
        ("legal_name", e.legal_name.clone()),
        ("registration_number", e.registration_number.clone()),
        ("website", e.website.clone()),
        ("service", e.service.clone()),
        (
            "data_categories",
            category_names(s, lang, Kind::Data, &e.data_categories),
        ),
        (
            "subject_categories",
            category_names(s, lang, Kind::Subjects, &e.subject_categories),
        ),
        ("locations", country_names(s, lang, &countries)),
        ("transfers", transfer_words(s, tr, &e.transfers())),
        (
            "agreement_date",
            e.agreement_date
                .as_deref()
                .map(|d| iso_day(lang, d))
                .unwrap_or_default(),
        ),
        ("state", state_word(tr, state)),
    ];
    fields.into_iter().filter(|(f, _)| visible(f)).collect()
}

#[derive(Template)]
#[template(path = "sp_entry.html")]
struct EntryPage {
    c: Chrome,
    site_name: String,
    title: String,
    facts: Vec<(String, Option<String>)>,
    excluded: bool,
    history: Vec<HistoryLine>,
}

async fn entry_page(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    let s = sp(&me);
    let tr = me.tr();
    let (m, history) = s.entry(Reader::Person(&me.caller), id).await?;
    let line = entry_line(s, &tr, &m);
    let title = line.name.clone().unwrap_or_else(|| tr.t("hidden"));
    let facts = vec![
        (tr.t("sp-field-legal_name"), line.name.clone()),
        (
            tr.t("sp-field-registration_number"),
            shown(&m, "registration_number", |v| v.registration_number.clone()),
        ),
        (
            tr.t("sp-field-website"),
            shown(&m, "website", |v| v.website.clone()),
        ),
        (tr.t("sp-field-service"), line.service.clone()),
        (tr.t("sp-field-data_categories"), line.data.clone()),
        (tr.t("sp-field-subject_categories"), line.subjects.clone()),
        (tr.t("sp-field-locations"), line.countries.clone()),
        (tr.t("sp-field-transfers"), line.transfers.clone()),
        (tr.t("sp-field-agreement_date"), line.agreement.clone()),
        (tr.t("sp-field-state"), Some(line.state.clone())),
    ];
    let visible = |f: &str| f == "state" || m.is_visible(f);
    let mut before: Vec<(&'static str, String)> = Vec::new();
    let mut lines = Vec::new();
    for change in &history {
        let now = entry_words(s, &tr, &change.entry.entry, &change.entry.state, &visible);
        let changes: Vec<String> = now
            .iter()
            .filter(|(f, v)| {
                before.is_empty() && !v.is_empty() || before.iter().any(|(g, w)| g == f && w != v)
            })
            .map(|(f, v)| {
                tr.t2(
                    "sp-change-line",
                    ("field", &tr.t(&format!("sp-field-{f}"))),
                    ("value", if v.is_empty() { "—" } else { v }),
                )
            })
            .collect();
        if change.kind != "excluded" {
            before = now;
        }
        lines.push(HistoryLine {
            when: moment(&me, &change.at),
            what: tr.t(&format!("sp-change-{}", change.kind)),
            changes: if change.kind == "excluded" {
                Vec::new()
            } else {
                changes
            },
            notice: change.notice_id,
        });
    }
    let page = EntryPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        title,
        facts,
        excluded: line.excluded,
        history: lines,
    };
    Ok(render(me.lang(), StatusCode::OK, &page))
}

// ---------------------------------------------------------------------------------------------
// A notice, and objecting to it

#[derive(Deserialize, Default)]
struct ReasonsForm {
    #[serde(default)]
    reasons: String,
}

#[derive(Template)]
#[template(path = "sp_notice.html")]
struct NoticePage {
    c: Chrome,
    site_name: String,
    n: NoticeLine,
    facts: Vec<(String, Option<String>)>,
    withdrawal_reason: Option<String>,
    /// The form to object, while the window is open, for those who may.
    objecting: bool,
    /// The window closed for someone who may object: when.
    closed: Option<String>,
    /// The company's open objection to this notice, if any.
    own_open: Option<Uuid>,
    reasons: String,
    problem: Option<String>,
    objections: Option<Vec<ObjectionLine>>,
    can_edit: bool,
    can_publish: bool,
    can_withdraw: bool,
    /// The entry the notice adds or changes (once it exists), and the one a replacement
    /// replaces: their pages, with the history.
    entry_link: Option<(Uuid, String)>,
    replaces_link: Option<(Uuid, String)>,
}

async fn notice_view(
    me: &SignedIn,
    id: Uuid,
    reasons: String,
    problem: Option<String>,
    status: StatusCode,
) -> PageResult {
    let s = sp(me);
    let tr = me.tr();
    let current = me.current().await?;
    let m = s.notice(Reader::Person(&current), id).await?;
    let tallies: HashMap<Uuid, Tally> = s.tallies(&current).await?.into_iter().collect();
    let n = notice_line(me, &m, tallies.get(&id));
    let v = m.inner();
    let lang = me.lang();
    let facts = vec![
        (tr.t("sp-field-kind"), Some(n.kind.clone())),
        (tr.t("sp-field-notice-state"), Some(n.state.clone())),
        (
            tr.t("sp-field-service"),
            shown(&m, "service", |v| {
                v.service.clone().unwrap_or_else(|| "—".into())
            }),
        ),
        (
            tr.t("sp-field-data_categories"),
            shown(&m, "data_categories", |v| {
                category_names(s, lang, Kind::Data, &v.data_categories)
            }),
        ),
        (
            tr.t("sp-field-subject_categories"),
            shown(&m, "subject_categories", |v| {
                category_names(s, lang, Kind::Subjects, &v.subject_categories)
            }),
        ),
        (
            tr.t("sp-field-locations"),
            shown(&m, "locations", |v| country_names(s, lang, &v.locations)),
        ),
        (
            tr.t("sp-field-transfers"),
            shown(&m, "transfers", |v| {
                if v.transfers.is_empty() {
                    "—".into()
                } else {
                    transfer_words(s, &tr, &v.transfers)
                }
            }),
        ),
        (tr.t("sp-field-effective"), Some(n.effective.clone())),
        (
            tr.t("sp-field-published"),
            shown(&m, "published_at", |v| {
                v.published_at
                    .as_deref()
                    .map(|d| moment(me, d))
                    .unwrap_or_else(|| "—".into())
            }),
        ),
    ];
    let objections = if may_list_objections(&current) && v.state != "draft" {
        Some(
            s.objections(&current, Some(id))
                .await?
                .iter()
                .map(|o| objection_line(me, o))
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    let own_open = if may_object(&current) {
        s.objections(&current, Some(id))
            .await?
            .iter()
            .find(|o| {
                o.inner().organisation_id == current.organisation && o.inner().state == "open"
            })
            .map(|o| o.inner().id)
    } else {
        None
    };
    let can_object = may_object(&current) && v.state != "draft";
    let closed = (can_object && !n.open && v.state != "withdrawn")
        .then(|| tr.t1("sp-notice-closed-at", "when", &moment(me, &v.effective_at)));
    let manage = may_manage(&current);
    let entry_link = if m.is_visible("subprocessor_id") && m.is_visible("subprocessor_name") {
        v.subprocessor_id
            .map(|id| (id, v.subprocessor_name.clone()))
    } else {
        None
    };
    let replaces_link = if m.is_visible("replaces_id") && m.is_visible("replaces_name") {
        v.replaces_id.zip(v.replaces_name.clone())
    } else {
        None
    };
    let page = NoticePage {
        entry_link,
        replaces_link,
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        withdrawal_reason: shown(&m, "withdrawal_reason", |v| {
            v.withdrawal_reason.clone().unwrap_or_default()
        })
        .filter(|r| !r.is_empty()),
        objecting: can_object && n.open && own_open.is_none(),
        closed,
        own_open,
        reasons,
        problem,
        objections,
        can_edit: manage && v.state == "draft",
        can_publish: current
            .grants
            .allows(Resource::Subprocessor, Action::Publish, all())
            && v.state == "draft",
        can_withdraw: current
            .grants
            .allows(Resource::Subprocessor, Action::Withdraw, all())
            && matches!(v.state.as_str(), "draft" | "published"),
        facts,
        n,
    };
    Ok(render(me.lang(), status, &page))
}

async fn notice_page(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    notice_view(&me, id, String::new(), None, StatusCode::OK).await
}

async fn object(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReasonsForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    let html = markdown(&form.reasons);
    match sp(&me).object(&caller, id, &html).await {
        Ok(o) => Ok(flash::done(
            &format!("/subprocessors/objections/{}", o.inner().id),
            "sp-objection-lodged",
        )),
        Err(e) => {
            let (status, _, message) = refusal(&me, e, "sp-error-already-objected")?;
            notice_view(&me, id, form.reasons, Some(message), status).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Publishing and withdrawing a notice (the coordinator)

async fn notice_title(me: &SignedIn, id: Uuid) -> PageResult<(Masked<NoticeView>, String)> {
    let m = sp(me).notice(Reader::Person(&me.caller), id).await?;
    let title = notice_line(me, &m, None).title;
    Ok((m, title))
}

async fn publish_confirm(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    if !me
        .caller
        .grants
        .allows(Resource::Subprocessor, Action::Publish, all())
    {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let (m, title) = notice_title(&me, id).await?;
    if m.inner().state != "draft" {
        return Err(PageError::Conflict);
    }
    let ask = Confirm {
        title: tr.t1("sp-confirm-publish-heading", "title", &title),
        message: tr.t1(
            "sp-confirm-publish-message",
            "date",
            &day(&me, &m.inner().effective_at),
        ),
        button: tr.t("sp-publish"),
        hidden: Vec::new(),
        cancel: format!("/subprocessors/notices/{id}"),
        danger: false,
    };
    Ok(confirm::page(&me, ask).await)
}

#[derive(Deserialize, Default)]
struct Empty {}

async fn publish(me: SignedIn, Path(id): Path<String>, CsrfForm(_): CsrfForm<Empty>) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    match sp(&me).publish(&caller, id).await {
        Ok((_, mails)) => Ok(flash::done_with(
            &format!("/subprocessors/notices/{id}"),
            "sp-published",
            &mails.to_string(),
        )),
        Err(e) => {
            let (status, _, message) = refusal(&me, e, "sp-error-publish-conflict")?;
            notice_view(&me, id, String::new(), Some(message), status).await
        }
    }
}

#[derive(Deserialize, Default)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn withdraw_confirm(
    me: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ReasonForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    if !me
        .caller
        .grants
        .allows(Resource::Subprocessor, Action::Withdraw, all())
    {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let (m, title) = notice_title(&me, id).await?;
    if !matches!(m.inner().state.as_str(), "draft" | "published") {
        return Err(PageError::Conflict);
    }
    let reason = q.reason.trim().to_owned();
    if reason.is_empty() {
        return notice_view(
            &me,
            id,
            String::new(),
            Some(tr.t("sp-error-reason")),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let message = tr.t(if m.inner().state == "published" {
        "sp-confirm-withdraw-published"
    } else {
        "sp-confirm-withdraw-draft"
    });
    let ask = Confirm {
        title: tr.t1("sp-confirm-withdraw-heading", "title", &title),
        message,
        button: tr.t("sp-withdraw"),
        hidden: vec![("reason".into(), reason.clone())],
        cancel: format!("/subprocessors/notices/{id}"),
        danger: true,
    };
    Ok(confirm::detailed_page(
        &me,
        ask.detailed(
            vec![tr.t1("sp-confirm-withdraw-reason", "reason", &reason)],
            Vec::new(),
        ),
    )
    .await)
}

async fn withdraw(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    match sp(&me).withdraw(&caller, id, &form.reason).await {
        Ok(_) => Ok(flash::done(
            &format!("/subprocessors/notices/{id}"),
            "sp-withdrawn",
        )),
        Err(e) => {
            let (status, _, message) = refusal(&me, e, "sp-error-conflict")?;
            notice_view(&me, id, String::new(), Some(message), status).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// An objection

#[derive(Deserialize, Default, Clone)]
struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

#[derive(Template)]
#[template(path = "sp_objection.html")]
struct ObjectionPage {
    c: Chrome,
    site_name: String,
    o: ObjectionLine,
    notice_title: String,
    /// Cleaned HTML, stored so by the service (ammonia, an allow-list).
    reasons: Option<String>,
    outcome: Option<String>,
    decided: Option<String>,
    can_change: bool,
    amend_text: String,
    amend_problem: Option<String>,
    deciding: bool,
    decision: DecisionForm,
    problems: Problems,
}

async fn objection_view(
    me: &SignedIn,
    id: Uuid,
    amend: Option<(String, String)>,
    decision: Option<(DecisionForm, Problems)>,
    status: StatusCode,
) -> PageResult {
    let s = sp(me);
    let tr = me.tr();
    let current = me.current().await?;
    let m = s.objection(&current, id).await?;
    let v = m.inner();
    let notice_title = match s.notice(Reader::Person(&current), v.notice_id).await {
        Ok(n) => notice_line(me, &n, None).title,
        Err(_) => tr.t("sp-notice"),
    };
    let open = v.state == "open";
    let can_change = open && v.organisation_id == current.organisation && may_object(&current);
    let (amend_text, amend_problem) = match amend {
        Some((text, problem)) => (text, Some(problem)),
        None => (extranet_subprocessors::rich_text::plain(&v.reasons), None),
    };
    let (decision, problems) = decision.unwrap_or_default();
    let page = ObjectionPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        o: objection_line(me, &m),
        notice_title,
        reasons: shown(&m, "reasons", |v| v.reasons.clone()),
        outcome: shown(&m, "outcome", |v| v.outcome.clone().unwrap_or_default())
            .filter(|o| !o.is_empty())
            .map(|o| tr.t(&format!("sp-outcome-{}", o.replace('_', "-")))),
        decided: shown(&m, "decided_at", |v| {
            v.decided_at
                .as_deref()
                .map(|d| moment(me, d))
                .unwrap_or_default()
        })
        .filter(|d| !d.is_empty()),
        can_change,
        amend_text,
        amend_problem,
        deciding: open && may_decide(&current),
        decision,
        problems,
    };
    Ok(render(me.lang(), status, &page))
}

async fn objection_page(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    objection_view(&me, id, None, None, StatusCode::OK).await
}

async fn amend(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReasonsForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    let html = markdown(&form.reasons);
    match sp(&me).amend(&caller, id, &html).await {
        Ok(_) => Ok(flash::done(
            &format!("/subprocessors/objections/{id}"),
            "sp-objection-amended",
        )),
        Err(e) => {
            let (status, _, message) = refusal(&me, e, "sp-error-objection-closed")?;
            objection_view(&me, id, Some((form.reasons, message)), None, status).await
        }
    }
}

async fn withdraw_objection_confirm(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    let tr = me.tr();
    let current = me.current().await?;
    let m = sp(&me).objection(&current, id).await?;
    if m.inner().organisation_id != current.organisation || !may_object(&current) {
        return Err(PageError::Forbidden);
    }
    if m.inner().state != "open" {
        return Err(PageError::Conflict);
    }
    let ask = Confirm {
        title: tr.t("sp-confirm-objection-withdraw-heading"),
        message: tr.t("sp-confirm-objection-withdraw-message"),
        button: tr.t("sp-objection-withdraw"),
        hidden: Vec::new(),
        cancel: format!("/subprocessors/objections/{id}"),
        danger: true,
    };
    Ok(confirm::page(&me, ask).await)
}

async fn withdraw_objection(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    match sp(&me).withdraw_objection(&caller, id).await {
        Ok(_) => Ok(flash::done(
            &format!("/subprocessors/objections/{id}"),
            "sp-objection-withdrawn",
        )),
        Err(SubprocessorsError::Conflict(_)) => Ok(flash::failed(
            &format!("/subprocessors/objections/{id}"),
            "sp-objection-closed",
        )),
        Err(e) => Err(e.into()),
    }
}

async fn decide(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> PageResult {
    let id = parse_id(&id)?;
    let caller = me.current().await?;
    let tr = me.tr();
    let problem = match form.decision.as_str() {
        "upheld" if !matches!(form.outcome.as_str(), "withdraw_notice" | "exclude") => {
            Some(("outcome", tr.t("sp-error-outcome")))
        }
        "rejected" if form.note.trim().is_empty() => Some(("note", tr.t("sp-error-justification"))),
        "settled" if form.note.trim().is_empty() => {
            Some(("note", tr.t("sp-error-settlement-note")))
        }
        "upheld" | "rejected" | "settled" => None,
        _ => Some(("decision", tr.t("sp-error-decision"))),
    };
    if let Some((field, message)) = problem {
        return objection_view(
            &me,
            id,
            None,
            Some((form, Problems::one(field, message))),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let d = Decision {
        decision: form.decision.clone(),
        outcome: (form.decision == "upheld").then(|| form.outcome.clone()),
        note: form.note.clone(),
    };
    match sp(&me).decide(&caller, id, &d).await {
        Ok(_) => Ok(flash::done(
            &format!("/subprocessors/objections/{id}"),
            "sp-objection-decided",
        )),
        Err(e) => {
            let (status, field, message) = refusal(&me, e, "sp-error-objection-closed")?;
            objection_view(
                &me,
                id,
                None,
                Some((form, Problems::one(field, message))),
                status,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The coordinator's page

struct ManagedEntry {
    id: Uuid,
    name: String,
    service: String,
    state: String,
}

#[derive(Template)]
#[template(path = "sp_manage.html")]
struct ManagePage {
    c: Chrome,
    site_name: String,
    entries: Vec<ManagedEntry>,
    drafts: Vec<NoticeLine>,
    published: Vec<NoticeLine>,
    waiting: Vec<NoticeLine>,
    withdrawn: Vec<NoticeLine>,
    applied: Vec<NoticeLine>,
}

async fn manage(me: SignedIn) -> PageResult {
    if !may_manage(&me.caller) {
        return Err(PageError::NotFound);
    }
    let s = sp(&me);
    let tr = me.tr();
    let current = me.current().await?;
    let entries = s
        .all_entries(&current)
        .await?
        .into_iter()
        .map(|e| ManagedEntry {
            id: e.id,
            name: e.legal_name,
            service: e.service,
            state: state_word(&tr, &e.state),
        })
        .collect();
    let tallies: HashMap<Uuid, Tally> = s.tallies(&current).await?.into_iter().collect();
    let notices = s
        .notices(
            Reader::Person(&current),
            &extranet_subprocessors::notices::STATES,
        )
        .await?;
    let mut page = ManagePage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        entries,
        drafts: Vec::new(),
        published: Vec::new(),
        waiting: Vec::new(),
        withdrawn: Vec::new(),
        applied: Vec::new(),
    };
    for n in &notices {
        let line = notice_line(&me, n, tallies.get(&n.inner().id));
        match n.inner().state.as_str() {
            "draft" => page.drafts.push(line),
            "published" if n.inner().waiting => page.waiting.push(line),
            "published" => page.published.push(line),
            "withdrawn" => page.withdrawn.push(line),
            _ => page.applied.push(line),
        }
    }
    Ok(render(me.lang(), StatusCode::OK, &page))
}

/// The notice form as typed: repeated fields (categories) and one country and mechanism per
/// row, so it is read as pairs.
#[derive(Default, Clone)]
struct NoticeForm {
    kind: String,
    subprocessor_id: String,
    legal_name: String,
    registration_number: String,
    website: String,
    service: String,
    data_categories: Vec<String>,
    subject_categories: Vec<String>,
    /// (country, mechanism) per row.
    locations: Vec<(String, String)>,
    agreement_date: String,
    summary: String,
    effective_date: String,
}

/// Rows of countries the form offers.
const LOCATION_ROWS: usize = 4;

impl NoticeForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> NoticeForm {
        let mut f = NoticeForm::default();
        let mut rows: Vec<(String, String)> = vec![Default::default(); entry_rows()];
        for (k, v) in pairs {
            match k.as_str() {
                "kind" => f.kind = v,
                "subprocessor_id" => f.subprocessor_id = v,
                "legal_name" => f.legal_name = v,
                "registration_number" => f.registration_number = v,
                "website" => f.website = v,
                "service" => f.service = v,
                "data_categories" => f.data_categories.push(v),
                "subject_categories" => f.subject_categories.push(v),
                "agreement_date" => f.agreement_date = v,
                "summary" => f.summary = v,
                "effective_date" => f.effective_date = v,
                other => {
                    if let Some((what, i)) = other.split_once('_')
                        && let Ok(i) = i.parse::<usize>()
                        && let Some(row) = rows.get_mut(i)
                    {
                        match what {
                            "country" => row.0 = v,
                            "mechanism" => row.1 = v,
                            _ => {}
                        }
                    }
                }
            }
        }
        f.locations = rows;
        f
    }

    fn from_draft(d: &NoticeDraft) -> NoticeForm {
        let mut f = NoticeForm {
            kind: d.kind.clone(),
            subprocessor_id: d.subprocessor_id.map(|i| i.to_string()).unwrap_or_default(),
            summary: d.summary.clone(),
            effective_date: d.effective_date.clone(),
            ..NoticeForm::default()
        };
        if let Some(e) = &d.entry {
            f.legal_name = e.legal_name.clone();
            f.registration_number = e.registration_number.clone();
            f.website = e.website.clone();
            f.service = e.service.clone();
            f.data_categories = e.data_categories.clone();
            f.subject_categories = e.subject_categories.clone();
            f.locations = e
                .locations
                .iter()
                .map(|l| (l.country.clone(), l.mechanism.clone().unwrap_or_default()))
                .collect();
            f.agreement_date = e.agreement_date.clone().unwrap_or_default();
        }
        f.locations
            .resize(entry_rows().max(f.locations.len()), Default::default());
        f
    }

    fn draft(&self) -> Result<NoticeDraft, &'static str> {
        let subprocessor_id = match self.subprocessor_id.trim() {
            "" => None,
            raw => Some(raw.parse::<Uuid>().map_err(|_| "subprocessor_id")?),
        };
        let entry = (self.kind != "remove").then(|| Entry {
            legal_name: self.legal_name.clone(),
            registration_number: self.registration_number.clone(),
            website: self.website.clone(),
            service: self.service.clone(),
            data_categories: self.data_categories.clone(),
            subject_categories: self.subject_categories.clone(),
            locations: self
                .locations
                .iter()
                .filter(|(c, _)| !c.trim().is_empty())
                .map(|(c, m)| Location {
                    country: c.clone(),
                    mechanism: Some(m.clone()).filter(|m| !m.trim().is_empty()),
                })
                .collect(),
            agreement_date: Some(self.agreement_date.clone()).filter(|d| !d.trim().is_empty()),
        });
        Ok(NoticeDraft {
            kind: self.kind.clone(),
            subprocessor_id: subprocessor_id.filter(|_| self.kind != "add"),
            entry,
            summary: self.summary.clone(),
            effective_date: self.effective_date.clone(),
        })
    }
}

fn entry_rows() -> usize {
    LOCATION_ROWS
}

struct Choice {
    code: String,
    name: String,
    checked: bool,
}

struct LocationRow {
    index: usize,
    country: String,
    mechanism: String,
}

#[derive(Template)]
#[template(path = "sp_notice_form.html")]
struct NoticeFormPage {
    c: Chrome,
    site_name: String,
    heading: String,
    action: String,
    form: NoticeForm,
    problems: Problems,
    general: Vec<String>,
    kinds: Vec<(&'static str, String)>,
    entries: Vec<(String, String)>,
    data: Vec<Choice>,
    subjects: Vec<Choice>,
    countries: Vec<(String, String)>,
    rows: Vec<LocationRow>,
    mechanisms: Vec<(&'static str, String)>,
    outside_eea: bool,
    earliest: String,
    earliest_words: String,
    /// The entry's one-line fields: (name, value typed).
    texts: Vec<(&'static str, String)>,
}

const FORM_FIELDS: [&str; 13] = [
    "kind",
    "subprocessor_id",
    "legal_name",
    "registration_number",
    "website",
    "service",
    "data_categories",
    "subject_categories",
    "locations",
    "agreement_date",
    "summary",
    "effective_date",
    "entry",
];

async fn form_page(
    me: &SignedIn,
    edit: Option<Uuid>,
    form: NoticeForm,
    problems: Problems,
    status: StatusCode,
) -> PageResult {
    let s = sp(me);
    let tr = me.tr();
    let lang = me.lang();
    let current = me.current().await?;
    let entries = s
        .all_entries(&current)
        .await?
        .into_iter()
        .filter(|e| e.state == "active")
        .map(|e| (e.id.to_string(), e.legal_name))
        .collect();
    let choices = |kind: Kind, chosen: &[String]| -> Vec<Choice> {
        s.vocabulary()
            .categories(kind)
            .map(|c| Choice {
                code: c.code.clone(),
                name: c.names.get(lang.code()).to_owned(),
                checked: chosen.contains(&c.code),
            })
            .collect()
    };
    let outside_eea = s.settings().allow_outside_eea;
    let mut countries: Vec<(String, String)> = s
        .vocabulary()
        .countries()
        .filter(|c| outside_eea || c.eea)
        .map(|c| (c.code.clone(), c.names.get(lang.code()).to_owned()))
        .collect();
    countries.sort_by(|a, b| a.1.cmp(&b.1));
    let (earliest, earliest_words) = earliest(me);
    let general = problems
        .general(&FORM_FIELDS)
        .into_iter()
        .chain(problems.of("entry"))
        .map(str::to_owned)
        .collect();
    let page = NoticeFormPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        heading: tr.t(if edit.is_some() {
            "sp-edit-heading"
        } else {
            "sp-new-heading"
        }),
        action: match edit {
            Some(id) => format!("/subprocessors/manage/notices/{id}/edit"),
            None => "/subprocessors/manage/new".to_owned(),
        },
        kinds: extranet_subprocessors::notices::KINDS
            .into_iter()
            .map(|k| (k, kind_word(&tr, k)))
            .collect(),
        entries,
        data: choices(Kind::Data, &form.data_categories),
        subjects: choices(Kind::Subjects, &form.subject_categories),
        countries,
        rows: form
            .locations
            .iter()
            .enumerate()
            .map(|(index, (country, mechanism))| LocationRow {
                index,
                country: country.clone(),
                mechanism: mechanism.clone(),
            })
            .collect(),
        mechanisms: MECHANISMS
            .into_iter()
            .map(|m| (m, tr.t(&format!("sp-mechanism-{}", m.replace('_', "-")))))
            .collect(),
        outside_eea,
        earliest,
        earliest_words,
        texts: vec![
            ("legal_name", form.legal_name.clone()),
            ("registration_number", form.registration_number.clone()),
            ("website", form.website.clone()),
            ("service", form.service.clone()),
        ],
        general,
        form,
        problems,
    };
    Ok(render(lang, status, &page))
}

async fn new_page(me: SignedIn) -> PageResult {
    if !may_manage(&me.caller) {
        return Err(PageError::NotFound);
    }
    let form = NoticeForm {
        kind: "add".into(),
        effective_date: earliest(&me).0,
        locations: vec![Default::default(); entry_rows()],
        ..NoticeForm::default()
    };
    form_page(&me, None, form, Problems::default(), StatusCode::OK).await
}

async fn save(me: SignedIn, edit: Option<Uuid>, pairs: Vec<(String, String)>) -> PageResult {
    let caller = me.current().await?;
    if !may_manage(&caller) {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    let form = NoticeForm::from_pairs(pairs);
    let draft = match form.draft() {
        Ok(d) => d,
        Err(field) => {
            let p = Problems::one(field, tr.t(&format!("sp-error-{field}")));
            return form_page(&me, edit, form, p, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let s = sp(&me);
    let saved = match edit {
        Some(id) => s.update_draft(&caller, id, &draft).await,
        None => s.draft(&caller, &draft).await,
    };
    match saved {
        Ok(n) => Ok(flash::done(
            &format!("/subprocessors/notices/{}", n.inner().id),
            "sp-draft-saved",
        )),
        Err(e) => {
            let (status, field, message) = refusal(&me, e, "sp-error-conflict")?;
            form_page(&me, edit, form, Problems::one(field, message), status).await
        }
    }
}

async fn create(me: SignedIn, CsrfForm(pairs): CsrfForm<Vec<(String, String)>>) -> PageResult {
    save(me, None, pairs).await
}

async fn edit_page(me: SignedIn, Path(id): Path<String>) -> PageResult {
    let id = parse_id(&id)?;
    if !may_manage(&me.caller) {
        return Err(PageError::NotFound);
    }
    let caller = me.current().await?;
    let d = sp(&me).draft_form(&caller, id).await?;
    form_page(
        &me,
        Some(id),
        NoticeForm::from_draft(&d),
        Problems::default(),
        StatusCode::OK,
    )
    .await
}

async fn edit(
    me: SignedIn,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id)?;
    save(me, Some(id), pairs).await
}

// ---------------------------------------------------------------------------------------------
// The published files

/// Who reads a file: a signed-in person, or anyone where the list is public; anyone else is
/// sent to sign in (and comes back to the file).
fn file_reader(v: &Visitor, method: &Method, uri: &Uri) -> Result<Option<Caller>, Box<Response>> {
    match &v.claims {
        Some(claims) => Ok(Some(v.services.directory.caller(
            claims.sub,
            claims.org,
            &claims.roles,
            v.ip,
        ))),
        None if v.services.subprocessors.settings().public => Ok(None),
        None => Err(Box::new(crate::ui::signed_in::sign_in_first(method, uri))),
    }
}

fn reader(caller: Option<&Caller>) -> Reader<'_> {
    match caller {
        Some(c) => Reader::Person(c),
        None => Reader::Anyone,
    }
}

fn plain(status: StatusCode, lang: Lang, text: String) -> Response {
    let mut res = (status, text).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    res
}

/// The listing a file describes: now, or as of `?at=`; a wrong date is a 422 in words.
async fn file_listing(
    v: &Visitor,
    caller: Option<&Caller>,
    at: Option<&str>,
) -> Result<Listing, Response> {
    let s = &v.services.subprocessors;
    let tr = v.tr();
    let r = match at.map(str::trim).filter(|a| !a.is_empty()) {
        None => s.current(reader(caller)).await,
        Some(a) if parse_day(a).is_none() => {
            return Err(plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                v.lang,
                tr.t("sp-error-at"),
            ));
        }
        Some(a) => s.as_of(reader(caller), a).await,
    };
    r.map_err(|e| match e {
        SubprocessorsError::Invalid { .. } => plain(
            StatusCode::UNPROCESSABLE_ENTITY,
            v.lang,
            tr.t("sp-error-at-future"),
        ),
        other => PageError::from(other).into_response(),
    })
}

async fn json_file(v: Visitor, method: Method, uri: Uri, Query(q): Query<AtQuery>) -> Response {
    let caller = match file_reader(&v, &method, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    match file_listing(&v, caller.as_ref(), q.at.as_deref()).await {
        Ok(listing) => axum::Json(listing.to_json()).into_response(),
        Err(res) => res,
    }
}

async fn csv_file(v: Visitor, method: Method, uri: Uri, Query(q): Query<AtQuery>) -> Response {
    let caller = match file_reader(&v, &method, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    let listing = match file_listing(&v, caller.as_ref(), q.at.as_deref()).await {
        Ok(l) => l,
        Err(res) => return res,
    };
    let body = match extranet_access::mask::to_csv(&listing.entries) {
        Ok(b) => b,
        Err(e) => return PageError::internal(e).into_response(),
    };
    let date = jiff::Timestamp::from_second(listing.as_of.unix_timestamp())
        .map(|t| t.to_zoned(v.services.site.tz()).date().to_string())
        .unwrap_or_default();
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(d) = HeaderValue::from_str(&format!(
        "attachment; filename=\"subprocessors-{date}.csv\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    res
}

/// The latest of an RFC 3339 instant list.
fn latest(times: &[Option<&str>]) -> Option<atom_syndication::FixedDateTime> {
    times
        .iter()
        .flatten()
        .filter_map(|t| atom_syndication::FixedDateTime::parse_from_rfc3339(t).ok())
        .max()
}

async fn atom_feed(v: Visitor, method: Method, uri: Uri) -> Response {
    use atom_syndication::{Feed, Link, Text};
    let caller = match file_reader(&v, &method, &uri) {
        Ok(c) => c,
        Err(res) => return *res,
    };
    let s = &v.services.subprocessors;
    let tr = v.tr();
    let notices = match s
        .notices(
            reader(caller.as_ref()),
            &["published", "withdrawn", "applied"],
        )
        .await
    {
        Ok(n) => n,
        Err(e) => return PageError::from(e).into_response(),
    };
    let base = s.settings().base_url.trim_end_matches('/').to_owned();
    let mut entries = Vec::with_capacity(notices.len());
    for m in &notices {
        let n = m.inner();
        let Some(updated) = latest(&[
            n.published_at.as_deref(),
            n.withdrawn_at.as_deref(),
            n.applied_at.as_deref(),
        ]) else {
            continue;
        };
        let mut e = atom_syndication::Entry::default();
        e.set_id(format!("urn:uuid:{}", n.id));
        e.set_title(Text::plain(format!(
            "{} — {} ({})",
            title_of(&tr, m),
            state_word(&tr, &n.state),
            instant(&n.effective_at)
                .map(|t| words::day_of(v.lang, &v.services.site.tz(), t))
                .unwrap_or_default()
        )));
        e.set_updated(updated);
        if let Some(p) = n
            .published_at
            .as_deref()
            .and_then(|t| atom_syndication::FixedDateTime::parse_from_rfc3339(t).ok())
        {
            e.set_published(Some(p));
        }
        if let Some(summary) = shown(m, "summary", |v| v.summary.clone()) {
            e.set_summary(Some(Text::plain(summary)));
        }
        let mut link = Link::default();
        link.set_href(format!("{base}/subprocessors/notices/{}", n.id));
        link.set_rel("alternate");
        e.set_links(vec![link]);
        entries.push(e);
    }
    entries.sort_by(|a, b| b.updated().cmp(a.updated()));
    let mut feed = Feed::default();
    feed.set_title(Text::plain(format!(
        "{} — {}",
        s.settings().site_name,
        tr.t("sp-title")
    )));
    feed.set_id(format!("{base}/subprocessors/feed.atom"));
    feed.set_lang(Some(v.lang.code().to_owned()));
    if let Some(first) = entries.first() {
        feed.set_updated(*first.updated());
    } else if let Ok(t) = atom_syndication::FixedDateTime::parse_from_rfc3339(
        &s.clock().now().format(&Rfc3339).unwrap_or_default(),
    ) {
        feed.set_updated(t);
    }
    let mut me_link = Link::default();
    me_link.set_href(format!("{base}/subprocessors/feed.atom"));
    me_link.set_rel("self");
    let mut html_link = Link::default();
    html_link.set_href(format!("{base}/subprocessors"));
    html_link.set_rel("alternate");
    feed.set_links(vec![me_link, html_link]);
    feed.set_entries(entries);
    let mut res = feed.to_string().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/atom+xml; charset=utf-8"),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_gives_paragraphs_lists_emphasis_and_links() {
        let html = markdown("We *object*:\n\n- one\n- [two](https://example.org)");
        assert!(html.contains("<p>We <em>object</em>:</p>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
        assert!(
            html.contains("<a href=\"https://example.org\">two</a>"),
            "{html}"
        );
    }

    #[test]
    fn the_notice_form_reads_repeated_fields_and_country_rows() {
        let pairs = [
            ("kind", "add"),
            ("subprocessor_id", ""),
            ("legal_name", "Relay BV"),
            ("data_categories", "contact"),
            ("data_categories", "identification"),
            ("subject_categories", "client_contacts"),
            ("country_0", "NL"),
            ("mechanism_0", ""),
            ("country_2", "US"),
            ("mechanism_2", "standard_contractual_clauses"),
            ("country_99", "FR"),
            ("effective_date", "2027-01-31"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .to_vec();
        let form = NoticeForm::from_pairs(pairs);
        assert_eq!(form.data_categories, ["contact", "identification"]);
        assert_eq!(form.locations.len(), LOCATION_ROWS);
        let Ok(d) = form.draft() else {
            panic!("a draft")
        };
        assert_eq!(d.subprocessor_id, None);
        let Some(entry) = d.entry else {
            panic!("an entry")
        };
        // Empty rows are left out; a row past the form's is ignored.
        assert_eq!(
            entry.locations,
            vec![
                Location {
                    country: "NL".into(),
                    mechanism: None
                },
                Location {
                    country: "US".into(),
                    mechanism: Some("standard_contractual_clauses".into())
                },
            ]
        );
        let removal = NoticeForm {
            kind: "remove".into(),
            subprocessor_id: "not-an-id".into(),
            ..NoticeForm::default()
        };
        assert_eq!(removal.draft().err(), Some("subprocessor_id"));
    }
}
