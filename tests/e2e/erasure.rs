//! Erasure of a person (`extranet erase`) through the real binary, on SQLite and PostgreSQL ×
//! local and S3-compatible storage: proved by a scan of every table of the register's schema
//! map and every object in the store, which finds the person's identifiers only where the
//! outcome says they are kept (and in every such place); held data kept with the hold as its
//! ground; an erasure killed with SIGKILL half-way finished by a re-run, with no object
//! without its row nor row without its object; the audit log still verifies.

use std::collections::BTreeSet;
use std::time::Duration;

use anyhow::Context;
use extranet_tests::{Db, Server, ServerBuilder, Store, matrix};
use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{api, login, pdf_bytes, upload};
use crate::auth::sql_rows;

const EMAIL: &str = "quirina@zyx.example";
/// What names the person: her e-mail address, names, phone numbers and licence plate.
const NEEDLES: &[&str] = &[
    "quirina",
    "zyxwerk",
    "470 11 22 33",
    "499 44 55 66",
    "1-qzx-987",
];

fn id_sql(server: &Server, id: &str) -> String {
    match server.backends.db {
        Db::Sqlite => format!("X'{}'", id.replace('-', "")),
        Db::Postgres => format!("'{id}'"),
    }
}

async fn count(server: &Server, sql: &str) -> anyhow::Result<usize> {
    let rows = sql_rows(server, &format!("SELECT CAST(({sql}) AS TEXT)")).await?;
    rows.first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .context("count")
}

fn s3(server: &Server) -> anyhow::Result<(object_store::aws::AmazonS3, String)> {
    let env = extranet_tests::TestEnv::get();
    let prefix = server
        .env_value("EXTRANET_STORAGE__S3__PREFIX")
        .context("s3 prefix")?
        .to_owned();
    let s3 = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(env.s3_endpoint)
        .with_bucket_name(env.s3_bucket)
        .with_region("us-east-1")
        .with_access_key_id(env.s3_access_key)
        .with_secret_access_key(env.s3_secret_key)
        .with_allow_http(true)
        .build()?;
    Ok((s3, prefix))
}

/// Every object in the store: (key, bytes).
async fn all_objects(server: &Server) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    match server.backends.store {
        Store::Local => {
            let root = server.data_dir.join("objects");
            let mut dirs = vec![root.clone()];
            while let Some(dir) = dirs.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for e in entries {
                    let path = e?.path();
                    if path.is_dir() {
                        dirs.push(path);
                    } else {
                        let key = path.strip_prefix(&root)?.to_string_lossy().into_owned();
                        out.push((key, std::fs::read(&path)?));
                    }
                }
            }
        }
        Store::S3 => {
            let (s3, prefix) = s3(server)?;
            let path = object_store::path::Path::from(prefix.clone());
            let mut listed = s3.list(Some(&path));
            while let Some(meta) = listed.next().await {
                let loc = meta?.location;
                let bytes = s3.get(&loc).await?.bytes().await?;
                let key = loc.to_string();
                out.push((
                    key.trim_start_matches(&format!("{prefix}/")).to_owned(),
                    bytes.to_vec(),
                ));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes an object straight into the store (documents made without the API).
async fn put_object(server: &Server, key: &str, bytes: Vec<u8>) -> anyhow::Result<()> {
    match server.backends.store {
        Store::Local => {
            let path = server.data_dir.join("objects").join(key);
            std::fs::create_dir_all(path.parent().context("parent")?)?;
            std::fs::write(path, bytes)?;
        }
        Store::S3 => {
            let (s3, prefix) = s3(server)?;
            let path = object_store::path::Path::from(format!("{prefix}/{key}"));
            s3.put(&path, bytes.into()).await?;
        }
    }
    Ok(())
}

/// Where the needles are found: (table, column) of every table and column of the schema map,
/// read as text through a connection of the test's own, and the keys of objects holding them.
async fn scan(server: &Server) -> anyhow::Result<(BTreeSet<(String, String)>, BTreeSet<String>)> {
    let map = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/register/schema.csv"
    ))?;
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    for line in map.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let mut cols = line.split(',');
        let (Some(t), Some(c)) = (cols.next(), cols.next()) else {
            continue;
        };
        match tables.iter_mut().find(|(name, _)| name == t) {
            Some((_, v)) => v.push(c.to_owned()),
            None => tables.push((t.to_owned(), vec![c.to_owned()])),
        }
    }
    assert!(tables.len() > 30, "the whole schema map: {}", tables.len());
    let mut hits = BTreeSet::new();
    for (table, cols) in &tables {
        let select: Vec<String> = cols.iter().map(|c| format!("CAST({c} AS TEXT)")).collect();
        let rows = sql_rows(
            server,
            &format!("SELECT {} FROM {table}", select.join(", ")),
        )
        .await
        .with_context(|| format!("scan {table}"))?;
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                let v = v.to_lowercase();
                if NEEDLES.iter().any(|n| v.contains(n)) {
                    hits.insert((table.clone(), cols[i].clone()));
                }
            }
        }
    }
    let mut objects = BTreeSet::new();
    for (key, bytes) in all_objects(server).await? {
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        if NEEDLES.iter().any(|n| text.contains(n)) {
            objects.insert(key);
        }
    }
    Ok((hits, objects))
}

/// The scan finds the needles exactly where the outcome says something identifying is kept.
async fn assert_scan_matches(server: &Server, outcome: &Value) -> anyhow::Result<()> {
    let (hits, objects) = scan(server).await?;
    let kept = outcome["kept"].as_array().context("kept")?;
    let kept_at = |table: &str, col: &str| {
        kept.iter().any(|k| {
            k["table"] == table
                && k["columns"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|x| x == col))
        })
    };
    let kept_objects: BTreeSet<String> = kept
        .iter()
        .flat_map(|k| k["objects"].as_array().cloned().unwrap_or_default())
        .filter_map(|o| o.as_str().map(str::to_owned))
        .collect();
    for (table, col) in &hits {
        assert!(
            kept_at(table, col),
            "{table}.{col} names the person but the outcome does not keep it: {outcome:#}"
        );
    }
    for o in &objects {
        assert!(
            kept_objects.contains(o),
            "object {o} names the person but is not kept: {outcome:#}"
        );
    }
    // And no more: every identifying place the outcome names is found.
    for k in kept.iter().filter(|k| k["identifying"] == true) {
        let table = k["table"].as_str().context("table")?;
        let found = hits.iter().any(|(t, c)| {
            t == table
                && k["columns"]
                    .as_array()
                    .is_some_and(|cols| cols.iter().any(|x| x == c.as_str()))
        });
        assert!(found, "kept {k} names the person nowhere");
        for o in k["objects"].as_array().cloned().unwrap_or_default() {
            let o = o.as_str().context("object")?;
            assert!(objects.contains(o), "kept object {o} holds nothing of hers");
        }
    }
    Ok(())
}

async fn erase(server: &Server, args: &[&str]) -> anyhow::Result<Value> {
    let mut all = vec!["erase", "--email", EMAIL, "--format", "json"];
    all.extend_from_slice(args);
    let (status, out, err) = server.command(&all, "").await?;
    anyhow::ensure!(status.success(), "erase: {out} {err}");
    Ok(serde_json::from_str(&out)?)
}

/// A dossier of `org`; returns its id.
pub(crate) async fn dossier(server: &Server, staff: &str, org: &str) -> anyhow::Result<String> {
    let (status, body) = api(
        server,
        staff,
        Method::POST,
        "/api/v1/dossiers",
        Some(json!({ "organisation_id": org, "scheme": "BENOR", "status": "active" })),
    )
    .await?;
    anyhow::ensure!(status == 201, "dossier: {status} {body}");
    let v: Value = serde_json::from_str(&body)?;
    Ok(v["id"].as_str().context("dossier id")?.to_owned())
}

struct Footprint {
    person: String,
    organisation: String,
    /// Her first access token, issued before the erasure.
    token: String,
    /// The dossier whose documents go, and the one under legal hold.
    dossier: String,
    kept_dossier: String,
}

/// Quirina Zyxwerk, primary contact of Zyx Beton NV, with a profile, a vehicle, two sessions,
/// four documents (one in a dossier under legal hold), a newsletter consent, mails to her and
/// about her, and audit entries of her own.
async fn footprint(server: &Server) -> anyhow::Result<Footprint> {
    let org = server.create_client_org("Zyx Beton NV").await?;
    server.create_user("staff@cb.example", "staff").await?;
    server.create_user_in(EMAIL, "client_admin", &org).await?;
    server
        .create_user_in("colleague@zyx.example", "client_user", &org)
        .await?;
    let staff = login(server, "staff@cb.example").await?;
    let (d1, d2) = (
        dossier(server, &staff, &org).await?,
        dossier(server, &staff, &org).await?,
    );
    let token = login(server, EMAIL).await?;
    login(server, EMAIL).await?;
    let (_, me) = api(server, &token, Method::GET, "/api/v1/me", None).await?;
    let me: Value = serde_json::from_str(&me)?;
    let person = me["id"].as_str().context("id")?.to_owned();
    let pid = id_sql(server, &person);
    sql_rows(
        server,
        &format!(
            "UPDATE person SET first_name = 'Quirina', surname = 'Zyxwerk', \
             phone = '+32 470 11 22 33', mobile = '+32 499 44 55 66', function = 'Kwaliteit' \
             WHERE id = {pid}"
        ),
    )
    .await?;
    let (uuid, ts, now) = match server.backends.db {
        Db::Sqlite => (
            "randomblob(16)",
            "'2026-01-01T00:00:00Z'",
            "CAST(strftime('%s','now') AS INTEGER)",
        ),
        Db::Postgres => (
            "gen_random_uuid()",
            "TIMESTAMPTZ '2026-01-01T00:00:00Z'",
            "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)",
        ),
    };
    for sql in [
        format!(
            "INSERT INTO vehicle (id, person_id, licence_plate, created_at) \
             VALUES ({uuid}, {pid}, '1-QZX-987', {ts})"
        ),
        format!(
            "INSERT INTO consent (id, person_id, purpose, text_version, language, text, given_at, \
             given_via) VALUES ({uuid}, {pid}, 'newsletter', 1, 'nl', 'Ik wil de nieuwsbrief', \
             {now}, 'account')"
        ),
        // A mail to her, one about her already delivered to a colleague, and one about her to
        // a colleague not yet sent (kept until delivered).
        format!(
            "INSERT INTO outbox (id, created_at, recipient, language, template, payload, \
             attempts, next_attempt_at) VALUES ({uuid}, {ts}, '{EMAIL}', 'nl', 'invitation', \
             '{{\"name\": \"Quirina Zyxwerk\"}}', 0, {ts})"
        ),
        format!(
            "INSERT INTO outbox (id, created_at, recipient, language, template, payload, \
             attempts, next_attempt_at, sent_at) VALUES ({uuid}, {ts}, 'colleague@zyx.example', \
             'nl', 'invitation', '{{\"by\": \"Quirina Zyxwerk\"}}', 1, {ts}, {ts})"
        ),
        format!(
            "INSERT INTO outbox (id, created_at, recipient, language, template, payload, \
             attempts, next_attempt_at) VALUES ({uuid}, {ts}, 'colleague@zyx.example', 'nl', \
             'invitation', '{{\"by\": \"Quirina Zyxwerk\"}}', 0, {ts})"
        ),
    ] {
        sql_rows(server, &sql).await?;
    }
    for (n, d) in [(1, &d1), (2, &d1), (3, &d1), (4, &d2)] {
        let (status, body) = upload(
            server,
            &token,
            &format!("/api/v1/dossiers/{d}/documents"),
            "inspection_report",
            &format!("zyxwerk-{n}.pdf"),
            pdf_bytes(&format!("Quirina Zyxwerk {n}")),
        )
        .await?;
        anyhow::ensure!(status == 201, "upload: {status} {body}");
    }
    let (s, _) = api(
        server,
        &staff,
        Method::PUT,
        &format!("/api/v1/dossiers/{d2}/legal-hold"),
        Some(json!({ "hold": true })),
    )
    .await?;
    anyhow::ensure!(s == 204, "legal hold: {s}");
    Ok(Footprint {
        person,
        organisation: org,
        token,
        dossier: d1,
        kept_dossier: d2,
    })
}

matrix!(
    /// A rich footprint, erased: the plan changes nothing; the run deletes or anonymises
    /// everything but the document under the dossier's legal hold, the proof of consent, the
    /// undelivered mail to a colleague and the chained audit entries; a scan of every table and
    /// object finds her only where the outcome says; the audit log verifies and records the
    /// erasure with counts only. An unknown address changes nothing.
    async fn an_erasure_is_proved_by_a_scan(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let f = footprint(&server).await?;
        let (before, _) = scan(&server).await?;
        assert!(before.contains(&("person".into(), "surname".into())));
        assert!(before.contains(&("vehicle".into(), "licence_plate".into())));
        let audit = "SELECT COUNT(*) FROM audit_log";

        // Unknown: one line, non-zero, nothing changed.
        let entries = count(&server, audit).await?;
        let (status, out, err) = server
            .command(&["erase", "--email", "nobody@zyx.example"], "")
            .await?;
        assert!(!status.success());
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert!(err.contains("nobody@zyx.example"), "{err}");
        assert!(out.is_empty(), "{out}");
        assert_eq!(count(&server, audit).await?, entries);

        // The plan changes nothing; as text it names what goes and what stays, and why.
        let (status, text, err) = server
            .command(&["erase", "--email", EMAIL, "--dry-run"], "")
            .await?;
        assert!(status.success(), "{err}");
        assert!(text.contains("(dry run: nothing changed)"), "{text}");
        assert!(text.contains("  delete document: 3 row(s)"), "{text}");
        assert!(
            text.contains(&format!("ground: legal hold on dossier {}", f.kept_dossier)),
            "{text}"
        );
        assert!(
            text.contains("ground: retention rule proof-of-consent"),
            "{text}"
        );
        let plan = erase(&server, &["--dry-run"]).await?;
        assert_eq!(plan["person"], f.person.as_str());
        assert_eq!(scan(&server).await?.0, before);
        assert_eq!(count(&server, "SELECT COUNT(*) FROM document").await?, 4);
        let docs = plan["erase"]
            .as_array()
            .and_then(|e| {
                e.iter()
                    .find(|x| x["table"] == "document" && x["action"] == "delete")
            })
            .context("documents in the plan")?;
        assert_eq!(docs["rows"], 3, "{plan:#}");

        let outcome = erase(&server, &[]).await?;
        let erased = |table: &str, action: &str| {
            outcome["erased"]
                .as_array()
                .and_then(|e| {
                    e.iter()
                        .find(|x| x["table"] == table && x["action"] == action)
                })
                .cloned()
                .unwrap_or(Value::Null)
        };
        assert_eq!(erased("document", "delete")["rows"], 3, "{outcome:#}");
        assert_eq!(erased("document_version", "delete")["objects"], 3);
        assert_eq!(erased("vehicle", "delete")["rows"], 1);
        assert!(erased("outbox", "delete")["rows"].as_u64() >= Some(2));
        assert_eq!(erased("consent", "withdraw")["rows"], 1);
        assert!(erased("auth_session", "delete")["rows"].as_u64() >= Some(2));
        assert_eq!(erased("person", "anonymise")["rows"], 1);
        assert!(erased("audit_log", "erase")["rows"].as_u64() > Some(0));
        let kept = outcome["kept"].as_array().context("kept")?;
        let doc = kept
            .iter()
            .find(|k| k["table"] == "document")
            .context("the held document")?;
        assert_eq!(doc["rows"], 1);
        let version = kept
            .iter()
            .find(|k| k["table"] == "document_version")
            .context("the held document's version")?;
        assert_eq!(version["objects"].as_array().map(Vec::len), Some(1));
        assert_eq!(version["ground"], doc["ground"]);
        assert_eq!(doc["ground"]["kind"], "hold");
        assert_eq!(doc["ground"]["on"], "dossier");
        assert_eq!(doc["ground"]["subject"], f.kept_dossier.as_str());
        assert_eq!(doc["until"], "while the hold lasts");
        let consent = kept
            .iter()
            .find(|k| k["table"] == "consent")
            .context("proof of consent")?;
        assert_eq!(consent["ground"]["rule"], "proof-of-consent");
        assert!(
            consent["until"]
                .as_str()
                .is_some_and(|u| u.starts_with("20"))
        );
        assert!(kept.iter().any(|k| k["table"] == "outbox"));

        assert_scan_matches(&server, &outcome).await?;
        // Her account ended.
        let pid = id_sql(&server, &f.person);
        for table in ["auth_session", "person_role", "vehicle"] {
            assert_eq!(
                count(
                    &server,
                    &format!("SELECT COUNT(*) FROM {table} WHERE person_id = {pid}")
                )
                .await?,
                0,
                "{table}"
            );
        }
        // Her access token, issued before, is refused (its session ended), and she cannot sign in.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, _) = api(&server, &f.token, Method::GET, "/api/v1/me", None).await?;
            if status == 401 {
                break;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "token still works: {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        // Recorded with counts only; the chain verifies.
        let detail = sql_rows(
            &server,
            "SELECT detail FROM audit_log WHERE action = 'privacy.erasure'",
        )
        .await?;
        assert_eq!(detail.len(), 1);
        let d = detail[0][0].to_lowercase();
        assert!(NEEDLES.iter().all(|n| !d.contains(n)), "{d}");
        assert!(d.contains("counts"), "{d}");
        let (status, out, err) = server.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "audit verify: {out} {err}");

        // Again: her address is gone with her, so nothing is found and nothing changes.
        let entries = count(&server, audit).await?;
        let (status, _, err) = server.command(&["erase", "--email", EMAIL], "").await?;
        assert!(!status.success());
        assert!(err.contains("no person has the e-mail address"), "{err}");
        assert_eq!(count(&server, audit).await?, entries);
        assert_scan_matches(&server, &outcome).await?;
        // Last, as it records the address typed: she can no longer sign in.
        assert!(login(&server, EMAIL).await.is_err());
        server.stop().await
    }
);

/// An erasure of a person under a hold on `on` ("person" or "organisation"): her profile,
/// vehicle, documents and mails stay, each with the hold as its ground, "while the hold lasts";
/// only her account ends.
async fn held(b: extranet_tests::Backends, on: &str) -> anyhow::Result<()> {
    let server = ServerBuilder::new(b).start().await?;
    let f = footprint(&server).await?;
    let (flag, subject) = match on {
        "person" => ("--person", f.person.clone()),
        _ => ("--organisation", f.organisation.clone()),
    };
    {
        let (status, out, err) = server
            .command(
                &[
                    "hold",
                    "place",
                    flag,
                    &subject,
                    "--reason",
                    "Dispute 2026/9",
                    "--by",
                    "staff@cb.example",
                ],
                "",
            )
            .await?;
        anyhow::ensure!(status.success(), "hold: {out} {err}");
    }
    let outcome = erase(&server, &[]).await?;
    let kept = outcome["kept"].as_array().context("kept")?;
    for table in ["person", "vehicle", "document", "outbox", "consent"] {
        let k = kept
            .iter()
            .find(|k| k["table"] == table)
            .with_context(|| format!("{table} kept: {outcome:#}"))?;
        assert_eq!(k["ground"]["kind"], "hold", "{k}");
        assert_eq!(k["until"], "while the hold lasts", "{k}");
    }
    let person = kept
        .iter()
        .find(|k| k["table"] == "person")
        .context("person")?;
    assert_eq!(person["ground"]["on"], on);
    assert_eq!(person["ground"]["subject"], subject.as_str());
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM document").await?,
        4,
        "every document stays"
    );
    assert_eq!(all_objects(&server).await?.len(), 4);
    let pid = id_sql(&server, &f.person);
    assert_eq!(
        count(
            &server,
            &format!("SELECT COUNT(*) FROM auth_session WHERE person_id = {pid}")
        )
        .await?,
        0,
        "the account ends"
    );
    let erased = outcome["erased"].as_array().context("erased")?;
    assert!(
        erased.iter().all(|e| !matches!(
            e["table"].as_str(),
            Some("person" | "document" | "vehicle")
        ) || e["action"] == "deactivate"),
        "{outcome:#}"
    );
    assert_scan_matches(&server, &outcome).await?;
    let (status, out, err) = server.command(&["audit", "verify"], "").await?;
    assert!(status.success(), "audit verify: {out} {err}");
    server.stop().await
}

matrix!(
    /// A hold on the person keeps everything about her, with the hold as the ground.
    async fn a_held_person_is_kept_with_the_hold_as_ground(b: Backends) {
        held(b, "person").await
    }
);

matrix!(
    /// A hold on her company keeps hers the same way.
    async fn a_held_company_keeps_its_contact_with_the_hold_as_ground(b: Backends) {
        held(b, "organisation").await
    }
);

matrix!(
    /// 1,500 documents of hers, then `extranet erase` killed with SIGKILL half-way: no object is
    /// left without its row; a re-run finishes the same erasure (resumed), counts every
    /// document once, leaves no row without its object, and the scan passes.
    async fn an_erasure_killed_half_way_is_finished_by_a_re_run(b: Backends) {
        // Two documents per step: 750 steps, so the kill lands half-way even when this test
        // is starved of the processor for a while.
        let server = ServerBuilder::new(b)
            .env("EXTRANET_PRIVACY__ERASURE_BATCH", "2")
            .start()
            .await?;
        let f = footprint(&server).await?;
        const DOCS: usize = 1500;
        let pid = id_sql(&server, &f.person);
        let dossier = id_sql(&server, &f.dossier);
        let (ts, from, key) = match b.db {
            Db::Sqlite => (
                "'2026-01-01T00:00:00Z'",
                format!(
                    "FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
                     WHERE i < {DOCS}) SELECT i FROM n)"
                ),
                "hex(d.id)",
            ),
            Db::Postgres => (
                "TIMESTAMPTZ '2026-01-01T00:00:00Z'",
                format!("FROM generate_series(1, {DOCS}) AS i"),
                "CAST(d.id AS TEXT)",
            ),
        };
        let uuid = match b.db {
            Db::Sqlite => "randomblob(16)",
            Db::Postgres => "gen_random_uuid()",
        };
        sql_rows(
            &server,
            &format!(
                "INSERT INTO document (id, dossier_id, title, doc_type, versions, created_by, \
                 created_at, updated_at) SELECT {uuid}, {dossier}, 'Bulk', 'inspection_report', \
                 1, {pid}, {ts}, {ts} {from}"
            ),
        )
        .await?;
        sql_rows(
            &server,
            &format!(
                "INSERT INTO document_version (document_id, version, object_key, size, sha256, \
                 media_type, file_name, uploaded_by, uploaded_at) SELECT d.id, 1, \
                 'documents/bulk-' || {key}, 10, 'x', 'application/pdf', 'bulk.pdf', {pid}, {ts} \
                 FROM document d WHERE d.title = 'Bulk'"
            ),
        )
        .await?;
        let keys = sql_rows(
            &server,
            "SELECT object_key FROM document_version WHERE file_name = 'bulk.pdf'",
        )
        .await?;
        assert_eq!(keys.len(), DOCS);
        let mut puts = futures::stream::iter(keys.into_iter().map(|k| {
            let server = &server;
            async move { put_object(server, &k[0], pdf_bytes("Quirina Zyxwerk, in bulk")).await }
        }))
        .buffer_unordered(16);
        while let Some(r) = puts.next().await {
            r?;
        }
        drop(puts);
        let total = DOCS + 4;
        let docs = "SELECT COUNT(*) FROM document";
        assert_eq!(count(&server, docs).await?, total);

        let mut child = server
            .spawn_command(&["erase", "--email", EMAIL, "--format", "json"])
            .await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            if count(&server, docs).await? < total {
                break;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "the erasure made no progress"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        child.start_kill()?;
        child.wait().await?;
        let left = count(&server, docs).await?;
        assert!(
            left > 1,
            "the erasure finished before it could be killed; make it longer"
        );
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM erasure_run WHERE finished_at IS NULL"
            )
            .await?,
            1
        );
        // Never an object without its row.
        let referenced: BTreeSet<String> =
            sql_rows(&server, "SELECT object_key FROM document_version")
                .await?
                .into_iter()
                .map(|r| r[0].clone())
                .collect();
        let stored: BTreeSet<String> = all_objects(&server)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        for o in &stored {
            assert!(referenced.contains(o), "object {o} without its row");
        }

        let outcome = erase(&server, &[]).await?;
        assert_eq!(outcome["resumed"], true, "{outcome:#}");
        let erased_docs = outcome["erased"]
            .as_array()
            .and_then(|e| {
                e.iter()
                    .find(|x| x["table"] == "document" && x["action"] == "delete")
            })
            .context("documents")?;
        assert_eq!(erased_docs["rows"].as_u64(), Some((DOCS + 3) as u64));
        assert_eq!(count(&server, docs).await?, 1);
        let referenced: BTreeSet<String> =
            sql_rows(&server, "SELECT object_key FROM document_version")
                .await?
                .into_iter()
                .map(|r| r[0].clone())
                .collect();
        let stored: BTreeSet<String> = all_objects(&server)
            .await?
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(referenced, stored, "rows and objects match");
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM erasure_run WHERE finished_at IS NULL"
            )
            .await?,
            0
        );
        assert_scan_matches(&server, &outcome).await?;
        let (status, out, err) = server.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "audit verify: {out} {err}");
        server.stop().await
    }
);

matrix!(
    /// Her erasure request, carried out by the coordinator: the answer on the request lists what
    /// was kept — the dossier under legal hold, the request itself and the mail that answers it
    /// — the scan finds her exactly there, and the request closes partly on the hold's ground.
    async fn an_erasure_request_is_answered_with_what_was_kept(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let f = footprint(&server).await?;
        server
            .create_user("po@cb.example", "privacy_officer")
            .await?;
        let po = login(&server, "po@cb.example").await?;
        let (s, body) = api(
            &server,
            &f.token,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["erasure"], "details": "Wis alles over mij" })),
        )
        .await?;
        anyhow::ensure!(s == 201, "{s} {body}");
        let id = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        let (s, a) = crate::rights::step(
            &server,
            &po,
            &id,
            json!({ "step": "carry_out", "right": "erasure" }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        let d = a["events"]
            .as_array()
            .context("events")?
            .iter()
            .find(|e| e["kind"] == "carried_out")
            .map(|e| e["detail"].clone())
            .context("carried out")?;
        assert_eq!(d["result"], "partly", "{d}");
        assert_eq!(d["ground"], "legal_claims", "{d}");
        let outcome = &d["detail"];
        let kept = outcome["kept"].as_array().context("kept")?;
        for table in ["rights_request", "outbox", "document"] {
            assert!(
                kept.iter().any(|k| k["table"] == table),
                "{table} not in {outcome:#}"
            );
        }
        assert_scan_matches(&server, outcome).await?;
        assert_eq!(
            count(
                &server,
                "SELECT COUNT(*) FROM erasure_run WHERE finished_at IS NOT NULL"
            )
            .await?,
            1
        );
        let (s, a) = crate::rights::step(
            &server,
            &po,
            &id,
            json!({ "step": "close", "outcome": "partly_fulfilled",
                    "note": "Wat bewaard blijft, staat in het antwoord", "ground": "legal_claims" }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        assert_eq!(a["request"]["state"], "partly_fulfilled", "{a}");
        server.stop().await
    }
);
