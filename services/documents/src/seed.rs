//! Demo documents for `extranet demo`: small generated PDFs, written straight to the store and
//! the tables (no policy check, no audit record), once per dossier and title.

use bytes::Bytes;
use extranet_platform::{Clock, Db, Objects, on_pool, write_tx};
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{DocumentsError, Result};

/// A one-page PDF showing `lines` (printable ASCII; anything else becomes `?`).
pub fn pdf(lines: &[&str]) -> Vec<u8> {
    let mut text = String::from("BT /F1 14 Tf 72 760 Td 18 TL\n");
    for line in lines {
        let clean: String = line
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        let escaped = clean
            .replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)");
        text.push_str(&format!("({escaped}) Tj T*\n"));
    }
    text.push_str("ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{text}\nendstream", text.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A demo document with one version holding `bytes` (a PDF), unless the dossier already has
/// a document with this title.
pub async fn ensure_document(
    db: &Db,
    objects: &Objects,
    clock: &dyn Clock,
    dossier: Uuid,
    (title, doc_type, file_name): (&str, &str, &str),
    uploader: Uuid,
    bytes: Vec<u8>,
) -> Result<Uuid> {
    let existing: Option<Uuid> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT id FROM document WHERE dossier_id = $1 AND title = $2")
            .bind(dossier)
            .bind(title)
            .fetch_optional(pool)
            .await
    })?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let key = format!("documents/{}", Uuid::new_v4());
    let sha = hex::encode(Sha256::digest(&bytes));
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    objects
        .store()
        .put(&ObjectPath::from(key.as_str()), Bytes::from(bytes).into())
        .await
        .map_err(|e| DocumentsError::Internal(e.to_string()))?;
    let (id, now) = (Uuid::new_v4(), clock.now());
    crate::tx::<_>(write_tx!(db, |tx| async {
        sqlx::query(
            "INSERT INTO document (id, dossier_id, title, doc_type, versions, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6, $6)",
        )
        .bind(id)
        .bind(dossier)
        .bind(title)
        .bind(doc_type)
        .bind(uploader)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO document_version (document_id, version, object_key, size, sha256, media_type, file_name, uploaded_by, uploaded_at) \
             VALUES ($1, 1, $2, $3, $4, 'application/pdf', $5, $6, $7)",
        )
        .bind(id)
        .bind(&key)
        .bind(size)
        .bind(&sha)
        .bind(file_name)
        .bind(uploader)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Ok::<(), DocumentsError>(())
    }.await)
    .await)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_pdf_is_recognised() {
        let bytes = super::pdf(&["Test report (draft)", "Line two"]);
        assert!(bytes.starts_with(b"%PDF-1.4"));
        assert_eq!(
            crate::sniff::detect(&bytes).unwrap().media_type,
            "application/pdf"
        );
        assert!(bytes.ends_with(b"%%EOF\n"));
    }
}
