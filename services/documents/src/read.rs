//! Reading documents: a dossier's list (newest first, a page at a time), one document with its
//! versions, and opening a version's bytes. Every read is recorded in the audit log.

use extranet_access::{Action, DocumentView, Masked, Resource, VersionView};
use extranet_audit::Outcome;
use extranet_directory::Caller;
use extranet_platform::on_pool;
use sqlx::{AssertSqlSafe, FromRow};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::access::DossierAccess;
use crate::error::{DocumentsError, Result};
use crate::service::Documents;

/// The most documents one page lists.
pub const MAX_PAGE: u32 = 200;

const COLUMNS: &str = "doc.id, doc.dossier_id, doc.title, doc.doc_type, doc.versions AS version, \
     v.file_name, v.media_type, v.size, v.sha256, v.uploaded_at, \
     COALESCE(p.first_name || ' ' || p.surname, '') AS uploaded_by, doc.deleted_at, doc.updated_at \
     FROM document doc \
     JOIN document_version v ON v.document_id = doc.id AND v.version = doc.versions \
     LEFT JOIN person p ON p.id = v.uploaded_by";

#[derive(FromRow)]
struct Row {
    id: Uuid,
    dossier_id: Uuid,
    title: String,
    doc_type: String,
    version: i64,
    file_name: String,
    media_type: String,
    size: i64,
    sha256: String,
    uploaded_at: OffsetDateTime,
    uploaded_by: String,
    deleted_at: Option<OffsetDateTime>,
    updated_at: OffsetDateTime,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

impl Row {
    fn view(self) -> DocumentView {
        DocumentView {
            id: self.id,
            dossier_id: self.dossier_id,
            title: self.title,
            doc_type: self.doc_type,
            version: self.version,
            file_name: self.file_name,
            media_type: self.media_type,
            size: self.size,
            sha256: self.sha256,
            uploaded_at: rfc3339(self.uploaded_at),
            uploaded_by: self.uploaded_by,
            deleted_at: self.deleted_at.map(rfc3339),
        }
    }
}

/// One page of a dossier's documents.
pub struct Listing {
    pub items: Vec<Masked<DocumentView>>,
    /// The cursor of the next page, when there is one.
    pub next: Option<String>,
    /// Whether the dossier is under a legal hold (its documents cannot be deleted).
    pub legal_hold: bool,
}

/// Where a page starts: after the document last seen (updated_at, id), newest first.
fn parse_cursor(raw: &str) -> Result<(OffsetDateTime, Uuid)> {
    let bad = || DocumentsError::invalid("after", "not a cursor this list gave out");
    let (t, id) = raw.rsplit_once('_').ok_or_else(bad)?;
    let nanos: i128 = t.parse().map_err(|_| bad())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

fn cursor(at: OffsetDateTime, id: Uuid) -> String {
    format!("{}_{id}", at.unix_timestamp_nanos())
}

/// A version's bytes as the HTTP layer serves them.
#[derive(Debug, Clone)]
pub struct Opened {
    pub document: Uuid,
    pub version: i64,
    pub object_key: String,
    pub size: u64,
    pub sha256: String,
    pub media_type: String,
    pub file_name: String,
    /// Whether the type may be shown inline (PDF and images).
    pub previewable: bool,
}

impl Documents {
    /// A page of the dossier's documents, newest change first. Deleted documents are listed only
    /// to those who may restore them.
    pub async fn list(
        &self,
        caller: &Caller,
        dossier: Uuid,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Listing> {
        let access = self.dossier_for(caller, dossier, Action::Read).await?;
        let with_deleted =
            caller
                .grants
                .allows(Resource::Document, Action::Restore, access.relation);
        let after = after.map(parse_cursor).transpose()?;
        let limit = limit.clamp(1, MAX_PAGE);
        let sql = format!(
            "SELECT {COLUMNS} WHERE doc.dossier_id = $1 AND ($2 OR doc.deleted_at IS NULL) \
             AND ($3 IS NULL OR doc.updated_at < $3 OR (doc.updated_at = $3 AND doc.id < $4)) \
             ORDER BY doc.updated_at DESC, doc.id DESC LIMIT $5"
        );
        let (at, id) = after.unzip();
        let mut rows: Vec<Row> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(dossier)
                .bind(with_deleted)
                .bind(at)
                .bind(id)
                .bind(i64::from(limit) + 1)
                .fetch_all(pool)
                .await
        })?;
        let next = (rows.len() > limit as usize).then(|| {
            rows.truncate(limit as usize);
            rows.last()
                .map(|r| cursor(r.updated_at, r.id))
                .unwrap_or_default()
        });
        let entry = caller
            .entry(self.clock(), "document.list", Outcome::Success)
            .subject("dossier", dossier)
            .organisation(access.organisation)
            .detail(serde_json::json!({ "count": rows.len() }));
        extranet_audit::append(self.db(), &entry).await?;
        let visible = caller.grants.visible::<DocumentView>(access.relation);
        Ok(Listing {
            items: rows
                .into_iter()
                .map(|r| Masked::new(r.view(), visible))
                .collect(),
            next,
            legal_hold: access.legal_hold,
        })
    }

    /// One document as the caller may see it (no audit record: for the caller's own uploads).
    pub(crate) async fn document_view(
        &self,
        caller: &Caller,
        id: Uuid,
        dossier: &DossierAccess,
    ) -> Result<Masked<DocumentView>> {
        let sql = format!("SELECT {COLUMNS} WHERE doc.id = $1");
        let row: Option<Row> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        let row = row.ok_or(DocumentsError::NotFound)?;
        Ok(Masked::new(
            row.view(),
            caller.grants.visible::<DocumentView>(dossier.relation),
        ))
    }

    /// A document with all its versions, newest first; recorded as `document.view`.
    pub async fn get(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<(Masked<DocumentView>, Vec<Masked<VersionView>>)> {
        let (_, dossier) = self.document_for(caller, id, Action::Read).await?;
        let doc = self.document_view(caller, id, &dossier).await?;
        type VersionRow = (i64, String, String, i64, String, OffsetDateTime, String);
        let rows: Vec<VersionRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT v.version, v.file_name, v.media_type, v.size, v.sha256, v.uploaded_at, \
                 COALESCE(p.first_name || ' ' || p.surname, '') \
                 FROM document_version v LEFT JOIN person p ON p.id = v.uploaded_by \
                 WHERE v.document_id = $1 ORDER BY v.version DESC",
            )
            .bind(id)
            .fetch_all(pool)
            .await
        })?;
        let entry = caller
            .entry(self.clock(), "document.view", Outcome::Success)
            .subject("document", id)
            .organisation(dossier.organisation)
            .detail(serde_json::json!({ "version": doc.inner().version }));
        extranet_audit::append(self.db(), &entry).await?;
        let visible = caller.grants.visible::<VersionView>(dossier.relation);
        let versions = rows
            .into_iter()
            .map(|(version, file_name, media_type, size, sha256, at, by)| {
                Masked::new(
                    VersionView {
                        document_id: id,
                        version,
                        file_name,
                        media_type,
                        size,
                        sha256,
                        uploaded_at: rfc3339(at),
                        uploaded_by: by,
                    },
                    visible,
                )
            })
            .collect();
        Ok((doc, versions))
    }

    /// Opens a version (the latest when `version` is `None`) for download, or for an inline
    /// preview; recorded as `document.download` or `document.view` before any byte is sent.
    pub async fn open(
        &self,
        caller: &Caller,
        id: Uuid,
        version: Option<i64>,
        inline: bool,
    ) -> Result<Opened> {
        let (row, dossier) = self.document_for(caller, id, Action::Read).await?;
        let version = version.unwrap_or(row.versions);
        let found: Option<(String, i64, String, String, String)> =
            on_pool!(self.db(), read, |pool| {
                sqlx::query_as(
                    "SELECT object_key, size, sha256, media_type, file_name FROM document_version \
                     WHERE document_id = $1 AND version = $2",
                )
                .bind(id)
                .bind(version)
                .fetch_optional(pool)
                .await
            })?;
        let (object_key, size, sha256, media_type, file_name) = caller
            .found(
                self.db(),
                self.clock(),
                (Resource::Document, Action::Read),
                ("document", id),
                found,
            )
            .await?;
        let previewable = crate::sniff::by_media_type(&media_type).is_some_and(|k| k.previewable);
        let action = if inline && previewable {
            "document.view"
        } else {
            "document.download"
        };
        let entry = caller
            .entry(self.clock(), action, Outcome::Success)
            .subject("document", id)
            .organisation(dossier.organisation)
            .detail(serde_json::json!({ "version": version }));
        extranet_audit::append(self.db(), &entry).await?;
        Ok(Opened {
            document: id,
            version,
            object_key,
            size: u64::try_from(size).unwrap_or(0),
            sha256,
            media_type,
            file_name,
            previewable,
        })
    }
}

/// How many of the newest uploads `recent` looks at when the caller sees every dossier.
const RECENT_CANDIDATES: i64 = 200;
/// Beyond this many dossiers, `recent` looks at the newest uploads anywhere and keeps the
/// caller's, instead of naming every dossier in the query.
const RECENT_MAX_DOSSIERS: usize = 500;

impl Documents {
    /// The documents whose latest version was uploaded after `since`, newest first, among
    /// `dossiers` (those the caller sees; `None`: every dossier), keeping only those the caller
    /// may read. Recorded as one `document.list` when anything is shown.
    pub async fn recent(
        &self,
        caller: &Caller,
        dossiers: Option<&[Uuid]>,
        since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Masked<DocumentView>>> {
        let named = dossiers.filter(|d| d.len() <= RECENT_MAX_DOSSIERS);
        if named.is_some_and(<[Uuid]>::is_empty) {
            return Ok(Vec::new());
        }
        // Placeholders only: the ids are bound, never spliced into the text.
        let within = named
            .map(|d| {
                let marks: Vec<String> = (0..d.len()).map(|i| format!("${}", i + 3)).collect();
                format!(" AND doc.dossier_id IN ({})", marks.join(", "))
            })
            .unwrap_or_default();
        let sql = format!(
            "SELECT {COLUMNS} WHERE doc.deleted_at IS NULL AND v.uploaded_at > $1{within} \
             ORDER BY v.uploaded_at DESC, doc.id DESC LIMIT $2"
        );
        let rows: Vec<Row> = on_pool!(self.db(), read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()))
                .bind(since)
                .bind(RECENT_CANDIDATES);
            for id in named.unwrap_or_default() {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        let mut relations = std::collections::HashMap::new();
        let mut shown = Vec::new();
        for row in rows {
            if shown.len() == limit {
                break;
            }
            let relation = match relations.get(&row.dossier_id) {
                Some(r) => *r,
                None => {
                    let r = self
                        .visible_dossier(caller, row.dossier_id)
                        .await?
                        .map(|(_, _, relation)| relation)
                        .filter(|rel| caller.grants.allows(Resource::Document, Action::Read, *rel));
                    relations.insert(row.dossier_id, r);
                    r
                }
            };
            if let Some(relation) = relation {
                let visible = caller.grants.visible::<DocumentView>(relation);
                shown.push(Masked::new(row.view(), visible));
            }
        }
        if !shown.is_empty() {
            let entry = caller
                .entry(self.clock(), "document.list", Outcome::Success)
                .detail(serde_json::json!({ "recent": shown.len() }));
            extranet_audit::append(self.db(), &entry).await?;
        }
        Ok(shown)
    }
}
