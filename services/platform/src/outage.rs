//! Failing fast while PostgreSQL refuses connections.
//!
//! sqlx's pool treats "connection refused" as a server still starting up: `acquire` retries the
//! connect with backoff until its `acquire_timeout`, so during an outage every request waited
//! the whole timeout (10 s) and then failed. The pool has no hook on a failed connect, so the
//! outage is found beside it:
//!
//! - every PostgreSQL statement of ours runs under [`Outage::guard`] (the `on_pool!` and
//!   `write_tx!` macros). A statement that has not finished after [`SUSPECT_AFTER`] starts one
//!   probe (one at a time per database): a bare TCP (or Unix socket) connect to the server,
//!   which PostgreSQL answers without starting a session and without a log line;
//! - a refused probe opens the circuit: the statements waiting fail at once, and later ones fail
//!   before touching the pool, with a "connection refused" error. The same task probes again
//!   every [`REPROBE_EVERY`] and closes the circuit on the first connect that succeeds;
//! - the HTTP edge answers a server error raised while the circuit is open with 503 and
//!   `Retry-After` ([`RETRY_AFTER_SECS`]), so a load balancer or a person tries again.
//!
//! Why not a shorter `acquire_timeout`: a busy pool is worth waiting for, a refusal is not, and
//! the pool's timeout cannot tell them apart. Only a refusal opens the circuit: a server that is
//! slow, or unreachable (a connect that times out), is still waited for, as before.
//!
//! A statement that is merely slow costs one timer and, past [`SUSPECT_AFTER`], one probe
//! shared with every other slow statement of the moment.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use tokio::sync::Notify;

/// How long a statement runs before we ask whether the server still accepts connections.
pub const SUSPECT_AFTER: Duration = Duration::from_millis(200);
/// How often, while the server refuses connections, we look whether it is back.
pub const REPROBE_EVERY: Duration = Duration::from_millis(500);
/// A probe's connect that takes longer proves nothing either way.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// What a client is told to wait before trying again.
pub const RETRY_AFTER_SECS: u64 = 5;

/// Whether the database is known to refuse connections; cheap to clone and to ask.
#[derive(Clone)]
pub struct Outage(Arc<Inner>);

struct Inner {
    open: AtomicBool,
    probing: AtomicBool,
    changed: Notify,
    address: Address,
}

#[derive(Debug, Clone)]
enum Address {
    Tcp(String, u16),
    Unix(PathBuf),
}

impl std::fmt::Debug for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outage")
            .field("open", &self.is_open())
            .finish()
    }
}

enum Probe {
    Refused,
    Reached,
    /// Timed out or failed otherwise: not a refusal, so nothing is decided.
    Unknown,
}

impl Outage {
    /// Watches the server `options` connects to (the same host and port, or Unix socket).
    pub fn new(options: &PgConnectOptions) -> Outage {
        let host = options.get_host();
        let port = options.get_port();
        let address = match options.get_socket() {
            Some(dir) => Address::Unix(dir.join(format!(".s.PGSQL.{port}"))),
            None if host.starts_with('/') => {
                Address::Unix(PathBuf::from(host).join(format!(".s.PGSQL.{port}")))
            }
            None => Address::Tcp(host.to_owned(), port),
        };
        Outage(Arc::new(Inner {
            open: AtomicBool::new(false),
            probing: AtomicBool::new(false),
            changed: Notify::new(),
            address,
        }))
    }

    /// Whether the server refused the last probe (and none has reached it since).
    pub fn is_open(&self) -> bool {
        self.0.open.load(Ordering::Acquire)
    }

    /// Runs `body` (statements on the pool), unless the server is known to refuse connections;
    /// gives up on it at once when a probe finds that out while it waits.
    pub async fn guard<T, E: From<sqlx::Error>>(
        &self,
        body: impl Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        if self.is_open() {
            return Err(refused().into());
        }
        let mut body = std::pin::pin!(body);
        tokio::select! {
            biased;
            res = &mut body => return res,
            () = tokio::time::sleep(SUSPECT_AFTER) => {}
        }
        self.start_probing();
        loop {
            let changed = self.0.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            if self.is_open() {
                return Err(refused().into());
            }
            tokio::select! {
                biased;
                res = &mut body => return res,
                () = changed => {}
            }
        }
    }

    fn start_probing(&self) {
        if self.0.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = self.0.clone();
        tokio::spawn(async move {
            loop {
                match probe(&inner.address).await {
                    Probe::Refused => {
                        if !inner.open.swap(true, Ordering::AcqRel) {
                            tracing::error!(
                                "the database refuses connections: requests fail at once until it is back"
                            );
                            inner.changed.notify_waiters();
                        }
                        tokio::time::sleep(REPROBE_EVERY).await;
                    }
                    Probe::Reached | Probe::Unknown => {
                        if inner.open.swap(false, Ordering::AcqRel) {
                            tracing::warn!("the database accepts connections again");
                            inner.changed.notify_waiters();
                        }
                        break;
                    }
                }
            }
            inner.probing.store(false, Ordering::Release);
        });
    }
}

/// The error a statement gets while the server refuses connections: the one sqlx would have
/// reported itself, without the wait.
fn refused() -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "the database refuses connections",
    ))
}

async fn probe(address: &Address) -> Probe {
    let attempt = async {
        match address {
            Address::Tcp(host, port) => tokio::net::TcpStream::connect((host.as_str(), *port))
                .await
                .map(drop),
            #[cfg(unix)]
            Address::Unix(path) => tokio::net::UnixStream::connect(path).await.map(drop),
            #[cfg(not(unix))]
            Address::Unix(_) => Err(std::io::ErrorKind::Unsupported.into()),
        }
    };
    match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
        Ok(Ok(())) => Probe::Reached,
        Ok(Err(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound
            ) =>
        {
            Probe::Refused
        }
        Ok(Err(_)) | Err(_) => Probe::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outage_at(port: u16) -> Outage {
        Outage::new(&PgConnectOptions::new().host("127.0.0.1").port(port))
    }

    /// A port nothing listens on: bound, then released.
    fn closed_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    }

    #[tokio::test]
    async fn a_refused_server_fails_waiting_statements_at_once() {
        let outage = outage_at(closed_port());
        let started = std::time::Instant::now();
        let res: Result<(), sqlx::Error> = outage.guard(std::future::pending()).await;
        assert!(
            matches!(res, Err(sqlx::Error::Io(ref e)) if e.kind() == std::io::ErrorKind::ConnectionRefused)
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert!(outage.is_open());
        // Later statements do not wait at all.
        let res: Result<(), sqlx::Error> = outage.guard(std::future::pending()).await;
        assert!(res.is_err());
    }

    #[tokio::test]
    async fn a_reachable_server_is_waited_for_and_closes_the_circuit() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let outage = outage_at(port);
        outage.0.open.store(true, Ordering::Release);
        outage.start_probing();
        let mut changed = std::pin::pin!(outage.0.changed.notified());
        changed.as_mut().enable();
        if outage.is_open() {
            changed.await;
        }
        assert!(!outage.is_open());
        let slow = async {
            tokio::time::sleep(SUSPECT_AFTER * 2).await;
            Ok::<_, sqlx::Error>(7)
        };
        assert_eq!(outage.guard(slow).await.ok(), Some(7));
        drop(listener);
    }
}
