//! The audit-log search page (`/staff/audit`) and its CSV export, for whoever the policy grants
//! `audit.search` across all organisations (staff, administrators, the privacy coordinator).
//! Anyone else gets "not found", like the other staff pages.
//!
//! Opening the page shows the form and searches nothing. A submitted search (`search=1`) is
//! itself recorded (`audit.search`, with the filter used) before any result is shown, and an
//! export likewise (`audit.export`); if the record cannot be written, nothing is shown. People
//! and organisations are given by name (suggested from those the caller sees), resolved to ids
//! here; results show names, the action and outcome in words and the moment in the
//! installation's time zone, with ids only in `title` attributes. Invalid input answers 422
//! with the message next to its field and no results.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use extranet_access::{Action, Domain, Grants, Resource};
use extranet_audit::{Entry, Filter, Outcome};
use extranet_directory::people::PersonQuery;
use extranet_directory::{dossiers, organisations, people};
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, Time};
use uuid::Uuid;

use crate::i18n::Tr;
use crate::site::Site;
use crate::ui::{Chrome, PageError, PageResult, PageRouter, SignedIn, render, words};

/// Entries on one page of results.
pub(crate) const PER_PAGE: u32 = 50;
/// The most entries a search reaches (the audit log's own limit); past it, the page asks for a
/// narrower search.
const REACH: u32 = extranet_audit::search::MAX_LIMIT;
/// The longest action prefix accepted (the audit log's actions are at most 100 characters).
const MAX_ACTION: usize = 100;
/// The longest name accepted in a name field.
const MAX_NAME: usize = 300;

/// Built by `pages::routes`; the handlers read the services from [`SignedIn`].
#[derive(Clone)]
#[allow(dead_code)]
pub(crate) struct AuditLogState {
    pub site: Arc<Site>,
    pub auth: Arc<extranet_identity::auth::Auth>,
    pub directory: Arc<extranet_directory::Directory>,
}

pub(crate) fn routes(state: AuditLogState) -> Router {
    PageRouter::new()
        .page("/staff/audit", search_page)
        .page("/staff/audit/export.csv", export)
        .with_state(state)
        .into_router()
}

/// Who may search the audit log: whoever the policy grants `audit.search` across all
/// organisations (staff, administrators and the privacy coordinator in `policies/policy.csv`).
pub(crate) fn may_search_audit(grants: &Grants) -> bool {
    grants
        .domains(Resource::Audit, Action::Search)
        .contains(Domain::All)
}

/// The form as submitted; every field is optional.
#[derive(Debug, Default, Deserialize)]
struct SearchForm {
    /// Present when the form was submitted: only then is anything searched.
    #[serde(default)]
    search: Option<String>,
    /// The person the entries are about (subject): a name, an e-mail address or an id.
    #[serde(default)]
    person: String,
    /// An organisation's name or id.
    #[serde(default)]
    organisation: String,
    /// Who acted: a name, an e-mail address or an id.
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    /// `YYYY-MM-DD`, from the start of that day (UTC).
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, until the end of that day (UTC).
    #[serde(default)]
    until: String,
    /// The page of results, from 1.
    #[serde(default)]
    page: Option<String>,
}

impl SearchForm {
    fn page(&self) -> u32 {
        self.page
            .as_deref()
            .and_then(|p| p.parse::<u32>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    }

    /// The filter as a query string (for paging and the export link).
    fn query(&self, page: Option<u32>) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("search", "1");
        for (k, v) in [
            ("person", &self.person),
            ("organisation", &self.organisation),
            ("actor", &self.actor),
            ("action", &self.action),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if !v.trim().is_empty() {
                q.append_pair(k, v.trim());
            }
        }
        if let Some(p) = page {
            q.append_pair("page", &p.to_string());
        }
        q.finish()
    }
}

/// Messages shown next to their fields.
#[derive(Debug, Default)]
struct SearchErrors {
    person: Option<String>,
    organisation: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    until: Option<String>,
}

impl SearchErrors {
    fn any(&self) -> bool {
        self.person.is_some()
            || self.organisation.is_some()
            || self.actor.is_some()
            || self.action.is_some()
            || self.from.is_some()
            || self.until.is_some()
    }
}

/// A name shown for an id: the text and the id for the `title`.
struct Named {
    text: String,
    id: String,
}

/// One result line, already put in words for the page (askama escapes every value).
struct Row {
    at: String,
    /// The action's code (for `data-action`).
    code: String,
    action: String,
    outcome: String,
    actor: Option<Named>,
    subject: Option<Named>,
    organisation: Option<Named>,
    detail: Vec<String>,
}

/// The names the caller sees, by id: people, organisations and certification files.
#[derive(Default)]
struct Names {
    people: HashMap<Uuid, (String, String)>,
    organisations: HashMap<Uuid, String>,
    dossiers: HashMap<Uuid, String>,
}

impl Names {
    /// Read within the caller's scope, masked: a name the caller may not see is not there.
    ///
    /// The people are read with `people::visible` (no read record of its own): the search that
    /// shows them is recorded (`audit.search`), and a record listing every person on each
    /// opening of the form would drown the log.
    async fn of(me: &SignedIn) -> PageResult<Names> {
        let dir = &me.services().directory;
        let caller = &me.caller;
        let mut names = Names::default();
        let query = PersonQuery {
            limit: people::MAX_LIMIT,
            ..PersonQuery::default()
        };
        for p in people::visible(dir.db(), dir.clock(), caller, Action::List, &query).await? {
            if !(p.is_visible("first_name") && p.is_visible("surname")) {
                continue;
            }
            let v = p.inner();
            let email = if p.is_visible("email") {
                v.email.clone()
            } else {
                String::new()
            };
            let name = format!("{} {}", v.first_name, v.surname).trim().to_owned();
            names.people.insert(v.id, (name, email));
        }
        for o in organisations::list(dir.db(), dir.clock(), caller).await? {
            if o.is_visible("name") {
                names
                    .organisations
                    .insert(o.inner().id, o.inner().name.clone());
            }
        }
        for d in dossiers::list(dir.db(), dir.clock(), caller, None).await? {
            let v = d.inner();
            let label = match (&v.certificate_number, d.is_visible("certificate_number")) {
                (Some(n), true) => n.clone(),
                _ => format!("{} — {}", v.scheme, v.organisation_name),
            };
            names.dossiers.insert(v.id, label);
        }
        Ok(names)
    }

    /// The suggestions of the person fields: each name once; a name two people share, with
    /// the e-mail address.
    fn people_suggestions(&self) -> Vec<String> {
        let mut count: HashMap<String, usize> = HashMap::new();
        for (name, _) in self.people.values() {
            *count.entry(name.to_lowercase()).or_default() += 1;
        }
        let mut out: Vec<String> = self
            .people
            .values()
            .map(|(name, email)| {
                if count[&name.to_lowercase()] > 1 && !email.is_empty() {
                    format!("{name} ({email})")
                } else {
                    name.clone()
                }
            })
            .collect();
        out.sort_by_key(|s| s.to_lowercase());
        out.dedup();
        out
    }

    fn organisation_suggestions(&self) -> Vec<String> {
        let mut out: Vec<String> = self.organisations.values().cloned().collect();
        out.sort_by_key(|s| s.to_lowercase());
        out.dedup();
        out
    }

    /// A person field: an id, an e-mail address, a name, or "name (e-mail address)".
    fn person(&self, raw: &str) -> Found {
        let raw = normal(raw);
        if raw.is_empty() {
            return Found::Nothing;
        }
        if let Ok(id) = raw.parse::<Uuid>() {
            return Found::One(id);
        }
        let key = raw.to_lowercase();
        let hits: Vec<Uuid> = self
            .people
            .iter()
            .filter(|(_, (name, email))| {
                let name = name.to_lowercase();
                let email = email.to_lowercase();
                key == name
                    || (!email.is_empty() && (key == email || key == format!("{name} ({email})")))
            })
            .map(|(id, _)| *id)
            .collect();
        Found::of(hits)
    }

    /// An organisation field: an id or a name.
    fn organisation(&self, raw: &str) -> Found {
        let raw = normal(raw);
        if raw.is_empty() {
            return Found::Nothing;
        }
        if let Ok(id) = raw.parse::<Uuid>() {
            return Found::One(id);
        }
        let key = raw.to_lowercase();
        Found::of(
            self.organisations
                .iter()
                .filter(|(_, name)| name.to_lowercase() == key)
                .map(|(id, _)| *id)
                .collect(),
        )
    }

    fn person_name(&self, id: &str) -> Option<String> {
        let id = id.parse::<Uuid>().ok()?;
        self.people.get(&id).map(|(name, _)| name.clone())
    }

    fn organisation_name(&self, id: &str) -> Option<String> {
        self.organisations.get(&id.parse::<Uuid>().ok()?).cloned()
    }

    /// A name for any id this page knows.
    fn any_name(&self, id: &str) -> Option<String> {
        let uuid = id.parse::<Uuid>().ok()?;
        self.people
            .get(&uuid)
            .map(|(n, _)| n.clone())
            .or_else(|| self.organisations.get(&uuid).cloned())
            .or_else(|| self.dossiers.get(&uuid).cloned())
    }
}

/// Spaces trimmed and runs of them made one.
fn normal(raw: &str) -> String {
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a name field resolved to.
enum Found {
    Nothing,
    One(Uuid),
    None,
    Several,
}

impl Found {
    fn of(hits: Vec<Uuid>) -> Found {
        match hits.as_slice() {
            [] => Found::None,
            [one] => Found::One(*one),
            _ => Found::Several,
        }
    }
}

/// The field's id, or its message.
fn resolved(found: Found, tr: &Tr, unknown: &str, slot: &mut Option<String>) -> Option<Uuid> {
    match found {
        Found::Nothing => None,
        Found::One(id) => Some(id),
        Found::None => {
            *slot = Some(tr.t(unknown));
            None
        }
        Found::Several => {
            *slot = Some(tr.t("audit-ambiguous"));
            None
        }
    }
}

fn parse_date(raw: &str) -> Option<Date> {
    Date::parse(raw, format_description!("[year]-[month]-[day]")).ok()
}

/// The action in words (`audit-action-auth-login-success`), or its code when the catalogue has
/// no text for it.
fn action_words(tr: &Tr, action: &str) -> String {
    let key = format!("audit-action-{}", action.replace(['.', '_'], "-"));
    let text = tr.t(&key);
    if text == key { action.to_owned() } else { text }
}

fn outcome_words(tr: &Tr, outcome: Outcome) -> String {
    tr.t(&format!("audit-outcome-{}", outcome.as_str()))
}

/// A detail value as a person reads it: ids by their names when known.
fn detail_value(names: &Names, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => names.any_name(s).unwrap_or_else(|| s.clone()),
        serde_json::Value::Array(items) if items.is_empty() => "—".to_owned(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| detail_value(names, i))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// The detail as `key: value` lines (nested objects as `outer inner: value`).
fn detail_lines(names: &Names, prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.replace('_', " ")
                } else {
                    format!("{prefix} {}", k.replace('_', " "))
                };
                detail_lines(names, &key, v, out);
            }
        }
        other if prefix.is_empty() => out.push(detail_value(names, other)),
        other => out.push(format!("{prefix}: {}", detail_value(names, other))),
    }
}

/// The subject's name: an organisation's, a person's, a certification file's number; else the
/// kind of thing in words.
fn subject(tr: &Tr, names: &Names, e: &Entry) -> Option<Named> {
    let kind = e.subject_type.as_deref()?;
    let id = e.subject_id.clone().unwrap_or_default();
    let name = match kind {
        "person" => names.person_name(&id),
        "organisation" => names.organisation_name(&id),
        "dossier" => id
            .parse::<Uuid>()
            .ok()
            .and_then(|u| names.dossiers.get(&u).cloned()),
        _ => None,
    };
    let text = name.unwrap_or_else(|| {
        let key = format!("audit-subject-{}", kind.replace('_', "-"));
        let t = tr.t(&key);
        if t == key { kind.to_owned() } else { t }
    });
    Some(Named { text, id })
}

fn named(id: &Option<String>, name: impl Fn(&str) -> Option<String>, tr: &Tr) -> Option<Named> {
    let id = id.clone()?;
    let text = name(&id).unwrap_or_else(|| tr.t("audit-unknown-name"));
    Some(Named { text, id })
}

impl Row {
    fn of(me: &SignedIn, names: &Names, tz: &jiff::tz::TimeZone, e: &Entry) -> Row {
        let tr = me.tr();
        let mut detail = Vec::new();
        match &e.detail {
            serde_json::Value::Object(m) if m.is_empty() => {}
            v => detail_lines(names, "", v, &mut detail),
        }
        Row {
            at: words::moment(me.lang(), tz, e.at),
            code: e.action.clone(),
            action: action_words(&tr, &e.action),
            outcome: outcome_words(&tr, e.outcome),
            actor: named(&e.actor_id, |id| names.person_name(id), &tr),
            subject: subject(&tr, names, e),
            organisation: named(&e.organisation_id, |id| names.organisation_name(id), &tr),
            detail,
        }
    }
}

#[derive(Template)]
#[template(path = "audit_log.html")]
struct SearchPage<'a> {
    c: Chrome,
    site: &'a Site,
    form: SearchForm,
    errors: SearchErrors,
    /// `None` when no search was made (the form just opened, or invalid input).
    rows: Option<Vec<Row>>,
    page: u32,
    previous: Option<String>,
    next: Option<String>,
    /// The search reached the most entries a search may; a narrower one finds the rest.
    capped: bool,
    /// The same search as a CSV file.
    export: String,
    people: Vec<String>,
    organisations: Vec<String>,
}

impl SearchPage<'_> {
    fn page_label(&self) -> String {
        self.c.tr.n("audit-page", "n", u64::from(self.page))
    }
}

/// A checked search: the filter, and the values recorded with it.
struct Checked {
    filter: Filter,
    recorded: serde_json::Value,
}

/// The form checked and its names resolved; `Err` with the messages for its fields.
// The error is the form's messages, shown together on the page: not worth a box.
#[allow(clippy::result_large_err)]
fn check(form: &SearchForm, names: &Names, tr: &Tr) -> Result<Checked, SearchErrors> {
    let mut errors = SearchErrors::default();
    for (raw, slot) in [
        (&form.person, &mut errors.person),
        (&form.actor, &mut errors.actor),
        (&form.organisation, &mut errors.organisation),
    ] {
        if raw.chars().count() > MAX_NAME || raw.chars().any(char::is_control) {
            *slot = Some(tr.t("audit-invalid-name"));
        }
    }
    let person = if errors.person.is_none() {
        resolved(
            names.person(&form.person),
            tr,
            "audit-unknown-person",
            &mut errors.person,
        )
    } else {
        None
    };
    let actor = if errors.actor.is_none() {
        resolved(
            names.person(&form.actor),
            tr,
            "audit-unknown-person",
            &mut errors.actor,
        )
    } else {
        None
    };
    let organisation = if errors.organisation.is_none() {
        resolved(
            names.organisation(&form.organisation),
            tr,
            "audit-unknown-organisation",
            &mut errors.organisation,
        )
    } else {
        None
    };
    let action = form.action.trim();
    if action.chars().count() > MAX_ACTION || action.chars().any(char::is_control) {
        errors.action = Some(tr.t("audit-invalid-action"));
    }
    let date = |raw: &str, slot: &mut Option<String>| match raw.trim() {
        "" => None,
        raw => parse_date(raw).or_else(|| {
            *slot = Some(tr.t("audit-invalid-date"));
            None
        }),
    };
    let from = date(&form.from, &mut errors.from);
    let until = date(&form.until, &mut errors.until);
    if let (Some(f), Some(u)) = (from, until)
        && f > u
    {
        errors.until = Some(tr.t("audit-until-before-from"));
    }
    // `until` includes its whole day: the search stops at the start of the next one.
    let until_exclusive = match until.map(Date::next_day) {
        None => None,
        Some(Some(next)) => Some(next.with_time(Time::MIDNIGHT).assume_utc()),
        Some(None) => {
            errors.until = Some(tr.t("audit-invalid-date"));
            None
        }
    };
    if errors.any() {
        return Err(errors);
    }
    let filter = Filter {
        actor_id: actor.map(|id| id.to_string()),
        subject_type: None,
        subject_id: person.map(|id| id.to_string()),
        organisation_id: organisation.map(|id| id.to_string()),
        action_prefix: (!action.is_empty()).then(|| action.to_owned()),
        from: from.map(|d| d.with_time(Time::MIDNIGHT).assume_utc()),
        until: until_exclusive,
        limit: None,
    };
    // Ids and the action only: a name or an e-mail address typed is not copied into the log.
    let recorded = serde_json::json!({
        "person": filter.subject_id,
        "organisation": filter.organisation_id,
        "actor": filter.actor_id,
        "action": filter.action_prefix,
        "from": from.map(|d| d.to_string()),
        "until": until.map(|d| d.to_string()),
    });
    Ok(Checked { filter, recorded })
}

/// Records that the caller looked (`audit.search` or `audit.export`); if that cannot be
/// recorded, nothing is shown.
async fn record(me: &SignedIn, action: &str, detail: serde_json::Value) -> PageResult<()> {
    let auth = &me.services().auth;
    let entry = me
        .caller
        .entry(auth.clock.as_ref(), action, Outcome::Success)
        .detail(detail);
    extranet_audit::append(&auth.db, &entry)
        .await
        .map(|_| ())
        .map_err(|e| PageError::internal(format!("{action} not recorded; results withheld: {e}")))
}

async fn search_page(me: SignedIn, Query(form): Query<SearchForm>) -> PageResult {
    if !may_search_audit(&me.caller.grants) {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let names = Names::of(&me).await?;
    let page_no = form.page();
    let mut status = StatusCode::OK;
    let mut errors = SearchErrors::default();
    let mut rows = None;
    let (mut previous, mut next, mut capped) = (None, None, false);
    if form.search.is_some() {
        match check(&form, &names, &tr) {
            Err(e) => {
                errors = e;
                status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            Ok(Checked {
                mut filter,
                recorded,
            }) => {
                let skip = (page_no - 1).saturating_mul(PER_PAGE);
                let wanted = skip.saturating_add(PER_PAGE);
                // One more than the page, to know whether there is a next one.
                filter.limit = Some(wanted.saturating_add(1).min(REACH));
                let mut entries = extranet_audit::search(&me.services().auth.db, &filter)
                    .await
                    .map_err(PageError::internal)?;
                let found = u32::try_from(entries.len()).unwrap_or(u32::MAX);
                capped = found >= REACH && wanted >= REACH;
                let shown: Vec<Entry> = entries
                    .drain(..)
                    .skip(skip as usize)
                    .take(PER_PAGE as usize)
                    .collect();
                record(
                    &me,
                    "audit.search",
                    serde_json::json!({
                        "filter": recorded,
                        "page": page_no,
                        "results": shown.len(),
                    }),
                )
                .await?;
                if found > wanted {
                    next = Some(format!("/staff/audit?{}", form.query(Some(page_no + 1))));
                }
                if page_no > 1 {
                    previous = Some(format!("/staff/audit?{}", form.query(Some(page_no - 1))));
                }
                let tz = me.services().site.tz();
                rows = Some(shown.iter().map(|e| Row::of(&me, &names, &tz, e)).collect());
            }
        }
    }
    let page = SearchPage {
        c: me.chrome().await,
        site: &me.services().site,
        export: format!("/staff/audit/export.csv?{}", form.query(None)),
        form,
        errors,
        rows,
        page: page_no,
        previous,
        next,
        capped,
        people: names.people_suggestions(),
        organisations: names.organisation_suggestions(),
    };
    Ok(render(me.lang(), status, &page))
}

/// A CSV cell a spreadsheet will not run: a value that would start a formula gets a `'`.
fn formula_safe(v: &str) -> String {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    }
}

/// `GET /staff/audit/export.csv`: what the same search finds (up to the most a search reaches),
/// with names and ids, recorded as `audit.export` before a byte is sent.
async fn export(me: SignedIn, Query(form): Query<SearchForm>) -> PageResult {
    if !may_search_audit(&me.caller.grants) {
        return Err(PageError::NotFound);
    }
    let tr = me.tr();
    let names = Names::of(&me).await?;
    let Ok(Checked {
        mut filter,
        recorded,
    }) = check(&form, &names, &tr)
    else {
        // The page says what is wrong with the filter, next to its field.
        return Ok(
            axum::response::Redirect::to(&format!("/staff/audit?{}", form.query(None)))
                .into_response(),
        );
    };
    filter.limit = Some(REACH);
    let entries = extranet_audit::search(&me.services().auth.db, &filter)
        .await
        .map_err(PageError::internal)?;
    record(
        &me,
        "audit.export",
        serde_json::json!({ "filter": recorded, "results": entries.len() }),
    )
    .await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "at",
        "action",
        "outcome",
        "actor",
        "actor_id",
        "actor_ip",
        "subject_type",
        "subject",
        "subject_id",
        "organisation",
        "organisation_id",
        "detail",
    ];
    w.write_record(header).map_err(PageError::internal)?;
    for e in &entries {
        let actor = e
            .actor_id
            .as_deref()
            .and_then(|id| names.person_name(id))
            .unwrap_or_default();
        let subject = subject(&tr, &names, e).map(|n| n.text).unwrap_or_default();
        let organisation = e
            .organisation_id
            .as_deref()
            .and_then(|id| names.organisation_name(id))
            .unwrap_or_default();
        let at =
            e.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
        let record = [
            at,
            e.action.clone(),
            e.outcome.as_str().to_owned(),
            actor,
            e.actor_id.clone().unwrap_or_default(),
            e.actor_ip.map(|ip| ip.to_string()).unwrap_or_default(),
            e.subject_type.clone().unwrap_or_default(),
            subject,
            e.subject_id.clone().unwrap_or_default(),
            organisation,
            e.organisation_id.clone().unwrap_or_default(),
            match &e.detail {
                serde_json::Value::Object(m) if m.is_empty() => String::new(),
                v => v.to_string(),
            },
        ];
        w.write_record(record.iter().map(|v| formula_safe(v)))
            .map_err(PageError::internal)?;
    }
    let body = w.into_inner().map_err(PageError::internal)?;
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-log.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_staff_admins_and_the_privacy_coordinator_search() {
        let policy = extranet_access::Policy::load(&extranet_access::PolicySource::embedded())
            .await
            .unwrap();
        let grants = |role: &str| policy.grants([role], []);
        for yes in ["staff", "admin", "privacy_officer"] {
            assert!(may_search_audit(&grants(yes)), "{yes}");
        }
        for no in ["inspector", "client_admin", "client_user", "Staff", ""] {
            assert!(!may_search_audit(&grants(no)), "{no}");
        }
        assert!(!may_search_audit(&policy.grants([], [])));
    }

    #[test]
    fn dates_are_checked() {
        assert_eq!(
            parse_date("2026-02-28").map(|d| d.to_string()),
            Some("2026-02-28".into())
        );
        for bad in ["2026-02-30", "28/02/2026", "2026-2-28", "", "x"] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn formulas_are_neutralised() {
        for (raw, safe) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+32 2", "'+32 2"),
            ("-1", "'-1"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Jan Peeters", "Jan Peeters"),
        ] {
            assert_eq!(formula_safe(raw), safe);
        }
    }

    #[test]
    fn details_read_as_lines() {
        let names = Names::default();
        let mut out = Vec::new();
        detail_lines(
            &names,
            "",
            &serde_json::json!({ "sessions_ended": 2, "filter": { "action": "auth" }, "people": [] }),
            &mut out,
        );
        assert_eq!(
            out,
            ["filter action: auth", "people: —", "sessions ended: 2"]
        );
    }
}
