//! Signing in and out in the browser, and the signed-in person's own page.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use extranet_directory::delegation::{self, ContactChange};
use extranet_directory::people;
use extranet_identity::auth::{Auth, ChangePassword, LoginError};
use extranet_identity::model::Person;
use extranet_identity::password::Weakness;
use extranet_identity::{confirmation, store};
use serde::Deserialize;

use crate::lang::Lang;
use crate::session::cleared_cookies;
use crate::site::Site;
use crate::ui::signed_in::{lang_cookie, session_started};
use crate::ui::{
    Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, Visitor, flash, render, words,
};

#[derive(Clone)]
pub(crate) struct AccountState {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
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
    /// When the person last confirmed their data is correct, if ever.
    confirmed_on: Option<String>,
    /// Where their second factor stands (`None`: not readable just now).
    second_factor: Option<extranet_identity::factor::manage::Status>,
    /// A person of a rental company: birth date, training certificate and vehicles are theirs
    /// to correct.
    rental: bool,
    /// The forms of address: (code, label, chosen).
    genders: Vec<(&'static str, String, bool)>,
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
    /// The following only when the form carries them.
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

impl ProfileForm {
    fn of(p: &Person, plates: &[String], rental: bool) -> ProfileForm {
        let date = |d: Option<time::Date>| Some(d.map(|d| d.to_string()).unwrap_or_default());
        ProfileForm {
            phone: p.phone.clone().unwrap_or_default(),
            mobile: p.mobile.clone().unwrap_or_default(),
            fax: p.fax.clone().unwrap_or_default(),
            function: p.function.clone().unwrap_or_default(),
            language: p.language.code().to_owned(),
            gender: Some(
                match p.gender {
                    extranet_identity::Gender::Mr => "mr",
                    extranet_identity::Gender::Ms => "ms",
                    extranet_identity::Gender::Unspecified => "unspecified",
                }
                .to_owned(),
            ),
            birth_date: if rental { date(p.birth_date) } else { None },
            training_valid_until: if rental {
                date(p.training_valid_until)
            } else {
                None
            },
            licence_plates: rental.then(|| plates.join("\n")),
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
    gender: Option<String>,
    birth_date: Option<String>,
    training_valid_until: Option<String>,
    licence_plates: Option<String>,
    /// A refusal not tied to one of the fields above.
    general: Option<String>,
    password: Option<String>,
}

impl FieldErrors {
    /// The directory's refusal, next to its field.
    fn refused(field: Option<&str>, msg: String) -> FieldErrors {
        let mut e = FieldErrors::default();
        let slot = match field {
            Some("phone") => &mut e.phone,
            Some("mobile") => &mut e.mobile,
            Some("fax") => &mut e.fax,
            Some("function") => &mut e.function,
            Some("language") => &mut e.language,
            Some("gender") => &mut e.gender,
            Some("birth_date") => &mut e.birth_date,
            Some("training_valid_until") => &mut e.training_valid_until,
            Some("licence_plates") => &mut e.licence_plates,
            _ => &mut e.general,
        };
        *slot = Some(msg);
        e
    }

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
    PageRouter::new()
        .page_and_form("/login", login_form, login)
        .page("/account", account)
        .form("/account/profile", save_profile)
        .form("/account/password", change_password)
        .form("/account/confirm", confirm_data)
        .form("/logout", logout)
        .form("/logout/everywhere", logout_everywhere)
        .with_state(state)
        .into_router()
}

async fn login_form(State(st): State<AccountState>, v: Visitor) -> Response {
    if v.claims.is_some() {
        return Redirect::to("/home").into_response();
    }
    login_page(&st, &v, StatusCode::OK, String::new(), None)
}

fn login_page(
    st: &AccountState,
    v: &Visitor,
    status: StatusCode,
    email: String,
    error: Option<String>,
) -> Response {
    render(
        v.lang,
        status,
        &LoginPage {
            // With the message of the action that led here (signed out, password set).
            c: v.chrome(),
            site: &st.site,
            csrf: v.csrf.clone(),
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
}

async fn login(
    State(st): State<AccountState>,
    v: Visitor,
    headers: axum::http::HeaderMap,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    let tr = v.tr();
    let email = form.email.trim().chars().take(254).collect::<String>();
    match st.auth.login(&email, &form.password, v.ip).await {
        Ok(issued) => session_started(&st.auth, &issued, &headers, "/home").await,
        Err(LoginError::Refused) => login_page(
            &st,
            &v,
            StatusCode::UNAUTHORIZED,
            email,
            Some(tr.t("login-failed")),
        ),
        Err(LoginError::Throttled(wait)) => {
            let secs = wait.as_secs().max(1).to_string();
            let mut res = login_page(
                &st,
                &v,
                StatusCode::TOO_MANY_REQUESTS,
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
            PageError::internal(format!("sign-in failed: {e}")).into_response()
        }
    }
}

async fn account(State(st): State<AccountState>, me: SignedIn) -> PageResult {
    account_page(&st, &me, None, FieldErrors::default(), StatusCode::OK).await
}

async fn account_page(
    st: &AccountState,
    me: &SignedIn,
    form: Option<ProfileForm>,
    errors: FieldErrors,
    status: StatusCode,
) -> PageResult {
    let person = store::get_person(&st.auth.db, me.claims.sub).await?;
    let dir = &me.services().directory;
    let rental = delegation::kind_of(dir.db(), person.organisation_id).await? == "rental";
    // One's own record: no read of someone else's, so no audit record.
    let own = people::get(dir.db(), dir.clock(), &me.caller, me.claims.sub).await?;
    let tr = me.tr();
    let roles = person
        .roles
        .iter()
        .map(|r| words::role(&tr, r.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let form =
        form.unwrap_or_else(|| ProfileForm::of(&person, &own.inner().licence_plates, rental));
    let genders =
        crate::directory::gender_options(&tr, form.gender.as_deref().unwrap_or("unspecified"));
    let confirmed_on = confirmation::confirmed_at(&st.auth.db, me.claims.sub)
        .await?
        .map(|at| words::day_of(me.lang(), &st.site.tz(), at));
    let mut res = render(
        me.lang(),
        status,
        &AccountPage {
            c: me.chrome().await,
            site: &st.site,
            csrf: me.csrf(),
            person,
            roles,
            form,
            errors,
            confirmed_on,
            second_factor: crate::second_factor::summary(&st.auth, me.claims.sub).await,
            rental,
            genders,
        },
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

async fn save_profile(
    State(st): State<AccountState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<ProfileForm>,
) -> PageResult {
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
    if errors.any() {
        let tr = me.tr();
        let errors = FieldErrors {
            phone: errors.phone.map(|_| tr.t("invalid-phone")),
            mobile: errors.mobile.map(|_| tr.t("invalid-phone")),
            fax: errors.fax.map(|_| tr.t("invalid-phone")),
            function: errors.function.map(|_| tr.t("invalid-function")),
            language: errors.language.map(|_| tr.t("invalid-language")),
            ..FieldErrors::default()
        };
        return account_page(
            &st,
            &me,
            Some(form),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let language = language.unwrap_or_default();
    let change = ContactChange {
        phone: Some(p.unwrap_or_default()),
        mobile: Some(m.unwrap_or_default()),
        fax: Some(f.unwrap_or_default()),
        function: Some(function.to_owned()),
        language: Some(language.code().to_owned()),
        gender: form.gender.clone(),
        birth_date: form.birth_date.clone(),
        training_valid_until: form.training_valid_until.clone(),
        licence_plates: form
            .licence_plates
            .as_deref()
            .map(crate::directory::plate_lines),
        ..ContactChange::default()
    };
    let caller = me.current().await?;
    let dir = &me.services().directory;
    // The change, its audit record and the confirmation of the data commit together.
    if let Err(e) = delegation::update_own(dir.db(), dir.clock(), &caller, &change).await {
        let Some(status) = crate::directory::shown_refusal(&e) else {
            return Err(e.into());
        };
        let (mut field, msg) = crate::directory::message(&me.tr(), &e);
        // A field the page does not show (the rental-only ones elsewhere): above the form.
        let rental = delegation::kind_of(dir.db(), me.claims.org).await? == "rental";
        if !rental && field.is_some_and(|f| delegation::RENTAL_FIELDS.contains(&f)) {
            field = None;
        }
        return account_page(
            &st,
            &me,
            Some(form),
            FieldErrors::refused(field, msg),
            status,
        )
        .await;
    }
    crate::ui::chrome::forget_name(me.claims.sub);
    // The interface follows the language just chosen.
    let mut res = flash::done("/account", "profile-saved");
    if let Some(c) = Lang::parse(language.code()).and_then(lang_cookie) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}

/// A form with nothing but its CSRF token (a button).
#[derive(Deserialize)]
pub(crate) struct Button {}

/// "My data is correct": records the confirmation (and its audit entry) and comes back.
async fn confirm_data(
    State(st): State<AccountState>,
    me: SignedIn,
    CsrfForm(_): CsrfForm<Button>,
) -> PageResult {
    confirmation::confirm(&st.auth.db, st.auth.clock.as_ref(), me.claims.sub, me.v.ip).await?;
    Ok(flash::done("/account", "data-confirmed"))
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn change_password(
    State(st): State<AccountState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> PageResult {
    let tr = me.tr();
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    let mut retry_after = None;
    let error = if form.password != form.confirm {
        Some(tr.t("password-mismatch"))
    } else {
        match st
            .auth
            .change_password(&me.claims, &form.current, &form.password, me.v.ip)
            .await?
        {
            ChangePassword::Throttled(wait) => {
                let secs = wait.as_secs().max(1);
                status = StatusCode::TOO_MANY_REQUESTS;
                retry_after = Some(secs);
                Some(tr.t1("login-throttled", "seconds", &secs.to_string()))
            }
            ChangePassword::Done => return Ok(flash::done("/account", "password-changed")),
            ChangePassword::WrongCurrent => Some(tr.t("password-current-wrong")),
            ChangePassword::Weak(Weakness::TooShort { min }) => {
                Some(tr.t1("password-too-short", "min", &min.to_string()))
            }
            ChangePassword::Weak(Weakness::TooLong { max }) => {
                Some(tr.t1("password-too-long", "max", &max.to_string()))
            }
            ChangePassword::Weak(Weakness::Guessable { .. }) => Some(tr.t("password-guessable")),
        }
    };
    let errors = FieldErrors {
        password: error,
        ..FieldErrors::default()
    };
    let mut res = account_page(&st, &me, None, errors, status).await?;
    if let Some(secs) = retry_after {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    Ok(res)
}

async fn logout(
    State(st): State<AccountState>,
    v: Visitor,
    CsrfForm(_): CsrfForm<Button>,
) -> PageResult {
    sign_out(st, v, false).await
}

async fn logout_everywhere(
    State(st): State<AccountState>,
    v: Visitor,
    CsrfForm(_): CsrfForm<Button>,
) -> PageResult {
    sign_out(st, v, true).await
}

async fn sign_out(st: AccountState, v: Visitor, everywhere: bool) -> PageResult {
    if let Some(claims) = &v.claims {
        if everywhere {
            st.auth.logout_everywhere(claims).await?;
        } else {
            st.auth.logout(claims).await?;
        }
    }
    let mut res = flash::done("/login", "signed-out");
    for c in cleared_cookies() {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(res)
}
