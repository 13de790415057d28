//! Documents over HTTPS with the real `extranet` binary: a 1 GiB upload and download, the
//! download compared with nginx serving the same file, the server's peak memory meanwhile, and
//! the latency of a dossier's first page of documents when the dossier holds 10,000.
//!
//! `cargo bench -p extranet-tests --bench documents` (nginx must be installed:
//! `infra/scripts/install-nginx.sh`). One binary, two roles chosen by `EXTRANET_BENCH_ROLE`:
//!
//! - unset: the orchestrator. Builds the release `extranet`, writes the test file, starts
//!   `extranet demo` (SQLite, local object store, its generated development certificate, the
//!   demo accounts) and nginx, runs a client process per measurement, prints the report.
//! - `client`: one measurement (`BENCH_OP` = `upload`, `download` or `list` over one HTTP/1.1
//!   keep-alive connection, TLS 1.3; or `write`, the local write reference); prints one
//!   `bench-result {json}` line.
//!
//! How it runs:
//!
//! - The test file is `BENCH_SIZE_MIB` (default 1024) MiB: a PDF header, then pseudo-random
//!   bytes (xorshift), written once to a temporary file; its SHA-256 is computed meanwhile.
//! - The demo starts once to load its data, and is stopped (SIGTERM); then `BENCH_DOCUMENTS`
//!   (default 10,000) `document` rows, each with a `document_version` row (version 1, a unique
//!   object key whose object does not exist: listing does not read objects), are inserted in
//!   one transaction straight into its SQLite database, in the last dossier that
//!   `admin@betonbouw.example` (client admin) sees. The demo is started again, signed in to,
//!   and the measurements run against that second process once the memory the sign-in took has
//!   been released (see peak RSS below).
//! - `BENCH_ROUNDS` (default 3) rounds, each: the local write reference and the upload of the
//!   file as a new document of the first dossier; the download of the first round's document
//!   from the extranet and of the same object file from nginx. Within a round the order of
//!   each pair alternates from one round to the next. The report gives the median of the
//!   rounds, with the lowest and highest.
//! - Then `BENCH_REQUESTS` (default 200) sequential `GET /api/v1/dossiers/{id}/documents?limit=50`
//!   of the seeded dossier, after 10 unmeasured ones, on one connection.
//!
//! What the figures mean:
//!
//! - **upload MB/s** (MB = 10⁶ bytes): the file's size divided by the time from sending the
//!   request to having read the `201` answer. The client streams the file from disk in 256 KiB
//!   chunks inside a `multipart/form-data` body (fields `title`, `doc_type`, then `file`) with
//!   a `Content-Length`, through hyper and rustls. The time covers what the server does: TLS,
//!   multipart parsing, type sniffing, SHA-256, writing to the local object store, completing
//!   the object and the database transaction that publishes the version. The server's SHA-256
//!   is checked against the one computed when the file was written. Target ≥ 800 MB/s.
//! - **local write (ref.)**: the ceiling the file system puts on uploads: the same number of
//!   bytes written to a new file beside the objects, in 1 MiB `write`s as the local object
//!   store does, without fsync, by a process on the server's CPU. Writing into fresh
//!   page-cache pages is the dominant cost of an upload where memory is slow to hand out (a
//!   VM whose host backs guest memory lazily), so **upload / local write** says how much the
//!   server adds to what any writer would pay.
//! - **download MB/s**: the document's size divided by the time from sending
//!   `GET /api/v1/documents/{id}/content` to the body's last byte. The client counts the
//!   body's bytes and drops them, never writes them. nginx's row is the same client code
//!   fetching the object file itself (`DATA/objects/documents/<key>`) from nginx: same file,
//!   same page cache, same certificate, TLS 1.3 only, one process, HTTP/1.1; `sendfile on` as
//!   a production nginx has it, although with TLS nginx reads the file into its buffers and
//!   encrypts in user space (sendfile applies to TLS only with kTLS, off by default and not
//!   enabled here). **download extranet/nginx** is the median of each round's ratio. Target
//!   ≥ 0.95.
//! - **server / client / others**: CPU time over the transfer's duration, in CPUs (100% = one
//!   CPU busy throughout): the server process (all threads), the client, and everything else
//!   on the machine (from `/proc/stat`). A server near 100% is the bottleneck; "others" above
//!   10% means the machine was not quiet and the figure is disturbed (the report says so).
//! - **peak RSS**: the extranet process's resident-set high-water mark (`VmHWM`), reset
//!   (`/proc/<pid>/clear_refs`, 5) just before each transfer and read just after it, so it is
//!   the peak during that transfer; the figure is the highest over the rounds. Beside it: its
//!   growth over the RSS just before the transfer, the highest anonymous RSS (sampled every
//!   10 ms: VmHWM itself also counts the binary's file-backed pages), and the server's thread
//!   count before and after each transfer (its blocking pool's threads each keep allocator
//!   memory of their own). The RSS once
//!   started, just after signing in and before the first transfer is given for scale: checking
//!   a password (argon2id, 19 MiB) leaves that memory with the allocator of the blocking thread
//!   that did it until the thread ends, idle, about 10 s later, so the bench waits (at most
//!   20 s) for at least half of it to go before measuring. Target < 48 MiB.
//! - **listing p50 / p99**: per-request latency, from sending the request to having read the
//!   whole JSON answer (50 documents of the 10,000, newest first, with their latest versions;
//!   each listing also appends an audit record). The target (< 20 ms) is judged on the p99.
//!
//! Pinning: when `taskset` can (two CPUs or more), the servers (extranet with all its threads,
//! nginx as a single process: `master_process off`) and the local write run on CPU 0, the
//! client on CPU 1; the extranet's tokio runtime then has one worker, and its blocking pool
//! shares that CPU. Streaming works pinned: each side has a CPU of its own.
//!
//! The exit status is non-zero only when something failed to run (a server did not start, a
//! request failed, a checksum or a length did not match, nginx is missing); figures that miss
//! their target are reported, not failed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use extranet_tests::bench::{
    AbortOnDrop, LOAD_CPU, Pinning, SERVER_CPU, ServerProc, busy_seconds, clean_env, connect_http1,
    connector, cpu_seconds, env_required, env_usize, extranet_serving, median, percentile,
    reset_peak_rss, start_listening, start_server, status_value,
};
use futures::StreamExt;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::process::Command;
use tokio_rustls::TlsConnector;
use uuid::Uuid;

const ROLE: &str = "EXTRANET_BENCH_ROLE";
const RESULT_PREFIX: &str = "bench-result ";
/// Any connect, handshake or small request taking this long counts as a failure.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// A whole transfer (or the whole listing run) taking this long counts as a failure.
const RUN_TIMEOUT: Duration = Duration::from_secs(180);
/// The demo's client admin and the one password of the demo accounts.
const DEMO_EMAIL: &str = "admin@betonbouw.example";
const DEMO_PASSWORD: &str = "demo-Extranet-2026!";
const DOC_TYPE: &str = "test_report";
/// The client's read size for the upload.
const UPLOAD_CHUNK: usize = 256 * 1024;
/// The local object store's part size (`LOCAL_PART` in services/platform/src/transfer.rs), for
/// the local write reference.
const UPLOAD_PART: usize = 1024 * 1024;
/// Unmeasured listing requests first (connection, caches, prepared statements).
const LIST_WARMUP: usize = 10;
const LIST_LIMIT: usize = 50;

const MIB: u64 = 1024 * 1024;
/// The longest the bench waits for the sign-in's memory to be released.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);
const UPLOAD_TARGET_MBS: f64 = 800.0;
const RATIO_TARGET: f64 = 0.95;
const PEAK_TARGET_MIB: f64 = 48.0;
const LIST_TARGET_MS: f64 = 20.0;

fn main() -> ExitCode {
    let role = std::env::var(ROLE).unwrap_or_default();
    let res = match role.as_str() {
        "" => orchestrate(),
        "client" => client::run().map(|()| ExitCode::SUCCESS),
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 from the TLS provider's own implementation (aws-lc), so the bench needs no hashing
/// crate of its own.
fn sha256() -> anyhow::Result<Box<dyn rustls::crypto::hash::Context>> {
    let suite = rustls::crypto::aws_lc_rs::cipher_suite::TLS13_AES_128_GCM_SHA256;
    let tls13 = suite.tls13().context("a TLS 1.3 suite")?;
    Ok(tls13.common.hash_provider.start())
}

// ------------------------------------------------------------------------------------------
// Orchestrator
// ------------------------------------------------------------------------------------------

struct Settings {
    rounds: usize,
    size: u64,
    documents: usize,
    requests: usize,
}

/// The file every upload sends: a PDF header, then xorshift bytes. Returns its SHA-256.
fn write_test_file(path: &Path, size: u64) -> anyhow::Result<String> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(MIB as usize, std::fs::File::create(path)?);
    let mut hash = sha256()?;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut buf = vec![0u8; MIB as usize];
    let mut written = 0u64;
    while written < size {
        for word in buf.chunks_exact_mut(8) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            word.copy_from_slice(&state.to_le_bytes());
        }
        if written == 0 {
            let head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
            buf[..head.len()].copy_from_slice(head);
        }
        let n = usize::try_from((size - written).min(MIB)).unwrap_or(0);
        out.write_all(&buf[..n])?;
        hash.update(&buf[..n]);
        written += n as u64;
    }
    out.flush()?;
    Ok(hex(hash.finish().as_ref()))
}

async fn start_demo(pin: &Pinning, bin: &Path, data_dir: &Path) -> anyhow::Result<ServerProc> {
    let mut cmd = pin.command(SERVER_CPU, bin);
    cmd.arg("demo")
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null());
    clean_env(&mut cmd);
    cmd.env("EXTRANET_LOG__FILTER", "warn").env("NO_COLOR", "1");
    let cert = data_dir.join("tls/dev-cert.pem");
    start_server("extranet", cmd, cert, extranet_serving).await
}

fn find_nginx() -> Option<PathBuf> {
    let fixed = [
        "/usr/sbin/nginx",
        "/usr/local/sbin/nginx",
        "/usr/local/nginx/sbin/nginx",
    ];
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join("nginx")).collect())
        .unwrap_or_default();
    fixed
        .iter()
        .map(PathBuf::from)
        .chain(on_path)
        .find(|p| p.is_file())
}

/// nginx in the foreground, one process, serving `root` over TLS 1.3 with the extranet's
/// development certificate; otherwise its defaults (buffers, `ssl_buffer_size`, no kTLS).
async fn start_nginx(
    pin: &Pinning,
    bin: &Path,
    dir: &Path,
    data_dir: &Path,
) -> anyhow::Result<ServerProc> {
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(prefix.join("tmp"))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let p = |path: &Path| path.display().to_string();
    let tmp = p(&prefix.join("tmp"));
    let conf = format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {pid};
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.3;
        root {root};
    }}
}}
"#,
        pid = p(&prefix.join("nginx.pid")),
        cert = p(&data_dir.join("tls/dev-cert.pem")),
        key = p(&data_dir.join("tls/dev-key.pem")),
        root = p(&data_dir.join("objects")),
    );
    let conf_path = prefix.join("nginx.conf");
    std::fs::write(&conf_path, conf)?;
    let mut cmd = pin.command(SERVER_CPU, bin);
    cmd.arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(&conf_path)
        .args(["-e", "stderr"])
        .stdin(Stdio::null());
    start_listening("nginx", cmd, data_dir.join("tls/dev-cert.pem"), addr).await
}

/// One request on a fresh connection, for the orchestrator's few API calls.
async fn call(
    server: &ServerProc,
    req: http::request::Builder,
    token: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let cert = std::fs::read(&server.cert)?;
    let (mut sender, _driver) =
        connect_http1::<Full<Bytes>>(server.addr, &connector(&cert)?).await?;
    let mut req = req.header(header::HOST, format!("localhost:{}", server.addr.port()));
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Bytes::from(v.to_string())
        }
        None => Bytes::new(),
    };
    let res = tokio::time::timeout(IO_TIMEOUT, async {
        let res = sender.send_request(req.body(Full::new(body))?).await?;
        let status = res.status();
        let bytes = res.into_body().collect().await?.to_bytes();
        Ok::<_, anyhow::Error>((status, bytes))
    })
    .await
    .context("request timed out")??;
    let value = serde_json::from_slice(&res.1).unwrap_or(Value::Null);
    Ok((res.0, value))
}

async fn sign_in(server: &ServerProc) -> anyhow::Result<String> {
    let (status, v) = call(
        server,
        Request::post("/api/v1/auth/login"),
        None,
        Some(json!({ "email": DEMO_EMAIL, "password": DEMO_PASSWORD })),
    )
    .await?;
    if status != StatusCode::OK {
        bail!("signing in as {DEMO_EMAIL} answered {status}: {v}");
    }
    v.get("access_token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("no access_token in the sign-in answer")
}

/// The ids of the dossiers the demo's client admin sees.
async fn dossiers(server: &ServerProc, token: &str) -> anyhow::Result<Vec<Uuid>> {
    let (status, v) = call(server, Request::get("/api/v1/dossiers"), Some(token), None).await?;
    if status != StatusCode::OK {
        bail!("GET /api/v1/dossiers answered {status}: {v}");
    }
    let ids: Vec<Uuid> = v
        .get("items")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|d| d.get("id")?.as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        bail!("{DEMO_EMAIL} sees no dossier: {v}");
    }
    Ok(ids)
}

async fn open_db(data_dir: &Path) -> anyhow::Result<sqlx::SqliteConnection> {
    use sqlx::Connection;
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data_dir.join("extranet.db"))
        .create_if_missing(false);
    Ok(sqlx::SqliteConnection::connect_with(&options).await?)
}

/// `count` documents with one version each in `dossier`, in one transaction, while the server
/// is stopped. Their objects do not exist; their keys are unique.
async fn seed_documents(data_dir: &Path, dossier: Uuid, count: usize) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = open_db(data_dir).await?;
    let person: Uuid = sqlx::query_scalar("SELECT id FROM person WHERE email = $1")
        .bind(DEMO_EMAIL)
        .fetch_one(&mut conn)
        .await
        .context("the demo client admin's person row")?;
    // Older than anything uploaded during the run, a second apart.
    let start = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    let mut tx = conn.begin().await?;
    for i in 0..count {
        let (id, at) = (Uuid::new_v4(), start + time::Duration::seconds(i as i64));
        sqlx::query(
            "INSERT INTO document (id, dossier_id, title, doc_type, versions, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, 1, $5, $6, $6)",
        )
        .bind(id)
        .bind(dossier)
        .bind(format!("Bench report {i:05}"))
        .bind(DOC_TYPE)
        .bind(person)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO document_version (document_id, version, object_key, size, sha256, \
             media_type, file_name, uploaded_by, uploaded_at) \
             VALUES ($1, 1, $2, $3, $4, 'application/pdf', $5, $6, $7)",
        )
        .bind(id)
        .bind(format!("documents/bench-seed-{id}"))
        .bind(100_000 + i as i64)
        .bind(format!("{:064x}", i))
        .bind(format!("bench-report-{i:05}.pdf"))
        .bind(person)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    conn.close().await?;
    Ok(())
}

/// Where the local object store keeps a document's latest version, relative to its root.
async fn object_key(data_dir: &Path, document: Uuid) -> anyhow::Result<String> {
    use sqlx::Connection;
    let mut conn = open_db(data_dir).await?;
    let key: String = sqlx::query_scalar(
        "SELECT v.object_key FROM document_version v JOIN document d ON d.id = v.document_id \
         AND v.version = d.versions WHERE d.id = $1",
    )
    .bind(document)
    .fetch_one(&mut conn)
    .await
    .context("the uploaded document's object key")?;
    conn.close().await?;
    Ok(key)
}

/// What one client run measured.
struct Measured {
    /// Bytes moved per second of the transfer (10⁶ bytes).
    mbs: f64,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
    /// What every other process took meanwhile, in CPUs.
    other_cpu: Option<f64>,
    /// The server's VmHWM over the run, when it could be reset first, and its VmRSS before.
    peak: Option<u64>,
    rss_before: Option<u64>,
    /// The highest RssAnon seen, sampled every 10 ms.
    anon_peak: Option<u64>,
    /// The server's thread count before and after.
    threads: Option<(u64, u64)>,
    result: Value,
}

/// Runs this binary as a client once and reads its result line.
async fn run_role(mut cmd: Command, what: &str) -> anyhow::Result<Value> {
    cmd.env(ROLE, "client")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let child = cmd.spawn().context("spawn the client")?;
    let limit = RUN_TIMEOUT + IO_TIMEOUT;
    // On timeout the future, and with it the child (kill_on_drop), is dropped.
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .with_context(|| format!("{what}: no result within {limit:?}"))??;
    if !out.status.success() {
        bail!("{what}: the client failed ({})", out.status);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .with_context(|| format!("{what}: no result from the client"))?;
    serde_json::from_str(line).context("parse the client's result")
}

impl Measured {
    fn from(result: Value, peak: Option<u64>, rss_before: Option<u64>) -> Measured {
        let num = |k: &str| result.get(k).and_then(Value::as_f64);
        let mbs = match (num("bytes"), num("seconds")) {
            (Some(b), Some(s)) if s > 0.0 => b / s / 1e6,
            _ => f64::NAN,
        };
        Measured {
            mbs,
            server_cpu: num("server_cpu"),
            client_cpu: num("client_cpu"),
            other_cpu: num("other_cpu"),
            peak,
            rss_before,
            anon_peak: None,
            threads: None,
            result,
        }
    }
}

/// Runs the client once, pinned to the load CPU, against `server`; `track_memory` resets the
/// server's VmHWM before and reads it after.
async fn run_client(
    pin: &Pinning,
    me: &Path,
    server: &mut ServerProc,
    token: &str,
    op: &[(&str, &str)],
    track_memory: bool,
) -> anyhow::Result<Measured> {
    let mut cmd = pin.command(LOAD_CPU, me);
    cmd.env("BENCH_ADDR", server.addr.to_string())
        .env("BENCH_CERT", &server.cert)
        .env("BENCH_SERVER_PID", &server.pid)
        .env("BENCH_TOKEN", token)
        .envs(op.iter().copied());
    let what = op
        .iter()
        .find(|(k, _)| *k == "BENCH_OP")
        .map_or("client", |(_, v)| *v);
    let what = format!("{what} on {}", server.name);
    let rss_before = status_value(&server.pid, "VmRSS");
    let threads_before = status_value(&server.pid, "Threads");
    let reset = track_memory && reset_peak_rss(&server.pid).is_ok();
    // VmHWM has no anonymous/file-backed split: sample RssAnon meanwhile for one.
    let anon_peak = Arc::new(AtomicU64::new(0));
    let sampler = track_memory.then(|| {
        let (pid, peak) = (server.pid.clone(), anon_peak.clone());
        AbortOnDrop(tokio::spawn(async move {
            loop {
                if let Some(anon) = status_value(&pid, "RssAnon") {
                    peak.fetch_max(anon, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }))
    });
    let result = run_role(cmd, &what).await;
    let peak = reset.then(|| status_value(&server.pid, "VmHWM")).flatten();
    drop(sampler);
    server.check_alive()?;
    let mut m = Measured::from(result?, peak, rss_before);
    m.threads = threads_before.zip(status_value(&server.pid, "Threads"));
    m.anon_peak = Some(anon_peak.load(Ordering::Relaxed)).filter(|p| track_memory && *p > 0);
    Ok(m)
}

/// The local write reference, pinned to the server's CPU: a new file of `size` bytes in
/// `dir` (the object store's file system), kept until the end like the uploaded objects.
async fn run_write(pin: &Pinning, me: &Path, dir: &Path, size: u64) -> anyhow::Result<Measured> {
    let mut cmd = pin.command(SERVER_CPU, me);
    cmd.env("BENCH_OP", "write")
        .env("BENCH_FILE", dir.join(format!("write-{}", Uuid::new_v4())))
        .env("BENCH_SIZE", size.to_string());
    Ok(Measured::from(
        run_role(cmd, "local write").await?,
        None,
        None,
    ))
}

fn orchestrate() -> anyhow::Result<ExitCode> {
    // The orchestrator mostly waits on children: one thread is plenty.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(orchestrate_async())
}

/// The uploaded document every download fetches.
struct Target {
    id: Uuid,
    size: u64,
    sha256: String,
    /// Its object's path under the object store's root, which is nginx's root.
    key: String,
}

async fn orchestrate_async() -> anyhow::Result<ExitCode> {
    extranet_tests::init_crypto();
    let settings = Settings {
        rounds: env_usize("BENCH_ROUNDS", 3)?.max(1),
        size: (env_usize("BENCH_SIZE_MIB", 1024)?.max(1) as u64) * MIB,
        documents: env_usize("BENCH_DOCUMENTS", 10_000)?,
        requests: env_usize("BENCH_REQUESTS", 200)?.max(1),
    };
    let started = Instant::now();
    let me = std::env::current_exe().context("locate the bench executable")?;
    // Under target/release/deps, so this builds and returns target/release/extranet.
    eprintln!("bench: building the release extranet binary (cargo build --release)…");
    let bin = extranet_tests::binary::extranet().await?;
    let pin = Pinning::detect().await;
    let nginx = find_nginx();
    if nginx.is_none() {
        eprintln!("bench: nginx not found (infra/scripts/install-nginx.sh installs it)");
    }
    let loadavg = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("extranet");
    std::fs::create_dir_all(&data_dir)?;
    let file = dir.path().join("upload.pdf");
    eprintln!("bench: writing the {} MiB test file…", settings.size / MIB);
    let expected_sha = {
        let (file, size) = (file.clone(), settings.size);
        tokio::task::spawn_blocking(move || write_test_file(&file, size)).await??
    };

    eprintln!("bench: first demo start (loads the demo data)…");
    let server = start_demo(&pin, &bin, &data_dir).await?;
    let token = sign_in(&server).await?;
    let ids = dossiers(&server, &token).await?;
    let (upload_dossier, list_dossier) = (ids[0], ids[ids.len() - 1]);
    server.stop(Duration::from_secs(15)).await?;
    eprintln!(
        "bench: seeding {} documents into dossier {list_dossier}…",
        settings.documents
    );
    seed_documents(&data_dir, list_dossier, settings.documents).await?;
    let mut server = start_demo(&pin, &bin, &data_dir).await?;
    let started_rss = status_value(&server.pid, "VmRSS");
    let token = sign_in(&server).await?;
    let signed_in_rss = status_value(&server.pid, "VmRSS");
    let mut nginx = match &nginx {
        Some(bin) => Some(start_nginx(&pin, bin, dir.path(), &data_dir).await?),
        None => None,
    };
    eprintln!("bench: waiting for the sign-in's memory to be released…");
    let settled = settle(&server, started_rss, signed_in_rss).await;
    let idle = Resident::of(&server.pid);

    eprintln!(
        "bench: {} rounds of upload + 2 downloads of {} MiB…",
        settings.rounds,
        settings.size / MIB
    );
    let upload_path = format!("/api/v1/dossiers/{upload_dossier}/documents");
    let file_arg = file.display().to_string();
    let mut uploads = Vec::new();
    let mut local_writes = Vec::new();
    let mut from_extranet = Vec::new();
    let mut from_nginx = Vec::new();
    let mut target: Option<Target> = None;
    for round in 0..settings.rounds {
        // The local write and the upload each fill fresh page-cache pages; alternate which
        // goes first, as the downloads do.
        if round % 2 == 0 {
            local_writes.push(run_write(&pin, &me, dir.path(), settings.size).await?);
        }
        let up = run_client(
            &pin,
            &me,
            &mut server,
            &token,
            &[
                ("BENCH_OP", "upload"),
                ("BENCH_PATH", &upload_path),
                ("BENCH_FILE", &file_arg),
            ],
            true,
        )
        .await?;
        let doc = check_upload(&up.result, settings.size, &expected_sha)
            .with_context(|| server_log(&server))?;
        uploads.push(up);
        if round % 2 == 1 {
            local_writes.push(run_write(&pin, &me, dir.path(), settings.size).await?);
        }
        let t = match &target {
            Some(t) => t,
            None => {
                let key = object_key(&data_dir, doc).await?;
                target.insert(Target {
                    id: doc,
                    size: settings.size,
                    sha256: expected_sha.clone(),
                    key,
                })
            }
        };
        let extranet_path = format!("/api/v1/documents/{}/content", t.id);
        let nginx_path = format!("/{}", t.key);
        let mut order = [true, false];
        if round % 2 == 1 {
            order.reverse();
        }
        for on_extranet in order {
            if on_extranet {
                let m = run_client(
                    &pin,
                    &me,
                    &mut server,
                    &token,
                    &[("BENCH_OP", "download"), ("BENCH_PATH", &extranet_path)],
                    true,
                )
                .await?;
                check_download(&m.result, t, true).with_context(|| server_log(&server))?;
                from_extranet.push(m);
            } else if let Some(nginx) = nginx.as_mut() {
                let m = run_client(
                    &pin,
                    &me,
                    nginx,
                    &token,
                    &[("BENCH_OP", "download"), ("BENCH_PATH", &nginx_path)],
                    false,
                )
                .await?;
                check_download(&m.result, t, false).with_context(|| server_log(nginx))?;
                from_nginx.push(m);
            }
        }
    }

    eprintln!(
        "bench: {} listings of the first {LIST_LIMIT} of dossier {list_dossier}…",
        settings.requests
    );
    let list_path = format!("/api/v1/dossiers/{list_dossier}/documents?limit={LIST_LIMIT}");
    let requests = settings.requests.to_string();
    let listing = run_client(
        &pin,
        &me,
        &mut server,
        &token,
        &[
            ("BENCH_OP", "list"),
            ("BENCH_PATH", &list_path),
            ("BENCH_REQUESTS", &requests),
        ],
        false,
    )
    .await?;
    check_listing(&listing.result, settings.requests).with_context(|| server_log(&server))?;
    if let Some(nginx) = nginx.take() {
        nginx.stop(Duration::from_secs(5)).await?;
    }
    server.stop(Duration::from_secs(15)).await?;

    let report = Report {
        settings: &settings,
        pin: &pin,
        bin: &bin,
        nginx_bin: nginx_version(find_nginx().as_deref()).await,
        loadavg: loadavg.trim(),
        idle,
        started_rss,
        signed_in_rss,
        settled,
        local_writes: &local_writes,
        uploads: &uploads,
        from_extranet: &from_extranet,
        from_nginx: &from_nginx,
        listing: &listing,
        elapsed: started.elapsed(),
    };
    report.print();
    if from_nginx.is_empty() {
        eprintln!();
        eprintln!("!!! nginx is not installed: the download comparison did not run !!!");
        eprintln!("!!! infra/scripts/install-nginx.sh installs it                   !!!");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Waits until the extranet has released at least half of what signing in added to its RSS.
/// Verifying a password (argon2id, 19 MiB) leaves that memory cached by the allocator of the
/// blocking thread that did it, until the thread ends, idle, about 10 s later: not something
/// the transfers should be charged with.
async fn settle(server: &ServerProc, before: Option<u64>, after: Option<u64>) -> Option<Duration> {
    let start = Instant::now();
    let (before, after) = (before?, after?);
    let goal = after - after.saturating_sub(before) / 2;
    while start.elapsed() < SETTLE_TIMEOUT {
        if status_value(&server.pid, "VmRSS").is_some_and(|rss| rss <= goal) {
            return Some(start.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

async fn nginx_version(bin: Option<&Path>) -> Option<String> {
    let out = Command::new(bin?).arg("-v").output().await.ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    Some(text.trim().trim_start_matches("nginx version: ").to_owned())
}

/// The server's output so far, to explain a failure.
fn server_log(server: &ServerProc) -> String {
    format!("{} output:\n{}", server.name, server.stderr())
}

/// The upload was accepted whole with the right checksum; returns the new document's id.
fn check_upload(v: &Value, size: u64, sha: &str) -> anyhow::Result<Uuid> {
    let status = v.get("status").and_then(Value::as_u64).unwrap_or(0);
    let body: Value = v
        .get("body")
        .and_then(Value::as_str)
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    if status != 201 {
        bail!("the upload answered {status}: {body}");
    }
    let got_size = body.get("size").and_then(Value::as_u64);
    let got_sha = body.get("sha256").and_then(Value::as_str);
    if got_size != Some(size) || got_sha != Some(sha) {
        bail!(
            "the upload was stored as {got_size:?} bytes with SHA-256 {got_sha:?}; sent {size} \
             bytes with SHA-256 {sha}"
        );
    }
    body.get("id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .context("no id in the upload's answer")
}

fn check_download(v: &Value, t: &Target, with_etag: bool) -> anyhow::Result<()> {
    let status = v.get("status").and_then(Value::as_u64).unwrap_or(0);
    let bytes = v.get("bytes").and_then(Value::as_u64).unwrap_or(0);
    if status != 200 || bytes != t.size {
        bail!(
            "a download answered {status} with {bytes} bytes (expected 200 with {}): {}",
            t.size,
            v.get("detail").and_then(Value::as_str).unwrap_or_default()
        );
    }
    let etag = v.get("etag").and_then(Value::as_str).unwrap_or_default();
    if with_etag && etag.trim_matches('"') != t.sha256 {
        bail!(
            "the download's ETag {etag} is not the file's SHA-256 {}",
            t.sha256
        );
    }
    Ok(())
}

fn check_listing(v: &Value, requests: usize) -> anyhow::Result<()> {
    let count = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    if count("failed") > 0 || count("measured") != requests as u64 {
        bail!(
            "the listing run had {} non-200 answers in {} measured requests: {}",
            count("failed"),
            count("measured"),
            v.get("detail").and_then(Value::as_str).unwrap_or_default()
        );
    }
    if count("items") != LIST_LIMIT as u64 || v.get("has_next") != Some(&Value::Bool(true)) {
        bail!(
            "the listing gave {} items (expected {LIST_LIMIT}, with a next page)",
            count("items")
        );
    }
    Ok(())
}

/// The extranet's resident memory at one instant, from `/proc/<pid>/status`.
struct Resident {
    rss: Option<u64>,
    anon: Option<u64>,
    file: Option<u64>,
}

impl Resident {
    fn of(pid: &str) -> Resident {
        Resident {
            rss: status_value(pid, "VmRSS"),
            anon: status_value(pid, "RssAnon"),
            file: status_value(pid, "RssFile"),
        }
    }
}

struct Report<'a> {
    settings: &'a Settings,
    pin: &'a Pinning,
    bin: &'a Path,
    nginx_bin: Option<String>,
    loadavg: &'a str,
    idle: Resident,
    started_rss: Option<u64>,
    signed_in_rss: Option<u64>,
    /// How long the sign-in's memory took to go, if it went within [`SETTLE_TIMEOUT`].
    settled: Option<Duration>,
    local_writes: &'a [Measured],
    uploads: &'a [Measured],
    from_extranet: &'a [Measured],
    from_nginx: &'a [Measured],
    listing: &'a Measured,
    elapsed: Duration,
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "BELOW TARGET" }
}

/// Median, lowest and highest.
fn spread(xs: &[f64]) -> Option<(f64, f64, f64)> {
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    median(xs.to_vec()).map(|m| (m, lo, hi))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

fn show_mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "?".to_owned(), |b| format!("{:.1} MiB", mib(b)))
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "?".to_owned(), |x| format!("{:.0}%", x * 100.0))
}

fn median_of(runs: &[Measured], f: fn(&Measured) -> Option<f64>) -> Option<f64> {
    median(runs.iter().filter_map(f).collect())
}

impl Report<'_> {
    fn print(&self) {
        self.print_transfers();
        self.print_memory();
        self.print_listing();
        self.print_conditions();
    }

    fn print_transfers(&self) {
        let s = self.settings;
        println!();
        println!(
            "documents: {} MiB file, {} rounds (median, lowest–highest; CPU: share of one CPU \
             over the transfer)",
            s.size / MIB,
            s.rounds
        );
        println!(
            "{:<24} {:>8} {:>15} {:>7} {:>7} {:>7}   target",
            "transfer", "MB/s", "rounds", "server", "client", "others"
        );
        // The local write runs on the server's CPU, in the server's stead: its CPU is shown there.
        let rows: [(&str, &[Measured], Option<f64>); 4] = [
            ("upload → extranet", self.uploads, Some(UPLOAD_TARGET_MBS)),
            ("  local write (ref.)", self.local_writes, None),
            ("download ← extranet", self.from_extranet, None),
            ("download ← nginx", self.from_nginx, None),
        ];
        for (label, runs, target) in rows {
            let mbs: Vec<f64> = runs.iter().map(|m| m.mbs).collect();
            let Some((m, lo, hi)) = spread(&mbs) else {
                println!("{label:<24} {:>8}", "not run");
                continue;
            };
            let target = target.map_or_else(String::new, |t| {
                format!("≥ {t:.0} MB/s  {}", verdict(m >= t))
            });
            let (server, client) = if std::ptr::eq(runs, self.local_writes) {
                (median_of(runs, |m| m.client_cpu), None)
            } else {
                (
                    median_of(runs, |m| m.server_cpu),
                    median_of(runs, |m| m.client_cpu),
                )
            };
            println!(
                "{label:<24} {m:>8.0} {:>15} {:>7} {:>7} {:>7}   {target}",
                format!("{lo:.0}–{hi:.0}"),
                pct(server),
                client.map_or_else(String::new, |c| pct(Some(c))),
                pct(median_of(runs, |m| m.other_cpu)),
            );
        }
        // Each round's ratio is of two runs a few seconds apart; the figure is their median.
        let ratio_row = |label: &str, a: &[Measured], b: &[Measured], target: Option<f64>| {
            let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x.mbs / y.mbs).collect();
            if let Some((m, lo, hi)) = spread(&ratios) {
                let target =
                    target.map_or_else(String::new, |t| format!("≥ {t}  {}", verdict(m >= t)));
                println!(
                    "{label:<24} {m:>8.2} {:>15} {:>7} {:>7} {:>7}   {target}",
                    format!("{lo:.2}–{hi:.2}"),
                    "",
                    "",
                    ""
                );
            }
        };
        ratio_row(
            "upload / local write",
            self.uploads,
            self.local_writes,
            None,
        );
        ratio_row(
            "download extranet/nginx",
            self.from_extranet,
            self.from_nginx,
            Some(RATIO_TARGET),
        );
        println!();
    }

    fn print_memory(&self) {
        let idle = &self.idle;
        println!(
            "extranet RSS: {} once started, {} just after signing in (argon2id), {} before the \
             first transfer ({}; {} anonymous, {} file-backed: mostly the binary's own pages)",
            show_mib(self.started_rss),
            show_mib(self.signed_in_rss),
            show_mib(idle.rss),
            self.settled.map_or_else(
                || format!("the sign-in's memory was still held after {SETTLE_TIMEOUT:?}"),
                |d| format!(
                    "the sign-in's memory released after {:.1} s",
                    d.as_secs_f64()
                )
            ),
            show_mib(idle.anon),
            show_mib(idle.file),
        );
        println!(
            "peak RSS (VmHWM, reset just before each transfer; highest of the rounds); its growth \
             over the RSS just before; the highest anonymous RSS (sampled every 10 ms):"
        );
        for (label, runs) in [("upload", self.uploads), ("download", self.from_extranet)] {
            let peak = runs.iter().filter_map(|m| m.peak).max();
            let growth = runs
                .iter()
                .filter_map(|m| Some(m.peak?.saturating_sub(m.rss_before?)))
                .max();
            let anon = runs.iter().filter_map(|m| m.anon_peak).max();
            // The blocking pool grows when a blocking task starts while the last one's thread,
            // sharing the pinned CPU, has not yet gone back to idle; each thread's allocator
            // heap keeps memory of its own.
            let threads = runs
                .iter()
                .filter_map(|m| m.threads)
                .map(|(a, b)| format!("{a}→{b}"))
                .collect::<Vec<_>>()
                .join(", ");
            match peak {
                Some(p) => println!(
                    "  during the {label:<9} {:>6.1} MiB  (+{}; anonymous {}; threads {threads})   \
                     < {PEAK_TARGET_MIB:.0} MiB  {}",
                    mib(p),
                    show_mib(growth),
                    show_mib(anon),
                    verdict(mib(p) < PEAK_TARGET_MIB)
                ),
                None => println!(
                    "  during the {label:<9} ? (the high-water mark could not be reset through \
                     /proc/<pid>/clear_refs)"
                ),
            }
        }
        println!();
    }

    fn print_listing(&self) {
        let s = self.settings;
        let v = &self.listing.result;
        let ms = |k: &str| v.get(k).and_then(Value::as_f64).map(|us| us / 1000.0);
        let (p50, p99, max) = (ms("p50_us"), ms("p99_us"), ms("max_us"));
        let show = |x: Option<f64>| x.map_or_else(|| "?".to_owned(), |x| format!("{x:.2} ms"));
        println!(
            "listing: first page ({LIST_LIMIT}) of a dossier of {} seeded documents, {} sequential \
             requests on one connection after {LIST_WARMUP} unmeasured:",
            s.documents, s.requests
        );
        println!(
            "  p50 {}   p99 {}   max {}   server CPU {}   < {LIST_TARGET_MS:.0} ms (p99)  {}",
            show(p50),
            show(p99),
            show(max),
            pct(self.listing.server_cpu),
            verdict(p99.is_some_and(|x| x < LIST_TARGET_MS))
        );
        println!();
    }

    fn print_conditions(&self) {
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        match self.pin {
            Pinning::Pinned => println!(
                "machine: {cores} cores; servers pinned to CPU {SERVER_CPU}, the client to CPU \
                 {LOAD_CPU} (taskset); the extranet's tokio runtime has one worker on its CPU, \
                 nginx one process"
            ),
            Pinning::Unpinned(why) => println!(
                "machine: {cores} cores; NOT pinned ({why}): servers and client share the CPUs"
            ),
        }
        println!(
            "client: HTTP/1.1 over TLS 1.3 (rustls, aws-lc), one connection per run, bodies \
             counted, not stored; load average at start: {}",
            self.loadavg
        );
        println!("binary: {}", self.bin.display());
        if let Some(v) = &self.nginx_bin {
            println!("nginx: {v}, one process, TLS 1.3, sendfile on (unused under TLS: no kTLS)");
        }
        println!("total time: {:.0} s", self.elapsed.as_secs_f64());
        for (label, runs) in [
            ("upload", self.uploads),
            ("local write", self.local_writes),
            ("download from the extranet", self.from_extranet),
            ("download from nginx", self.from_nginx),
        ] {
            if let Some(others) = median_of(runs, |m| m.other_cpu)
                && others > 0.1
            {
                println!(
                    "note: {label}: other processes used {:.0}% of a CPU meanwhile: the figure \
                     is disturbed",
                    others * 100.0
                );
            }
            let (Some(server), Some(client)) = (
                median_of(runs, |m| m.server_cpu),
                median_of(runs, |m| m.client_cpu),
            ) else {
                continue;
            };
            if server >= 0.9 {
                continue;
            }
            let why = if client > 0.95 {
                "the client was saturated: the figure is a lower bound for the server"
            } else {
                "neither side was: the rest is waiting (disk, page cache, scheduling)"
            };
            println!(
                "note: {label}: server CPU {:.0}%, not saturated; {why}",
                server * 100.0
            );
        }
    }
}

// ------------------------------------------------------------------------------------------
// The client
// ------------------------------------------------------------------------------------------

mod client {
    use super::*;
    use http_body_util::combinators::BoxBody;

    /// One thread: on its own CPU a current-thread runtime is the cheapest client there is.
    pub fn run() -> anyhow::Result<()> {
        extranet_tests::init_crypto();
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(measure())
    }

    struct Target {
        addr: SocketAddr,
        host: String,
        path: String,
        token: Option<String>,
        connector: TlsConnector,
        server_pid: Option<String>,
    }

    impl Target {
        fn request(&self, method: http::Method) -> http::request::Builder {
            let req = Request::builder()
                .method(method)
                .uri(self.path.as_str())
                .header(header::HOST, &self.host);
            match &self.token {
                Some(t) => req.header(header::AUTHORIZATION, format!("Bearer {t}")),
                None => req,
            }
        }
    }

    /// CPU seconds of the server, of this process and of the whole machine at one instant.
    struct Sample {
        at: Instant,
        server: Option<f64>,
        client: Option<f64>,
        all: Option<f64>,
    }

    impl Sample {
        fn now(server_pid: Option<&str>) -> Sample {
            Sample {
                at: Instant::now(),
                server: server_pid.and_then(cpu_seconds),
                client: cpu_seconds("self"),
                all: busy_seconds(),
            }
        }

        /// Seconds elapsed since this sample, and the CPU shares over them: `server_cpu`,
        /// `client_cpu`, and `other_cpu` (every other process, in CPUs).
        fn since(&self, server_pid: Option<&str>) -> (f64, serde_json::Map<String, Value>) {
            let now = Sample::now(server_pid);
            let secs = now.at.duration_since(self.at).as_secs_f64();
            let delta = |a: Option<f64>, b: Option<f64>| Some(b? - a?).filter(|_| secs > 0.0);
            let (server, client, all) = (
                delta(self.server, now.server),
                delta(self.client, now.client),
                delta(self.all, now.all),
            );
            // Without a server (the local write), everything but this process is "others".
            let others = match (all, server, client, server_pid) {
                (Some(a), Some(s), Some(c), Some(_)) => Some(a - s - c),
                (Some(a), _, Some(c), None) => Some(a - c),
                _ => None,
            };
            let mut shares = serde_json::Map::new();
            for (k, v) in [
                ("server_cpu", server),
                ("client_cpu", client),
                ("other_cpu", others.map(|o| o.max(0.0))),
            ] {
                shares.insert(k.to_owned(), json!(v.map(|v| v / secs)));
            }
            (secs, shares)
        }
    }

    async fn measure() -> anyhow::Result<()> {
        let op = env_required("BENCH_OP")?;
        if op == "write" {
            let size = u64::try_from(env_usize("BENCH_SIZE", 0)?)?;
            let result = write(Path::new(&env_required("BENCH_FILE")?), size)?;
            println!("{RESULT_PREFIX}{result}");
            return Ok(());
        }
        let addr: SocketAddr = env_required("BENCH_ADDR")?.parse()?;
        let cert = std::fs::read(env_required("BENCH_CERT")?).context("read the certificate")?;
        let target = Target {
            addr,
            host: format!("localhost:{}", addr.port()),
            path: env_required("BENCH_PATH")?,
            token: std::env::var("BENCH_TOKEN").ok().filter(|t| !t.is_empty()),
            connector: connector(&cert)?,
            server_pid: std::env::var("BENCH_SERVER_PID").ok(),
        };
        let run = async {
            match op.as_str() {
                "upload" => upload(&target, Path::new(&env_required("BENCH_FILE")?)).await,
                "download" => download(&target).await,
                "list" => list(&target, env_usize("BENCH_REQUESTS", 200)?).await,
                other => Err(anyhow!("unknown BENCH_OP={other}")),
            }
        };
        let result = tokio::time::timeout(RUN_TIMEOUT, run)
            .await
            .with_context(|| format!("{op} did not finish within {RUN_TIMEOUT:?}"))??;
        println!("{RESULT_PREFIX}{result}");
        Ok(())
    }

    /// The reference for uploads: `size` bytes written to a new file with the local object
    /// store's part size, as its blocking writes do, without TLS, HTTP, hashing or copies.
    fn write(path: &Path, size: u64) -> anyhow::Result<Value> {
        use std::io::Write;
        let part = vec![0x5au8; UPLOAD_PART];
        let mut file = std::fs::File::create_new(path).context("create the reference file")?;
        let start = Sample::now(None);
        let mut written = 0u64;
        while written < size {
            let n = usize::try_from((size - written).min(UPLOAD_PART as u64))?;
            file.write_all(&part[..n])?;
            written += n as u64;
        }
        drop(file);
        let (seconds, mut result) = start.since(None);
        result.remove("server_cpu");
        result.extend([
            ("bytes".to_owned(), json!(written)),
            ("seconds".to_owned(), json!(seconds)),
        ]);
        Ok(Value::Object(result))
    }

    type Chunk = Result<Frame<Bytes>, std::io::Error>;

    /// The file, read in chunks as hyper asks for them (page-cache reads: cheaper inline than
    /// through the blocking pool).
    fn file_frames(file: std::fs::File) -> impl futures::Stream<Item = Chunk> + Send {
        futures::stream::unfold(Some(file), |file| async move {
            use std::io::Read;
            let mut file = file?;
            let mut buf = vec![0u8; UPLOAD_CHUNK];
            match file.read(&mut buf) {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Frame::data(Bytes::from(buf))), Some(file)))
                }
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// A new document: the form's text fields, then the file, streamed from disk.
    async fn upload(target: &Target, path: &Path) -> anyhow::Result<Value> {
        let file = std::fs::File::open(path).context("open the test file")?;
        let size = file.metadata()?.len();
        let boundary = format!("bench-{}", Uuid::new_v4().simple());
        let field = |name: &str, value: &str| {
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
        };
        let head = format!(
            "{}{}--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"x.pdf\"\r\nContent-Type: application/pdf\r\n\r\n",
            field("title", "Bench upload"),
            field("doc_type", DOC_TYPE),
        );
        let tail = format!("\r\n--{boundary}--\r\n");
        let length = head.len() as u64 + size + tail.len() as u64;
        let frame =
            |s: String| futures::stream::once(async move { Ok(Frame::data(Bytes::from(s))) });
        let stream = frame(head).chain(file_frames(file)).chain(frame(tail));
        let body: BoxBody<Bytes, std::io::Error> = BodyExt::boxed(StreamBody::new(stream));
        let (mut sender, _driver) = connect_http1(target.addr, &target.connector).await?;
        let req = target
            .request(http::Method::POST)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(header::CONTENT_LENGTH, length)
            .body(body)?;
        let start = Sample::now(target.server_pid.as_deref());
        let res = sender.send_request(req).await?;
        let status = res.status();
        let answer = res.into_body().collect().await?.to_bytes();
        let (seconds, mut result) = start.since(target.server_pid.as_deref());
        result.extend([
            ("status".to_owned(), json!(status.as_u16())),
            ("bytes".to_owned(), json!(size)),
            ("seconds".to_owned(), json!(seconds)),
            ("body".to_owned(), json!(String::from_utf8_lossy(&answer))),
        ]);
        Ok(Value::Object(result))
    }

    /// The whole body, counted as it arrives.
    async fn download(target: &Target) -> anyhow::Result<Value> {
        let (mut sender, _driver) = connect_http1(target.addr, &target.connector).await?;
        let req = target
            .request(http::Method::GET)
            .body(Empty::<Bytes>::new())?;
        let start = Sample::now(target.server_pid.as_deref());
        let res = sender.send_request(req).await?;
        let status = res.status();
        let etag = res
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut body = res.into_body();
        let mut bytes = 0u64;
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame?.data_ref() {
                bytes += data.len() as u64;
            }
        }
        let (seconds, mut result) = start.since(target.server_pid.as_deref());
        result.extend([
            ("status".to_owned(), json!(status.as_u16())),
            ("bytes".to_owned(), json!(bytes)),
            ("seconds".to_owned(), json!(seconds)),
            ("etag".to_owned(), json!(etag)),
        ]);
        Ok(Value::Object(result))
    }

    /// `requests` measured listings, back to back on one connection, after a few unmeasured.
    async fn list(target: &Target, requests: usize) -> anyhow::Result<Value> {
        let (mut sender, _driver) = connect_http1(target.addr, &target.connector).await?;
        let mut latencies_us: Vec<u64> = Vec::with_capacity(requests);
        let (mut failed, mut detail, mut last) = (0u64, String::new(), Bytes::new());
        let mut start = None;
        for i in 0..LIST_WARMUP + requests {
            if i == LIST_WARMUP {
                start = Some(Sample::now(target.server_pid.as_deref()));
            }
            let req = target
                .request(http::Method::GET)
                .body(Empty::<Bytes>::new())?;
            let sent = Instant::now();
            let (status, body) = tokio::time::timeout(IO_TIMEOUT, async {
                sender.ready().await?;
                let res = sender.send_request(req).await?;
                let status = res.status();
                // Read the whole body: the connection is reusable only after it.
                let body = res.into_body().collect().await?.to_bytes();
                Ok::<_, anyhow::Error>((status, body))
            })
            .await
            .context("a listing request timed out")??;
            let us = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX);
            if i >= LIST_WARMUP {
                latencies_us.push(us);
                if status != StatusCode::OK {
                    failed += 1;
                    detail = format!("answered {status}: {}", String::from_utf8_lossy(&body));
                }
            }
            last = body;
        }
        let mut result = start
            .map(|s| s.since(target.server_pid.as_deref()).1)
            .unwrap_or_default();
        let page: Value = serde_json::from_slice(&last).unwrap_or(Value::Null);
        latencies_us.sort_unstable();
        result.extend([
            ("measured".to_owned(), json!(latencies_us.len())),
            ("failed".to_owned(), json!(failed)),
            ("detail".to_owned(), json!(detail)),
            ("p50_us".to_owned(), json!(percentile(&latencies_us, 0.50))),
            ("p99_us".to_owned(), json!(percentile(&latencies_us, 0.99))),
            ("max_us".to_owned(), json!(latencies_us.last())),
            (
                "items".to_owned(),
                json!(
                    page.get("items")
                        .and_then(Value::as_array)
                        .map_or(0, Vec::len)
                ),
            ),
            (
                "has_next".to_owned(),
                json!(page.get("next").is_some_and(|n| !n.is_null())),
            ),
        ]);
        Ok(Value::Object(result))
    }
}
