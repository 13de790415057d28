//! The upload collector goes on past what it cannot settle (issue 19): an upload intent whose
//! leftovers cannot be removed — on S3 a multipart upload id the store no longer knows (s3s-fs
//! answers the abort with 403, not AWS's 404), on the local store a staging entry that cannot be
//! unlinked — no longer stops the round. The orphan object next to it is still removed, a
//! clean dead intent is still settled, and the stuck one is retried after growing pauses,
//! counted in `/metrics` and logged by its id.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use extranet_tests::{Db, Server, ServerBuilder, Store, matrix};
use object_store::ObjectStoreExt;
use uuid::Uuid;

use crate::auth::sql_rows;
use crate::documents::{count, stored_objects, wait_until};

/// An id as the SQL of the server's database spells it (SQLite keeps UUIDs as 16-byte blobs).
fn id_sql(server: &Server, id: Uuid) -> String {
    match server.backends.db {
        Db::Sqlite => format!("X'{}'", id.simple()),
        Db::Postgres => format!("'{id}'"),
    }
}

/// An upload intent untouched since 1970: due for collection at the first round.
async fn dead_intent(
    server: &Server,
    id: Uuid,
    key: &str,
    multipart: Option<&str>,
) -> anyhow::Result<()> {
    let multipart = multipart.map_or("NULL".to_owned(), |m| format!("'{m}'"));
    sql_rows(
        server,
        &format!(
            "INSERT INTO document_upload (id, object_key, multipart_id, dossier_id, person_id, \
             started_at, touched_at) VALUES ({}, '{key}', {multipart}, {}, {}, 0, 0)",
            id_sql(server, id),
            id_sql(server, Uuid::new_v4()),
            id_sql(server, Uuid::new_v4()),
        ),
    )
    .await?;
    Ok(())
}

/// Writes an object no row names, as something gone wrong would have left it.
async fn put_orphan(server: &Server, key: &str) -> anyhow::Result<()> {
    match server.backends.store {
        Store::Local => {
            let path = server.data_dir.join("objects").join(key);
            std::fs::create_dir_all(path.parent().context("parent")?)?;
            std::fs::write(path, b"orphan")?;
        }
        Store::S3 => {
            let env = extranet_tests::TestEnv::get();
            let prefix = server
                .env_value("EXTRANET_STORAGE__S3__PREFIX")
                .context("s3 prefix")?;
            let s3 = object_store::aws::AmazonS3Builder::new()
                .with_endpoint(env.s3_endpoint)
                .with_bucket_name(env.s3_bucket)
                .with_region("us-east-1")
                .with_access_key_id(env.s3_access_key)
                .with_secret_access_key(env.s3_secret_key)
                .with_allow_http(true)
                .build()?;
            s3.put(
                &object_store::path::Path::from(format!("{prefix}/{key}")),
                "orphan".into(),
            )
            .await?;
        }
    }
    Ok(())
}

/// A metric's value in `/metrics` (0 when the series is not there).
async fn metric(server: &Server, series: &str) -> anyhow::Result<f64> {
    let text = server
        .client()?
        .get(server.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    Ok(text
        .lines()
        .find_map(|l| {
            l.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0))
}

matrix!(
    /// A stuck intent, a clean dead intent and an orphan object: the orphan goes and the clean
    /// intent is settled within seconds; the stuck intent is retried after pauses that double
    /// (not at every one-second round), shown in `/metrics` and logged by its id.
    async fn a_stuck_upload_does_not_stop_the_collector(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_DOCUMENTS__IDLE_TIMEOUT_SECS", "1")
            .env("EXTRANET_DOCUMENTS__STALE_AFTER_SECS", "2")
            .env("EXTRANET_DOCUMENTS__COLLECT_EVERY_SECS", "1")
            .start()
            .await?;

        let stuck = Uuid::new_v4();
        let stuck_name = Uuid::new_v4();
        let stuck_key = format!("documents/{stuck_name}");
        match b.store {
            // An upload id the store does not know (its upload was aborted long ago).
            Store::S3 => {
                dead_intent(
                    &server,
                    stuck,
                    &stuck_key,
                    Some(&Uuid::new_v4().to_string()),
                )
                .await?
            }
            // A staging entry `<key>#1` that cannot be unlinked: a directory.
            Store::Local => {
                let staged = server
                    .data_dir
                    .join("objects/documents")
                    .join(format!("{stuck_name}#1"));
                std::fs::create_dir_all(&staged)?;
                dead_intent(&server, stuck, &stuck_key, None).await?;
            }
        }
        let clean = Uuid::new_v4();
        dead_intent(
            &server,
            clean,
            &format!("documents/{}", Uuid::new_v4()),
            None,
        )
        .await?;
        let orphan = format!("documents/{}", Uuid::new_v4());
        put_orphan(&server, &orphan).await?;
        assert!(stored_objects(&server).await?.contains(&orphan));

        // The orphan becomes old enough after `stale_after` (2 s): removed at the next round.
        let swept = wait_until(Duration::from_secs(15), || async {
            Ok(!stored_objects(&server).await?.contains(&orphan))
        })
        .await?;
        assert!(
            swept,
            "the orphan is still there; server log:\n{}",
            server.stderr()
        );
        let clean_sql = format!(
            "SELECT CAST(count(*) AS TEXT) FROM document_upload WHERE id = {}",
            id_sql(&server, clean)
        );
        assert_eq!(
            count(&server, &clean_sql).await?,
            0,
            "the clean intent is left"
        );

        // The stuck intent: done (a store that answers 404 for a gone upload), or retried with
        // a pause that grows: after the third failure, 4 s.
        let state_sql = format!(
            "SELECT CAST(collect_failures AS TEXT), CAST(collect_retry_at AS TEXT) \
             FROM document_upload WHERE id = {}",
            id_sql(&server, stuck)
        );
        let state = || async {
            let rows = sql_rows(&server, &state_sql).await?;
            Ok::<_, anyhow::Error>(rows.first().map(|r| {
                let n = |i: usize| r[i].parse::<i64>().unwrap_or(0);
                (n(0), n(1))
            }))
        };
        let settled = wait_until(Duration::from_secs(20), || async {
            Ok(state().await?.is_none_or(|(failures, _)| failures >= 3))
        })
        .await?;
        assert!(settled, "stuck intent: {:?}", state().await?);
        if let Some((failures, retry_at)) = state().await? {
            let now = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs())?;
            assert!(
                retry_at - now >= 2,
                "retried too soon after {failures} failures: at {retry_at}, now {now}"
            );
            let counted =
                metric(&server, "upload_collector_failures_total{item=\"intent\"}").await?;
            assert!(counted >= 3.0, "failures in /metrics: {counted}");
            assert_eq!(
                metric(&server, "upload_collector_intents_backed_off").await?,
                1.0
            );
            assert!(
                server
                    .stderr_contains(&stuck.to_string(), Duration::from_secs(1))
                    .await,
                "the stuck intent's id is not in the log"
            );
        }
        // The stuck intent's object never existed; nothing else is stored.
        assert!(
            !stored_objects(&server)
                .await?
                .iter()
                .any(|k| k == &orphan || k == &stuck_key)
        );
        server.stop().await
    }
);
