//! What a request's answer gives its requester: once the coordinator has carried out the right
//! of access, the report (a page, and an archive with a copy of the documents they uploaded);
//! once portability, the archive of what they provided. Each is generated afresh from the data
//! when it is downloaded (no copy of anyone's data waits in storage), only for the requester,
//! and recorded in the audit log (`subject.report`, `subject.portability`).

use std::io::{BufWriter, Seek, SeekFrom};

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use extranet_privacy::subject::{Requester, portability, report};
use extranet_rights::Who;

use super::{page_error, parse_id};
use crate::ui::{PageError, SignedIn};

/// The request's person when the caller is its requester and `right` was carried out on it.
async fn answered(me: &SignedIn, raw: &str, right: &str) -> Result<uuid::Uuid, PageError> {
    let id = parse_id(raw)?;
    let caller = me.current().await?;
    let w = Who {
        person: caller.person,
        grants: &caller.grants,
        ip: me.v.ip,
    };
    let rights = &me.services().rights;
    let d = rights.detail(&w, id).await.map_err(page_error)?;
    if d.row.person_id != Some(caller.person) {
        return Err(PageError::NotFound);
    }
    if !rights
        .carried_out(id)
        .await
        .map_err(page_error)?
        .iter()
        .any(|r| r == right)
    {
        return Err(PageError::NotFound);
    }
    Ok(caller.person)
}

fn who(me: &SignedIn, person: uuid::Uuid) -> Requester {
    Requester {
        actor: Some(person),
        ip: me.v.ip,
    }
}

fn internal(e: impl std::fmt::Display) -> PageError {
    PageError::internal(e.to_string())
}

async fn access_report(
    me: &SignedIn,
    person: uuid::Uuid,
) -> Result<report::AccessReport, PageError> {
    let privacy = &me.services().privacy;
    report::access_report(
        privacy.db(),
        privacy.objects(),
        &privacy.register(),
        person,
        me.lang().code(),
        who(me, person),
    )
    .await
    .map_err(internal)
}

fn html_of(me: &SignedIn, r: &report::AccessReport) -> Result<String, PageError> {
    crate::access_report::report_html(
        r,
        &me.services().site.name,
        &crate::ui::words::installation_tz(),
    )
    .map_err(internal)
}

/// The report as a page of its own (printable), in the reader's language. It is the
/// self-contained document of the archive, its style inline: this page's policy allows that
/// one style by its hash, and nothing else (no script, no other source).
pub(super) async fn report_page(
    me: SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let person = answered(&me, &raw, "access").await?;
    let r = access_report(&me, person).await?;
    let html = html_of(&me, &r)?;
    let mut policy = "default-src 'none'; img-src data:; form-action 'none'; \
        frame-ancestors 'none'; base-uri 'none'"
        .to_owned();
    if let Some(style) = html
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(style, _)| style)
    {
        use base64::Engine;
        use sha2::Digest;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style));
        policy.push_str(&format!("; style-src 'sha256-{hash}'"));
    }
    let mut res = Html(html).into_response();
    if let Ok(v) = HeaderValue::from_str(&policy) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(res)
}

/// The report's archive: report.json, report.html and the documents.
pub(super) async fn report_archive(
    me: SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let person = answered(&me, &raw, "access").await?;
    let r = access_report(&me, person).await?;
    let html = html_of(&me, &r)?;
    let privacy = &me.services().privacy;
    let file = spool()?;
    let (out, _) = report::archive(
        privacy.db(),
        privacy.objects(),
        &r,
        &html,
        file,
        who(&me, person),
    )
    .await
    .map_err(internal)?;
    zip_response(out, "access-report.zip")
}

/// The portability archive: data.json, CSV files and schema.json.
pub(super) async fn portability_archive(
    me: SignedIn,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let person = answered(&me, &raw, "portability").await?;
    let privacy = &me.services().privacy;
    let file = spool()?;
    let (out, _) = portability::export(
        privacy.db(),
        privacy.objects(),
        person,
        file,
        who(&me, person),
    )
    .await
    .map_err(internal)?;
    zip_response(out, "portability.zip")
}

/// An unlinked temporary file: archives hold documents and may be large.
pub(crate) fn spool() -> Result<BufWriter<std::fs::File>, PageError> {
    Ok(BufWriter::new(tempfile::tempfile().map_err(internal)?))
}

pub(crate) fn zip_response(
    out: BufWriter<std::fs::File>,
    name: &str,
) -> Result<Response, PageError> {
    let mut file = out.into_inner().map_err(|e| internal(e.error()))?;
    file.seek(SeekFrom::Start(0)).map_err(internal)?;
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let mut res = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
