//! A company's data handed over when it leaves for another certification body: its
//! organisation record, its people (their professional details, roles — no credentials, no
//! logs), its dossiers with their status history, and its documents (metadata and every
//! version's file), as one archive with its JSON Schema.
//!
//! ```text
//! organisation.json   the whole hand-over (`Handover`), valid against schema.json
//! schema.json         its JSON Schema (draft 2020-12)
//! documents/NNN-<file name>
//! ```

use std::io::{Seek, Write};

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use extranet_platform::{Db, Objects, on_pool};

use super::held::cell;
use super::zipfile::{Archive, ArchiveSummary, safe_name};
use super::{Requester, record_export};
use crate::error::{PrivacyError, Result};

pub const FORMAT: &str = "extranet-handover/1";

/// The hand-over; records are kept as the database holds them (column → value), so a column
/// added later travels without a change here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handover {
    pub format: String,
    pub exported_at: String,
    pub organisation: serde_json::Map<String, serde_json::Value>,
    pub people: Vec<serde_json::Map<String, serde_json::Value>>,
    pub dossiers: Vec<serde_json::Map<String, serde_json::Value>>,
    pub dossier_status_changes: Vec<serde_json::Map<String, serde_json::Value>>,
    pub documents: Vec<serde_json::Map<String, serde_json::Value>>,
}

/// What a hand-over archive holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoverSummary {
    pub organisation_id: Uuid,
    pub people: usize,
    pub dossiers: usize,
    pub archive: ArchiveSummary,
}

pub fn schema() -> serde_json::Value {
    let records = serde_json::json!({ "type": "array", "items": { "type": "object" } });
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:extranet:handover:1",
        "title": "A company's data handed over",
        "type": "object",
        "properties": {
            "format": { "const": FORMAT },
            "exported_at": { "type": "string", "format": "date-time" },
            "organisation": {
                "type": "object",
                "required": ["id", "name", "kind"],
                "properties": { "id": { "type": "string" }, "name": { "type": "string" }, "kind": { "type": "string" } }
            },
            "people": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "first_name", "surname", "email", "roles"],
                    "properties": { "roles": { "type": "array", "items": { "type": "string" } } }
                }
            },
            "dossiers": records,
            "dossier_status_changes": records,
            "documents": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["document_id", "title", "version", "file_name", "sha256", "file"],
                    "properties": {
                        "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                        "file": { "type": "string", "pattern": "^documents/" }
                    }
                }
            }
        },
        "required": ["format", "exported_at", "organisation", "people", "dossiers",
                     "dossier_status_changes", "documents"],
        "additionalProperties": false,
    })
}

type Rows = Vec<serde_json::Map<String, serde_json::Value>>;

/// Rows of `sql` (one `$1`, the organisation's id) as column → value maps.
async fn rows(db: &Db, sql: &'static str, columns: &[&str], org: Uuid) -> Result<Rows> {
    let values: Vec<Vec<serde_json::Value>> = on_pool!(db, read, |pool| {
        sqlx::query(AssertSqlSafe(sql))
            .bind(org)
            .fetch_all(pool)
            .await
            .map(|rows| {
                rows.iter()
                    .map(|r| (0..columns.len()).map(|i| cell!(r, i)).collect())
                    .collect()
            })
    })?;
    Ok(values
        .into_iter()
        .map(|v| {
            columns
                .iter()
                .map(|c| (*c).to_owned())
                .zip(v)
                .collect::<serde_json::Map<_, _>>()
        })
        .collect())
}

/// The hand-over of `organisation_id`, written to `out`; [`PrivacyError::NotFound`] for an
/// unknown organisation. Recorded as `subject.handover`.
pub async fn export<W: Write + Seek>(
    db: &Db,
    objects: &Objects,
    organisation_id: Uuid,
    out: W,
    who: Requester,
) -> Result<(W, HandoverSummary)> {
    const ORG: &[&str] = &[
        "id",
        "kind",
        "name",
        "enterprise_number",
        "vat_number",
        "addresses",
        "phone",
        "fax",
        "sector",
        "active",
        "created_at",
    ];
    let mut org = rows(
        db,
        "SELECT id, kind, name, enterprise_number, vat_number, addresses, phone, fax, sector, \
         active, created_at FROM organisation WHERE id = $1",
        ORG,
        organisation_id,
    )
    .await?;
    let mut organisation = org.pop().ok_or(PrivacyError::NotFound)?;
    // Stored as JSON text on both engines: handed over as JSON.
    if let Some(serde_json::Value::String(a)) = organisation.get("addresses").cloned()
        && let Ok(parsed) = serde_json::from_str::<serde_json::Value>(&a)
    {
        organisation.insert("addresses".into(), parsed);
    }
    const PEOPLE: &[&str] = &[
        "id",
        "first_name",
        "surname",
        "email",
        "phone",
        "mobile",
        "fax",
        "function",
        "gender",
        "language",
        "training_valid_until",
        "state",
        "created_at",
    ];
    let mut people = rows(
        db,
        "SELECT id, first_name, surname, email, phone, mobile, fax, function, gender, language, \
         training_valid_until, state, created_at FROM person WHERE organisation_id = $1 \
         ORDER BY surname, first_name, id",
        PEOPLE,
        organisation_id,
    )
    .await?;
    let roles: Vec<(Uuid, String)> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT r.person_id, r.role FROM person_role r JOIN person p ON p.id = r.person_id \
             WHERE p.organisation_id = $1 ORDER BY r.role",
        )
        .bind(organisation_id)
        .fetch_all(pool)
        .await
    })?;
    for p in &mut people {
        let id = p
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let mine: Vec<serde_json::Value> = roles
            .iter()
            .filter(|(pid, _)| pid.to_string() == id)
            .map(|(_, r)| serde_json::Value::from(r.clone()))
            .collect();
        p.insert("roles".into(), serde_json::Value::Array(mine));
    }
    const DOSSIERS: &[&str] = &[
        "id",
        "scheme",
        "certificate_number",
        "status",
        "valid_from",
        "valid_until",
        "created_at",
        "updated_at",
    ];
    let dossiers = rows(
        db,
        "SELECT id, scheme, certificate_number, status, valid_from, valid_until, created_at, \
         updated_at FROM dossier WHERE organisation_id = $1 ORDER BY created_at, id",
        DOSSIERS,
        organisation_id,
    )
    .await?;
    const CHANGES: &[&str] = &[
        "dossier_id",
        "from_status",
        "to_status",
        "reason",
        "changed_at",
    ];
    let changes = rows(
        db,
        "SELECT c.dossier_id, c.from_status, c.to_status, c.reason, c.changed_at \
         FROM dossier_status_change c JOIN dossier d ON d.id = c.dossier_id \
         WHERE d.organisation_id = $1 ORDER BY c.changed_at, c.id",
        CHANGES,
        organisation_id,
    )
    .await?;
    const DOCS: &[&str] = &[
        "document_id",
        "dossier_id",
        "title",
        "doc_type",
        "version",
        "file_name",
        "media_type",
        "size",
        "sha256",
        "uploaded_at",
        "object_key",
    ];
    let mut documents = rows(
        db,
        "SELECT v.document_id, d.dossier_id, d.title, d.doc_type, v.version, v.file_name, \
         v.media_type, v.size, v.sha256, v.uploaded_at, v.object_key \
         FROM document_version v JOIN document d ON d.id = v.document_id \
         JOIN dossier s ON s.id = d.dossier_id \
         WHERE s.organisation_id = $1 AND d.deleted_at IS NULL \
         ORDER BY d.created_at, v.document_id, v.version",
        DOCS,
        organisation_id,
    )
    .await?;
    let mut files = Vec::new();
    for (i, d) in documents.iter_mut().enumerate() {
        let text = |k: &str| {
            d.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let name = format!("documents/{:03}-{}", i + 1, safe_name(&text("file_name")));
        files.push((text("object_key"), name.clone(), text("sha256")));
        d.remove("object_key");
        d.insert("file".into(), name.into());
    }
    let now = OffsetDateTime::now_utc();
    let handover = Handover {
        format: FORMAT.to_owned(),
        exported_at: now
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        organisation,
        people,
        dossiers,
        dossier_status_changes: changes,
        documents,
    };
    let mut zip = Archive::new(out);
    let json =
        serde_json::to_vec_pretty(&handover).map_err(|e| PrivacyError::Internal(e.to_string()))?;
    zip.bytes("organisation.json", &json)?;
    let schema =
        serde_json::to_vec_pretty(&schema()).map_err(|e| PrivacyError::Internal(e.to_string()))?;
    zip.bytes("schema.json", &schema)?;
    for (key, name, sha) in &files {
        zip.object(objects, key, name, sha).await?;
    }
    let (out, archive) = zip.finish()?;
    let summary = HandoverSummary {
        organisation_id,
        people: handover.people.len(),
        dossiers: handover.dossiers.len(),
        archive,
    };
    record_export(
        db,
        now,
        who,
        "handover",
        ("organisation", organisation_id),
        serde_json::json!({
            "format": "zip",
            "people": summary.people,
            "dossiers": summary.dossiers,
            "documents": summary.archive.documents,
        }),
    )
    .await?;
    Ok((out, summary))
}
