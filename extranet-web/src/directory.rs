//! Pages over the directory: "my company" and "my contacts" for a company's people, a person's
//! page (with the primary contact's and staff's forms), and the certification files — for an
//! inspector, those assigned to them. What a page shows and offers follows from the policy
//! through `extranet_directory`: records arrive masked, forms appear only where the caller's
//! grants allow the action, and every change is decided again by the directory with the caller
//! as the database says now (and the client address, for the audit record).
//!
//! Destructive changes (deactivating an account, handing over the primary contact's role,
//! taking rights away) are asked for on a page of their own: the button on the person's page is
//! a link to a confirmation page whose form does it.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use extranet_access::{
    Action, Domain, DomainSet, Masked, OrganisationView, PersonView, Resource, vocab,
};
use extranet_directory::delegation::{ContactChange, NewContact};
use extranet_directory::organisations::OrganisationChange;
use extranet_directory::people::PersonQuery;
use extranet_directory::{
    Caller, Directory, DirectoryError, delegation, dossiers, organisations, people,
};
use extranet_identity::model::PostalAddress;
use jiff::tz::TimeZone;
use serde::Deserialize;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::facts::{Fact, cell, facts};
use crate::i18n::Tr;
use crate::lang::Lang;
use crate::site::Site;
use crate::ui::confirm::{self, Confirm};
use crate::ui::{
    Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, flash, render, words,
};

/// Built by `pages::routes`; the handlers read the services from [`SignedIn`].
#[derive(Clone)]
#[allow(dead_code)]
pub(crate) struct DirectoryState {
    pub site: Arc<Site>,
    pub directory: Arc<Directory>,
    pub documents: Arc<extranet_documents::Documents>,
}

pub(crate) fn routes(state: DirectoryState) -> Router {
    PageRouter::new()
        .page("/company", company)
        .page("/company/export", company_export)
        .form("/company/contacts", invite)
        .page_and_form("/people/{id}", person, update)
        .page_and_form("/people/{id}/rights", rights_confirm, rights)
        .page_and_form("/people/{id}/deactivate", deactivate_confirm, deactivate)
        .form("/people/{id}/reactivate", reactivate)
        .page_and_form("/people/{id}/primary", primary_confirm, primary)
        .page_and_form("/people/{id}/restrict", restrict_confirm, restrict)
        .page_and_form("/people/{id}/unrestrict", lift_confirm, lift)
        .page_and_form(
            "/organisations/{id}/edit",
            organisation_edit,
            organisation_save,
        )
        .with_state(state)
        .into_router()
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

/// A stored date (`2026-12-04`) or moment (RFC 3339) as people say it; `None` for anything
/// else.
pub(crate) fn in_words(lang: Lang, tz: &TimeZone, raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if b.len() == 10 {
        return Date::parse(raw, format_description!("[year]-[month]-[day]"))
            .ok()
            .map(|d| words::date(lang, d));
    }
    OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|at| words::moment(lang, tz, at))
}

/// Dates and moments of a table in words.
pub(crate) fn reword_rows(lang: Lang, tz: &TimeZone, rows: &mut [Row]) {
    for v in rows.iter_mut().flat_map(|r| r.cells.iter_mut()).flatten() {
        if let Some(w) = in_words(lang, tz, v) {
            *v = w;
        }
    }
}

/// Dates and moments of a facts list in words.
pub(crate) fn reword_facts(lang: Lang, tz: &TimeZone, facts: &mut [Fact]) {
    for v in facts.iter_mut().filter_map(|f| f.value.as_mut()) {
        if let Some(w) = in_words(lang, tz, v) {
            *v = w;
        }
    }
}

fn dir(me: &SignedIn) -> &Directory {
    &me.services().directory
}

fn all() -> DomainSet {
    DomainSet::default().with(Domain::All)
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
pub(crate) fn message(tr: &Tr, e: &DirectoryError) -> (Option<&'static str>, String) {
    match e {
        DirectoryError::Invalid { field, message } if message == delegation::RENTAL_ONLY => {
            (Some(field), tr.t("fields-rental-only"))
        }
        DirectoryError::FieldNotGranted(field) => (Some(field), tr.t("fields-not-granted")),
        DirectoryError::Invalid { field, .. } => {
            let key = match *field {
                "gender" => "fields-invalid-gender",
                "birth_date" | "training_valid_until" => "fields-invalid-date",
                "licence_plates" => "fields-invalid-plates",
                "enterprise_number" => "fields-invalid-enterprise-number",
                "vat_number" => "fields-invalid-vat-number",
                "addresses" => "fields-invalid-addresses",
                "email" => "email-format",
                "first_name" | "surname" | "name" => "invalid-name",
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
        DirectoryError::Conflict(m) if m == extranet_directory::restriction::RESTRICTED => {
            (None, tr.t("restrict-refused"))
        }
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
/// page goes on without it), `Err` (logged) when the read failed — a failure is never shown as
/// an empty list.
pub(crate) fn shown<T>(res: Result<T, DirectoryError>) -> PageResult<Option<T>> {
    match res {
        Ok(v) => Ok(Some(v)),
        Err(DirectoryError::Internal(detail)) => Err(PageError::internal(detail)),
        Err(_) => Ok(None),
    }
}

/// A refusal the page shows next to its form (with this status), or `None` for one that ends
/// the request (not found, signed out, our failure).
pub(crate) fn shown_refusal(e: &DirectoryError) -> Option<StatusCode> {
    match e {
        DirectoryError::NotFound
        | DirectoryError::Unauthenticated
        | DirectoryError::Internal(_) => None,
        DirectoryError::Forbidden(_) | DirectoryError::FieldNotGranted(_) => {
            Some(StatusCode::FORBIDDEN)
        }
        DirectoryError::Taken(_) | DirectoryError::LastAdmin | DirectoryError::Conflict(_) => {
            Some(StatusCode::CONFLICT)
        }
        DirectoryError::Throttled(_) => Some(StatusCode::TOO_MANY_REQUESTS),
        _ => Some(StatusCode::UNPROCESSABLE_ENTITY),
    }
}

pub(crate) const CONTACT_COLUMNS: [&str; 5] =
    ["surname", "first_name", "email", "function", "state"];
const DOSSIER_COLUMNS: [&str; 6] = [
    "organisation_name",
    "scheme",
    "certificate_number",
    "status",
    "valid_from",
    "valid_until",
];

#[derive(Template)]
#[template(path = "company.html")]
struct CompanyPage<'a> {
    c: Chrome,
    site: &'a Site,
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
    /// Pending invitations, for those the policy shows them to.
    invitations: Option<crate::backoffice::Invitations>,
    /// A link to the form that changes the company's details (the company's id).
    editable: Option<Uuid>,
    /// A link to the company's data as one archive (its hand-over to another body).
    can_export: bool,
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
}

/// The rights a form may carry, with their form fields.
fn chosen_rights(
    read: &Option<String>,
    upload: &Option<String>,
    object: &Option<String>,
) -> Vec<String> {
    [
        ("document.read", read),
        ("document.upload", upload),
        ("subprocessor.object", object),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_some())
    .map(|(r, _)| r.to_owned())
    .collect()
}

impl InviteForm {
    fn rights(&self) -> Vec<String> {
        chosen_rights(
            &self.right_document_read,
            &self.right_document_upload,
            &self.right_subprocessor_object,
        )
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
        .map(|r| (*r, right_field(r), right_label(tr, r)))
        .collect()
}

fn right_field(code: &str) -> String {
    format!("right_{}", code.replace('.', "_"))
}

fn right_label(tr: &Tr, code: &str) -> String {
    tr.t(&format!("right-{}", code.replace('.', "-")))
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

async fn company_page(
    me: &SignedIn,
    form: InviteForm,
    error: Refusal,
    status: StatusCode,
) -> PageResult {
    let dir = dir(me);
    let tr = me.tr();
    let tz = me.services().site.tz();
    let caller = &me.caller;
    let own_org = me.claims.org;
    let org = organisations::get(dir.db(), dir.clock(), caller, own_org).await?;
    let own = caller.relation().of(Some(own_org), None, false);
    let dossier_items = shown(dossiers::list(dir.db(), dir.clock(), caller, Some(own_org)).await)?
        .unwrap_or_default();
    let contacts = if caller.grants.allows(Resource::Person, Action::List, own) {
        let q = PersonQuery {
            organisation: Some(own_org),
            limit: people::MAX_LIMIT,
            ..PersonQuery::default()
        };
        let list = people::list(dir.db(), dir.clock(), caller, Action::List, &q).await?;
        Some(rows(&tr, &list, &CONTACT_COLUMNS, |p: &PersonView| p.id))
    } else {
        None
    };
    let can_invite = caller.grants.allows(Resource::Person, Action::Invite, own)
        && org.inner().kind != "certification_body";
    let mut dossiers = rows(&tr, &dossier_items, &DOSSIER_COLUMNS, |d| d.id);
    reword_rows(me.lang(), &tz, &mut dossiers);
    let mut org_facts = facts(&tr, &org, &["id", "name"]);
    reword_facts(me.lang(), &tz, &mut org_facts);
    let editable = may_edit_organisation(caller, &org).then_some(own_org);
    let can_export = caller
        .grants
        .allows(Resource::Organisation, Action::Export, own);
    let page = CompanyPage {
        editable,
        can_export,
        c: me.chrome().await,
        site: &me.services().site,
        name: org.inner().name.clone(),
        facts: org_facts,
        dossier_headers: headers_of(&tr, "dossier", &DOSSIER_COLUMNS),
        dossiers,
        contact_headers: headers_of(&tr, "person", &CONTACT_COLUMNS),
        contacts,
        rights_offered: rights_offered(&tr, caller, own_org),
        can_invite,
        can_see_access_log: caller
            .grants
            .allows(Resource::Document, Action::AccessLog, own),
        form,
        error,
        // The certification body's own people are invited and managed by administrators.
        invitations: if org.inner().kind == "certification_body" {
            None
        } else {
            crate::backoffice::pending_invitations(me, own_org).await?
        },
    };
    Ok(render(me.lang(), status, &page))
}

/// The company's organisation, people, dossiers and documents as one archive with its schema
/// (for its primary contact: the hand-over to another certification body). Refused and recorded
/// for anyone the policy does not let export it; the export is recorded as `subject.handover`.
async fn company_export(me: SignedIn) -> Result<axum::response::Response, crate::ui::PageError> {
    let dir = dir(&me);
    let caller = me.current().await?;
    let own_org = me.claims.org;
    organisations::get(dir.db(), dir.clock(), &caller, own_org).await?;
    let own = caller.relation().of(Some(own_org), None, false);
    caller
        .permit(
            dir.db(),
            dir.clock(),
            (Resource::Organisation, Action::Export),
            ("organisation", own_org),
            own,
        )
        .await?;
    let file = crate::rights::answers::spool()?;
    let who = extranet_privacy::subject::Requester {
        actor: Some(caller.person),
        ip: me.v.ip,
    };
    let privacy = &me.services().privacy;
    let (out, _) = extranet_privacy::subject::handover::export(
        privacy.db(),
        privacy.objects(),
        own_org,
        file,
        who,
    )
    .await
    .map_err(|e| crate::ui::PageError::internal(e.to_string()))?;
    crate::rights::answers::zip_response(out, "company.zip")
}

async fn company(me: SignedIn) -> PageResult {
    let form = InviteForm {
        language: me.lang().code().to_owned(),
        ..InviteForm::default()
    };
    company_page(&me, form, Refusal::default(), StatusCode::OK).await
}

async fn invite(me: SignedIn, CsrfForm(form): CsrfForm<InviteForm>) -> PageResult {
    let caller = me.current().await?;
    let dir = dir(&me);
    let new = NewContact {
        organisation_id: me.claims.org,
        first_name: form.first_name.clone(),
        surname: form.surname.clone(),
        email: form.email.clone(),
        language: form.language.clone(),
        rights: form.rights(),
    };
    match delegation::invite(dir.db(), dir.clock(), &dir.recovery, &caller, &new).await {
        Ok(_) => Ok(flash::done("/company", "contact-invited")),
        Err(e) => match shown_refusal(&e) {
            None => Err(e.into()),
            Some(status) => {
                let error = Refusal::of(&me.tr(), &e);
                company_page(&me, form, error, status).await
            }
        },
    }
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage<'a> {
    c: Chrome,
    site: &'a Site,
    id: Uuid,
    name: String,
    facts: Vec<Fact>,
    /// The person's organisation: its name and, when the caller may open it, its page.
    organisation: Option<(String, Option<String>)>,
    edit: Option<EditForm>,
    /// Which personal-data inputs the edit form has.
    inputs: PersonalInputs,
    rights_offered: Vec<(&'static str, String, String)>,
    rights_held: Vec<String>,
    /// `Some(true)`: a deactivate button; `Some(false)`: reactivate.
    state_button: Option<bool>,
    can_make_primary: bool,
    /// An administrator may reset this person's second factor.
    can_reset_second_factor: bool,
    /// The person's processing is restricted (GDPR Art. 18): the badge.
    restricted: bool,
    /// The privacy coordinator's action: `Some(true)` restrict, `Some(false)` lift.
    restrict_button: Option<bool>,
    error: Refusal,
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

    /// The form of address to choose from: (code, label, chosen).
    fn genders(&self, form: &EditForm) -> Vec<(&'static str, String, bool)> {
        gender_options(&self.c.tr, form.gender.as_deref().unwrap_or("unspecified"))
    }

    /// The date inputs the form has: (name, label key, value).
    fn dates(&self, form: &EditForm) -> Vec<(&'static str, &'static str, String)> {
        let mut out = Vec::new();
        if self.inputs.birth_date {
            out.push((
                "birth_date",
                "field-person-birth_date",
                form.birth_date.clone().unwrap_or_default(),
            ));
        }
        if self.inputs.training_valid_until {
            out.push((
                "training_valid_until",
                "field-person-training_valid_until",
                form.training_valid_until.clone().unwrap_or_default(),
            ));
        }
        out
    }

    fn plates(&self, form: &EditForm) -> String {
        form.licence_plates.clone().unwrap_or_default()
    }
}

/// The forms of address, in the visitor's language: (code, label, chosen).
pub(crate) fn gender_options(tr: &Tr, chosen: &str) -> Vec<(&'static str, String, bool)> {
    ["unspecified", "mr", "ms"]
        .into_iter()
        .map(|g| (g, tr.t(&format!("gender-{g}")), g == chosen))
        .collect()
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
    /// The following only when the form carries them (each only for whom may set it).
    #[serde(default)]
    gender: Option<String>,
    #[serde(default)]
    birth_date: Option<String>,
    #[serde(default)]
    training_valid_until: Option<String>,
    /// One licence plate per line.
    #[serde(default)]
    licence_plates: Option<String>,
}

/// The plates typed in a text area: one per line (or separated by commas).
pub(crate) fn plate_lines(raw: &str) -> Vec<String> {
    raw.split(['\n', ','])
        .map(|l| l.trim().to_owned())
        .collect()
}

/// What a form shows for a person's personal data beyond the contact fields: the form of
/// address, and for people of rental companies the birth date, the training certificate and
/// the vehicles — each only when the caller sees it.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PersonalInputs {
    pub gender: bool,
    pub birth_date: bool,
    pub training_valid_until: bool,
    pub licence_plates: bool,
}

impl PersonalInputs {
    pub(crate) fn of(p: &Masked<PersonView>, rental: bool) -> PersonalInputs {
        PersonalInputs {
            gender: p.is_visible("gender"),
            birth_date: rental && p.is_visible("birth_date"),
            training_valid_until: rental && p.is_visible("training_valid_until"),
            licence_plates: rental && p.is_visible("licence_plates"),
        }
    }
}

/// The person's plates, one per line, for a text area.
pub(crate) fn plates_text(p: &Masked<PersonView>) -> String {
    p.inner().licence_plates.join("\n")
}

pub(crate) fn value<T: extranet_access::Outward>(m: &Masked<T>, field: &str) -> String {
    match m.cell(field) {
        extranet_access::Cell::Value(v) => v,
        _ => String::new(),
    }
}

/// "Jan Peeters", from what the caller sees of the record.
pub(crate) fn name_of(p: &Masked<PersonView>) -> String {
    format!("{} {}", value(p, "first_name"), value(p, "surname"))
        .trim()
        .to_owned()
}

/// Where an organisation's page is for this caller, if they may open one.
pub(crate) fn organisation_link(caller: &Caller, org: Uuid) -> Option<String> {
    if caller
        .grants
        .allows(Resource::Organisation, Action::List, all())
    {
        Some(format!("/staff/organisations/{org}"))
    } else if org == caller.organisation
        && caller.grants.allows(
            Resource::Organisation,
            Action::Read,
            DomainSet::default().with(Domain::Organisation),
        )
    {
        Some("/company".to_owned())
    } else {
        None
    }
}

async fn person_page(
    me: &SignedIn,
    id: Uuid,
    edit: Option<EditForm>,
    error: Refusal,
    status: StatusCode,
) -> PageResult {
    let dir = dir(me);
    let tr = me.tr();
    let caller = &me.caller;
    let p = people::get(dir.db(), dir.clock(), caller, id).await?;
    let org_id = p.inner().organisation_id;
    let org = shown(organisations::get(dir.db(), dir.clock(), caller, org_id).await)?;
    // Birth date, training certificate and vehicles are kept for people of rental companies
    // only: elsewhere neither shown nor offered.
    let rental = org.as_ref().is_some_and(|o| o.inner().kind == "rental");
    let organisation = org
        .filter(|o: &Masked<OrganisationView>| o.is_visible("name"))
        .map(|o| (o.inner().name.clone(), organisation_link(caller, org_id)));
    let inputs = PersonalInputs::of(&p, rental);
    let rel = caller.relation().of(Some(org_id), Some(id), false);
    let myself = id == me.claims.sub;
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
            gender: inputs.gender.then(|| p.inner().gender.clone()),
            birth_date: inputs
                .birth_date
                .then(|| p.inner().birth_date.clone().unwrap_or_default()),
            training_valid_until: inputs
                .training_valid_until
                .then(|| p.inner().training_valid_until.clone().unwrap_or_default()),
            licence_plates: inputs.licence_plates.then(|| plates_text(&p)),
        })
    });
    let rights_offered =
        if allows(Action::Grant) && !myself && client_contact && p.is_visible("rights") {
            rights_offered(&tr, caller, org_id)
        } else {
            Vec::new()
        };
    let state = p.inner().state.as_str();
    // The directory refuses to deactivate someone holding a role the caller could not give (an
    // administrator, for staff): no button that would only lead to that refusal.
    let givable = caller.grants.givable(rel);
    let outranks = p.inner().roles.iter().any(|r| !givable.contains_role(r));
    let state_button =
        (allows(Action::Deactivate) && !myself && !outranks).then_some(state != "deactivated");
    let can_make_primary = allows(Action::Handover)
        && state == "active"
        && client_contact
        && !p.inner().roles.iter().any(|r| r == "client_admin");
    let restricted_now = myself
        && extranet_directory::restriction::is_restricted(dir.db(), id)
            .await
            .unwrap_or(false);
    let mut person_facts = facts(&tr, &p, &["id", "organisation_id"]);
    reword_facts(me.lang(), &me.services().site.tz(), &mut person_facts);
    let page = PersonPage {
        c: me.chrome().await,
        site: &me.services().site,
        id,
        name: name_of(&p),
        facts: person_facts,
        organisation,
        edit,
        inputs,
        rights_offered,
        rights_held: p.inner().rights.clone(),
        state_button,
        can_make_primary,
        can_reset_second_factor: allows(Action::ResetSecondFactor),
        restricted: p.is_restricted() || (myself && restricted_now),
        restrict_button: (allows(Action::Restrict) && !myself).then_some(!p.is_restricted()),
        error,
    };
    Ok(render(me.lang(), status, &page))
}

fn parse_id(raw: &str) -> PageResult<Uuid> {
    raw.parse().map_err(|_| PageError::NotFound)
}

async fn person(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    person_page(&me, id, None, Refusal::default(), StatusCode::OK).await
}

/// After a change: back to the person's page with `flash-<done>`, or the page again with the
/// message next to its field.
async fn outcome<T>(
    me: &SignedIn,
    id: Uuid,
    done: &str,
    edit: Option<EditForm>,
    res: Result<T, DirectoryError>,
) -> PageResult {
    match res {
        Ok(_) => Ok(flash::done(&format!("/people/{id}"), done)),
        Err(e) => match shown_refusal(&e) {
            None => Err(e.into()),
            Some(status) => {
                let error = Refusal::of(&me.tr(), &e);
                person_page(me, id, edit, error, status).await
            }
        },
    }
}

fn text(s: &str) -> Option<String> {
    Some(s.trim().to_owned())
}

async fn update(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<EditForm>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let change = ContactChange {
        surname: text(&form.surname),
        first_name: text(&form.first_name),
        phone: text(&form.phone),
        mobile: text(&form.mobile),
        fax: text(&form.fax),
        function: text(&form.function),
        language: text(&form.language),
        gender: form.gender.clone(),
        birth_date: form.birth_date.clone(),
        training_valid_until: form.training_valid_until.clone(),
        licence_plates: form.licence_plates.as_deref().map(plate_lines),
    };
    let dir = dir(&me);
    let res = delegation::update(dir.db(), dir.clock(), &caller, id, &change).await;
    forget_if_self(&me, id, res.is_ok());
    outcome(&me, id, "contact-saved", Some(form), res).await
}

/// A name changed on one's own page shows in the header at once.
fn forget_if_self(me: &SignedIn, id: Uuid, changed: bool) {
    if changed && id == me.claims.sub {
        crate::ui::chrome::forget_name(id);
    }
}

#[derive(Debug, Default, Deserialize)]
struct RightsForm {
    #[serde(default)]
    right_document_read: Option<String>,
    #[serde(default)]
    right_document_upload: Option<String>,
    #[serde(default)]
    right_subprocessor_object: Option<String>,
    /// Set by the confirmation page: taking rights away was confirmed.
    #[serde(default)]
    confirmed: Option<String>,
}

impl RightsForm {
    fn chosen(&self) -> Vec<String> {
        chosen_rights(
            &self.right_document_read,
            &self.right_document_upload,
            &self.right_subprocessor_object,
        )
    }

    /// The same choice as a query string (for the confirmation page).
    fn query(&self) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for r in self.chosen() {
            q.append_pair(&right_field(&r), "on");
        }
        q.finish()
    }
}

/// A confirmation page is shown only to whom the policy lets do the action to this person.
fn allowed_on(me: &SignedIn, p: &Masked<PersonView>, action: Action) -> PageResult<()> {
    let person = p.inner();
    let rel = me
        .caller
        .relation()
        .of(Some(person.organisation_id), Some(person.id), false);
    if me.caller.grants.allows(Resource::Person, action, rel) {
        Ok(())
    } else {
        Err(PageError::Forbidden)
    }
}

/// The person a confirmation page is about, as the caller sees them.
async fn target(me: &SignedIn, id: Uuid) -> PageResult<Masked<PersonView>> {
    let dir = dir(me);
    Ok(people::get(dir.db(), dir.clock(), &me.caller, id).await?)
}

/// The rights taken away by a choice, as the caller sees the person now.
fn removed(p: &Masked<PersonView>, chosen: &[String]) -> Vec<String> {
    p.inner()
        .rights
        .iter()
        .filter(|r| !chosen.contains(r))
        .cloned()
        .collect()
}

async fn rights_confirm(
    me: SignedIn,
    Path(raw): Path<String>,
    Query(form): Query<RightsForm>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let p = target(&me, id).await?;
    allowed_on(&me, &p, Action::Grant)?;
    let chosen = form.chosen();
    let taken = removed(&p, &chosen);
    if taken.is_empty() {
        return Ok(Redirect::to(&format!("/people/{id}")).into_response());
    }
    let tr = me.tr();
    let name = name_of(&p);
    let mut hidden: Vec<(std::borrow::Cow<'static, str>, String)> = chosen
        .iter()
        .map(|r| (right_field(r).into(), "on".to_owned()))
        .collect();
    hidden.push(("confirmed".into(), "1".to_owned()));
    let ask = Confirm {
        title: tr.t1("confirm-rights-heading", "name", &name),
        message: tr.t("confirm-rights-text"),
        button: tr.t("confirm-rights-button"),
        hidden,
        cancel: format!("/people/{id}"),
        danger: true,
    };
    Ok(confirm::detailed_page(
        &me,
        ask.detailed(
            Vec::new(),
            taken.iter().map(|r| right_label(&tr, r)).collect(),
        ),
    )
    .await)
}

async fn rights(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<RightsForm>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let chosen = form.chosen();
    if form.confirmed.as_deref() != Some("1") {
        // Taking a right away is asked for first.
        let p = target(&me, id).await?;
        if !removed(&p, &chosen).is_empty() {
            return Ok(
                Redirect::to(&format!("/people/{id}/rights?{}", form.query())).into_response(),
            );
        }
    }
    let dir = dir(&me);
    let res = delegation::set_rights(dir.db(), dir.clock(), &caller, id, &chosen).await;
    outcome(&me, id, "rights-changed", None, res).await
}

async fn deactivate_confirm(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    let p = target(&me, id).await?;
    allowed_on(&me, &p, Action::Deactivate)?;
    if id == me.claims.sub {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    let name = name_of(&p);
    let ask = Confirm {
        title: tr.t1("confirm-deactivate-person-heading", "name", &name),
        message: tr.t("contact-deactivate-help"),
        button: tr.t("contact-deactivate"),
        hidden: Vec::new(),
        cancel: format!("/people/{id}"),
        danger: true,
    };
    Ok(confirm::detailed_page(
        &me,
        ask.detailed(vec![tr.t("confirm-deactivate-person-undo")], Vec::new()),
    )
    .await)
}

#[derive(Debug, Default, Deserialize)]
struct Empty {}

async fn set_active(me: &SignedIn, raw: &str, active: bool) -> PageResult {
    let id = parse_id(raw)?;
    let caller = me.current().await?;
    let dir = dir(me);
    let res = delegation::set_active(
        dir.db(),
        dir.clock(),
        dir.revocations(),
        &caller,
        id,
        active,
    )
    .await;
    let done = if active {
        "contact-reactivated"
    } else {
        "contact-deactivated"
    };
    outcome(me, id, done, None, res).await
}

async fn deactivate(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    set_active(&me, &raw, false).await
}

async fn reactivate(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    set_active(&me, &raw, true).await
}

async fn primary_confirm(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    let p = target(&me, id).await?;
    allowed_on(&me, &p, Action::Handover)?;
    let tr = me.tr();
    let name = name_of(&p);
    let ask = Confirm {
        title: tr.t1("confirm-primary-heading", "name", &name),
        message: tr.t("contact-make-primary-help"),
        button: tr.t("contact-make-primary"),
        hidden: Vec::new(),
        cancel: format!("/people/{id}"),
        danger: true,
    };
    Ok(confirm::detailed_page(&me, ask.detailed(Vec::new(), Vec::new())).await)
}

async fn primary(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let dir = dir(&me);
    // The person's organisation, as the caller sees it (404 otherwise).
    let org = people::get(dir.db(), dir.clock(), &caller, id)
        .await?
        .inner()
        .organisation_id;
    let res =
        delegation::handover(dir.db(), dir.clock(), dir.revocations(), &caller, org, id).await;
    outcome(&me, id, "primary-handed-over", None, res).await
}

/// Whether the caller may change this organisation's details at all: the action allowed in
/// their relation to it, and a client or rental company (the certification body's own details
/// are set at installation).
pub(crate) fn may_edit_organisation(caller: &Caller, org: &Masked<OrganisationView>) -> bool {
    let rel = caller.relation().of(Some(org.inner().id), None, false);
    caller
        .grants
        .allows(Resource::Organisation, Action::Update, rel)
        && org.inner().kind != "certification_body"
}

/// How many addresses the organisation form offers.
const ADDRESS_SLOTS: usize = 2;

#[derive(Debug, Default, Deserialize, Clone)]
struct OrganisationEditForm {
    /// Each only when the form carries it (the caller may set it).
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    enterprise_number: Option<String>,
    #[serde(default)]
    vat_number: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    fax: Option<String>,
    #[serde(default)]
    street_1: Option<String>,
    #[serde(default)]
    postcode_1: Option<String>,
    #[serde(default)]
    city_1: Option<String>,
    #[serde(default)]
    country_1: Option<String>,
    #[serde(default)]
    street_2: Option<String>,
    #[serde(default)]
    postcode_2: Option<String>,
    #[serde(default)]
    city_2: Option<String>,
    #[serde(default)]
    country_2: Option<String>,
}

impl OrganisationEditForm {
    fn addresses(&self) -> Option<Vec<PostalAddress>> {
        let one =
            |s: &Option<String>, p: &Option<String>, c: &Option<String>, k: &Option<String>| {
                PostalAddress {
                    street: s.clone().unwrap_or_default(),
                    postcode: p.clone().unwrap_or_default(),
                    city: c.clone().unwrap_or_default(),
                    country: k.clone().unwrap_or_default(),
                }
            };
        self.street_1.as_ref().map(|_| {
            vec![
                one(
                    &self.street_1,
                    &self.postcode_1,
                    &self.city_1,
                    &self.country_1,
                ),
                one(
                    &self.street_2,
                    &self.postcode_2,
                    &self.city_2,
                    &self.country_2,
                ),
            ]
        })
    }
}

#[derive(Template)]
#[template(path = "organisation_edit.html")]
struct OrganisationEditPage<'a> {
    c: Chrome,
    site: &'a Site,
    id: Uuid,
    name: String,
    /// Where to go back to.
    back: String,
    /// The text inputs: (name, label key, value, input type).
    inputs: Vec<(&'static str, &'static str, String, &'static str)>,
    /// The address blocks: (number, street, postcode, city, country); empty: not offered.
    addresses: Vec<(usize, String, String, String, String)>,
    error: Refusal,
}

async fn organisation_edit_page(
    me: &SignedIn,
    id: Uuid,
    form: Option<OrganisationEditForm>,
    error: Refusal,
    status: StatusCode,
) -> PageResult {
    let dir = dir(me);
    let caller = &me.caller;
    let org = organisations::get(dir.db(), dir.clock(), caller, id).await?;
    if !may_edit_organisation(caller, &org) {
        return Err(PageError::Forbidden);
    }
    let staff = caller
        .grants
        .allows(Resource::Organisation, Action::Update, all());
    let o = org.inner();
    let stored: Vec<PostalAddress> =
        extranet_directory::organisations::stored_addresses(dir.db(), id).await?;
    let form = form.unwrap_or_else(|| {
        let a = |i: usize| stored.get(i).cloned().unwrap_or_default();
        let (a1, a2) = (a(0), a(1));
        OrganisationEditForm {
            name: Some(o.name.clone()),
            enterprise_number: o.enterprise_number.clone().or_else(|| Some(String::new())),
            vat_number: o.vat_number.clone().or_else(|| Some(String::new())),
            phone: o.phone.clone().or_else(|| Some(String::new())),
            fax: o.fax.clone().or_else(|| Some(String::new())),
            street_1: Some(a1.street),
            postcode_1: Some(a1.postcode),
            city_1: Some(a1.city),
            country_1: Some(if a1.country.is_empty() {
                "BE".into()
            } else {
                a1.country
            }),
            street_2: Some(a2.street),
            postcode_2: Some(a2.postcode),
            city_2: Some(a2.city),
            country_2: Some(a2.country),
        }
    });
    let mut inputs = Vec::new();
    let mut offer = |field: &'static str, key: &'static str, v: &Option<String>, ty| {
        if org.is_visible(field) && (field != "name" || staff) {
            inputs.push((field, key, v.clone().unwrap_or_default(), ty));
        }
    };
    offer("name", "field-organisation-name", &form.name, "text");
    offer(
        "enterprise_number",
        "field-organisation-enterprise_number",
        &form.enterprise_number,
        "text",
    );
    offer(
        "vat_number",
        "field-organisation-vat_number",
        &form.vat_number,
        "text",
    );
    offer("phone", "field-organisation-phone", &form.phone, "tel");
    offer("fax", "field-organisation-fax", &form.fax, "tel");
    let addresses = if org.is_visible("addresses") {
        let v = |s: &Option<String>| s.clone().unwrap_or_default();
        vec![
            (
                1,
                v(&form.street_1),
                v(&form.postcode_1),
                v(&form.city_1),
                v(&form.country_1),
            ),
            (
                2,
                v(&form.street_2),
                v(&form.postcode_2),
                v(&form.city_2),
                v(&form.country_2),
            ),
        ]
        .into_iter()
        .take(ADDRESS_SLOTS)
        .collect()
    } else {
        Vec::new()
    };
    let page = OrganisationEditPage {
        c: me.chrome().await,
        site: &me.services().site,
        id,
        name: o.name.clone(),
        back: organisation_link(caller, id).unwrap_or_else(|| "/home".into()),
        inputs,
        addresses,
        error,
    };
    Ok(render(me.lang(), status, &page))
}

async fn organisation_edit(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    organisation_edit_page(&me, id, None, Refusal::default(), StatusCode::OK).await
}

async fn organisation_save(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<OrganisationEditForm>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let change = OrganisationChange {
        name: form.name.clone(),
        addresses: form.addresses(),
        phone: form.phone.clone(),
        fax: form.fax.clone(),
        enterprise_number: form.enterprise_number.clone(),
        vat_number: form.vat_number.clone(),
    };
    let dir = dir(&me);
    match organisations::update(dir.db(), dir.clock(), &caller, id, &change).await {
        Ok(_) => {
            let back = organisation_link(&me.caller, id).unwrap_or_else(|| "/home".into());
            Ok(flash::done(&back, "fields-organisation-saved"))
        }
        Err(e) => match shown_refusal(&e) {
            None => Err(e.into()),
            Some(status) => {
                let error = Refusal::of(&me.tr(), &e);
                organisation_edit_page(&me, id, Some(form), error, status).await
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_dates_and_moments_read_as_words() {
        let tz = TimeZone::get("Europe/Brussels").unwrap();
        assert_eq!(
            in_words(Lang::En, &tz, "2026-12-04").as_deref(),
            Some("4 December 2026")
        );
        assert_eq!(
            in_words(Lang::Nl, &tz, "2026-07-01T22:30:00Z").as_deref(),
            Some("2 juli 2026 00:30 CEST")
        );
        for other in [
            "BE-1234",
            "0403.123.486",
            "+32 2 555 66 77",
            "2026-13-01",
            "",
        ] {
            assert!(in_words(Lang::En, &tz, other).is_none(), "{other}");
        }
    }
}

/// Restricting (GDPR Art. 18) and lifting are asked for on a page of their own, which says what
/// the restriction does; the reason is required.
async fn restrict_confirm(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    let p = target(&me, id).await?;
    allowed_on(&me, &p, Action::Restrict)?;
    let tr = me.tr();
    let ask = Confirm {
        title: tr.t("restrict-confirm-heading"),
        message: tr.t("restrict-confirm-text"),
        button: tr.t("restrict-action"),
        hidden: vec![("reason".into(), tr.t("restrict-default-reason"))],
        cancel: format!("/people/{id}"),
        danger: true,
    };
    Ok(confirm::detailed_page(
        &me,
        ask.detailed(
            vec![tr.t("restrict-confirm-undo")],
            vec![
                tr.t("restrict-effect-masked"),
                tr.t("restrict-effect-refused"),
                tr.t("restrict-effect-mail"),
            ],
        ),
    )
    .await)
}

#[derive(Debug, Default, Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn restrict(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<ReasonForm>,
) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let dir = dir(&me);
    let res =
        extranet_directory::restriction::restrict(dir.db(), dir.clock(), &caller, id, &form.reason)
            .await;
    outcome(&me, id, "restrict-placed", None, res).await
}

async fn lift_confirm(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let id = parse_id(&raw)?;
    let p = target(&me, id).await?;
    allowed_on(&me, &p, Action::Restrict)?;
    let tr = me.tr();
    let ask = Confirm {
        title: tr.t("restrict-lift-heading"),
        message: tr.t("restrict-lift-text"),
        button: tr.t("restrict-lift-action"),
        hidden: Vec::new(),
        cancel: format!("/people/{id}"),
        danger: false,
    };
    Ok(confirm::detailed_page(&me, ask.detailed(Vec::new(), Vec::new())).await)
}

async fn lift(me: SignedIn, Path(raw): Path<String>, CsrfForm(_): CsrfForm<Empty>) -> PageResult {
    let id = parse_id(&raw)?;
    let caller = me.current().await?;
    let dir = dir(&me);
    let res = extranet_directory::restriction::lift(dir.db(), dir.clock(), &caller, id).await;
    outcome(&me, id, "restrict-lifted", None, res).await
}
