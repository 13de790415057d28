//! Consent in the browser (issue 16, item 5): the "Privacy" tab of the account
//! (`/account/privacy`: each purpose whose basis is consent with its text in the person's
//! language, where they stand, a button to give or withdraw, and the history), the withdrawal
//! link of a mail (`/consent/withdraw`, no session needed), and the staff's newsletter page
//! (`/newsletter`: what was sent and to how many, writing one and sending it after a
//! confirmation).
//!
//! Every decision and audit record is `extranet_privacy`'s. `/consent/withdraw` is the one
//! page form that takes no CSRF token: RFC 8058 one-click withdrawal is a POST from a mail
//! client, with no session and no page before it. The signed, single-purpose token in its
//! address is what authorises it (a forged cross-site POST cannot know it), and a `GET` of it
//! only shows the confirmation, because mail scanners follow links.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use extranet_privacy::PrivacyError;
use extranet_privacy::consent::{Acting, ConsentRecord, LinkError, Status, Via};
use extranet_privacy::newsletter::{self, Draft};
use serde::Deserialize;
use uuid::Uuid;

use crate::i18n::Tr;
use crate::lang::Lang;
use crate::ui::{
    Chrome, CsrfForm, PageError, PageResult, PageRouter, SignedIn, Visitor, flash, render, words,
};

pub(crate) fn routes() -> Router {
    let pages = PageRouter::new()
        .page_and_form("/account/privacy", account_page, account_change)
        .page("/newsletter", newsletter_page)
        .form("/newsletter/confirm", newsletter_confirm)
        .form("/newsletter/send", newsletter_send)
        .into_router();
    // Not a PageRouter form: see the module's documentation.
    pages.route("/consent/withdraw", get(link_page).post(link_withdraw))
}

fn page_error(e: PrivacyError) -> PageError {
    match e {
        PrivacyError::NotFound => PageError::NotFound,
        PrivacyError::Forbidden(_) => PageError::Forbidden,
        PrivacyError::Invalid { .. } => PageError::BadRequest,
        PrivacyError::Conflict(_) => PageError::Conflict,
        other => PageError::internal(other),
    }
}

fn moment(me_lang: Lang, at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .map(|t| words::moment(me_lang, &words::installation_tz(), t))
        .unwrap_or_default()
}

/// How a consent was given or withdrawn, in words.
fn via_word(tr: &Tr, via: &str) -> String {
    match via {
        "account" | "api" | "mail_link" | "one_click" | "superseded" => {
            tr.t(&format!("consent-via-{}", via.replace('_', "-")))
        }
        other => other.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// The account's Privacy tab.

struct PurposeLine {
    id: String,
    description: String,
    text: String,
    version: u32,
    status: &'static str,
    /// "Given on 4 December 2026 14:05 CET", "Withdrawn on …", "Never given", "Given to an
    /// earlier text on …: agree again to keep receiving it".
    state: String,
    given: bool,
}

struct HistoryLine {
    purpose: String,
    version: i64,
    given: String,
    withdrawn: String,
    text: String,
}

#[derive(Template)]
#[template(path = "consent_account.html")]
struct AccountPage {
    c: Chrome,
    site_name: String,
    purposes: Vec<PurposeLine>,
    history: Vec<HistoryLine>,
}

fn acting(me: &SignedIn) -> Acting<'_> {
    Acting {
        person: me.claims.sub,
        ip: me.v.ip,
        grants: &me.caller.grants,
    }
}

async fn account_page(me: SignedIn) -> PageResult {
    let consents = &me.services().consents;
    let lang = me.lang();
    let tr = me.tr();
    let who = acting(&me);
    let overview = consents.overview(&who).await.map_err(page_error)?;
    let records = consents.history(&who).await.map_err(page_error)?;
    let register = consents.privacy().register();
    let purpose_name = |id: &str| {
        register
            .activity(id)
            .map(|a| a.purpose.get(lang.code()).to_owned())
            .unwrap_or_else(|| id.to_owned())
    };
    let purposes = overview
        .iter()
        .map(|p| {
            let at = |r: &Option<ConsentRecord>, withdrawn: bool| {
                r.as_ref()
                    .and_then(|r| {
                        if withdrawn {
                            r.withdrawn_at
                        } else {
                            Some(r.given_at)
                        }
                    })
                    .map(|t| moment(lang, t))
                    .unwrap_or_default()
            };
            let state = match p.status {
                Status::Given => tr.t1("consent-state-given", "date", &at(&p.latest, false)),
                Status::Outdated => tr.t1("consent-state-outdated", "date", &at(&p.latest, false)),
                Status::Withdrawn => tr.t1("consent-state-withdrawn", "date", &at(&p.latest, true)),
                Status::Never => tr.t("consent-state-never"),
            };
            PurposeLine {
                id: p.purpose.clone(),
                description: p.description.get(lang.code()).to_owned(),
                text: p.text.get(lang.code()).to_owned(),
                version: p.version,
                status: p.status.as_str(),
                state,
                given: p.status == Status::Given,
            }
        })
        .collect();
    let history = records
        .iter()
        .map(|r| HistoryLine {
            purpose: purpose_name(&r.purpose),
            version: r.text_version,
            given: format!(
                "{} ({})",
                moment(lang, r.given_at),
                via_word(&tr, &r.given_via)
            ),
            withdrawn: match (r.withdrawn_at, &r.withdrawn_via) {
                (Some(at), Some(via)) => format!("{} ({})", moment(lang, at), via_word(&tr, via)),
                (Some(at), None) => moment(lang, at),
                _ => "—".to_owned(),
            },
            text: r.text.clone(),
        })
        .collect();
    let page = AccountPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        purposes,
        history,
    };
    Ok(render(lang, StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct ChangeForm {
    purpose: String,
    /// `give` or `withdraw`.
    change: String,
}

async fn account_change(me: SignedIn, CsrfForm(form): CsrfForm<ChangeForm>) -> PageResult {
    let caller = me.current().await?;
    let who = Acting {
        person: caller.person,
        ip: me.v.ip,
        grants: &caller.grants,
    };
    let consents = &me.services().consents;
    let key = match form.change.as_str() {
        "give" => {
            let (_, changed) = consents
                .give(&who, &form.purpose, Some(me.lang().code()), Via::Account)
                .await
                .map_err(page_error)?;
            if changed {
                "consent-given"
            } else {
                "consent-unchanged"
            }
        }
        "withdraw" => {
            match consents
                .withdraw(&who, &form.purpose, Via::Account)
                .await
                .map_err(page_error)?
            {
                Some(_) => "consent-withdrawn",
                None => "consent-unchanged",
            }
        }
        _ => return Err(PageError::BadRequest),
    };
    Ok(flash::done("/account/privacy", key))
}

// ---------------------------------------------------------------------------------------------
// The withdrawal link of a mail.

#[derive(Deserialize)]
struct LinkQuery {
    p: Option<String>,
    u: Option<String>,
    t: Option<String>,
}

/// What the link page shows.
#[derive(PartialEq, Eq)]
enum LinkState {
    /// A valid link: what it withdraws, and the button.
    Confirm,
    /// Withdrawn now (or already).
    Done,
    /// Refused: the message says why.
    Refused,
}

#[derive(Template)]
#[template(path = "consent_link.html")]
struct LinkPage {
    c: Chrome,
    site_name: String,
    state: LinkState,
    purpose: String,
    message: String,
    /// The form posts back to the address it was opened at.
    action: String,
}

struct CheckedLink {
    person: Uuid,
    purpose: String,
    token: String,
}

fn parse_link(q: &LinkQuery) -> Result<CheckedLink, LinkError> {
    let (Some(p), Some(u), Some(t)) = (&q.p, &q.u, &q.t) else {
        return Err(LinkError::Malformed);
    };
    let person = p.parse::<Uuid>().map_err(|_| LinkError::Malformed)?;
    Ok(CheckedLink {
        person,
        purpose: u.clone(),
        token: t.clone(),
    })
}

fn link_page_with(
    v: &Visitor,
    state: LinkState,
    purpose: &str,
    message_key: &str,
    status: StatusCode,
) -> Response {
    let lang = v.lang;
    let purpose_name = v
        .services
        .consents
        .privacy()
        .register()
        .activity(purpose)
        .map(|a| a.purpose.get(lang.code()).to_owned())
        .unwrap_or_default();
    render(
        lang,
        status,
        &LinkPage {
            c: v.chrome(),
            site_name: v.services.site.name.clone(),
            state,
            purpose: purpose_name,
            message: v.tr().t(message_key),
            action: v.here.clone(),
        },
    )
}

/// A refused link: 400 for one that is not a link of ours at all, 403 for one that is altered,
/// someone else's or expired. Nothing has changed.
fn refused(v: &Visitor, e: LinkError) -> Response {
    let (status, key) = match e {
        LinkError::Malformed => (StatusCode::BAD_REQUEST, "consent-link-malformed"),
        LinkError::Invalid => (StatusCode::FORBIDDEN, "consent-link-invalid"),
        LinkError::Expired => (StatusCode::FORBIDDEN, "consent-link-expired"),
    };
    link_page_with(v, LinkState::Refused, "", key, status)
}

/// `GET`: what the link withdraws and a button; never a change (mail scanners open links).
async fn link_page(v: Visitor, Query(q): Query<LinkQuery>) -> Response {
    let link = match parse_link(&q) {
        Ok(l) => l,
        Err(e) => return refused(&v, e),
    };
    let consents = &v.services.consents;
    if let Err(e) = consents.check_link(link.person, &link.purpose, &link.token) {
        return refused(&v, e);
    }
    link_page_with(
        &v,
        LinkState::Confirm,
        &link.purpose,
        "consent-link-confirm",
        StatusCode::OK,
    )
}

/// `POST`: withdraws at once. The body is the page's `confirm=yes` or a mail client's
/// `List-Unsubscribe=One-Click` (RFC 8058); anything else is refused.
async fn link_withdraw(v: Visitor, Query(q): Query<LinkQuery>, body: Bytes) -> Response {
    let mut via = None;
    for (k, value) in url::form_urlencoded::parse(&body) {
        match (k.as_ref(), value.as_ref()) {
            ("List-Unsubscribe", "One-Click") => via = Some(Via::OneClick),
            ("confirm", "yes") if via.is_none() => via = Some(Via::MailLink),
            _ => {}
        }
    }
    let Some(via) = via else {
        return refused(&v, LinkError::Malformed);
    };
    let link = match parse_link(&q) {
        Ok(l) => l,
        Err(e) => return refused(&v, e),
    };
    match v
        .services
        .consents
        .withdraw_by_link(link.person, &link.purpose, &link.token, via, v.ip)
        .await
    {
        Ok(Ok(_)) => link_page_with(
            &v,
            LinkState::Done,
            &link.purpose,
            "consent-link-done",
            StatusCode::OK,
        ),
        Ok(Err(e)) => refused(&v, e),
        Err(PrivacyError::Invalid { .. }) => refused(&v, LinkError::Invalid),
        Err(e) => {
            tracing::error!(error = %e, "consent withdrawal by link failed");
            axum::response::IntoResponse::into_response(PageError::internal("consent withdrawal"))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The newsletter (staff).

struct SentLine {
    sent_at: String,
    subject: String,
    recipients: i64,
    version: i64,
}

#[derive(Template)]
#[template(path = "consent_newsletter.html")]
struct NewsletterPage {
    c: Chrome,
    site_name: String,
    sent: Vec<SentLine>,
    can_send: bool,
    subject: String,
    body: String,
    subject_error: Option<String>,
    body_error: Option<String>,
    /// The confirmation step: the cleaned preview and how many will receive it.
    preview: Option<String>,
    audience: i64,
}

#[derive(Deserialize, Default)]
struct NewsletterForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

async fn newsletter_view(
    me: &SignedIn,
    form: NewsletterForm,
    problem: Option<PrivacyError>,
    preview: Option<String>,
) -> PageResult {
    let caller = me.current().await?;
    let who = Acting {
        person: caller.person,
        ip: me.v.ip,
        grants: &caller.grants,
    };
    let consents = &me.services().consents;
    if !consents.may_list_newsletters(&who) {
        return Err(PageError::NotFound);
    }
    let lang = me.lang();
    let tr = me.tr();
    let sent = consents
        .newsletters(&who)
        .await
        .map_err(page_error)?
        .into_iter()
        .map(|s| SentLine {
            sent_at: moment(lang, s.sent_at),
            subject: s.subject,
            recipients: s.recipients,
            version: s.text_version,
        })
        .collect();
    let can_send = consents.may_send_newsletter(&who);
    let audience = if can_send {
        consents
            .newsletter_audience(&who)
            .await
            .map_err(page_error)?
    } else {
        0
    };
    let (mut subject_error, mut body_error) = (None, None);
    let status = match problem {
        Some(PrivacyError::Invalid { field, .. }) => {
            let message = tr.t(&format!("consent-newsletter-error-{field}"));
            if field == "subject" {
                subject_error = Some(message);
            } else {
                body_error = Some(message);
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Some(other) => return Err(page_error(other)),
        None => StatusCode::OK,
    };
    let page = NewsletterPage {
        c: me.chrome().await,
        site_name: me.services().site.name.clone(),
        sent,
        can_send,
        subject: form.subject,
        body: form.body,
        subject_error,
        body_error,
        preview,
        audience,
    };
    Ok(render(lang, status, &page))
}

async fn newsletter_page(me: SignedIn) -> PageResult {
    newsletter_view(&me, NewsletterForm::default(), None, None).await
}

/// The confirmation: the newsletter as it will be sent and to how many; nothing is sent yet.
async fn newsletter_confirm(me: SignedIn, CsrfForm(form): CsrfForm<NewsletterForm>) -> PageResult {
    let draft = Draft {
        subject: form.subject.clone(),
        body: form.body.clone(),
    };
    match newsletter::check(&draft) {
        Ok(checked) => newsletter_view(&me, form, None, Some(checked.html)).await,
        Err(e) => newsletter_view(&me, form, Some(e), None).await,
    }
}

async fn newsletter_send(me: SignedIn, CsrfForm(form): CsrfForm<NewsletterForm>) -> PageResult {
    let caller = me.current().await?;
    let who = Acting {
        person: caller.person,
        ip: me.v.ip,
        grants: &caller.grants,
    };
    let draft = Draft {
        subject: form.subject.clone(),
        body: form.body.clone(),
    };
    match me.services().consents.send_newsletter(&who, &draft).await {
        Ok(sent) => Ok(flash::done_with(
            "/newsletter",
            "consent-newsletter-sent",
            &sent.recipients.to_string(),
        )),
        Err(e @ PrivacyError::Invalid { .. }) => newsletter_view(&me, form, Some(e), None).await,
        Err(e) => Err(page_error(e)),
    }
}
