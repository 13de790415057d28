//! The storage layer on both databases and both object stores: settings, concurrent write
//! transactions (no "database is locked", no lost update), reachability checks.

use std::sync::Arc;
use std::time::Duration;

use extranet_platform::db::DbTarget;
use extranet_platform::objects::{S3Options, StorageOptions};
use extranet_platform::{Db, DbOptions, Objects, SystemClock, settings};
use extranet_tests::TestEnv;
use extranet_tests::backends::PgDatabase;

/// A migrated database of each kind, with what keeps it alive.
async fn open(kind: &str) -> anyhow::Result<(DbTarget, Option<PgDatabase>, tempfile::TempDir)> {
    let dir = tempfile::tempdir()?;
    match kind {
        "sqlite" => Ok((DbTarget::Sqlite(dir.path().join("t.db")), None, dir)),
        _ => {
            let pg = PgDatabase::create().await?;
            Ok((DbTarget::Postgres(pg.url.clone()), Some(pg), dir))
        }
    }
}

async fn settings_round_trip(kind: &str) -> anyhow::Result<()> {
    let (target, pg, _dir) = open(kind).await?;
    let db = Db::connect(&target, &DbOptions::default()).await?;
    db.migrate().await?;
    db.migrate().await?; // idempotent
    db.ping().await?;
    assert_eq!(settings::get(&db, "k").await?, None);
    settings::set(&db, &SystemClock, "k", "v1").await?;
    settings::set(&db, &SystemClock, "k", "v2").await?;
    assert_eq!(settings::get(&db, "k").await?.as_deref(), Some("v2"));
    assert!(settings::set_if_absent(&db, &SystemClock, "once", "a").await?);
    assert!(!settings::set_if_absent(&db, &SystemClock, "once", "b").await?);
    assert_eq!(settings::get(&db, "once").await?.as_deref(), Some("a"));
    db.close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
    Ok(())
}

#[tokio::test]
async fn settings_on_sqlite() -> anyhow::Result<()> {
    settings_round_trip("sqlite").await
}

#[tokio::test]
async fn settings_on_postgres() -> anyhow::Result<()> {
    settings_round_trip("postgres").await
}

/// Two handles on one database (two processes, in effect), each running concurrent
/// read-then-write transactions. On SQLite a deferred `BEGIN` fails here with "database is
/// locked"; every transaction must succeed and no increment may be lost.
async fn concurrent_writers(kind: &str) -> anyhow::Result<()> {
    let (target, pg, _dir) = open(kind).await?;
    let opts = DbOptions {
        busy_timeout: Duration::from_secs(30),
        ..DbOptions::default()
    };
    let a = Db::connect(&target, &opts).await?;
    a.migrate().await?;
    let b = Db::connect(&target, &opts).await?;
    settings::set(&a, &SystemClock, "counter", "0").await?;

    const PER_HANDLE: usize = 25;
    let mut tasks = tokio::task::JoinSet::new();
    for db in [Arc::new(a.clone()), Arc::new(b.clone())] {
        for _ in 0..PER_HANDLE {
            let db = db.clone();
            tasks.spawn(async move {
                let res: Result<(), sqlx::Error> = extranet_platform::write_tx!(&*db, |tx| {
                    async {
                        let _: String =
                            sqlx::query_scalar("SELECT value FROM instance_setting WHERE key = $1")
                                .bind("counter")
                                .fetch_one(&mut *tx)
                                .await?;
                        tokio::task::yield_now().await;
                        sqlx::query(
                            "UPDATE instance_setting \
                             SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = $1",
                        )
                        .bind("counter")
                        .execute(&mut *tx)
                        .await?;
                        Ok::<(), sqlx::Error>(())
                    }
                    .await
                })
                .await;
                res
            });
        }
    }
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined? {
            failures.push(e.to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "write transactions failed: {failures:?}"
    );
    let value = settings::get(&a, "counter").await?;
    assert_eq!(value, Some((2 * PER_HANDLE).to_string()));
    a.close().await;
    b.close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_sqlite() -> anyhow::Result<()> {
    concurrent_writers("sqlite").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_on_postgres() -> anyhow::Result<()> {
    concurrent_writers("postgres").await
}

fn s3(env: &TestEnv, bucket: &str) -> StorageOptions {
    StorageOptions::S3(S3Options {
        endpoint: Some(env.s3_endpoint.clone()),
        bucket: bucket.to_owned(),
        region: "us-east-1".into(),
        access_key_id: env.s3_access_key.clone(),
        secret_access_key: env.s3_secret_key.clone(),
        allow_http: true,
        virtual_hosted_style: false,
        request_timeout: Duration::from_secs(5),
        prefix: None,
    })
}

#[tokio::test]
async fn object_stores_are_reached_or_refused() -> anyhow::Result<()> {
    extranet_tests::init_crypto();
    let env = TestEnv::get();
    let dir = tempfile::tempdir()?;
    let local = Objects::connect(&StorageOptions::Local {
        root: dir.path().join("objects"),
    })
    .await?;
    assert!(local.describe().starts_with("local:"));
    assert!(dir.path().join("objects").is_dir());

    let remote = Objects::connect(&s3(&env, &env.s3_bucket)).await?;
    remote.ping().await?;
    assert!(!format!("{remote:?}").contains(&env.s3_secret_key));

    let missing = Objects::connect(&s3(&env, "no-such-bucket")).await;
    let err = missing.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("no-such-bucket"), "{err}");

    let mut wrong_key = s3(&env, &env.s3_bucket);
    if let StorageOptions::S3(o) = &mut wrong_key {
        o.secret_access_key = "not-the-secret".into();
    }
    let err = Objects::connect(&wrong_key)
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(!err.is_empty(), "a wrong secret key must be refused");
    assert!(!err.contains("not-the-secret"), "{err}");
    Ok(())
}
