//! Pages over the directory: "my company" and "my contacts" for a company's people, a person's
//! page (with the primary contact's and staff's forms), and the certification files — for an
//! inspector, those assigned to them. What a page shows and offers follows from the policy
//! through `extranet_directory`: records arrive masked, forms appear only where the caller's
//! role allows the action, and every change is decided again by the directory.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use extranet_access::{Action, Masked, OrganisationView, PersonView, Resource, vocab};
use extranet_directory::delegation::{ContactChange, NewContact};
use extranet_directory::people::PersonQuery;
use extranet_directory::{
    Caller, Directory, DirectoryError, assignments, delegation, dossiers, organisations, people,
};
use extranet_identity::tokens::Claims;
use serde::Deserialize;
use uuid::Uuid;

use crate::facts::{Fact, cell, facts};
use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::session::{Csrf, CurrentUser, form_allowed};
use crate::site::Site;
use crate::ui::{Chrome, render};

#[derive(Clone)]
pub(crate) struct DirectoryState {
    pub site: Arc<Site>,
    pub directory: Arc<Directory>,
    pub documents: Arc<extranet_documents::Documents>,
}

pub(crate) fn routes(state: DirectoryState) -> Router {
    Router::new()
        .route("/company", get(company))
        .route("/company/contacts", post(invite))
        .route("/people/{id}", get(person).post(update))
        .route("/people/{id}/rights", post(rights))
        .route("/people/{id}/state", post(set_state))
        .route("/people/{id}/primary", post(primary))
        .route("/dossiers", get(dossier_list))
        .route("/dossiers/{id}", get(dossier))
        .with_state(state)
}

/// A row of a table: the record's id (for the link) and its cells (`None`: hidden).
pub(crate) struct Row {
    pub id: String,
    pub cells: Vec<Option<String>>,
}

pub(crate) fn rows<T: extranet_access::Outward>(
    tr: &Tr,
    items: &[Masked<T>],
    columns: &[&str],
    id: impl Fn(&T) -> Uuid,
) -> Vec<Row> {
    items
        .iter()
        .map(|m| Row {
            id: id(m.inner()).to_string(),
            cells: columns.iter().map(|c| cell(tr, m, c)).collect(),
        })
        .collect()
}

pub(crate) fn headers_of(tr: &Tr, ty: &str, columns: &[&str]) -> Vec<String> {
    columns
        .iter()
        .map(|c| tr.t(&format!("field-{ty}-{c}")))
        .collect()
}

fn lang_of(headers: &HeaderMap, site: &Site) -> Lang {
    negotiate(headers, site.default_language)
}

fn reader(dir: &Directory, claims: &Claims) -> Caller {
    dir.caller(claims.sub, claims.org, &claims.roles, None)
}

/// Why the last submission of a form was refused: a message in the person's language, next to
/// its field when it concerns one.
#[derive(Default)]
pub(crate) struct Refusal(Option<(Option<&'static str>, String)>);

impl Refusal {
    fn of(tr: &Tr, e: &DirectoryError) -> Refusal {
        Refusal(Some(message(tr, e)))
    }

    /// The message for one field, when the submission was refused for it.
    pub(crate) fn for_field(&self, field: &str) -> Option<&str> {
        match &self.0 {
            Some((Some(f), msg)) if *f == field => Some(msg.as_str()),
            _ => None,
        }
    }

    /// A message not tied to one field.
    pub(crate) fn general(&self) -> Option<&str> {
        match &self.0 {
            Some((None, msg)) => Some(msg.as_str()),
            _ => None,
        }
    }
}

/// A message for the person, in their language, from what the directory refused.
fn message(tr: &Tr, e: &DirectoryError) -> (Option<&'static str>, String) {
    match e {
        DirectoryError::Invalid { field, .. } => {
            let key = match *field {
                "email" => "email-format",
                "first_name" | "surname" => "invalid-name",
                "phone" | "mobile" | "fax" => "invalid-phone",
                "function" => "invalid-function",
                "language" => "invalid-language",
                "rights" => "invalid-rights",
                "id" => "invalid-self",
                _ => "invalid-state",
            };
            (Some(field), tr.t(key))
        }
        DirectoryError::Taken("certificate_number") => {
            (Some("certificate_number"), tr.t("certificate-number-taken"))
        }
        DirectoryError::Taken("enterprise_number") => {
            (Some("enterprise_number"), tr.t("enterprise-number-taken"))
        }
        DirectoryError::Taken(_) => (Some("email"), tr.t("email-taken")),
        DirectoryError::LastAdmin => (None, tr.t("last-admin")),
        DirectoryError::Throttled(wait) => (
            Some("email"),
            tr.t1(
                "mail-throttled",
                "minutes",
                &wait.as_secs().div_ceil(60).to_string(),
            ),
        ),
        _ => (None, tr.t("not-allowed")),
    }
}

/// A read a page shows if it may: `Ok(None)` when the record is not the caller's to see (the
/// page goes on without it), `Err` with a 500 (logged) when the read failed — a failure is
/// never shown as an empty list.
fn shown<T>(res: std::result::Result<T, DirectoryError>) -> Result<Option<T>, StatusCode> {
    match res {
        Ok(v) => Ok(Some(v)),
        Err(DirectoryError::Internal(detail)) => {
            tracing::error!(error = %detail, "page read failed");
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
        Err(_) => Ok(None),
    }
}

/// The status of a page that shows a refusal next to the form.
fn refused_status(e: &DirectoryError) -> StatusCode {
    match e {
        DirectoryError::Forbidden(_) => StatusCode::FORBIDDEN,
        DirectoryError::Taken(_) | DirectoryError::LastAdmin | DirectoryError::Conflict(_) => {
            StatusCode::CONFLICT
        }
        DirectoryError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The status a refusal answers with on a page: 404 for what is not the caller's to see.
fn refusal(e: &DirectoryError) -> Option<StatusCode> {
    match e {
        DirectoryError::NotFound => Some(StatusCode::NOT_FOUND),
        DirectoryError::Unauthenticated => Some(StatusCode::UNAUTHORIZED),
        DirectoryError::Internal(detail) => {
            tracing::error!(error = %detail, "directory error");
            Some(StatusCode::INTERNAL_SERVER_ERROR)
        }
        _ => None,
    }
}

pub(crate) const CONTACT_COLUMNS: [&str; 5] =
    ["surname", "first_name", "email", "function", "state"];
const DOSSIER_COLUMNS: [&str; 5] = [
    "organisation_name",
    "scheme",
    "certificate_number",
    "status",
    "valid_until",
];
const ASSIGNMENT_COLUMNS: [&str; 4] = ["inspector_name", "starts_at", "ends_at", "state"];

#[derive(Template)]
#[template(path = "company.html")]
struct CompanyPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    name: String,
    facts: Vec<Fact>,
    dossier_headers: Vec<String>,
    dossiers: Vec<Row>,
    contact_headers: Vec<String>,
    contacts: Option<Vec<Row>>,
    /// The rights the caller may give: (code, form field, label).
    rights_offered: Vec<(&'static str, String, String)>,
    can_invite: bool,
    /// A link to who opened the company's documents.
    can_see_access_log: bool,
    form: InviteForm,
    error: Refusal,
    notice: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct InviteForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    surname: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    right_document_read: Option<String>,
    #[serde(default)]
    right_document_upload: Option<String>,
    #[serde(default)]
    right_subprocessor_object: Option<String>,
    #[serde(default)]
    csrf: String,
}

impl InviteForm {
    fn rights(&self) -> Vec<String> {
        [
            ("document.read", &self.right_document_read),
            ("document.upload", &self.right_document_upload),
            ("subprocessor.object", &self.right_subprocessor_object),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_some())
        .map(|(r, _)| r.to_owned())
        .collect()
    }
}

/// The rights a caller may give in an organisation, as (code, form field name, label).
fn rights_offered(
    tr: &Tr,
    caller: &Caller,
    organisation: Uuid,
) -> Vec<(&'static str, String, String)> {
    let rel = caller.relation().of(Some(organisation), None, false);
    vocab::RIGHTS
        .iter()
        .filter(|r| {
            r.split_once('.')
                .and_then(|(res, act)| Some((Resource::parse(res)?, Action::parse(act)?)))
                .is_some_and(|(res, act)| caller.grants.allows(res, act, rel))
        })
        .map(|r| {
            (
                *r,
                format!("right_{}", r.replace('.', "_")),
                tr.t(&format!("right-{}", r.replace('.', "-"))),
            )
        })
        .collect()
}

impl CompanyPage<'_> {
    fn checked(&self, code: &str) -> bool {
        self.form.rights().iter().any(|r| r == code)
    }

    /// The invitation form's text fields: (name, label key, value).
    fn fields(&self) -> Vec<(&'static str, &'static str, String)> {
        vec![
            (
                "first_name",
                "person-first-name",
                self.form.first_name.clone(),
            ),
            ("surname", "person-surname", self.form.surname.clone()),
            ("email", "account-email", self.form.email.clone()),
        ]
    }
}

#[allow(clippy::too_many_arguments)] // one page, its form and the outcome of the last submission
async fn company_page(
    st: &DirectoryState,
    claims: &Claims,
    lang: Lang,
    csrf: String,
    form: InviteForm,
    error: Refusal,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let dir = &st.directory;
    let tr = Tr(lang);
    let caller = reader(dir, claims);
    let org = match organisations::get(dir.db(), dir.clock(), &caller, claims.org).await {
        Ok(o) => o,
        Err(e) => return refusal(&e).unwrap_or(StatusCode::NOT_FOUND).into_response(),
    };
    let own = caller.relation().of(Some(claims.org), None, false);
    let dossier_items =
        match shown(dossiers::list(dir.db(), dir.clock(), &caller, Some(claims.org)).await) {
            Ok(items) => items.unwrap_or_default(),
            Err(status) => return status.into_response(),
        };
    let contacts = if caller.grants.allows(Resource::Person, Action::List, own) {
        let q = PersonQuery {
            organisation: Some(claims.org),
            limit: 1000,
            ..PersonQuery::default()
        };
        match people::list(dir.db(), dir.clock(), &caller, Action::List, &q).await {
            Ok(list) => Some(rows(&tr, &list, &CONTACT_COLUMNS, |p: &PersonView| p.id)),
            Err(e) => {
                return refusal(&e)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                    .into_response();
            }
        }
    } else {
        None
    };
    let can_invite = caller.grants.allows(Resource::Person, Action::Invite, own)
        && org.inner().kind != "certification_body";
    let page = CompanyPage {
        c: Chrome::new(lang, "/company"),
        site: &st.site,
        csrf,
        name: org.inner().name.clone(),
        facts: facts(&tr, &org, &["id", "name"]),
        dossier_headers: headers_of(&tr, "dossier", &DOSSIER_COLUMNS),
        dossiers: rows(&tr, &dossier_items, &DOSSIER_COLUMNS, |d| d.id),
        contact_headers: headers_of(&tr, "person", &CONTACT_COLUMNS),
        contacts,
        rights_offered: rights_offered(&tr, &caller, claims.org),
        can_invite,
        can_see_access_log: caller
            .grants
            .allows(Resource::Document, Action::AccessLog, own),
        form,
        error,
        notice,
    };
    render(lang, status, &page)
}

#[derive(Deserialize)]
struct Notice {
    invited: Option<String>,
    done: Option<String>,
}

async fn company(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    Query(n): Query<Notice>,
) -> Response {
    let Some(claims) = user.0.as_deref() else {
        return Redirect::to("/login").into_response();
    };
    let lang = lang_of(&headers, &st.site);
    let notice = n
        .invited
        .map(|e| Tr(lang).t1("contact-invited", "email", &e));
    let form = InviteForm {
        language: lang.code().to_owned(),
        ..InviteForm::default()
    };
    company_page(
        &st,
        claims,
        lang,
        csrf.0,
        form,
        Refusal::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn invite(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<InviteForm>,
) -> Response {
    let Some(claims) = user.0.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let lang = lang_of(&headers, &st.site);
    let dir = &st.directory;
    let caller = match dir.current(claims.sub, None).await {
        Ok(c) => c,
        Err(e) => return refusal(&e).unwrap_or(StatusCode::FORBIDDEN).into_response(),
    };
    let new = NewContact {
        organisation_id: claims.org,
        first_name: form.first_name.clone(),
        surname: form.surname.clone(),
        email: form.email.clone(),
        language: form.language.clone(),
        rights: form.rights(),
    };
    match delegation::invite(dir.db(), dir.clock(), &dir.recovery, &caller, &new).await {
        Ok(_) => {
            let email = url::form_urlencoded::byte_serialize(form.email.trim().as_bytes())
                .collect::<String>();
            Redirect::to(&format!("/company?invited={email}")).into_response()
        }
        Err(e) => match refusal(&e) {
            Some(status) => status.into_response(),
            None => {
                let status = refused_status(&e);
                let error = Refusal::of(&Tr(lang), &e);
                company_page(&st, claims, lang, csrf.0, form, error, None, status).await
            }
        },
    }
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    id: Uuid,
    name: String,
    facts: Vec<Fact>,
    organisation: Option<(Uuid, String)>,
    edit: Option<EditForm>,
    rights_offered: Vec<(&'static str, String, String)>,
    rights_held: Vec<String>,
    /// `Some(true)`: a deactivate button; `Some(false)`: reactivate.
    state_button: Option<bool>,
    can_make_primary: bool,
    /// An administrator may reset this person's second factor.
    can_reset_second_factor: bool,
    error: Refusal,
    notice: Option<String>,
}

impl PersonPage<'_> {
    fn holds(&self, code: &str) -> bool {
        self.rights_held.iter().any(|r| r == code)
    }

    /// The edit form's text fields: (name, label key, value).
    fn fields(&self, form: &EditForm) -> Vec<(&'static str, &'static str, String)> {
        vec![
            ("first_name", "person-first-name", form.first_name.clone()),
            ("surname", "person-surname", form.surname.clone()),
            ("phone", "contact-phone", form.phone.clone()),
            ("mobile", "profile-mobile", form.mobile.clone()),
            ("fax", "profile-fax", form.fax.clone()),
            ("function", "profile-function", form.function.clone()),
        ]
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
struct EditForm {
    #[serde(default)]
    surname: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    fax: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    csrf: String,
}

fn value(m: &Masked<PersonView>, field: &str) -> String {
    match m.cell(field) {
        extranet_access::Cell::Value(v) => v,
        _ => String::new(),
    }
}

#[allow(clippy::too_many_arguments)] // one page, its forms and their outcome
async fn person_page(
    st: &DirectoryState,
    claims: &Claims,
    id: Uuid,
    lang: Lang,
    csrf: String,
    edit: Option<EditForm>,
    error: Refusal,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let dir = &st.directory;
    let tr = Tr(lang);
    let caller = reader(dir, claims);
    let p = match people::get(dir.db(), dir.clock(), &caller, id).await {
        Ok(p) => p,
        Err(e) => return refusal(&e).unwrap_or(StatusCode::NOT_FOUND).into_response(),
    };
    let org_id = p.inner().organisation_id;
    let organisation = match shown(organisations::get(dir.db(), dir.clock(), &caller, org_id).await)
    {
        Ok(o) => o
            .filter(|o: &Masked<OrganisationView>| o.is_visible("name"))
            .map(|o| (org_id, o.inner().name.clone())),
        Err(status) => return status.into_response(),
    };
    let rel = caller.relation().of(Some(org_id), Some(id), false);
    let myself = id == claims.sub;
    let client_contact = p.inner().roles.iter().any(|r| r.starts_with("client_"));
    let allows = |a: Action| caller.grants.allows(Resource::Person, a, rel);
    // The edit form only for a caller who sees every field it holds.
    let editable = allows(Action::Update)
        && [
            "surname",
            "first_name",
            "phone",
            "mobile",
            "fax",
            "function",
            "language",
        ]
        .iter()
        .all(|f| p.is_visible(f));
    let edit = editable.then(|| {
        edit.unwrap_or_else(|| EditForm {
            surname: value(&p, "surname"),
            first_name: value(&p, "first_name"),
            phone: value(&p, "phone"),
            mobile: value(&p, "mobile"),
            fax: value(&p, "fax"),
            function: value(&p, "function"),
            language: value(&p, "language"),
            csrf: String::new(),
        })
    });
    let rights_offered =
        if allows(Action::Grant) && !myself && client_contact && p.is_visible("rights") {
            rights_offered(&tr, &caller, org_id)
        } else {
            Vec::new()
        };
    let state = p.inner().state.as_str();
    let state_button = (allows(Action::Deactivate) && !myself).then_some(state != "deactivated");
    let can_make_primary = allows(Action::Handover)
        && state == "active"
        && client_contact
        && !p.inner().roles.iter().any(|r| r == "client_admin");
    let page = PersonPage {
        c: Chrome::new(lang, &format!("/people/{id}")),
        site: &st.site,
        csrf,
        id,
        name: format!("{} {}", value(&p, "first_name"), value(&p, "surname"))
            .trim()
            .to_owned(),
        facts: facts(&tr, &p, &["id", "organisation_id"]),
        organisation,
        edit,
        rights_offered,
        rights_held: p.inner().rights.clone(),
        state_button,
        can_make_primary,
        can_reset_second_factor: allows(Action::ResetSecondFactor),
        error,
        notice,
    };
    render(lang, status, &page)
}

fn parse_id(raw: &str) -> Option<Uuid> {
    raw.parse().ok()
}

async fn person(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    let Some(claims) = user.0.as_deref() else {
        return Redirect::to("/login").into_response();
    };
    let Some(id) = parse_id(&raw) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lang = lang_of(&headers, &st.site);
    let notice = n.done.map(|d| match d.as_str() {
        "second-factor" => Tr(lang).t("second-factor-reset-done"),
        _ => Tr(lang).t("contact-saved"),
    });
    person_page(
        &st,
        claims,
        id,
        lang,
        csrf.0,
        None,
        Refusal::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// What every form on a person's page checks first: signed in, an id, a CSRF-safe submission,
/// and the caller as the database says now.
pub(crate) async fn form_caller(
    dir: &Directory,
    user: &CurrentUser,
    raw: &str,
    headers: &HeaderMap,
    uri: &Uri,
    csrf: &Csrf,
    submitted: &str,
) -> Result<(Claims, Uuid, Caller), StatusCode> {
    let claims = user.0.as_deref().cloned().ok_or(StatusCode::NOT_FOUND)?;
    let id = parse_id(raw).ok_or(StatusCode::NOT_FOUND)?;
    if !form_allowed(headers, uri, csrf, submitted) {
        return Err(StatusCode::FORBIDDEN);
    }
    let caller = dir
        .current(claims.sub, None)
        .await
        .map_err(|e| refusal(&e).unwrap_or(StatusCode::FORBIDDEN))?;
    Ok((claims, id, caller))
}

/// After a change: back to the page, or the page again with the message next to its field.
#[allow(clippy::too_many_arguments)]
async fn outcome<T>(
    st: &DirectoryState,
    claims: &Claims,
    id: Uuid,
    headers: &HeaderMap,
    csrf: String,
    edit: Option<EditForm>,
    res: Result<T, DirectoryError>,
) -> Response {
    match res {
        Ok(_) => Redirect::to(&format!("/people/{id}?done=1")).into_response(),
        Err(e) => match refusal(&e) {
            Some(status) => status.into_response(),
            None => {
                let lang = lang_of(headers, &st.site);
                let status = refused_status(&e);
                let error = Refusal::of(&Tr(lang), &e);
                person_page(st, claims, id, lang, csrf, edit, error, None, status).await
            }
        },
    }
}

fn text(s: &str) -> Option<String> {
    Some(s.trim().to_owned())
}

async fn update(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
    Form(form): Form<EditForm>,
) -> Response {
    let (claims, id, caller) = match form_caller(
        &st.directory,
        &user,
        &raw,
        &headers,
        &uri,
        &csrf,
        &form.csrf,
    )
    .await
    {
        Ok(x) => x,
        Err(s) => return s.into_response(),
    };
    let change = ContactChange {
        surname: text(&form.surname),
        first_name: text(&form.first_name),
        phone: text(&form.phone),
        mobile: text(&form.mobile),
        fax: text(&form.fax),
        function: text(&form.function),
        language: text(&form.language),
    };
    let dir = &st.directory;
    let res = delegation::update(dir.db(), dir.clock(), &caller, id, &change).await;
    outcome(&st, &claims, id, &headers, csrf.0, Some(form), res).await
}

#[derive(Debug, Default, Deserialize)]
struct RightsForm {
    #[serde(default)]
    right_document_read: Option<String>,
    #[serde(default)]
    right_document_upload: Option<String>,
    #[serde(default)]
    right_subprocessor_object: Option<String>,
    #[serde(default)]
    csrf: String,
}

async fn rights(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
    Form(form): Form<RightsForm>,
) -> Response {
    let (claims, id, caller) = match form_caller(
        &st.directory,
        &user,
        &raw,
        &headers,
        &uri,
        &csrf,
        &form.csrf,
    )
    .await
    {
        Ok(x) => x,
        Err(s) => return s.into_response(),
    };
    let chosen: Vec<String> = [
        ("document.read", &form.right_document_read),
        ("document.upload", &form.right_document_upload),
        ("subprocessor.object", &form.right_subprocessor_object),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_some())
    .map(|(r, _)| r.to_owned())
    .collect();
    let dir = &st.directory;
    let res = delegation::set_rights(dir.db(), dir.clock(), &caller, id, &chosen).await;
    outcome(&st, &claims, id, &headers, csrf.0, None, res).await
}

#[derive(Debug, Default, Deserialize)]
struct StateForm {
    #[serde(default)]
    active: String,
    #[serde(default)]
    csrf: String,
}

async fn set_state(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
    Form(form): Form<StateForm>,
) -> Response {
    let (claims, id, caller) = match form_caller(
        &st.directory,
        &user,
        &raw,
        &headers,
        &uri,
        &csrf,
        &form.csrf,
    )
    .await
    {
        Ok(x) => x,
        Err(s) => return s.into_response(),
    };
    let active = match form.active.as_str() {
        "true" => true,
        "false" => false,
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    let dir = &st.directory;
    let res = delegation::set_active(
        dir.db(),
        dir.clock(),
        dir.revocations(),
        &caller,
        id,
        active,
    )
    .await;
    outcome(&st, &claims, id, &headers, csrf.0, None, res).await
}

#[derive(Debug, Default, Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn primary(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let (claims, id, caller) = match form_caller(
        &st.directory,
        &user,
        &raw,
        &headers,
        &uri,
        &csrf,
        &form.csrf,
    )
    .await
    {
        Ok(x) => x,
        Err(s) => return s.into_response(),
    };
    let dir = &st.directory;
    // The person's organisation, as the caller sees it (404 otherwise).
    let org = match people::get(dir.db(), dir.clock(), &caller, id).await {
        Ok(p) => p.inner().organisation_id,
        Err(e) => return refusal(&e).unwrap_or(StatusCode::NOT_FOUND).into_response(),
    };
    let res =
        delegation::handover(dir.db(), dir.clock(), dir.revocations(), &caller, org, id).await;
    outcome(&st, &claims, id, &headers, csrf.0, None, res).await
}

#[derive(Template)]
#[template(path = "dossiers.html")]
struct DossiersPage<'a> {
    c: Chrome,
    site: &'a Site,
    heading: String,
    headers: Vec<String>,
    rows: Vec<Row>,
}

async fn dossier_list(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    headers: HeaderMap,
) -> Response {
    let Some(claims) = user.0.as_deref() else {
        return Redirect::to("/login").into_response();
    };
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let dir = &st.directory;
    let caller = reader(dir, claims);
    let items = match dossiers::list(dir.db(), dir.clock(), &caller, None).await {
        Ok(d) => d,
        Err(e) => {
            return refusal(&e)
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
                .into_response();
        }
    };
    let inspector = claims.roles.iter().any(|r| r == "inspector")
        && !claims.roles.iter().any(|r| r == "staff" || r == "admin");
    let page = DossiersPage {
        c: Chrome::new(lang, "/dossiers"),
        site: &st.site,
        heading: tr.t(if inspector {
            "dossiers-mine"
        } else {
            "dossiers-title"
        }),
        headers: headers_of(&tr, "dossier", &DOSSIER_COLUMNS),
        rows: rows(&tr, &items, &DOSSIER_COLUMNS, |d| d.id),
    };
    render(lang, StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "dossier.html")]
struct DossierPage<'a> {
    c: Chrome,
    site: &'a Site,
    title: String,
    facts: Vec<Fact>,
    organisation: Vec<Fact>,
    contact_headers: Vec<String>,
    contacts: Option<Vec<Row>>,
    assignment_headers: Vec<String>,
    assignments: Option<Vec<Row>>,
    docs: Option<crate::documents::Section>,
}

#[derive(Deserialize)]
struct DossierQuery {
    /// The documents list's page cursor.
    after: Option<String>,
}

async fn dossier(
    State(st): State<DirectoryState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(page): Query<DossierQuery>,
) -> Response {
    let Some(claims) = user.0.as_deref() else {
        return Redirect::to("/login").into_response();
    };
    let Some(id) = parse_id(&raw) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let dir = &st.directory;
    let caller = reader(dir, claims);
    let d = match dossiers::get(dir.db(), dir.clock(), &caller, id).await {
        Ok(d) => d,
        Err(e) => return refusal(&e).unwrap_or(StatusCode::NOT_FOUND).into_response(),
    };
    let org_id = d.inner().organisation_id;
    let organisation = match shown(organisations::get(dir.db(), dir.clock(), &caller, org_id).await)
    {
        Ok(o) => o.map(|o| facts(&tr, &o, &["id"])).unwrap_or_default(),
        Err(status) => return status.into_response(),
    };
    let q = PersonQuery {
        organisation: Some(org_id),
        limit: 1000,
        ..PersonQuery::default()
    };
    let contacts = if caller
        .grants
        .domains(Resource::Person, Action::List)
        .is_empty()
    {
        None
    } else {
        match shown(people::list(dir.db(), dir.clock(), &caller, Action::List, &q).await) {
            Ok(list) => list.map(|list| rows(&tr, &list, &CONTACT_COLUMNS, |p: &PersonView| p.id)),
            Err(status) => return status.into_response(),
        }
    };
    let assignments = if caller
        .grants
        .domains(Resource::Assignment, Action::List)
        .is_empty()
    {
        None
    } else {
        match shown(assignments::list(dir.db(), dir.clock(), &caller, Some(id)).await) {
            Ok(list) => list.map(|list| rows(&tr, &list, &ASSIGNMENT_COLUMNS, |a| a.id)),
            Err(status) => return status.into_response(),
        }
    };
    let title = format!(
        "{} — {}",
        value_of(&d, "scheme"),
        value_of(&d, "organisation_name")
    );
    let docs = match crate::documents::section(
        &st.documents,
        claims,
        id,
        page.after.as_deref(),
        &tr,
        &csrf.0,
    )
    .await
    {
        Ok(docs) => docs,
        Err(status) => return status.into_response(),
    };
    let page = DossierPage {
        docs,
        c: Chrome::new(lang, &format!("/dossiers/{id}")),
        site: &st.site,
        title,
        facts: facts(&tr, &d, &["id", "organisation_id"]),
        organisation,
        contact_headers: headers_of(&tr, "person", &CONTACT_COLUMNS),
        contacts,
        assignment_headers: headers_of(&tr, "assignment", &ASSIGNMENT_COLUMNS),
        assignments,
    };
    render(lang, StatusCode::OK, &page)
}

fn value_of<T: extranet_access::Outward>(m: &Masked<T>, field: &str) -> String {
    match m.cell(field) {
        extranet_access::Cell::Value(v) => v,
        _ => String::new(),
    }
}
