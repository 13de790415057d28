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

databases!(
    /// 64 clients read a colleague's record at once, on one instance and then on two sharing
    /// the database: every 200 has exactly one record, no number is missing or doubled, and
    /// the chain verifies.
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
