//! Subprocessors through the real binary (issue 15): publishing a notice mails every client
//! company's primary contacts and subscribers through the SMTP sink, in their language; the
//! objection window holds to the second with the register's clock under test control; a notice
//! is applied once even by two instances on one PostgreSQL; the list as of a date, before and
//! after a change and for an excluded company; objections stay with their company; reasons come
//! back cleaned; bad input is refused with nothing written.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use extranet_tests::mail::wait_for_count;
use extranet_tests::{Backends, Db, Server, ServerBuilder, TestEnv};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::access::{api, login};
use crate::auth::sql_rows;
use crate::subprocessors_pages::in_days;

async fn call(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let (status, text) = api(server, token, method, path, body).await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// A count from SQL, whatever type the backend returns it as.
async fn count(server: &Server, sql: &str) -> anyhow::Result<usize> {
    let rows = sql_rows(server, &format!("SELECT CAST(({sql}) AS TEXT)")).await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

fn entry(name: &str, countries: &[&str]) -> Value {
    json!({
        "legal_name": name,
        "registration_number": "0123.456.789",
        "website": "https://sub.example",
        "service": "Hosting",
        "data_categories": ["identification", "contact"],
        "subject_categories": ["client_contacts"],
        "locations": countries.iter().map(|c| json!({ "country": c })).collect::<Vec<_>>(),
        "agreement_date": "2026-01-15",
    })
}

/// Drafts and publishes an `add` notice; its JSON.
async fn announce(server: &Server, po: &str, name: &str, days: i64) -> anyhow::Result<Value> {
    let (status, draft) = call(
        server,
        po,
        Method::POST,
        "/api/v1/subprocessor-notices",
        Some(json!({ "kind": "add", "entry": entry(name, &["BE"]),
            "summary": format!("{name} will host our backups."), "effective_date": in_days(days) })),
    )
    .await?;
    anyhow::ensure!(status == 201, "draft: {status} {draft}");
    let id = draft["id"].as_str().context("id")?;
    let (status, published) = call(
        server,
        po,
        Method::POST,
        &format!("/api/v1/subprocessor-notices/{id}/publish"),
        None,
    )
    .await?;
    anyhow::ensure!(status == 200, "publish: {status} {published}");
    Ok(published)
}

fn instant(v: &Value) -> anyhow::Result<OffsetDateTime> {
    Ok(OffsetDateTime::parse(
        v.as_str().context("instant")?,
        &Rfc3339,
    )?)
}

/// Sets the register's clock (the file `subprocessors.clock_file` names).
fn set_clock(file: &Path, at: OffsetDateTime) -> anyhow::Result<()> {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, at.format(&Rfc3339)?)?;
    std::fs::rename(tmp, file)?;
    Ok(())
}

/// The JSON schema of the register's list, from the OpenAPI document the server publishes.
async fn list_schema(server: &Server) -> anyhow::Result<jsonschema::Validator> {
    let doc: Value = server
        .client()?
        .get(server.url("/api/v1/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": "#/components/schemas/SubprocessorList",
        "components": doc["components"],
    });
    jsonschema::validator_for(&schema).map_err(|e| anyhow::anyhow!("schema: {e}"))
}

struct Setup {
    server: Server,
    po: String,
    clock: PathBuf,
    _dir: tempfile::TempDir,
    /// Client companies: (organisation id, primary contact's token).
    a: (String, String),
    b: (String, String),
    /// A contact of company A without the right to object.
    a_user: String,
}

async fn setup(b: Backends, extra: &[(&str, &str)]) -> anyhow::Result<Setup> {
    let dir = tempfile::tempdir()?;
    let clock = dir.path().join("clock");
    let mut builder = ServerBuilder::new(b)
        .env(
            "EXTRANET_SUBPROCESSORS__CLOCK_FILE",
            clock.display().to_string(),
        )
        .env("EXTRANET_SUBPROCESSORS__APPLY_EVERY_SECS", "1");
    for (k, v) in extra {
        builder = builder.env(k, *v);
    }
    let server = builder.start().await?;
    server
        .create_user("po@cb.example", "privacy_officer")
        .await?;
    let a = server.create_client_org("Beton A NV").await?;
    let b_org = server.create_client_org("Prefab B BV").await?;
    server
        .create_user_in("ca@a.example", "client_admin", &a)
        .await?;
    server
        .create_user_in("cu@a.example", "client_user", &a)
        .await?;
    server
        .create_user_in("cb@b.example", "client_admin", &b_org)
        .await?;
    Ok(Setup {
        po: login(&server, "po@cb.example").await?,
        a: (a, login(&server, "ca@a.example").await?),
        b: (b_org, login(&server, "cb@b.example").await?),
        a_user: login(&server, "cu@a.example").await?,
        server,
        clock,
        _dir: dir,
    })
}

/// `n` client companies inserted straight into the database (`extranet_tests::bulk`):
/// (primary contacts' e-mails with language, subscribers' e-mails).
async fn companies(
    server: &Server,
    n: usize,
    tag: &str,
) -> anyhow::Result<(Vec<(String, String)>, Vec<String>)> {
    let made = extranet_tests::bulk::client_companies(server.backends.db, n, tag);
    for sql in &made.statements {
        sql_rows(server, sql).await?;
    }
    Ok((made.primaries, made.subscribers))
}

extranet_tests::databases!(
    /// 500 client companies: one mail per primary contact (but the one who unsubscribed) and
    /// per subscriber, queued with the publication and delivered to the SMTP sink in each
    /// person's language.
    async fn publishing_mails_every_primary_contact_and_subscriber_in_their_language(b: Backends) {
        let env = TestEnv::get();
        let port = env.smtp_port.to_string();
        let s = setup(
            b,
            &[
                ("EXTRANET_MAIL__TRANSPORT", "smtp"),
                ("EXTRANET_MAIL__SMTP_HOST", "127.0.0.1"),
                ("EXTRANET_MAIL__SMTP_PORT", &port),
                ("EXTRANET_MAIL__SMTP_TLS", "none"),
                ("EXTRANET_MAIL__POLL_SECS", "1"),
            ],
        )
        .await?;
        // Addresses of this run only: the SMTP sink is shared by the tests running at once.
        let tag = format!("bulk{}", uuid::Uuid::new_v4().simple());
        let (primaries, subscribers) = companies(&s.server, 500, &tag).await?;
        let before = count(&s.server, "SELECT COUNT(*) FROM outbox").await?;
        let notice = announce(&s.server, &s.po, "Back-up Vault NV", 35).await?;
        assert_eq!(notice["state"], "published");
        assert!(notice["days_left"].as_i64().unwrap_or(0) >= 30, "{notice}");
        // The two companies of the setup have a primary contact each, too.
        let expected = primaries.len() + subscribers.len() + 2;
        let queued = count(
            &s.server,
            "SELECT COUNT(*) FROM outbox WHERE template = 'subprocessor-notice'",
        )
        .await?;
        assert_eq!(queued, expected);
        assert_eq!(
            count(&s.server, "SELECT COUNT(*) FROM outbox").await? - before,
            expected
        );
        // Exactly one per person.
        assert_eq!(
            count(
                &s.server,
                "SELECT COUNT(*) FROM (SELECT recipient FROM outbox WHERE template = \
                 'subprocessor-notice' GROUP BY recipient HAVING COUNT(*) > 1) x"
            )
            .await?,
            0
        );
        // Delivered through the SMTP sink, in each person's language.
        let subjects = [
            ("nl", "Nieuwe subverwerker aangekondigd"),
            ("fr", "Nouveau sous-traitant ultérieur annoncé"),
            ("en", "New subprocessor announced"),
        ];
        for (email, lang) in primaries
            .iter()
            .take(6)
            .chain(primaries.iter().rev().take(3))
        {
            let got = wait_for_count(&env.smtp_dir, email, 1, Duration::from_secs(120)).await?;
            assert_eq!(got.len(), 1, "{email}");
            let want = subjects.iter().find(|(l, _)| l == lang).map(|x| x.1);
            assert!(
                got[0].subject.contains(want.unwrap_or("?")),
                "{email} ({lang}): {}",
                got[0].subject
            );
            assert!(got[0].body.contains("Back-up Vault NV"), "{}", got[0].body);
        }
        for email in subscribers.iter().take(3) {
            wait_for_count(&env.smtp_dir, email, 1, Duration::from_secs(120)).await?;
        }
        // Everything queued is sent; nobody else got one.
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        loop {
            let left = count(
                &s.server,
                "SELECT COUNT(*) FROM outbox WHERE template = 'subprocessor-notice' AND sent_at IS NULL",
            )
            .await?;
            if left == 0 {
                break;
            }
            anyhow::ensure!(std::time::Instant::now() < deadline, "{left} mails unsent");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        for nobody in [
            format!("p1@{tag}.example"),
            format!("u1@{tag}.example"),
            "cu@a.example".to_owned(),
        ] {
            assert_eq!(
                count(
                    &s.server,
                    &format!("SELECT COUNT(*) FROM outbox WHERE recipient = '{nobody}'")
                )
                .await?,
                0,
                "{nobody}"
            );
        }
        s.server.stop().await
    }
);

extranet_tests::databases!(
    /// An objection one second before the notice's effective time is accepted; one second after
    /// is refused with the closing time, and nothing is written. A notice whose time has come
    /// with an objection undecided waits; once it is decided, the job applies it.
    async fn the_objection_window_holds_to_the_second(b: Backends) {
        let s = setup(b, &[]).await?;
        let notice = announce(&s.server, &s.po, "Back-up Vault NV", 35).await?;
        let id = notice["id"].as_str().context("id")?.to_owned();
        let closes = instant(&notice["effective_at"])?;
        let url = format!("/api/v1/subprocessor-notices/{id}/objections");
        let reasons = json!({ "reasons": "<p>We want our data <em>in Belgium</em>.</p>" });

        // Bad input first: nothing is written.
        for (body, status) in [
            (json!({ "reasons": "" }), 422),
            (json!({ "reasons": "<script>alert(1)</script>" }), 422),
            (json!({ "reasons": "x".repeat(20_001) }), 422),
        ] {
            let (got, v) = call(&s.server, &s.a.1, Method::POST, &url, Some(body)).await?;
            assert_eq!(got, status, "{v}");
        }
        // A contact without the right: refused, recorded.
        let (got, _) = call(
            &s.server,
            &s.a_user,
            Method::POST,
            &url,
            Some(reasons.clone()),
        )
        .await?;
        assert_eq!(got, 403);
        assert_eq!(
            count(&s.server, "SELECT COUNT(*) FROM subprocessor_objection").await?,
            0
        );

        set_clock(&s.clock, closes - time::Duration::seconds(1))?;
        let (got, v) = call(&s.server, &s.a.1, Method::POST, &url, Some(reasons.clone())).await?;
        assert_eq!(got, 201, "one second before closing: {v}");
        assert_eq!(v["state"], "open");
        // One open objection per company.
        let (got, _) = call(&s.server, &s.a.1, Method::POST, &url, Some(reasons.clone())).await?;
        assert_eq!(got, 409);

        set_clock(&s.clock, closes + time::Duration::seconds(1))?;
        let (got, v) = call(&s.server, &s.b.1, Method::POST, &url, Some(reasons.clone())).await?;
        assert_eq!(got, 409, "one second after closing: {v}");
        assert_eq!(v["code"], "window_closed");
        let closing = closes.format(&Rfc3339)?;
        let shown = v["detail"].as_str().unwrap_or_default();
        assert!(
            shown.contains(&closing[..16].replace('T', " ")),
            "the closing time {closing} in {shown}"
        );
        assert_eq!(
            count(&s.server, "SELECT COUNT(*) FROM subprocessor_objection").await?,
            1
        );

        // The time has come, an objection is open: the notice waits, and says so.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (_, n) = call(
            &s.server,
            &s.po,
            Method::GET,
            &format!("/api/v1/subprocessor-notices/{id}"),
            None,
        )
        .await?;
        assert_eq!(n["state"], "published", "{n}");
        assert_eq!(n["waiting"], true, "{n}");
        // Decided: the job applies it, once.
        let (_, list) = call(
            &s.server,
            &s.po,
            Method::GET,
            &format!("/api/v1/objections?notice_id={id}"),
            None,
        )
        .await?;
        let objection = list["items"][0]["id"]
            .as_str()
            .context("objection")?
            .to_owned();
        let (got, v) = call(
            &s.server,
            &s.po,
            Method::POST,
            &format!("/api/v1/objections/{objection}/decision"),
            Some(json!({ "decision": "rejected", "note": "" })),
        )
        .await?;
        assert_eq!(got, 422, "a rejection needs its justification: {v}");
        let (got, v) = call(
            &s.server,
            &s.po,
            Method::POST,
            &format!("/api/v1/objections/{objection}/decision"),
            Some(json!({ "decision": "rejected", "note": "The vault is in Belgium." })),
        )
        .await?;
        assert_eq!(got, 200, "{v}");
        assert_eq!(v["state"], "rejected");
        let (got, _) = call(
            &s.server,
            &s.po,
            Method::POST,
            &format!("/api/v1/objections/{objection}/decision"),
            Some(json!({ "decision": "settled", "note": "again" })),
        )
        .await?;
        assert_eq!(got, 409, "a decided objection is not decided again");
        let mut state = String::new();
        for _ in 0..40 {
            let (_, n) = call(
                &s.server,
                &s.po,
                Method::GET,
                &format!("/api/v1/subprocessor-notices/{id}"),
                None,
            )
            .await?;
            state = n["state"].as_str().unwrap_or_default().to_owned();
            if state == "applied" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert_eq!(state, "applied");
        let (_, list) = call(
            &s.server,
            &s.a.1,
            Method::GET,
            "/api/v1/subprocessors",
            None,
        )
        .await?;
        assert!(
            list["items"]
                .as_array()
                .is_some_and(|i| i.iter().any(|e| e["legal_name"] == "Back-up Vault NV")),
            "{list}"
        );
        // An applied notice is not edited or withdrawn.
        let (got, _) = call(
            &s.server,
            &s.po,
            Method::POST,
            &format!("/api/v1/subprocessor-notices/{id}/withdraw"),
            Some(json!({ "reason": "too late" })),
        )
        .await?;
        assert_eq!(got, 409);
        s.server.stop().await
    }
);

/// Two instances on one PostgreSQL, each running the job every second: every notice is applied
/// exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_apply_each_notice_once() -> anyhow::Result<()> {
    let b = Backends::new(Db::Postgres, extranet_tests::Store::Local);
    let s = setup(b, &[]).await?;
    let mut ids = Vec::new();
    for i in 0..8 {
        let n = announce(&s.server, &s.po, &format!("Vault {i} NV"), 35).await?;
        ids.push(n["id"].as_str().context("id")?.to_owned());
    }
    let kek = s
        .server
        .data_dir
        .join(extranet_tests::server::TEST_KEK_FILE);
    let second = ServerBuilder::new(b)
        .env("EXTRANET_DATABASE__URL", s.server.pg_url().context("pg")?)
        .env(
            "EXTRANET_KEYS__ENCRYPTION_KEY_FILE",
            kek.display().to_string(),
        )
        .env(
            "EXTRANET_SUBPROCESSORS__CLOCK_FILE",
            s.clock.display().to_string(),
        )
        .env("EXTRANET_SUBPROCESSORS__APPLY_EVERY_SECS", "1")
        .start()
        .await?;
    // Both instances see the time come at once.
    set_clock(
        &s.clock,
        OffsetDateTime::now_utc() + time::Duration::days(40),
    )?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while count(
        &s.server,
        "SELECT COUNT(*) FROM subprocessor_notice WHERE state = 'applied'",
    )
    .await?
        < ids.len()
    {
        anyhow::ensure!(std::time::Instant::now() < deadline, "not all applied");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let both run a few more times.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        count(
            &s.server,
            "SELECT COUNT(*) FROM subprocessor_change WHERE kind = 'activated'"
        )
        .await?,
        ids.len()
    );
    assert_eq!(
        count(
            &s.server,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'subprocessor.notice.apply'"
        )
        .await?,
        ids.len()
    );
    second.stop().await?;
    s.server.stop().await
}

extranet_tests::databases!(
    /// `?at=` shows the list before and after an applied notice; an upheld objection that
    /// excludes a company shows in that company's list and history only; objections stay with
    /// their company (by id, list, filter and count); reasons come back cleaned.
    async fn the_list_as_of_a_date_exclusions_and_objections_stay_with_their_company(b: Backends) {
        let s = setup(b, &[]).await?;
        let notice = announce(&s.server, &s.po, "Archief Diensten NV", 35).await?;
        let id = notice["id"].as_str().context("id")?.to_owned();
        let closes = instant(&notice["effective_at"])?;
        let payloads = [
            "<p>ok</p><script>alert(1)</script>",
            "<img src=x onerror=alert(1)>ok",
            "<a href=\"javascript:alert(1)\">ok</a>",
            "<svg><g onload=alert(1)></g></svg>ok",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>ok</style></mglyph></table></mtext></math> ok",
        ];
        let html = payloads.join("");
        let url = format!("/api/v1/subprocessor-notices/{id}/objections");
        let (got, v) = call(
            &s.server,
            &s.a.1,
            Method::POST,
            &url,
            Some(json!({ "reasons": html })),
        )
        .await?;
        assert_eq!(got, 201, "{v}");
        let a_objection = v["id"].as_str().context("id")?.to_owned();
        let reasons = v["reasons"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "<svg",
            "<math",
            "<style",
            "onload",
            "<img",
        ] {
            assert!(!reasons.contains(bad), "{bad} in {reasons}");
        }
        let (got, _) = call(
            &s.server,
            &s.b.1,
            Method::POST,
            &url,
            Some(json!({ "reasons": "<p>Also no.</p>" })),
        )
        .await?;
        assert_eq!(got, 201);

        // Company B never finds A's objection.
        let (got, _) = call(
            &s.server,
            &s.b.1,
            Method::GET,
            &format!("/api/v1/objections/{a_objection}"),
            None,
        )
        .await?;
        assert_eq!(got, 404);
        for path in [
            "/api/v1/objections".to_owned(),
            format!("/api/v1/objections?notice_id={id}"),
        ] {
            let (got, v) = call(&s.server, &s.b.1, Method::GET, &path, None).await?;
            assert_eq!(got, 200);
            let items = v["items"].as_array().context("items")?;
            assert_eq!(items.len(), 1, "{path}: {v}");
            assert_ne!(items[0]["id"], a_objection.as_str());
        }
        let (got, _) = call(
            &s.server,
            &s.b.1,
            Method::PATCH,
            &format!("/api/v1/objections/{a_objection}"),
            Some(json!({ "reasons": "<p>mine now</p>" })),
        )
        .await?;
        assert_eq!(got, 404);
        // The notice as clients see it counts no objections.
        let (_, n) = call(
            &s.server,
            &s.b.1,
            Method::GET,
            &format!("/api/v1/subprocessor-notices/{id}"),
            None,
        )
        .await?;
        assert!(!n.to_string().contains("objection"), "{n}");
        // Staff reads are recorded.
        let before = count(
            &s.server,
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'subprocessor.objection.%'",
        )
        .await?;
        let (_, all) = call(&s.server, &s.po, Method::GET, "/api/v1/objections", None).await?;
        assert_eq!(all["items"].as_array().map(Vec::len), Some(2));
        assert!(
            count(
                &s.server,
                "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'subprocessor.objection.%'"
            )
            .await?
                > before
        );

        // Upheld for A by excluding it; B's rejected.
        let (got, v) = call(&s.server, &s.po, Method::POST, &format!("/api/v1/objections/{a_objection}/decision"),
            Some(json!({ "decision": "upheld", "outcome": "exclude", "note": "Your data stays with the current archive." }))).await?;
        assert_eq!(got, 200, "{v}");
        let (_, bl) = call(
            &s.server,
            &s.b.1,
            Method::GET,
            &format!("/api/v1/objections?notice_id={id}"),
            None,
        )
        .await?;
        let b_objection = bl["items"][0]["id"].as_str().context("b")?.to_owned();
        let (got, _) = call(
            &s.server,
            &s.po,
            Method::POST,
            &format!("/api/v1/objections/{b_objection}/decision"),
            Some(json!({ "decision": "rejected", "note": "Needed for everyone." })),
        )
        .await?;
        assert_eq!(got, 200);

        // The date comes and the job applies it.
        let after = closes + time::Duration::hours(1);
        set_clock(&s.clock, after)?;
        let mut applied = false;
        for _ in 0..40 {
            let (_, n) = call(
                &s.server,
                &s.po,
                Method::GET,
                &format!("/api/v1/subprocessor-notices/{id}"),
                None,
            )
            .await?;
            if n["state"] == "applied" {
                applied = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        assert!(applied);
        let day = |t: OffsetDateTime| {
            format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
        };
        let names = |v: &Value| -> Vec<(String, bool)> {
            v["items"]
                .as_array()
                .map(|i| {
                    i.iter()
                        .map(|e| {
                            (
                                e["legal_name"].as_str().unwrap_or_default().to_owned(),
                                e["excluded"] == true,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let before_day = day(closes - time::Duration::days(2));
        let after_day = day(after + time::Duration::days(1));
        // The clock is the register's: a day after `after` is not yet here, so ask for `after`'s
        // own day, whose end is after the change.
        let after_day_now = day(after);
        for (tok, excluded) in [(&s.a.1, true), (&s.b.1, false)] {
            let (got, v) = call(
                &s.server,
                tok,
                Method::GET,
                &format!("/api/v1/subprocessors?at={before_day}"),
                None,
            )
            .await?;
            assert_eq!(got, 200, "{v}");
            assert!(
                !names(&v).iter().any(|(n, _)| n == "Archief Diensten NV"),
                "before: {v}"
            );
            let (got, v) = call(
                &s.server,
                tok,
                Method::GET,
                &format!("/api/v1/subprocessors?at={after_day_now}"),
                None,
            )
            .await?;
            assert_eq!(got, 200, "{v}");
            assert!(
                names(&v).contains(&("Archief Diensten NV".to_owned(), excluded)),
                "after: {v}"
            );
        }
        let (got, v) = call(
            &s.server,
            &s.a.1,
            Method::GET,
            &format!("/api/v1/subprocessors?at={after_day}"),
            None,
        )
        .await?;
        assert_eq!(got, 422, "a date to come: {v}");
        // The list validates against the schema the OpenAPI document publishes for it.
        let schema = list_schema(&s.server).await?;
        for path in [
            "/api/v1/subprocessors".to_owned(),
            format!("/api/v1/subprocessors?at={after_day_now}"),
        ] {
            let (_, v) = call(&s.server, &s.a.1, Method::GET, &path, None).await?;
            let errors: Vec<String> = schema
                .iter_errors(&v)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{path}: {errors:?}");
            assert!(v["items"].as_array().is_some_and(|i| !i.is_empty()));
        }
        let (_, now) = call(
            &s.server,
            &s.a.1,
            Method::GET,
            "/api/v1/subprocessors",
            None,
        )
        .await?;
        let broken =
            json!({ "as_of": "2026-01-01T00:00:00Z", "items": [now["items"][0]], "extra": 1 });
        assert!(
            !schema.is_valid(&broken),
            "the schema refuses what it does not describe"
        );
        // The decisions were mailed to each company's primary contact, and no mail carries the
        // reasons' markup.
        let decided = sql_rows(
            &s.server,
            "SELECT recipient FROM outbox WHERE template = 'objection-decided' ORDER BY recipient",
        )
        .await?;
        let recipients: Vec<&str> = decided.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(recipients, ["ca@a.example", "cb@b.example"]);
        let payloads = sql_rows(&s.server, "SELECT payload FROM outbox").await?;
        assert!(
            payloads
                .iter()
                .all(|p| !p[0].contains("<script") && !p[0].contains("onerror"))
        );
        for bad in ["2026-3-1", "yesterday", "2026-02-30"] {
            let (got, _) = call(
                &s.server,
                &s.a.1,
                Method::GET,
                &format!("/api/v1/subprocessors?at={bad}"),
                None,
            )
            .await?;
            assert_eq!(got, 422, "{bad}");
        }
        // The exclusion is in A's history of the entry, not in B's.
        let entry = notice["subprocessor_id"].as_str().context("entry")?;
        let (_, ha) = call(
            &s.server,
            &s.a.1,
            Method::GET,
            &format!("/api/v1/subprocessors/{entry}"),
            None,
        )
        .await?;
        let (_, hb) = call(
            &s.server,
            &s.b.1,
            Method::GET,
            &format!("/api/v1/subprocessors/{entry}"),
            None,
        )
        .await?;
        let kinds = |v: &Value| -> Vec<String> {
            v["history"]
                .as_array()
                .map(|h| {
                    h.iter()
                        .map(|c| c["kind"].as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(kinds(&ha), ["announced", "excluded", "activated"]);
        assert_eq!(kinds(&hb), ["announced", "activated"]);
        s.server.stop().await
    }
);

extranet_tests::databases!(
    /// Bad notices are refused with the field named and nothing written: a date inside the
    /// notice period, a location outside the EEA, unknown countries and categories, a kind's
    /// missing parts; drafts are the coordinator's only; a withdrawn notice is not edited.
    async fn bad_notices_are_refused_and_write_nothing(b: Backends) {
        let s = setup(b, &[]).await?;
        let url = "/api/v1/subprocessor-notices";
        let ok = |name: &str| json!({ "kind": "add", "entry": entry(name, &["BE"]), "summary": "Why", "effective_date": in_days(35) });
        let mut cases = vec![];
        let mut early = ok("Early");
        early["effective_date"] = json!(in_days(10));
        cases.push((early, "effective_date"));
        cases.push((json!({ "kind": "add", "entry": entry("US", &["US"]), "summary": "Why", "effective_date": in_days(35) }), "locations"));
        cases.push((json!({ "kind": "add", "entry": entry("XX", &["XX"]), "summary": "Why", "effective_date": in_days(35) }), "locations"));
        let mut cat = ok("Cat");
        cat["entry"]["data_categories"] = json!(["shoe_size"]);
        cases.push((cat, "data_categories"));
        let mut web = ok("Web");
        web["entry"]["website"] = json!("javascript:alert(1)");
        cases.push((web, "website"));
        cases.push((
            json!({ "kind": "remove", "summary": "Why", "effective_date": in_days(35) }),
            "subprocessor_id",
        ));
        cases.push((
            json!({ "kind": "add", "summary": "Why", "effective_date": in_days(35) }),
            "entry",
        ));
        let mut blank = ok("Blank");
        blank["summary"] = json!("  ");
        cases.push((blank, "summary"));
        let mut date = ok("Date");
        date["effective_date"] = json!("31/12/2027");
        cases.push((date, "effective_date"));
        for (body, field) in cases {
            let (got, v) = call(&s.server, &s.po, Method::POST, url, Some(body.clone())).await?;
            assert_eq!(got, 422, "{body}: {v}");
            assert!(v.to_string().contains(field), "{field} not named: {v}");
        }
        assert_eq!(
            count(&s.server, "SELECT COUNT(*) FROM subprocessor_notice").await?,
            0
        );
        // Only the coordinator drafts; clients do not see drafts.
        let (got, _) = call(&s.server, &s.a.1, Method::POST, url, Some(ok("Client"))).await?;
        assert_eq!(got, 403);
        let (got, draft) = call(&s.server, &s.po, Method::POST, url, Some(ok("Draft NV"))).await?;
        assert_eq!(got, 201);
        let id = draft["id"].as_str().context("id")?;
        let (got, _) = call(&s.server, &s.a.1, Method::GET, &format!("{url}/{id}"), None).await?;
        assert_eq!(got, 404);
        let (_, list) = call(&s.server, &s.a.1, Method::GET, url, None).await?;
        assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
        // Withdrawn: not edited, not published, not objected to.
        let (got, _) = call(
            &s.server,
            &s.po,
            Method::POST,
            &format!("{url}/{id}/withdraw"),
            Some(json!({ "reason": "Not needed" })),
        )
        .await?;
        assert_eq!(got, 200);
        let (got, _) = call(
            &s.server,
            &s.po,
            Method::PATCH,
            &format!("{url}/{id}"),
            Some(ok("Again")),
        )
        .await?;
        assert_eq!(got, 409);
        let (got, _) = call(
            &s.server,
            &s.po,
            Method::POST,
            &format!("{url}/{id}/publish"),
            None,
        )
        .await?;
        assert_eq!(got, 409);
        s.server.stop().await
    }
);

/// Where the installation allows locations outside the EEA, each needs its transfer mechanism,
/// which the list then shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_the_eea_only_with_a_transfer_mechanism() -> anyhow::Result<()> {
    let b = Backends::new(Db::Sqlite, extranet_tests::Store::Local);
    let s = setup(b, &[("EXTRANET_SUBPROCESSORS__ALLOW_OUTSIDE_EEA", "true")]).await?;
    let url = "/api/v1/subprocessor-notices";
    let (got, v) = call(&s.server, &s.po, Method::POST, url,
        Some(json!({ "kind": "add", "entry": entry("Cloud Inc", &["US"]), "summary": "Why", "effective_date": in_days(35) }))).await?;
    assert_eq!(got, 422, "{v}");
    let mut e = entry("Cloud Inc", &["BE"]);
    e["locations"] = json!([{ "country": "BE" }, { "country": "US", "mechanism": "standard_contractual_clauses" }]);
    let (got, v) = call(
        &s.server,
        &s.po,
        Method::POST,
        url,
        Some(json!({ "kind": "add", "entry": e, "summary": "Why", "effective_date": in_days(35) })),
    )
    .await?;
    assert_eq!(got, 201, "{v}");
    assert_eq!(v["transfers"], json!(["US: standard_contractual_clauses"]));
    s.server.stop().await
}
