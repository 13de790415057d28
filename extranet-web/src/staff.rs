//! Staff pages: client organisations and their people. Only `staff` and `admin` reach them;
//! anyone else gets "not found", so the pages do not reveal that they exist.

use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use extranet_identity::model::{NewOrganisation, NewPerson, Organisation, OrganisationKind, Role};
use extranet_identity::recovery::Recovery;
use extranet_identity::tokens::Claims;
use extranet_identity::{
    EmailAddress, EnterpriseNumber, Gender, IdentityError, Language, VatNumber, organisations,
    store,
};
use serde::Deserialize;
use uuid::Uuid;

use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::session::{Csrf, CurrentUser, form_allowed};
use crate::site::Site;
use crate::ui::{Chrome, render};

#[derive(Clone)]
pub(crate) struct StaffState {
    pub site: Arc<Site>,
    pub recovery: Arc<Recovery>,
    pub directory: Arc<extranet_directory::Directory>,
}

pub(crate) fn routes(state: StaffState) -> Router {
    Router::new()
        .route("/staff/organisations", get(list).post(create))
        .route("/staff/organisations/{id}", get(show).post(invite))
        .route("/staff/organisations/{id}/state", post(set_state))
        .with_state(state)
}

/// What every staff form on an organisation's page checks first: a staff member (404 for anyone
/// else, so the page does not reveal itself), an organisation id, and a CSRF-safe submission.
fn staff_form(
    user: &CurrentUser,
    id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    csrf: &Csrf,
    submitted: &str,
) -> Result<(Claims, Uuid), StatusCode> {
    let claims = is_staff(user).cloned().ok_or(StatusCode::NOT_FOUND)?;
    let id = id.parse::<Uuid>().map_err(|_| StatusCode::NOT_FOUND)?;
    if !form_allowed(headers, uri, csrf, submitted) {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok((claims, id))
}

fn is_staff(user: &CurrentUser) -> Option<&Claims> {
    user.0.as_deref().filter(|c| {
        c.roles
            .iter()
            .any(|r| r == Role::Staff.as_str() || r == Role::Admin.as_str())
    })
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
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Default)]
struct OrganisationErrors {
    name: Option<String>,
    kind: Option<String>,
    enterprise_number: Option<String>,
    vat_number: Option<String>,
    phone: Option<String>,
}

#[derive(Template)]
#[template(path = "staff_organisations.html")]
struct ListPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    organisations: Vec<Organisation>,
    form: OrganisationForm,
    errors: OrganisationErrors,
}

fn lang_of(headers: &HeaderMap, site: &Site) -> Lang {
    negotiate(headers, site.default_language)
}

fn kind_label(tr: &Tr, kind: OrganisationKind) -> String {
    tr.t(&format!("kind-{}", kind.as_str().replace('_', "-")))
}

impl ListPage<'_> {
    fn kind(&self, o: &Organisation) -> String {
        kind_label(&self.c.tr, o.kind)
    }
}

async fn list_page(
    st: &StaffState,
    lang: Lang,
    csrf: String,
    form: OrganisationForm,
    errors: OrganisationErrors,
    status: StatusCode,
) -> Response {
    let organisations = match store::list_organisations(&st.recovery.auth.db).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "organisations not readable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    render(
        lang,
        status,
        &ListPage {
            c: Chrome::new(lang, "/staff/organisations"),
            site: &st.site,
            csrf,
            organisations,
            form,
            errors,
        },
    )
}

async fn list(
    State(st): State<StaffState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
) -> Response {
    if is_staff(&user).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let lang = lang_of(&headers, &st.site);
    let form = OrganisationForm {
        kind: "client".into(),
        ..OrganisationForm::default()
    };
    list_page(
        &st,
        lang,
        csrf.0,
        form,
        OrganisationErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn create(
    State(st): State<StaffState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<OrganisationForm>,
) -> Response {
    let Some(claims) = is_staff(&user) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
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
    let phone = match store::parse_phone(&form.phone) {
        Ok(p) => p,
        Err(_) => {
            errors.phone = Some(tr.t("invalid-phone"));
            None
        }
    };
    let (Some(kind), true) = (
        kind,
        errors.name.is_none()
            && errors.enterprise_number.is_none()
            && errors.vat_number.is_none()
            && errors.phone.is_none(),
    ) else {
        return list_page(
            &st,
            lang,
            csrf.0,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let auth = &st.recovery.auth;
    let new = NewOrganisation {
        kind,
        name,
        enterprise_number: enterprise,
        vat_number: vat,
        addresses: Vec::new(),
        phone,
        fax: None,
        sector: None,
    };
    match store::create_organisation(&auth.db, auth.clock.as_ref(), &new).await {
        Ok(org) => {
            audit(&st, claims, "organisation.create", "organisation", org.id).await;
            Redirect::to(&format!("/staff/organisations/{}", org.id)).into_response()
        }
        Err(IdentityError::Taken(_)) => {
            let errors = OrganisationErrors {
                enterprise_number: Some(tr.t("enterprise-number-taken")),
                ..OrganisationErrors::default()
            };
            list_page(&st, lang, csrf.0, form, errors, StatusCode::CONFLICT).await
        }
        Err(e) => {
            tracing::error!(error = %e, "organisation not created");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn audit(st: &StaffState, claims: &Claims, action: &str, kind: &str, id: Uuid) {
    let entry = extranet_audit::NewEntry::new(
        st.recovery.auth.clock.now(),
        action,
        extranet_audit::Outcome::Success,
    )
    .actor(claims.sub)
    .subject(kind, id);
    if let Err(e) = extranet_audit::append(&st.recovery.auth.db, &entry).await {
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
    #[serde(default)]
    csrf: String,
}

#[derive(Debug, Default)]
struct PersonErrors {
    first_name: Option<String>,
    surname: Option<String>,
    email: Option<String>,
    language: Option<String>,
    role: Option<String>,
}

#[derive(Template)]
#[template(path = "staff_organisation.html")]
struct ShowPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    org: Organisation,
    /// The organisation's facts and its people, as the caller may see them (masked).
    facts: Vec<crate::facts::Fact>,
    people_headers: Vec<String>,
    people: Vec<crate::directory::Row>,
    roles: Vec<(&'static str, String)>,
    form: PersonForm,
    errors: PersonErrors,
    notice: Option<String>,
    /// Client and rental companies; never the certification body itself.
    deactivatable: bool,
}

#[derive(Deserialize)]
struct Notice {
    invited: Option<String>,
    state: Option<String>,
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

/// The organisation and its people through the directory: masked like every other output, and
/// the read of the people's records audited.
async fn masked_view(
    st: &StaffState,
    claims: &Claims,
    id: Uuid,
    tr: &Tr,
) -> Result<(Vec<crate::facts::Fact>, Vec<crate::directory::Row>), StatusCode> {
    use extranet_directory::{organisations, people};
    let dir = &st.directory;
    let caller = dir.caller(claims.sub, claims.org, &claims.roles, None);
    let org = organisations::get(dir.db(), dir.clock(), &caller, id)
        .await
        .map_err(|e| match e {
            extranet_directory::DirectoryError::Internal(detail) => {
                tracing::error!(error = %detail, "organisation not readable");
                StatusCode::INTERNAL_SERVER_ERROR
            }
            _ => StatusCode::NOT_FOUND,
        })?;
    let query = people::PersonQuery {
        organisation: Some(id),
        limit: people::MAX_LIMIT,
        ..people::PersonQuery::default()
    };
    let list = people::list(
        dir.db(),
        dir.clock(),
        &caller,
        extranet_access::Action::List,
        &query,
    )
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "people not readable");
        StatusCode::INTERNAL_SERVER_ERROR
    })?;
    Ok((
        crate::facts::facts(tr, &org, &["id", "name"]),
        crate::directory::rows(tr, &list, &crate::directory::CONTACT_COLUMNS, |p| p.id),
    ))
}

#[allow(clippy::too_many_arguments)] // one page, many optional parts
async fn show_page(
    st: &StaffState,
    claims: &Claims,
    id: Uuid,
    lang: Lang,
    csrf: String,
    form: PersonForm,
    errors: PersonErrors,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let db = &st.recovery.auth.db;
    let org = match store::get_organisation(db, id).await {
        Ok(o) => o,
        Err(IdentityError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "organisation not readable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let tr = Tr(lang);
    let (facts, people) = match masked_view(st, claims, id, &tr).await {
        Ok(v) => v,
        Err(status) => return status.into_response(),
    };
    let roles = invitable(org.kind)
        .iter()
        .map(|r| {
            (
                r.as_str(),
                tr.t(&format!("role-{}", r.as_str().replace('_', "-"))),
            )
        })
        .collect();
    let deactivatable = org.kind != OrganisationKind::CertificationBody;
    render(
        lang,
        status,
        &ShowPage {
            c: Chrome::new(lang, "/staff/organisations"),
            site: &st.site,
            csrf,
            org,
            facts,
            people_headers: crate::directory::headers_of(
                &tr,
                "person",
                &crate::directory::CONTACT_COLUMNS,
            ),
            people,
            roles,
            form,
            errors,
            notice,
            deactivatable,
        },
    )
}

async fn show(
    State(st): State<StaffState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(n): Query<Notice>,
) -> Response {
    let Some(claims) = is_staff(&user) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Ok(id) = id.parse::<Uuid>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let notice = match (n.invited, n.state.as_deref()) {
        (Some(email), _) => Some(tr.t1("person-invited", "email", &email)),
        (None, Some("deactivated")) => Some(tr.t("org-deactivated-notice")),
        (None, Some("reactivated")) => Some(tr.t("org-reactivated-notice")),
        _ => None,
    };
    let form = PersonForm {
        language: "nl".into(),
        ..PersonForm::default()
    };
    show_page(
        &st,
        claims,
        id,
        lang,
        csrf.0,
        form,
        PersonErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

// Each argument is an axum extractor; one extractor for the signed-in caller and their address
// would fold three of them.
#[allow(clippy::too_many_arguments)]
async fn invite(
    State(st): State<StaffState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    Form(form): Form<PersonForm>,
) -> Response {
    let (claims, id) = match staff_form(&user, &id, &headers, &uri, &csrf, &form.csrf) {
        Ok(ok) => ok,
        Err(status) => return status.into_response(),
    };
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let auth = &st.recovery.auth;
    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip());
    let org = match store::get_organisation(&auth.db, id).await {
        Ok(o) => o,
        Err(IdentityError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "organisation not readable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
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
        return show_page(
            &st,
            &claims,
            id,
            lang,
            csrf.0,
            form,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewPerson {
        organisation_id: org.id,
        surname: last,
        first_name: first,
        email: email.clone(),
        phone: None,
        mobile: None,
        fax: None,
        function: None,
        gender: Gender::Unspecified,
        language,
        training_valid_until: None,
        birth_date: None,
        licence_plate: None,
        roles: vec![role],
    };
    // Mails asked from this address: checked before the account exists.
    match st.recovery.invitation_wait(ip).await {
        Ok(None) => {}
        Ok(Some(wait)) => {
            let errors = PersonErrors {
                email: Some(tr.t1(
                    "mail-throttled",
                    "minutes",
                    &wait.as_secs().div_ceil(60).to_string(),
                )),
                ..PersonErrors::default()
            };
            let mut res = show_page(
                &st,
                &claims,
                id,
                lang,
                csrf.0,
                form,
                errors,
                None,
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
            res.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(wait.as_secs().max(1)),
            );
            return res;
        }
        Err(e) => {
            tracing::error!(error = %e, "invitation limits not readable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let person = match store::create_person(&auth.db, auth.clock.as_ref(), &new, None).await {
        Ok(p) => p,
        Err(IdentityError::Taken(_)) => {
            let errors = PersonErrors {
                email: Some(tr.t("email-taken")),
                ..PersonErrors::default()
            };
            return show_page(
                &st,
                &claims,
                id,
                lang,
                csrf.0,
                form,
                errors,
                None,
                StatusCode::CONFLICT,
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, "person not created");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    audit(&st, &claims, "account.create", "person", person.id).await;
    if let Err(e) = st.recovery.invite(person.id, ip).await {
        tracing::error!(error = %e, "invitation not queued");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let target = format!(
        "/staff/organisations/{}?invited={}",
        org.id,
        url::form_urlencoded::byte_serialize(email.as_str().as_bytes()).collect::<String>()
    );
    let mut res = Redirect::to(&target).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

#[derive(Debug, Deserialize)]
struct StateForm {
    #[serde(default)]
    csrf: String,
    /// `true` to reactivate, `false` to deactivate; anything else is refused.
    #[serde(default)]
    active: String,
}

/// Deactivates or reactivates a client or rental company (staff and administrators only).
async fn set_state(
    State(st): State<StaffState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Form(form): Form<StateForm>,
) -> Response {
    let (claims, id) = match staff_form(&user, &id, &headers, &uri, &csrf, &form.csrf) {
        Ok(ok) => ok,
        Err(status) => return status.into_response(),
    };
    let auth = &st.recovery.auth;
    let clock = auth.clock.as_ref();
    let res = match form.active.as_str() {
        "false" => match organisations::deactivate(&auth.db, clock, id, Some(claims.sub)).await {
            Ok(ended) => {
                auth.learn(&ended).await;
                Ok("deactivated")
            }
            Err(e) => Err(e),
        },
        "true" => organisations::reactivate(&auth.db, clock, id, Some(claims.sub))
            .await
            .map(|()| "reactivated"),
        _ => return StatusCode::BAD_REQUEST.into_response(),
    };
    match res {
        Ok(done) => {
            Redirect::to(&format!("/staff/organisations/{id}?state={done}")).into_response()
        }
        Err(IdentityError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        // The certification body itself: the page offers no button, so this is a forged form.
        Err(IdentityError::Invalid(_)) => StatusCode::BAD_REQUEST.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "organisation state not changed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
