//! Staff pages: organisations, their people and their certification files. Whoever the policy
//! grants `organisation.list` across all organisations reaches them (staff, administrators, the
//! privacy coordinator); anyone else gets "not found", so the pages do not reveal that they
//! exist. Creating an organisation needs `organisation.create`, inviting `person.invite`,
//! deactivating `organisation.deactivate`: the forms appear only for those who have them, and
//! the handlers check again.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::Response;
use extranet_access::{Action, Domain, DomainSet, OrganisationView, PersonView, Resource};
use extranet_audit::Outcome;
use extranet_directory::people::PersonQuery;
use extranet_directory::{Caller, DirectoryError, dossiers, organisations as dir_orgs, people};
use extranet_identity::model::{NewPerson, OrganisationKind, Role};
use extranet_identity::recovery::Recovery;
use extranet_identity::{
    EmailAddress, EnterpriseNumber, Gender, IdentityError, Language, VatNumber, store,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::directory::{Row, headers_of, reword_facts, reword_rows, rows};
use crate::facts::Fact;
use crate::i18n::Tr;
use crate::site::Site;
use crate::ui::confirm::{self, Confirm};
use crate::ui::{Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, flash, render};

/// Built by `pages::routes`; the handlers read the services from [`SignedIn`].
#[derive(Clone)]
#[allow(dead_code)]
pub(crate) struct StaffState {
    pub site: Arc<Site>,
    pub recovery: Arc<Recovery>,
    pub directory: Arc<extranet_directory::Directory>,
}

pub(crate) fn routes(state: StaffState) -> Router {
    PageRouter::new()
        .page_and_form("/staff/organisations", list, create)
        .page_and_form("/staff/organisations/{id}", show, invite)
        .page_and_form(
            "/staff/organisations/{id}/deactivate",
            deactivate_confirm,
            deactivate,
        )
        .form("/staff/organisations/{id}/reactivate", reactivate)
        .with_state(state)
        .into_router()
}

fn all() -> DomainSet {
    DomainSet::default().with(Domain::All)
}

/// The staff pages exist only for whoever may list every organisation.
fn staff_pages(caller: &Caller) -> PageResult<()> {
    if caller
        .grants
        .allows(Resource::Organisation, Action::List, all())
    {
        Ok(())
    } else {
        Err(PageError::NotFound)
    }
}

/// On a staff page, an action the caller's grants allow across all organisations.
fn may(caller: &Caller, resource: Resource, action: Action) -> bool {
    caller.grants.allows(resource, action, all())
}

fn parse_id(raw: &str) -> PageResult<Uuid> {
    raw.parse().map_err(|_| PageError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
struct OrganisationForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    enterprise_number: String,
    #[serde(default)]
    vat_number: String,
    #[serde(default)]
    phone: String,
}

#[derive(Debug, Default)]
struct OrganisationErrors {
    name: Option<String>,
    kind: Option<String>,
    enterprise_number: Option<String>,
    vat_number: Option<String>,
    phone: Option<String>,
}

/// One line of the organisations table, in words.
struct OrgLine {
    id: Uuid,
    name: String,
    kind: String,
    enterprise_number: String,
    state: String,
}

#[derive(Template)]
#[template(path = "staff_organisations.html")]
struct ListPage<'a> {
    c: Chrome,
    site: &'a Site,
    organisations: Vec<OrgLine>,
    /// The creation form, for those who may create.
    can_create: bool,
    form: OrganisationForm,
    errors: OrganisationErrors,
}

fn kind_label(tr: &Tr, kind: &str) -> String {
    tr.t(&format!("kind-{}", kind.replace('_', "-")))
}

fn active_label(tr: &Tr, active: bool) -> String {
    tr.t(if active {
        "state-active"
    } else {
        "state-deactivated"
    })
}

async fn list_page(
    me: &SignedIn,
    form: OrganisationForm,
    errors: OrganisationErrors,
    status: StatusCode,
) -> PageResult {
    let dir = &me.services().directory;
    let tr = me.tr();
    let organisations = dir_orgs::list(dir.db(), dir.clock(), &me.caller)
        .await?
        .into_iter()
        .map(|o| {
            let v = o.inner();
            OrgLine {
                id: v.id,
                name: v.name.clone(),
                kind: kind_label(&tr, &v.kind),
                enterprise_number: v.enterprise_number.clone().unwrap_or_default(),
                state: active_label(&tr, v.active),
            }
        })
        .collect();
    let page = ListPage {
        c: me.chrome().await,
        site: &me.services().site,
        organisations,
        can_create: may(&me.caller, Resource::Organisation, Action::Create),
        form,
        errors,
    };
    Ok(render(me.lang(), status, &page))
}

async fn list(me: SignedIn) -> PageResult {
    staff_pages(&me.caller)?;
    let form = OrganisationForm {
        kind: "client".into(),
        ..OrganisationForm::default()
    };
    list_page(&me, form, OrganisationErrors::default(), StatusCode::OK).await
}

async fn create(me: SignedIn, CsrfForm(form): CsrfForm<OrganisationForm>) -> PageResult {
    let caller = me.current().await?;
    staff_pages(&caller)?;
    if !may(&caller, Resource::Organisation, Action::Create) {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    let mut errors = OrganisationErrors::default();
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        errors.name = Some(tr.t("invalid-name"));
    }
    let kind = match form.kind.as_str() {
        "client" => Some(OrganisationKind::Client),
        "rental" => Some(OrganisationKind::Rental),
        _ => {
            errors.kind = Some(tr.t("invalid-kind"));
            None
        }
    };
    let enterprise = match form.enterprise_number.trim() {
        "" => None,
        raw => match raw.parse::<EnterpriseNumber>() {
            Ok(n) => Some(n),
            Err(e) => {
                errors.enterprise_number = Some(tr.t(e.code));
                None
            }
        },
    };
    let vat = match form.vat_number.trim() {
        "" => None,
        raw => match raw.parse::<VatNumber>() {
            Ok(n) => Some(n),
            Err(e) => {
                errors.vat_number = Some(tr.t(e.code));
                None
            }
        },
    };
    let phone = store::parse_phone(&form.phone).unwrap_or_else(|_| {
        errors.phone = Some(tr.t("invalid-phone"));
        None
    });
    let (Some(kind), true) = (
        kind,
        errors.name.is_none()
            && errors.enterprise_number.is_none()
            && errors.vat_number.is_none()
            && errors.phone.is_none(),
    ) else {
        return list_page(&me, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    // Checked above for messages in the person's language; the directory checks again, and
    // writes the organisation and its audit record (with the client address) together.
    let new = dir_orgs::NewOrganisation {
        kind: kind.as_str().to_owned(),
        name,
        enterprise_number: enterprise.map(|n| n.digits().to_owned()),
        vat_number: vat.map(|n| n.to_string()),
        phone,
    };
    let dir = &me.services().directory;
    match dir_orgs::create(dir.db(), dir.clock(), &caller, new).await {
        Ok(id) => Ok(flash::done(
            &format!("/staff/organisations/{id}"),
            "organisation-created",
        )),
        Err(DirectoryError::Taken(_)) => {
            let errors = OrganisationErrors {
                enterprise_number: Some(tr.t("enterprise-number-taken")),
                ..OrganisationErrors::default()
            };
            list_page(&me, form, errors, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The audit record of a change made here by `caller` (with the client address).
async fn audit(
    me: &SignedIn,
    caller: &Caller,
    action: &str,
    kind: &str,
    id: Uuid,
    organisation: Uuid,
) {
    let auth = &me.services().auth;
    let entry = caller
        .entry(auth.clock.as_ref(), action, Outcome::Success)
        .subject(kind, id)
        .organisation(organisation);
    if let Err(e) = extranet_audit::append(&auth.db, &entry).await {
        tracing::error!(error = %e, %action, "audit record not written");
    }
}

#[derive(Debug, Default, Deserialize)]
struct PersonForm {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    surname: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Default)]
struct PersonErrors {
    first_name: Option<String>,
    surname: Option<String>,
    email: Option<String>,
    language: Option<String>,
    role: Option<String>,
}

/// The organisation's people as the staff page lists them.
const PEOPLE_COLUMNS: [&str; 5] = ["first_name", "surname", "email", "roles", "state"];
/// Its certification files.
const DOSSIER_COLUMNS: [&str; 5] = [
    "scheme",
    "certificate_number",
    "status",
    "valid_from",
    "valid_until",
];

#[derive(Template)]
#[template(path = "staff_organisation.html")]
struct ShowPage<'a> {
    c: Chrome,
    site: &'a Site,
    id: Uuid,
    name: String,
    active: bool,
    /// The organisation's facts, as the caller may see them (masked).
    facts: Vec<Fact>,
    people_headers: Vec<String>,
    people: Vec<Row>,
    dossier_headers: Vec<String>,
    dossiers: Vec<Row>,
    /// Roles the invitation form offers; empty: no form.
    roles: Vec<(&'static str, String)>,
    form: PersonForm,
    errors: PersonErrors,
    /// Client and rental companies, for those who may deactivate; never the certification
    /// body itself.
    deactivatable: bool,
    /// A new certification file for this company, for those who may create one.
    create: Option<crate::backoffice::DossierCreation>,
    /// Its pending invitations, for those the policy shows them to.
    invitations: Option<crate::backoffice::Invitations>,
    /// A link to the form that changes the organisation's details.
    editable: bool,
}

/// Roles staff may give when inviting into this kind of organisation.
fn invitable(kind: OrganisationKind) -> &'static [Role] {
    match kind {
        OrganisationKind::CertificationBody => {
            &[Role::Staff, Role::PrivacyOfficer, Role::Inspector]
        }
        OrganisationKind::Client | OrganisationKind::Rental => {
            &[Role::ClientAdmin, Role::ClientUser]
        }
    }
}

fn kind_of(view: &OrganisationView) -> Option<OrganisationKind> {
    match view.kind.as_str() {
        "certification_body" => Some(OrganisationKind::CertificationBody),
        "client" => Some(OrganisationKind::Client),
        "rental" => Some(OrganisationKind::Rental),
        _ => None,
    }
}

async fn show_page(
    me: &SignedIn,
    id: Uuid,
    form: PersonForm,
    errors: PersonErrors,
    status: StatusCode,
) -> PageResult {
    let dir = &me.services().directory;
    let caller = &me.caller;
    let tr = me.tr();
    let tz = me.services().site.tz();
    let org = dir_orgs::get(dir.db(), dir.clock(), caller, id).await?;
    let view = org.inner();
    let kind = kind_of(view);
    let company = matches!(
        kind,
        Some(OrganisationKind::Client | OrganisationKind::Rental)
    );
    let query = PersonQuery {
        organisation: Some(id),
        limit: people::MAX_LIMIT,
        ..PersonQuery::default()
    };
    let people_list = people::list(dir.db(), dir.clock(), caller, Action::List, &query).await?;
    let dossier_list = dossiers::list(dir.db(), dir.clock(), caller, Some(id)).await?;
    let mut facts = crate::facts::facts(&tr, &org, &["id", "name"]);
    reword_facts(me.lang(), &tz, &mut facts);
    let mut dossiers = rows(&tr, &dossier_list, &DOSSIER_COLUMNS, |d| d.id);
    reword_rows(me.lang(), &tz, &mut dossiers);
    let roles = match kind {
        Some(k) if may(caller, Resource::Person, Action::Invite) => invitable(k)
            .iter()
            .map(|r| (r.as_str(), crate::ui::words::role(&tr, r.as_str())))
            .collect(),
        _ => Vec::new(),
    };
    let editable = crate::directory::may_edit_organisation(caller, &org);
    let page = ShowPage {
        editable,
        c: me.chrome().await,
        site: &me.services().site,
        id,
        name: view.name.clone(),
        active: view.active,
        facts,
        people_headers: headers_of(&tr, "person", &PEOPLE_COLUMNS),
        people: rows(&tr, &people_list, &PEOPLE_COLUMNS, |p: &PersonView| p.id),
        dossier_headers: headers_of(&tr, "dossier", &DOSSIER_COLUMNS),
        dossiers,
        roles,
        form,
        errors,
        deactivatable: may(caller, Resource::Organisation, Action::Deactivate)
            && matches!(
                kind,
                Some(OrganisationKind::Client | OrganisationKind::Rental)
            ),
        create: if company && view.active {
            crate::backoffice::dossier_creation(me, Some(id), None, Default::default()).await?
        } else {
            None
        },
        invitations: if company {
            crate::backoffice::pending_invitations(me, id).await?
        } else {
            None
        },
    };
    Ok(render(me.lang(), status, &page))
}

async fn show(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    staff_pages(&me.caller)?;
    let id = parse_id(&raw)?;
    let form = PersonForm {
        language: "nl".into(),
        ..PersonForm::default()
    };
    show_page(&me, id, form, PersonErrors::default(), StatusCode::OK).await
}

async fn invite(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> PageResult {
    let caller = me.current().await?;
    staff_pages(&caller)?;
    let id = parse_id(&raw)?;
    if !may(&caller, Resource::Person, Action::Invite) {
        return Err(PageError::Forbidden);
    }
    let tr = me.tr();
    let services = me.services();
    let auth = &services.auth;
    let org = store::get_organisation(&auth.db, id).await?;
    let mut errors = PersonErrors::default();
    let first = form.first_name.trim().to_owned();
    let last = form.surname.trim().to_owned();
    if first.is_empty() || first.chars().count() > 100 {
        errors.first_name = Some(tr.t("invalid-name"));
    }
    if last.is_empty() || last.chars().count() > 100 {
        errors.surname = Some(tr.t("invalid-name"));
    }
    let email = form
        .email
        .parse::<EmailAddress>()
        .map_err(|_| errors.email = Some(tr.t("email-format")))
        .ok();
    let language = form
        .language
        .parse::<Language>()
        .map_err(|_| errors.language = Some(tr.t("invalid-language")))
        .ok();
    // Only the roles this page offers: a role smuggled into the form is refused.
    let role = Role::parse(&form.role)
        .ok()
        .filter(|r| invitable(org.kind).contains(r));
    if role.is_none() {
        errors.role = Some(tr.t("invalid-role"));
    }
    let (Some(email), Some(language), Some(role), None, None) =
        (email, language, role, &errors.first_name, &errors.surname)
    else {
        return show_page(&me, id, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let new = NewPerson {
        organisation_id: org.id,
        surname: last,
        first_name: first,
        email,
        phone: None,
        mobile: None,
        fax: None,
        function: None,
        gender: Gender::Unspecified,
        language,
        training_valid_until: None,
        birth_date: None,
        licence_plates: Vec::new(),
        roles: vec![role],
    };
    // Mails asked from this address: checked before the account exists.
    if let Some(wait) = services.recovery.invitation_wait(caller.ip).await? {
        let errors = PersonErrors {
            email: Some(tr.t1(
                "mail-throttled",
                "minutes",
                &wait.as_secs().div_ceil(60).to_string(),
            )),
            ..PersonErrors::default()
        };
        let mut res: Response =
            show_page(&me, id, form, errors, StatusCode::TOO_MANY_REQUESTS).await?;
        res.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(wait.as_secs().max(1)),
        );
        return Ok(res);
    }
    let person = match store::create_person(&auth.db, auth.clock.as_ref(), &new, None).await {
        Ok(p) => p,
        Err(IdentityError::Taken(_)) => {
            let errors = PersonErrors {
                email: Some(tr.t("email-taken")),
                ..PersonErrors::default()
            };
            return show_page(&me, id, form, errors, StatusCode::CONFLICT).await;
        }
        Err(e) => return Err(e.into()),
    };
    audit(&me, &caller, "account.create", "person", person.id, org.id).await;
    services.recovery.invite(person.id, caller.ip).await?;
    Ok(flash::done(
        &format!("/staff/organisations/{}", org.id),
        "person-invited",
    ))
}

/// The organisation a deactivation is about, if the caller may deactivate it.
async fn deactivatable(me: &SignedIn, caller: &Caller, raw: &str) -> PageResult<OrganisationView> {
    staff_pages(caller)?;
    let id = parse_id(raw)?;
    let dir = &me.services().directory;
    let org = dir_orgs::get(dir.db(), dir.clock(), caller, id).await?;
    if !may(caller, Resource::Organisation, Action::Deactivate) {
        return Err(PageError::Forbidden);
    }
    let view = org.inner().clone();
    // The certification body itself: the page offers no button, so this is a forged request.
    if !matches!(
        kind_of(&view),
        Some(OrganisationKind::Client | OrganisationKind::Rental)
    ) {
        return Err(PageError::BadRequest);
    }
    Ok(view)
}

async fn deactivate_confirm(me: SignedIn, Path(raw): Path<String>) -> PageResult {
    let org = deactivatable(&me, &me.caller, &raw).await?;
    let tr = me.tr();
    let ask = Confirm {
        title: tr.t1("confirm-deactivate-org-heading", "name", &org.name),
        message: tr.t("org-deactivate-help"),
        button: tr.t("org-deactivate"),
        hidden: Vec::new(),
        cancel: format!("/staff/organisations/{}", org.id),
        danger: true,
    };
    Ok(confirm::detailed_page(
        &me,
        ask.detailed(vec![tr.t("confirm-deactivate-org-undo")], Vec::new()),
    )
    .await)
}

#[derive(Debug, Default, Deserialize)]
struct Empty {}

async fn deactivate(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let caller = me.current().await?;
    let org = deactivatable(&me, &caller, &raw).await?;
    let dir = &me.services().directory;
    dir_orgs::set_active(
        dir.db(),
        dir.clock(),
        dir.revocations(),
        &caller,
        org.id,
        false,
    )
    .await?;
    Ok(flash::done(
        &format!("/staff/organisations/{}", org.id),
        "organisation-deactivated",
    ))
}

async fn reactivate(
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> PageResult {
    let caller = me.current().await?;
    let org = deactivatable(&me, &caller, &raw).await?;
    let dir = &me.services().directory;
    dir_orgs::set_active(
        dir.db(),
        dir.clock(),
        dir.revocations(),
        &caller,
        org.id,
        true,
    )
    .await?;
    Ok(flash::done(
        &format!("/staff/organisations/{}", org.id),
        "organisation-reactivated",
    ))
}
