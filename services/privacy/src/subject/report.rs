//! The access report (GDPR Art. 15), generated from the register and the data: every field held
//! on the person (including fields their own role does not see), each processing activity that
//! applies to them with its purpose, legal basis, data categories, recipients, retention and
//! source, who else read their data and when (from the audit log), and the documents they
//! uploaded. [`archive`] packs it with its printable page and copies of those documents.
//!
//! Cost: a fixed number of queries whatever the data — the person, their roles and consents,
//! one per linked table, their documents, the audit entries about them (one query, through the
//! subject index and one scan of multi-person reads), and the readers' names in batches of 500.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Seek, Write};

use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use extranet_platform::{Db, Objects, on_pool};
use extranet_subprocessors::vocabulary::{Kind, Vocabulary};

use super::held::{self, HeldTable};
use super::zipfile::{Archive, ArchiveSummary, safe_name};
use super::{Requester, record_export, rfc3339};
use crate::error::{PrivacyError, Result};
use crate::export::{ActivityRecord, Named};
use crate::register::Register;

/// The person the report is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonSummary {
    pub id: Uuid,
    pub first_name: String,
    pub surname: String,
    pub email: String,
    pub language: String,
    pub organisation_id: Uuid,
    pub organisation: String,
    pub roles: Vec<String>,
}

/// Someone else's action on the person's data, from the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Access {
    /// The audit entry's number.
    pub seq: i64,
    #[serde(with = "rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: String,
    /// "First name Surname", where the actor is (still) a person of the extranet.
    pub actor_name: Option<String>,
    pub action: String,
    pub outcome: String,
    /// `person` or `document` (or none: a list naming several people).
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    /// The document's title, where a document was read.
    pub document_title: Option<String>,
}

/// A version of a document the person uploaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadedDocument {
    pub document_id: Uuid,
    pub version: i64,
    pub title: String,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(with = "rfc3339")]
    pub uploaded_at: OffsetDateTime,
    /// Soft-deleted since (the copy is still held until the retention rule removes it).
    pub deleted: bool,
    /// Its name inside the archive.
    pub archive_name: String,
    pub object_key: String,
}

/// The whole report in one language.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessReport {
    pub language: String,
    #[serde(with = "rfc3339")]
    pub generated_at: OffsetDateTime,
    pub register_digest: String,
    pub person: PersonSummary,
    /// The categories of data subjects the person belongs to (why each activity applies).
    pub subject_categories: Vec<Named>,
    /// Every activity of the register that applies to the person.
    pub activities: Vec<ActivityRecord>,
    /// Every field held on the person, table by table.
    pub held: Vec<HeldTable>,
    /// Every action of someone else on their record or their documents, oldest first.
    pub accesses: Vec<Access>,
    /// The documents they uploaded (every version).
    pub documents: Vec<UploadedDocument>,
}

/// The categories of data subjects a role puts a person in.
fn subjects_of_role(role: &str) -> &'static [&'static str] {
    match role {
        "client_admin" | "client_user" => &["client_contacts"],
        "inspector" => &["inspectors"],
        "staff" | "admin" | "privacy_officer" => &["staff"],
        _ => &[],
    }
}

type PersonRow = (String, String, String, String, String, Uuid, String);

async fn person(db: &Db, id: Uuid) -> Result<(PersonSummary, String)> {
    let row: Option<PersonRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT p.first_name, p.surname, p.email, p.email_normalized, p.language, \
                    p.organisation_id, o.name \
             FROM person p JOIN organisation o ON o.id = p.organisation_id WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    let (first_name, surname, email, normalized, language, organisation_id, organisation) =
        row.ok_or(PrivacyError::NotFound)?;
    let roles: Vec<String> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT role FROM person_role WHERE person_id = $1 ORDER BY role")
            .bind(id)
            .fetch_all(pool)
            .await
    })?;
    Ok((
        PersonSummary {
            id,
            first_name,
            surname,
            email,
            language,
            organisation_id,
            organisation,
            roles,
        },
        normalized,
    ))
}

type VersionRow = (
    Uuid,
    i64,
    String,
    String,
    String,
    i64,
    String,
    OffsetDateTime,
    String,
    Option<OffsetDateTime>,
);

/// Every version the person uploaded, oldest first.
pub(crate) async fn uploaded(db: &Db, person: Uuid) -> Result<Vec<UploadedDocument>> {
    let rows: Vec<VersionRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT v.document_id, v.version, v.object_key, v.file_name, v.media_type, v.size, \
                    v.sha256, v.uploaded_at, d.title, d.deleted_at \
             FROM document_version v JOIN document d ON d.id = v.document_id \
             WHERE v.uploaded_by = $1 ORDER BY v.uploaded_at, v.document_id, v.version",
        )
        .bind(person)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(
            |(
                i,
                (
                    document_id,
                    version,
                    object_key,
                    file_name,
                    media_type,
                    size,
                    sha256,
                    at,
                    title,
                    deleted,
                ),
            )| {
                UploadedDocument {
                    archive_name: format!("documents/{:03}-{}", i + 1, safe_name(&file_name)),
                    document_id,
                    version,
                    title,
                    file_name,
                    media_type,
                    size,
                    sha256,
                    uploaded_at: at,
                    deleted: deleted.is_some(),
                    object_key,
                }
            },
        )
        .collect())
}

type AccessRow = (
    i64,
    OffsetDateTime,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

/// Entries of other people about the person: their record (by subject, or a list of people
/// naming them in its detail) or one of their documents.
async fn accesses(db: &Db, person: Uuid, documents: &[(String, String)]) -> Result<Vec<Access>> {
    let id = person.to_string();
    // The document ids are bound one parameter each after $1 and $2.
    let doc_list: Vec<String> = (0..documents.len())
        .map(|i| format!("${}", i + 3))
        .collect();
    let doc_clause = if doc_list.is_empty() {
        String::new()
    } else {
        format!(
            " OR (subject_type = 'document' AND subject_id IN ({}))",
            doc_list.join(", ")
        )
    };
    let sql = format!(
        "SELECT seq, at, actor_id, action, outcome, subject_type, subject_id FROM audit_log \
         WHERE actor_id IS NOT NULL AND actor_id <> $1 AND ( \
           (subject_type = 'person' AND subject_id = $1){doc_clause} \
           OR (subject_type IS NULL AND substr(action, 1, 7) = 'person.' AND detail LIKE $2)) \
         ORDER BY seq"
    );
    let like = format!("%\"{id}\"%");
    let rows: Vec<AccessRow> = on_pool!(db, read, |pool| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()))
            .bind(id.clone())
            .bind(like.clone());
        for (doc, _) in documents {
            q = q.bind(doc.clone());
        }
        q.fetch_all(pool).await
    })?;
    let titles: BTreeMap<&str, &str> = documents
        .iter()
        .map(|(d, t)| (d.as_str(), t.as_str()))
        .collect();
    let actors: BTreeSet<Uuid> = rows
        .iter()
        .filter_map(|r| Uuid::parse_str(&r.2).ok())
        .collect();
    let names = names(db, &actors.into_iter().collect::<Vec<_>>()).await?;
    Ok(rows
        .into_iter()
        .map(
            |(seq, at, actor_id, action, outcome, subject_type, subject_id)| {
                let document_title = match (subject_type.as_deref(), subject_id.as_deref()) {
                    (Some("document"), Some(d)) => titles.get(d).map(|t| (*t).to_owned()),
                    _ => None,
                };
                Access {
                    seq,
                    at,
                    actor_name: Uuid::parse_str(&actor_id)
                        .ok()
                        .and_then(|a| names.get(&a).cloned()),
                    actor_id,
                    action,
                    outcome,
                    subject_type,
                    subject_id,
                    document_title,
                }
            },
        )
        .collect())
}

/// People's names by id, in batches (a statement's parameters are bounded).
pub(crate) async fn names(db: &Db, ids: &[Uuid]) -> Result<BTreeMap<Uuid, String>> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let list: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, first_name, surname FROM person WHERE id IN ({})",
            list.join(", ")
        );
        let rows: Vec<(Uuid, String, String)> = on_pool!(db, read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            for id in chunk {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        out.extend(rows.into_iter().map(|(id, f, s)| (id, format!("{f} {s}"))));
    }
    Ok(out)
}

/// The access report on `person_id` in `lang` (`nl`, `fr`, `en`); [`PrivacyError::NotFound`]
/// for an unknown person. Recorded as `subject.report` (format `data`) by `who`.
pub async fn access_report(
    db: &Db,
    _objects: &Objects,
    register: &Register,
    person_id: Uuid,
    lang: &str,
    who: Requester,
) -> Result<AccessReport> {
    let lang = match lang {
        "nl" | "fr" | "en" => lang,
        _ => return Err(PrivacyError::invalid("lang", "not one of nl, fr, en")),
    };
    let (person, normalized) = person(db, person_id).await?;
    let consented: BTreeSet<String> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT DISTINCT purpose FROM consent WHERE person_id = $1")
            .bind(person_id)
            .fetch_all(pool)
            .await
    })?
    .into_iter()
    .collect();
    // Everyone here has an account of the extranet; roles add the rest.
    let mut subjects: BTreeSet<&str> = BTreeSet::from(["website_visitors"]);
    for role in &person.roles {
        subjects.extend(subjects_of_role(role));
    }
    if !consented.is_empty() {
        subjects.insert("newsletter_subscribers");
    }
    let applies: BTreeSet<&str> = register
        .activities
        .iter()
        .filter(|a| {
            consented.contains(&a.id)
                || (a.consent.is_none() && a.subjects.iter().any(|s| subjects.contains(s.as_str())))
        })
        .map(|a| a.id.as_str())
        .collect();
    let names = crate::service::subprocessor_names(db).await?;
    let record = crate::export::record(register, lang, &names)?;
    let activities: Vec<ActivityRecord> = record
        .activities
        .into_iter()
        .filter(|a| applies.contains(a.id.as_str()))
        .collect();
    let vocab = Vocabulary::shipped().map_err(|e| PrivacyError::Internal(e.to_string()))?;
    let subject_categories = subjects
        .iter()
        .map(|code| Named {
            code: (*code).to_owned(),
            name: vocab
                .category(Kind::Subjects, code)
                .map_or_else(|| (*code).to_owned(), |c| c.names.get(lang).to_owned()),
        })
        .collect();
    let held = held::fields(db, register, person_id, &normalized).await?;
    let documents = uploaded(db, person_id).await?;
    let mut doc_titles: BTreeMap<String, String> = BTreeMap::new();
    for d in &documents {
        doc_titles.insert(d.document_id.to_string(), d.title.clone());
    }
    let doc_titles: Vec<(String, String)> = doc_titles.into_iter().collect();
    let accesses = accesses(db, person_id, &doc_titles).await?;
    let now = OffsetDateTime::now_utc();
    let report = AccessReport {
        language: lang.to_owned(),
        generated_at: now,
        register_digest: register.digest.clone(),
        person,
        subject_categories,
        activities,
        held,
        accesses,
        documents,
    };
    record_export(
        db,
        now,
        who,
        "report",
        ("person", person_id),
        serde_json::json!({
            "format": "data",
            "language": lang,
            "activities": report.activities.len(),
            "accesses": report.accesses.len(),
            "documents": report.documents.len(),
        }),
    )
    .await?;
    Ok(report)
}

impl AccessReport {
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| PrivacyError::Internal(e.to_string()))
    }
}

/// The report's archive: `report.json`, `report.html` (`html`, rendered by the caller in the
/// report's language — the web crate's `access_report::report_html`) and `documents/<name>`,
/// a byte-for-byte copy of every version the person uploaded, streamed from the store. Written
/// to `out`; recorded as `subject.report` (format `zip`).
pub async fn archive<W: Write + Seek>(
    db: &Db,
    objects: &Objects,
    report: &AccessReport,
    html: &str,
    out: W,
    who: Requester,
) -> Result<(W, ArchiveSummary)> {
    let mut zip = Archive::new(out);
    zip.bytes("report.json", report.to_json()?.as_bytes())?;
    zip.bytes("report.html", html.as_bytes())?;
    for d in &report.documents {
        zip.object(objects, &d.object_key, &d.archive_name, &d.sha256)
            .await?;
    }
    let (out, summary) = zip.finish()?;
    record_export(
        db,
        OffsetDateTime::now_utc(),
        who,
        "report",
        ("person", report.person.id),
        serde_json::json!({
            "format": "zip",
            "language": report.language,
            "documents": summary.documents,
            "document_bytes": summary.document_bytes,
        }),
    )
    .await?;
    Ok((out, summary))
}
