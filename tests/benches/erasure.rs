//! An erasure of one person (`extranet erase`), against the floor of the work it must do:
//! plain `DELETE … WHERE` statements removing the same rows, and the same objects removed one
//! by one.
//!
//! `cargo bench -p extranet-tests --bench erasure` (with the test services of
//! `infra/scripts/test-services.sh` and `source infra/scripts/test-env.sh` for PostgreSQL).
//! For SQLite and PostgreSQL: the release binary serves on a fresh database; one person gets
//! `BENCH_ROWS` (default 1,000) rows — `BENCH_OBJECTS` (default 100) documents with one version
//! and its object each in local storage, and sessions, mails and vehicles for the rest — which
//! plain statements delete (timed, objects included); they are written again and
//! `extranet erase --email` erases the person (timed, as a process: start-up, the plan, every
//! step's transaction, the audit record). The report gives rows per second for both and their
//! ratio plain ÷ erasure (goal ≥ 0.3).
//!
//! Results are reported, not failed; the exit status is non-zero only when something broke.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use extranet_tests::bench::env_usize;
use extranet_tests::{Backends, Db, Server, ServerBuilder, Store};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

const EMAIL: &str = "erase@bench.example";

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bench error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(server: &Server, sql: &str) -> anyhow::Result<u64> {
    Ok(match server.backends.db {
        Db::Sqlite => {
            let url = format!("sqlite://{}", server.data_dir.join("extranet.db").display());
            let mut c = SqliteConnection::connect(&url).await?;
            sqlx::query(AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?
                .rows_affected()
        }
        Db::Postgres => {
            let mut c = PgConnection::connect(server.pg_url().context("pg")?).await?;
            sqlx::query(AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?
                .rows_affected()
        }
    })
}

/// The person's rows: `objects` documents with one version and its object each, and sessions,
/// mails to them and vehicles for the rest of `rows`. Returns the number of rows.
async fn fill(server: &Server, person: &str, rows: usize, objects: usize) -> anyhow::Result<usize> {
    let sqlite = server.backends.db == Db::Sqlite;
    let (uuid, old) = if sqlite {
        ("randomblob(16)", "'2026-01-01T00:00:00Z'")
    } else {
        ("gen_random_uuid()", "TIMESTAMPTZ '2026-01-01T00:00:00Z'")
    };
    let series = |n: usize| {
        if sqlite {
            format!(
                "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
                 SELECT i FROM n)"
            )
        } else {
            format!("(SELECT generate_series(1, {n}) AS i)")
        }
    };
    let rest = rows.saturating_sub(2 * objects);
    let (sessions, mails) = (rest / 3, rest / 3);
    let vehicles = rest - sessions - mails;
    let dossier = "(SELECT id FROM dossier LIMIT 1)";
    for sql in [
        format!(
            "INSERT INTO document (id, dossier_id, title, doc_type, versions, created_by, \
             created_at, updated_at) SELECT {uuid}, {dossier}, 'bench ' || i, 'other', 1, \
             {person}, {old}, {old} FROM {} s",
            series(objects)
        ),
        "INSERT INTO document_version (document_id, version, object_key, size, sha256, \
         media_type, file_name, uploaded_by, uploaded_at) \
         SELECT id, 1, 'documents/bench-' || title, 9, 'x', 'application/pdf', 'b.pdf', \
         created_by, created_at FROM document WHERE title LIKE 'bench %'"
            .to_owned(),
        format!(
            "INSERT INTO auth_session (id, person_id, created_at, absolute_expires_at) \
             SELECT {uuid}, {person}, {old}, {old} FROM {} s",
            series(sessions)
        ),
        format!(
            "INSERT INTO outbox (id, created_at, recipient, language, template, payload, \
             attempts, next_attempt_at, sent_at) SELECT {uuid}, {old}, '{EMAIL}', 'nl', \
             'invitation', '{{}}', 1, {old}, {old} FROM {} s",
            series(mails)
        ),
        format!(
            "INSERT INTO vehicle (id, person_id, licence_plate, created_at) \
             SELECT {uuid}, {person}, 'B-' || i, {old} FROM {} s",
            series(vehicles)
        ),
    ] {
        execute(server, &sql).await?;
    }
    let dir = server.data_dir.join("objects").join("documents");
    std::fs::create_dir_all(&dir)?;
    for i in 1..=objects {
        std::fs::write(dir.join(format!("bench-bench {i}")), b"%PDF-1.7\n")?;
    }
    Ok(rows.max(2 * objects))
}

struct Figures {
    rows: usize,
    plain: f64,
    erasure: f64,
}

async fn one_backend(db: Db, rows: usize, objects: usize) -> anyhow::Result<Figures> {
    let server = ServerBuilder::new(Backends::new(db, Store::Local))
        .env("EXTRANET_PRIVACY__RETENTION", "false")
        .env("EXTRANET_MAIL__POLL_SECS", "86400")
        .start()
        .await?;
    let org = server.create_client_org("Bench NV").await?;
    server.create_user_in(EMAIL, "client_admin", &org).await?;
    let sql_id = |id: &str| {
        if db == Db::Sqlite {
            format!("X'{}'", id.replace('-', ""))
        } else {
            format!("'{id}'")
        }
    };
    let org_sql = sql_id(&org);
    execute(
        &server,
        &format!(
            "INSERT INTO dossier (id, organisation_id, scheme, status, created_at, updated_at, \
             legal_hold) VALUES ({org_sql}, {org_sql}, 'BENOR', 'active', \
             '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z', FALSE)"
        ),
    )
    .await?;
    let person = format!("(SELECT id FROM person WHERE email_normalized = '{EMAIL}')");

    // The floor: the same rows deleted by plain statements, the objects removed one by one.
    let total = fill(&server, &person, rows, objects).await?;
    let t = Instant::now();
    let mut deleted = 0;
    for sql in [
        format!(
            "DELETE FROM document_version WHERE document_id IN \
             (SELECT id FROM document WHERE created_by = {person})"
        ),
        format!("DELETE FROM document WHERE created_by = {person}"),
        format!("DELETE FROM auth_session WHERE person_id = {person}"),
        format!("DELETE FROM outbox WHERE recipient = '{EMAIL}'"),
        format!("DELETE FROM vehicle WHERE person_id = {person}"),
    ] {
        deleted += execute(&server, &sql).await?;
    }
    let dir = server.data_dir.join("objects").join("documents");
    for e in std::fs::read_dir(&dir)? {
        std::fs::remove_file(e?.path())?;
    }
    let plain = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        deleted as usize == total,
        "plain deleted {deleted} of {total}"
    );

    fill(&server, &person, rows, objects).await?;
    let t = Instant::now();
    // As a process of its own, without the harness's one-minute limit on commands.
    let mut child = server.spawn_command(&["erase", "--email", EMAIL]).await?;
    let status = child.wait().await?;
    let erasure = t.elapsed().as_secs_f64();
    anyhow::ensure!(status.success(), "erase: {status}");
    let left = std::fs::read_dir(&dir)?.count();
    anyhow::ensure!(left == 0, "{left} objects left after the erasure");
    let docs = execute(&server, "DELETE FROM document").await?;
    anyhow::ensure!(docs == 0, "{docs} documents left after the erasure");
    server.stop().await?;
    Ok(Figures {
        rows: total,
        plain,
        erasure,
    })
}

async fn run() -> anyhow::Result<()> {
    let rows = env_usize("BENCH_ROWS", 1_000)?;
    let objects = env_usize("BENCH_OBJECTS", 100)?;
    eprintln!("bench: a person with {rows} rows and {objects} objects per database…");
    println!();
    println!("The erasure of a person with {rows} rows and {objects} objects");
    println!(
        "{:<12} {:>7} {:>10} {:>12} {:>12} {:>7}",
        "database", "rows", "plain ms", "erasure ms", "erasure r/s", "ratio"
    );
    for db in [Db::Sqlite, Db::Postgres] {
        let f = one_backend(db, rows, objects).await?;
        let ratio = f.plain / f.erasure;
        println!(
            "{:<12} {:>7} {:>10.1} {:>12.1} {:>12.0} {:>7.2}   {}",
            match db {
                Db::Sqlite => "SQLite",
                Db::Postgres => "PostgreSQL",
            },
            f.rows,
            f.plain * 1000.0,
            f.erasure * 1000.0,
            f.rows as f64 / f.erasure,
            ratio,
            if ratio >= 0.3 { "PASS" } else { "below" },
        );
    }
    println!(
        "plain: DELETE … WHERE of the same rows (children first) and the objects removed one by \
         one; erasure: `extranet erase --email` as a process (start-up included): the plan, \
         objects before rows in batches, one transaction per step with its counts, the person's \
         row anonymised and the audit record."
    );
    Ok(())
}
