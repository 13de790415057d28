//! Storage: both schemas stay equivalent, `migrate` works on both databases, unreachable
//! dependencies stop start-up cleanly, and the demo seeds once.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Context;
use extranet_tests::backends::{PgDatabase, TestEnv};
use extranet_tests::server::run_command;
use extranet_tests::{Backends, Db, ServerBuilder, Store, matrix};
use sqlx::{Connection, PgConnection, Row, SqliteConnection};

/// table → column → nullable; plus the explicitly named indexes.
#[derive(Debug, PartialEq, Eq)]
struct Schema {
    columns: BTreeMap<String, BTreeMap<String, bool>>,
    indexes: BTreeMap<String, String>,
}

async fn sqlite_schema(path: &std::path::Path) -> anyhow::Result<Schema> {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut columns = BTreeMap::new();
    for table in &tables {
        let rows = sqlx::query("SELECT name, \"notnull\", pk FROM pragma_table_info($1)")
            .bind(table)
            .fetch_all(&mut conn)
            .await?;
        let cols = rows
            .iter()
            .map(|r| {
                let not_null: i64 = r.get(1);
                let pk: i64 = r.get(2);
                (r.get::<String, _>(0), not_null == 0 && pk == 0)
            })
            .collect();
        columns.insert(table.clone(), cols);
    }
    let indexes = sqlx::query(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' \
         AND name NOT LIKE 'sqlite_autoindex_%'",
    )
    .fetch_all(&mut conn)
    .await?
    .iter()
    .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
    .collect();
    Ok(Schema { columns, indexes })
}

async fn postgres_schema(url: &str) -> anyhow::Result<Schema> {
    let mut conn = PgConnection::connect(url).await?;
    let rows = sqlx::query(
        "SELECT table_name::text, column_name::text, is_nullable = 'YES' FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx\\_%' ORDER BY 1, 2",
    )
    .fetch_all(&mut conn)
    .await?;
    let mut columns: BTreeMap<String, BTreeMap<String, bool>> = BTreeMap::new();
    for r in rows {
        columns
            .entry(r.get(0))
            .or_default()
            .insert(r.get(1), r.get(2));
    }
    let indexes = sqlx::query(
        "SELECT indexname::text, tablename::text FROM pg_indexes WHERE schemaname = 'public' \
         AND indexname NOT LIKE '%\\_pkey' AND tablename NOT LIKE '\\_sqlx\\_%'",
    )
    .fetch_all(&mut conn)
    .await?
    .iter()
    .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
    .collect();
    Ok(Schema { columns, indexes })
}

#[tokio::test]
async fn sqlite_and_postgres_schemas_are_equivalent() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db_path = dir.path().join("schema.db");
    let sqlite_url = format!("sqlite://{}", db_path.display());
    let (status, out, err) =
        run_command(&["migrate"], &[("EXTRANET_DATABASE__URL", &sqlite_url)]).await?;
    assert!(status.success(), "{err}");
    assert!(out.contains("migrations applied"), "{out}");

    let pg = PgDatabase::create().await?;
    let (status, out, err) =
        run_command(&["migrate"], &[("EXTRANET_DATABASE__URL", &pg.url)]).await?;
    assert!(status.success(), "{err}");
    assert!(
        !out.contains("extranet_test:extranet_test"),
        "password printed: {out}"
    );

    let sqlite = sqlite_schema(&db_path).await?;
    let postgres = postgres_schema(&pg.url).await?;
    pg.drop_now().await;
    assert!(!sqlite.columns.is_empty(), "no tables found in SQLite");
    assert!(!sqlite.indexes.is_empty(), "no named index found in SQLite");
    assert_eq!(sqlite, postgres);

    // Running it again is a no-op, not an error.
    let (status, _, err) =
        run_command(&["migrate"], &[("EXTRANET_DATABASE__URL", &sqlite_url)]).await?;
    assert!(status.success(), "{err}");
    Ok(())
}

matrix!(
    async fn migrations_run_at_start_unless_configured_off(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let ready = server.client()?.get(server.url("/readyz")).send().await?;
        assert_eq!(ready.status(), 200);
        let tables = match b.db {
            Db::Sqlite => {
                sqlite_schema(&server.data_dir.join("extranet.db"))
                    .await?
                    .columns
            }
            Db::Postgres => {
                postgres_schema(server.pg_url().context("pg url")?)
                    .await?
                    .columns
            }
        };
        assert!(tables.contains_key("instance_setting"), "{tables:?}");
        server.stop().await?;

        // Configured off, a database that is behind stops start-up with what to do…
        let err = ServerBuilder::new(b)
            .env("EXTRANET_MIGRATE_ON_START", "false")
            .start()
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("not applied") && err.contains("extranet migrate"),
            "{err}"
        );
        // …and an up-to-date one starts.
        let dir = tempfile::tempdir()?;
        let mut first = ServerBuilder::new(b).data_dir(dir.path()).start().await?;
        let pg = first.pg_url().map(str::to_owned);
        first.signal("TERM")?;
        first.wait_exit(Duration::from_secs(10)).await?;
        let mut again = ServerBuilder::new(b)
            .data_dir(dir.path())
            .env("EXTRANET_MIGRATE_ON_START", "false");
        if let Some(url) = &pg {
            again = again.env("EXTRANET_DATABASE__URL", url.clone());
        }
        let again = again.start().await?;
        let ready = again.client()?.get(again.url("/readyz")).send().await?;
        assert_eq!(ready.status(), 200);
        again.stop().await?;
        first.stop().await
    }
);

#[tokio::test]
async fn unreachable_database_stops_start_up_with_one_line() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().display().to_string();
    let (status, _, err) = run_command(
        &["serve"],
        &[
            ("EXTRANET_DATA_DIR", &data),
            ("EXTRANET_SERVER__LISTEN", "127.0.0.1:0"),
            ("EXTRANET_DATABASE__ACQUIRE_TIMEOUT_SECS", "2"),
            (
                "EXTRANET_KEYS__ENCRYPTION_KEY",
                &extranet_tests::keys::new_kek()?,
            ),
            (
                "EXTRANET_DATABASE__URL",
                "postgres://someone:hunter2-secret@127.0.0.1:1/nothing",
            ),
        ],
    )
    .await?;
    assert!(!status.success());
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: database"), "{err}");
    assert!(last.contains("127.0.0.1:1"), "{err}");
    assert!(!err.contains("hunter2-secret"), "password leaked: {err}");
    assert!(
        !dir.path().join("tls").exists(),
        "a certificate was generated before failing"
    );
    Ok(())
}

#[tokio::test]
async fn unreachable_or_missing_bucket_stops_start_up() -> anyhow::Result<()> {
    let env = TestEnv::get();
    for (endpoint, bucket) in [
        ("http://127.0.0.1:1".to_owned(), env.s3_bucket.clone()),
        (env.s3_endpoint.clone(), "no-such-bucket-here".to_owned()),
    ] {
        let dir = tempfile::tempdir()?;
        let data = dir.path().display().to_string();
        let (status, _, err) = run_command(
            &["serve"],
            &[
                ("EXTRANET_DATA_DIR", &data),
                ("EXTRANET_SERVER__LISTEN", "127.0.0.1:0"),
                ("EXTRANET_STORAGE__KIND", "s3"),
                (
                    "EXTRANET_KEYS__ENCRYPTION_KEY",
                    &extranet_tests::keys::new_kek()?,
                ),
                ("EXTRANET_STORAGE__S3__ENDPOINT", &endpoint),
                ("EXTRANET_STORAGE__S3__BUCKET", &bucket),
                ("EXTRANET_STORAGE__S3__ALLOW_HTTP", "true"),
                ("EXTRANET_STORAGE__S3__REQUEST_TIMEOUT_SECS", "3"),
                ("EXTRANET_STORAGE__S3__ACCESS_KEY_ID", &env.s3_access_key),
                (
                    "EXTRANET_STORAGE__S3__SECRET_ACCESS_KEY",
                    &env.s3_secret_key,
                ),
            ],
        )
        .await?;
        assert!(!status.success(), "{endpoint} {bucket}");
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("error: object store"), "{err}");
        assert!(last.contains(&bucket), "{err}");
        assert!(!err.contains(&env.s3_secret_key), "secret leaked: {err}");
        assert!(
            !dir.path().join("extranet.db").exists(),
            "database created before failing"
        );
    }
    Ok(())
}

#[tokio::test]
async fn demo_serves_https_and_seeds_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("demo");
    let demo = |listen: &str| {
        ServerBuilder::new(Backends::new(Db::Sqlite, Store::Local))
            .data_dir(&data)
            .args([
                "demo",
                "--data-dir",
                &data.display().to_string(),
                "--listen",
                listen,
            ])
    };
    let server = demo("127.0.0.1:0").start().await?;
    let out = server
        .stdout_until("Stop with Ctrl+C", Duration::from_secs(5))
        .await;
    assert!(out.contains("https://localhost:"), "{out}");
    let html = server
        .client()?
        .get(server.url("/"))
        .send()
        .await?
        .text()
        .await?;
    assert!(html.contains("CertiBel (demo)"), "{html}");
    assert!(
        server
            .stderr_contains("demo data loaded", Duration::from_secs(5))
            .await
    );
    let cert = server.dev_cert_pem()?;
    // The printed accounts sign in with the printed password.
    assert!(out.contains("staff@certibel.example"), "{out}");
    // Roles as people call them, with the company they belong to.
    assert!(
        out.contains("admin@betonbouw.example") && out.contains("primary contact — Betonbouw NV"),
        "{out}"
    );
    assert!(
        out.contains("contact person — Hoogwerkers Verhuur BV") && !out.contains("client_admin"),
        "{out}"
    );
    let password = out
        .split("with password ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .context("password line")?
        .to_owned();
    for account in [
        "admin@certibel.example",
        "inspector@certibel.example",
        "user@hoogwerkers.example",
    ] {
        let res = server
            .client()?
            .post(server.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": account, "password": password }))
            .send()
            .await?;
        assert_eq!(res.status(), 200, "{account}");
    }
    demo_data_shows(&server, &password).await?;
    server.stop().await?;

    let server = demo("127.0.0.1:0").start().await?;
    assert!(
        server
            .stderr_contains("extranet started", Duration::from_secs(5))
            .await
    );
    assert!(
        !server.stderr().contains("demo data loaded"),
        "seeded twice"
    );
    assert_eq!(
        server.dev_cert_pem()?,
        cert,
        "the development certificate is reused"
    );
    server.stop().await
}

/// A demo account's access token.
async fn demo_token(
    server: &extranet_tests::Server,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let res: serde_json::Value = server
        .client()?
        .post(server.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "email": email, "password": password }))
        .send()
        .await?
        .json()
        .await?;
    Ok(res["access_token"]
        .as_str()
        .context("access token")?
        .to_owned())
}

/// `items` of a list the account asks for.
async fn demo_list(
    server: &extranet_tests::Server,
    token: &str,
    path: &str,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let res = server
        .client()?
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await?;
    anyhow::ensure!(res.status() == 200, "{path}: {}", res.status());
    let body: serde_json::Value = res.json().await?;
    Ok(body["items"].as_array().context("items")?.clone())
}

fn masks(record: &serde_json::Value, field: &str) -> bool {
    record.get(field).is_none()
        && record["masked"]
            .as_array()
            .is_some_and(|m| m.iter().any(|f| f == field))
}

/// The demo's dossiers, assignments and personal details, as three roles see them.
async fn demo_data_shows(server: &extranet_tests::Server, password: &str) -> anyhow::Result<()> {
    let staff = demo_token(server, "staff@certibel.example", password).await?;
    let dossiers = demo_list(server, &staff, "/api/v1/dossiers").await?;
    assert_eq!(dossiers.len(), 5, "{dossiers:?}");
    let mut statuses: Vec<&str> = dossiers
        .iter()
        .filter_map(|d| d["status"].as_str())
        .collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        ["active", "active", "active", "application", "expired"]
    );
    let assignments = demo_list(server, &staff, "/api/v1/assignments").await?;
    let mut states: Vec<&str> = assignments
        .iter()
        .filter_map(|a| a["state"].as_str())
        .collect();
    states.sort_unstable();
    assert_eq!(states, ["active", "ended", "planned"], "{assignments:?}");
    let people = demo_list(server, &staff, "/api/v1/people").await?;
    let luc = people
        .iter()
        .find(|p| p["email"] == "admin@hoogwerkers.example")
        .context("Luc Maes")?;
    assert_eq!(
        luc["licence_plates"],
        serde_json::json!(["1-HWV-204", "1-HWV-205"]),
        "{luc}"
    );
    assert!(
        luc["birth_date"].is_string() && luc["phone"].is_string(),
        "{luc}"
    );

    // The inspector: the dossier of the assignment in force only (not the ended one, not the
    // planned one), and that company's contacts without their phone numbers or birth dates.
    let inspector = demo_token(server, "inspector@certibel.example", password).await?;
    let seen = demo_list(server, &inspector, "/api/v1/dossiers").await?;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["certificate_number"], "BENOR-BC-0412", "{seen:?}");
    let contacts = demo_list(server, &inspector, "/api/v1/people").await?;
    let mut names: Vec<&str> = contacts
        .iter()
        .filter_map(|p| p["surname"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["Claes", "Willems"], "{contacts:?}");
    for p in &contacts {
        assert!(masks(p, "phone") && masks(p, "birth_date"), "{p}");
    }

    // The rental company's primary contact: their contacts' phones, not their licence plates.
    let admin = demo_token(server, "admin@hoogwerkers.example", password).await?;
    let colleagues = demo_list(server, &admin, "/api/v1/people").await?;
    let nora = colleagues
        .iter()
        .find(|p| p["email"] == "user@hoogwerkers.example")
        .context("Nora Lambert")?;
    assert!(nora["phone"].is_string(), "{nora}");
    assert!(
        masks(nora, "licence_plates") && masks(nora, "birth_date"),
        "{nora}"
    );

    // The privacy coordinator's rights requests: one open, one extended, one overdue, and an
    // access request fulfilled with its report.
    let po = demo_token(server, "privacy@certibel.example", password).await?;
    let all = demo_list(server, &po, "/api/v1/rights-requests/queue?state=all").await?;
    let mut states: Vec<&str> = all.iter().filter_map(|r| r["state"].as_str()).collect();
    states.sort_unstable();
    assert_eq!(
        states,
        ["extended", "fulfilled", "received", "received"],
        "{all:?}"
    );
    assert_eq!(
        all.iter().filter(|r| r["overdue"] == true).count(),
        1,
        "{all:?}"
    );
    let bart = demo_token(server, "admin@betonbouw.example", password).await?;
    let mine = demo_list(server, &bart, "/api/v1/rights-requests").await?;
    let id = mine
        .first()
        .and_then(|r| r["id"].as_str())
        .context("Bart's request")?;
    let detail: serde_json::Value = server
        .client()?
        .get(server.url(&format!("/api/v1/rights-requests/{id}")))
        .bearer_auth(&bart)
        .send()
        .await?
        .json()
        .await?;
    assert!(
        detail["events"].as_array().is_some_and(|e| e
            .iter()
            .any(|e| e["kind"] == "carried_out" && e["detail"]["right"] == "access")),
        "{detail}"
    );
    Ok(())
}

async fn demo_counts(db: &std::path::Path) -> anyhow::Result<Vec<i64>> {
    let mut c = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await?;
    let mut counts = Vec::new();
    for table in [
        "organisation",
        "person",
        "dossier",
        "assignment",
        "document",
        "document_version",
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
                .fetch_one(&mut c)
                .await?;
        counts.push(n);
    }
    Ok(counts)
}

async fn demo_sql(db: &std::path::Path, statements: &[&'static str]) -> anyhow::Result<()> {
    let mut c = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await?;
    for s in statements {
        sqlx::query(*s).execute(&mut c).await?;
    }
    Ok(())
}

#[tokio::test]
async fn demo_tops_up_an_older_demo_directory() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("demo");
    let db = data.join("extranet.db");
    let demo = || {
        ServerBuilder::new(Backends::new(Db::Sqlite, Store::Local))
            .data_dir(&data)
            .args([
                "demo",
                "--data-dir",
                &data.display().to_string(),
                "--listen",
                "127.0.0.1:0",
            ])
    };
    let loaded = |server: extranet_tests::Server| async move {
        let seeded = server
            .stderr_contains("demo data loaded", Duration::from_secs(10))
            .await;
        server.stop().await?;
        anyhow::Ok(seeded)
    };
    assert!(loaded(demo().start().await?).await?);
    let full = demo_counts(&db).await?;
    assert_eq!(full, [3, 8, 5, 3, 5, 5]);

    // Seeding again over complete data (an older version number) adds nothing.
    demo_sql(
        &db,
        &["UPDATE instance_setting SET value = '2' WHERE key = 'demo.version'"],
    )
    .await?;
    assert!(loaded(demo().start().await?).await?);
    assert_eq!(demo_counts(&db).await?, full);

    // A directory of demo version 2: no dossiers, assignments or documents, fewer personal
    // details.
    demo_sql(
        &db,
        &[
            "DELETE FROM document_version",
            "DELETE FROM document",
            "DELETE FROM assignment",
            "DELETE FROM dossier",
            "UPDATE person SET function = NULL, birth_date = NULL",
            "DELETE FROM vehicle",
            "UPDATE instance_setting SET value = '2' WHERE key = 'demo.version'",
        ],
    )
    .await?;
    assert_eq!(demo_counts(&db).await?, [3, 8, 0, 0, 0, 0]);
    assert!(loaded(demo().start().await?).await?);
    assert_eq!(demo_counts(&db).await?, full);
    let mut c = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await?;
    let plates: Vec<String> =
        sqlx::query_scalar("SELECT licence_plate FROM vehicle ORDER BY licence_plate")
            .fetch_all(&mut c)
            .await?;
    assert_eq!(plates, ["1-HWV-204", "1-HWV-205", "2-KTR-781"]);
    let state: String =
        sqlx::query_scalar("SELECT value FROM instance_setting WHERE key = 'demo.version'")
            .fetch_one(&mut c)
            .await?;
    assert_ne!(state, "2");
    Ok(())
}
