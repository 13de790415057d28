//! Backups and restores through the real binary, on SQLite and PostgreSQL × a backup directory
//! (local objects) and a bucket (S3 objects): a backup taken while uploads are in flight,
//! restored into a fresh installation, holds exactly what existed at the backup, byte for byte;
//! the audit log verifies; sessions from before do not come back; an erasure made after the
//! backup is carried out again. And the scheduled backup keeps `backup.keep` copies, and
//! `backup verify` finds a damaged one.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use extranet_tests::backends::PgDatabase;
use extranet_tests::server::{TEST_KEK_FILE, run_command};
use extranet_tests::{ServerBuilder, Store};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::access::{api, login, upload};
use crate::documents::{big_pdf, count};
use crate::erasure::dossier;
use crate::rights::{step, unique};

/// Where backups go for these backends: a directory beside local objects, a prefix of the test
/// bucket kept for things other than documents beside S3 ones.
fn backup_env(store: Store, dir: &Path, prefix: &str) -> Vec<(String, String)> {
    match store {
        Store::Local => vec![("EXTRANET_BACKUP__DIR".into(), dir.display().to_string())],
        Store::S3 => {
            let env = extranet_tests::TestEnv::get();
            [
                ("ENDPOINT", env.s3_endpoint),
                ("BUCKET", env.s3_audit_bucket),
                ("ACCESS_KEY_ID", env.s3_access_key),
                ("SECRET_ACCESS_KEY", env.s3_secret_key),
                ("ALLOW_HTTP", "true".to_owned()),
                ("PREFIX", prefix.to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (format!("EXTRANET_BACKUP__S3__{k}"), v))
            .collect()
        }
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Uploads a document to `dossier`; returns (id, sha256).
async fn document(
    server: &extranet_tests::Server,
    token: &str,
    dossier: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<(String, String)> {
    let (status, body) = upload(
        server,
        token,
        &format!("/api/v1/dossiers/{dossier}/documents"),
        "inspection_report",
        "verslag.pdf",
        bytes,
    )
    .await?;
    anyhow::ensure!(status == 201, "upload: {status} {body}");
    let v: Value = serde_json::from_str(&body)?;
    Ok((
        v["id"].as_str().context("id")?.to_owned(),
        v["sha256"].as_str().context("sha256")?.to_owned(),
    ))
}

/// A backup's manifest, read from its target.
async fn read_manifest(
    store: Store,
    dir: &Path,
    prefix: &str,
    name: &str,
) -> anyhow::Result<Value> {
    let text = match store {
        Store::Local => std::fs::read_to_string(dir.join(format!("backups/{name}/manifest.json")))?,
        Store::S3 => {
            use object_store::ObjectStoreExt;
            let s3 = extranet_tests::TestEnv::get().audit_bucket()?;
            let path =
                object_store::path::Path::from(format!("{prefix}/backups/{name}/manifest.json"));
            String::from_utf8(s3.get(&path).await?.bytes().await?.to_vec())?
        }
    };
    Ok(serde_json::from_str(&text)?)
}

/// Whether a directory holds a file anywhere below it (deleting objects from a local store
/// leaves empty directories behind).
fn holds_a_file(dir: &Path) -> anyhow::Result<bool> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() || (path.is_dir() && holds_a_file(&path)?) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The complete backups `backup list` shows, oldest first.
async fn complete(server: &extranet_tests::Server) -> anyhow::Result<Vec<String>> {
    let (status, out, err) = server.command(&["backup", "list"], "").await?;
    anyhow::ensure!(status.success(), "{out}{err}");
    Ok(out
        .lines()
        .filter(|l| l.ends_with("\tcomplete"))
        .map(|l| l.split('\t').next().unwrap_or_default().to_owned())
        .collect())
}

extranet_tests::matrix!(
    /// A backup taken while uploads are in flight, restored into a fresh installation: every
    /// document version that existed at the backup comes back with the same SHA-256 and bytes,
    /// nothing made after it does, `audit verify` passes, a token from before is refused, and a
    /// person erased (through their rights request) after the backup stays erased. A second
    /// restore into the now non-empty installation is refused.
    async fn a_backup_under_load_restores_into_a_fresh_installation(b: Backends) {
        let backups = tempfile::tempdir()?;
        let prefix = format!("t-{}", uuid::Uuid::new_v4().simple());
        let target = backup_env(b.store, backups.path(), &prefix);
        let mut builder = ServerBuilder::new(b);
        for (k, v) in &target {
            builder = builder.env(k, v.clone());
        }
        let first = builder.start().await?;
        let org = first.create_client_org("Backup Beton NV").await?;
        let (staff, contact, po) = (unique("staff"), unique("contact"), unique("po"));
        first.create_user(&staff, "staff").await?;
        first.create_user_in(&contact, "client_user", &org).await?;
        first.create_user(&po, "privacy_officer").await?;
        let t_staff = login(&first, &staff).await?;
        let t_contact = login(&first, &contact).await?;
        let t_po = login(&first, &po).await?;
        let d = dossier(&first, &t_staff, &org).await?;
        let mut before = Vec::new();
        for seed in 0..3u8 {
            before.push(document(&first, &t_staff, &d, big_pdf(300_000, seed)).await?);
        }

        // Uploads keep arriving while the backup runs.
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let load = {
            let (server, token, d) = (&first, t_staff.clone(), d.clone());
            async move {
                let mut n = 0u8;
                while !*stop_rx.borrow_and_update() {
                    document(server, &token, &d, big_pdf(2_000_000, 100 + n)).await?;
                    n = n.wrapping_add(1);
                }
                Ok::<u8, anyhow::Error>(n)
            }
        };
        let backup = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let out = first.command(&["backup"], "").await;
            let _ = stop_tx.send(true);
            out
        };
        let (loaded, made) = tokio::join!(load, backup);
        let uploaded_during = loaded?;
        let (status, out, err) = made?;
        assert!(status.success(), "{out}{err}");
        assert!(uploaded_during > 0, "no upload ran during the backup");
        let name = out
            .lines()
            .last()
            .context("the backup's name")?
            .trim()
            .to_owned();
        assert!(err.contains("checked against their SHA-256"), "{err}");
        let (status, out, err) = first.command(&["backup", "verify", &name], "").await?;
        assert!(status.success(), "{out}{err}");
        let (status, out, _) = first.command(&["backup", "list"], "").await?;
        assert!(
            status.success() && out.contains(&format!("{name}\tcomplete")),
            "{out}"
        );
        // What the database held at the backup's instant, as its manifest lists it.
        let manifest = read_manifest(b.store, backups.path(), &prefix, &name).await?;
        let versions_at_backup: Vec<(String, String)> = manifest["objects"]
            .as_array()
            .context("objects")?
            .iter()
            .map(|o| {
                (
                    o["key"].as_str().unwrap_or_default().to_owned(),
                    o["sha256"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        for (id, sha) in &before {
            assert!(
                versions_at_backup.iter().any(|(_, s)| s == sha),
                "document {id}, uploaded before the backup, is in it"
            );
        }

        // After the backup: a document, a person, and an erasure through a rights request.
        let (late_doc, _) = document(&first, &t_staff, &d, big_pdf(10_000, 250)).await?;
        let late_person = unique("late");
        first
            .create_user_in(&late_person, "client_user", &org)
            .await?;
        let (s, body) = api(
            &first,
            &t_contact,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["erasure"] })),
        )
        .await?;
        assert_eq!(s, 201, "{body}");
        let request = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        let (s, a) = step(
            &first,
            &t_po,
            &request,
            json!({ "step": "carry_out", "right": "erasure" }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        assert!(
            login(&first, &contact).await.is_err(),
            "erased: cannot sign in"
        );

        // A fresh installation: its own data directory, database and object prefix; the same
        // key-encryption key (kept apart from backups, as the README says).
        let fresh = tempfile::tempdir()?;
        std::fs::copy(
            first.data_dir.join(TEST_KEK_FILE),
            fresh.path().join(TEST_KEK_FILE),
        )?;
        let first_pg = first.pg_url().map(str::to_owned);
        first.stop().await?;
        let pg = match b.db {
            extranet_tests::Db::Postgres => Some(PgDatabase::create().await?),
            extranet_tests::Db::Sqlite => None,
        };
        let mut env: Vec<(String, String)> = target.clone();
        env.push((
            "EXTRANET_DATA_DIR".into(),
            fresh.path().display().to_string(),
        ));
        env.push((
            "EXTRANET_KEYS__ENCRYPTION_KEY_FILE".into(),
            fresh.path().join(TEST_KEK_FILE).display().to_string(),
        ));
        if let Some(pg) = &pg {
            assert_ne!(Some(pg.url.as_str()), first_pg.as_deref());
            env.push(("EXTRANET_DATABASE__URL".into(), pg.url.clone()));
        }
        if b.store == Store::S3 {
            let e = extranet_tests::TestEnv::get();
            for (k, v) in [
                ("KIND", "s3".to_owned()),
                ("S3__ENDPOINT", e.s3_endpoint),
                ("S3__BUCKET", e.s3_bucket),
                ("S3__REGION", "us-east-1".to_owned()),
                ("S3__ACCESS_KEY_ID", e.s3_access_key),
                ("S3__SECRET_ACCESS_KEY", e.s3_secret_key),
                ("S3__ALLOW_HTTP", "true".to_owned()),
                ("S3__PREFIX", format!("t-{}", uuid::Uuid::new_v4().simple())),
            ] {
                env.push((format!("EXTRANET_STORAGE__{k}"), v));
            }
        }
        let env_ref: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, out, err) = run_command(&["restore", &name], &env_ref).await?;
        assert!(status.success(), "{out}{err}");
        assert!(out.contains(&format!("restored backup {name}")), "{out}");
        assert!(
            out.contains("1 erasures made after the backup carried out again"),
            "{out}"
        );
        // Not twice: the installation is no longer empty.
        let (status, out, err) = run_command(&["restore", &name], &env_ref).await?;
        assert!(!status.success(), "{out}");
        assert!(err.contains("restore needs an empty installation"), "{err}");

        let mut builder = ServerBuilder::new(b).data_dir(fresh.path());
        for (k, v) in &env {
            if k != "EXTRANET_DATA_DIR" {
                builder = builder.env(k, v.clone());
            }
        }
        let second = builder.start().await?;
        let (status, out, err) = second.command(&["audit", "verify"], "").await?;
        assert!(
            status.success(),
            "audit verify after the restore: {out}{err}"
        );

        // A token from before the backup is refused; signing in again works.
        let (s, _) = api(&second, &t_staff, Method::GET, "/api/v1/me", None).await?;
        assert_eq!(s, 401, "a token from before the restore");
        let t_staff = login(&second, &staff).await?;

        // Exactly the versions of the backup, each with its bytes.
        let mut restored: Vec<(String, String)> = crate::auth::sql_rows(
            &second,
            "SELECT object_key, sha256 FROM document_version ORDER BY object_key",
        )
        .await?
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
        restored.sort();
        let mut expected = versions_at_backup.clone();
        expected.sort();
        assert_eq!(restored, expected, "exactly the versions of the backup");
        for (what, table) in [
            ("organisations", "organisation"),
            ("dossiers", "dossier"),
            ("documents", "document"),
            ("document_versions", "document_version"),
        ] {
            let sql = format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}");
            assert_eq!(
                Some(count(&second, &sql).await?),
                manifest["counts"][what].as_i64(),
                "{what} as at the backup"
            );
        }
        let (status, body) = api(
            &second,
            &t_staff,
            Method::GET,
            &format!("/api/v1/dossiers/{d}/documents"),
            None,
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let list: Value = serde_json::from_str(&body)?;
        let items = list["items"].as_array().context("items")?;
        assert_eq!(items.len(), restored.len(), "one version each: {body}");
        let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
        assert!(
            !ids.contains(&late_doc.as_str()),
            "the late document is not back"
        );
        for (id, _) in &before {
            assert!(ids.contains(&id.as_str()), "document {id} is back");
        }
        for id in ids {
            let res = second
                .client()?
                .get(second.url(&format!("/api/v1/documents/{id}/content")))
                .bearer_auth(&t_staff)
                .send()
                .await?;
            assert_eq!(res.status(), 200, "document {id}");
            let etag = res.headers()["etag"].to_str()?.trim_matches('"').to_owned();
            let got = res.bytes().await?;
            assert_eq!(hex_sha256(&got), etag, "document {id}: its bytes");
            assert!(restored.iter().any(|(_, s)| *s == etag));
        }
        // Nobody made after the backup; the erased contact stays erased.
        assert!(login(&second, &late_person).await.is_err());
        assert!(
            login(&second, &contact).await.is_err(),
            "erased after the backup"
        );
        let (s, _) = api(&second, &t_contact, Method::GET, "/api/v1/me", None).await?;
        assert_eq!(s, 401);
        let sql = format!("SELECT CAST(COUNT(*) AS TEXT) FROM person WHERE email = '{contact}'");
        assert_eq!(
            count(&second, &sql).await?,
            0,
            "the contact's address is gone"
        );
        second.stop().await?;
        if let Some(pg) = pg {
            pg.drop_now().await;
        }
        Ok(())
    }
);

extranet_tests::databases!(
    /// `backup.every_secs`: one instance makes a backup each period and keeps `backup.keep`;
    /// `backup verify` re-reads one whole and names an object that was damaged since.
    async fn scheduled_backups_keep_n_and_verify_finds_damage(b: Backends) {
        let backups = tempfile::tempdir()?;
        let server = ServerBuilder::new(b)
            .env("EXTRANET_BACKUP__DIR", backups.path().display().to_string())
            .env("EXTRANET_BACKUP__EVERY_SECS", "1")
            .env("EXTRANET_BACKUP__KEEP", "2")
            .start()
            .await?;
        let org = server.create_client_org("Schema Beton NV").await?;
        let staff = unique("staff");
        server.create_user(&staff, "staff").await?;
        let token = login(&server, &staff).await?;
        let d = dossier(&server, &token, &org).await?;
        let (_, sha) = document(&server, &token, &d, big_pdf(50_000, 7)).await?;
        // Several periods go by: never more than two kept, and the document is in the newest.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut seen = std::collections::BTreeSet::new();
        loop {
            let now = complete(&server).await?;
            assert!(now.len() <= 2, "{now:?}");
            seen.extend(now.iter().cloned());
            let has_doc = match now.last() {
                Some(n) => {
                    let m = std::fs::read_to_string(
                        backups.path().join(format!("backups/{n}/manifest.json")),
                    )?;
                    m.contains(&sha)
                }
                None => false,
            };
            if seen.len() >= 4 && has_doc {
                break;
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "scheduled backups: saw {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let one_per_period =
            count(&server, "SELECT CAST(COUNT(*) AS TEXT) FROM backup_slot").await?;
        assert!(one_per_period >= 4, "{one_per_period}");
        server.stop().await?;
        let mut kept = Vec::new();
        for dir in std::fs::read_dir(backups.path().join("backups"))? {
            let dir = dir?.path();
            if holds_a_file(&dir)? {
                kept.push(dir);
            }
        }
        assert!(
            kept.len() <= 3,
            "at most two complete and one cut short by the stop: {kept:?}"
        );
        // Damage one object of the newest backup: verify names it.
        let scratch = tempfile::tempdir()?;
        let env = [
            ("EXTRANET_BACKUP__DIR", backups.path().display().to_string()),
            ("EXTRANET_DATA_DIR", scratch.path().display().to_string()),
        ];
        let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, out, err) = run_command(&["backup", "verify"], &env_ref).await?;
        assert!(status.success(), "{out}{err}");
        let name = out
            .split_whitespace()
            .nth(1)
            .context("the backup's name")?
            .to_owned();
        let objects = backups.path().join(format!("backups/{name}/documents"));
        let victim = std::fs::read_dir(&objects)?
            .next()
            .context("an object in the backup")??
            .path();
        let mut bytes = std::fs::read(&victim)?;
        bytes[100] ^= 0xff;
        std::fs::write(&victim, bytes)?;
        let (status, out, err) = run_command(&["backup", "verify", &name], &env_ref).await?;
        assert!(!status.success(), "{out}");
        let file = victim
            .file_name()
            .context("name")?
            .to_string_lossy()
            .to_string();
        assert!(err.contains(&file) && err.contains("SHA-256"), "{err}");
        Ok(())
    }
);
