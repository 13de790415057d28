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
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use extranet_directory::Directory;
use extranet_identity::auth::Auth;
use extranet_identity::factor::manage::{Manage, Status};
use extranet_identity::factor::sign_in::{SignIn, Via};
use extranet_identity::factor::{Challenge, Enrolment, Proof};
use serde::Deserialize;
use uuid::Uuid;

use crate::session::session_cookies;
use crate::site::Site;
use crate::ui::confirm::{self, Confirm};
use crate::ui::signed_in::session_started;
use crate::ui::{
    Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, Visitor, flash, render, words,
};

/// The pending sign-in's challenge, between the password and the code.
pub const CHALLENGE_COOKIE: &str = "__Host-signin";

#[derive(Clone)]
pub(crate) struct FactorState {
    pub site: Arc<Site>,
    pub auth: Arc<Auth>,
    pub directory: Arc<Directory>,
}

pub(crate) fn routes(state: FactorState) -> Router {
    PageRouter::new()
        .page_and_form("/login/second-factor", step_form, step)
        .page("/account/second-factor", manage_page)
        .form("/account/second-factor/enrol", enrol)
        .form("/account/second-factor/confirm", confirm)
        .form("/account/second-factor/recovery-codes", new_codes)
        .form("/account/second-factor/disable", disable)
        .page_and_form("/people/{id}/second-factor/reset", reset_form, reset)
        .with_state(state)
        .into_router()
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

fn internal(e: impl std::fmt::Display, what: &str) -> Response {
    PageError::internal(format!("{what}: {e}")).into_response()
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
    c: Chrome,
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
    let lang = c.lang;
    no_store(render(
        lang,
        status,
        &CodePage {
            c,
            site: &st.site,
            csrf,
            action,
            enrolment: enrolment.map(EnrolmentView::of),
            signing_in,
            required: signing_in && enrolment.is_some(),
            error: if expired {
                Some(crate::i18n::Tr(lang).t("second-factor-expired"))
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
    c: Chrome,
    codes: Vec<String>,
    notice: String,
    next: &'static str,
) -> Response {
    no_store(render(
        c.lang,
        StatusCode::OK,
        &CodesPage {
            c,
            site: &st.site,
            codes,
            notice,
            next,
        },
    ))
}

async fn step_form(State(st): State<FactorState>, v: Visitor, headers: HeaderMap) -> Response {
    if v.claims.is_some() {
        return Redirect::to("/home").into_response();
    }
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
        v.chrome(),
        StatusCode::OK,
        v.csrf.clone(),
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
}

async fn step(
    State(st): State<FactorState>,
    v: Visitor,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let tr = v.tr();
    let action = "/login/second-factor";
    let Some(token) = challenge_of(&headers) else {
        return code_page(
            &st,
            v.chrome(),
            StatusCode::UNAUTHORIZED,
            v.csrf.clone(),
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
    let outcome = match st.auth.complete_sign_in(&token, &form.code, v.ip).await {
        Ok(o) => o,
        Err(e) => return internal(e, "second sign-in step failed"),
    };
    match outcome {
        SignIn::Done { issued, via } => {
            // A code from the app starts the session like a password alone does (the page
            // asked for, the profile's language); the other two show a page first.
            let totp = matches!(via, Via::Totp);
            let mut res = match via {
                Via::Totp => session_started(&st.auth, &issued, &headers, "/home").await,
                Via::RecoveryCode { .. } => {
                    Redirect::to("/account/second-factor?used=recovery-code").into_response()
                }
                Via::Enrolled { recovery_codes } => codes_page(
                    &st,
                    v.chrome(),
                    recovery_codes,
                    tr.t("second-factor-enrolled"),
                    "/account",
                ),
            };
            if !totp {
                for c in session_cookies(&st.auth, &issued) {
                    res.headers_mut().append(header::SET_COOKIE, c);
                }
            }
            if let Some(c) = cleared_challenge() {
                res.headers_mut().append(header::SET_COOKIE, c);
            }
            res
        }
        SignIn::Wrong => code_page(
            &st,
            v.chrome(),
            StatusCode::UNAUTHORIZED,
            v.csrf.clone(),
            action,
            enrolment.as_ref(),
            true,
            Some(tr.t("second-factor-wrong")),
        ),
        SignIn::Throttled(wait) => retry_after(
            code_page(
                &st,
                v.chrome(),
                StatusCode::TOO_MANY_REQUESTS,
                v.csrf.clone(),
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
                v.chrome(),
                StatusCode::UNAUTHORIZED,
                v.csrf.clone(),
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
    me: SignedIn,
    Query(q): Query<ManageQuery>,
) -> Response {
    let tr = me.tr();
    let notice = match (q.used.as_deref(), q.done.as_deref()) {
        (Some("recovery-code"), _) => Some("recovery-code"),
        (_, Some("disabled")) => Some("disabled"),
        _ => None,
    };
    manage(&st, &me, StatusCode::OK, None, |status| {
        notice.map(|n| match n {
            "recovery-code" => tr.t1(
                "second-factor-recovery-used",
                "count",
                &status.recovery_codes_left.to_string(),
            ),
            _ => tr.t("second-factor-disabled"),
        })
    })
    .await
}

async fn manage(
    st: &FactorState,
    me: &SignedIn,
    status_code: StatusCode,
    error: Option<String>,
    notice: impl FnOnce(&Status) -> Option<String>,
) -> Response {
    let status = match st.auth.second_factor_status(me.claims.sub).await {
        Ok(s) => s,
        Err(e) => return internal(e, "second factor status not readable"),
    };
    let since = status
        .enrolled_since
        .map(|at| words::day_of(me.lang(), &st.site.tz(), at));
    let notice = notice(&status);
    no_store(render(
        me.lang(),
        status_code,
        &ManagePage {
            c: me.chrome().await,
            site: &st.site,
            csrf: me.csrf(),
            status,
            since,
            notice,
            error,
        },
    ))
}

/// "Set up" (with the password again): a new secret, and the page to add it to an app and
/// confirm it.
async fn enrol(
    State(st): State<FactorState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    match st
        .auth
        .begin_enrolment(me.claims.sub, &form.password, me.v.ip)
        .await
    {
        Ok(Manage::Done(enrolment)) => code_page(
            &st,
            me.chrome().await,
            StatusCode::OK,
            me.csrf(),
            "/account/second-factor/confirm",
            Some(&enrolment),
            false,
            None,
        ),
        Ok(other) => refused(&st, &me, other).await,
        Err(e) => internal(e, "enrolment not started"),
    }
}

/// The first code of a new factor: it is in force, and the recovery codes are shown once.
async fn confirm(
    State(st): State<FactorState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let tr = me.tr();
    let outcome = match st
        .auth
        .confirm_enrolment(me.claims.sub, &form.code, me.v.ip)
        .await
    {
        Ok(o) => o,
        Err(e) => return internal(e, "enrolment not confirmed"),
    };
    match outcome {
        Manage::Done(codes) => codes_page(
            &st,
            me.chrome().await,
            codes,
            tr.t("second-factor-enrolled"),
            "/account/second-factor",
        ),
        Manage::Wrong => {
            let msg = tr.t("second-factor-wrong");
            enrol_again(&st, &me, StatusCode::UNPROCESSABLE_ENTITY, msg).await
        }
        Manage::Throttled(wait) => {
            let msg = tr.t1("second-factor-throttled", "seconds", &seconds(wait));
            let res = enrol_again(&st, &me, StatusCode::TOO_MANY_REQUESTS, msg).await;
            retry_after(res, wait)
        }
        // Already enrolled, or nothing to confirm: the page says where things stand.
        _ => Redirect::to("/account/second-factor").into_response(),
    }
}

/// The enrolment in progress again, with what was wrong with the code.
async fn enrol_again(st: &FactorState, me: &SignedIn, status: StatusCode, msg: String) -> Response {
    let enrolment = match st.auth.pending_enrolment(me.claims.sub).await {
        Ok(e) => e,
        Err(e) => return internal(e, "enrolment not readable"),
    };
    code_page(
        st,
        me.chrome().await,
        status,
        me.csrf(),
        "/account/second-factor/confirm",
        enrolment.as_ref(),
        false,
        Some(msg),
    )
}

/// New recovery codes, after a current code.
async fn new_codes(
    State(st): State<FactorState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let outcome = match st
        .auth
        .new_recovery_codes(me.claims.sub, &form.code, me.v.ip)
        .await
    {
        Ok(o) => o,
        Err(e) => return internal(e, "recovery codes not replaced"),
    };
    match outcome {
        Manage::Done(codes) => codes_page(
            &st,
            me.chrome().await,
            codes,
            me.tr().t("recovery-codes-replaced"),
            "/account/second-factor",
        ),
        other => refused(&st, &me, other).await,
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    password: String,
}

/// Turning the factor off, with the password, when no role requires it.
async fn disable(
    State(st): State<FactorState>,
    me: SignedIn,
    CsrfForm(form): CsrfForm<PasswordForm>,
) -> Response {
    let proof = Proof::Password(form.password);
    match st
        .auth
        .disable_second_factor(me.claims.sub, &proof, me.v.ip)
        .await
    {
        Ok(Manage::Done(())) => {
            Redirect::to("/account/second-factor?done=disabled").into_response()
        }
        Ok(other) => refused(&st, &me, other).await,
        Err(e) => internal(e, "second factor not turned off"),
    }
}

/// The management page again, with what stopped a change.
async fn refused<T>(st: &FactorState, me: &SignedIn, m: Manage<T>) -> Response {
    let tr = me.tr();
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
    let res = manage(st, me, status, Some(msg), |_| None).await;
    match wait {
        Some(w) => retry_after(res, w),
        None => res,
    }
}

async fn reset_form(
    State(st): State<FactorState>,
    me: SignedIn,
    Path(raw): Path<String>,
) -> PageResult {
    let id = raw.parse::<Uuid>().map_err(|_| PageError::NotFound)?;
    let dir = &st.directory;
    let caller = &me.caller;
    let person = extranet_directory::people::get(dir.db(), dir.clock(), caller, id).await?;
    let rel = caller
        .relation()
        .of(Some(person.inner().organisation_id), Some(id), false);
    let allowed = caller.grants.allows(
        extranet_access::Resource::Person,
        extranet_access::Action::ResetSecondFactor,
        rel,
    );
    if !allowed {
        return Err(PageError::Forbidden);
    }
    let name = |f: &str| match person.cell(f) {
        extranet_access::Cell::Value(v) => v,
        _ => String::new(),
    };
    let tr = me.tr();
    let full = format!("{} {}", name("first_name"), name("surname"));
    let ask = Confirm {
        title: tr.t("second-factor-reset-title"),
        message: tr.t1("second-factor-reset-confirm", "name", full.trim()),
        button: tr.t("second-factor-reset-submit"),
        hidden: Vec::new(),
        cancel: format!("/people/{id}"),
        danger: true,
    };
    Ok(no_store(confirm::page(&me, ask).await))
}

async fn reset(
    State(st): State<FactorState>,
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<crate::account::Button>,
) -> PageResult {
    let id = raw.parse::<Uuid>().map_err(|_| PageError::NotFound)?;
    let dir = &st.directory;
    let caller = match me.current().await {
        Ok(c) => c,
        Err(PageError::Internal(detail)) => return Err(PageError::Internal(detail)),
        Err(_) => return Err(PageError::Forbidden),
    };
    extranet_directory::second_factor::reset(
        dir.db(),
        dir.clock(),
        dir.revocations(),
        &caller,
        id,
        Some(me.claims.sid),
    )
    .await?;
    Ok(flash::done(&format!("/people/{id}"), "second-factor-reset"))
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
