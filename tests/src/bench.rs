//! What the benchmarks under `benches/` share: server and client processes pinned to separate
//! CPUs with `taskset`, servers started as children and watched through `/proc` (CPU time, peak
//! memory), the TLS 1.3 client connector, and medians.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use rustls::ClientConfig;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio_rustls::TlsConnector;

/// The CPU the servers run on, and the one the load generator or client runs on.
pub const SERVER_CPU: &str = "0";
pub const LOAD_CPU: &str = "1";
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Linux reports process CPU time in USER_HZ ticks, 100 per second on every mainstream arch.
const TICKS_PER_SEC: f64 = 100.0;

/// A non-negative number (of seconds, say) from the environment, or `default` when unset.
pub fn env_f64(key: &str, default: f64) -> anyhow::Result<f64> {
    match std::env::var(key) {
        Ok(v) => {
            let x: f64 = v.trim().parse().with_context(|| format!("{key}={v}"))?;
            if !(x.is_finite() && x >= 0.0) {
                bail!("{key}={v}: not a non-negative number");
            }
            Ok(x)
        }
        Err(_) => Ok(default),
    }
}

/// A count from the environment, or `default` when unset.
pub fn env_usize(key: &str, default: usize) -> anyhow::Result<usize> {
    std::env::var(key)
        .ok()
        .map(|v| {
            v.trim()
                .parse::<usize>()
                .with_context(|| format!("{key}={v}"))
        })
        .transpose()
        .map(|v| v.unwrap_or(default))
}

pub fn env_required(key: &str) -> anyhow::Result<String> {
    std::env::var(key).with_context(|| format!("{key} is not set"))
}

/// The CPU time (user + system, all threads) of a process so far, in seconds.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; the fields after its closing parenthesis don't.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// The CPU time all processes of the machine have used so far (busy time of every CPU: all
/// but idle and iowait), in seconds; with [`cpu_seconds`] it tells what other processes took.
pub fn busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is within user).
    let busy: f64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, t)| t)
        .sum();
    Some(busy / TICKS_PER_SEC)
}

/// A line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, `Threads`, …): its number, in bytes for
/// the `kB` ones.
pub fn status_value(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?.trim();
        match rest.strip_suffix("kB") {
            Some(kb) => kb.trim().parse::<u64>().ok().map(|kb| kb * 1024),
            None => rest.parse().ok(),
        }
    })
}

/// Resets a process's resident-set high-water mark (`VmHWM`) to its current RSS, so that the
/// next reading is the peak of what happens in between (Linux ≥ 4.0, `clear_refs` value 5).
pub fn reset_peak_rss(pid: &str) -> std::io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

/// Whether children run under `taskset`, and why not when they don't.
#[derive(Clone)]
pub enum Pinning {
    Pinned,
    Unpinned(String),
}

impl Pinning {
    pub async fn detect() -> Pinning {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores < 2 {
            return Pinning::Unpinned(format!("only {cores} CPU available"));
        }
        // Both CPUs must exist and be allowed to us (a cpuset may exclude them).
        for cpu in [SERVER_CPU, LOAD_CPU] {
            let ok = Command::new("taskset")
                .args(["-c", cpu, "true"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await
                .is_ok_and(|s| s.success());
            if !ok {
                return Pinning::Unpinned(format!("`taskset -c {cpu}` is not available"));
            }
        }
        Pinning::Pinned
    }

    /// `program`, under `taskset -c cpu` when pinning. taskset execs the program, so the
    /// child's pid is the program's own.
    pub fn command(&self, cpu: &str, program: &Path) -> Command {
        let mut cmd = match self {
            Pinning::Pinned => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpu]).arg(program);
                c
            }
            Pinning::Unpinned(_) => Command::new(program),
        };
        cmd.kill_on_drop(true);
        cmd
    }
}

/// A server child process; killed when dropped.
pub struct ServerProc {
    pub name: &'static str,
    pub child: Child,
    pub pid: String,
    pub addr: SocketAddr,
    /// The certificate (PEM) the server presents, for clients to trust.
    pub cert: PathBuf,
    stderr: Arc<Mutex<String>>,
}

impl ServerProc {
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Fails if the server has exited (crashed under load, for instance).
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait()? {
            None => Ok(()),
            Some(status) => bail!(
                "the {} server exited ({status}); stderr:\n{}",
                self.name,
                self.stderr()
            ),
        }
    }

    /// Stops the server with SIGTERM, as an operator would, and waits for it to exit (killing
    /// it if it takes longer than `grace`).
    pub async fn stop(mut self, grace: Duration) -> anyhow::Result<()> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .is_ok_and(|s| s.success());
        if sent && let Ok(status) = tokio::time::timeout(grace, self.child.wait()).await {
            status?;
            return Ok(());
        }
        self.child.kill().await?;
        Ok(())
    }
}

fn collect(stream: impl AsyncRead + Unpin + Send + 'static, into: Arc<Mutex<String>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut b) = into.lock() {
                b.push_str(&line);
                b.push('\n');
            }
        }
    });
}

/// Keeps `EXTRANET_*` and `RUST_LOG` out of a server's environment: only what the bench sets
/// configures it, nothing leaks in from the developer's shell.
pub fn clean_env(cmd: &mut Command) {
    for (k, _) in std::env::vars() {
        if k.starts_with("EXTRANET_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
}

/// The port in extranet's `extranet: serving https://localhost:PORT/` line (a `ready` for
/// [`start_server`]).
pub fn extranet_serving(line: &str) -> Option<anyhow::Result<u16>> {
    let rest = line.strip_prefix("extranet: serving https://")?;
    let host_port = rest.split('/').next().unwrap_or_default();
    let port = host_port.rsplit(':').next().unwrap_or_default();
    Some(port.parse().context("port in the serving line"))
}

/// Spawns a server and waits for the stdout line that `ready` recognises (returning the port).
/// Stdout and stderr keep being drained afterwards so the child never blocks on a full pipe.
pub async fn start_server(
    name: &'static str,
    mut cmd: Command,
    cert: PathBuf,
    ready: fn(&str) -> Option<anyhow::Result<u16>>,
) -> anyhow::Result<ServerProc> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("spawn the {name} server"))?;
    let pid = child.id().map(|p| p.to_string()).context("server pid")?;
    let stderr = Arc::new(Mutex::new(String::new()));
    if let Some(err) = child.stderr.take() {
        collect(err, stderr.clone());
    }
    let stdout = child.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let wait = async {
        while let Some(line) = lines.next_line().await? {
            if let Some(port) = ready(&line) {
                return port;
            }
        }
        bail!("exited before serving")
    };
    let port = match tokio::time::timeout(START_TIMEOUT, wait).await {
        Ok(Ok(port)) => port,
        Ok(Err(e)) => {
            // Let the stderr reader catch up before quoting it.
            let _ = child.start_kill();
            let _ = child.wait().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            let err = stderr.lock().map(|s| s.clone()).unwrap_or_default();
            bail!("the {name} server did not start: {e:#}; stderr:\n{err}");
        }
        Err(_) => bail!("the {name} server did not start within {START_TIMEOUT:?}"),
    };
    collect(lines.into_inner(), Arc::new(Mutex::new(String::new())));
    Ok(ServerProc {
        name,
        child,
        pid,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        cert,
        stderr,
    })
}

/// Spawns a server that says nothing when ready (nginx in the foreground) and waits until
/// `addr` accepts connections.
pub async fn start_listening(
    name: &'static str,
    mut cmd: Command,
    cert: PathBuf,
    addr: SocketAddr,
) -> anyhow::Result<ServerProc> {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("spawn the {name} server"))?;
    let pid = child.id().map(|p| p.to_string()).context("server pid")?;
    let stderr = Arc::new(Mutex::new(String::new()));
    if let Some(err) = child.stderr.take() {
        collect(err, stderr.clone());
    }
    if let Some(out) = child.stdout.take() {
        collect(out, stderr.clone());
    }
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let err = stderr.lock().map(|s| s.clone()).unwrap_or_default();
            bail!("the {name} server exited ({status}) before serving; output:\n{err}");
        }
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("the {name} server did not listen on {addr} within {START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(ServerProc {
        name,
        child,
        pid,
        addr,
        cert,
        stderr,
    })
}

/// A TLS 1.3 client trusting only `cert_pem`, offering HTTP/1.1 only (so that a server with an
/// auto h1/h2 builder takes its HTTP/1 path).
pub fn connector(cert_pem: &[u8]) -> anyhow::Result<TlsConnector> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_root_certificates(crate::tls::roots(cert_pem)?)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(cfg)))
}

/// Any connect or TLS handshake taking this long counts as a failure.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A TLS connection to `addr` (as `localhost`) with an HTTP/1.1 client on it. The connection's
/// driver runs as a task, aborted when the returned guard is dropped.
pub async fn connect_http1<B>(
    addr: SocketAddr,
    connector: &TlsConnector,
) -> anyhow::Result<(hyper::client::conn::http1::SendRequest<B>, AbortOnDrop)>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .context("connect timed out")??;
    tcp.set_nodelay(true)?;
    let name = rustls::pki_types::ServerName::try_from("localhost")?;
    let tls = tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
        .await
        .context("TLS handshake timed out")??;
    let (sender, conn) =
        hyper::client::conn::http1::handshake::<_, B>(hyper_util::rt::TokioIo::new(tls)).await?;
    let driver = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    Ok((sender, driver))
}

/// Aborts a task (a hyper connection driver, say) when dropped, however the owner ends.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The median of the finite values, if any.
pub fn median(mut xs: Vec<f64>) -> Option<f64> {
    xs.retain(|x| x.is_finite());
    if xs.is_empty() {
        return None;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    Some(if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    })
}

/// Nearest-rank percentile of sorted values.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1)).copied()
}
