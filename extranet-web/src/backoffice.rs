//! The certification body's back office in the browser (issue 14): certification files created,
//! edited and their certificate's status changed with a reason (kept as the file's history);
//! inspectors assigned for a period and their assignments ended; assignments in force, planned
//! and ending soon on `/staff/assignments`; pending invitations resent and withdrawn.
//!
//! Every decision and audit record is `extranet_directory`'s (with the caller as the database
//! says now and the client address): a form appears only when the caller's grants allow its
//! action, and the handler asks the directory again. Bad input comes back on the form with the
//! message next to its field (422), the typed values kept; destructive steps (suspending or
//! withdrawing a certificate, ending an assignment, withdrawing an invitation) are asked first.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use extranet_access::{Action, Domain, DomainSet, Masked, PersonView, Resource};
use extranet_directory::assignments::NewAssignment;
use extranet_directory::dossiers::{DossierChanges, NewDossier};
use extranet_directory::people::PersonQuery;
use extranet_directory::{
    Caller, Directory, DirectoryError, assignments, dossiers, invitations, organisations, people,
    status,
};
use jiff::tz::TimeZone;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::directory::{
    CONTACT_COLUMNS, Row, headers_of, name_of, organisation_link, reword_facts, reword_rows, rows,
    shown, shown_refusal, value,
};
use crate::facts::{Fact, facts};
use crate::i18n::Tr;
use crate::site::Site;
use crate::ui::confirm::{self, Confirm};
use crate::ui::{
    Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, flash, render, words,
};

/// Built by `pages::routes`; the handlers read the services from [`SignedIn`].
#[derive(Clone)]
#[allow(dead_code)]
pub(crate) struct BackOfficeState {
    pub site: Arc<Site>,
    pub directory: Arc<Directory>,
    pub documents: Arc<extranet_documents::Documents>,
}

pub(crate) fn routes(state: BackOfficeState) -> Router {
    PageRouter::new()
        .page_and_form("/dossiers", dossier_list, create_dossier)
        .page("/dossiers/{id}", dossier)
        .page_and_form("/dossiers/{id}/edit", edit_page, edit)
        .page_and_form("/dossiers/{id}/status", status_page, set_status)
        .form("/dossiers/{id}/assignments", assign)
        .page("/staff/assignments", assignment_list)
        .page_and_form("/staff/assignments/{id}/end", end_confirm, end)
        .form("/invitations/{id}/resend", resend)
        .page_and_form("/invitations/{id}/withdraw", withdraw_confirm, withdraw)
        .with_state(state)
        .into_router()
}

fn dir(me: &SignedIn) -> &Directory {
    &me.services().directory
}

fn all() -> DomainSet {
    DomainSet::default().with(Domain::All)
}

fn parse_id(raw: &str) -> PageResult<Uuid> {
    raw.parse().map_err(|_| PageError::NotFound)
}

/// Whether the caller's grants allow `action` on dossiers of `org`.
fn may_dossier(caller: &Caller, action: Action, org: Uuid) -> bool {
    let rel = caller.relation().of(Some(org), None, false);
    caller.grants.allows(Resource::Dossier, action, rel)
}

/// Why a submission was refused: messages in the person's language, each next to its field
/// (`""`: about the form as a whole).
#[derive(Default)]
pub(crate) struct Problems(Vec<(&'static str, String)>);

impl Problems {
    fn add(&mut self, field: &'static str, message: String) {
        self.0.push((field, message));
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for one field, if the submission was refused for it.
    pub(crate) fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    /// What the directory refused, in words.
    fn from_refusal(tr: &Tr, e: &DirectoryError) -> Problems {
        let (field, key): (&'static str, &str) = match e {
            DirectoryError::Invalid { field, .. } => (
                field,
                match *field {
                    "organisation_id" => "bo-error-organisation",
                    "scheme" => "bo-error-scheme",
                    "certificate_number" => "bo-error-certificate",
                    "valid_from" | "valid_until" => "bo-error-period",
                    "status" => "bo-error-status",
                    "reason" => "bo-error-reason",
                    "inspector_id" => "bo-error-inspector",
                    "starts_at" | "ends_at" => "bo-error-assignment-period",
                    _ => "bo-error-general",
                },
            ),
            DirectoryError::Taken(_) => ("certificate_number", "certificate-number-taken"),
            DirectoryError::Conflict(_) => ("", "bo-error-conflict"),
            _ => ("", "not-allowed"),
        };
        let mut p = Problems::default();
        p.add(field, tr.t(key));
        p
    }
}

/// A date as a date field sends it (`2026-12-04`); blank is none.
fn day(raw: &str) -> Result<Option<Date>, ()> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| ())
}

/// The first instant of a day in the installation's time zone.
fn start_of(d: Date, tz: &TimeZone) -> Option<OffsetDateTime> {
    let civil = jiff::civil::Date::new(
        i16::try_from(d.year()).ok()?,
        i8::try_from(u8::from(d.month())).ok()?,
        i8::try_from(d.day()).ok()?,
    )
    .ok()?;
    let zoned = civil.to_zoned(tz.clone()).ok()?;
    OffsetDateTime::from_unix_timestamp(zoned.timestamp().as_second()).ok()
}

/// Today in the installation's time zone.
fn today(me: &SignedIn) -> Date {
    let now = dir(me).clock().now();
    let tz = me.services().site.tz();
    jiff::Timestamp::from_second(now.unix_timestamp())
        .ok()
        .map(|ts| ts.to_zoned(tz).date())
        .and_then(|d| {
            Date::from_calendar_date(
                i32::from(d.year()),
                time::Month::try_from(u8::try_from(d.month()).ok()?).ok()?,
                u8::try_from(d.day()).ok()?,
            )
            .ok()
        })
        .unwrap_or(now.date())
}

fn status_word(tr: &Tr, status: &str) -> String {
    tr.t(&format!("dossier-status-{status}"))
}

// ---------------------------------------------------------------------------------------------
// Creating a dossier

/// The creation form of a dossier, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
pub(crate) struct DossierForm {
    #[serde(default)]
    pub(crate) organisation_id: String,
    #[serde(default)]
    pub(crate) scheme: String,
    #[serde(default)]
    pub(crate) certificate_number: String,
    #[serde(default)]
    pub(crate) status: String,
    #[serde(default)]
    pub(crate) valid_from: String,
    #[serde(default)]
    pub(crate) valid_until: String,
}

/// The creation form as a page shows it: the organisations to choose from by name (empty: the
/// organisation is fixed, a hidden field), the statuses a new dossier may start in.
pub(crate) struct DossierCreation {
    pub(crate) form: DossierForm,
    pub(crate) problems: Problems,
    pub(crate) organisations: Vec<(String, String)>,
    pub(crate) statuses: Vec<(&'static str, String)>,
}

/// The creation form for whoever may create dossiers across organisations (`None` otherwise);
/// `fixed`: the organisation the form is for (its staff page).
pub(crate) async fn dossier_creation(
    me: &SignedIn,
    fixed: Option<Uuid>,
    form: Option<DossierForm>,
    problems: Problems,
) -> PageResult<Option<DossierCreation>> {
    let caller = &me.caller;
    let may = match fixed {
        Some(org) => may_dossier(caller, Action::Create, org),
        None => caller
            .grants
            .allows(Resource::Dossier, Action::Create, all()),
    };
    if !may {
        return Ok(None);
    }
    let tr = me.tr();
    let organisations = if fixed.is_some() {
        Vec::new()
    } else {
        let d = dir(me);
        organisations::list(d.db(), d.clock(), caller)
            .await?
            .into_iter()
            .filter(|o| o.inner().kind != "certification_body" && o.inner().active)
            .map(|o| (o.inner().id.to_string(), o.inner().name.clone()))
            .collect()
    };
    let form = form.unwrap_or_else(|| DossierForm {
        organisation_id: fixed.map(|o| o.to_string()).unwrap_or_default(),
        status: "application".into(),
        ..DossierForm::default()
    });
    Ok(Some(DossierCreation {
        form,
        problems,
        organisations,
        statuses: ["application", "active"]
            .into_iter()
            .map(|s| (s, status_word(&tr, s)))
            .collect(),
    }))
}

const DOSSIER_COLUMNS: [&str; 6] = [
    "organisation_name",
    "scheme",
    "certificate_number",
    "status",
    "valid_from",
    "valid_until",
];

#[derive(Template)]
#[template(path = "dossiers.html")]
struct DossiersPage<'a> {
    c: Chrome,
    site: &'a Site,
    heading: String,
    headers: Vec<String>,
    rows: Vec<Row>,
    create: Option<DossierCreation>,
}

async fn list_page(
    me: &SignedIn,
    form: Option<DossierForm>,
    problems: Problems,
    status: StatusCode,
) -> PageResult {
    let tr = me.tr();
    let d = dir(me);
    let items = dossiers::list(d.db(), d.clock(), &me.caller, None).await?;
    // Someone who sees files only through their assignments sees "their" files.
    let reach = me.caller.grants.domains(Resource::Dossier, Action::List);
    let assigned_only = reach.contains(Domain::Assignment)
        && !reach.contains(Domain::All)
        && !reach.contains(Domain::Organisation);
    let mut rows = rows(&tr, &items, &DOSSIER_COLUMNS, |d| d.id);
    reword_rows(me.lang(), &me.services().site.tz(), &mut rows);
    let page = DossiersPage {
        c: me.chrome().await,
        site: &me.services().site,
        heading: tr.t(if assigned_only {
            "dossiers-mine"
        } else {
            "dossiers-title"
        }),
        headers: headers_of(&tr, "dossier", &DOSSIER_COLUMNS),
        rows,
        create: dossier_creation(me, None, form, problems).await?,
    };
    Ok(render(me.lang(), status, &page))
}

async fn dossier_list(me: SignedIn) -> PageResult {
    list_page(&me, None, Problems::default(), StatusCode::OK).await
}

async fn create_dossier(me: SignedIn, CsrfForm(form): CsrfForm<DossierForm>) -> PageResult {
    let caller = me.current().await?;
    if !caller
        .grants
        .allows(Resource::Dossier, Action::Create, all())
    {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    let mut problems = Problems::default();
    let organisation = form.organisation_id.trim().parse::<Uuid>().ok();
    if organisation.is_none() {
        problems.add("organisation_id", tr.t("bo-error-organisation"));
    }
    if form.scheme.trim().is_empty() {
        problems.add("scheme", tr.t("bo-error-scheme"));
    }
    if !matches!(form.status.as_str(), "application" | "active") {
        problems.add("status", tr.t("bo-error-status"));
    }
    let from = day(&form.valid_from).unwrap_or_else(|()| {
        problems.add("valid_from", tr.t("bo-error-date"));
        None
    });
    let until = day(&form.valid_until).unwrap_or_else(|()| {
        problems.add("valid_until", tr.t("bo-error-date"));
        None
    });
    let Some(organisation) = organisation.filter(|_| problems.is_empty()) else {
        return list_page(&me, Some(form), problems, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let new = NewDossier {
        organisation_id: organisation,
        scheme: form.scheme.clone(),
        certificate_number: Some(form.certificate_number.clone()),
        status: form.status.clone(),
        valid_from: from,
        valid_until: until,
    };
    let d = dir(&me);
    match dossiers::create(d.db(), d.clock(), &caller, &new).await {
        Ok(created) => Ok(flash::done(
            &format!("/dossiers/{}", created.inner().id),
            "bo-dossier-created",
        )),
        // An organisation that is not there (or the certification body): the field's message.
        Err(DirectoryError::NotFound) => {
            let mut problems = Problems::default();
            problems.add("organisation_id", tr.t("bo-error-organisation"));
            list_page(&me, Some(form), problems, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => match shown_refusal(&e) {
            None | Some(StatusCode::FORBIDDEN) => Err(e.into()),
            Some(status) => {
                let problems = Problems::from_refusal(&tr, &e);
                list_page(&me, Some(form), problems, status).await
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The dossier's page

const ASSIGNMENT_COLUMNS: [&str; 4] = ["inspector_name", "starts_at", "ends_at", "state"];

/// One assignment on the dossier's page.
struct AssignmentLine {
    id: Uuid,
    cells: Vec<Option<String>>,
    /// A link to end it (staff, while it is in force or planned).
    can_end: bool,
}

/// One change of the certificate's status, in words.
struct HistoryLine {
    /// "Certified → Suspended".
    change: String,
    /// "By Jan Peeters on 4 December 2026 14:05 CET".
    by: String,
    reason: String,
}

#[derive(Debug, Default, Deserialize, Clone)]
struct AssignForm {
    #[serde(default)]
    inspector_id: String,
    #[serde(default)]
    starts_on: String,
    #[serde(default)]
    ends_on: String,
}

/// The form that assigns an inspector, for those who may.
struct Assigning {
    form: AssignForm,
    problems: Problems,
    inspectors: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "dossier.html")]
struct DossierPage<'a> {
    c: Chrome,
    site: &'a Site,
    id: Uuid,
    title: String,
    facts: Vec<Fact>,
    organisation: Vec<Fact>,
    /// The organisation's page, when the caller may open it.
    organisation_link: Option<String>,
    contact_headers: Vec<String>,
    contacts: Option<Vec<Row>>,
    assignment_headers: Vec<String>,
    assignments: Option<Vec<AssignmentLine>>,
    can_edit: bool,
    can_change_status: bool,
    history: Option<Vec<HistoryLine>>,
    assigning: Option<Assigning>,
    docs: Option<crate::documents::Section>,
}

#[derive(Deserialize)]
struct DossierQuery {
    /// The documents list's page cursor.
    after: Option<String>,
}

/// People's names by id, as the caller sees them; someone the caller may not see is "a member
/// of staff".
async fn names(
    me: &SignedIn,
    ids: impl Iterator<Item = Uuid>,
) -> PageResult<HashMap<Uuid, String>> {
    let d = dir(me);
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        let name = shown(people::get(d.db(), d.clock(), &me.caller, id).await)?
            .map(|p| name_of(&p))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| me.tr().t("bo-someone"));
        out.insert(id, name);
    }
    Ok(out)
}

async fn dossier_page(
    me: &SignedIn,
    id: Uuid,
    after: Option<&str>,
    assign: Option<(AssignForm, Problems)>,
    status: StatusCode,
) -> PageResult {
    let tr = me.tr();
    let lang = me.lang();
    let tz = me.services().site.tz();
    let d = dir(me);
    let caller = &me.caller;
    let dossier = dossiers::get(d.db(), d.clock(), caller, id).await?;
    let org_id = dossier.inner().organisation_id;
    let mut organisation = shown(organisations::get(d.db(), d.clock(), caller, org_id).await)?
        .map(|o| facts(&tr, &o, &["id"]))
        .unwrap_or_default();
    reword_facts(lang, &tz, &mut organisation);
    let q = PersonQuery {
        organisation: Some(org_id),
        limit: people::MAX_LIMIT,
        ..PersonQuery::default()
    };
    let contacts = if caller
        .grants
        .domains(Resource::Person, Action::List)
        .is_empty()
    {
        None
    } else {
        shown(people::list(d.db(), d.clock(), caller, Action::List, &q).await)?
            .map(|list| rows(&tr, &list, &CONTACT_COLUMNS, |p: &PersonView| p.id))
    };
    let may_end = caller.grants.allows(
        Resource::Assignment,
        Action::End,
        caller.relation().of(None, None, false),
    );
    let assignments = if caller
        .grants
        .domains(Resource::Assignment, Action::List)
        .is_empty()
    {
        None
    } else {
        shown(assignments::list(d.db(), d.clock(), caller, Some(id)).await)?.map(|list| {
            let mut r = rows(&tr, &list, &ASSIGNMENT_COLUMNS, |a| a.id);
            reword_rows(lang, &tz, &mut r);
            r.into_iter()
                .zip(list.iter())
                .map(|(mut row, a)| {
                    // An assignment's state in its own words ("in force", not an account's
                    // "active").
                    if let Some(Some(cell)) = row.cells.get_mut(3) {
                        *cell = tr.t(&format!("assignment-state-{}", a.inner().state));
                    }
                    AssignmentLine {
                        id: a.inner().id,
                        cells: row.cells,
                        can_end: may_end && a.inner().state != "ended",
                    }
                })
                .collect()
        })
    };
    let history = if may_dossier(caller, Action::History, org_id) {
        match shown(status::status_history(d.db(), d.clock(), caller, id).await)? {
            Some(changes) => {
                let who = names(me, changes.iter().map(|c| c.changed_by)).await?;
                Some(
                    changes
                        .iter()
                        .rev()
                        .map(|c| HistoryLine {
                            change: tr.t2(
                                "bo-history-change",
                                ("from", &status_word(&tr, &c.from_status)),
                                ("to", &status_word(&tr, &c.to_status)),
                            ),
                            by: tr.t2(
                                "bo-history-by",
                                (
                                    "who",
                                    who.get(&c.changed_by).map(String::as_str).unwrap_or(""),
                                ),
                                ("when", &words::moment(lang, &tz, c.changed_at)),
                            ),
                            reason: c.reason.clone(),
                        })
                        .collect(),
                )
            }
            None => None,
        }
    } else {
        None
    };
    let assigning = if caller.grants.allows(
        Resource::Assignment,
        Action::Create,
        caller.relation().of(Some(org_id), None, false),
    ) {
        let inspectors: Vec<(String, String)> = assignments::inspectors(d.db(), d.clock(), caller)
            .await?
            .iter()
            .map(|p| (p.inner().id.to_string(), name_of(p)))
            .collect();
        let (form, problems) = assign.unwrap_or_else(|| {
            let start = today(me);
            let end = start
                .replace_year(start.year() + 1)
                .unwrap_or(start)
                .previous_day()
                .unwrap_or(start);
            (
                AssignForm {
                    inspector_id: String::new(),
                    starts_on: start.to_string(),
                    ends_on: end.to_string(),
                },
                Problems::default(),
            )
        });
        Some(Assigning {
            form,
            problems,
            inspectors,
        })
    } else {
        None
    };
    let title = format!(
        "{} — {}",
        value(&dossier, "scheme"),
        value(&dossier, "organisation_name")
    );
    let docs = crate::documents::section(
        &me.services().documents,
        &me.claims,
        id,
        after,
        &tr,
        &me.csrf(),
    )
    .await
    .map_err(|status| match status {
        StatusCode::NOT_FOUND => PageError::NotFound,
        StatusCode::FORBIDDEN => PageError::Forbidden,
        StatusCode::UNAUTHORIZED => PageError::Unauthorized,
        other => PageError::internal(format!("documents section: {other}")),
    })?;
    let mut dossier_facts = facts(&tr, &dossier, &["id", "organisation_id"]);
    reword_facts(lang, &tz, &mut dossier_facts);
    let page = DossierPage {
        docs,
        c: me.chrome().await,
        site: &me.services().site,
        id,
        title,
        facts: dossier_facts,
        organisation,
        organisation_link: organisation_link(caller, org_id),
        contact_headers: headers_of(&tr, "person", &CONTACT_COLUMNS),
        contacts,
        assignment_headers: headers_of(&tr, "assignment", &ASSIGNMENT_COLUMNS),
        assignments,
        can_edit: may_dossier(caller, Action::Update, org_id),
        can_change_status: may_dossier(caller, Action::Status, org_id)
            && !status::next(&dossier.inner().status).is_empty(),
        history,
        assigning,
    };
    Ok(render(lang, status, &page))
}

async fn dossier(
    me: SignedIn,
    Path(raw): Path<String>,
    Query(page): Query<DossierQuery>,
) -> PageResult {
    let id = parse_id(&raw)?;
    dossier_page(&me, id, page.after.as_deref(), None, StatusCode::OK).await
}

async fn assign(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let d = dir(&me);
    let dossier = dossiers::get(d.db(), d.clock(), &caller, id).await?;
    let rel = caller
        .relation()
        .of(Some(dossier.inner().organisation_id), None, false);
    if !caller
        .grants
        .allows(Resource::Assignment, Action::Create, rel)
    {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    let tz = me.services().site.tz();
    let mut problems = Problems::default();
    let inspector = form.inspector_id.trim().parse::<Uuid>().ok();
    if inspector.is_none() {
        problems.add("inspector_id", tr.t("bo-error-inspector"));
    }
    let starts = match day(&form.starts_on) {
        Ok(Some(d)) => start_of(d, &tz),
        _ => None,
    };
    if starts.is_none() {
        problems.add("starts_on", tr.t("bo-error-date"));
    }
    // "Until" a day: to the end of that day.
    let ends = match day(&form.ends_on) {
        Ok(Some(d)) => d.next_day().and_then(|d| start_of(d, &tz)),
        _ => None,
    };
    if ends.is_none() {
        problems.add("ends_on", tr.t("bo-error-date"));
    }
    let (Some(inspector), Some(starts_at), Some(ends_at), true) =
        (inspector, starts, ends, problems.is_empty())
    else {
        return dossier_page(
            &me,
            id,
            None,
            Some((form, problems)),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewAssignment {
        dossier_id: id,
        inspector_id: inspector,
        starts_at,
        ends_at,
    };
    match assignments::create(d.db(), d.clock(), &caller, &new).await {
        Ok(_) => Ok(flash::done(
            &format!("/dossiers/{id}"),
            "bo-assignment-made",
        )),
        Err(e) => match shown_refusal(&e) {
            None | Some(StatusCode::FORBIDDEN) => Err(e.into()),
            Some(status) => {
                let mut problems = Problems::from_refusal(&tr, &e);
                // The period's end is the "until" field.
                if let Some(m) = problems.of("ends_at").map(str::to_owned) {
                    problems = Problems::default();
                    problems.add("ends_on", m);
                }
                dossier_page(&me, id, None, Some((form, problems)), status).await
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Editing a dossier

#[derive(Debug, Default, Deserialize, Clone)]
struct EditForm {
    #[serde(default)]
    scheme: String,
    #[serde(default)]
    certificate_number: String,
    #[serde(default)]
    valid_from: String,
    #[serde(default)]
    valid_until: String,
}

#[derive(Template)]
#[template(path = "dossier_edit.html")]
struct EditPage<'a> {
    c: Chrome,
    site: &'a Site,
    id: Uuid,
    title: String,
    form: EditForm,
    problems: Problems,
}

/// The dossier an edit or a status change is about, if the caller may do it (404 when they do
/// not see it, 403 when they see it but may not).
async fn changeable(
    me: &SignedIn,
    caller: &Caller,
    id: Uuid,
    action: Action,
) -> PageResult<Masked<extranet_access::DossierView>> {
    let d = dir(me);
    let dossier = dossiers::get(d.db(), d.clock(), caller, id).await?;
    if !may_dossier(caller, action, dossier.inner().organisation_id) {
        return Err(PageError::Forbidden);
    }
    Ok(dossier)
}

fn title_of(d: &Masked<extranet_access::DossierView>) -> String {
    format!("{} — {}", value(d, "scheme"), value(d, "organisation_name"))
}

async fn edit_form(
    me: &SignedIn,
    id: Uuid,
    form: Option<EditForm>,
    problems: Problems,
    status: StatusCode,
) -> PageResult {
    let dossier = changeable(me, &me.caller, id, Action::Update).await?;
    let form = form.unwrap_or_else(|| EditForm {
        scheme: value(&dossier, "scheme"),
        certificate_number: value(&dossier, "certificate_number"),
        valid_from: value(&dossier, "valid_from"),
        valid_until: value(&dossier, "valid_until"),
    });
    let page = EditPage {
        c: me.chrome().await,
        site: &me.services().site,
        id,
        title: title_of(&dossier),
        form,
        problems,
    };
    Ok(render(me.lang(), status, &page))
}

async fn edit_page(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    edit_form(&me, id, None, Problems::default(), StatusCode::OK).await
}

async fn edit(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    changeable(&me, &caller, id, Action::Update).await?;
    let tr = me.tr();
    let mut problems = Problems::default();
    if form.scheme.trim().is_empty() {
        problems.add("scheme", tr.t("bo-error-scheme"));
    }
    let from = day(&form.valid_from).unwrap_or_else(|()| {
        problems.add("valid_from", tr.t("bo-error-date"));
        None
    });
    let until = day(&form.valid_until).unwrap_or_else(|()| {
        problems.add("valid_until", tr.t("bo-error-date"));
        None
    });
    if !problems.is_empty() {
        return edit_form(
            &me,
            id,
            Some(form),
            problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let changes = DossierChanges {
        scheme: Some(form.scheme.clone()),
        certificate_number: Some(Some(form.certificate_number.clone())),
        valid_from: Some(from),
        valid_until: Some(until),
    };
    let d = dir(&me);
    match dossiers::update(d.db(), d.clock(), &caller, id, &changes).await {
        Ok(_) => Ok(flash::done(&format!("/dossiers/{id}"), "bo-dossier-saved")),
        Err(e) => match shown_refusal(&e) {
            None | Some(StatusCode::FORBIDDEN) => Err(e.into()),
            Some(status) => {
                let problems = Problems::from_refusal(&tr, &e);
                edit_form(&me, id, Some(form), problems, status).await
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// The certificate's status

#[derive(Debug, Default, Deserialize, Clone)]
struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    /// Set by the confirmation page of a suspension or withdrawal.
    #[serde(default)]
    confirmed: Option<String>,
}

#[derive(Template)]
#[template(path = "dossier_status.html")]
struct StatusPage<'a> {
    c: Chrome,
    site: &'a Site,
    id: Uuid,
    title: String,
    current: String,
    /// The statuses it may go to: (code, words).
    choices: Vec<(&'static str, String)>,
    form: StatusForm,
    problems: Problems,
}

async fn status_form(
    me: &SignedIn,
    id: Uuid,
    form: Option<StatusForm>,
    problems: Problems,
    code: StatusCode,
) -> PageResult {
    let dossier = changeable(me, &me.caller, id, Action::Status).await?;
    let tr = me.tr();
    let choices = status::next(&dossier.inner().status)
        .iter()
        .map(|s| (*s, status_word(&tr, s)))
        .collect::<Vec<_>>();
    let form = form.unwrap_or_else(|| StatusForm {
        status: choices.first().map(|c| c.0.to_owned()).unwrap_or_default(),
        ..StatusForm::default()
    });
    let page = StatusPage {
        c: me.chrome().await,
        site: &me.services().site,
        id,
        title: title_of(&dossier),
        current: status_word(&tr, &dossier.inner().status),
        choices,
        form,
        problems,
    };
    Ok(render(me.lang(), code, &page))
}

async fn status_page(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    status_form(&me, id, None, Problems::default(), StatusCode::OK).await
}

async fn set_status(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let dossier = changeable(&me, &caller, id, Action::Status).await?;
    let tr = me.tr();
    let mut problems = Problems::default();
    let allowed = status::next(&dossier.inner().status);
    let Some(to) = allowed.iter().find(|s| **s == form.status).copied() else {
        problems.add("status", tr.t("bo-error-status"));
        return status_form(
            &me,
            id,
            Some(form),
            problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let reason = form.reason.trim();
    if reason.is_empty() || reason.chars().count() > status::MAX_REASON {
        problems.add("reason", tr.t("bo-error-reason"));
        return status_form(
            &me,
            id,
            Some(form),
            problems,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // Suspending or withdrawing a certificate is asked first.
    if matches!(to, "suspended" | "withdrawn") && form.confirmed.as_deref() != Some("1") {
        let title = title_of(&dossier);
        let (heading, button) = if to == "suspended" {
            ("bo-confirm-suspend-heading", "bo-confirm-suspend-button")
        } else {
            ("bo-confirm-withdraw-heading", "bo-confirm-withdraw-button")
        };
        return Ok(confirm::page(
            &me,
            Confirm {
                title: tr.t1(heading, "dossier", &title),
                message: tr.t1("bo-confirm-status-message", "reason", reason),
                button: tr.t(button),
                hidden: vec![
                    ("status".into(), to.to_owned()),
                    ("reason".into(), form.reason.clone()),
                    ("confirmed".into(), "1".to_owned()),
                ],
                cancel: format!("/dossiers/{id}"),
                danger: true,
            },
        )
        .await);
    }
    let d = dir(&me);
    match status::set_status(d.db(), d.clock(), &caller, id, to, reason).await {
        Ok(_) => Ok(flash::done(
            &format!("/dossiers/{id}"),
            &format!("bo-status-{to}"),
        )),
        Err(e) => match shown_refusal(&e) {
            None | Some(StatusCode::FORBIDDEN) => Err(e.into()),
            Some(code) => {
                let problems = Problems::from_refusal(&tr, &e);
                status_form(&me, id, Some(form), problems, code).await
            }
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Assignments

/// One assignment on the staff's overview, in words.
struct OverviewLine {
    dossier_id: Uuid,
    inspector: String,
    organisation: String,
    dossier: String,
    from: String,
    until: String,
}

#[derive(Template)]
#[template(path = "staff_assignments.html")]
struct AssignmentsPage<'a> {
    c: Chrome,
    site: &'a Site,
    sections: Vec<OverviewSection>,
}

/// Ending soon, in force, planned.
struct OverviewSection {
    id: &'static str,
    heading: String,
    lines: Vec<OverviewLine>,
}

/// Days ahead that count as "ending soon".
const ENDING_DAYS: u32 = 30;

/// The overview exists for whoever may assign inspectors in every organisation (as the
/// navigation says).
fn assignment_pages(caller: &Caller) -> PageResult<()> {
    if caller
        .grants
        .allows(Resource::Assignment, Action::Create, all())
    {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

fn moment_words(me: &SignedIn, tz: &TimeZone, raw: &str) -> String {
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map(|at| words::moment(me.lang(), tz, at))
        .unwrap_or_else(|_| "—".to_owned())
}

async fn assignment_list(me: SignedIn) -> PageResult {
    assignment_pages(&me.caller)?;
    let d = dir(&me);
    let caller = &me.caller;
    let tz = me.services().site.tz();
    let files: HashMap<Uuid, Masked<extranet_access::DossierView>> =
        dossiers::list(d.db(), d.clock(), caller, None)
            .await?
            .into_iter()
            .map(|f| (f.inner().id, f))
            .collect();
    let line = |a: &Masked<extranet_access::AssignmentView>| {
        let v = a.inner();
        let file = files.get(&v.dossier_id);
        OverviewLine {
            dossier_id: v.dossier_id,
            inspector: value(a, "inspector_name"),
            organisation: file
                .map(|f| value(f, "organisation_name"))
                .unwrap_or_default(),
            dossier: file
                .map(|f| {
                    let number = value(f, "certificate_number");
                    let scheme = value(f, "scheme");
                    if number.is_empty() {
                        scheme
                    } else {
                        format!("{scheme} ({number})")
                    }
                })
                .unwrap_or_default(),
            from: moment_words(&me, &tz, &v.starts_at),
            until: moment_words(&me, &tz, &v.ends_at),
        }
    };
    let list = assignments::list(d.db(), d.clock(), caller, None).await?;
    let current = list
        .iter()
        .filter(|a| a.inner().state == "active")
        .map(line)
        .collect();
    let mut planned: Vec<&Masked<extranet_access::AssignmentView>> = list
        .iter()
        .filter(|a| a.inner().state == "planned")
        .collect();
    planned.sort_by(|a, b| a.inner().starts_at.cmp(&b.inner().starts_at));
    let planned = planned.into_iter().map(line).collect();
    let ending = assignments::ending_soon(d.db(), d.clock(), caller, ENDING_DAYS)
        .await?
        .iter()
        .map(line)
        .collect();
    let tr = me.tr();
    let sections = vec![
        OverviewSection {
            id: "ending",
            heading: tr.n("bo-assignments-ending", "days", u64::from(ENDING_DAYS)),
            lines: ending,
        },
        OverviewSection {
            id: "current",
            heading: tr.t("bo-assignments-current"),
            lines: current,
        },
        OverviewSection {
            id: "planned",
            heading: tr.t("bo-assignments-planned"),
            lines: planned,
        },
    ];
    let page = AssignmentsPage {
        c: me.chrome().await,
        site: &me.services().site,
        sections,
    };
    Ok(render(me.lang(), StatusCode::OK, &page))
}

/// The assignment an end is about, if the caller may end it.
async fn endable(
    me: &SignedIn,
    caller: &Caller,
    raw: &str,
) -> PageResult<Masked<extranet_access::AssignmentView>> {
    let id = parse_id(raw)?;
    let d = dir(me);
    let a = assignments::get(d.db(), d.clock(), caller, id).await?;
    if !caller.grants.allows(
        Resource::Assignment,
        Action::End,
        caller.relation().of(None, None, false),
    ) {
        return Err(PageError::Forbidden);
    }
    Ok(a)
}

async fn end_confirm(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let a = endable(&me, &me.caller, &raw).await?;
    let v = a.inner();
    let back = format!("/dossiers/{}", v.dossier_id);
    if v.state == "ended" {
        return Ok(flash::done(&back, "bo-assignment-ended"));
    }
    let tr = me.tr();
    let tz = me.services().site.tz();
    Ok(confirm::page(
        &me,
        Confirm {
            title: tr.t1(
                "bo-confirm-end-heading",
                "name",
                &value(&a, "inspector_name"),
            ),
            message: tr.t1(
                "bo-confirm-end-message",
                "until",
                &moment_words(&me, &tz, &v.ends_at),
            ),
            button: tr.t("bo-assignment-end"),
            hidden: Vec::new(),
            cancel: back,
            danger: true,
        },
    )
    .await)
}

#[derive(Debug, Default, Deserialize)]
struct Empty {}

async fn end(me: SignedIn, Path(raw): Path<String>, CsrfForm(_): CsrfForm<Empty>) -> PageResult {
    let caller = me.current().await?;
    let a = endable(&me, &caller, &raw).await?;
    let d = dir(&me);
    let ended = assignments::end(d.db(), d.clock(), &caller, a.inner().id).await?;
    Ok(flash::done(
        &format!("/dossiers/{}", ended.inner().dossier_id),
        "bo-assignment-ended",
    ))
}

// ---------------------------------------------------------------------------------------------
// Pending invitations

/// One pending invitation, in words.
pub(crate) struct InvitationLine {
    pub(crate) id: Uuid,
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) sent: String,
    pub(crate) expires: String,
}

/// The pending invitations of an organisation, with what the caller may do to them.
pub(crate) struct Invitations {
    pub(crate) lines: Vec<InvitationLine>,
    pub(crate) can_resend: bool,
    pub(crate) can_withdraw: bool,
}

/// The pending invitations of `org` the caller may see (`None`: the policy shows them none).
pub(crate) async fn pending_invitations(
    me: &SignedIn,
    org: Uuid,
) -> PageResult<Option<Invitations>> {
    let caller = &me.caller;
    let rel = caller.relation().of(Some(org), None, false);
    if !caller
        .grants
        .allows(Resource::Invitation, Action::List, rel)
    {
        return Ok(None);
    }
    let d = dir(me);
    let Some(list) = shown(invitations::list(d.db(), d.clock(), caller, Some(org)).await)? else {
        return Ok(None);
    };
    let lang = me.lang();
    let tr = me.tr();
    let tz = me.services().site.tz();
    let lines = list
        .iter()
        .map(|i| InvitationLine {
            id: i.id,
            name: name_of(&i.person),
            email: value(&i.person, "email"),
            sent: words::moment(lang, &tz, i.last_sent_at.unwrap_or(i.invited_at)),
            expires: i
                .expires_at
                .map(|at| words::moment(lang, &tz, at))
                .unwrap_or_else(|| tr.t("bo-invitation-expired")),
        })
        .collect();
    Ok(Some(Invitations {
        lines,
        can_resend: caller
            .grants
            .allows(Resource::Invitation, Action::Resend, rel),
        can_withdraw: caller
            .grants
            .allows(Resource::Invitation, Action::Withdraw, rel),
    }))
}

/// The invited person (404 when not the caller's to see) and the page their invitations are
/// listed on for this caller.
async fn invited(
    me: &SignedIn,
    caller: &Caller,
    raw: &str,
) -> PageResult<(Masked<PersonView>, String)> {
    let id = parse_id(raw)?;
    let d = dir(me);
    let p = people::get(d.db(), d.clock(), caller, id).await?;
    if p.inner().state != "invited" {
        return Err(PageError::NotFound);
    }
    let back = organisation_link(caller, p.inner().organisation_id)
        .unwrap_or_else(|| "/company".to_owned());
    Ok((p, back))
}

async fn resend(me: SignedIn, Path(raw): Path<String>, CsrfForm(_): CsrfForm<Empty>) -> PageResult {
    let caller = me.current().await?;
    let (p, back) = invited(&me, &caller, &raw).await?;
    let d = dir(&me);
    match invitations::resend(d.db(), d.clock(), &d.recovery, &caller, p.inner().id).await {
        Ok(_) => Ok(flash::done(&back, "bo-invitation-resent")),
        Err(DirectoryError::Throttled(_)) => Ok(flash::failed(&back, "bo-invitation-throttled")),
        Err(e) => Err(e.into()),
    }
}

async fn withdraw_confirm(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let (p, back) = invited(&me, &me.caller, &raw).await?;
    let rel = me
        .caller
        .relation()
        .of(Some(p.inner().organisation_id), Some(p.inner().id), false);
    if !me
        .caller
        .grants
        .allows(Resource::Invitation, Action::Withdraw, rel)
    {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    Ok(confirm::page(
        &me,
        Confirm {
            title: tr.t1("bo-confirm-invitation-heading", "name", &name_of(&p)),
            message: tr.t("bo-confirm-invitation-message"),
            button: tr.t("bo-invitation-withdraw"),
            hidden: Vec::new(),
            cancel: back,
            danger: true,
        },
    )
    .await)
}

async fn withdraw(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let caller = me.current().await?;
    let (p, back) = invited(&me, &caller, &raw).await?;
    let d = dir(&me);
    invitations::withdraw(d.db(), d.clock(), &caller, p.inner().id).await?;
    Ok(flash::done(&back, "bo-invitation-withdrawn"))
}
