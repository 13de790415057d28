//! The retention schedule carried out by the real binary, with its clock under test control
//! (`privacy.clock_file`), on SQLite and PostgreSQL × local and S3-compatible storage: a run
//! deletes or anonymises exactly what is past its rule — row by row and object by object —
//! keeps what a legal hold covers, is recorded, does nothing a second time at the same instant,
//! and leaves the audit log verifiable; two instances run the daily run once; a run killed
//! with SIGKILL resumes without redoing or double-counting anything.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use extranet_tests::{Db, Server, ServerBuilder, databases, matrix};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::access::{api, login, pdf_bytes, upload};
use crate::auth::sql_rows;
use crate::documents::{fixture, stored_objects};

fn set_clock(file: &Path, at: OffsetDateTime) -> anyhow::Result<()> {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, at.format(&Rfc3339)?)?;
    std::fs::rename(tmp, file)?;
    Ok(())
}

async fn count(server: &Server, sql: &str) -> anyhow::Result<usize> {
    let rows = sql_rows(server, &format!("SELECT CAST(({sql}) AS TEXT)")).await?;
    rows.first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .context("count")
}

/// `extranet retention run`; returns the counts per rule it printed (of its last run).
async fn retention_run(
    server: &Server,
) -> anyhow::Result<std::collections::BTreeMap<String, usize>> {
    let (status, out, err) = server.command(&["retention", "run"], "").await?;
    anyhow::ensure!(status.success(), "retention run: {out} {err}");
    let mut counts = std::collections::BTreeMap::new();
    for line in out.lines().filter(|l| l.starts_with("  ")) {
        let (rule, n) = line.trim().split_once(": ").context("count line")?;
        counts.insert(rule.to_owned(), n.parse()?);
    }
    Ok(counts)
}

async fn me(server: &Server, token: &str) -> anyhow::Result<String> {
    let (_, body) = api(server, token, Method::GET, "/api/v1/me", None).await?;
    let v: Value = serde_json::from_str(&body)?;
    Ok(v["id"].as_str().context("id")?.to_owned())
}

/// A document uploaded to `dossier`; returns its API path.
async fn document(server: &Server, token: &str, dossier: &str, seed: u8) -> anyhow::Result<String> {
    let (status, body) = upload(
        server,
        token,
        &format!("/api/v1/dossiers/{dossier}/documents"),
        "inspection_report",
        "verslag.pdf",
        pdf_bytes(&format!("document {seed}")),
    )
    .await?;
    anyhow::ensure!(status == 201, "upload: {status} {body}");
    let v: Value = serde_json::from_str(&body)?;
    Ok(format!(
        "/api/v1/documents/{}",
        v["id"].as_str().context("document id")?
    ))
}

async fn object_of(server: &Server, doc_path: &str) -> anyhow::Result<String> {
    let id = doc_path.rsplit('/').next().context("id")?;
    let id_sql = match server.backends.db {
        Db::Sqlite => format!("X'{}'", id.replace('-', "")),
        Db::Postgres => format!("'{id}'"),
    };
    let rows = sql_rows(
        server,
        &format!("SELECT object_key FROM document_version WHERE document_id = {id_sql}"),
    )
    .await?;
    rows.first()
        .and_then(|r| r.first())
        .cloned()
        .context("object key")
}

fn id_sql(server: &Server, id: &str) -> String {
    match server.backends.db {
        Db::Sqlite => format!("X'{}'", id.replace('-', "")),
        Db::Postgres => format!("'{id}'"),
    }
}

matrix!(
    async fn a_run_removes_exactly_what_is_past_its_rule(b: Backends) {
        let dir = tempfile::tempdir()?;
        let clock = dir.path().join("clock");
        let server = ServerBuilder::new(b)
            .env("EXTRANET_PRIVACY__CLOCK_FILE", clock.display().to_string())
            .env("EXTRANET_PRIVACY__RETENTION", "false")
            .start()
            .await?;
        let f = fixture(&server).await?;

        // Documents: one deleted (goes after 90 days), one deleted in a dossier then put on
        // legal hold (stays), one never deleted (stays).
        let gone = document(&server, &f.staff, &f.dossier_b, 1).await?;
        let held = document(&server, &f.staff, &f.dossier_a, 2).await?;
        let kept = document(&server, &f.staff, &f.dossier_a, 3).await?;
        let (gone_obj, held_obj, kept_obj) = (
            object_of(&server, &gone).await?,
            object_of(&server, &held).await?,
            object_of(&server, &kept).await?,
        );
        for d in [&gone, &held] {
            let (s, body) = api(&server, &f.staff, Method::DELETE, d, None).await?;
            anyhow::ensure!(s == 204, "delete: {s} {body}");
        }
        let gone_id = id_sql(&server, gone.rsplit('/').next().context("id")?);
        let (s, _) = api(
            &server,
            &f.staff,
            Method::PUT,
            &format!("/api/v1/dossiers/{}/legal-hold", f.dossier_a),
            Some(json!({ "hold": true })),
        )
        .await?;
        anyhow::ensure!(s == 204, "legal hold: {s}");

        // People: a deactivated contact (anonymised after 2 years), a deactivated contact under
        // a hold on their person, and one under a hold on their company.
        let org_c = server.create_client_org("Held C NV").await?;
        server
            .create_user_in("gone@a.example", "client_user", &org_c)
            .await?;
        server
            .create_user_in("heldp@a.example", "client_user", &org_c)
            .await?;
        server.create_user("staff2@cb.example", "staff").await?;
        let org_d = server.create_client_org("Held D NV").await?;
        server
            .create_user_in("heldo@d.example", "client_user", &org_d)
            .await?;
        let gone_p = me(&server, &login(&server, "gone@a.example").await?).await?;
        let heldp = me(&server, &login(&server, "heldp@a.example").await?).await?;
        let heldo = me(&server, &login(&server, "heldo@d.example").await?).await?;
        for p in [&gone_p, &heldp, &heldo] {
            let (s, body) = api(
                &server,
                &f.staff,
                Method::POST,
                &format!("/api/v1/people/{p}/deactivate"),
                None,
            )
            .await?;
            anyhow::ensure!(s == 200, "deactivate: {s} {body}");
        }
        for args in [
            vec![
                "hold",
                "place",
                "--person",
                &heldp,
                "--reason",
                "Dispute 2026/14",
                "--by",
                "staff2@cb.example",
            ],
            vec![
                "hold",
                "place",
                "--organisation",
                &org_d,
                "--reason",
                "Inquiry",
                "--by",
                "staff2@cb.example",
            ],
        ] {
            let (status, out, err) = server.command(&args, "").await?;
            anyhow::ensure!(status.success(), "hold: {out} {err}");
        }
        // The contact to be anonymised has a vehicle on record; it goes with the anonymisation.
        let (uuid, ts) = match b.db {
            Db::Sqlite => ("randomblob(16)", "'2026-01-01T00:00:00Z'"),
            Db::Postgres => ("gen_random_uuid()", "TIMESTAMPTZ '2026-01-01T00:00:00Z'"),
        };
        sql_rows(
            &server,
            &format!(
                "INSERT INTO vehicle (id, person_id, licence_plate, created_at) \
                 VALUES ({uuid}, {}, '1-ABC-123', {ts})",
                id_sql(&server, &gone_p)
            ),
        )
        .await?;
        // A company whose relationship ended: its people are anonymised after 2 years.
        let org_e = server.create_client_org("Ended E BV").await?;
        server
            .create_user_in("ended@e.example", "client_admin", &org_e)
            .await?;
        let (status, out, err) = server.command(&["org", "deactivate", &org_e], "").await?;
        anyhow::ensure!(status.success(), "org deactivate: {out} {err}");
        // A bad hold changes nothing and says why.
        let (status, _, err) = server
            .command(
                &[
                    "hold",
                    "place",
                    "--person",
                    &heldp,
                    "--reason",
                    " ",
                    "--by",
                    "staff2@cb.example",
                ],
                "",
            )
            .await?;
        assert!(!status.success());
        assert!(err.contains("reason"), "{err}");

        let sessions = count(&server, "SELECT COUNT(*) FROM auth_session").await?;
        assert!(sessions >= 6, "{sessions} sessions");
        let people = count(&server, "SELECT COUNT(*) FROM person").await?;
        let with_ip = count(
            &server,
            "SELECT COUNT(*) FROM audit_log WHERE actor_ip IS NOT NULL",
        )
        .await?;
        assert!(with_ip > 0);

        // 31 days on: ended sessions go, nothing else.
        let now = OffsetDateTime::now_utc();
        set_clock(&clock, now + time::Duration::days(31))?;
        let (status, plan, err) = server
            .command(&["retention", "plan", "--format", "json"], "")
            .await?;
        anyhow::ensure!(status.success(), "plan: {err}");
        let plan: Value = serde_json::from_str(&plan)?;
        let due = |rule: &str| {
            plan["rules"]
                .as_array()
                .and_then(|r| r.iter().find(|x| x["rule"] == rule))
                .and_then(|x| x["due"].as_u64())
                .unwrap_or(u64::MAX)
        };
        // The two people under a hold keep their (ended) sessions.
        let held_sessions = plan["rules"][0]["held"].as_u64().context("held")? as usize;
        assert_eq!(held_sessions, 2, "{plan}");
        assert_eq!(due("sessions") as usize, sessions - 2, "{plan}");
        assert_eq!(due("deleted-documents"), 0, "{plan}");
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM auth_session").await?,
            sessions,
            "the plan changes nothing"
        );

        let first = retention_run(&server).await?;
        assert_eq!(first["sessions"], sessions - 2, "{first:?}");
        assert_eq!(first["deleted-documents"], 0);
        assert_eq!(first["deactivated-people"], 0);
        assert_eq!(first["audit-addresses"], 0);
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM auth_session").await?,
            2
        );
        assert_eq!(count(&server, "SELECT COUNT(*) FROM document").await?, 3);
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM person WHERE anonymised_at IS NOT NULL"
            )
            .await?,
            0
        );

        // Three years on: the deleted document and its object, the deactivated contact, old
        // addresses in the audit log — and nothing a hold covers.
        set_clock(&clock, now + time::Duration::days(3 * 365))?;
        let second = retention_run(&server).await?;
        assert_eq!(second["deleted-documents"], 1, "{second:?}");
        assert_eq!(second["deactivated-people"], 1, "{second:?}");
        assert_eq!(second["audit-addresses"], with_ip, "{second:?}");
        assert_eq!(second["client-relationship"], 1, "{second:?}");
        assert_eq!(second["certification-records"], 0);

        assert_eq!(count(&server, "SELECT COUNT(*) FROM document").await?, 2);
        assert_eq!(
            count(
                &server,
                &format!("SELECT COUNT(*) FROM document WHERE id = {gone_id}")
            )
            .await?,
            0
        );
        let objects = stored_objects(&server).await?;
        assert!(!objects.contains(&gone_obj), "{objects:?}");
        assert!(objects.contains(&held_obj), "{objects:?}");
        assert!(objects.contains(&kept_obj), "{objects:?}");

        let person = |id: &str| {
            let id = id_sql(&server, id);
            format!(
                "SELECT surname || '|' || email || '|' || COALESCE(phone, '-') || '|' || \
                 CASE WHEN anonymised_at IS NULL THEN 'no' ELSE 'yes' END FROM person WHERE id = {id}"
            )
        };
        let row = |sql: String| {
            let server = &server;
            async move {
                let rows = sql_rows(server, &sql).await?;
                rows.first().and_then(|r| r.first()).cloned().context("row")
            }
        };
        let anonymised = row(person(&gone_p)).await?;
        assert!(anonymised.starts_with("Anonymised|"), "{anonymised}");
        assert!(
            anonymised.contains("@anonymised.invalid|-|yes"),
            "{anonymised}"
        );
        assert!(!anonymised.contains("gone@a.example"));
        assert_eq!(
            count(
                &server,
                &format!(
                    "SELECT COUNT(*) FROM vehicle WHERE person_id = {}",
                    id_sql(&server, &gone_p)
                )
            )
            .await?,
            0
        );
        for (held, email) in [(&heldp, "heldp@a.example"), (&heldo, "heldo@d.example")] {
            let r = row(person(held)).await?;
            assert!(
                r.starts_with(&format!("Persoon|{email}|")) && r.ends_with("|no"),
                "{r}"
            );
        }
        assert_eq!(count(&server, "SELECT COUNT(*) FROM person").await?, people);
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM person WHERE anonymised_at IS NOT NULL"
            )
            .await?,
            2
        );
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM person WHERE email = 'ended@e.example'"
            )
            .await?,
            0
        );
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM audit_log WHERE actor_ip IS NOT NULL OR actor_ip_salt IS NOT NULL").await?,
            0
        );

        // The same instant again: nothing left to do.
        let third = retention_run(&server).await?;
        assert!(third.values().all(|n| *n == 0), "{third:?}");

        // Recorded, one entry per run with the counts; and the chain still verifies.
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.run'"
            )
            .await?,
            3
        );
        let details = sql_rows(
            &server,
            "SELECT detail FROM audit_log WHERE action = 'retention.run' ORDER BY seq",
        )
        .await?;
        let d: Value = serde_json::from_str(&details[1][0])?;
        assert_eq!(d["counts"]["deleted-documents"], 1, "{d}");
        let (status, out, err) = server.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "audit verify: {out} {err}");
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'privacy.hold.place'"
            )
            .await?,
            2
        );
        server.stop().await
    }
);

databases!(
    async fn two_instances_run_the_daily_run_once(b: Backends) {
        let dir = tempfile::tempdir()?;
        let clock = dir.path().join("clock");
        set_clock(&clock, OffsetDateTime::now_utc() + time::Duration::days(40))?;
        let first = ServerBuilder::new(b)
            .env("EXTRANET_PRIVACY__CLOCK_FILE", clock.display().to_string())
            .env("EXTRANET_PRIVACY__RETENTION_CHECK_SECS", "60")
            .start()
            .await?;
        let kek = first.data_dir.join(extranet_tests::server::TEST_KEK_FILE);
        let mut second = ServerBuilder::new(b)
            .env("EXTRANET_PRIVACY__CLOCK_FILE", clock.display().to_string())
            .env("EXTRANET_PRIVACY__RETENTION_CHECK_SECS", "60")
            .env(
                "EXTRANET_KEYS__ENCRYPTION_KEY_FILE",
                kek.display().to_string(),
            );
        second = match b.db {
            Db::Postgres => second.env("EXTRANET_DATABASE__URL", first.pg_url().context("pg")?),
            Db::Sqlite => second.env(
                "EXTRANET_DATABASE__URL",
                format!("sqlite://{}", first.data_dir.join("extranet.db").display()),
            ),
        };
        let second = second.start().await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while count(
            &first,
            "SELECT COUNT(*) FROM retention_run WHERE finished_at IS NOT NULL",
        )
        .await?
            < 1
        {
            anyhow::ensure!(std::time::Instant::now() < deadline, "no run finished");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(
            count(&first, "SELECT COUNT(*) FROM retention_run").await?,
            1
        );
        assert_eq!(
            count(
                &first,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'retention.run'"
            )
            .await?,
            1
        );
        second.stop().await?;
        first.stop().await
    }
);

databases!(
    /// 20,000 delivered mails from 2020 and five deleted documents, then `retention run` killed
    /// with SIGKILL half-way: the run is refused while its heartbeat is fresh, taken over once it
    /// is stale, and finishes with every record removed exactly once and no object left without
    /// its row or row without its object.
    async fn a_run_killed_half_way_resumes_without_redoing_anything(b: Backends) {
        let dir = tempfile::tempdir()?;
        let clock = dir.path().join("clock");
        let server = ServerBuilder::new(b)
            .env("EXTRANET_PRIVACY__CLOCK_FILE", clock.display().to_string())
            .env("EXTRANET_PRIVACY__RETENTION", "false")
            .env("EXTRANET_PRIVACY__RETENTION_BATCH", "25")
            .start()
            .await?;
        let f = fixture(&server).await?;
        let mut docs = Vec::new();
        for seed in 0..5 {
            let d = document(&server, &f.staff, &f.dossier_b, seed).await?;
            let (s, _) = api(&server, &f.staff, Method::DELETE, &d, None).await?;
            anyhow::ensure!(s == 204);
            docs.push(object_of(&server, &d).await?);
        }
        const MAILS: usize = 20_000;
        let insert = match b.db {
            Db::Sqlite => format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {MAILS}) \
                 INSERT INTO outbox (id, created_at, recipient, language, template, payload, \
                 attempts, next_attempt_at, sent_at) SELECT randomblob(16), '2020-01-01T00:00:00Z', \
                 'old' || i || '@mail.example', 'nl', 'invitation', '{{}}', 1, \
                 '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z' FROM n"
            ),
            Db::Postgres => format!(
                "INSERT INTO outbox (id, created_at, recipient, language, template, payload, \
                 attempts, next_attempt_at, sent_at) SELECT gen_random_uuid(), \
                 TIMESTAMPTZ '2020-01-01T00:00:00Z', 'old' || i || '@mail.example', 'nl', \
                 'invitation', '{{}}', 1, TIMESTAMPTZ '2020-01-01T00:00:00Z', \
                 TIMESTAMPTZ '2020-01-01T00:00:00Z' FROM generate_series(1, {MAILS}) AS i"
            ),
        };
        sql_rows(&server, &insert).await?;
        let sent = "SELECT COUNT(*) FROM outbox WHERE recipient LIKE 'old%'";
        assert_eq!(count(&server, sent).await?, MAILS);

        let now = OffsetDateTime::now_utc() + time::Duration::days(100);
        set_clock(&clock, now)?;
        let mut child = server.spawn_command(&["retention", "run"]).await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let left = count(&server, sent).await?;
            if left < MAILS - 500 {
                break;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the run made no progress"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.start_kill()?;
        child.wait().await?;
        let left = count(&server, sent).await?;
        assert!(
            left > 0,
            "the run finished before it could be killed; make it longer"
        );
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM retention_run WHERE finished_at IS NULL"
            )
            .await?,
            1
        );

        // Another run at once is refused: the killed one's heartbeat is fresh.
        let (status, _, err) = server.command(&["retention", "run"], "").await?;
        assert!(!status.success());
        assert!(err.contains("in progress"), "{err}");
        assert_eq!(count(&server, sent).await?, left);

        // Eleven minutes later the heartbeat is stale: the run is taken over and finished.
        set_clock(&clock, now + time::Duration::minutes(11))?;
        let (status, out, err) = server.command(&["retention", "run"], "").await?;
        assert!(status.success(), "{out} {err}");
        assert!(out.contains("(resumed)"), "{out}");
        assert_eq!(count(&server, sent).await?, 0);
        // The resumed run's counts: every mail and document once, none twice.
        let resumed = out
            .split("retention run ")
            .find(|block| block.contains("(resumed)"))
            .context("resumed block")?;
        let line = |rule: &str| -> anyhow::Result<usize> {
            resumed
                .lines()
                .find_map(|l| l.trim().strip_prefix(&format!("{rule}: ")))
                .context("rule line")?
                .parse()
                .map_err(Into::into)
        };
        assert!(line("delivered-mail")? >= MAILS, "{out}");
        assert!(line("delivered-mail")? <= MAILS + 20, "{out}");
        assert_eq!(line("deleted-documents")?, 5, "{out}");
        assert_eq!(count(&server, "SELECT COUNT(*) FROM document").await?, 0);
        let objects = stored_objects(&server).await?;
        for o in &docs {
            assert!(!objects.contains(o), "{o} left in {objects:?}");
        }
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM retention_run WHERE finished_at IS NULL"
            )
            .await?,
            0
        );
        let (status, out, err) = server.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "audit verify: {out} {err}");
        server.stop().await
    }
);

databases!(
    /// The retention page: the privacy coordinator reads the plan; staff place a hold on a person
    /// by e-mail address and on a company, see them by name, get a clear message for a bad reason,
    /// and lift a hold after a confirmation; a client contact does not reach the page.
    async fn holds_are_placed_and_lifted_on_the_retention_page(b: Backends) {
        use crate::backoffice_pages::{page, post};
        let server = ServerBuilder::new(b).start().await?;
        let org = server.create_client_org("Beton Hold NV").await?;
        let pw = server
            .create_user("po@cb.example", "privacy_officer")
            .await?;
        server.create_user("staff@cb.example", "staff").await?;
        server
            .create_user_in("ca@hold.example", "client_admin", &org)
            .await?;
        let po = server.sign_in("po@cb.example", &pw).await?;
        let staff = server.sign_in("staff@cb.example", &pw).await?;
        let client = server.sign_in("ca@hold.example", &pw).await?;

        let (status, body) = page(&server, &po, "/privacy/retention").await?;
        assert_eq!(status, 200);
        assert!(body.contains("data-rule=\"audit-addresses\""), "the plan");
        assert!(
            body.contains("href=\"/privacy/retention\""),
            "in the navigation"
        );
        assert_eq!(page(&server, &client, "/privacy/retention").await?.0, 404);
        assert!(
            !page(&server, &client, "/home")
                .await?
                .1
                .contains("/privacy/retention")
        );

        server.speak(&staff, "nl").await?;
        let (status, _, body) = post(
            &server,
            &staff,
            "/privacy/retention",
            &[
                ("subject", "person"),
                ("email", "ca@hold.example"),
                ("reason", " "),
            ],
        )
        .await?;
        assert_eq!(status, 422);
        assert!(body.contains("Geef de reden"), "{body}");
        let (status, location, _) = post(
            &server,
            &staff,
            "/privacy/retention",
            &[
                ("subject", "person"),
                ("email", "ca@hold.example"),
                ("reason", "Geschil 2026/7"),
            ],
        )
        .await?;
        assert_eq!(status, 303, "{location}");
        let (status, _, _) = post(
            &server,
            &staff,
            "/privacy/retention",
            &[
                ("subject", "organisation"),
                ("organisation", &org),
                ("reason", "Onderzoek"),
            ],
        )
        .await?;
        assert_eq!(status, 303);
        let (_, body) = page(&server, &staff, "/privacy/retention").await?;
        assert!(
            body.contains("Test Persoon (Beton Hold NV)"),
            "named, not by id"
        );
        assert!(body.contains("Geschil 2026/7") && body.contains("Onderzoek"));
        let table = body
            .split("id=\"retention-holds\"")
            .nth(1)
            .and_then(|s| s.split("<h3>").next())
            .unwrap_or_default();
        assert!(!table.contains(&org), "names, not ids: {table}");
        let holds = sql_rows(
            &server,
            "SELECT CAST(id AS TEXT) FROM privacy_hold ORDER BY placed_at",
        )
        .await?;
        assert_eq!(holds.len(), 2);
        let ids: Vec<String> = body
            .split("data-hold=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next().map(str::to_owned))
            .collect();
        assert_eq!(ids.len(), 2);
        // Lifting asks first; then the hold goes.
        let lift = format!("/privacy/holds/{}/lift", ids[0]);
        let (status, body) = page(&server, &staff, &lift).await?;
        assert_eq!(status, 200);
        assert!(body.contains("opheffen?"), "{body}");
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM privacy_hold WHERE lifted_at IS NULL"
            )
            .await?,
            2
        );
        let (status, _, _) = post(&server, &staff, &lift, &[]).await?;
        assert_eq!(status, 303);
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM privacy_hold WHERE lifted_at IS NULL"
            )
            .await?,
            1
        );
        assert_eq!(post(&server, &client, &lift, &[]).await?.0, 403);
        for action in [
            "privacy.hold.place",
            "privacy.hold.lift",
            "privacy.holds.read",
        ] {
            assert!(
                count(
                    &server,
                    &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'")
                )
                .await?
                    >= 1,
                "{action} recorded"
            );
        }
        server.stop().await
    }
);
