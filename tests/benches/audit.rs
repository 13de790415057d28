//! The price of the audit record on a read: authenticated `GET /api/v1/people` over HTTPS at
//! `BENCH_CONNECTIONS` (default 64) connections against the same request on the same build
//! with the audit write switched off — a feature (`extranet-audit/bench-unaudited`) that only
//! this bench's build of the binary has, read from `BENCH_UNAUDITED`.
//!
//! `cargo bench -p extranet-tests --bench audit` (PostgreSQL from `infra/scripts/test-env.sh`
//! when set). For SQLite and PostgreSQL: both servers run side by side on fresh databases with
//! twenty colleagues of the signed-in member of staff; `BENCH_ROUNDS` (default 3) interleaved
//! rounds of `BENCH_SECONDS` (default 3) each per server; the medians of requests per second
//! and p99 latency are printed with their ratio (goal ≥ 0.8×; p99 at most 1 ms above).
//!
//! Results are reported, not failed; the exit status is non-zero only when something broke.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use extranet_tests::bench::{
    ServerProc, clean_env, connect_http1, connector, env_f64, env_usize, extranet_serving, median,
    start_server,
};
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, header};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const STAFF: &str = "bench-staff@audit.example";

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

/// The release binary built with the audit switch, in a target directory of its own (so the
/// ordinary release binary never has it).
fn build() -> anyhow::Result<PathBuf> {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let target = workspace.join("target").join("bench-unaudited");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .current_dir(&workspace)
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "extranet",
            "--bin",
            "extranet",
        ])
        .args([
            "--features",
            "extranet-audit/bench-unaudited",
            "--target-dir",
        ])
        .arg(&target)
        .status()?;
    if !status.success() {
        bail!("cargo build of the bench binary failed");
    }
    Ok(target.join("release").join("extranet"))
}

struct Installation {
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
    pg: Option<extranet_tests::backends::PgDatabase>,
}

async fn cli(bin: &Path, inst: &Installation, args: &[&str], stdin: &str) -> anyhow::Result<()> {
    let mut cmd = Command::new(bin);
    clean_env(&mut cmd);
    cmd.args(args)
        .envs(inst.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn()?;
    if let Some(mut s) = child.stdin.take() {
        s.write_all(stdin.as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!(
            "extranet {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

async fn installation(bin: &Path, postgres: bool) -> anyhow::Result<(Installation, String)> {
    let dir = tempfile::tempdir()?;
    let mut env = vec![
        (
            "EXTRANET_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        ),
        ("EXTRANET_LOG__FILTER".to_owned(), "warn".to_owned()),
        (
            "EXTRANET_KEYS__ENCRYPTION_KEY".to_owned(),
            extranet_tests::keys::new_kek()?,
        ),
        (
            "EXTRANET_AUTH__SECOND_FACTOR_ROLES".to_owned(),
            "[]".to_owned(),
        ),
        (
            "EXTRANET_SERVER__MAX_CONNECTIONS".to_owned(),
            "1024".to_owned(),
        ),
        (
            "EXTRANET_SERVER__LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
        ("NO_COLOR".to_owned(), "1".to_owned()),
    ];
    let pg = if postgres {
        let db = extranet_tests::backends::PgDatabase::create().await?;
        env.push(("EXTRANET_DATABASE__URL".to_owned(), db.url.clone()));
        Some(db)
    } else {
        None
    };
    let inst = Installation { env, _dir: dir, pg };
    cli(bin, &inst, &["migrate"], "").await?;
    let password = format!("bench-{}-Correct-Horse-Battery", std::process::id());
    cli(
        bin,
        &inst,
        &[
            "user",
            "create",
            "--email",
            STAFF,
            "--first-name",
            "Bench",
            "--surname",
            "Staff",
            "--role",
            "staff",
            "--password-stdin",
        ],
        &format!("{password}\n"),
    )
    .await?;
    for i in 0..20 {
        let email = format!("colleague-{i}@audit.example");
        cli(
            bin,
            &inst,
            &[
                "user",
                "create",
                "--email",
                &email,
                "--first-name",
                "Col",
                "--surname",
                &format!("League {i}"),
                "--role",
                "staff",
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
        .await?;
    }
    Ok((inst, password))
}

async fn serve(bin: &Path, inst: &Installation, unaudited: bool) -> anyhow::Result<ServerProc> {
    let mut cmd = Command::new(bin);
    clean_env(&mut cmd);
    cmd.arg("serve")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .envs(inst.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if unaudited {
        cmd.env("BENCH_UNAUDITED", "1");
    }
    let dir = inst
        .env
        .iter()
        .find(|(k, _)| k == "EXTRANET_DATA_DIR")
        .map(|(_, v)| PathBuf::from(v))
        .context("data dir")?;
    start_server(
        if unaudited { "unaudited" } else { "audited" },
        cmd,
        dir.join("tls/dev-cert.pem"),
        extranet_serving,
    )
    .await
}

async fn token(server: &ServerProc, password: &str) -> anyhow::Result<String> {
    let cert = std::fs::read(&server.cert)?;
    let (mut sender, _driver) =
        connect_http1::<Full<Bytes>>(server.addr, &connector(&cert)?).await?;
    let body = serde_json::json!({ "email": STAFF, "password": password }).to_string();
    let req = Request::post("/api/v1/auth/login")
        .header(header::HOST, format!("localhost:{}", server.addr.port()))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let res = sender.send_request(req).await?;
    let bytes = res.into_body().collect().await?.to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes)?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("access token")
}

struct Load {
    per_second: f64,
    p99_ms: f64,
    errors: u64,
}

/// `connections` clients asking `GET /api/v1/people` back to back for `seconds`.
async fn load(
    addr: SocketAddr,
    cert: &[u8],
    token: &str,
    connections: usize,
    seconds: f64,
) -> anyhow::Result<Load> {
    let tls = Arc::new(connector(cert)?);
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let tls = tls.clone();
        let auth = format!("Bearer {token}");
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let Ok((mut sender, _driver)) = connect_http1::<Empty<Bytes>>(addr, &tls).await else {
                return (lat, 1);
            };
            while Instant::now() < until {
                let Ok(req) = Request::get("/api/v1/people?limit=50")
                    .header(header::HOST, format!("localhost:{}", addr.port()))
                    .header(header::AUTHORIZATION, &auth)
                    .body(Empty::new())
                else {
                    errors += 1;
                    break;
                };
                let t = Instant::now();
                match sender.send_request(req).await {
                    Ok(res) if res.status() == 200 => {
                        if res.into_body().collect().await.is_err() {
                            errors += 1;
                        }
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    _ => {
                        errors += 1;
                        break;
                    }
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await?;
        all.extend(lat);
        errors += e;
    }
    all.sort_by(f64::total_cmp);
    let p99 = all
        .get(((all.len() as f64) * 0.99) as usize)
        .copied()
        .unwrap_or(f64::NAN);
    Ok(Load {
        per_second: all.len() as f64 / seconds,
        p99_ms: p99,
        errors,
    })
}

async fn run() -> anyhow::Result<()> {
    let connections = env_usize("BENCH_CONNECTIONS", 64)?.max(1);
    let rounds = env_usize("BENCH_ROUNDS", 3)?.max(1);
    let seconds = env_f64("BENCH_SECONDS", 3.0)?;
    eprintln!("bench: building the release binary with the audit switch…");
    let bin = tokio::task::spawn_blocking(build).await??;
    let mut databases = vec![("SQLite", false)];
    if std::env::var_os("TEST_EXTRANET_PG_URL").is_some() {
        databases.push(("PostgreSQL", true));
    }
    println!();
    println!(
        "GET /api/v1/people (50 of 21 people: one audit record each), {connections} connections, median of {rounds} rounds of {seconds:.0} s"
    );
    println!(
        "{:<12} {:>12} {:>12} {:>8} {:>10} {:>10}",
        "database", "audited r/s", "off r/s", "ratio", "p99 ms", "p99 off"
    );
    let mut failed = 0;
    for (name, postgres) in databases {
        let (inst, password) = installation(&bin, postgres).await?;
        // One server at a time on the installation (they share its database): audited, then
        // unaudited, interleaved by rounds.
        let mut on = (Vec::new(), Vec::new());
        let mut off = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            for unaudited in [false, true] {
                let server = serve(&bin, &inst, unaudited).await?;
                let cert = std::fs::read(&server.cert)?;
                let t = token(&server, &password).await?;
                let _warm = load(server.addr, &cert, &t, connections, 1.0).await?;
                let l = load(server.addr, &cert, &t, connections, seconds).await?;
                failed += l.errors;
                let into = if unaudited { &mut off } else { &mut on };
                into.0.push(l.per_second);
                into.1.push(l.p99_ms);
                server.stop(Duration::from_secs(10)).await?;
            }
        }
        let (a, b) = (
            median(on.0).unwrap_or(f64::NAN),
            median(off.0).unwrap_or(f64::NAN),
        );
        let (pa, pb) = (
            median(on.1).unwrap_or(f64::NAN),
            median(off.1).unwrap_or(f64::NAN),
        );
        println!(
            "{name:<12} {a:>12.0} {b:>12.0} {:>8.2} {pa:>10.2} {pb:>10.2}   {}",
            a / b,
            if a / b >= 0.8 { "PASS" } else { "below 0.8" }
        );
        if let Some(pg) = &inst.pg {
            pg.drop_now().await;
        }
    }
    if failed > 0 {
        bail!("{failed} requests failed: the figures are not valid");
    }
    Ok(())
}
