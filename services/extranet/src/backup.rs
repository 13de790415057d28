//! Backups and restores (`extranet backup`, `backup verify`, `backup list`, `restore`), the
//! scheduled backup of `serve`, and the erasure journal that keeps a restore from bringing
//! erased personal data back.
//!
//! A backup target (`backup.dir` or `backup.s3`) holds:
//! - `backups/<name>/database.sqlite3` or `database.pgdump`: the database at one instant;
//! - `backups/<name>/<key>` (`documents/…`): every object that database names, checked against the
//!   SHA-256 its row records as it is copied;
//! - `backups/<name>/manifest.json`, written last: a backup without one is incomplete;
//! - `erasures/<ms>-<person>.json`: every erasure, recorded before it is carried out. A restore
//!   carries out again each one the restored database does not show as finished.
//!
//! The order is what makes a copy consistent: the database snapshot first, then the objects it
//! names (immutable, and deleted only after their rows). Copying objects first would miss those
//! uploaded in between and name objects the copy does not hold.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use extranet_audit::{NewEntry, Outcome};
use extranet_platform::backup::{self as store, Inventory, PgSnapshot, Sha256};
use extranet_platform::db::DbTarget;
use extranet_platform::objects::StorageOptions;
use extranet_platform::{Clock, Db, Objects, SystemClock};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::AsyncReadExt;
use uuid::Uuid;

use crate::config::Config;

/// The manifest's format; a restore refuses one it does not know.
const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "database.sqlite3";
const PG_FILE: &str = "database.pgdump";
/// Objects copied (or checked) at once.
const PARALLEL: usize = 4;

/// What a backup holds, written last into it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub name: String,
    /// RFC 3339, and Unix seconds: the instant of the database snapshot.
    pub taken_at: String,
    pub taken_unix: i64,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// The installation (`site.name`).
    pub site: String,
    pub database: DatabaseFile,
    #[serde(flatten)]
    pub inventory: Inventory,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DatabaseFile {
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

fn prefix(name: &str) -> String {
    format!("backups/{name}")
}

/// The configured backup target, or `--to DIR`.
pub async fn target(config: &Config, dir: Option<&Path>) -> anyhow::Result<Objects> {
    let opts = match dir {
        Some(dir) => StorageOptions::Local {
            root: dir.to_path_buf(),
        },
        None => config.backup_target().context(
            "no backup target: set backup.dir or backup.s3 in the configuration, or give --to DIR",
        )?,
    };
    Ok(Objects::connect(&opts).await?)
}

/// A directory for the database file on its way in or out (in the data directory: same disk
/// as the database, never in /tmp where it might outlive its welcome unseen).
fn scratch(config: &Config) -> anyhow::Result<PathBuf> {
    let dir = config.data_dir.join("backup-scratch");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Makes a backup into `target`: the database at one instant, then every object it names.
pub async fn make(
    config: &Config,
    db: &Db,
    objects: &Objects,
    target: &Objects,
    clock: &dyn Clock,
) -> anyhow::Result<Manifest> {
    let now = clock.now();
    let name = format!(
        "{}-{}",
        now.format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))?,
        &Uuid::new_v4().simple().to_string()[..4]
    );
    let file = scratch(config)?.join(format!("{name}.db"));
    let taken = OffsetDateTime::now_utc();
    let (inventory, db_file) = match db {
        Db::Sqlite(_) => {
            store::sqlite_copy(db, &file).await?;
            let inventory = store::sqlite_inventory(&file).await;
            (inventory, SQLITE_FILE)
        }
        Db::Postgres(_) => {
            let DbTarget::Postgres(url) = config.database_target()? else {
                bail!("the database is PostgreSQL but database.url is not");
            };
            let mut snapshot = PgSnapshot::begin(db).await?;
            let dumped = pg_tool(
                "pg_dump",
                &url,
                &[
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    &format!("--snapshot={}", snapshot.id),
                    &format!("--file={}", file.display()),
                ],
            )
            .await;
            let inventory = match dumped {
                Ok(()) => snapshot.inventory().await,
                Err(e) => {
                    snapshot.end().await;
                    let _ = std::fs::remove_file(&file);
                    return Err(e);
                }
            };
            snapshot.end().await;
            (inventory, PG_FILE)
        }
    };
    let inventory = match inventory {
        Ok(i) => i,
        Err(e) => {
            let _ = std::fs::remove_file(&file);
            return Err(e.into());
        }
    };
    let base = prefix(&name);
    let uploaded = upload_file(target, &format!("{base}/{db_file}"), &file).await;
    let _ = std::fs::remove_file(&file);
    let (size, sha256) = uploaded?;
    // Every object the snapshot names, checked against its row as it is copied.
    futures::stream::iter(inventory.objects.iter().map(Ok))
        .try_for_each_concurrent(PARALLEL, |o| {
            let to = format!("{base}/{}", o.key);
            async move {
                let (size, sha) = objects
                    .copy_to(&o.key, target, &to)
                    .await
                    .with_context(|| format!("copying object {}", o.key))?;
                ensure!(
                    i64::try_from(size).ok() == Some(o.size) && sha == o.sha256,
                    "object {} is not what its row records (size {size}, SHA-256 {sha}; the \
                     row says {} and {})",
                    o.key,
                    o.size,
                    o.sha256
                );
                Ok(())
            }
        })
        .await?;
    let manifest = Manifest {
        format: FORMAT,
        name,
        taken_at: taken.format(&Rfc3339)?,
        taken_unix: taken.unix_timestamp(),
        backend: backend_name(db).into(),
        site: config.site.name.clone(),
        database: DatabaseFile {
            file: db_file.into(),
            size,
            sha256,
        },
        inventory,
    };
    let json = serde_json::to_vec_pretty(&manifest)?;
    target
        .put(&format!("{base}/{MANIFEST}"), Bytes::from(json))
        .await?;
    Ok(manifest)
}

fn backend_name(db: &Db) -> &'static str {
    match db {
        Db::Sqlite(_) => "sqlite",
        Db::Postgres(_) => "postgres",
    }
}

/// Streams a local file into the target, hashing it.
async fn upload_file(target: &Objects, key: &str, path: &Path) -> anyhow::Result<(u64, String)> {
    let file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let chunks = futures::stream::try_unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 1024 * 1024];
        let n =
            file.read(&mut buf)
                .await
                .map_err(|source| extranet_platform::PlatformError::Io {
                    context: "reading the database copy".into(),
                    source,
                })?;
        buf.truncate(n);
        Ok((n > 0).then(|| (Bytes::from(buf), file)))
    });
    Ok(target.put_stream(key, Box::pin(chunks)).await?)
}

/// Streams an object of the target into a local file, hashing it.
async fn download_file(target: &Objects, key: &str, path: &Path) -> anyhow::Result<(u64, String)> {
    use tokio::io::AsyncWriteExt;
    let mut reader = target.read(key, None).await?;
    let mut file = tokio::fs::File::create(path)
        .await
        .with_context(|| format!("creating {}", path.display()))?;
    let mut hash = Sha256::default();
    let mut size = 0u64;
    while let Some(chunk) = reader.try_next().await? {
        hash.update(&chunk);
        size += chunk.len() as u64;
        file.write_all(&chunk).await?;
    }
    file.sync_all().await?;
    Ok((size, hash.hex()))
}

/// A backup in the target, and whether it is complete (has its manifest).
#[derive(Debug)]
pub struct Listed {
    pub name: String,
    pub complete: bool,
}

/// Every backup in the target, oldest first (names sort by time).
pub async fn list(target: &Objects) -> anyhow::Result<Vec<Listed>> {
    let mut found = std::collections::BTreeMap::<String, bool>::new();
    for key in target.keys("backups").await? {
        let mut parts = key.split('/').skip(1);
        if let Some(name) = parts.next() {
            let rest: Vec<&str> = parts.collect();
            let entry = found.entry(name.to_owned()).or_default();
            *entry |= rest == [MANIFEST];
        }
    }
    Ok(found
        .into_iter()
        .map(|(name, complete)| Listed { name, complete })
        .collect())
}

async fn latest(target: &Objects) -> anyhow::Result<String> {
    list(target)
        .await?
        .into_iter()
        .rev()
        .find(|b| b.complete)
        .map(|b| b.name)
        .context("the backup target holds no complete backup")
}

/// A backup's name as this command makes them (`20261205T141500Z-1a2b`): nothing else is
/// looked up, so a name given on the command line never reaches outside `backups/`.
fn checked(name: &str) -> anyhow::Result<&str> {
    ensure!(
        !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "`{name}` is not a backup's name (see `extranet backup list`)"
    );
    Ok(name)
}

async fn manifest(target: &Objects, name: &str) -> anyhow::Result<Manifest> {
    let name = checked(name)?;
    let key = format!("{}/{MANIFEST}", prefix(name));
    let mut bytes = Vec::new();
    let mut reader = target
        .read(&key, None)
        .await
        .with_context(|| format!("no backup {name} (or it is incomplete: no manifest)"))?;
    while let Some(chunk) = reader.try_next().await? {
        bytes.extend_from_slice(&chunk);
    }
    let m: Manifest =
        serde_json::from_slice(&bytes).with_context(|| format!("the manifest of {name}"))?;
    ensure!(
        m.format == FORMAT,
        "backup {name} has manifest format {}, this build reads {FORMAT}",
        m.format
    );
    Ok(m)
}

/// Re-reads a backup whole: the database file and every object against the manifest's
/// SHA-256; a SQLite copy is opened and its inventory compared with the manifest's, a
/// PostgreSQL dump is read by `pg_restore --list`.
pub async fn verify(config: &Config, target: &Objects, name: &str) -> anyhow::Result<Manifest> {
    let m = manifest(target, name).await?;
    let base = prefix(name);
    let file = scratch(config)?.join(format!("{name}.verify"));
    let got = download_file(target, &format!("{base}/{}", m.database.file), &file).await;
    let checked = async {
        let (size, sha) = got?;
        ensure!(
            size == m.database.size && sha == m.database.sha256,
            "{}: size {size}, SHA-256 {sha}; the manifest says {} and {}",
            m.database.file,
            m.database.size,
            m.database.sha256
        );
        if m.backend == "sqlite" {
            let inventory = store::sqlite_inventory(&file).await?;
            ensure!(
                inventory == m.inventory,
                "the database copy does not hold what the manifest lists"
            );
        } else {
            pg_restore_list(&file).await?;
        }
        Ok(())
    }
    .await;
    let _ = std::fs::remove_file(&file);
    checked?;
    futures::stream::iter(m.inventory.objects.iter().map(Ok))
        .try_for_each_concurrent(PARALLEL, |o| {
            let key = format!("{base}/{}", o.key);
            async move {
                let (size, sha) = target
                    .digest(&key)
                    .await
                    .with_context(|| format!("object {} is missing from the backup", o.key))?;
                ensure!(
                    i64::try_from(size).ok() == Some(o.size) && sha == o.sha256,
                    "object {} in the backup: size {size}, SHA-256 {sha}; the manifest says {} \
                     and {}",
                    o.key,
                    o.size,
                    o.sha256
                );
                Ok(())
            }
        })
        .await?;
    Ok(m)
}

/// Deletes complete backups beyond the newest `keep`, and incomplete ones older than the
/// newest complete one (runs that failed). Returns the names deleted.
pub async fn prune(target: &Objects, keep: usize) -> anyhow::Result<Vec<String>> {
    let all = list(target).await?;
    let complete: Vec<&Listed> = all.iter().filter(|b| b.complete).collect();
    let newest = complete.last().map(|b| b.name.clone());
    let mut doomed: Vec<String> = complete
        .iter()
        .take(complete.len().saturating_sub(keep))
        .map(|b| b.name.clone())
        .collect();
    if let Some(newest) = &newest {
        doomed.extend(
            all.iter()
                .filter(|b| !b.complete && b.name < *newest)
                .map(|b| b.name.clone()),
        );
    }
    for name in &doomed {
        // The manifest first: a backup half-deleted is incomplete, never complete and wrong.
        target
            .delete(&format!("{}/{MANIFEST}", prefix(name)))
            .await?;
        let keys = target.keys(&prefix(name)).await?;
        target.delete_many(keys).await?;
    }
    Ok(doomed)
}

/// One journalled erasure.
#[derive(Debug, Serialize, Deserialize)]
struct Journalled {
    person: Uuid,
    /// Unix seconds.
    at: i64,
}

/// The erasure journal of the configured backup target (none when backups are not configured).
pub fn journal(config: &Config) -> anyhow::Result<Option<extranet_privacy::ErasureJournal>> {
    let Some(opts) = config.backup_target() else {
        return Ok(None);
    };
    let opts = Arc::new(opts);
    Ok(Some(Arc::new(move |person: Uuid, at: OffsetDateTime| {
        let opts = opts.clone();
        Box::pin(async move {
            let target = Objects::connect(&opts).await.map_err(|e| e.to_string())?;
            let record = Journalled {
                person,
                at: at.unix_timestamp(),
            };
            let key = format!(
                "erasures/{:020}-{person}.json",
                at.unix_timestamp_nanos() / 1_000_000
            );
            let body = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
            target
                .put(&key, Bytes::from(body))
                .await
                .map_err(|e| e.to_string())
        })
    })))
}

/// What a restore did.
#[derive(Debug, Serialize)]
pub struct Restored {
    pub name: String,
    pub taken_at: String,
    pub objects: usize,
    pub sessions_ended: u64,
    pub uploads_dropped: u64,
    /// Erasures carried out after the backup, carried out again.
    pub erasures_reapplied: usize,
}

/// Restores backup `name` (the newest complete one if none) into this installation, which
/// must be empty: a database without tables, an object store without objects.
pub async fn restore(
    config: &Config,
    target: &Objects,
    name: Option<&str>,
) -> anyhow::Result<Restored> {
    let name = match name {
        Some(n) => checked(n)?.to_owned(),
        None => latest(target).await?,
    };
    let db_target = config.database_target()?;
    // Refuse before anything is written.
    let objects = Objects::connect(&config.storage_options()).await?;
    ensure!(
        objects.is_empty().await?,
        "restore needs an empty installation: the object store {} holds objects",
        objects.describe()
    );
    let blank = match &db_target {
        DbTarget::Sqlite(path) => {
            !path.exists() || {
                let db = crate::startup::open_database(config, &db_target).await?;
                let blank = store::is_blank(&db).await?;
                db.close().await;
                blank
            }
        }
        DbTarget::Postgres(_) => {
            let db = crate::startup::open_database(config, &db_target).await?;
            let blank = store::is_blank(&db).await?;
            db.close().await;
            blank
        }
    };
    ensure!(
        blank,
        "restore needs an empty installation: the database {} has tables (restore into a new, \
         empty database)",
        db_target.redacted()
    );
    let m = verify(config, target, &name)
        .await
        .with_context(|| format!("backup {name} does not verify; nothing was restored"))?;
    ensure!(
        m.backend == backend_label(&db_target),
        "backup {name} is of a {} database; this installation's is {}",
        m.backend,
        backend_label(&db_target)
    );
    // Objects first: the database, once in place, names only objects that are there.
    let base = prefix(&name);
    futures::stream::iter(m.inventory.objects.iter().map(Ok))
        .try_for_each_concurrent(PARALLEL, |o| {
            let from = format!("{base}/{}", o.key);
            let objects = &objects;
            async move {
                let (_, sha) = target.copy_to(&from, objects, &o.key).await?;
                ensure!(sha == o.sha256, "object {} changed while restoring", o.key);
                Ok(())
            }
        })
        .await?;
    let file = scratch(config)?.join(format!("{name}.restore"));
    let (_, sha) = download_file(target, &format!("{base}/{}", m.database.file), &file).await?;
    ensure!(
        sha == m.database.sha256,
        "{} changed while restoring",
        m.database.file
    );
    let placed = match &db_target {
        DbTarget::Sqlite(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            for suffix in ["", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            std::fs::rename(&file, path).with_context(|| format!("placing {}", path.display()))
        }
        DbTarget::Postgres(url) => {
            let done = pg_tool(
                "pg_restore",
                url,
                &[
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    &file.display().to_string(),
                ],
            )
            .await;
            let _ = std::fs::remove_file(&file);
            done
        }
    };
    placed?;
    let db = crate::admin::open(config).await?;
    let out = after(config, &db, objects, &m).await;
    db.close().await;
    out
}

fn backend_label(target: &DbTarget) -> &'static str {
    match target {
        DbTarget::Sqlite(_) => "sqlite",
        DbTarget::Postgres(_) => "postgres",
    }
}

/// The restored database, migrated: no one from before the backup stays signed in, the
/// restore is audited, and erasures carried out after the backup are carried out again.
async fn after(
    config: &Config,
    db: &Db,
    objects: Objects,
    m: &Manifest,
) -> anyhow::Result<Restored> {
    let now = OffsetDateTime::now_utc();
    let cleared = store::after_restore(db, now).await?;
    extranet_audit::append(
        db,
        &NewEntry::new(now, "backup.restored", Outcome::Success).detail(serde_json::json!({
            "backup": m.name,
            "taken_at": m.taken_at,
            "objects": m.inventory.objects.len(),
            "sessions_ended": cleared.sessions,
            "via": "command line",
        })),
    )
    .await?;
    let privacy = extranet_privacy::Privacy::new(
        db.clone(),
        objects,
        Arc::new(SystemClock),
        config.privacy_settings(),
    )
    .await?;
    let mut reapplied = 0;
    if let Some(opts) = config.backup_target() {
        let journal = Objects::connect(&opts).await?;
        for key in journal.keys("erasures").await? {
            let mut bytes = Vec::new();
            let mut reader = journal.read(&key, None).await?;
            while let Some(chunk) = reader.try_next().await? {
                bytes.extend_from_slice(&chunk);
            }
            let Ok(j) = serde_json::from_slice::<Journalled>(&bytes) else {
                // The key names the person: not logged.
                tracing::warn!("skipping an unreadable erasure journal record");
                continue;
            };
            if extranet_privacy::erasure::finished_since(db, j.person, j.at).await? {
                continue;
            }
            match privacy
                .erase(j.person, config.privacy_settings().erasure_batch)
                .await
            {
                Ok(_) => reapplied += 1,
                // Someone who did not exist yet at the backup: nothing to erase.
                Err(extranet_privacy::PrivacyError::NotFound) => {}
                Err(e) => {
                    return Err(anyhow::Error::from(e)
                        .context(format!("carrying out again the erasure of {}", j.person)));
                }
            }
        }
    }
    Ok(Restored {
        name: m.name.clone(),
        taken_at: m.taken_at.clone(),
        objects: m.inventory.objects.len(),
        sessions_ended: cleared.sessions,
        uploads_dropped: cleared.uploads,
        erasures_reapplied: reapplied,
    })
}

/// Runs `pg_dump` or `pg_restore` against the database of `url`, the connection given through
/// libpq's environment (a password never on a command line, where `ps` shows it).
async fn pg_tool(tool: &str, url: &str, args: &[&str]) -> anyhow::Result<()> {
    let mut cmd = tokio::process::Command::new(tool);
    cmd.args(args).stdin(std::process::Stdio::null());
    if tool == "pg_restore" {
        cmd.arg("--dbname=");
    }
    for (k, v) in libpq_env(url)? {
        cmd.env(k, v);
    }
    let out = cmd.output().await.with_context(|| {
        format!(
            "running {tool} (install PostgreSQL's client tools, of the server's version or newer)"
        )
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{tool} failed ({}): {}", out.status, err.trim());
    }
    Ok(())
}

/// `pg_restore --list`: the dump is readable and whole.
async fn pg_restore_list(file: &Path) -> anyhow::Result<()> {
    let out = tokio::process::Command::new("pg_restore")
        .arg("--list")
        .arg(file)
        .output()
        .await
        .context("running pg_restore --list (install PostgreSQL's client tools)")?;
    ensure!(
        out.status.success(),
        "pg_restore cannot read the dump: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// libpq's variables for a `postgres://` URL.
fn libpq_env(raw: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
    let url = url::Url::parse(raw).context("database.url")?;
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|d| d.into_owned())
            .context("database.url: a part that is not UTF-8 once decoded")
    };
    let mut env = Vec::new();
    if let Some(host) = url.host_str() {
        env.push(("PGHOST", host.to_owned()));
    }
    if let Some(port) = url.port() {
        env.push(("PGPORT", port.to_string()));
    }
    if !url.username().is_empty() {
        env.push(("PGUSER", decode(url.username())?));
    }
    if let Some(password) = url.password() {
        env.push(("PGPASSWORD", decode(password)?));
    }
    let dbname = url.path().trim_start_matches('/');
    if !dbname.is_empty() {
        env.push(("PGDATABASE", decode(dbname)?));
    }
    for (k, v) in url.query_pairs() {
        let var = match k.as_ref() {
            "host" => "PGHOST",
            "port" => "PGPORT",
            "user" => "PGUSER",
            "password" => "PGPASSWORD",
            "dbname" => "PGDATABASE",
            "sslmode" => "PGSSLMODE",
            "sslrootcert" => "PGSSLROOTCERT",
            "sslcert" => "PGSSLCERT",
            "sslkey" => "PGSSLKEY",
            "application_name" => "PGAPPNAME",
            _ => continue,
        };
        env.push((var, v.into_owned()));
    }
    Ok(env)
}

/// The scheduled backup: every `backup.every_secs`, the instance that claims the period makes
/// a backup and prunes the target to `backup.keep`.
pub fn spawn_schedule(
    config: Config,
    db: Db,
    objects: Objects,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let every = config.backup.every_secs;
    if every == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let now = OffsetDateTime::now_utc().unix_timestamp();
            let slot = now / i64::try_from(every).unwrap_or(i64::MAX);
            match store::claim_slot(&db, slot, now).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduled backup: cannot claim the period");
                    continue;
                }
            }
            let done = async {
                let target = target(&config, None).await?;
                let m = make(&config, &db, &objects, &target, &SystemClock).await?;
                let pruned = prune(&target, config.backup.keep as usize).await?;
                Ok::<_, anyhow::Error>((m, pruned))
            }
            .await;
            match done {
                Ok((m, pruned)) => {
                    metrics::counter!("backups_total", "outcome" => "success").increment(1);
                    tracing::info!(
                        backup = %m.name,
                        objects = m.inventory.objects.len(),
                        pruned = pruned.len(),
                        "scheduled backup made"
                    );
                }
                Err(e) => {
                    metrics::counter!("backups_total", "outcome" => "failure").increment(1);
                    tracing::error!(error = format!("{e:#}"), "scheduled backup failed");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_backup_name_is_looked_up() {
        assert!(checked("20261205T141500Z-1a2b").is_ok());
        for bad in ["", "../etc", "a/b", "x y", "back\\up"] {
            assert!(checked(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn libpq_gets_the_url_in_parts_with_the_password_decoded() {
        let env = libpq_env("postgres://app:p%40ss@db.example:6432/extranet?sslmode=require")
            .expect("parses");
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PGHOST"), Some("db.example"));
        assert_eq!(get("PGPORT"), Some("6432"));
        assert_eq!(get("PGUSER"), Some("app"));
        assert_eq!(get("PGPASSWORD"), Some("p@ss"));
        assert_eq!(get("PGDATABASE"), Some("extranet"));
        assert_eq!(get("PGSSLMODE"), Some("require"));
    }
}
