//! Uploads: a new document, or a new version of one, streamed from the request to the object
//! store. The caller feeds chunks to [`Upload::write`] as they arrive and ends with
//! [`Upload::finish`] or [`Upload::abort`]; an `Upload` dropped without either (the request's
//! future was cancelled) cleans up in a task of its own.

use std::time::{Duration, Instant};

use bytes::Bytes;
use extranet_access::{Action, DocumentView, Masked, Resource};
use extranet_audit::Outcome;
use extranet_directory::Caller;
use extranet_directory::caller::unix_now;
use extranet_platform::{Db, ObjectWriter, Objects, on_pool, write_tx};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::access::DossierAccess;
use crate::error::{DocumentsError, Result};
use crate::scan::{Scan, Verdict};
use crate::service::Documents;
use crate::sniff::{self, Kind};

/// What an upload adds to.
#[derive(Debug, Clone)]
pub enum Target {
    /// A new document in a dossier.
    New {
        dossier: Uuid,
        title: String,
        doc_type: String,
    },
    /// A new version of an existing document.
    Version { document: Uuid },
}

/// An upload in progress.
pub struct Upload<'a> {
    docs: &'a Documents,
    caller: Caller,
    dossier: DossierAccess,
    target: Resolved,
    intent: Uuid,
    key: String,
    multipart_id: Option<String>,
    writer: Option<ObjectWriter>,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    kind: Option<&'static Kind>,
    scan: Option<Scan>,
    touched: Instant,
    touch_every: Duration,
    /// What the person may still send this hour (`upload_bytes_per_hour`).
    allowance: crate::limits::Allowance,
}

#[derive(Debug, Clone)]
enum Resolved {
    New { title: String, doc_type: String },
    Version { document: Uuid },
}

fn check_title(title: &str) -> Result<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().count() > 200 || t.chars().any(char::is_control) {
        return Err(DocumentsError::invalid(
            "title",
            "a title is required: at most 200 characters, on one line",
        ));
    }
    Ok(t.to_owned())
}

impl Documents {
    /// Checks that the caller may upload to `target`, records the upload's intent and opens the
    /// object for writing. Nothing is visible until [`Upload::finish`].
    pub async fn begin_upload(&self, caller: &Caller, target: Target) -> Result<Upload<'_>> {
        let (dossier, resolved, doc_type) = match target {
            Target::New {
                dossier,
                title,
                doc_type,
            } => {
                let access = self.dossier_for(caller, dossier, Action::Upload).await?;
                let title = check_title(&title)?;
                if !self.settings.types.contains(&doc_type) {
                    return Err(DocumentsError::invalid(
                        "doc_type",
                        format!("one of {}", self.settings.types.join(", ")),
                    ));
                }
                (
                    access,
                    Resolved::New {
                        title,
                        doc_type: doc_type.clone(),
                    },
                    doc_type,
                )
            }
            Target::Version { document } => {
                let (row, access) = self.document_for(caller, document, Action::Upload).await?;
                if row.deleted {
                    return Err(DocumentsError::Conflict(
                        "the document is deleted; restore it first".into(),
                    ));
                }
                (access, Resolved::Version { document }, row.doc_type)
            }
        };
        self.check_inspector_type(caller, &dossier, &doc_type)
            .await?;
        let allowance = self.check_upload_limit(caller).await?;

        let intent = Uuid::new_v4();
        let key = format!("documents/{}", Uuid::new_v4());
        let now = unix_now(self.clock());
        // The intent, and the upload's row for the hourly limits, together.
        let res: Result<()> = write_tx!(self.db(), |tx| async {
            sqlx::query(
                "INSERT INTO document_upload (id, object_key, dossier_id, person_id, started_at, touched_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(intent)
            .bind(&key)
            .bind(dossier.id)
            .bind(caller.person)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO upload_usage (id, person_id, started_at, bytes) VALUES ($1, $2, $3, 0)",
            )
            .bind(intent)
            .bind(caller.person)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            Ok::<(), DocumentsError>(())
        }
        .await)
        .await;
        res?;
        let opened = self.objects.begin_upload(&key).await;
        let (writer, multipart_id) = match opened {
            Ok(w) => w,
            Err(e) => {
                forget_intent(self.db(), intent).await;
                return Err(e.into());
            }
        };
        if let Some(id) = &multipart_id {
            on_pool!(self.db(), write, |pool| {
                sqlx::query("UPDATE document_upload SET multipart_id = $1 WHERE id = $2")
                    .bind(id)
                    .bind(intent)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })?;
        }
        let mut upload = Upload {
            docs: self,
            caller: caller.clone(),
            dossier,
            target: resolved,
            intent,
            key,
            multipart_id,
            writer: Some(writer),
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
            kind: None,
            scan: None,
            touched: Instant::now(),
            touch_every: (self.settings.stale_after / 4).min(Duration::from_secs(30)),
            allowance,
        };
        if let Some(hook) = &self.settings.scan {
            match hook.start().await {
                Ok(scan) => upload.scan = Some(scan),
                Err(e) => {
                    upload.abort().await;
                    return Err(e);
                }
            }
        }
        Ok(upload)
    }

    /// Inspectors upload only the types configured for them, into dossiers assigned to them;
    /// someone who may upload there in another capacity is not limited.
    async fn check_inspector_type(
        &self,
        caller: &Caller,
        dossier: &DossierAccess,
        doc_type: &str,
    ) -> Result<()> {
        use extranet_access::Domain;
        let domains = caller.grants.domains(Resource::Document, Action::Upload);
        let otherwise = dossier
            .relation
            .iter()
            .any(|d| d != Domain::Assignment && domains.contains(d));
        if otherwise || self.settings.inspector_types.iter().any(|t| t == doc_type) {
            return Ok(());
        }
        Err(caller
            .deny(
                self.db(),
                self.clock(),
                (Resource::Document, Action::Upload),
                ("dossier", Some(dossier.id)),
                extranet_directory::DirectoryError::Forbidden(format!(
                    "inspectors may upload only {}",
                    self.settings.inspector_types.join(", ")
                )),
            )
            .await
            .into())
    }
}

/// Removes an intent whose object never came to be (best effort: the collector retries).
async fn forget_intent(db: &Db, intent: Uuid) {
    let res = on_pool!(db, write, |pool| {
        sqlx::query("DELETE FROM document_upload WHERE id = $1")
            .bind(intent)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    });
    if let Err(e) = res {
        tracing::warn!(error = %extranet_platform::error::concise(&e), "upload intent not removed; the collector will");
    }
}

/// Removes an abandoned upload's object and intent.
async fn discard(db: &Db, objects: &Objects, intent: Uuid, key: &str, multipart: Option<&str>) {
    match objects.discard(key, multipart).await {
        Ok(()) => forget_intent(db, intent).await,
        Err(e) => tracing::warn!(error = %e, "upload leftovers not removed; the collector will"),
    }
}

impl Upload<'_> {
    /// Bytes received so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Takes the next chunk: checks the limit before anything else, hashes it, decides the
    /// type once enough has arrived, feeds the scanner and writes it to the store.
    pub async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let limit = self.docs.settings.max_bytes;
        if self.size + chunk.len() as u64 > limit {
            return Err(DocumentsError::TooLarge { limit });
        }
        if let Some(left) = self.allowance.bytes_left
            && self.size + chunk.len() as u64 > left
        {
            let reached = crate::limits::Reached {
                limit: crate::limits::Limit::Bytes(self.docs.settings.upload_bytes_per_hour),
                retry_after: self.allowance.bytes_free_in,
            };
            return Err(self.docs.refuse_over_limit(&self.caller, reached).await);
        }
        self.size += chunk.len() as u64;
        self.hasher.update(&chunk);
        if self.kind.is_none() {
            let take = (sniff::HEAD - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            if self.head.len() >= sniff::HEAD {
                self.kind = Some(sniff::detect(&self.head)?);
                self.head = Vec::new();
            }
        }
        if let Some(scan) = &mut self.scan {
            scan.feed(&chunk).await;
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| DocumentsError::Internal("upload already ended".into()))?;
        writer.write(chunk).await?;
        if self.touched.elapsed() >= self.touch_every {
            self.touched = Instant::now();
            crate::limits::record_bytes(self.docs.db(), self.intent, self.size).await;
            let now = unix_now(self.docs.clock());
            on_pool!(self.docs.db(), write, |pool| {
                sqlx::query("UPDATE document_upload SET touched_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(self.intent)
                    .execute(pool)
                    .await
                    .map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// Completes the object, waits for the scanner, and publishes the version — or, on any
    /// failure, removes everything and answers why.
    pub async fn finish(
        mut self,
        file_name: &str,
        declared_type: Option<&str>,
    ) -> Result<Masked<DocumentView>> {
        match self.complete(file_name, declared_type).await {
            Ok(view) => Ok(view),
            Err(e) => {
                self.cleanup().await;
                Err(e)
            }
        }
    }

    async fn complete(
        &mut self,
        file_name: &str,
        declared_type: Option<&str>,
    ) -> Result<Masked<DocumentView>> {
        if self.size == 0 {
            return Err(DocumentsError::Empty);
        }
        let kind = match self.kind {
            Some(k) => k,
            None => sniff::detect(&self.head)?,
        };
        let sanitised = crate::names::sanitise(file_name);
        sniff::check_claims(kind, &sanitised, declared_type)?;
        let name = crate::names::stored_name(&sanitised, kind);
        let writer = self
            .writer
            .take()
            .ok_or_else(|| DocumentsError::Internal("upload already ended".into()))?;
        writer.finish().await?;
        // Complete: no multipart upload is left to abort, only the object to delete.
        self.multipart_id = None;
        if let Some(scan) = self.scan.take()
            && scan.verdict().await? == Verdict::Infected
        {
            let entry = self
                .caller
                .entry(self.docs.clock(), "document.upload", Outcome::Denied)
                .subject("dossier", self.dossier.id)
                .organisation(self.dossier.organisation)
                .detail(serde_json::json!({ "reason": "refused by the malware scan", "sha256": hex::encode(self.hasher.clone().finalize()) }));
            if let Err(e) = extranet_audit::append(self.docs.db(), &entry).await {
                tracing::error!(error = %e, "refused upload not recorded in the audit log");
            }
            return Err(DocumentsError::Rejected);
        }
        let sha256 = hex::encode(self.hasher.clone().finalize());
        self.publish(kind, &name, &sha256).await
    }

    /// The version row, the document row (new or updated), the intent's removal and the audit
    /// record, in one transaction.
    async fn publish(
        &mut self,
        kind: &Kind,
        name: &str,
        sha256: &str,
    ) -> Result<Masked<DocumentView>> {
        let clock = self.docs.clock();
        let now = clock.now();
        let size = i64::try_from(self.size).unwrap_or(i64::MAX);
        let (document, fresh) = match &self.target {
            Resolved::New { .. } => (Uuid::new_v4(), true),
            Resolved::Version { document } => (*document, false),
        };
        let (key, intent, person) = (self.key.clone(), self.intent, self.caller.person);
        let dossier = self.dossier;
        let target = self.target.clone();
        let entry_base = self
            .caller
            .entry(clock, "document.upload", Outcome::Success)
            .subject("document", document)
            .organisation(dossier.organisation);
        let version: i64 = crate::tx::<_>(write_tx!(self.docs.db(), |tx| async {
            let version: i64 = match &target {
                Resolved::New { title, doc_type } => {
                    sqlx::query(
                        "INSERT INTO document (id, dossier_id, title, doc_type, versions, created_by, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, 1, $5, $6, $6)",
                    )
                    .bind(document)
                    .bind(dossier.id)
                    .bind(title)
                    .bind(doc_type)
                    .bind(person)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    1
                }
                Resolved::Version { document } => {
                    let next: Option<(i64,)> = sqlx::query_as(
                        "UPDATE document SET versions = versions + 1, updated_at = $1 \
                         WHERE id = $2 AND deleted_at IS NULL RETURNING versions",
                    )
                    .bind(now)
                    .bind(document)
                    .fetch_optional(&mut *tx)
                    .await?;
                    next.ok_or_else(|| {
                        DocumentsError::Conflict("the document was deleted meanwhile".into())
                    })?
                    .0
                }
            };
            sqlx::query(
                "INSERT INTO document_version (document_id, version, object_key, size, sha256, media_type, file_name, uploaded_by, uploaded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(document)
            .bind(version)
            .bind(&key)
            .bind(size)
            .bind(sha256)
            .bind(kind.media_type)
            .bind(name)
            .bind(person)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let deleted = sqlx::query("DELETE FROM document_upload WHERE id = $1")
                .bind(intent)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE upload_usage SET bytes = $1 WHERE id = $2")
                .bind(size)
                .bind(intent)
                .execute(&mut *tx)
                .await?;
            if deleted.rows_affected() != 1 {
                // The collector judged this upload dead and removed its object.
                return Err(DocumentsError::Interrupted(
                    "the upload stalled for too long".into(),
                ));
            }
            let entry = entry_base.clone().detail(serde_json::json!({
                "dossier": dossier.id, "version": version, "size": size,
                "sha256": sha256, "media_type": kind.media_type, "new_document": fresh,
            }));
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<i64, DocumentsError>(version)
        }.await)
        .await)?;
        self.writer = None;
        self.key.clear();
        let _ = version;
        self.docs
            .document_view(&self.caller, document, &dossier)
            .await
    }

    /// Gives up on this upload: nothing of it stays.
    pub async fn abort(mut self) {
        self.cleanup().await;
    }

    /// Removes everything of this upload, in a task of its own: the caller's future may be
    /// dropped while waiting (a client that went away), and the cleanup must not stop halfway.
    async fn cleanup(&mut self) {
        if let Some(task) = self.cleanup_task() {
            let _ = tokio::spawn(task).await;
        }
    }

    /// Takes what is left to remove (nothing once published) into a future that owns it.
    fn cleanup_task(&mut self) -> Option<impl Future<Output = ()> + Send + 'static> {
        let writer = self.writer.take();
        if self.key.is_empty() {
            return None;
        }
        let key = std::mem::take(&mut self.key);
        let db = self.docs.db().clone();
        let objects = self.docs.objects.clone();
        let (intent, mut multipart, size) = (self.intent, self.multipart_id.clone(), self.size);
        Some(async move {
            // What was received counts toward the hourly limit, refused or not.
            crate::limits::record_bytes(&db, intent, size).await;
            // Once the multipart upload is aborted, only a completed object can be left.
            if let Some(w) = writer
                && w.abort().await
            {
                multipart = None;
            }
            discard(&db, &objects, intent, &key, multipart.as_deref()).await;
        })
    }
}

impl Drop for Upload<'_> {
    /// The request was cancelled mid-way (the client went away, the server is stopping): clean
    /// up in the background. What this misses, the collector finds through the intent.
    fn drop(&mut self) {
        if let Some(task) = self.cleanup_task()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(task);
        }
    }
}
