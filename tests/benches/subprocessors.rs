//! Publishing a subprocessor notice to many client companies, against the floor of the work it
//! must do: inserting the same outbox rows in one plain transaction.
//!
//! `cargo bench -p extranet-tests --bench subprocessors` (with the test services of
//! `infra/scripts/test-services.sh` and `source infra/scripts/test-env.sh` for PostgreSQL).
//! For SQLite and PostgreSQL: the release binary is started, `BENCH_COMPANIES` (default 5000)
//! client companies are written into its database, and each of `BENCH_ROUNDS` (default 5)
//! rounds publishes one notice through the API (timed: the request that publishes it, which
//! finds the recipients and queues one mail each with the notice and its audit record in one
//! transaction) and then inserts as many outbox rows, one statement each, in one transaction of
//! the bench's own on the same database (timed). The report gives the medians and the ratio
//! plain ÷ publish (goal ≥ 0.5: publishing costs at most twice the bare inserts).
//!
//! Results are reported, not failed; the exit status is non-zero only when something broke.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use extranet_tests::{Backends, Db, Server, ServerBuilder, Store};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection, SqliteConnection};

const PASSWORD: &str = "vlaai-tram-Kortrijk-42-brug";

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

fn env_usize(key: &str, default: usize) -> anyhow::Result<usize> {
    match std::env::var(key) {
        Ok(v) => v.parse().with_context(|| format!("{key}={v}")),
        Err(_) => Ok(default),
    }
}

enum Conn {
    Sqlite(SqliteConnection),
    Pg(PgConnection),
}

impl Conn {
    async fn open(server: &Server) -> anyhow::Result<Conn> {
        Ok(match server.backends.db {
            Db::Sqlite => Conn::Sqlite(
                SqliteConnection::connect(&format!(
                    "sqlite://{}",
                    server.data_dir.join("extranet.db").display()
                ))
                .await?,
            ),
            Db::Postgres => {
                Conn::Pg(PgConnection::connect(server.pg_url().context("pg url")?).await?)
            }
        })
    }

    async fn execute(&mut self, sql: &str) -> anyhow::Result<()> {
        match self {
            Conn::Sqlite(c) => {
                sqlx::query(AssertSqlSafe(sql.to_owned()))
                    .execute(c)
                    .await?;
            }
            Conn::Pg(c) => {
                sqlx::query(AssertSqlSafe(sql.to_owned()))
                    .execute(c)
                    .await?;
            }
        }
        Ok(())
    }

    /// The floor: `rows` outbox rows like the notice's, one INSERT each, in one transaction.
    async fn plain_inserts(
        &mut self,
        rows: &[(String, String)],
        payload: &str,
    ) -> anyhow::Result<()> {
        const INSERT: &str = "INSERT INTO outbox (id, created_at, recipient, language, template, \
             payload, attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $2)";
        let now = time::OffsetDateTime::now_utc();
        macro_rules! inserts {
            ($c:expr) => {{
                let mut tx = $c.begin().await?;
                for (recipient, language) in rows {
                    sqlx::query(INSERT)
                        .bind(uuid::Uuid::now_v7())
                        .bind(now)
                        .bind(recipient)
                        .bind(language)
                        .bind("bench-plain")
                        .bind(payload)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
            }};
        }
        match self {
            Conn::Sqlite(c) => inserts!(c),
            Conn::Pg(c) => inserts!(c),
        }
        Ok(())
    }
}

async fn call(
    server: &Server,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<Value> {
    let mut req = server.client()?.post(server.url(path)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await?;
    let status = res.status();
    let v: Value = res.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{path}: {status} {v}");
    }
    Ok(v)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

async fn one_backend(db: Db, companies: usize, rounds: usize) -> anyhow::Result<(usize, f64, f64)> {
    // The sender must not deliver while we measure: it would compete for the database.
    let server = ServerBuilder::new(Backends::new(db, Store::Local))
        .env("EXTRANET_MAIL__POLL_SECS", "86400")
        .start()
        .await?;
    server
        .create_user("po@bench.example", "privacy_officer")
        .await?;
    let login: Value = server
        .client()?
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": "po@bench.example", "password": PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    let token = login["access_token"].as_str().context("token")?.to_owned();
    let made = extranet_tests::bulk::client_companies(db, companies, "bench");
    let mut conn = Conn::open(&server).await?;
    for sql in &made.statements {
        conn.execute(sql).await?;
    }
    let recipients: Vec<(String, String)> = made
        .primaries
        .iter()
        .cloned()
        .chain(
            made.subscribers
                .iter()
                .map(|e| (e.clone(), "nl".to_owned())),
        )
        .collect();
    let date = (time::OffsetDateTime::now_utc() + time::Duration::days(40)).date();
    let (mut publish, mut plain) = (Vec::new(), Vec::new());
    let mut payload = String::new();
    for round in 0..rounds {
        let draft = call(&server, &token, "/api/v1/subprocessor-notices", Some(json!({
            "kind": "add", "summary": "Back-ups move to a second data centre.",
            "effective_date": format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day()),
            "entry": { "legal_name": format!("Vault {round} NV"), "registration_number": "0123.456.789",
                "website": "https://vault.example", "service": "Back-ups", "data_categories": ["contact"],
                "subject_categories": ["client_contacts"], "locations": [{ "country": "BE" }], "agreement_date": null }
        }))).await?;
        let id = draft["id"].as_str().context("notice id")?;
        let t = Instant::now();
        call(
            &server,
            &token,
            &format!("/api/v1/subprocessor-notices/{id}/publish"),
            None,
        )
        .await?;
        publish.push(t.elapsed().as_secs_f64());
        if payload.is_empty() {
            payload = json!({ "site": "Extranet", "name": "Vault 0 NV", "kind": "add",
                "summary": "Back-ups move to a second data centre.", "date": "2027-01-15", "reason": "",
                "link": format!("https://localhost/subprocessors/notices/{id}") }).to_string();
        }
        let t = Instant::now();
        conn.plain_inserts(&recipients, &payload).await?;
        plain.push(t.elapsed().as_secs_f64());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(conn);
    server.stop().await?;
    Ok((recipients.len(), median(publish), median(plain)))
}

async fn run() -> anyhow::Result<()> {
    let companies = env_usize("BENCH_COMPANIES", 5000)?;
    let rounds = env_usize("BENCH_ROUNDS", 5)?.max(1);
    eprintln!("bench: {companies} companies, {rounds} rounds per database (release build first)…");
    println!();
    println!("Publishing a notice to {companies} client companies ({rounds} rounds, medians)");
    println!(
        "{:<12} {:>8} {:>14} {:>14} {:>8}   goal ≥ 0.5",
        "database", "mails", "publish ms", "plain ms", "ratio"
    );
    for db in [Db::Sqlite, Db::Postgres] {
        let (mails, publish, plain) = one_backend(db, companies, rounds).await?;
        let ratio = plain / publish;
        println!(
            "{:<12} {:>8} {:>14.1} {:>14.1} {:>8.2}   {}",
            match db {
                Db::Sqlite => "SQLite",
                Db::Postgres => "PostgreSQL",
            },
            mails,
            publish * 1000.0,
            plain * 1000.0,
            ratio,
            if ratio >= 0.5 { "PASS" } else { "below" }
        );
    }
    println!(
        "publish: the API request (find the recipients, queue one mail each in 1,000-row \
         statements, the notice and its audit record, one transaction); plain: the same number of \
         outbox rows, one INSERT each, in one transaction."
    );
    Ok(())
}
