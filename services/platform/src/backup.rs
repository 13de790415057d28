//! What a backup needs from the database and the object store, below the command that drives it
//! (`extranet backup` / `restore`): a consistent copy of the database, what that copy holds (its
//! inventory: schema version, counts, the audit log's head, every object it names), objects
//! copied with their SHA-256, and the clean-up a restored installation needs before it serves.
//!
//! Consistency comes from one snapshot: on SQLite `VACUUM INTO` copies the database as one read
//! transaction sees it, and the inventory is read from that copy; on PostgreSQL a `REPEATABLE
//! READ` transaction exports its snapshot for `pg_dump --snapshot` and reads the inventory
//! itself, so the dump and the manifest describe the same instant. Objects are immutable under
//! random keys and are deleted only after their rows, so every object the snapshot names is
//! still there to copy (unless retention or an erasure removed it since: the copy then fails
//! naming it, and the next backup succeeds).

use std::path::Path;

use aws_lc_rs::digest;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;

use crate::Db;
use crate::error::{PlatformError, Result};
use crate::objects::Objects;

/// What a database copy holds, as the manifest records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Inventory {
    /// The newest migration applied.
    pub schema_version: i64,
    pub counts: Counts,
    /// The audit log's head: its number of entries and last hash.
    pub audit_entries: i64,
    pub audit_hash: String,
    /// Every object the copy names, by key.
    pub objects: Vec<NamedObject>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub organisations: i64,
    pub people: i64,
    pub dossiers: i64,
    pub documents: i64,
    pub document_versions: i64,
}

/// An object a row names, with the size and SHA-256 the row records for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NamedObject {
    pub key: String,
    pub size: i64,
    pub sha256: String,
}

const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM organisation), (SELECT COUNT(*) FROM person), \
     (SELECT COUNT(*) FROM dossier), (SELECT COUNT(*) FROM document), \
     (SELECT COUNT(*) FROM document_version)";
const SCHEMA: &str = "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";
const HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
const OBJECTS: &str = "SELECT object_key, size, sha256 FROM document_version ORDER BY object_key";

/// The same queries on either backend's connection.
macro_rules! inventory {
    ($conn:expr) => {{
        let schema_version: i64 = sqlx::query_scalar(SCHEMA).fetch_one(&mut *$conn).await?;
        let c: (i64, i64, i64, i64, i64) = sqlx::query_as(COUNTS).fetch_one(&mut *$conn).await?;
        let (audit_entries, audit_hash): (i64, String) =
            sqlx::query_as(HEAD).fetch_one(&mut *$conn).await?;
        let rows: Vec<(String, i64, String)> =
            sqlx::query_as(OBJECTS).fetch_all(&mut *$conn).await?;
        Ok::<_, sqlx::Error>(Inventory {
            schema_version,
            counts: Counts {
                organisations: c.0,
                people: c.1,
                dossiers: c.2,
                documents: c.3,
                document_versions: c.4,
            },
            audit_entries,
            audit_hash,
            objects: rows
                .into_iter()
                .map(|(key, size, sha256)| NamedObject { key, size, sha256 })
                .collect(),
        })
    }};
}

fn query_error(context: &str) -> impl Fn(sqlx::Error) -> PlatformError + '_ {
    move |e| PlatformError::Database {
        target: context.to_owned(),
        detail: crate::error::concise(&e),
    }
}

/// Copies a SQLite database, online, to `dest` (which must not exist): one read transaction,
/// so writers go on and the copy is the database as of one instant.
pub async fn sqlite_copy(db: &Db, dest: &Path) -> Result<()> {
    let Db::Sqlite(s) = db else {
        return Err(PlatformError::Invalid(
            "a file copy is for SQLite; PostgreSQL is dumped with pg_dump".into(),
        ));
    };
    let dest = dest
        .to_str()
        .ok_or_else(|| PlatformError::Invalid(format!("{} is not a UTF-8 path", dest.display())))?;
    sqlx::query("VACUUM INTO $1")
        .bind(dest)
        .execute(&s.read)
        .await
        .map_err(query_error("copying the SQLite database"))?;
    Ok(())
}

/// The inventory of a SQLite database file (a copy made by [`sqlite_copy`]), opened read-only.
pub async fn sqlite_inventory(path: &Path) -> Result<Inventory> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(path).read_only(true))
        .await
        .map_err(query_error("opening the database copy"))?;
    let out = async {
        let mut conn = pool.acquire().await?;
        let check: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut *conn)
            .await?;
        if check != "ok" {
            return Err(sqlx::Error::Protocol(format!("integrity check: {check}")));
        }
        inventory!(conn)
    }
    .await
    .map_err(query_error("reading the database copy"));
    pool.close().await;
    out
}

/// A PostgreSQL snapshot held open: `id` is for `pg_dump --snapshot`, which must start while
/// this is alive; [`PgSnapshot::inventory`] reads the same instant.
pub struct PgSnapshot {
    tx: Transaction<'static, Postgres>,
    pub id: String,
}

impl PgSnapshot {
    pub async fn begin(db: &Db) -> Result<PgSnapshot> {
        let Db::Postgres(pg) = db else {
            return Err(PlatformError::Invalid(
                "a snapshot export is for PostgreSQL".into(),
            ));
        };
        let pool: &PgPool = &pg.pool;
        let fail = query_error("exporting a snapshot");
        let mut tx = pool.begin().await.map_err(&fail)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(&fail)?;
        let id: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await
            .map_err(&fail)?;
        Ok(PgSnapshot { tx, id })
    }

    pub async fn inventory(&mut self) -> Result<Inventory> {
        let conn = &mut *self.tx;
        async { inventory!(conn) }
            .await
            .map_err(query_error("reading the snapshot"))
    }

    /// Ends the (read-only) transaction.
    pub async fn end(self) {
        let _ = self.tx.rollback().await;
    }
}

/// Whether the database has no table at all (an installation never migrated): the only kind a
/// restore writes into.
pub async fn is_blank(db: &Db) -> Result<bool> {
    let tables: i64 = match db {
        Db::Sqlite(s) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_one(&s.read)
        .await,
        Db::Postgres(pg) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_one(&pg.pool)
        .await,
    }
    .map_err(query_error("looking for tables"))?;
    Ok(tables == 0)
}

/// What [`after_restore`] changed.
#[derive(Debug, Default, Serialize)]
pub struct Cleared {
    /// Sessions that were open at the backup, now ended (everyone signs in again).
    pub sessions: u64,
    /// Access-token signing keys dropped: a token signed before the backup names a key the
    /// restored installation does not have, so it is refused; a new key is made at start.
    pub signing_keys: u64,
    /// Uploads that were in flight at the backup (their bytes were never part of it).
    pub uploads: u64,
}

/// Makes a restored database safe to serve: nothing from before the backup signs anyone in.
/// One transaction; receipt keys stay (every receipt and checkpoint ever signed still verifies).
pub async fn after_restore(db: &Db, now: OffsetDateTime) -> Result<Cleared> {
    crate::write_tx!(db, |tx| {
        async {
            let sessions = sqlx::query(
                "UPDATE auth_session SET revoked_at = $1, revoked_reason = 'restored from a backup' \
                 WHERE revoked_at IS NULL",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let signing_keys = sqlx::query("DELETE FROM signing_key WHERE purpose = 'access'")
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let uploads = sqlx::query("DELETE FROM document_upload")
                .execute(&mut *tx)
                .await?
                .rows_affected();
            Ok::<_, sqlx::Error>(Cleared {
                sessions,
                signing_keys,
                uploads,
            })
        }
        .await
    })
    .await
    .map_err(query_error("clearing sessions after the restore"))
}

/// A SHA-256 being computed over chunks.
pub struct Sha256(digest::Context);

impl Default for Sha256 {
    fn default() -> Self {
        Sha256(digest::Context::new(&digest::SHA256))
    }
}

impl Sha256 {
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Lower-case hex, as `document_version.sha256` records it.
    pub fn hex(self) -> String {
        self.0
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl Objects {
    /// Streams `key` from this store to `to_key` in `to`, hashing as it goes. Returns the size
    /// and SHA-256 of what was read; on any error the partial copy is aborted.
    pub async fn copy_to(&self, key: &str, to: &Objects, to_key: &str) -> Result<(u64, String)> {
        let reader = self.read(key, None).await?;
        to.put_stream(to_key, reader).await
    }

    /// Writes a stream under `key`, hashing it: in one request when it is smaller than a
    /// multipart part (most documents; one request instead of three), else as a multipart
    /// upload, aborted on any error. Returns the size and SHA-256 written.
    pub async fn put_stream(
        &self,
        key: &str,
        mut stream: futures::stream::BoxStream<'_, Result<bytes::Bytes>>,
    ) -> Result<(u64, String)> {
        let mut hash = Sha256::default();
        let mut size = 0u64;
        let mut head = bytes::BytesMut::new();
        let mut rest = None;
        while let Some(chunk) = stream.try_next().await? {
            hash.update(&chunk);
            size += chunk.len() as u64;
            head.extend_from_slice(&chunk);
            if head.len() >= crate::transfer::S3_PART {
                rest = Some(head.split().freeze());
                break;
            }
        }
        let Some(first) = rest else {
            self.put(key, head.freeze()).await?;
            return Ok((size, hash.hex()));
        };
        let (mut writer, _) = self.begin_upload(key).await?;
        let mut next = Some(first);
        loop {
            let chunk = match next.take() {
                Some(c) => c,
                None => match stream.try_next().await {
                    Ok(Some(c)) => {
                        hash.update(&c);
                        size += c.len() as u64;
                        c
                    }
                    Ok(None) => break,
                    Err(e) => {
                        writer.abort().await;
                        return Err(e);
                    }
                },
            };
            if let Err(e) = writer.write(chunk).await {
                writer.abort().await;
                return Err(e);
            }
        }
        writer.finish().await?;
        Ok((size, hash.hex()))
    }

    /// Reads `key` whole and returns its size and SHA-256 (verification of a copy).
    pub async fn digest(&self, key: &str) -> Result<(u64, String)> {
        let mut reader = self.read(key, None).await?;
        let mut hash = Sha256::default();
        let mut size = 0u64;
        while let Some(chunk) = reader.try_next().await? {
            hash.update(&chunk);
            size += chunk.len() as u64;
        }
        Ok((size, hash.hex()))
    }

    /// Every key under `prefix` (a listing of the whole prefix: for backups, not documents).
    pub async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let prefix = object_store::path::Path::from(prefix);
        self.store()
            .list(Some(&prefix))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .map_err(|e| self.error(&e))
    }

    /// Whether the store holds any object at all (outside the readiness probe's prefix).
    pub async fn is_empty(&self) -> Result<bool> {
        let mut listed = self.store().list(None);
        while let Some(meta) = listed.try_next().await.map_err(|e| self.error(&e))? {
            if !meta.location.as_ref().starts_with(".extranet-") {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Claims the scheduled backup of period `slot` for this instance: true for the one instance
/// that inserts its row. Rows older than a day of periods are removed on the way.
pub async fn claim_slot(db: &Db, slot: i64, now: i64) -> Result<bool> {
    crate::write_tx!(db, |tx| {
        async {
            sqlx::query("DELETE FROM backup_slot WHERE claimed_at < $1")
                .bind(now - 86_400)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO backup_slot (slot, claimed_at) VALUES ($1, $2) \
                 ON CONFLICT (slot) DO NOTHING",
            )
            .bind(slot)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map(|r| r.rows_affected() == 1)
        }
        .await
    })
    .await
    .map_err(query_error("claiming the scheduled backup"))
}
