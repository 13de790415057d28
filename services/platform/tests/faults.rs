//! SQLite's one writer connection survives a transaction that SQLite itself ended: writes come
//! back as soon as the cause is gone, without a restart.
//!
//! What happened on a full disk: SQLite rolls a transaction back by itself on some errors
//! (SQLITE_FULL, SQLITE_IOERR…); the `ROLLBACK` sqlx then sends fails ("no transaction is
//! active"), so sqlx's transaction depth stays at 1 and every later `BEGIN IMMEDIATE` on that
//! connection failed with "attempted to call begin_with at non-zero transaction depth".

use std::path::Path;

use extranet_platform::db::DbTarget;
use extranet_platform::{Db, DbOptions, write_tx};

async fn insert(db: &Db, v: &str) -> Result<(), sqlx::Error> {
    write_tx!(db, |tx| {
        sqlx::query("INSERT INTO t (v) VALUES ($1)")
            .bind(v)
            .execute(&mut *tx)
            .await
            .map(|_| ())
    })
    .await
}

async fn exec(db: &Db, sql: &'static str) -> Result<(), sqlx::Error> {
    write_tx!(db, |tx| sqlx::query(sql)
        .execute(&mut *tx)
        .await
        .map(|_| ()))
    .await
}

async fn open(path: &Path) -> anyhow::Result<Db> {
    let db = Db::connect(&DbTarget::Sqlite(path.to_owned()), &DbOptions::default()).await?;
    db.migrate().await?;
    exec(&db, "CREATE TABLE t (v TEXT NOT NULL)").await?;
    Ok(db)
}

/// Without a full disk: a trigger's `RAISE(ROLLBACK)` makes SQLite end the transaction itself,
/// exactly as SQLITE_FULL does.
#[tokio::test]
async fn sqlite_writer_recovers_from_a_transaction_sqlite_rolled_back() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = open(&dir.path().join("t.db")).await?;
    exec(
        &db,
        "CREATE TRIGGER t_abort BEFORE INSERT ON t WHEN NEW.v = 'abort' \
         BEGIN SELECT RAISE(ROLLBACK, 'aborted by the test'); END",
    )
    .await?;

    let err = insert(&db, "abort").await.expect_err("the trigger aborts");
    assert!(err.to_string().contains("aborted by the test"), "{err}");
    for round in 0..3 {
        insert(&db, "fine")
            .await
            .map_err(|e| anyhow::anyhow!("write {round} after the aborted one: {e}"))?;
    }
    db.ping_write().await?;
    let n: i64 = extranet_platform::on_pool!(&db, read, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(pool)
            .await
    })?;
    assert_eq!(n, 3);
    db.close().await;
    Ok(())
}

/// With a full disk: the database on a 2 MiB tmpfs, filled up by another file. Needs to be
/// allowed to mount (root, and not refused by the container); otherwise says so and skips.
#[tokio::test]
async fn sqlite_writes_come_back_when_a_full_disk_has_room() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let Some(mount) = Tmpfs::mount(&dir.path().join("fs"), "2m") else {
        return Ok(());
    };
    let db = open(&mount.path.join("t.db")).await?;
    insert(&db, "before").await?;
    assert!(db.ping_write().await.is_ok());

    // Fill the file system, then write more than fits in one transaction.
    let filler = mount.path.join("filler");
    fill(&filler);
    let big = "x".repeat(64 * 1024);
    let mut failed = None;
    for _ in 0..64 {
        if let Err(e) = insert(&db, &big).await {
            failed = Some(e);
            break;
        }
    }
    let failed = failed.expect("a write fails on a full file system");
    println!("on a full disk: {failed}");
    assert!(
        db.ping_write().await.is_err(),
        "readiness must see that nothing can be written"
    );

    std::fs::remove_file(&filler)?;
    insert(&db, "after")
        .await
        .map_err(|e| anyhow::anyhow!("a write once the disk has room: {e}"))?;
    db.ping_write().await?;
    db.close().await;
    Ok(())
}

fn fill(path: &Path) {
    use std::io::Write;
    let Ok(mut f) = std::fs::File::create(path) else {
        return;
    };
    let block = vec![0u8; 64 * 1024];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
}

/// A size-limited tmpfs, unmounted on drop.
struct Tmpfs {
    path: std::path::PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).ok()?;
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs {
                path: path.to_owned(),
            }),
            Ok(o) => {
                println!(
                    "SKIPPED: cannot mount a size-limited tmpfs here ({}); the full-disk case is \
                     not exercised",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                println!("SKIPPED: cannot run mount ({e}); the full-disk case is not exercised");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}
