//! What a file is, from its bytes: the allow-list of types, and the check that the name and the
//! declared Content-Type claim the same type the bytes are. The client's Content-Type alone is
//! never trusted.

use crate::error::{DocumentsError, Result};

/// How many leading bytes are read before deciding: office formats are ZIP or CFB containers,
/// recognised by the names of their first entries.
pub const HEAD: usize = 64 * 1024;

/// An accepted type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub media_type: &'static str,
    /// The extensions a name of this type may have; the first is added to names without one.
    pub extensions: &'static [&'static str],
    /// Shown inline (under a sandboxing CSP) rather than only downloaded.
    pub previewable: bool,
    /// For messages: "PDF", "PNG image"…
    pub label: &'static str,
}

const fn kind(
    media_type: &'static str,
    extensions: &'static [&'static str],
    previewable: bool,
    label: &'static str,
) -> Kind {
    Kind {
        media_type,
        extensions,
        previewable,
        label,
    }
}

/// The allow-list: PDF, common images, office documents.
pub const ALLOWED: &[Kind] = &[
    kind("application/pdf", &["pdf"], true, "PDF"),
    kind("image/png", &["png"], true, "PNG image"),
    kind("image/jpeg", &["jpg", "jpeg"], true, "JPEG image"),
    kind("image/gif", &["gif"], true, "GIF image"),
    kind("image/webp", &["webp"], true, "WebP image"),
    kind("image/tiff", &["tif", "tiff"], false, "TIFF image"),
    kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &["docx"],
        false,
        "Word document",
    ),
    kind(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &["xlsx"],
        false,
        "Excel workbook",
    ),
    kind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        &["pptx"],
        false,
        "PowerPoint presentation",
    ),
    kind(
        "application/vnd.oasis.opendocument.text",
        &["odt"],
        false,
        "OpenDocument text",
    ),
    kind(
        "application/vnd.oasis.opendocument.spreadsheet",
        &["ods"],
        false,
        "OpenDocument spreadsheet",
    ),
    kind(
        "application/vnd.oasis.opendocument.presentation",
        &["odp"],
        false,
        "OpenDocument presentation",
    ),
    kind(
        "application/msword",
        &["doc"],
        false,
        "Word 97–2003 document",
    ),
    kind(
        "application/vnd.ms-excel",
        &["xls"],
        false,
        "Excel 97–2003 workbook",
    ),
    kind(
        "application/vnd.ms-powerpoint",
        &["ppt"],
        false,
        "PowerPoint 97–2003 presentation",
    ),
];

pub fn by_media_type(media_type: &str) -> Option<&'static Kind> {
    ALLOWED.iter().find(|k| k.media_type == media_type)
}

/// The type of a file from its first bytes, if it is on the allow-list.
pub fn detect(head: &[u8]) -> Result<&'static Kind> {
    let found = infer::get(head).ok_or(DocumentsError::TypeNotAllowed)?;
    by_media_type(found.mime_type()).ok_or(DocumentsError::TypeNotAllowed)
}

/// Checks that the name's extension and the declared Content-Type (when it names a type at
/// all) claim what the bytes are.
pub fn check_claims(kind: &Kind, file_name: &str, declared: Option<&str>) -> Result<()> {
    if let Some(ext) = extension(file_name)
        && !kind.extensions.contains(&ext.as_str())
    {
        return Err(DocumentsError::TypeMismatch {
            detected: kind.label.to_owned(),
            claimed: format!(".{ext}"),
        });
    }
    let declared = declared
        .map(|d| {
            d.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|d| !d.is_empty() && d != "application/octet-stream");
    if let Some(d) = declared {
        let d = if d == "image/jpg" {
            "image/jpeg".into()
        } else {
            d
        };
        if d != kind.media_type {
            return Err(DocumentsError::TypeMismatch {
                detected: kind.label.to_owned(),
                claimed: d,
            });
        }
    }
    Ok(())
}

/// The lower-case extension of a name, when it has one.
pub fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty() && ext.len() <= 8).then(|| ext.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_png_and_refusals() {
        let pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";
        assert_eq!(detect(pdf).unwrap().media_type, "application/pdf");
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";
        assert_eq!(detect(png).unwrap().media_type, "image/png");
        assert!(matches!(
            detect(b"#!/bin/sh\necho hi\n"),
            Err(DocumentsError::TypeNotAllowed)
        ));
        assert!(matches!(
            detect(b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"),
            Err(DocumentsError::TypeNotAllowed)
        ));
        let pdf_kind = detect(pdf).unwrap();
        assert!(check_claims(pdf_kind, "report.PDF", Some("application/pdf")).is_ok());
        assert!(check_claims(pdf_kind, "report", None).is_ok());
        assert!(matches!(
            check_claims(pdf_kind, "photo.png", None),
            Err(DocumentsError::TypeMismatch { .. })
        ));
        assert!(matches!(
            check_claims(pdf_kind, "report.pdf", Some("image/png")),
            Err(DocumentsError::TypeMismatch { .. })
        ));
        assert!(check_claims(pdf_kind, "report.pdf", Some("application/octet-stream")).is_ok());
    }
}
