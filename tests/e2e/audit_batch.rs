//! The audit log under load and against truncation (issue 18), through the real binary on
//! SQLite and PostgreSQL: reads by 64 clients at once, on one instance and on two sharing the
//! database, each answered read with exactly one record and the chain whole; a checkpoint
//! signed with the published keys, against which a log truncated and rewound — which the chain
//! alone cannot tell — fails, naming the first missing entry.

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, databases};
use futures::StreamExt;
use reqwest::Method;

use crate::access::{api, login};
use crate::auth::sql_rows;
use crate::revocation::same_installation;

async fn count(server: &Server, sql: &str) -> anyhow::Result<i64> {
    let rows = sql_rows(server, &format!("SELECT CAST(({sql}) AS TEXT)")).await?;
    rows.first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .context("count")
}

/// `n` reads of `path` by 64 clients at once, spread over `servers`; how many answered 200.
async fn reads(servers: &[&Server], token: &str, path: &str, n: usize) -> anyhow::Result<usize> {
    let ok = futures::stream::iter(0..n)
        .map(|i| {
            let server = servers[i % servers.len()];
            async move { api(server, token, Method::GET, path, None).await }
        })
        .buffer_unordered(64)
        .filter_map(|r| async move { r.ok().filter(|(s, _)| *s == 200) })
        .count()
        .await;
    Ok(ok)
}

/// The appender's counters from `/metrics`: (batches committed, records in them).
async fn batching(server: &Server) -> anyhow::Result<(u64, u64)> {
    let text = server
        .client()?
        .get(server.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .with_context(|| format!("{name} in /metrics"))
    };
    Ok((
        value("audit_batches_total")?,
        value("audit_batched_records_total")?,
    ))
}

databases!(
    /// 64 clients read a colleague's record at once, on one instance and then on two sharing
    /// the database: every 200 has exactly one record, written in fewer transactions than
    /// records; no number is missing or doubled, and the chain verifies.
    async fn reads_at_once_each_leave_one_record_and_the_chain_holds(b: Backends) {
        let first = ServerBuilder::new(b).start().await?;
        let org = first.create_client_org("Gelijktijdig NV").await?;
        first
            .create_user_in("reader@batch.example", "client_admin", &org)
            .await?;
        first
            .create_user_in("read@batch.example", "client_user", &org)
            .await?;
        let token = login(&first, "reader@batch.example").await?;
        let (_, list) = api(&first, &token, Method::GET, "/api/v1/people", None).await?;
        let list: serde_json::Value = serde_json::from_str(&list)?;
        let colleague = list["items"]
            .as_array()
            .and_then(|a| a.iter().find(|p| p["email"] == "read@batch.example"))
            .and_then(|p| p["id"].as_str())
            .context("colleague")?
            .to_owned();
        let path = format!("/api/v1/people/{colleague}");
        let recorded = format!(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'person.read' AND subject_id = '{colleague}'"
        );
        let before = count(&first, &recorded).await?;
        let answered = reads(&[&first], &token, &path, 640).await?;
        assert_eq!(answered, 640);
        assert_eq!(count(&first, &recorded).await? - before, 640);
        // They were group-committed: fewer transactions than records.
        let (batches, records) = batching(&first).await?;
        assert!(
            records >= 640 && batches < records,
            "{batches} batches for {records} records"
        );

        let second = same_installation(&first).await?;
        let answered = reads(&[&first, &second], &token, &path, 640).await?;
        assert_eq!(answered, 640);
        assert_eq!(count(&first, &recorded).await? - before, 1280);
        // Numbers 1..head, each once.
        let (entries, distinct, max) = (
            count(&first, "SELECT COUNT(*) FROM audit_log").await?,
            count(&first, "SELECT COUNT(DISTINCT seq) FROM audit_log").await?,
            count(&first, "SELECT MAX(seq) FROM audit_log").await?,
        );
        assert_eq!((entries, distinct), (max, max));
        let (status, out, err) = first.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "{out}{err}");

        // SIGKILL in the middle of the reads: every read answered 200 has its record.
        let before = count(&first, &recorded).await?;
        let mut second = second;
        let killed = async {
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
            second.signal("KILL")
        };
        let targets = [&second];
        let (answered, killed) = tokio::join!(reads(&targets, &token, &path, 4000), killed);
        killed?;
        let answered = answered?;
        let written = count(&first, &recorded).await? - before;
        assert!(
            answered > 0 && answered < 4000,
            "the kill came mid-way: {answered}"
        );
        assert!(
            written >= answered as i64,
            "{answered} reads answered, {written} recorded"
        );
        second.wait_exit(std::time::Duration::from_secs(10)).await?;
        let (status, out, err) = first.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "after the kill: {out}{err}");
        first.stop().await
    }
);

databases!(
    /// A signed checkpoint, then the last records deleted and the head rewound in SQL: the
    /// chain alone still verifies, the checkpoint names the first missing record; an untouched
    /// log passes, and an altered checkpoint is refused.
    async fn a_log_truncated_after_a_checkpoint_fails_against_it(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        server.create_user("a@batch.example", "staff").await?;
        for _ in 0..5 {
            login(&server, "a@batch.example").await?;
        }
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("checkpoint.jws");
        let f = file.display().to_string();
        let (status, out, err) = server
            .command(&["audit", "checkpoint", "--output", &f], "")
            .await?;
        assert!(status.success(), "{out}{err}");
        let head: i64 = out
            .split("checkpoint: ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .context("the checkpoint's number of entries")?;
        assert!(head >= 6, "{out}");
        let (status, out, err) = server
            .command(&["audit", "verify", "--checkpoint", &f], "")
            .await?;
        assert!(status.success(), "untouched: {out}{err}");

        // An altered checkpoint is not ours.
        let jws = std::fs::read_to_string(&file)?;
        let altered = dir.path().join("altered.jws");
        let mut parts: Vec<&str> = jws.trim().split('.').collect();
        let forged = parts[1].chars().rev().collect::<String>();
        parts[1] = &forged;
        std::fs::write(&altered, parts.join("."))?;
        let (status, _, err) = server
            .command(
                &[
                    "audit",
                    "verify",
                    "--checkpoint",
                    &altered.display().to_string(),
                ],
                "",
            )
            .await?;
        assert!(!status.success());
        assert!(err.contains("not a checkpoint"), "{err}");

        // Truncate the last three records and rewind the head onto the one before.
        let keep = head - 3;
        sql_rows(
            &server,
            &format!("DELETE FROM audit_log WHERE seq > {keep}"),
        )
        .await?;
        sql_rows(
            &server,
            &format!(
                "UPDATE audit_head SET seq = {keep}, hash = \
                 (SELECT hash FROM audit_log WHERE seq = {keep}) WHERE id = 1"
            ),
        )
        .await?;
        let (status, out, err) = server.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "the chain alone cannot tell: {out}{err}");
        let (status, _, err) = server
            .command(&["audit", "verify", "--checkpoint", &f], "")
            .await?;
        assert!(!status.success());
        assert!(
            err.contains(&format!("entries {} to {head} are missing", keep + 1)),
            "{err}"
        );
        server.stop().await
    }
);

/// An installation that exports its checkpoints everywhere it can: a directory, the audit
/// bucket (S3 runs), and the coordinator's mailbox (the SMTP sink).
fn exporting(
    b: extranet_tests::Backends,
    coordinator: &str,
    dir: &std::path::Path,
    prefix: &str,
) -> ServerBuilder {
    let env = extranet_tests::TestEnv::get();
    let mut builder = ServerBuilder::new(b)
        .env("EXTRANET_PRIVACY__COORDINATOR_EMAIL", coordinator)
        .env("EXTRANET_AUDIT__CHECKPOINT_DIR", dir.display().to_string())
        .env("EXTRANET_MAIL__TRANSPORT", "smtp")
        .env("EXTRANET_MAIL__SMTP_HOST", "127.0.0.1")
        .env("EXTRANET_MAIL__SMTP_PORT", env.smtp_port.to_string())
        .env("EXTRANET_MAIL__SMTP_TLS", "none")
        .env("EXTRANET_MAIL__POLL_SECS", "1");
    if b.store == extranet_tests::Store::S3 {
        for (k, v) in [
            ("ENDPOINT", env.s3_endpoint),
            ("BUCKET", env.s3_audit_bucket),
            ("ACCESS_KEY_ID", env.s3_access_key),
            ("SECRET_ACCESS_KEY", env.s3_secret_key),
            ("ALLOW_HTTP", "true".to_owned()),
            ("PREFIX", prefix.to_owned()),
        ] {
            builder = builder.env(&format!("EXTRANET_AUDIT__CHECKPOINT_S3__{k}"), v);
        }
    }
    builder
}

/// The compact JWS in a checkpoint mail: the line of three base64url parts.
fn jws_in(body: &str) -> anyhow::Result<String> {
    body.lines()
        .map(str::trim)
        .find(|l| l.starts_with("eyJ") && l.split('.').count() == 3)
        .map(str::to_owned)
        .context("no checkpoint in the mail")
}

/// The checkpoints in the audit bucket under `prefix`: (key, content).
async fn in_bucket(prefix: &str) -> anyhow::Result<Vec<(String, String)>> {
    use object_store::{ObjectStore, ObjectStoreExt};
    let s3 = extranet_tests::TestEnv::get().audit_bucket()?;
    let path = object_store::path::Path::from(format!("{prefix}/audit-checkpoints"));
    let mut listed = s3.list(Some(&path));
    let mut out = Vec::new();
    while let Some(meta) = listed.next().await {
        let location = meta?.location;
        let text = String::from_utf8(s3.get(&location).await?.bytes().await?.to_vec())?;
        out.push((location.to_string(), text));
    }
    Ok(out)
}

extranet_tests::matrix!(
    /// Checkpoints leave the database: each instance signs one at start and writes it to the
    /// checkpoint directory and (S3) the audit bucket; the privacy coordinator is mailed the
    /// period's first, by one instance of two; `audit checkpoint --mail` mails one on demand.
    /// What arrives verifies against /.well-known/jwks.json and with `audit verify --checkpoint`.
    async fn checkpoints_are_exported_to_a_directory_a_bucket_and_the_coordinator(b: Backends) {
        let coordinator = crate::rights::unique("dpo");
        let dir = tempfile::tempdir()?;
        let prefix = format!("t-{}", uuid::Uuid::new_v4().simple());
        let first = exporting(b, &coordinator, dir.path(), &prefix)
            .start()
            .await?;
        let smtp = extranet_tests::TestEnv::get().smtp_dir;
        let subject = "audit log checkpoint";
        let wait = std::time::Duration::from_secs(30);
        let mailed =
            extranet_tests::mail::wait_for_subject(&smtp, &coordinator, subject, wait).await?;
        let jws = jws_in(&mailed.body)?;
        let claims = crate::rights::verify_with_jwks(&first, &jws)
            .await?
            .context("the mailed checkpoint verifies against the published keys")?;
        assert!(
            claims["seq"].as_i64().is_some() && claims["hash"].is_string(),
            "{claims}"
        );

        // A second instance signs its own at start, but the period's mail is sent already.
        let url = match b.db {
            extranet_tests::Db::Sqlite => {
                format!("sqlite://{}", first.data_dir.join("extranet.db").display())
            }
            extranet_tests::Db::Postgres => first.pg_url().context("pg url")?.to_owned(),
        };
        let kek = first.data_dir.join(extranet_tests::server::TEST_KEK_FILE);
        let second = exporting(b, &coordinator, dir.path(), &prefix)
            .env("EXTRANET_DATABASE__URL", url)
            .env(
                "EXTRANET_KEYS__ENCRYPTION_KEY_FILE",
                kek.display().to_string(),
            )
            .start()
            .await?;
        let deadline = tokio::time::Instant::now() + wait;
        while count(&first, "SELECT COUNT(*) FROM audit_checkpoint").await? < 2 {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "no second checkpoint"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(
            count(&first, "SELECT COUNT(mail_slot) FROM audit_checkpoint").await?,
            1,
            "one mail for the period"
        );

        // On demand, with --mail.
        let (status, out, err) = first
            .command(&["audit", "checkpoint", "--mail"], "")
            .await?;
        assert!(status.success(), "{out}{err}");
        assert!(out.contains(&format!("mailed to {coordinator}")), "{out}");
        let made = out
            .lines()
            .last()
            .context("the checkpoint")?
            .trim()
            .to_owned();
        let body = crate::rights::wait_for_body(&coordinator, &made)
            .await?
            .body;
        assert!(
            body.contains("extranet audit verify --checkpoint"),
            "{body}"
        );
        let file = dir.path().join("mailed.jws");
        std::fs::write(&file, jws_in(&body)?)?;
        let f = file.display().to_string();
        let (status, out, err) = first
            .command(&["audit", "verify", "--checkpoint", &f], "")
            .await?;
        assert!(status.success(), "{out}{err}");
        let all = extranet_tests::mail::wait_for_count(&smtp, &coordinator, 2, wait).await?;
        assert_eq!(all.len(), 2, "the period's mail and the one asked for");

        // Every checkpoint is in the directory, and on S3 in the audit bucket too.
        let mut files: Vec<String> = std::fs::read_dir(dir.path())?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("checkpoint-"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 3, "{files:?}");
        let newest = std::fs::read_to_string(dir.path().join(&files[2]))?;
        assert_eq!(newest.trim(), made);
        if b.store == extranet_tests::Store::S3 {
            let objects = in_bucket(&prefix).await?;
            assert_eq!(objects.len(), 3, "{objects:?}");
            assert!(
                objects
                    .iter()
                    .any(|(k, v)| k.ends_with(&files[2]) && v.trim() == made)
            );
        }
        second.stop().await?;
        first.stop().await
    }
);
