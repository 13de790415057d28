//! The audit log through the real binary: sign-in events are recorded, `audit verify` passes on
//! an untouched log and names the entry after an edit, a deletion or a swap in the database.

use anyhow::Context;
use extranet_tests::{ServerBuilder, matrix};
use serde_json::json;

use crate::auth::{EMAIL, sql_rows};

matrix!(
    async fn audit_verify_detects_edits_deletions_and_swaps(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(EMAIL, "staff").await?;
        let client = server.client()?;
        let login = |pw: String| {
            client
                .post(server.url("/api/v1/auth/login"))
                .json(&json!({ "email": EMAIL, "password": pw }))
                .send()
        };
        assert_eq!(login("wrong".into()).await?.status(), 401);
        let ok: serde_json::Value = login(password.clone()).await?.json().await?;
        let r1 = ok["refresh_token"].as_str().context("refresh")?.to_owned();
        for _ in 0..2 {
            client
                .post(server.url("/api/v1/auth/refresh"))
                .json(&json!({ "refresh_token": r1 }))
                .send()
                .await?;
        }
        for _ in 0..3 {
            assert_eq!(login(password.clone()).await?.status(), 200);
        }

        let actions: Vec<String> = sql_rows(&server, "SELECT action FROM audit_log ORDER BY seq")
            .await?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect();
        for expected in [
            "account.create",
            "auth.login.failure",
            "auth.login.success",
            "auth.refresh.reuse",
        ] {
            assert!(
                actions.iter().any(|a| a == expected),
                "{expected} not in {actions:?}"
            );
        }
        // Neither the password nor a token is ever in the log.
        let all = sql_rows(&server, "SELECT detail FROM audit_log").await?;
        assert!(
            !all.iter()
                .flatten()
                .any(|d| d.contains(&password) || d.contains(&r1))
        );

        let (status, out, err) = server.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "{out}{err}");
        assert!(out.contains(&format!("{} entries", actions.len())), "{out}");

        // Each tampering is earlier in the log than the one before, so each is the first
        // problem `verify` meets and must be the one it names.
        let verify_error = || async {
            let (status, _, err) = server.command(&["audit", "verify"], "").await?;
            anyhow::ensure!(!status.success(), "a tampered log verified");
            Ok::<String, anyhow::Error>(err.lines().last().unwrap_or_default().to_owned())
        };
        // Swap the last two entries.
        let n = actions.len();
        let (a, c) = (n - 1, n);
        sql_rows(
            &server,
            &format!("UPDATE audit_log SET seq = -1 WHERE seq = {a}"),
        )
        .await?;
        sql_rows(
            &server,
            &format!("UPDATE audit_log SET seq = {a} WHERE seq = {c}"),
        )
        .await?;
        sql_rows(
            &server,
            &format!("UPDATE audit_log SET seq = {c} WHERE seq = -1"),
        )
        .await?;
        let err = verify_error().await?;
        assert!(
            err.starts_with(&format!("error: audit log damaged: entry {a} ")),
            "{err}"
        );
        // Edit entry 3.
        sql_rows(
            &server,
            "UPDATE audit_log SET detail = '{\"reason\":\"nothing happened\"}' WHERE seq = 3",
        )
        .await?;
        let err = verify_error().await?;
        assert!(err.contains("entry 3 ") && err.contains("edited"), "{err}");
        // Delete entry 2.
        sql_rows(&server, "DELETE FROM audit_log WHERE seq = 2").await?;
        let err = verify_error().await?;
        assert!(err.contains("entry 2 was deleted"), "{err}");
        server.stop().await
    }
);
