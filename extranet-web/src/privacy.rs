//! Privacy pages (issue 16): the privacy notice generated from the processing register and the
//! installation's contacts (`/privacy`, public, in the visitor's language), its versions
//! (`/privacy/versions`, `/privacy/versions/{n}`), and the record of processing activities for
//! staff and the privacy coordinator (`/privacy/register`, with `.json`, `.csv` and the
//! printable page). Every view and export of the record leaves an audit record
//! (`Privacy::audited_record`); opening the notice takes away the banner of a changed notice.
//!
//! The printable record is [`record_html`], shared with `extranet register export`.

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use extranet_access::{Action, Domain, Grants, Resource};
use extranet_privacy::PrivacyError;
use extranet_privacy::export::{ActivityRecord, Record, Use};
use extranet_privacy::notice::{Contacts, Content, Version};

use crate::i18n::Tr;
use crate::lang::Lang;
use crate::ui::{Chrome, PageError, PageResult, PageRouter, SignedIn, Visitor, render, words};

pub(crate) fn routes() -> Router {
    PageRouter::new()
        .page("/privacy", notice)
        .page("/privacy/versions", versions)
        .page("/privacy/versions/{n}", version)
        .page("/privacy/register", register)
        .page("/privacy/register.json", register_json)
        .page("/privacy/register.csv", register_csv)
        .page("/privacy/register/print", register_print)
        .into_router()
}

impl From<PrivacyError> for PageError {
    fn from(e: PrivacyError) -> PageError {
        match e {
            PrivacyError::NotFound => PageError::NotFound,
            other => PageError::internal(other),
        }
    }
}

/// Who may read the record (staff roles): the navigation asks the same.
pub(crate) fn may_read_register(grants: &Grants) -> bool {
    grants
        .domains(Resource::Register, Action::Read)
        .contains(Domain::All)
}

fn may_export_register(grants: &Grants) -> bool {
    grants
        .domains(Resource::Register, Action::Export)
        .contains(Domain::All)
}

/// An activity in words, in one language.
pub(crate) struct ActivityView {
    pub(crate) id: String,
    pub(crate) purpose: String,
    /// "Contract (GDPR Art. 6(1)(b))".
    pub(crate) basis: String,
    pub(crate) interest: Option<String>,
    pub(crate) data: String,
    pub(crate) subjects: String,
    pub(crate) internal: String,
    pub(crate) subprocessors: Vec<String>,
    pub(crate) source: String,
    pub(crate) retention: Vec<String>,
    /// `None`: no transfer outside the EEA.
    pub(crate) transfers: Option<String>,
}

fn basis_words(tr: &Tr, a: &ActivityRecord) -> String {
    format!(
        "{} ({})",
        tr.t(&format!("privacy-basis-{}", a.basis_word.replace('_', "-"))),
        tr.t1("privacy-basis-article", "letter", &a.basis)
    )
}

fn activity_view(tr: &Tr, a: &ActivityRecord) -> ActivityView {
    let names = |v: &[extranet_privacy::export::Named]| {
        v.iter()
            .map(|n| n.name.clone())
            .collect::<Vec<_>>()
            .join(", ")
    };
    ActivityView {
        id: a.id.clone(),
        purpose: a.purpose.clone(),
        basis: basis_words(tr, a),
        interest: a.legitimate_interest.clone(),
        data: names(&a.data_categories),
        subjects: names(&a.subject_categories),
        internal: a
            .internal_recipients
            .iter()
            .map(|r| words::role(tr, r))
            .collect::<Vec<_>>()
            .join(", "),
        subprocessors: a
            .subprocessors
            .iter()
            .map(|r| match &r.name {
                Some(n) => n.clone(),
                None => r.registration_number.clone(),
            })
            .collect(),
        source: a.source.clone(),
        retention: a
            .retention
            .iter()
            .map(|r| {
                let key = match r.unit.as_str() {
                    "days" => "privacy-after-days",
                    "months" => "privacy-after-months",
                    _ => "privacy-after-years",
                };
                let mut text = tr.t2(key, ("n", &r.count.to_string()), ("trigger", &r.trigger));
                if let Some(place) = &r.kept_in {
                    text = format!("{text} ({})", tr.t1("privacy-kept-in", "place", place));
                }
                text
            })
            .collect(),
        transfers: (!a.transfers.is_empty()).then(|| names(&a.transfers)),
    }
}

fn activities(tr: &Tr, record: &Record) -> Vec<ActivityView> {
    record
        .activities
        .iter()
        .map(|a| activity_view(tr, a))
        .collect()
}

fn day(lang: Lang, unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| words::day_of(lang, &words::installation_tz(), t))
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "privacy_notice.html")]
struct NoticePage {
    c: Chrome,
    site_name: String,
    /// "Version 2, published on 4 December 2026" (none before a version is stored).
    version_line: Option<String>,
    /// `Some(latest)` when this is an earlier version.
    earlier_than: Option<i64>,
    contacts: Contacts,
    activities: Vec<ActivityView>,
}

/// The shell for a page anyone may open: a signed-in person's (navigation, sign-out) when
/// there is one.
async fn shell(v: Visitor) -> (Chrome, Visitor) {
    match v.claims.clone() {
        Some(claims) => {
            let caller = v
                .services
                .directory
                .caller(claims.sub, claims.org, &claims.roles, v.ip);
            let me = SignedIn { claims, caller, v };
            let c = me.chrome().await;
            (c, me.v)
        }
        None => (v.chrome(), v),
    }
}

fn notice_page(
    c: Chrome,
    v: &Visitor,
    version: i64,
    published_at: i64,
    content: &Content,
    latest: Option<i64>,
) -> PageResult<Response> {
    let tr = v.tr();
    let record = content
        .record(v.lang.code())
        .ok_or_else(|| PageError::internal("notice without a record"))?;
    Ok(render(
        v.lang,
        StatusCode::OK,
        &NoticePage {
            c,
            site_name: v.services.site.name.clone(),
            version_line: (version > 0).then(|| {
                tr.t2(
                    "privacy-version",
                    ("version", &version.to_string()),
                    ("date", &day(v.lang, published_at)),
                )
            }),
            earlier_than: latest.filter(|l| *l != version),
            contacts: content.contacts.clone(),
            activities: activities(&tr, record),
        },
    ))
}

/// The notice in force: the latest version (or, before any was stored, as the register makes it
/// now). A signed-in person who had a changed notice to read has now read it.
async fn notice(v: Visitor) -> PageResult<Response> {
    let privacy = &v.services.privacy;
    let Some(Version {
        version,
        published_at,
        content,
    }) = privacy.latest_notice().await?
    else {
        let content = privacy.current_notice_content().await?;
        let now = privacy.clock().now().unix_timestamp();
        let (c, v) = shell(v).await;
        return notice_page(c, &v, 0, now, &content, None);
    };
    if let Some(claims) = &v.claims {
        match privacy.notice_unseen(claims.sub).await {
            Ok(true) => privacy.notice_opened(claims.sub, version, v.ip).await?,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "whether the notice was seen not read"),
        }
    }
    let (c, v) = shell(v).await;
    notice_page(c, &v, version, published_at, &content, None)
}

#[derive(Template)]
#[template(path = "privacy_versions.html")]
struct VersionsPage {
    c: Chrome,
    site_name: String,
    /// (version, date).
    rows: Vec<(i64, String)>,
}

async fn versions(v: Visitor) -> PageResult<Response> {
    let rows = v
        .services
        .privacy
        .notice_versions()
        .await?
        .into_iter()
        .map(|s| (s.version, day(v.lang, s.published_at)))
        .collect();
    let (c, v) = shell(v).await;
    Ok(render(
        v.lang,
        StatusCode::OK,
        &VersionsPage {
            c,
            site_name: v.services.site.name.clone(),
            rows,
        },
    ))
}

async fn version(v: Visitor, Path(n): Path<String>) -> PageResult<Response> {
    let n: i64 = n.parse().map_err(|_| PageError::NotFound)?;
    let privacy = &v.services.privacy;
    let found = privacy.notice_version(n).await?;
    let latest = privacy.latest_notice().await?.map(|l| l.version);
    let (c, v) = shell(v).await;
    notice_page(
        c,
        &v,
        found.version,
        found.published_at,
        &found.content,
        latest,
    )
}

#[derive(Template)]
#[template(path = "privacy_register.html")]
struct RegisterPage {
    c: Chrome,
    site_name: String,
    digest: String,
    activities: Vec<ActivityView>,
    may_export: bool,
}

async fn register(me: SignedIn) -> PageResult<Response> {
    if !may_read_register(&me.caller.grants) {
        return Err(PageError::NotFound);
    }
    let record = me
        .services()
        .privacy
        .audited_record(Some(me.claims.sub), me.v.ip, me.lang().code(), Use::View)
        .await?;
    let tr = me.tr();
    Ok(render(
        me.lang(),
        StatusCode::OK,
        &RegisterPage {
            c: me.chrome().await,
            site_name: me.services().site.name.clone(),
            digest: record.register_digest.chars().take(12).collect(),
            activities: activities(&tr, &record),
            may_export: may_export_register(&me.caller.grants),
        },
    ))
}

async fn exported(me: &SignedIn, format: &'static str) -> PageResult<Record> {
    if !may_export_register(&me.caller.grants) {
        return Err(PageError::NotFound);
    }
    Ok(me
        .services()
        .privacy
        .audited_record(
            Some(me.claims.sub),
            me.v.ip,
            me.lang().code(),
            Use::Export(format),
        )
        .await?)
}

fn file(body: String, content_type: &'static str, name: String, lang: Lang) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    if let Ok(d) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    res
}

async fn register_json(me: SignedIn) -> PageResult<Response> {
    let record = exported(&me, "json").await?;
    Ok(file(
        record.to_json()?,
        "application/json",
        format!("processing-register-{}.json", me.lang().code()),
        me.lang(),
    ))
}

async fn register_csv(me: SignedIn) -> PageResult<Response> {
    let record = exported(&me, "csv").await?;
    Ok(file(
        record.to_csv()?,
        "text/csv; charset=utf-8",
        format!("processing-register-{}.csv", me.lang().code()),
        me.lang(),
    ))
}

async fn register_print(me: SignedIn) -> PageResult<Response> {
    let record = exported(&me, "html").await?;
    let now = me.services().privacy.clock().now();
    let tr = me.tr();
    let page = RecordPage {
        activities: activities(&tr, &record),
        tr,
        site_name: me.services().site.name.clone(),
        generated: words::moment(me.lang(), &words::installation_tz(), now),
        digest: record.register_digest.clone(),
        c: me.chrome().await,
    };
    Ok(render(me.lang(), StatusCode::OK, &page))
}

/// The printable record inside the extranet's shell (the shell is not printed).
#[derive(Template)]
#[template(path = "privacy_record_page.html")]
struct RecordPage {
    c: Chrome,
    tr: Tr,
    site_name: String,
    generated: String,
    digest: String,
    activities: Vec<ActivityView>,
}

#[derive(Template)]
#[template(path = "privacy_record.html")]
struct RecordDocument {
    tr: Tr,
    lang: Lang,
    site_name: String,
    generated: String,
    digest: String,
    activities: Vec<ActivityView>,
    /// The stylesheet: our own static file, never register text.
    css: &'static str,
}

/// The record of processing activities as one self-contained, printable HTML file in the
/// record's language, its stylesheet inside (a file is opened away from the extranet and its
/// CSP): `extranet register export --format html` writes it; the page
/// `/privacy/register/print` shows the same body (`privacy_record_body.html`) in the shell.
/// Every register text is escaped.
pub fn record_html(
    record: &Record,
    site_name: &str,
    generated: &str,
) -> Result<String, askama::Error> {
    let lang = Lang::parse(&record.language).unwrap_or(Lang::En);
    let tr = Tr(lang);
    RecordDocument {
        activities: activities(&tr, record),
        tr,
        lang,
        site_name: site_name.to_owned(),
        generated: generated.to_owned(),
        digest: record.register_digest.clone(),
        css: crate::assets::record_css(),
    }
    .render()
}

#[cfg(test)]
mod tests {
    use extranet_privacy::export::{ActivityRecord, Named, Recipient, Record, Retention};

    use super::record_html;

    fn record(lang: &str) -> Record {
        Record {
            language: lang.to_owned(),
            register_digest: "abc123".into(),
            activities: vec![ActivityRecord {
                id: "x".into(),
                purpose: "<script>alert(1)</script> & \"quotes\"".into(),
                basis: "f".into(),
                basis_word: "legitimate_interests".into(),
                legitimate_interest: Some("<b>interest</b>".into()),
                data_categories: vec![Named {
                    code: "contact".into(),
                    name: "<i>contact</i>".into(),
                }],
                subject_categories: vec![],
                internal_recipients: vec!["staff".into()],
                subprocessors: vec![Recipient {
                    registration_number: "0678.123.456".into(),
                    name: Some("<img src=x>".into()),
                }],
                source: "src".into(),
                retention: vec![Retention {
                    rule: "r".into(),
                    after: "2 years".into(),
                    count: 2,
                    unit: "years".into(),
                    trigger: "after the end of the client relationship".into(),
                    action: "delete".into(),
                    kept_in: None,
                }],
                transfers: vec![],
                consent_version: None,
            }],
        }
    }

    #[test]
    fn the_printable_record_escapes_register_text_and_says_it_in_words() {
        for (lang, years, basis) in [
            ("en", "2 years after the end", "GDPR Art. 6(1)(f)"),
            ("nl", "2 jaar after the end", "AVG art. 6, lid 1, f)"),
            ("fr", "2 ans after the end", "RGPD art. 6, par. 1, f)"),
        ] {
            let html = record_html(&record(lang), "Keurcert <VZW>", "today").unwrap_or_default();
            assert!(html.starts_with("<!DOCTYPE html>"), "{lang}");
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{lang}");
            for raw in [
                "<script>",
                "<b>interest",
                "<i>contact",
                "<img src=x>",
                "<VZW>",
            ] {
                assert!(!html.contains(raw), "{lang}: {raw} unescaped");
            }
            assert!(
                html.contains("alert(1)"),
                "{lang}: the text is kept, escaped"
            );
            assert!(html.contains(years), "{lang}: {html}");
            assert!(html.contains(basis), "{lang}");
            assert!(html.contains("<style>"), "{lang}: self-contained");
        }
    }
}
