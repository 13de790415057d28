//! Documents over HTTP, shared by the pages and the JSON API: a multipart upload streamed into
//! [`extranet_documents::upload::Upload`] (its body paced: [`crate::pace`]), and a version's
//! bytes streamed out with Range, ETag, an encoded `Content-Disposition`, `no-store`, and a
//! sandboxing CSP for previews.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use extranet_access::{DocumentView, Masked};
use extranet_directory::Caller;
use extranet_documents::read::Opened;
use extranet_documents::upload::{Target, Upload};
use extranet_documents::{Documents, DocumentsError};
use futures::TryStreamExt;
use uuid::Uuid;

use crate::pace::{self, Cut, CutOff, Pace};

/// What an upload adds to, before its form fields are read.
#[derive(Debug, Clone, Copy)]
pub enum Destination {
    Dossier(Uuid),
    Document(Uuid),
}

/// Longest a text field of an upload form may be.
const FIELD_MAX: usize = 1024;

/// The CSP of an inline preview: the document is sandboxed (no script, an opaque origin), may
/// load nothing, and cannot be framed.
pub const PREVIEW_CSP: &str = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'";

fn malformed(e: impl std::fmt::Display) -> DocumentsError {
    DocumentsError::Interrupted(format!("the multipart body could not be read: {e}"))
}

/// An upload's multipart form over a paced body: a body that stalls, or drips in slower than
/// the installation's minimum rate, is cut off, and [`PacedForm::error`] says which.
pub struct PacedForm {
    pub form: Multipart,
    pub verdict: Verdict,
}

/// Why reading a paced body failed.
#[derive(Clone)]
pub struct Verdict {
    cut: Arc<CutOff>,
    pace: Pace,
}

/// How the documents service wants upload bodies to keep coming.
pub fn pace_of(docs: &Documents) -> Pace {
    let s = docs.settings();
    Pace {
        idle: s.idle,
        min_rate: s.min_rate,
        window: s.rate_window,
    }
}

impl PacedForm {
    /// Wraps the request's body in the pace, then reads it as `multipart/form-data` (a body of
    /// another type is refused here, before any of it is read).
    pub async fn new(request: Request, pace: Pace) -> Result<PacedForm, DocumentsError> {
        let (parts, body) = request.into_parts();
        let (body, cut) = pace::paced(body, pace);
        let form = Multipart::from_request(Request::from_parts(parts, body), &())
            .await
            .map_err(|e| malformed(e.body_text()))?;
        Ok(PacedForm {
            form,
            verdict: Verdict { cut, pace },
        })
    }
}

impl Verdict {
    /// The error for a failed read: the pace's verdict when the body was cut off.
    pub fn error(&self, e: impl std::fmt::Display) -> DocumentsError {
        match self.cut.get() {
            Some(Cut::TooSlow) => DocumentsError::TooSlow {
                min_rate: self.pace.min_rate,
                window_secs: self.pace.window.as_secs(),
            },
            Some(Cut::Stalled) => {
                DocumentsError::Interrupted("no data arrived for too long".into())
            }
            None => malformed(e),
        }
    }
}

async fn text(
    paced: &Verdict,
    field: &mut Field<'_>,
    name: &'static str,
) -> Result<String, DocumentsError> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| paced.error(e))? {
        if out.len() + chunk.len() > FIELD_MAX {
            return Err(DocumentsError::invalid(name, "too long"));
        }
        out.extend_from_slice(&chunk);
    }
    String::from_utf8(out).map_err(|_| DocumentsError::invalid(name, "not UTF-8 text"))
}

/// Reads a multipart upload: the text fields (`title`, `doc_type` for a new document) must
/// come before the `file` part, whose bytes are written as they arrive, and nothing may follow
/// it. A body that stalls or drips in too slowly ends the upload (the pace). On a refusal the
/// rest of the form is unread: the caller decides whether to drain it ([`PacedForm::drain`]).
/// Whatever goes wrong, nothing of the upload stays.
pub async fn receive(
    docs: &Documents,
    caller: &Caller,
    into: Destination,
    paced: &mut PacedForm,
) -> Result<Masked<DocumentView>, DocumentsError> {
    let PacedForm { form, verdict } = paced;
    let (mut title, mut doc_type) = (None, None);
    loop {
        let next = form.next_field().await;
        let Some(mut field) = next.map_err(|e| verdict.error(e))? else {
            return Err(DocumentsError::invalid("file", "a file is required"));
        };
        match field.name().unwrap_or_default() {
            // A new version is only a file: its title and type are the document's.
            name @ ("title" | "doc_type") if matches!(into, Destination::Document(_)) => {
                return Err(DocumentsError::invalid(
                    if name == "title" { "title" } else { "doc_type" },
                    "a new version takes only the file (the title and type are the document's)",
                ));
            }
            "title" => title = Some(text(verdict, &mut field, "title").await?),
            "doc_type" => doc_type = Some(text(verdict, &mut field, "doc_type").await?),
            "file" => {
                let target = match into {
                    Destination::Document(document) => Target::Version { document },
                    Destination::Dossier(dossier) => Target::New {
                        dossier,
                        title: title.take().ok_or_else(|| {
                            DocumentsError::invalid(
                                "title",
                                "a title is required (before the file)",
                            )
                        })?,
                        doc_type: doc_type.take().ok_or_else(|| {
                            DocumentsError::invalid(
                                "doc_type",
                                "a document type is required (before the file)",
                            )
                        })?,
                    },
                };
                let name = field.file_name().unwrap_or_default().to_owned();
                let declared = field.content_type().map(str::to_owned);
                let mut upload = docs.begin_upload(caller, target).await?;
                let streamed = stream_into(verdict, &mut field, &mut upload).await;
                drop(field);
                let streamed = match streamed {
                    Ok(()) => nothing_after(form, verdict).await,
                    Err(e) => Err(e),
                };
                return match streamed {
                    Ok(()) => upload.finish(&name, declared.as_deref()).await,
                    Err(e) => {
                        upload.abort().await;
                        Err(e)
                    }
                };
            }
            _ => {
                return Err(DocumentsError::invalid(
                    "file",
                    "unknown form field (expected title, doc_type, file)",
                ));
            }
        }
    }
}

/// The file is the form's last part: a part after it would be ignored, so the upload is
/// refused instead.
async fn nothing_after(form: &mut Multipart, verdict: &Verdict) -> Result<(), DocumentsError> {
    match form.next_field().await.map_err(|e| verdict.error(e))? {
        None => Ok(()),
        Some(_) => Err(DocumentsError::invalid(
            "file",
            "the file must be the form's last part",
        )),
    }
}

async fn stream_into(
    paced: &Verdict,
    field: &mut Field<'_>,
    upload: &mut Upload<'_>,
) -> Result<(), DocumentsError> {
    loop {
        let chunk = field.chunk().await.map_err(|e| paced.error(e))?;
        match chunk {
            Some(bytes) => upload.write(bytes).await?,
            None => return Ok(()),
        }
    }
}

/// How much of a refused upload's body is read before the answer, and for how long.
const DRAIN_BYTES: usize = 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Reads and drops up to [`DRAIN_BYTES`] of what is left of a body (for at most [`DRAIN_TIME`])
/// before a refusal is answered: hyper closes a connection whose request body was not read to
/// its end without saying `Connection: close`, so a client still sending, or reusing the
/// connection, would lose the answer to a reset. A larger body is left: the connection closes,
/// as for a 413.
pub async fn drain_body(body: axum::body::Body) {
    let drain = async {
        let mut stream = body.into_data_stream();
        let mut read = 0usize;
        while let Ok(Some(chunk)) = stream.try_next().await {
            read += chunk.len();
            if read > DRAIN_BYTES {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
}

impl PacedForm {
    /// [`drain_body`] for a form some of which was read.
    pub async fn drain(mut self) {
        let drain = async {
            let mut read = 0usize;
            while let Ok(Some(mut field)) = self.form.next_field().await {
                while let Ok(Some(chunk)) = field.chunk().await {
                    read += chunk.len();
                    if read > DRAIN_BYTES {
                        return;
                    }
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
    }
}

/// A single byte range of a representation of `len` bytes, as RFC 9110 reads `Range`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// No usable Range header (absent, not bytes, malformed, or several ranges): everything.
    All,
    /// Bytes `start..end` (end exclusive).
    Part(u64, u64),
    /// A Range no byte of the representation satisfies: 416.
    Unsatisfiable,
}

pub fn wanted(range: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        // Several ranges would need multipart/byteranges; a server may answer with all.
        return Wanted::All;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Wanted::All;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // Suffix: the last n bytes.
        return match b.parse::<u64>() {
            Ok(0) => Wanted::Unsatisfiable,
            Ok(_) if len == 0 => Wanted::Unsatisfiable,
            Ok(n) => Wanted::Part(len.saturating_sub(n), len),
            Err(_) => Wanted::All,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return Wanted::All;
    };
    let end = if b.is_empty() {
        len
    } else {
        match b.parse::<u64>() {
            Ok(last) if last >= start => last.saturating_add(1).min(len),
            _ => return Wanted::All,
        }
    };
    if start >= len {
        Wanted::Unsatisfiable
    } else {
        Wanted::Part(start, end)
    }
}

/// `attachment` or `inline`, with an ASCII fallback name and the exact name in RFC 5987 form.
pub fn content_disposition(kind: &str, name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%' | ';') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, RFC5987_ATTR).to_string();
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Everything but RFC 5987's attr-char is percent-encoded.
const RFC5987_ATTR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// The response that sends an opened version: all of it or the requested range, streamed.
pub async fn serve(
    docs: &Documents,
    opened: &Opened,
    headers: &HeaderMap,
    inline: bool,
) -> Response {
    let etag = format!("\"{}\"", opened.sha256);
    let inline = inline && opened.previewable;
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    // If-Range: the range applies only to the representation the client already has.
    let range = match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        Some(tag) if tag != etag => None,
        _ => range,
    };
    let mut res = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return res
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap_or_else(|_| StatusCode::NOT_MODIFIED.into_response());
    }
    let len = opened.size;
    let (status, span) = match wanted(range, len) {
        Wanted::All => (StatusCode::OK, 0..len),
        Wanted::Part(a, b) => (StatusCode::PARTIAL_CONTENT, a..b),
        Wanted::Unsatisfiable => {
            return res
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{len}"))
                .header(header::CONTENT_TYPE, "application/problem+json")
                .body(Body::from(
                    serde_json::json!({
                        "type": "about:blank", "title": "Range Not Satisfiable", "status": 416,
                        "detail": format!("the document has {len} bytes"),
                    })
                    .to_string(),
                ))
                .unwrap_or_else(|_| StatusCode::RANGE_NOT_SATISFIABLE.into_response());
        }
    };
    if status == StatusCode::PARTIAL_CONTENT {
        res = res.header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{len}", span.start, span.end - 1),
        );
    }
    let stream = match docs
        .objects()
        .read(&opened.object_key, Some(span.clone()))
        .await
    {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, document = %opened.document, "a document's object cannot be read");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    res = res
        .status(status)
        .header(header::CONTENT_LENGTH, span.end - span.start)
        .header(
            header::CONTENT_DISPOSITION,
            content_disposition(
                if inline { "inline" } else { "attachment" },
                &opened.file_name,
            ),
        );
    res = if inline {
        res.header(header::CONTENT_TYPE, &opened.media_type)
            .header(header::CONTENT_SECURITY_POLICY, PREVIEW_CSP)
    } else {
        res.header(header::CONTENT_TYPE, &opened.media_type)
    };
    // A read that fails mid-body can only cut the response short; the log says why.
    let document = opened.document;
    let stream = stream.inspect_err(move |e| {
        tracing::error!(error = %e, %document, "reading a document's object failed mid-download");
    });
    res.body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        assert_eq!(wanted(None, 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-9"), 100), Wanted::Part(0, 10));
        assert_eq!(wanted(Some("bytes=90-"), 100), Wanted::Part(90, 100));
        assert_eq!(wanted(Some("bytes=90-500"), 100), Wanted::Part(90, 100));
        assert_eq!(wanted(Some("bytes=-10"), 100), Wanted::Part(90, 100));
        assert_eq!(wanted(Some("bytes=-500"), 100), Wanted::Part(0, 100));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=5-1"), 100), Wanted::All);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::All);
        assert_eq!(wanted(Some("bytes=x-1"), 100), Wanted::All);
    }

    #[test]
    fn dispositions_are_encoded() {
        let v = content_disposition("attachment", "Rapport \"été\"; 100%.pdf");
        let s = v.to_str().unwrap();
        assert_eq!(
            s,
            "attachment; filename=\"Rapport __t___ 100_.pdf\"; filename*=UTF-8''Rapport%20%22%C3%A9t%C3%A9%22%3B%20100%25.pdf"
        );
    }
}
