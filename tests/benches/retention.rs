//! A retention run over many expired records, against the floor of the work it must do: a plain
//! `DELETE … WHERE` of the same rows; and `/healthz` over HTTPS while it runs, against an idle
//! server.
//!
//! `cargo bench -p extranet-tests --bench retention` (with the test services of
//! `infra/scripts/test-services.sh` and `source infra/scripts/test-env.sh` for PostgreSQL).
//! For SQLite and PostgreSQL: the release binary serves on a fresh database; `BENCH_SESSIONS`
//! (default 1,000,000) ended sessions and `BENCH_DOCUMENTS` (default 10,000) deleted documents,
//! each with its object in local storage, are written in; a plain `DELETE … WHERE` removes the
//! rows (timed); they are written again and `extranet retention run` removes them, objects
//! included, while a client measures `/healthz` (timed; p99). The same client first measures an
//! idle server. The report gives rows per second for both, their ratio retention ÷ plain (goal
//! ≥ 0.5) and the p99s (goal: while running ≤ 2 × idle).
//!
//! Results are reported, not failed; the exit status is non-zero only when something broke.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use extranet_tests::bench::env_usize;
use extranet_tests::{Backends, Db, Server, ServerBuilder, Store};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

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

/// The expired records: sessions of one person that ended in 2020, and deleted documents (one
/// version each) whose objects are written to local storage. Returns the number of rows.
async fn fill(server: &Server, sessions: usize, documents: usize) -> anyhow::Result<usize> {
    let sqlite = server.backends.db == Db::Sqlite;
    let (uuid, old) = if sqlite {
        ("randomblob(16)", "'2020-01-01T00:00:00Z'")
    } else {
        ("gen_random_uuid()", "TIMESTAMPTZ '2020-01-01T00:00:00Z'")
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
    let person = "(SELECT id FROM person LIMIT 1)";
    execute(
        server,
        &format!(
            "INSERT INTO auth_session (id, person_id, created_at, absolute_expires_at) \
             SELECT {uuid}, {person}, {old}, {old} FROM {} s",
            series(sessions)
        ),
    )
    .await?;
    let dossier = "(SELECT id FROM dossier LIMIT 1)";
    execute(
        server,
        &format!(
            "INSERT INTO document (id, dossier_id, title, doc_type, versions, created_by, \
             created_at, updated_at, deleted_at, deleted_by) \
             SELECT {uuid}, {dossier}, 'bench ' || i, 'other', 1, {person}, {old}, {old}, {old}, \
             {person} FROM {} s",
            series(documents)
        ),
    )
    .await?;
    execute(
        server,
        "INSERT INTO document_version (document_id, version, object_key, size, sha256, \
         media_type, file_name, uploaded_by, uploaded_at) \
         SELECT id, 1, 'documents/bench-' || title, 9, 'x', 'application/pdf', 'b.pdf', \
         created_by, created_at FROM document WHERE title LIKE 'bench %'",
    )
    .await?;
    let dir = server.data_dir.join("objects").join("documents");
    std::fs::create_dir_all(&dir)?;
    for i in 1..=documents {
        std::fs::write(dir.join(format!("bench-bench {i}")), b"%PDF-1.7\n")?;
    }
    Ok(sessions + 2 * documents)
}

/// `/healthz` one request after another until `stop`; the latencies in seconds, sorted.
async fn healthz_until(
    server: &Server,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<f64>> {
    let client = server.client()?;
    let url = server.url("/healthz");
    let mut out = Vec::new();
    while !*stop.borrow() {
        let t = Instant::now();
        let res = client.get(&url).send().await?;
        if !res.status().is_success() {
            bail!("/healthz: {}", res.status());
        }
        res.bytes().await?;
        out.push(t.elapsed().as_secs_f64());
    }
    out.sort_by(f64::total_cmp);
    Ok(out)
}

fn p99(sorted: &[f64]) -> f64 {
    extranet_tests::bench::percentile(sorted, 0.99).unwrap_or(f64::NAN)
}

struct Figures {
    rows: usize,
    plain: f64,
    retention: f64,
    idle_p99: f64,
    busy_p99: f64,
}

async fn one_backend(db: Db, sessions: usize, documents: usize) -> anyhow::Result<Figures> {
    let server = ServerBuilder::new(Backends::new(db, Store::Local))
        .env("EXTRANET_PRIVACY__RETENTION", "false")
        .env("EXTRANET_MAIL__POLL_SECS", "86400")
        .start()
        .await?;
    let org = server.create_client_org("Bench NV").await?;
    server
        .create_user_in("bench@bench.example", "client_admin", &org)
        .await?;
    let org_sql = if db == Db::Sqlite {
        format!("X'{}'", org.replace('-', ""))
    } else {
        format!("'{org}'")
    };
    execute(
        &server,
        &format!(
            "INSERT INTO dossier (id, organisation_id, scheme, status, created_at, updated_at, \
             legal_hold) VALUES ({org_sql}, {org_sql}, 'BENOR', 'active', \
             '2020-01-01T00:00:00Z', '2020-01-01T00:00:00Z', FALSE)"
        ),
    )
    .await?;

    // The floor: the same rows, deleted by plain statements (objects stay: the floor is rows).
    let rows = fill(&server, sessions, documents).await?;
    let t = Instant::now();
    let mut deleted = 0;
    for sql in [
        "DELETE FROM refresh_token WHERE session_id IN \
         (SELECT id FROM auth_session WHERE absolute_expires_at < '2021-01-01T00:00:00Z')",
        "DELETE FROM auth_session WHERE absolute_expires_at < '2021-01-01T00:00:00Z'",
        "DELETE FROM document_version WHERE document_id IN \
         (SELECT id FROM document WHERE deleted_at < '2021-01-01T00:00:00Z')",
        "DELETE FROM document WHERE deleted_at < '2021-01-01T00:00:00Z'",
    ] {
        deleted += execute(&server, sql).await?;
    }
    let plain = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        deleted as usize == rows,
        "plain deleted {deleted} of {rows}"
    );

    // Idle: /healthz for five seconds.
    let (tx, rx) = tokio::sync::watch::channel(false);
    let idle = {
        let h = healthz_until(&server, rx.clone());
        let stop = async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let _ = tx.send(true);
        };
        let (lat, ()) = tokio::join!(h, stop);
        lat?
    };

    fill(&server, sessions, documents).await?;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let h = healthz_until(&server, rx);
    let t = Instant::now();
    // As a process of its own, without the harness's one-minute limit on commands.
    let job = async {
        let res = match server.spawn_command(&["retention", "run"]).await {
            Ok(mut child) => child.wait().await.map_err(anyhow::Error::from),
            Err(e) => Err(e),
        };
        let elapsed = t.elapsed().as_secs_f64();
        let _ = tx.send(true);
        res.map(|r| (r, elapsed))
    };
    let (busy, out) = tokio::join!(h, job);
    let (status, retention) = out?;
    anyhow::ensure!(status.success(), "retention run: {status}");
    let busy = busy?;
    let left = execute(
        &server,
        "DELETE FROM auth_session WHERE absolute_expires_at < '2021-01-01T00:00:00Z'",
    )
    .await?;
    anyhow::ensure!(left == 0, "{left} sessions left after the run");
    let objects = std::fs::read_dir(server.data_dir.join("objects").join("documents"))?.count();
    anyhow::ensure!(objects == 0, "{objects} objects left after the run");
    server.stop().await?;
    Ok(Figures {
        rows,
        plain,
        retention,
        idle_p99: p99(&idle),
        busy_p99: p99(&busy),
    })
}

async fn run() -> anyhow::Result<()> {
    let sessions = env_usize("BENCH_SESSIONS", 1_000_000)?;
    let documents = env_usize("BENCH_DOCUMENTS", 10_000)?;
    eprintln!("bench: {sessions} sessions and {documents} documents per database…");
    println!();
    println!(
        "A retention run over {sessions} ended sessions and {documents} deleted documents \
         (with their objects)"
    );
    println!(
        "{:<12} {:>9} {:>12} {:>12} {:>7} {:>11} {:>11} {:>7}",
        "database", "rows", "plain r/s", "run r/s", "ratio", "idle p99ms", "run p99ms", "×idle"
    );
    for db in [Db::Sqlite, Db::Postgres] {
        let f = one_backend(db, sessions, documents).await?;
        let ratio = f.plain / f.retention;
        let slow = f.busy_p99 / f.idle_p99;
        println!(
            "{:<12} {:>9} {:>12.0} {:>12.0} {:>7.2} {:>11.2} {:>11.2} {:>7.2}   {} / {}",
            match db {
                Db::Sqlite => "SQLite",
                Db::Postgres => "PostgreSQL",
            },
            f.rows,
            f.rows as f64 / f.plain,
            f.rows as f64 / f.retention,
            ratio,
            f.idle_p99 * 1000.0,
            f.busy_p99 * 1000.0,
            slow,
            if ratio >= 0.5 {
                "rows PASS"
            } else {
                "rows below"
            },
            if slow <= 2.0 { "p99 PASS" } else { "p99 above" },
        );
    }
    println!(
        "plain: DELETE … WHERE of the same rows (children first), rows only; run: `extranet \
         retention run` as a process (start-up included), batches of privacy.retention_batch \
         keys with their objects and the run's progress, one transaction each."
    );
    Ok(())
}
