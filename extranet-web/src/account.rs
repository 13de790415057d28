//! Signing in and out in the browser, and the signed-in person's own page.

use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Form, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Router, routing::get, routing::post};
use extranet_identity::auth::{Auth, ChangePassword, LoginError};
use extranet_identity::model::Person;
use extranet_identity::password::Weakness;
use extranet_identity::{confirmation, store};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::ui::{Chrome, render};
use crate::session::{Csrf, CurrentUser, cleared_cookies, form_allowed, session_cookies};
use crate::site::Site;

#[derive(Clone)]
pub(crate) struct AccountState {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
    pub directory: Arc<extranet_directory::Directory>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    person: Person,
    roles: String,
    /// The profile form's values (what the person typed, when it is shown again with errors).
    form: ProfileForm,
    errors: FieldErrors,
    notice: Option<String>,
    /// Those who may search the audit log get a link to it.
    audit_log: bool,
    /// When the person last confirmed their data is correct (a UTC date), if ever.
    confirmed_on: Option<String>,
    /// Staff and administrators get a link to the organisations.
    staff: bool,
    /// A company's people get a link to "my company".
    company: bool,
    /// Where their second factor stands (`None`: not readable just now).
    second_factor: Option<extranet_identity::factor::manage::Status>,
}

#[derive(Debug, Default, Deserialize)]
struct ProfileForm {
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

impl ProfileForm {
    fn of(p: &Person) -> ProfileForm {
        ProfileForm {
            phone: p.phone.clone().unwrap_or_default(),
            mobile: p.mobile.clone().unwrap_or_default(),
            fax: p.fax.clone().unwrap_or_default(),
            function: p.function.clone().unwrap_or_default(),
            language: p.language.code().to_owned(),
            csrf: String::new(),
        }
    }
}

/// Errors shown next to their fields.
#[derive(Debug, Default)]
struct FieldErrors {
    phone: Option<String>,
    mobile: Option<String>,
    fax: Option<String>,
    function: Option<String>,
    language: Option<String>,
    password: Option<String>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.phone.is_some()
            || self.mobile.is_some()
            || self.fax.is_some()
            || self.function.is_some()
            || self.language.is_some()
            || self.password.is_some()
    }
}

pub(crate) fn routes(state: AccountState) -> Router {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/account", get(account))
        .route("/account/profile", post(save_profile))
        .route("/account/password", post(change_password))
        .route("/account/confirm", post(confirm_data))
        .route("/logout", post(logout))
        .route("/logout/everywhere", post(logout_everywhere))
        .with_state(state)
}

fn lang_of(headers: &HeaderMap, site: &Site) -> Lang {
    negotiate(headers, site.default_language)
}

async fn login_form(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
) -> Response {
    if user.0.is_some() {
        return Redirect::to("/account").into_response();
    }
    let lang = lang_of(&headers, &st.site);
    login_page(&st, lang, StatusCode::OK, csrf.0, String::new(), None)
}

fn login_page(
    st: &AccountState,
    lang: Lang,
    status: StatusCode,
    csrf: String,
    email: String,
    error: Option<String>,
) -> Response {
    render(
        lang,
        status,
        &LoginPage {
            c: Chrome::new(lang, "/login"),
            site: &st.site,
            csrf,
            email,
            error,
        },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(st): State<AccountState>,
    Extension(csrf): Extension<Csrf>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let email = form.email.trim().chars().take(254).collect::<String>();
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return login_page(
            &st,
            lang,
            StatusCode::FORBIDDEN,
            csrf.0,
            email,
            Some(tr.t("form-expired")),
        );
    }
    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip());
    match st.auth.login(&email, &form.password, ip).await {
        Ok(issued) => {
            let mut res = Redirect::to("/account").into_response();
            for c in session_cookies(&st.auth, &issued) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        Err(LoginError::Refused) => login_page(
            &st,
            lang,
            StatusCode::UNAUTHORIZED,
            csrf.0,
            email,
            Some(tr.t("login-failed")),
        ),
        Err(LoginError::Throttled(wait)) => {
            let secs = wait.as_secs().max(1).to_string();
            let mut res = login_page(
                &st,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                csrf.0,
                email,
                Some(tr.t1("login-throttled", "seconds", &secs)),
            );
            if let Ok(v) = secs.parse() {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        Err(LoginError::SecondFactor(challenge)) => {
            crate::second_factor::challenge_redirect(&challenge)
        }
        Err(LoginError::Other(e)) => {
            tracing::error!(error = %e, "sign-in failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<String>,
}

async fn account(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    axum::extract::Query(saved): axum::extract::Query<Saved>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    let lang = lang_of(&headers, &st.site);
    let notice = match saved.saved.as_deref() {
        Some("profile") => Some(Tr(lang).t("account-saved")),
        Some("password") => Some(Tr(lang).t("password-changed")),
        Some("confirmed") => Some(Tr(lang).t("confirmation-done")),
        _ => None,
    };
    account_page(
        &st,
        &claims,
        lang,
        csrf.0,
        None,
        FieldErrors::default(),
        notice,
        StatusCode::OK,
    )
    .await
}

#[allow(clippy::too_many_arguments)] // one page, many optional parts
async fn account_page(
    st: &AccountState,
    claims: &extranet_identity::tokens::Claims,
    lang: Lang,
    csrf: String,
    form: Option<ProfileForm>,
    errors: FieldErrors,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let person = match store::get_person(&st.auth.db, claims.sub).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "own record not readable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let tr = Tr(lang);
    let roles = person
        .roles
        .iter()
        .map(|r| tr.t(&format!("role-{}", r.as_str().replace('_', "-"))))
        .collect::<Vec<_>>()
        .join(", ");
    let form = form.unwrap_or_else(|| ProfileForm::of(&person));
    let confirmed_on = match confirmation::confirmed_at(&st.auth.db, claims.sub).await {
        Ok(at) => at.map(utc_date),
        Err(e) => {
            tracing::error!(error = %e, "confirmation date not readable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut res = render(
        lang,
        status,
        &AccountPage {
            c: Chrome::new(lang, "/account"),
            site: &st.site,
            csrf,
            person,
            roles,
            form,
            errors,
            notice,
            audit_log: crate::audit_log::may_search_audit(
                &st.directory
                    .policy()
                    .grants(claims.roles.iter().map(String::as_str), []),
            ),
            confirmed_on,
            staff: claims.roles.iter().any(|r| r == "staff" || r == "admin"),
            company: claims.roles.iter().any(|r| r.starts_with("client_")),
            second_factor: crate::second_factor::summary(&st.auth, claims.sub).await,
        },
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

async fn save_profile(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<ProfileForm>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let mut errors = FieldErrors::default();
    let phone = |raw: &str, slot: &mut Option<String>| match store::parse_phone(raw) {
        Ok(v) => v,
        Err(_) => {
            *slot = Some("phone".into());
            None
        }
    };
    let p = phone(&form.phone, &mut errors.phone);
    let m = phone(&form.mobile, &mut errors.mobile);
    let f = phone(&form.fax, &mut errors.fax);
    let function = form.function.trim();
    if function.chars().count() > 100 {
        errors.function = Some("function".into());
    }
    let language = form.language.parse::<extranet_identity::Language>();
    if language.is_err() {
        errors.language = Some("language".into());
    }
    // The language of the page is the one the person is choosing, when it is valid.
    let lang = Lang::parse(&form.language).unwrap_or_else(|| lang_of(&headers, &st.site));
    let tr = Tr(lang);
    if errors.any() {
        let errors = FieldErrors {
            phone: errors.phone.map(|_| tr.t("invalid-phone")),
            mobile: errors.mobile.map(|_| tr.t("invalid-phone")),
            fax: errors.fax.map(|_| tr.t("invalid-phone")),
            function: errors.function.map(|_| tr.t("invalid-function")),
            language: errors.language.map(|_| tr.t("invalid-language")),
            password: None,
        };
        return account_page(
            &st,
            &claims,
            lang,
            csrf.0,
            Some(form),
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let profile = store::OwnProfile {
        phone: p,
        mobile: m,
        fax: f,
        function: (!function.is_empty()).then(|| function.to_owned()),
        language: language.unwrap_or_default(),
    };
    if let Err(e) = st.auth.update_own_profile(&claims, &profile).await {
        tracing::error!(error = %e, "profile update failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    // The interface follows the language just chosen.
    let mut res = Redirect::to("/account?saved=profile").into_response();
    let cookie = axum_extra::extract::cookie::Cookie::build((
        crate::lang::LANG_COOKIE,
        profile.language.code(),
    ))
    .path("/")
    .secure(true)
    .http_only(true)
    .same_site(axum_extra::extract::cookie::SameSite::Lax)
    .max_age(time::Duration::days(365))
    .build();
    if let Ok(v) = header::HeaderValue::from_str(&cookie.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// A UTC date as `YYYY-MM-DD`.
pub(crate) fn utc_date(at: time::OffsetDateTime) -> String {
    let d = at.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// "My data is correct": records the confirmation (and its audit entry) and comes back.
async fn confirm_data(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    match confirmation::confirm(&st.auth.db, st.auth.clock.as_ref(), claims.sub).await {
        Ok(_) => Redirect::to("/account?saved=confirmed").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "data confirmation not recorded");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    csrf: String,
}

async fn change_password(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip());
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    let mut retry_after = None;
    let error = if form.password != form.confirm {
        Some(tr.t("password-mismatch"))
    } else {
        match st
            .auth
            .change_password(&claims, &form.current, &form.password, ip)
            .await
        {
            Ok(ChangePassword::Throttled(wait)) => {
                let secs = wait.as_secs().max(1);
                status = StatusCode::TOO_MANY_REQUESTS;
                retry_after = Some(secs);
                Some(tr.t1("login-throttled", "seconds", &secs.to_string()))
            }
            Ok(ChangePassword::Done) => {
                return Redirect::to("/account?saved=password").into_response();
            }
            Ok(ChangePassword::WrongCurrent) => Some(tr.t("password-current-wrong")),
            Ok(ChangePassword::Weak(Weakness::TooShort { min })) => {
                Some(tr.t1("password-too-short", "min", &min.to_string()))
            }
            Ok(ChangePassword::Weak(Weakness::TooLong { max })) => {
                Some(tr.t1("password-too-long", "max", &max.to_string()))
            }
            Ok(ChangePassword::Weak(Weakness::Guessable { .. })) => {
                Some(tr.t("password-guessable"))
            }
            Err(e) => {
                tracing::error!(error = %e, "password change failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    };
    let errors = FieldErrors {
        password: error,
        ..FieldErrors::default()
    };
    let mut res = account_page(&st, &claims, lang, csrf.0, None, errors, None, status).await;
    if let Some(secs) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    res
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CsrfForm>,
) -> Response {
    sign_out(st, user, csrf, headers, uri, form, false).await
}

async fn logout_everywhere(
    State(st): State<AccountState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CsrfForm>,
) -> Response {
    sign_out(st, user, csrf, headers, uri, form, true).await
}

async fn sign_out(
    st: AccountState,
    user: CurrentUser,
    csrf: Csrf,
    headers: HeaderMap,
    uri: Uri,
    form: CsrfForm,
    everywhere: bool,
) -> Response {
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    if let Some(claims) = &user.0 {
        let res = if everywhere {
            st.auth.logout_everywhere(claims).await.map(|_| ())
        } else {
            st.auth.logout(claims).await
        };
        if let Err(e) = res {
            tracing::error!(error = %e, "sign-out failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let mut res = Redirect::to("/").into_response();
    for c in cleared_cookies() {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}
