//! The access report of a person with many audit entries and documents, against the floor of
//! the work it must do: reading the same rows with plain queries.
//!
//! `cargo bench -p extranet-tests --bench subject_report` (SQLite in a temporary directory).
//! `BENCH_AUDIT` (default 10,000) entries of another person reading the person and
//! `BENCH_DOCUMENTS` (default 100) documents they uploaded are written in; then, `BENCH_RUNS`
//! (default 5) times each, the report is generated in-process
//! (`extranet_privacy::subject::report::access_report`) and the same audit rows and document
//! rows are read with two plain queries. The ratio plain ÷ report is printed (goal ≥ 0.3).
//!
//! Results are reported, not failed; the exit status is non-zero only when something broke.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use extranet_platform::db::DbTarget;
use extranet_platform::{Db, DbOptions, Objects, StorageOptions};
use extranet_privacy::register::{Context as RegisterContext, Register, RegisterSource};
use extranet_privacy::subject::{Requester, report};
use extranet_tests::bench::{env_usize, median};
use sqlx::{Connection, SqliteConnection};
use uuid::Uuid;

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

async fn run() -> anyhow::Result<()> {
    let audit = env_usize("BENCH_AUDIT", 10_000)?;
    let documents = env_usize("BENCH_DOCUMENTS", 100)?;
    let runs = env_usize("BENCH_RUNS", 5)?;
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let db = Db::connect(&DbTarget::parse(&url)?, &DbOptions::default()).await?;
    db.migrate().await?;
    let objects = Objects::connect(&StorageOptions::Local {
        root: dir.path().join("objects"),
    })
    .await?;
    let register = Register::load(&RegisterSource::embedded(), &RegisterContext::default())?;
    let (person, reader) = (Uuid::new_v4(), Uuid::new_v4());
    let mut c = SqliteConnection::connect(&url).await?;
    fill(&mut c, person, reader, audit, documents).await?;

    let mut report_secs = Vec::new();
    let mut plain_secs = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let r = report::access_report(&db, &objects, &register, person, "en", Requester::default())
            .await?;
        report_secs.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(r.accesses.len() >= audit && r.documents.len() == documents);
        let t = Instant::now();
        let a: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT seq, action, at FROM audit_log WHERE subject_type = 'person' AND subject_id = $1",
        )
        .bind(person.to_string())
        .fetch_all(&mut c)
        .await?;
        let d: Vec<(Uuid, i64, String)> = sqlx::query_as(
            "SELECT document_id, version, object_key FROM document_version WHERE uploaded_by = $1",
        )
        .bind(person)
        .fetch_all(&mut c)
        .await?;
        plain_secs.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(a.len() >= audit && d.len() == documents);
    }
    let report = median(report_secs).context("runs")?;
    let plain = median(plain_secs).context("runs")?;
    println!("subject_report: {audit} audit entries, {documents} documents, median of {runs} runs");
    println!("  access report: {:.1} ms", report * 1000.0);
    println!("  plain queries: {:.1} ms", plain * 1000.0);
    println!("  ratio plain ÷ report: {:.2} (goal ≥ 0.3)", plain / report);
    Ok(())
}

/// The person (in an organisation), another person, `audit` entries of the other reading the
/// person, and `documents` documents the person uploaded (rows only: the report does not open
/// objects).
async fn fill(
    c: &mut SqliteConnection,
    person: Uuid,
    reader: Uuid,
    audit: usize,
    documents: usize,
) -> anyhow::Result<()> {
    let now = "2026-12-05T04:00:00.000000Z";
    let org = Uuid::new_v4();
    let mut tx = c.begin().await?;
    sqlx::query(
        "INSERT INTO organisation (id, kind, name, addresses, active, created_at, updated_at) \
         VALUES ($1, 'client', 'Bench NV', '[]', 1, $2, $2)",
    )
    .bind(org)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (id, email) in [(person, "p@bench.example"), (reader, "r@bench.example")] {
        sqlx::query(
            "INSERT INTO person (id, organisation_id, surname, first_name, email, \
             email_normalized, gender, language, state, created_at, updated_at) \
             VALUES ($1, $2, 'Bench', 'Person', $3, $3, 'x', 'en', 'active', $4, $4)",
        )
        .bind(id)
        .bind(org)
        .bind(email)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let dossier = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO dossier (id, organisation_id, scheme, status, created_at, updated_at) \
         VALUES ($1, $2, 'BENOR', 'active', $3, $3)",
    )
    .bind(dossier)
    .bind(org)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for i in 0..documents {
        let doc = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO document (id, dossier_id, title, doc_type, versions, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, 'test_report', 1, $4, $5, $5)",
        )
        .bind(doc)
        .bind(dossier)
        .bind(format!("Document {i}"))
        .bind(person)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO document_version (document_id, version, object_key, size, sha256, \
             media_type, file_name, uploaded_by, uploaded_at) \
             VALUES ($1, 1, $2, 10, $3, 'application/pdf', 'f.pdf', $4, $5)",
        )
        .bind(doc)
        .bind(format!("documents/{}", Uuid::new_v4()))
        .bind("0".repeat(64))
        .bind(person)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
        .fetch_one(&mut *tx)
        .await?;
    let start = max.unwrap_or(0) + 1;
    for i in 0..audit {
        // Rows for reading only: the hash chain is not kept (the report does not verify it).
        sqlx::query(
            "INSERT INTO audit_log (seq, id, at, actor_id, action, outcome, subject_type, \
             subject_id, detail, prev_hash, hash, hash_version) \
             VALUES ($1, $2, $3, $4, 'person.read', 'success', 'person', $5, '{}', '', '', 2)",
        )
        .bind(start + i64::try_from(i)?)
        .bind(Uuid::new_v4())
        .bind(now)
        .bind(reader.to_string())
        .bind(person.to_string())
        .execute(&mut *tx)
        .await?;
    }
    // The next append (the report's own audit record) numbers itself from the head.
    sqlx::query("UPDATE audit_head SET seq = $1")
        .bind(start + i64::try_from(audit)? - 1)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
