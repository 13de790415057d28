//! Throughput and latency of the real `extranet` binary against a bare axum + rustls server of
//! the same shape, over HTTPS (TLS 1.3, HTTP/1.1 keep-alive).
//!
//! `cargo bench -p extranet-tests --bench http`. One binary, three roles chosen by
//! `EXTRANET_BENCH_ROLE`, so that servers and load generator are separate processes that can be
//! pinned to separate CPUs with `taskset`:
//!
//! - unset: the orchestrator. Builds the release `extranet`, starts it and the bare server on
//!   CPU 0, runs one load process per target on CPU 1, prints the report.
//! - `bare`: the baseline server only (`GET /hello` → `hello`).
//! - `load`: the load generator for one target; prints one `bench-result {json}` line.
//!
//! `BENCH_SECONDS` (default 3) is the measured time per target and round,
//! `BENCH_WARMUP_SECONDS` (default 1) the warm-up before it, `BENCH_ROUNDS` (default 5) how
//! many interleaved rounds run, `BENCH_CONNECTIONS` (default 64) the connection count. The
//! report gives the median of the rounds.
//!
//! The exit status is non-zero only when a server failed to start or a request failed; results
//! below the targets are reported, not failed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use extranet_tests::bench::{
    LOAD_CPU, Pinning, SERVER_CPU, ServerProc, clean_env, connect_http1, connector, cpu_seconds,
    env_f64, env_required, env_usize, extranet_serving, median, percentile, start_server,
};
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio_rustls::{TlsAcceptor, TlsConnector};

const ROLE: &str = "EXTRANET_BENCH_ROLE";
/// Any single connect, handshake or request taking this long counts as a failure.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
const RESULT_PREFIX: &str = "bench-result ";

fn main() -> ExitCode {
    let role = std::env::var(ROLE).unwrap_or_default();
    let res = match role.as_str() {
        "" => orchestrate(),
        "bare" => bare::run().map(|()| ExitCode::SUCCESS),
        "load" => load::run().map(|()| ExitCode::SUCCESS),
        other => Err(anyhow!("unknown {ROLE}={other}")),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!(
                "bench error ({}): {e:#}",
                if role.is_empty() { "main" } else { &role }
            );
            ExitCode::FAILURE
        }
    }
}

// ------------------------------------------------------------------------------------------
// Orchestrator
// ------------------------------------------------------------------------------------------

async fn start_extranet(pin: &Pinning, bin: &Path, data_dir: &Path) -> anyhow::Result<ServerProc> {
    let mut cmd = pin.command(SERVER_CPU, bin);
    cmd.arg("serve").stdin(Stdio::null());
    clean_env(&mut cmd);
    cmd.env("EXTRANET_DATA_DIR", data_dir)
        .env("EXTRANET_SERVER__LISTEN", "127.0.0.1:0")
        .env("EXTRANET_LOG__FILTER", "warn")
        .env("EXTRANET_SERVER__MAX_CONNECTIONS", "1024")
        // The bench signs its staff account in with the password alone: a second factor
        // changes the sign-in, not the signed-in request measured here.
        .env("EXTRANET_AUTH__SECOND_FACTOR_ROLES", "[]")
        // The subprocessors' list is measured as the public file anyone may fetch.
        .env("EXTRANET_SUBPROCESSORS__PUBLIC", "true")
        .env(
            "EXTRANET_KEYS__ENCRYPTION_KEY",
            extranet_tests::keys::new_kek()?,
        )
        .env("NO_COLOR", "1");
    let cert = data_dir.join("tls/dev-cert.pem");
    start_server("extranet", cmd, cert, extranet_serving).await
}

async fn start_bare(pin: &Pinning, me: &Path, dir: &Path) -> anyhow::Result<ServerProc> {
    let mut cmd = pin.command(SERVER_CPU, me);
    // A pipe we never write to: the bare server exits when it closes, i.e. when we are gone,
    // however we went.
    cmd.env(ROLE, "bare")
        .env("BENCH_DIR", dir)
        .stdin(Stdio::piped());
    start_server("bare", cmd, dir.join("bare-cert.pem"), |line| {
        let port = line.strip_prefix("bare: serving port ")?;
        Some(port.trim().parse().context("port in the bare serving line"))
    })
    .await
}

/// What one load run measured.
struct Measured {
    label: &'static str,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    non_200: u64,
    failed: u64,
    detail: String,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
}

impl Measured {
    fn errors(&self) -> u64 {
        self.non_200 + self.failed
    }

    /// Requests per second of server CPU time: unlike req/s, it holds when other processes
    /// take part of the server's CPU (pinning reserves nothing).
    fn per_cpu(&self) -> Option<f64> {
        self.server_cpu.filter(|c| *c > 0.0).map(|c| self.rps / c)
    }
}

struct LoadSettings {
    warmup: f64,
    seconds: f64,
    connections: usize,
}

/// One thing to measure: which server, which path, which request headers.
struct Case {
    label: &'static str,
    on_bare: bool,
    path: &'static str,
    accept_language: Option<&'static str>,
    cookie: Option<String>,
}

async fn run_load(
    pin: &Pinning,
    me: &Path,
    settings: &LoadSettings,
    server: &ServerProc,
    case: &Case,
) -> anyhow::Result<Measured> {
    let label = case.label;
    let mut cmd = pin.command(LOAD_CPU, me);
    cmd.env(ROLE, "load")
        .env("BENCH_ADDR", server.addr.to_string())
        .env("BENCH_CERT", &server.cert)
        .env("BENCH_PATH", case.path)
        .env("BENCH_SERVER_PID", &server.pid)
        .env("BENCH_WARMUP_SECONDS", settings.warmup.to_string())
        .env("BENCH_SECONDS", settings.seconds.to_string())
        .env("BENCH_CONNECTIONS", settings.connections.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(lang) = case.accept_language {
        cmd.env("BENCH_ACCEPT_LANGUAGE", lang);
    }
    if let Some(cookie) = &case.cookie {
        cmd.env("BENCH_COOKIE", cookie);
    }
    let child = cmd.spawn().context("spawn the load generator")?;
    let limit = Duration::from_secs_f64(settings.warmup + settings.seconds) + 3 * IO_TIMEOUT;
    // On timeout the future, and with it the child (kill_on_drop), is dropped.
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .with_context(|| {
            format!("{label}: the load generator did not finish within {limit:?}")
        })??;
    if !out.status.success() {
        bail!("{label}: the load generator failed ({})", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .with_context(|| format!("{label}: no result from the load generator"))?;
    let v: Value = serde_json::from_str(line).context("parse the load result")?;
    let num = |k: &str| v.get(k).and_then(Value::as_f64);
    let count = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    Ok(Measured {
        label,
        rps: num("rps").context("rps")?,
        p50_ms: num("p50_us").unwrap_or(f64::NAN) / 1000.0,
        p99_ms: num("p99_us").unwrap_or(f64::NAN) / 1000.0,
        non_200: count("non_200"),
        failed: count("failed"),
        detail: v
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        server_cpu: num("server_cpu"),
        client_cpu: num("client_cpu"),
    })
}

fn orchestrate() -> anyhow::Result<ExitCode> {
    // The orchestrator mostly waits on children: one thread is plenty.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(orchestrate_async())
}

async fn orchestrate_async() -> anyhow::Result<ExitCode> {
    let settings = LoadSettings {
        warmup: env_f64("BENCH_WARMUP_SECONDS", 1.0)?,
        seconds: env_f64("BENCH_SECONDS", 3.0)?,
        connections: env_usize("BENCH_CONNECTIONS", 64)?.max(1),
    };
    let rounds = env_usize("BENCH_ROUNDS", 5)?.max(1);
    if settings.seconds <= 0.0 {
        bail!("BENCH_SECONDS must be more than 0");
    }
    let me = std::env::current_exe().context("locate the bench executable")?;
    // Under target/release/deps, so this builds and returns target/release/extranet.
    eprintln!("bench: building the release extranet binary (cargo build --release)…");
    let bin = extranet_tests::binary::extranet().await?;
    let pin = Pinning::detect().await;
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("extranet");
    std::fs::create_dir_all(&data_dir)?;
    let password = create_bench_account(&bin, &data_dir).await?;
    let mut extranet = start_extranet(&pin, &bin, &data_dir).await?;
    register(&data_dir).await?;
    let mut bare = start_bare(&pin, &me, dir.path()).await?;
    let access = signin::access_token(&extranet, BENCH_EMAIL, &password).await?;

    // A returning visitor already holds a CSRF cookie (no Set-Cookie to build); the signed-in
    // one also sends the access cookie, so the two differ by the session check alone.
    let csrf = format!(
        "{}=bench-csrf-token-0123456789abcdef0123456789",
        CSRF_COOKIE
    );
    let cases = [
        Case {
            label: "bare /hello",
            on_bare: true,
            path: "/hello",
            accept_language: None,
            cookie: None,
        },
        Case {
            label: "extranet /healthz",
            on_bare: false,
            path: "/healthz",
            accept_language: None,
            cookie: None,
        },
        Case {
            label: "extranet / (nl)",
            on_bare: false,
            path: "/",
            accept_language: Some("nl"),
            cookie: None,
        },
        Case {
            label: "/ returning",
            on_bare: false,
            path: "/",
            accept_language: Some("nl"),
            cookie: Some(csrf.clone()),
        },
        Case {
            label: "/ signed in",
            on_bare: false,
            path: "/",
            accept_language: Some("nl"),
            cookie: Some(format!("{csrf}; {ACCESS_COOKIE}={access}")),
        },
        // The signed-in home (a member of staff on an empty installation): the page layer with
        // its shell, and the home's reads of files, assignments, documents, invitations and the
        // audit log's counts.
        // The public list of subprocessors as JSON (a register of twelve entries).
        Case {
            label: "/subprocessors.json",
            on_bare: false,
            path: "/subprocessors.json",
            accept_language: None,
            cookie: None,
        },
        Case {
            label: "/home staff",
            on_bare: false,
            path: "/home",
            accept_language: Some("nl"),
            cookie: Some(format!("{csrf}; {ACCESS_COOKIE}={access}")),
        },
    ];

    let per_round = (settings.warmup + settings.seconds) * cases.len() as f64;
    eprintln!(
        "bench: {} connections, {rounds} rounds of {} targets ({:.0} s warm-up + {:.0} s each), \
         about {:.0} s…",
        settings.connections,
        cases.len(),
        settings.warmup,
        settings.seconds,
        per_round * rounds as f64
    );
    // Rounds interleave the targets, so that a slow spell of the machine (other tenants, a
    // noisy neighbour) hits every target alike instead of one of them.
    let mut results: Vec<Vec<Measured>> = cases.iter().map(|_| Vec::new()).collect();
    for _ in 0..rounds {
        for (case, out) in cases.iter().zip(results.iter_mut()) {
            let server = if case.on_bare {
                &mut bare
            } else {
                &mut extranet
            };
            let m = run_load(&pin, &me, &settings, server, case).await?;
            server.check_alive()?;
            out.push(m);
        }
    }
    drop(bare);
    drop(extranet);

    report(&settings, rounds, &pin, &bin, loadavg.trim(), &results);
    let errors: u64 = results.iter().flatten().map(Measured::errors).sum();
    if errors > 0 {
        eprintln!();
        eprintln!("!!! {errors} FAILED REQUESTS — the numbers above are not valid !!!");
        for m in results.iter().flatten().filter(|m| m.errors() > 0) {
            eprintln!(
                "!!! {}: {} non-200, {} failed; {}",
                m.label, m.non_200, m.failed, m.detail
            );
        }
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Twelve active subprocessors in the bench server's register, written into its database
/// (the register is changed only through notices, which take a month to apply).
async fn register(data_dir: &Path) -> anyhow::Result<()> {
    use sqlx::Connection;
    let url = format!("sqlite://{}", data_dir.join("extranet.db").display());
    let mut c = sqlx::SqliteConnection::connect(&url).await?;
    for i in 0..12 {
        sqlx::query(
            "INSERT INTO subprocessor (id, legal_name, registration_number, website, service, \
             data_categories, subject_categories, locations, agreement_date, state, created_at, \
             updated_at) VALUES ($1, $2, '0123.456.789', 'https://sub.example', \
             'Hosting and back-ups of the extranet', '[\"identification\",\"contact\",\"usage\"]', \
             '[\"client_contacts\",\"inspectors\"]', \
             '[{\"country\":\"BE\",\"mechanism\":null}]', '2026-01-15', 'active', 0, 0)",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(format!("Subverwerker {i} NV"))
        .execute(&mut c)
        .await?;
    }
    Ok(())
}

const BENCH_EMAIL: &str = "bench@example.org";
const CSRF_COOKIE: &str = "__Host-csrf";
const ACCESS_COOKIE: &str = "__Host-access";

/// A staff account in the bench's own data directory, made with the binary's own command line
/// before the server starts; returns its password.
async fn create_bench_account(bin: &Path, data_dir: &Path) -> anyhow::Result<String> {
    use tokio::io::AsyncWriteExt;
    let password = format!("bench-{}-Correct-Horse-Battery", std::process::id());
    let run = |args: &[&str]| {
        let mut cmd = Command::new(bin);
        cmd.args(args)
            .env("EXTRANET_DATA_DIR", data_dir)
            .env("EXTRANET_LOG__FILTER", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    };
    let out = run(&["migrate"]).output().await?;
    if !out.status.success() {
        bail!("extranet migrate: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut child = run(&[
        "user",
        "create",
        "--email",
        BENCH_EMAIL,
        "--first-name",
        "Bench",
        "--surname",
        "Load",
        "--role",
        "staff",
        "--password-stdin",
    ])
    .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(format!("{password}\n").as_bytes()).await?;
    }
    let out = child.wait_with_output().await?;
    if !out.status.success() {
        bail!(
            "extranet user create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(password)
}

mod signin {
    use super::*;

    /// Signs in through the JSON API and returns the access token.
    pub async fn access_token(
        server: &ServerProc,
        email: &str,
        password: &str,
    ) -> anyhow::Result<String> {
        let cert = std::fs::read(&server.cert)?;
        let (mut sender, driver) =
            connect_http1::<http_body_util::Full<Bytes>>(server.addr, &connector(&cert)?).await?;
        let body = json!({ "email": email, "password": password }).to_string();
        let req = Request::post("/api/v1/auth/login")
            .header(header::HOST, format!("localhost:{}", server.addr.port()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(http_body_util::Full::new(Bytes::from(body)))?;
        let res = tokio::time::timeout(IO_TIMEOUT, sender.send_request(req)).await??;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        drop(driver);
        if status != StatusCode::OK {
            bail!("sign-in for the bench answered {status}");
        }
        let v: Value = serde_json::from_slice(&bytes)?;
        v.get("access_token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .context("no access_token in the sign-in answer")
    }
}

fn report(
    settings: &LoadSettings,
    rounds: usize,
    pin: &Pinning,
    bin: &Path,
    loadavg: &str,
    results: &[Vec<Measured>],
) {
    let pct = |x: Option<f64>| x.map_or_else(|| "?".to_owned(), |x| format!("{:.0}%", x * 100.0));
    let of = |runs: &[Measured], f: fn(&Measured) -> Option<f64>| {
        median(runs.iter().filter_map(f).collect())
    };
    println!();
    println!("medians over {rounds} rounds:");
    println!(
        "{:<20} {:>10} {:>9} {:>9} {:>7} {:>11} {:>11} {:>14}",
        "target", "req/s", "p50 ms", "p99 ms", "errors", "server CPU", "client CPU", "req/server-s"
    );
    for runs in results {
        let Some(first) = runs.first() else { continue };
        println!(
            "{:<20} {:>10.0} {:>9.2} {:>9.2} {:>7} {:>11} {:>11} {:>14}",
            first.label,
            of(runs, |m| Some(m.rps)).unwrap_or(f64::NAN),
            of(runs, |m| Some(m.p50_ms)).unwrap_or(f64::NAN),
            of(runs, |m| Some(m.p99_ms)).unwrap_or(f64::NAN),
            runs.iter().map(Measured::errors).sum::<u64>(),
            pct(of(runs, |m| m.server_cpu)),
            pct(of(runs, |m| m.client_cpu)),
            of(runs, Measured::per_cpu).map_or_else(|| "?".to_owned(), |x| format!("{x:.0}"))
        );
    }
    println!();
    let find = |label: &str| {
        results
            .iter()
            .find(|r| r.first().is_some_and(|m| m.label == label))
    };
    // Each round's ratio is of two runs a few seconds apart; the median of those is the figure.
    let ratios = |a: &[Measured], b: &[Measured], f: fn(&Measured) -> Option<f64>| {
        let xs: Vec<f64> = a
            .iter()
            .zip(b)
            .filter_map(|(x, y)| Some(f(x)? / f(y)?))
            .collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        median(xs).map(|m| (m, lo, hi))
    };
    if let Some(bare) = find("bare /hello") {
        for (name, label, target) in [
            ("healthz / bare", "extranet /healthz", 0.8),
            ("home / bare", "extranet / (nl)", 0.5),
        ] {
            let Some(runs) = find(label) else { continue };
            let Some((ratio, lo, hi)) = ratios(runs, bare, |m| Some(m.rps)) else {
                continue;
            };
            let verdict = if ratio >= target { "PASS" } else { "BELOW" };
            let per_cpu = ratios(runs, bare, Measured::per_cpu)
                .map(|(m, _, _)| format!("; per server CPU-second {m:.2}"))
                .unwrap_or_default();
            println!(
                "{name:<15} {ratio:.2}  (rounds {lo:.2}–{hi:.2}; target ≥ {target})  {verdict}{per_cpu}"
            );
        }
    }
    // The public list of subprocessors against /healthz of the same server, in the same run.
    if let (Some(list), Some(health)) = (find("/subprocessors.json"), find("extranet /healthz"))
        && let Some((ratio, lo, hi)) = ratios(list, health, |m| Some(m.rps))
    {
        let verdict = if ratio >= 0.6 { "PASS" } else { "BELOW" };
        let per_cpu = ratios(list, health, Measured::per_cpu)
            .map(|(m, _, _)| format!("; per server CPU-second {m:.2}"))
            .unwrap_or_default();
        println!(
            "{:<15} {ratio:.2}  (rounds {lo:.2}–{hi:.2}; target ≥ 0.6)  {verdict}{per_cpu}",
            "list / healthz"
        );
    }
    // What the session check adds to a request: the same page, with and without a valid
    // access cookie, in server CPU time per request.
    if let (Some(plain), Some(signed)) = (find("/ returning"), find("/ signed in")) {
        let cost = |runs: &[Measured]| of(runs, Measured::per_cpu).map(|r| 1e6 / r);
        if let (Some(a), Some(b)) = (cost(plain), cost(signed)) {
            println!(
                "authenticated request (token seen before): {b:.1} µs of server CPU vs {a:.1} µs \
                 without a session: {:+.1} µs (target ≤ +5 µs)",
                b - a
            );
        }
    }
    println!();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    match pin {
        Pinning::Pinned => println!(
            "machine: {cores} cores; servers pinned to CPU {SERVER_CPU}, load generator to CPU \
             {LOAD_CPU} (taskset); each server's tokio runtime has one worker on its CPU"
        ),
        Pinning::Unpinned(why) => println!(
            "machine: {cores} cores; NOT pinned ({why}): servers and load generator share the \
             CPUs, so the ratios are less meaningful"
        ),
    }
    println!(
        "load: {} connections, HTTP/1.1 keep-alive over TLS 1.3, {rounds} interleaved rounds of \
         {:.0} s warm-up + {:.0} s measured per target; load average at start: {loadavg}",
        settings.connections, settings.warmup, settings.seconds
    );
    println!("binary: {}", bin.display());
    for runs in results {
        let Some(first) = runs.first() else { continue };
        let (Some(server), Some(client)) = (of(runs, |m| m.server_cpu), of(runs, |m| m.client_cpu))
        else {
            continue;
        };
        if server >= 0.9 {
            continue;
        }
        let why = if client > 0.95 {
            "the load generator was saturated: the figure is a lower bound for the server"
        } else {
            "neither side was: other processes shared the CPUs; trust the per-CPU-second ratios"
        };
        println!(
            "note: {}: server CPU {:.0}%, not saturated; {why}",
            first.label,
            server * 100.0
        );
    }
}

// ------------------------------------------------------------------------------------------
// The bare baseline server
// ------------------------------------------------------------------------------------------

mod bare {
    use super::*;

    /// The runtime extranet's `main` builds: the default multi-thread runtime, whose worker count
    /// is the number of CPUs this process may use — one under `taskset -c 0`. Same scheduler,
    /// same worker count as the real server, so the comparison is of the code above it.
    pub fn run() -> anyhow::Result<()> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(serve())
    }

    fn tls_config(dir: &Path) -> anyhow::Result<Arc<ServerConfig>> {
        let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
        std::fs::write(dir.join("bare-cert.pem"), generated.cert.pem())?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            generated.signing_key.serialize_der(),
        ));
        let cert: CertificateDer<'static> = generated.cert.der().clone();
        // As extranet's `tls::server_config`: TLS 1.3 and 1.2, h2 then http/1.1.
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut cfg = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)?;
        cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        cfg.ignore_client_order = true;
        Ok(Arc::new(cfg))
    }

    async fn serve() -> anyhow::Result<()> {
        let dir = PathBuf::from(env_required("BENCH_DIR")?);
        let acceptor = TlsAcceptor::from(tls_config(&dir)?);
        let app = Router::new().route("/hello", get(|| async { "hello" }));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        println!("bare: serving port {}", listener.local_addr()?.port());

        // Exit when the orchestrator goes away (it holds the other end of stdin).
        tokio::spawn(async {
            let mut sink = Vec::new();
            let _ = tokio::io::stdin().read_to_end(&mut sink).await;
            std::process::exit(0);
        });

        // extranet's `server::run_https` without the limits: accept, then one task per
        // connection for the handshake and hyper's auto (h1/h2) connection.
        loop {
            let (tcp, _) = match listener.accept().await {
                Ok(pair) => pair,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let service = TowerToHyperService::new(app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tls), service)
                    .await;
            });
        }
    }
}

// ------------------------------------------------------------------------------------------
// The load generator
// ------------------------------------------------------------------------------------------

mod load {
    use super::*;

    struct Target {
        addr: SocketAddr,
        path: String,
        host: String,
        accept_language: Option<String>,
        cookie: Option<String>,
        connector: TlsConnector,
    }

    #[derive(Clone, Copy)]
    struct Window {
        start: Instant,
        end: Instant,
    }

    #[derive(Default)]
    struct ConnStats {
        latencies_us: Vec<u32>,
        non_200: u64,
        failed: u64,
        last_problem: Option<String>,
    }

    /// One thread: on its own CPU a current-thread runtime is the cheapest client there is, and
    /// the point is to leave the server as the bottleneck.
    pub fn run() -> anyhow::Result<()> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(generate())
    }

    async fn generate() -> anyhow::Result<()> {
        let addr: SocketAddr = env_required("BENCH_ADDR")?.parse()?;
        let cert = std::fs::read(env_required("BENCH_CERT")?).context("read the certificate")?;
        let warmup = env_f64("BENCH_WARMUP_SECONDS", 2.0)?;
        let seconds = env_f64("BENCH_SECONDS", 8.0)?;
        let connections: usize = env_required("BENCH_CONNECTIONS")?.parse()?;
        let server_pid = std::env::var("BENCH_SERVER_PID").ok();
        let target = Arc::new(Target {
            addr,
            path: env_required("BENCH_PATH")?,
            host: format!("localhost:{}", addr.port()),
            accept_language: std::env::var("BENCH_ACCEPT_LANGUAGE").ok(),
            cookie: std::env::var("BENCH_COOKIE").ok(),
            connector: connector(&cert)?,
        });

        let t0 = Instant::now();
        let start = t0 + Duration::from_secs_f64(warmup);
        let window = Window {
            start,
            end: start + Duration::from_secs_f64(seconds),
        };
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..connections {
            tasks.spawn(connection(target.clone(), window));
        }
        // CPU use of both sides over the measured window, to tell who was the bottleneck.
        let sampler = tokio::spawn(async move {
            tokio::time::sleep_until(window.start.into()).await;
            let pid = server_pid.as_deref().unwrap_or("0");
            let before = (Instant::now(), cpu_seconds(pid), cpu_seconds("self"));
            tokio::time::sleep_until(window.end.into()).await;
            let elapsed = before.0.elapsed().as_secs_f64();
            let share = |b: Option<f64>, a: Option<f64>| Some((a? - b?) / elapsed);
            (
                share(before.1, cpu_seconds(pid)),
                share(before.2, cpu_seconds("self")),
            )
        });

        let mut all = ConnStats::default();
        let deadline = window.end + 2 * IO_TIMEOUT;
        while let Ok(Some(joined)) =
            tokio::time::timeout_at(deadline.into(), tasks.join_next()).await
        {
            let s = joined?;
            all.latencies_us.extend(s.latencies_us);
            all.non_200 += s.non_200;
            all.failed += s.failed;
            if s.last_problem.is_some() {
                all.last_problem = s.last_problem;
            }
        }
        if !tasks.is_empty() {
            all.failed += tasks.len() as u64;
            all.last_problem = Some(format!("{} connections did not stop in time", tasks.len()));
            tasks.abort_all();
        }
        let (server_cpu, client_cpu) = sampler.await?;

        let lat = &mut all.latencies_us;
        lat.sort_unstable();
        let result = json!({
            "requests": lat.len(),
            "rps": lat.len() as f64 / seconds,
            "p50_us": percentile(lat, 0.50),
            "p99_us": percentile(lat, 0.99),
            "non_200": all.non_200,
            "failed": all.failed,
            "detail": all.last_problem.unwrap_or_default(),
            "server_cpu": server_cpu,
            "client_cpu": client_cpu,
        });
        println!("{RESULT_PREFIX}{result}");
        Ok(())
    }

    /// One client connection, reconnecting after a failure, until the window ends.
    async fn connection(target: Arc<Target>, window: Window) -> ConnStats {
        let mut stats = ConnStats {
            // Room for a few thousand requests per connection without reallocating mid-run.
            latencies_us: Vec::with_capacity(4096),
            ..ConnStats::default()
        };
        while Instant::now() < window.end {
            if let Err(e) = session(&target, window, &mut stats).await {
                stats.failed += 1;
                stats.last_problem = Some(format!("{e:#}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        stats
    }

    async fn session(target: &Target, window: Window, stats: &mut ConnStats) -> anyhow::Result<()> {
        let (mut sender, _driver) =
            connect_http1::<Empty<Bytes>>(target.addr, &target.connector).await?;

        // Back to back: the next request leaves as soon as the previous response is read.
        while Instant::now() < window.end {
            let mut req = Request::get(target.path.as_str()).header(header::HOST, &target.host);
            if let Some(lang) = &target.accept_language {
                req = req.header(header::ACCEPT_LANGUAGE, lang);
            }
            if let Some(cookie) = &target.cookie {
                req = req.header(header::COOKIE, cookie);
            }
            let req = req.body(Empty::<Bytes>::new())?;
            let sent = Instant::now();
            let status = tokio::time::timeout(IO_TIMEOUT, async {
                sender.ready().await?;
                let res = sender.send_request(req).await?;
                let status = res.status();
                // Read the whole body: the connection is reusable only after it.
                res.into_body().collect().await?;
                Ok::<StatusCode, anyhow::Error>(status)
            })
            .await
            .context("request timed out")??;
            let done = Instant::now();
            // A signed-in "/" answers with a redirect to the home page: an answer, not an error.
            if !(status.is_success() || status.is_redirection()) {
                stats.non_200 += 1;
                stats.last_problem = Some(format!("{} answered {status}", target.path));
            }
            if done >= window.start && done <= window.end {
                let us = done.duration_since(sent).as_micros();
                stats
                    .latencies_us
                    .push(u32::try_from(us).unwrap_or(u32::MAX));
            }
        }
        Ok(())
    }
}
