//! Pages over certification documents: the documents section of a dossier's page (list, upload
//! with drag-and-drop and a progress bar, legal hold), a document's page (its versions, a new
//! version, download, preview, delete and restore), and the company's access log for its
//! primary contact. Uploads and downloads are streaming routes ([`streaming_routes`]).
//!
//! Records arrive masked from `extranet_documents`; forms appear only where the caller's
//! grants allow the action; every action is decided again by the documents service on the
//! caller as the database holds them now.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Json, Router};
use extranet_access::{Action, DocumentAccessView, DocumentView, Masked, Resource};
use extranet_directory::Caller;
use extranet_documents::{Documents, DocumentsError};
use extranet_identity::tokens::Claims;
use serde::Deserialize;
use uuid::Uuid;

use crate::directory::{Row, headers_of};
use crate::facts::{Fact, cell, facts};
use crate::i18n::Tr;
use crate::lang::Lang;
use crate::site::Site;
use crate::transfer::{self, Destination};
use crate::ui::confirm::{self, Confirm};
use crate::ui::form::UploadRefused;
use crate::ui::{
    Chrome, CsrfForm, CsrfUpload, PageError, PageResult, PageRouter, SignedIn, flash, render, words,
};

#[derive(Clone)]
pub(crate) struct DocsState {
    pub site: Arc<Site>,
    pub documents: Arc<Documents>,
}

pub(crate) fn routes(state: DocsState) -> Router {
    PageRouter::new()
        .page("/documents/{id}", document_page)
        .page_and_form("/documents/{id}/delete", confirm_delete, delete)
        .form("/documents/{id}/restore", restore)
        .page_and_form("/dossiers/{id}/hold", confirm_hold, hold)
        .page("/company/access-log", access_log)
        .with_state(state)
        .into_router()
}

/// Uploads and downloads: they stream, so they are served outside the standard request timeout
/// and body limit (see the `extranet` crate's router).
pub(crate) fn streaming_routes(state: DocsState) -> Router {
    PageRouter::new()
        .form("/dossiers/{id}/documents", upload_document)
        .form("/documents/{id}/versions", upload_version)
        .page("/documents/{id}/content", content)
        .with_state(state)
        .into_router()
        .layer(axum::extract::DefaultBodyLimit::disable())
}

const LIST_COLUMNS: [&str; 7] = [
    "title",
    "doc_type",
    "version",
    "file_name",
    "size",
    "uploaded_at",
    "uploaded_by",
];
/// Facts of a document that mean something to a technician only (shown behind a fold).
const TECHNICAL: [&str; 2] = ["document-media-type", "document-sha256"];
const VERSION_COLUMNS: [&str; 5] = ["version", "file_name", "size", "uploaded_at", "uploaded_by"];
const ACCESS_COLUMNS: [&str; 6] = [
    "at",
    "action",
    "document_title",
    "actor_name",
    "actor_roles",
    "actor_organisation",
];

/// A document type in the visitor's language (`doctype-<type>`), or as configured.
pub(crate) fn type_label(tr: &Tr, code: &str) -> String {
    let key = format!("doctype-{}", code.replace('_', "-"));
    let label = tr.t(&key);
    if label == key { code.to_owned() } else { label }
}

/// The message for a refused upload or action, in the visitor's language.
pub(crate) fn refusal_message(tr: &Tr, e: &DocumentsError) -> String {
    match e {
        DocumentsError::TooLarge { limit } => {
            tr.t1("doc-error-too-large", "limit", &human_size(*limit))
        }
        DocumentsError::Invalid { field, .. } => {
            tr.t(&format!("doc-error-invalid-{}", field.replace('_', "-")))
        }
        DocumentsError::LimitReached(reached) => tr.t1(
            "doc-error-upload-limit",
            "wait",
            // Whole minutes at least: the limits count per hour.
            &words::duration(
                tr,
                std::time::Duration::from_secs(
                    reached.retry_after.as_secs().div_ceil(60).max(1) * 60,
                ),
            ),
        ),
        other => tr.t(&format!("doc-error-{}", other.code().replace('_', "-"))),
    }
}

fn status_of(e: &DocumentsError) -> StatusCode {
    match e {
        DocumentsError::NotFound => StatusCode::NOT_FOUND,
        DocumentsError::Forbidden(_) => StatusCode::FORBIDDEN,
        DocumentsError::Unauthenticated => StatusCode::UNAUTHORIZED,
        DocumentsError::Invalid { .. } | DocumentsError::Empty | DocumentsError::Rejected => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        DocumentsError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        DocumentsError::TypeNotAllowed | DocumentsError::TypeMismatch { .. } => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        DocumentsError::ScanUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        DocumentsError::LegalHold | DocumentsError::Conflict(_) => StatusCode::CONFLICT,
        DocumentsError::Interrupted(_) => StatusCode::BAD_REQUEST,
        DocumentsError::TooSlow { .. } => StatusCode::REQUEST_TIMEOUT,
        DocumentsError::LimitReached(_) => StatusCode::TOO_MANY_REQUESTS,
        DocumentsError::Internal(detail) => {
            tracing::error!(error = %detail, "documents error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// 1 234 567 bytes → "1.2 MB".
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// An RFC 3339 instant as pages show it: to the minute, in the installation's time zone.
fn short_time(tz: &jiff::tz::TimeZone, lang: Lang, v: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    match time::OffsetDateTime::parse(v, &Rfc3339) {
        Ok(t) => words::moment(lang, tz, t),
        Err(_) => v.to_owned(),
    }
}

/// Cells as the documents' tables show them: types and sizes in words.
fn doc_rows<T: extranet_access::Outward>(
    tz: &jiff::tz::TimeZone,
    tr: &Tr,
    items: &[Masked<T>],
    columns: &[&str],
    id: impl Fn(&T) -> String,
) -> Vec<Row> {
    items
        .iter()
        .map(|m| Row {
            id: id(m.inner()),
            cells: columns
                .iter()
                .map(|c| {
                    let v = cell(tr, m, c)?;
                    Some(match *c {
                        "uploaded_at" | "at" => short_time(tz, tr.0, &v),
                        "doc_type" => type_label(tr, &v),
                        "size" => v.parse().map(|n| words::size(tr, n)).unwrap_or(v),
                        "actor_roles" => v
                            .split(',')
                            .map(|r| words::role(tr, r.trim()))
                            .collect::<Vec<_>>()
                            .join(", "),
                        "action" => tr.t(&format!("access-{}", v.replace('.', "-"))),
                        _ => v,
                    })
                })
                .collect(),
        })
        .collect()
}

/// The documents part of a dossier's page.
pub(crate) struct Section {
    pub dossier: Uuid,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
    /// The next page's link, when there is one.
    pub next: Option<String>,
    pub legal_hold: bool,
    pub can_hold: bool,
    /// The types the caller may upload (empty: no upload form).
    pub types: Vec<(String, String)>,
    pub max_size: String,
    pub csrf: String,
    pub upload_action: String,
    /// Set when the caller may not read the documents: why, and who can change that.
    pub no_right: Option<String>,
}

/// The documents section of a dossier's page, if the caller may read its documents; a failure
/// to read them is the page's failure (500, logged), never an empty section.
pub(crate) async fn section(
    docs: &Documents,
    claims: &Claims,
    dossier: Uuid,
    after: Option<&str>,
    tr: &Tr,
    csrf: &str,
) -> Result<Option<Section>, StatusCode> {
    let caller = docs
        .caller(claims.sub, None)
        .await
        .map_err(|e| status_of(&e))?;
    let may = |a: Action| !caller.grants.domains(Resource::Document, a).is_empty();
    if !may(Action::Read) {
        return no_right(docs, &caller, dossier, tr, csrf).await.map(Some);
    }
    let page = match docs.list(&caller, dossier, after, 50).await {
        Ok(p) => p,
        // The dossier is not the caller's (the page itself answers for that).
        Err(DocumentsError::NotFound) => return Ok(None),
        Err(DocumentsError::Forbidden(_)) => {
            return no_right(docs, &caller, dossier, tr, csrf).await.map(Some);
        }
        Err(e) => return Err(status_of(&e)),
    };
    let can_upload = docs
        .dossier_for_quiet(&caller, dossier, Action::Upload)
        .await;
    let types = if can_upload {
        upload_types(docs, &caller)
            .into_iter()
            .map(|t| {
                let label = type_label(tr, &t);
                (t, label)
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Some(Section {
        dossier,
        headers: headers_of(tr, "document", &LIST_COLUMNS),
        rows: doc_rows(
            &words::installation_tz(),
            tr,
            &page.items,
            &LIST_COLUMNS,
            |d: &DocumentView| d.id.to_string(),
        ),
        next: page.next.map(|n| {
            format!(
                "/dossiers/{dossier}?after={}#documents-heading",
                urlencode(&n)
            )
        }),
        legal_hold: page.legal_hold,
        can_hold: !caller
            .grants
            .domains(Resource::Dossier, Action::Hold)
            .is_empty(),
        types,
        max_size: human_size(docs.settings().max_bytes),
        csrf: csrf.to_owned(),
        upload_action: format!("/dossiers/{dossier}/documents"),
        no_right: None,
    }))
}

/// The section for whoever sees the dossier but may not read its documents. A contact person
/// of the file's own company is told that the right exists and who gives it: the primary
/// contact, by role (their name is a field a contact person may not see).
async fn no_right(
    docs: &Documents,
    caller: &Caller,
    dossier: Uuid,
    tr: &Tr,
    csrf: &str,
) -> Result<Section, StatusCode> {
    let own = docs
        .dossier_relation(caller, dossier)
        .await
        .map_err(|e| status_of(&e))?
        .is_some_and(|r| r.contains(extranet_access::Domain::Organisation));
    Ok(Section {
        dossier,
        headers: Vec::new(),
        rows: Vec::new(),
        next: None,
        legal_hold: false,
        can_hold: false,
        types: Vec::new(),
        max_size: String::new(),
        csrf: csrf.to_owned(),
        upload_action: String::new(),
        no_right: Some(tr.t(if own {
            "documents-no-right-ask"
        } else {
            "documents-no-right"
        })),
    })
}

/// The types a form offers this caller: inspectors (uploading only through an assignment)
/// the inspector types, anyone else all of them.
fn upload_types(docs: &Documents, caller: &Caller) -> Vec<String> {
    use extranet_access::Domain;
    let domains = caller.grants.domains(Resource::Document, Action::Upload);
    let only_assignment = domains.iter().all(|d| d == Domain::Assignment);
    let s = docs.settings();
    if only_assignment {
        s.inspector_types.clone()
    } else {
        s.types.clone()
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// A document's page.

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage<'a> {
    c: Chrome,
    site: &'a Site,
    id: Uuid,
    dossier: Uuid,
    title: String,
    facts: Vec<Fact>,
    /// The file type and fingerprint: for whoever needs them, behind a fold.
    technical: Vec<Fact>,
    version_headers: Vec<String>,
    versions: Vec<Row>,
    previewable: bool,
    deleted: bool,
    can_upload: bool,
    can_delete: bool,
    can_restore: bool,
    legal_hold: bool,
    max_size: String,
    csrf: String,
    error: Option<String>,
    upload_action: String,
}

#[derive(Deserialize)]
struct PageQuery {
    error: Option<String>,
}

fn id_of(raw: &str) -> Result<Uuid, PageError> {
    raw.parse::<Uuid>().map_err(|_| PageError::NotFound)
}

async fn document_page(
    State(st): State<DocsState>,
    me: SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let id = id_of(&raw)?;
    let lang = me.lang();
    let tr = me.tr();
    let docs = &st.documents;
    let caller = docs.caller(me.claims.sub, me.v.ip).await?;
    let (doc, versions) = docs.get(&caller, id).await?;
    let d = doc.inner();
    let relation = docs
        .document_relation(&caller, id)
        .await?
        .unwrap_or_default();
    let allows = |a: Action| caller.grants.allows(Resource::Document, a, relation.0);
    let previewable =
        extranet_documents::sniff::by_media_type(&d.media_type).is_some_and(|k| k.previewable);
    let error = q
        .error
        .as_deref()
        .map(|code| tr.t(&format!("doc-error-{code}")));
    let (technical, facts): (Vec<Fact>, Vec<Fact>) =
        facts(&tr, &doc, &["id", "dossier_id", "title"])
            .into_iter()
            // "Deleted" only on a deleted document (which only staff see).
            .filter(|f| f.id != "document-deleted-at" || d.deleted_at.is_some())
            .map(|mut f| {
                if f.id == "document-uploaded-at" || f.id == "document-deleted-at" {
                    f.value = f.value.map(|v| short_time(&st.site.tz(), lang, &v));
                }
                if f.id == "document-doc-type" {
                    f.value = f.value.map(|v| type_label(&tr, &v));
                }
                if f.id == "document-size" {
                    f.value = f
                        .value
                        .map(|v| v.parse().map(|n| words::size(&tr, n)).unwrap_or(v));
                }
                f
            })
            .partition(|f| TECHNICAL.contains(&f.id.as_str()));
    let page = DocumentPage {
        c: me.chrome().await,
        site: &st.site,
        id,
        dossier: d.dossier_id,
        title: cell(&tr, &doc, "title").unwrap_or_else(|| tr.t("hidden")),
        facts,
        technical,
        version_headers: headers_of(&tr, "version", &VERSION_COLUMNS),
        versions: doc_rows(&st.site.tz(), &tr, &versions, &VERSION_COLUMNS, |v| {
            v.version.to_string()
        }),
        previewable,
        deleted: d.deleted_at.is_some(),
        can_upload: allows(Action::Upload) && d.deleted_at.is_none(),
        can_delete: allows(Action::Delete) && d.deleted_at.is_none() && !relation.1,
        can_restore: allows(Action::Restore) && d.deleted_at.is_some(),
        legal_hold: relation.1,
        max_size: words::size(&tr, docs.settings().max_bytes),
        csrf: me.csrf(),
        error,
        upload_action: format!("/documents/{id}/versions"),
    };
    Ok(render(lang, StatusCode::OK, &page))
}

#[derive(Deserialize)]
struct HoldForm {
    #[serde(default)]
    hold: Option<String>,
}

/// "Delete this document?" — what deleting does, before it is done.
async fn confirm_delete(
    State(st): State<DocsState>,
    me: SignedIn,
    Path(raw): Path<String>,
) -> PageResult {
    let id = id_of(&raw)?;
    let tr = me.tr();
    let caller = st.documents.caller(me.claims.sub, me.v.ip).await?;
    let (doc, _) = st.documents.get(&caller, id).await?;
    let title = cell(&tr, &doc, "title").unwrap_or_else(|| tr.t("hidden"));
    Ok(confirm::page(
        &me,
        Confirm {
            title: tr.t1("document-delete-confirm-title", "title", &title),
            message: tr.t("document-delete-confirm-message"),
            button: tr.t("document-delete"),
            hidden: Vec::new(),
            cancel: format!("/documents/{id}"),
            danger: true,
        },
    )
    .await)
}

async fn delete(
    State(st): State<DocsState>,
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<crate::account::Button>,
) -> PageResult {
    let id = id_of(&raw)?;
    let caller = me.current().await?;
    match st.documents.delete(&caller, id).await {
        Ok(()) => Ok(match st.documents.document_relation(&caller, id).await? {
            // Staff still see it (and may restore it); anyone else goes back to the dossiers.
            Some(_) => flash::done(&format!("/documents/{id}"), "document-deleted"),
            None => flash::done("/dossiers", "document-deleted"),
        }),
        Err(DocumentsError::LegalHold) => Ok(flash::failed(
            &format!("/documents/{id}"),
            "document-under-hold",
        )),
        Err(e) => Err(e.into()),
    }
}

async fn restore(
    State(st): State<DocsState>,
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(_): CsrfForm<crate::account::Button>,
) -> PageResult {
    let id = id_of(&raw)?;
    let caller = me.current().await?;
    st.documents.restore(&caller, id).await?;
    Ok(flash::done(
        &format!("/documents/{id}"),
        "document-restored",
    ))
}

#[derive(Deserialize)]
struct HoldQuery {
    place: Option<String>,
}

/// "Place a legal hold?" / "Lift the legal hold?" before doing it.
async fn confirm_hold(
    State(st): State<DocsState>,
    me: SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<HoldQuery>,
) -> PageResult {
    let id = id_of(&raw)?;
    let tr = me.tr();
    let caller = st.documents.caller(me.claims.sub, me.v.ip).await?;
    st.documents.dossier_for_hold(&caller, id).await?;
    let place = q.place.as_deref() == Some("1");
    let (title, message, button) = if place {
        (
            "hold-place-confirm-title",
            "hold-place-confirm-message",
            "legal-hold-place",
        )
    } else {
        (
            "hold-lift-confirm-title",
            "hold-lift-confirm-message",
            "legal-hold-lift",
        )
    };
    Ok(confirm::page(
        &me,
        Confirm {
            title: tr.t(title),
            message: tr.t(message),
            button: tr.t(button),
            hidden: vec![("hold".into(), if place { "1" } else { "0" }.to_owned())],
            cancel: format!("/dossiers/{id}#documents-heading"),
            danger: place,
        },
    )
    .await)
}

async fn hold(
    State(st): State<DocsState>,
    me: SignedIn,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<HoldForm>,
) -> PageResult {
    let id = id_of(&raw)?;
    let caller = me.current().await?;
    let place = form.hold.as_deref() == Some("1");
    st.documents.set_hold(&caller, id, place).await?;
    Ok(flash::done(
        &format!("/dossiers/{id}#documents-heading"),
        if place { "hold-placed" } else { "hold-lifted" },
    ))
}

// ---------------------------------------------------------------------------------------------
// Uploads, from the page's form: with script, an XMLHttpRequest (for its progress events) that
// wants JSON back; without, a plain form post answered with a redirect or a page.

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

#[derive(Template)]
#[template(path = "upload_refused.html")]
struct RefusedPage<'a> {
    c: Chrome,
    site: &'a Site,
    message: String,
    back: String,
}

async fn upload(
    st: DocsState,
    me: SignedIn,
    raw: String,
    upload: CsrfUpload,
    new_document: bool,
) -> Response {
    let Ok(id) = raw.parse::<Uuid>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let lang = me.lang();
    let tr = me.tr();
    let headers = upload.headers().clone();
    let json = wants_json(&headers);
    let back = if new_document {
        format!("/dossiers/{id}")
    } else {
        format!("/documents/{id}")
    };
    let docs = &st.documents;
    let result = async {
        let caller = docs.caller(me.claims.sub, me.v.ip).await?;
        // Decided before a byte of the body is read.
        let destination = if new_document {
            docs.dossier_for(&caller, id, Action::Upload).await?;
            Destination::Dossier(id)
        } else {
            docs.document_for(&caller, id, Action::Upload).await?;
            Destination::Document(id)
        };
        Ok((caller, destination))
    }
    .await;
    let (caller, destination) = match result {
        Ok(x) => x,
        Err(e) => return refused(&st, lang, &tr, json, &back, &e),
    };
    // A body announced larger than the limit (plus room for the form) is refused unread.
    let limit = docs.settings().max_bytes;
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit.saturating_add(64 * 1024))
    {
        return refused(
            &st,
            lang,
            &tr,
            json,
            &back,
            &DocumentsError::TooLarge { limit },
        );
    }
    // Over the hourly limits: refused before a byte of the body is read.
    if let Err(e) = docs.check_upload_limit(&caller).await {
        return refused(&st, lang, &tr, json, &back, &e);
    }
    let mut form = match upload.open(transfer::pace_of(docs)).await {
        Ok(form) => form,
        Err(UploadRefused::Documents(e)) => return refused(&st, lang, &tr, json, &back, &e),
        Err(UploadRefused::Form(e)) => return e.into_response(),
    };
    match transfer::receive(docs, &caller, destination, &mut form).await {
        Ok(doc) => {
            let url = format!("/documents/{}", doc.inner().id);
            if json {
                (
                    StatusCode::CREATED,
                    Json(serde_json::json!({ "url": url, "version": doc.inner().version })),
                )
                    .into_response()
            } else {
                Redirect::to(&url).into_response()
            }
        }
        Err(e) => {
            // Read a little more so that the browser reads the refusal, not a reset.
            form.drain().await;
            refused(&st, lang, &tr, json, &back, &e)
        }
    }
}

fn refused(
    st: &DocsState,
    lang: Lang,
    tr: &Tr,
    json: bool,
    back: &str,
    e: &DocumentsError,
) -> Response {
    let status = status_of(e);
    if matches!(
        e,
        DocumentsError::NotFound | DocumentsError::Unauthenticated | DocumentsError::Internal(_)
    ) {
        return status.into_response();
    }
    let message = refusal_message(tr, e);
    let mut res = refusal_response(st, lang, json, back, status, e, message);
    if let DocumentsError::LimitReached(reached) = e
        && let Ok(v) = header::HeaderValue::from_str(&reached.retry_after.as_secs().to_string())
    {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// The refusal as problem+json (the page's script) or as a page.
fn refusal_response(
    st: &DocsState,
    lang: Lang,
    json: bool,
    back: &str,
    status: StatusCode,
    e: &DocumentsError,
    message: String,
) -> Response {
    if json {
        // problem+json, with the reason in the visitor's language for the page to show.
        let body = serde_json::json!({
            "type": "about:blank",
            "title": status.canonical_reason().unwrap_or_default(),
            "status": status.as_u16(),
            "detail": message,
            "code": e.code(),
        });
        return (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response();
    }
    let page = RefusedPage {
        c: Chrome::new(lang, back),
        site: &st.site,
        message,
        back: back.to_owned(),
    };
    render(lang, status, &page)
}

async fn upload_document(
    State(st): State<DocsState>,
    me: SignedIn,
    Path(raw): Path<String>,
    upload_form: CsrfUpload,
) -> Response {
    upload(st, me, raw, upload_form, true).await
}

async fn upload_version(
    State(st): State<DocsState>,
    me: SignedIn,
    Path(raw): Path<String>,
    upload_form: CsrfUpload,
) -> Response {
    upload(st, me, raw, upload_form, false).await
}

#[derive(Deserialize)]
struct ContentQuery {
    version: Option<i64>,
    inline: Option<String>,
}

async fn content(
    State(st): State<DocsState>,
    me: SignedIn,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(q): Query<ContentQuery>,
) -> Response {
    let Ok(id) = raw.parse::<Uuid>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let inline = q.inline.as_deref() == Some("1");
    let docs = &st.documents;
    let caller = match docs.caller(me.claims.sub, me.v.ip).await {
        Ok(c) => c,
        Err(e) => return status_of(&e).into_response(),
    };
    match docs.open(&caller, id, q.version, inline).await {
        Ok(opened) => transfer::serve(docs, &opened, &headers, inline).await,
        Err(e) => status_of(&e).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// The company's access log.

#[derive(Template)]
#[template(path = "access_log.html")]
struct AccessLogPage<'a> {
    c: Chrome,
    site: &'a Site,
    headers: Vec<String>,
    rows: Vec<Row>,
}

async fn access_log(State(st): State<DocsState>, me: SignedIn) -> PageResult {
    let tr = me.tr();
    let docs = &st.documents;
    let caller = docs.caller(me.claims.sub, me.v.ip).await?;
    let items = docs.access_log(&caller, caller.organisation).await?;
    let page = AccessLogPage {
        c: me.chrome().await,
        site: &st.site,
        headers: headers_of(&tr, "document_access", &ACCESS_COLUMNS),
        rows: doc_rows(
            &st.site.tz(),
            &tr,
            &items,
            &ACCESS_COLUMNS,
            |a: &DocumentAccessView| a.document_id.to_string(),
        ),
    };
    Ok(render(me.lang(), StatusCode::OK, &page))
}
