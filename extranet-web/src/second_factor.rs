//! The second factor in the browser: the second step of signing in (a code, a recovery code,
//! or enrolment for someone whose role requires a factor and who has none), the person's own
//! "Second factor" page, and an administrator's reset on a person's page (with a confirmation
//! step). The decisions are `extranet_identity::factor`'s and the directory's.
//!
//! Between the password and the code the browser holds only the challenge, in a `__Host-`
//! cookie (HttpOnly, Secure, SameSite=Strict); no session exists until the code is right.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Router, routing::get, routing::post};
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use extranet_directory::{Directory, DirectoryError};
use extranet_identity::auth::Auth;
use extranet_identity::factor::manage::{Manage, Status};
use extranet_identity::factor::sign_in::{SignIn, Via};
use extranet_identity::factor::{Challenge, Enrolment, Proof};
use serde::Deserialize;
use uuid::Uuid;

use crate::i18n::Tr;
use crate::lang::{Lang, negotiate};
use crate::ui::{Chrome, render};
use crate::session::{Csrf, CurrentUser, form_allowed, session_cookies};
use crate::site::Site;

/// The pending sign-in's challenge, between the password and the code.
pub const CHALLENGE_COOKIE: &str = "__Host-signin";

#[derive(Clone)]
pub(crate) struct FactorState {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
    pub directory: Arc<Directory>,
}

pub(crate) fn routes(state: FactorState) -> Router {
    Router::new()
        .route("/login/second-factor", get(step_form).post(step))
        .route("/account/second-factor", get(manage_page))
        .route("/account/second-factor/enrol", post(enrol))
        .route("/account/second-factor/confirm", post(confirm))
        .route("/account/second-factor/recovery-codes", post(new_codes))
        .route("/account/second-factor/disable", post(disable))
        .route(
            "/people/{id}/second-factor/reset",
            get(reset_form).post(reset),
        )
        .with_state(state)
}

fn challenge_cookie(value: String, max_age: Duration) -> Option<HeaderValue> {
    let c = Cookie::build((CHALLENGE_COOKIE, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(
            i64::try_from(max_age.as_secs()).unwrap_or(300),
        ))
        .build();
    HeaderValue::from_str(&c.to_string()).ok()
}

fn cleared_challenge() -> Option<HeaderValue> {
    challenge_cookie(String::new(), Duration::ZERO)
}

/// After a right password that needs a second step: the challenge into its cookie, and on to
/// the code (or enrolment) page.
pub(crate) fn challenge_redirect(challenge: &Challenge) -> Response {
    let mut res = Redirect::to("/login/second-factor").into_response();
    if let Some(c) = challenge_cookie(challenge.token.clone(), challenge.expires_in) {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

fn challenge_of(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| Cookie::split_parse(v).flatten())
        .find(|c| c.name() == CHALLENGE_COOKIE && !c.value().is_empty())
        .map(|c| c.value().to_owned())
}

fn lang_of(headers: &HeaderMap, site: &Site) -> Lang {
    negotiate(headers, site.default_language)
}

fn client(peer: &Option<Extension<ConnectInfo<std::net::SocketAddr>>>) -> Option<std::net::IpAddr> {
    peer.as_ref().map(|Extension(ConnectInfo(a))| a.ip())
}

fn internal(e: impl std::fmt::Display, what: &str) -> Response {
    tracing::error!(error = %e, "{what}");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn retry_after(mut res: Response, wait: Duration) -> Response {
    let secs = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn seconds(wait: Duration) -> String {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
        .max(1)
        .to_string()
}

/// An enrolment as a page shows it: the QR code (an SVG image; `img-src data:` is allowed by
/// the CSP, and an image carries no script), the key in groups of four, the `otpauth:` link.
pub(crate) struct EnrolmentView {
    pub qr: String,
    pub secret: String,
    pub uri: String,
}

impl EnrolmentView {
    fn of(e: &Enrolment) -> EnrolmentView {
        let qr = qrcode::QrCode::new(e.uri.as_bytes())
            .map(|code| {
                let svg = code
                    .render::<qrcode::render::svg::Color<'_>>()
                    .min_dimensions(240, 240)
                    .quiet_zone(true)
                    .build();
                format!(
                    "data:image/svg+xml;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(svg)
                )
            })
            .unwrap_or_default();
        let chars: Vec<char> = e.secret.chars().collect();
        let secret = chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        EnrolmentView {
            qr,
            secret,
            uri: e.uri.clone(),
        }
    }
}

/// The page that asks for a code: the sign-in's second step, or an enrolment's confirmation.
#[derive(Template)]
#[template(path = "second_factor_code.html")]
struct CodePage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    /// Where the code goes.
    action: &'static str,
    enrolment: Option<EnrolmentView>,
    /// Signing in (not on the account page): a recovery code is accepted, "cancel" restarts.
    signing_in: bool,
    /// The person's role makes them enrol now.
    required: bool,
    error: Option<String>,
    /// The sign-in can no longer be completed: only the way back is shown.
    expired: bool,
}

#[allow(clippy::too_many_arguments)] // one page, its variants
fn code_page(
    st: &FactorState,
    lang: Lang,
    status: StatusCode,
    csrf: String,
    action: &'static str,
    enrolment: Option<&Enrolment>,
    signing_in: bool,
    error: Option<String>,
) -> Response {
    // A sign-in answered 401 without a message of its own is one that can no longer be
    // completed (no challenge, or an expired or used one): only the way back is offered.
    let expired = signing_in && status == StatusCode::UNAUTHORIZED && error.is_none();
    no_store(render(
        lang,
        status,
        &CodePage {
            c: Chrome::new(lang, action),
            site: &st.site,
            csrf,
            action,
            enrolment: enrolment.map(EnrolmentView::of),
            signing_in,
            required: signing_in && enrolment.is_some(),
            error: if expired {
                Some(Tr(lang).t("second-factor-expired"))
            } else {
                error
            },
            expired,
        },
    ))
}

/// The recovery codes, shown once.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct CodesPage<'a> {
    c: Chrome,
    site: &'a Site,
    codes: Vec<String>,
    notice: String,
    next: &'static str,
}

fn codes_page(
    st: &FactorState,
    lang: Lang,
    codes: Vec<String>,
    notice: String,
    next: &'static str,
) -> Response {
    no_store(render(
        lang,
        StatusCode::OK,
        &CodesPage {
            c: Chrome::new(lang, "/account/second-factor"),
            site: &st.site,
            codes,
            notice,
            next,
        },
    ))
}

async fn step_form(
    State(st): State<FactorState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
) -> Response {
    if user.0.is_some() {
        return Redirect::to("/account").into_response();
    }
    let lang = lang_of(&headers, &st.site);
    let pending = match challenge_of(&headers) {
        Some(token) => match st.auth.pending_sign_in(&token).await {
            Ok(p) => p,
            Err(e) => return internal(e, "pending sign-in not readable"),
        },
        None => None,
    };
    let Some(pending) = pending else {
        return Redirect::to("/login").into_response();
    };
    code_page(
        &st,
        lang,
        StatusCode::OK,
        csrf.0,
        "/login/second-factor",
        pending.enrolment.as_ref(),
        true,
        None,
    )
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

async fn step(
    State(st): State<FactorState>,
    Extension(csrf): Extension<Csrf>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CodeForm>,
) -> Response {
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let action = "/login/second-factor";
    let Some(token) = challenge_of(&headers) else {
        return code_page(
            &st,
            lang,
            StatusCode::UNAUTHORIZED,
            csrf.0,
            action,
            None,
            true,
            None,
        );
    };
    // What the page showed (the enrolment), to show it again with a message.
    let pending = match st.auth.pending_sign_in(&token).await {
        Ok(p) => p,
        Err(e) => return internal(e, "pending sign-in not readable"),
    };
    let enrolment = pending.as_ref().and_then(|p| p.enrolment.clone());
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        let msg = Some(tr.t("form-expired"));
        return code_page(
            &st,
            lang,
            StatusCode::FORBIDDEN,
            csrf.0,
            action,
            enrolment.as_ref(),
            true,
            msg,
        );
    }
    let outcome = match st
        .auth
        .complete_sign_in(&token, &form.code, client(&peer))
        .await
    {
        Ok(o) => o,
        Err(e) => return internal(e, "second sign-in step failed"),
    };
    match outcome {
        SignIn::Done { issued, via } => {
            let mut res = match via {
                Via::Totp => Redirect::to("/account").into_response(),
                Via::RecoveryCode { .. } => {
                    Redirect::to("/account/second-factor?used=recovery-code").into_response()
                }
                Via::Enrolled { recovery_codes } => codes_page(
                    &st,
                    lang,
                    recovery_codes,
                    tr.t("second-factor-enrolled"),
                    "/account",
                ),
            };
            for c in session_cookies(&st.auth, &issued) {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            if let Some(c) = cleared_challenge() {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        SignIn::Wrong => code_page(
            &st,
            lang,
            StatusCode::UNAUTHORIZED,
            csrf.0,
            action,
            enrolment.as_ref(),
            true,
            Some(tr.t("second-factor-wrong")),
        ),
        SignIn::Throttled(wait) => retry_after(
            code_page(
                &st,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                csrf.0,
                action,
                enrolment.as_ref(),
                true,
                Some(tr.t1("second-factor-throttled", "seconds", &seconds(wait))),
            ),
            wait,
        ),
        SignIn::Expired => {
            let mut res = code_page(
                &st,
                lang,
                StatusCode::UNAUTHORIZED,
                csrf.0,
                action,
                None,
                true,
                None,
            );
            if let Some(c) = cleared_challenge() {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
    }
}

/// The person's own "Second factor" page.
#[derive(Template)]
#[template(path = "second_factor.html")]
struct ManagePage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    status: Status,
    since: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct ManageQuery {
    used: Option<String>,
    done: Option<String>,
}

async fn manage_page(
    State(st): State<FactorState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    Query(q): Query<ManageQuery>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let notice = match (q.used.as_deref(), q.done.as_deref()) {
        (Some("recovery-code"), _) => Some("recovery-code"),
        (_, Some("disabled")) => Some("disabled"),
        _ => None,
    };
    manage(
        &st,
        claims.sub,
        lang,
        csrf.0,
        StatusCode::OK,
        None,
        |status| {
            notice.map(|n| match n {
                "recovery-code" => tr.t1(
                    "second-factor-recovery-used",
                    "count",
                    &status.recovery_codes_left.to_string(),
                ),
                _ => tr.t("second-factor-disabled"),
            })
        },
    )
    .await
}

async fn manage(
    st: &FactorState,
    person: Uuid,
    lang: Lang,
    csrf: String,
    status_code: StatusCode,
    error: Option<String>,
    notice: impl FnOnce(&Status) -> Option<String>,
) -> Response {
    let status = match st.auth.second_factor_status(person).await {
        Ok(s) => s,
        Err(e) => return internal(e, "second factor status not readable"),
    };
    let since = status.enrolled_since.map(crate::account::utc_date);
    let notice = notice(&status);
    no_store(render(
        lang,
        status_code,
        &ManagePage {
            c: Chrome::new(lang, "/account/second-factor"),
            site: &st.site,
            csrf,
            status,
            since,
            notice,
            error,
        },
    ))
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// "Set up" (with the password again): a new secret, and the page to add it to an app and
/// confirm it.
async fn enrol(
    State(st): State<FactorState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<PasswordForm>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let lang = lang_of(&headers, &st.site);
    match st
        .auth
        .begin_enrolment(claims.sub, &form.password, client(&peer))
        .await
    {
        Ok(Manage::Done(enrolment)) => code_page(
            &st,
            lang,
            StatusCode::OK,
            csrf.0,
            "/account/second-factor/confirm",
            Some(&enrolment),
            false,
            None,
        ),
        Ok(other) => refused(&st, claims.sub, lang, csrf.0, other).await,
        Err(e) => internal(e, "enrolment not started"),
    }
}

/// The first code of a new factor: it is in force, and the recovery codes are shown once.
async fn confirm(
    State(st): State<FactorState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CodeForm>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let outcome = match st
        .auth
        .confirm_enrolment(claims.sub, &form.code, client(&peer))
        .await
    {
        Ok(o) => o,
        Err(e) => return internal(e, "enrolment not confirmed"),
    };
    match outcome {
        Manage::Done(codes) => codes_page(
            &st,
            lang,
            codes,
            tr.t("second-factor-enrolled"),
            "/account/second-factor",
        ),
        Manage::Wrong => {
            let msg = tr.t("second-factor-wrong");
            enrol_again(
                &st,
                claims.sub,
                lang,
                csrf.0,
                StatusCode::UNPROCESSABLE_ENTITY,
                msg,
            )
            .await
        }
        Manage::Throttled(wait) => {
            let msg = tr.t1("second-factor-throttled", "seconds", &seconds(wait));
            let res = enrol_again(
                &st,
                claims.sub,
                lang,
                csrf.0,
                StatusCode::TOO_MANY_REQUESTS,
                msg,
            )
            .await;
            retry_after(res, wait)
        }
        // Already enrolled, or nothing to confirm: the page says where things stand.
        _ => Redirect::to("/account/second-factor").into_response(),
    }
}

/// The enrolment in progress again, with what was wrong with the code.
async fn enrol_again(
    st: &FactorState,
    person: Uuid,
    lang: Lang,
    csrf: String,
    status: StatusCode,
    msg: String,
) -> Response {
    let enrolment = match st.auth.pending_enrolment(person).await {
        Ok(e) => e,
        Err(e) => return internal(e, "enrolment not readable"),
    };
    code_page(
        st,
        lang,
        status,
        csrf,
        "/account/second-factor/confirm",
        enrolment.as_ref(),
        false,
        Some(msg),
    )
}

/// New recovery codes, after a current code.
async fn new_codes(
    State(st): State<FactorState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<CodeForm>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let lang = lang_of(&headers, &st.site);
    let tr = Tr(lang);
    let outcome = match st
        .auth
        .new_recovery_codes(claims.sub, &form.code, client(&peer))
        .await
    {
        Ok(o) => o,
        Err(e) => return internal(e, "recovery codes not replaced"),
    };
    match outcome {
        Manage::Done(codes) => codes_page(
            &st,
            lang,
            codes,
            tr.t("recovery-codes-replaced"),
            "/account/second-factor",
        ),
        other => refused(&st, claims.sub, lang, csrf.0, other).await,
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// Turning the factor off, with the password, when no role requires it.
async fn disable(
    State(st): State<FactorState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    Form(form): Form<PasswordForm>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let lang = lang_of(&headers, &st.site);
    let proof = Proof::Password(form.password);
    match st
        .auth
        .disable_second_factor(claims.sub, &proof, client(&peer))
        .await
    {
        Ok(Manage::Done(())) => {
            Redirect::to("/account/second-factor?done=disabled").into_response()
        }
        Ok(other) => refused(&st, claims.sub, lang, csrf.0, other).await,
        Err(e) => internal(e, "second factor not turned off"),
    }
}

/// The management page again, with what stopped a change.
async fn refused<T>(
    st: &FactorState,
    person: Uuid,
    lang: Lang,
    csrf: String,
    m: Manage<T>,
) -> Response {
    let tr = Tr(lang);
    let (status, msg, wait) = match m {
        Manage::Wrong => (
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("second-factor-wrong-proof"),
            None,
        ),
        Manage::Throttled(wait) => (
            StatusCode::TOO_MANY_REQUESTS,
            tr.t1("second-factor-throttled", "seconds", &seconds(wait)),
            Some(wait),
        ),
        Manage::RequiredByRole => (StatusCode::FORBIDDEN, tr.t("second-factor-required"), None),
        _ => (
            StatusCode::CONFLICT,
            tr.t("second-factor-changed-meanwhile"),
            None,
        ),
    };
    let res = manage(st, person, lang, csrf, status, Some(msg), |_| None).await;
    match wait {
        Some(w) => retry_after(res, w),
        None => res,
    }
}

/// The confirmation step of an administrator's reset.
#[derive(Template)]
#[template(path = "second_factor_reset.html")]
struct ResetPage<'a> {
    c: Chrome,
    site: &'a Site,
    csrf: String,
    id: Uuid,
    name: String,
}

async fn reset_form(
    State(st): State<FactorState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    let Ok(id) = raw.parse::<Uuid>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let dir = &st.directory;
    let caller = dir.caller(claims.sub, claims.org, &claims.roles, None);
    let person = match extranet_directory::people::get(dir.db(), dir.clock(), &caller, id).await {
        Ok(p) => p,
        Err(DirectoryError::NotFound) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return internal(e, "person not readable"),
    };
    let rel = caller
        .relation()
        .of(Some(person.inner().organisation_id), Some(id), false);
    let allowed = caller.grants.allows(
        extranet_access::Resource::Person,
        extranet_access::Action::ResetSecondFactor,
        rel,
    );
    if !allowed {
        return StatusCode::FORBIDDEN.into_response();
    }
    let name = |f: &str| match person.cell(f) {
        extranet_access::Cell::Value(v) => v,
        _ => String::new(),
    };
    let lang = lang_of(&headers, &st.site);
    no_store(render(
        lang,
        StatusCode::OK,
        &ResetPage {
            c: Chrome::new(lang, &format!("/people/{id}/second-factor/reset")),
            site: &st.site,
            csrf: csrf.0,
            id,
            name: format!("{} {}", name("first_name"), name("surname"))
                .trim()
                .to_owned(),
        },
    ))
}

#[allow(clippy::too_many_arguments)] // a handler: one extractor per part of the request
async fn reset(
    State(st): State<FactorState>,
    Extension(user): Extension<CurrentUser>,
    Extension(csrf): Extension<Csrf>,
    peer: Option<Extension<ConnectInfo<std::net::SocketAddr>>>,
    headers: HeaderMap,
    uri: Uri,
    Path(raw): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let Some(claims) = user.0 else {
        return Redirect::to("/login").into_response();
    };
    let Ok(id) = raw.parse::<Uuid>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !form_allowed(&headers, &uri, &csrf, &form.csrf) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let dir = &st.directory;
    let caller = match dir.current(claims.sub, client(&peer)).await {
        Ok(c) => c,
        Err(extranet_directory::DirectoryError::Internal(detail)) => {
            tracing::error!(error = %detail, "caller not readable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Err(_) => return StatusCode::FORBIDDEN.into_response(),
    };
    match extranet_directory::second_factor::reset(
        dir.db(),
        dir.clock(),
        dir.revocations(),
        &caller,
        id,
        Some(claims.sid),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/people/{id}?done=second-factor")).into_response(),
        Err(DirectoryError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(DirectoryError::Forbidden(_)) => StatusCode::FORBIDDEN.into_response(),
        Err(e) => internal(e, "second factor not reset"),
    }
}

/// What the account page says of the second factor.
pub(crate) async fn summary(auth: &Auth, person: Uuid) -> Option<Status> {
    match auth.second_factor_status(person).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, "second factor status not readable");
            None
        }
    }
}
