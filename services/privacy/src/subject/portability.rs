//! Portability (GDPR Art. 20): only what the person provided — their profile, vehicles,
//! consents, their choice about subprocessor notices, the objections they wrote, and the
//! documents they uploaded (metadata and files) — never what the extranet derived (audit
//! entries, sessions, roles). The archive:
//!
//! ```text
//! data.json        the whole export (`Portable`), valid against schema.json
//! schema.json      its JSON Schema (draft 2020-12)
//! profile.csv      field,value
//! vehicles.csv     licence_plate,added_at
//! consents.csv     purpose,text_version,language,given_at,given_via,withdrawn_at,withdrawn_via
//! documents.csv    title,doc_type,version,file_name,media_type,size,sha256,uploaded_at,file
//! documents/NNN-<file name>   each uploaded version, byte for byte
//! ```

use std::io::{Seek, Write};

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use extranet_platform::{Db, Objects, on_pool};

use super::held::cell;
use super::zipfile::{Archive, ArchiveSummary};
use super::{Requester, record_export, rfc3339};
use crate::error::{PrivacyError, Result};

/// The version of the layout; `schema.json` describes this one.
pub const FORMAT: &str = "extranet-portability/1";

/// The profile as the person gave it (dates as `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub first_name: String,
    pub surname: String,
    pub email: String,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub fax: Option<String>,
    pub function: Option<String>,
    pub gender: String,
    pub language: String,
    pub birth_date: Option<String>,
    pub training_valid_until: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vehicle {
    pub licence_plate: String,
    #[serde(with = "rfc3339")]
    pub added_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecord {
    pub purpose: String,
    pub text_version: i64,
    pub language: String,
    pub text: String,
    /// Unix seconds.
    pub given_at: i64,
    pub given_via: String,
    pub withdrawn_at: Option<i64>,
    pub withdrawn_via: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objection {
    /// Unix seconds.
    pub created_at: i64,
    /// As written (HTML, cleaned when it was lodged).
    pub reasons: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub title: String,
    pub version: i64,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(with = "rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// The file's path inside the archive.
    pub file: String,
}

/// The whole export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Portable {
    pub format: String,
    #[serde(with = "rfc3339")]
    pub exported_at: OffsetDateTime,
    pub profile: Profile,
    pub vehicles: Vec<Vehicle>,
    pub consents: Vec<ConsentRecord>,
    /// Whether they asked for the subprocessor notices by mail; `null`: never chose.
    pub subprocessor_notices_by_mail: Option<bool>,
    pub objections: Vec<Objection>,
    pub documents: Vec<Document>,
}

/// The JSON Schema of `data.json` (draft 2020-12), shipped inside every archive.
pub fn schema() -> serde_json::Value {
    let s = |nullable: bool| {
        if nullable {
            serde_json::json!({ "type": ["string", "null"] })
        } else {
            serde_json::json!({ "type": "string" })
        }
    };
    let time = serde_json::json!({ "type": "string", "format": "date-time" });
    let date = serde_json::json!({ "type": ["string", "null"], "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$" });
    let int = serde_json::json!({ "type": "integer" });
    let object = |props: serde_json::Value| {
        let required: Vec<String> = props
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        serde_json::json!({
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": false,
        })
    };
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:extranet:portability:1",
        "title": "The data a person provided to the extranet",
        "type": "object",
        "properties": {
            "format": { "const": FORMAT },
            "exported_at": time,
            "profile": object(serde_json::json!({
                "first_name": s(false), "surname": s(false), "email": s(false),
                "phone": s(true), "mobile": s(true), "fax": s(true), "function": s(true),
                "gender": s(false), "language": { "enum": ["nl", "fr", "en"] },
                "birth_date": date, "training_valid_until": date,
            })),
            "vehicles": { "type": "array", "items": object(serde_json::json!({
                "licence_plate": s(false), "added_at": time,
            })) },
            "consents": { "type": "array", "items": object(serde_json::json!({
                "purpose": s(false), "text_version": int, "language": s(false), "text": s(false),
                "given_at": int, "given_via": s(false),
                "withdrawn_at": { "type": ["integer", "null"] }, "withdrawn_via": s(true),
            })) },
            "subprocessor_notices_by_mail": { "type": ["boolean", "null"] },
            "objections": { "type": "array", "items": object(serde_json::json!({
                "created_at": int, "reasons": s(false),
            })) },
            "documents": { "type": "array", "items": object(serde_json::json!({
                "title": s(false), "version": int, "file_name": s(false), "media_type": s(false),
                "size": { "type": "integer", "minimum": 0 },
                "sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "uploaded_at": time,
                "file": { "type": "string", "pattern": "^documents/" },
            })) },
        },
        "required": ["format", "exported_at", "profile", "vehicles", "consents",
                     "subprocessor_notices_by_mail", "objections", "documents"],
        "additionalProperties": false,
    })
}

fn text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

async fn profile(db: &Db, person: Uuid) -> Result<Profile> {
    const COLUMNS: [&str; 11] = [
        "first_name",
        "surname",
        "email",
        "phone",
        "mobile",
        "fax",
        "function",
        "gender",
        "language",
        "birth_date",
        "training_valid_until",
    ];
    let sql = format!("SELECT {} FROM person WHERE id = $1", COLUMNS.join(", "));
    let row: Option<Vec<serde_json::Value>> = on_pool!(db, read, |pool| {
        sqlx::query(AssertSqlSafe(sql.clone()))
            .bind(person)
            .fetch_optional(pool)
            .await
            .map(|r| r.map(|r| (0..COLUMNS.len()).map(|i| cell!(&r, i)).collect()))
    })?;
    let v = row.ok_or(PrivacyError::NotFound)?;
    let t = |i: usize| text(&v[i]);
    Ok(Profile {
        first_name: t(0).unwrap_or_default(),
        surname: t(1).unwrap_or_default(),
        email: t(2).unwrap_or_default(),
        phone: t(3),
        mobile: t(4),
        fax: t(5),
        function: t(6),
        gender: t(7).unwrap_or_default(),
        language: t(8).unwrap_or_default(),
        birth_date: t(9).map(|d| d.chars().take(10).collect()),
        training_valid_until: t(10).map(|d| d.chars().take(10).collect()),
    })
}

type ConsentRow = (
    String,
    i64,
    String,
    String,
    i64,
    String,
    Option<i64>,
    Option<String>,
);

/// What `person_id` provided, or [`PrivacyError::NotFound`].
pub async fn data(db: &Db, person_id: Uuid) -> Result<Portable> {
    let profile = profile(db, person_id).await?;
    let vehicles: Vec<(String, OffsetDateTime)> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT licence_plate, created_at FROM vehicle WHERE person_id = $1 \
             ORDER BY created_at, licence_plate",
        )
        .bind(person_id)
        .fetch_all(pool)
        .await
    })?;
    let consents: Vec<ConsentRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT purpose, text_version, language, text, given_at, given_via, withdrawn_at, \
                    withdrawn_via FROM consent WHERE person_id = $1 ORDER BY given_at, purpose",
        )
        .bind(person_id)
        .fetch_all(pool)
        .await
    })?;
    let subscription: Option<bool> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT wants_mail FROM subprocessor_subscription WHERE person_id = $1")
            .bind(person_id)
            .fetch_optional(pool)
            .await
    })?;
    let objections: Vec<(i64, String)> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT created_at, reasons FROM subprocessor_objection WHERE author_id = $1 \
             ORDER BY created_at",
        )
        .bind(person_id)
        .fetch_all(pool)
        .await
    })?;
    let documents = super::report::uploaded(db, person_id).await?;
    Ok(Portable {
        format: FORMAT.to_owned(),
        exported_at: OffsetDateTime::now_utc(),
        profile,
        vehicles: vehicles
            .into_iter()
            .map(|(licence_plate, added_at)| Vehicle {
                licence_plate,
                added_at,
            })
            .collect(),
        consents: consents
            .into_iter()
            .map(
                |(
                    purpose,
                    text_version,
                    language,
                    text,
                    given_at,
                    given_via,
                    withdrawn_at,
                    withdrawn_via,
                )| {
                    ConsentRecord {
                        purpose,
                        text_version,
                        language,
                        text,
                        given_at,
                        given_via,
                        withdrawn_at,
                        withdrawn_via,
                    }
                },
            )
            .collect(),
        subprocessor_notices_by_mail: subscription,
        objections: objections
            .into_iter()
            .map(|(created_at, reasons)| Objection {
                created_at,
                reasons,
            })
            .collect(),
        documents: documents
            .iter()
            .map(|d| Document {
                title: d.title.clone(),
                version: d.version,
                file_name: d.file_name.clone(),
                media_type: d.media_type.clone(),
                size: d.size,
                sha256: d.sha256.clone(),
                uploaded_at: d.uploaded_at,
                file: d.archive_name.clone(),
            })
            .collect(),
    })
}

/// A cell that a spreadsheet would run as a formula is made inert.
pub(crate) fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

pub(crate) fn csv<I, R>(header: &[&str], rows: I) -> Result<Vec<u8>>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let fail = |e: csv::Error| PrivacyError::Internal(e.to_string());
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(fail)?;
    for row in rows {
        w.write_record(row.into_iter().map(|c| defuse(&c)))
            .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| PrivacyError::Internal(e.to_string()))
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// The portability archive of `person_id`, written to `out`; recorded as
/// `subject.portability`.
pub async fn export<W: Write + Seek>(
    db: &Db,
    objects: &Objects,
    person_id: Uuid,
    out: W,
    who: Requester,
) -> Result<(W, ArchiveSummary)> {
    let data = data(db, person_id).await?;
    let keys = super::report::uploaded(db, person_id).await?;
    let mut zip = Archive::new(out);
    let json =
        serde_json::to_vec_pretty(&data).map_err(|e| PrivacyError::Internal(e.to_string()))?;
    zip.bytes("data.json", &json)?;
    let schema =
        serde_json::to_vec_pretty(&schema()).map_err(|e| PrivacyError::Internal(e.to_string()))?;
    zip.bytes("schema.json", &schema)?;
    let p = &data.profile;
    zip.bytes(
        "profile.csv",
        &csv(
            &["field", "value"],
            [
                ("first_name", Some(p.first_name.clone())),
                ("surname", Some(p.surname.clone())),
                ("email", Some(p.email.clone())),
                ("phone", p.phone.clone()),
                ("mobile", p.mobile.clone()),
                ("fax", p.fax.clone()),
                ("function", p.function.clone()),
                ("gender", Some(p.gender.clone())),
                ("language", Some(p.language.clone())),
                ("birth_date", p.birth_date.clone()),
                ("training_valid_until", p.training_valid_until.clone()),
            ]
            .into_iter()
            .map(|(k, v)| vec![k.to_owned(), opt(&v)]),
        )?,
    )?;
    zip.bytes(
        "vehicles.csv",
        &csv(
            &["licence_plate", "added_at"],
            data.vehicles.iter().map(|v| {
                vec![
                    v.licence_plate.clone(),
                    v.added_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                ]
            }),
        )?,
    )?;
    zip.bytes(
        "consents.csv",
        &csv(
            &[
                "purpose",
                "text_version",
                "language",
                "given_at",
                "given_via",
                "withdrawn_at",
                "withdrawn_via",
            ],
            data.consents.iter().map(|c| {
                vec![
                    c.purpose.clone(),
                    c.text_version.to_string(),
                    c.language.clone(),
                    c.given_at.to_string(),
                    c.given_via.clone(),
                    c.withdrawn_at.map(|w| w.to_string()).unwrap_or_default(),
                    opt(&c.withdrawn_via),
                ]
            }),
        )?,
    )?;
    zip.bytes(
        "documents.csv",
        &csv(
            &[
                "title",
                "version",
                "file_name",
                "media_type",
                "size",
                "sha256",
                "uploaded_at",
                "file",
            ],
            data.documents.iter().map(|d| {
                vec![
                    d.title.clone(),
                    d.version.to_string(),
                    d.file_name.clone(),
                    d.media_type.clone(),
                    d.size.to_string(),
                    d.sha256.clone(),
                    d.uploaded_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    d.file.clone(),
                ]
            }),
        )?,
    )?;
    for d in &keys {
        zip.object(objects, &d.object_key, &d.archive_name, &d.sha256)
            .await?;
    }
    let (out, summary) = zip.finish()?;
    record_export(
        db,
        OffsetDateTime::now_utc(),
        who,
        "portability",
        ("person", person_id),
        serde_json::json!({ "format": "zip", "documents": summary.documents }),
    )
    .await?;
    Ok((out, summary))
}
