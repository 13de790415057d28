//! One SQL database, SQLite or PostgreSQL, behind one type.
//!
//! Queries are written once in the dialect both engines share (`$N` placeholders, `RETURNING`,
//! `ON CONFLICT`) and compiled for both pools by [`on_pool!`](crate::on_pool) and
//! [`write_tx!`](crate::write_tx), so the same behaviour is exercised on both in the tests.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::error::{PlatformError, Result};
pub use crate::outage::Outage;

static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the database is: parsed from the configured URL before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DbTarget {
    /// `sqlite://PATH` (or `sqlite:PATH`) and `postgres://…` / `postgresql://…` are understood.
    pub fn parse(url: &str) -> Result<Self> {
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() {
                return Err(PlatformError::Invalid(
                    "a sqlite URL needs a file path, e.g. sqlite://data/extranet.db".into(),
                ));
            }
            return Ok(DbTarget::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url)
                .map_err(|e| PlatformError::Invalid(format!("not a valid PostgreSQL URL: {e}")))?;
            return Ok(DbTarget::Postgres(url.to_owned()));
        }
        Err(PlatformError::Invalid(
            "expected a URL starting with sqlite:// or postgres://".into(),
        ))
    }

    /// The target as it may be printed: PostgreSQL passwords replaced.
    pub fn redacted(&self) -> String {
        match self {
            DbTarget::Sqlite(p) => format!("sqlite://{}", p.display()),
            DbTarget::Postgres(url) => redact_url(url),
        }
    }
}

/// Replaces the password of a URL, if it has one, so that it can be logged or printed.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("REDACTED"));
            }
            u.to_string()
        }
        Err(_) => "<unparsable URL>".into(),
    }
}

/// Pool sizes and timeouts.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
    /// How long SQLite waits for another writer (another process) before giving up.
    pub busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(10),
            busy_timeout: Duration::from_secs(15),
        }
    }
}

/// SQLite keeps two pools: many readers, and exactly one writer connection. With one writer per
/// process no two transactions of ours ever contend for SQLite's write lock, and every write
/// transaction starts with `BEGIN IMMEDIATE` so that a read-then-write cannot fail half-way with
/// "database is locked" (another process is waited for up to the busy timeout).
#[derive(Debug, Clone)]
pub struct SqliteDb {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

/// PostgreSQL's pool, and whether its server is known to refuse connections
/// ([`Outage`]: statements then fail at once instead of after the acquire timeout).
#[derive(Debug, Clone)]
pub struct PgDb {
    pub pool: PgPool,
    pub outage: Outage,
}

impl std::ops::Deref for PgDb {
    type Target = PgPool;

    fn deref(&self) -> &PgPool {
        &self.pool
    }
}

#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

impl Db {
    /// Opens (and for SQLite creates) the database. Nothing is migrated here.
    pub async fn connect(target: &DbTarget, opts: &DbOptions) -> Result<Db> {
        let fail = |source: sqlx::Error| PlatformError::Database {
            target: target.redacted(),
            detail: crate::error::concise(&source),
        };
        match target {
            DbTarget::Sqlite(path) => {
                ensure_parent(path)?;
                let base = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(opts.busy_timeout);
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(opts.acquire_timeout)
                    .before_acquire(|conn, _| Box::pin(async move { Ok(usable(conn)) }))
                    .connect_with(base.clone())
                    .await
                    .map_err(fail)?;
                let read = SqlitePoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(opts.acquire_timeout)
                    .before_acquire(|conn, _| Box::pin(async move { Ok(usable(conn)) }))
                    .connect_with(base.read_only(true))
                    .await
                    .map_err(fail)?;
                Ok(Db::Sqlite(SqliteDb { read, write }))
            }
            DbTarget::Postgres(url) => {
                let options = PgConnectOptions::from_str(url).map_err(fail)?;
                // One direct connection first: the pool would only report "timed out", where an
                // operator needs "connection refused" or "password authentication failed".
                let probe = tokio::time::timeout(
                    opts.acquire_timeout,
                    PgConnection::connect_with(&options),
                )
                .await
                .map_err(|_| PlatformError::Database {
                    target: target.redacted(),
                    detail: format!("no answer within {:?}", opts.acquire_timeout),
                })?
                .map_err(fail)?;
                let _ = probe.close().await;
                let outage = Outage::new(&options);
                let pool = PgPoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(opts.acquire_timeout)
                    .connect_with(options)
                    .await
                    .map_err(fail)?;
                Ok(Db::Postgres(PgDb { pool, outage }))
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// What knows whether the server refuses connections (PostgreSQL; a SQLite file never
    /// does): the HTTP edge answers server errors 503 with `Retry-After` while it does.
    pub fn outage(&self) -> Option<&Outage> {
        match self {
            Db::Sqlite(_) => None,
            Db::Postgres(pg) => Some(&pg.outage),
        }
    }

    /// Applies every pending migration of this backend. Safe to run from several instances at
    /// once: sqlx takes an advisory lock on PostgreSQL; SQLite serialises on its write lock.
    pub async fn migrate(&self) -> Result<()> {
        let res = match self {
            Db::Sqlite(s) => SQLITE_MIGRATOR.run(&s.write).await,
            Db::Postgres(pg) => POSTGRES_MIGRATOR.run(&pg.pool).await,
        };
        res.map_err(|source| PlatformError::Migrate {
            target: format!("{:?}", self.backend()).to_lowercase(),
            detail: crate::error::concise(&source),
        })
    }

    /// How many migrations of this build are not applied to the database yet.
    pub async fn pending_migrations(&self) -> Result<usize> {
        let applied: Vec<i64> = crate::on_pool!(self, read, |pool| {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(pool)
                .await
        })
        .unwrap_or_default(); // no table yet: nothing applied
        let migrator = match self {
            Db::Sqlite(_) => &SQLITE_MIGRATOR,
            Db::Postgres(_) => &POSTGRES_MIGRATOR,
        };
        Ok(migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| !applied.contains(&m.version))
            .count())
    }

    /// Every `(table, column)` of this database's own tables (not sqlx's bookkeeping), sorted:
    /// what the processing register's schema map must classify.
    pub async fn columns(&self) -> Result<Vec<(String, String)>> {
        let mut cols: Vec<(String, String)> = match self {
            Db::Sqlite(s) => sqlx::query_as(
                "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'",
            )
            .fetch_all(&s.read)
            .await
            .map_err(PlatformError::query)?,
            Db::Postgres(pg) => sqlx::query_as(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name NOT LIKE '_sqlx%'",
            )
            .fetch_all(&pg.pool)
            .await
            .map_err(PlatformError::query)?,
        };
        cols.sort();
        Ok(cols)
    }

    /// The columns of the schema this build ships: its SQLite migrations applied to a database
    /// in memory (a test keeps the PostgreSQL schema the same).
    pub async fn shipped_columns() -> Result<Vec<(String, String)>> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::from_str("sqlite::memory:")
                    .map_err(PlatformError::query)?
                    .foreign_keys(true),
            )
            .await
            .map_err(PlatformError::query)?;
        SQLITE_MIGRATOR
            .run(&pool)
            .await
            .map_err(|source| PlatformError::Migrate {
                target: "sqlite (in memory)".into(),
                detail: crate::error::concise(&source),
            })?;
        let db = Db::Sqlite(SqliteDb {
            read: pool.clone(),
            write: pool,
        });
        let cols = db.columns().await;
        db.close().await;
        cols
    }

    /// A round trip to the database, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        crate::on_pool!(self, read, |pool| {
            sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
        })
        .map_err(PlatformError::query)
    }

    /// Whether the database commits a write now: one tiny write transaction on the row kept for
    /// it (migration 0022), through the same writer as every other write. `SELECT 1` proves
    /// neither that SQLite's one writer connection can begin a transaction nor that a commit
    /// finds room on the disk; `BEGIN IMMEDIATE; ROLLBACK` proves the first only. The cost is
    /// one small page written per probe.
    pub async fn ping_write(&self) -> Result<()> {
        crate::write_tx!(self, |tx| {
            sqlx::query("UPDATE readiness SET probes = probes + 1 WHERE id = 1")
                .execute(&mut *tx)
                .await
                .map(|done| done.rows_affected())
        })
        .await
        .map_err(PlatformError::query)
        .and_then(|rows| match rows {
            1 => Ok(()),
            _ => Err(PlatformError::Invalid(
                "the readiness row is missing (migration 0022)".into(),
            )),
        })
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(s) => {
                s.read.close().await;
                s.write.close().await;
            }
            Db::Postgres(pg) => pg.close().await,
        }
    }
}

/// A pooled SQLite connection is handed out only outside any transaction. When SQLite ends a
/// transaction by itself (SQLITE_FULL, SQLITE_IOERR, `RAISE(ROLLBACK)`), the `ROLLBACK` sqlx
/// sends afterwards fails and sqlx's transaction depth stays at 1: every later `BEGIN
/// IMMEDIATE` on that connection would fail ("begin_with at non-zero transaction depth"), and
/// SQLite keeps one writer connection. Such a connection is closed (SQLite rolls back whatever
/// is left on close) and the pool opens a fresh one. The pool pings a connection before this
/// check, so a rollback queued when the transaction was dropped has already run.
fn usable(conn: &mut sqlx::SqliteConnection) -> bool {
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("discarding a SQLite connection left inside a failed transaction");
    }
    clean
}

fn ensure_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|source| PlatformError::Io {
                context: format!("cannot create database directory {}", dir.display()),
                source,
            })
        }
        _ => Ok(()),
    }
}

/// Runs the same expression against whichever pool `$db` holds: `read` or `write` selects the
/// SQLite pool (PostgreSQL has one). The body is compiled once per backend; it evaluates to a
/// `Result<_, sqlx::Error>`, and on PostgreSQL it runs under the [`Outage`] guard (so it is an
/// async block there: a `?` or `return` inside leaves the body, not the enclosing function).
#[macro_export]
macro_rules! on_pool {
    ($db:expr, read, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite(s) => {
                let $pool = &s.read;
                $body
            }
            $crate::Db::Postgres(pg) => {
                let $pool = &pg.pool;
                pg.outage.guard(async { $body }).await
            }
        }
    };
    ($db:expr, write, |$pool:ident| $body:expr) => {
        match $db {
            $crate::Db::Sqlite(s) => {
                let $pool = &s.write;
                $body
            }
            $crate::Db::Postgres(pg) => {
                let $pool = &pg.pool;
                pg.outage.guard(async { $body }).await
            }
        }
    };
}

/// Runs `$body` (an expression using `$tx`, a `&mut` connection) in a write transaction and
/// commits it when the body returns `Ok`. On SQLite the transaction is `BEGIN IMMEDIATE`.
/// Evaluates to `Result<T, sqlx::Error>`.
#[macro_export]
macro_rules! write_tx {
    ($db:expr, |$tx:ident| $body:expr) => {
        async {
            match $db {
                $crate::Db::Sqlite(s) => {
                    let mut tx = s.write.begin_with("BEGIN IMMEDIATE").await?;
                    let out = {
                        let $tx = &mut *tx;
                        $body
                    }?;
                    tx.commit().await?;
                    Ok(out)
                }
                $crate::Db::Postgres(pg) => {
                    pg.outage
                        .guard(async {
                            let mut tx = pg.pool.begin().await?;
                            let out = {
                                let $tx = &mut *tx;
                                $body
                            }?;
                            tx.commit().await?;
                            Ok(out)
                        })
                        .await
                }
            }
        }
    };
}
