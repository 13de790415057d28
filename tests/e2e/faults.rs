//! The database fails under a running server: PostgreSQL refusing connections (503 with
//! `Retry-After` at once, a page in the visitor's language, back when the database is), and
//! SQLite on a full disk (not ready while nothing can be written, writes back once there is
//! room, without a restart).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use extranet_tests::ServerBuilder;
use extranet_tests::backends::PgDatabase;
use reqwest::Method;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::access::{api, login};

/// What "at once" means here: the pool's acquire timeout is 10 s.
const AT_ONCE: Duration = Duration::from_secs(1);

/// A TCP forwarder to PostgreSQL that the test can take away (listener closed, every
/// forwarded connection cut: the server sees what a stopped database looks like) and bring back
/// on the same port.
struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    tasks: Option<JoinSet<()>>,
}

impl Proxy {
    async fn start(addr: SocketAddr, upstream: SocketAddr) -> anyhow::Result<Proxy> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut down, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut up) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
                    }
                });
            }
        });
        Ok(Proxy {
            addr,
            upstream,
            tasks: Some(tasks),
        })
    }

    /// Closes the listener and every connection through it (aborting the accept task drops
    /// its `JoinSet` of connections, which aborts them).
    async fn stop(&mut self) {
        if let Some(mut tasks) = self.tasks.take() {
            tasks.shutdown().await;
        }
    }

    async fn restart(&mut self) -> anyhow::Result<()> {
        let again = Proxy::start(self.addr, self.upstream).await?;
        self.tasks = again.tasks;
        Ok(())
    }
}

/// Polls until `check` holds (the server notices on its own; nothing is asserted by waiting).
async fn until<F, Fut>(limit: Duration, mut check: F) -> anyhow::Result<bool>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await? {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refusing_connections_is_503_at_once_and_recovers() -> anyhow::Result<()> {
    let pg = PgDatabase::create().await?;
    let mut url = url::Url::parse(&pg.url)?;
    let upstream = tokio::net::lookup_host((
        url.host_str().context("host")?.to_owned(),
        url.port().unwrap_or(5432),
    ))
    .await?
    .next()
    .context("PostgreSQL's address")?;
    let mut proxy = Proxy::start("127.0.0.1:0".parse()?, upstream).await?;
    url.set_host(Some("127.0.0.1"))?;
    url.set_port(Some(proxy.addr.port()))
        .map_err(|()| anyhow::anyhow!("port"))?;

    let result = async {
        let server = ServerBuilder::new(extranet_tests::Backends::new(
            extranet_tests::Db::Postgres,
            extranet_tests::Store::Local,
        ))
        .env("EXTRANET_DATABASE__URL", url.as_str())
        .start()
        .await?;
        server.create_user("staff@cb.example", "staff").await?;
        let token = login(&server, "staff@cb.example").await?;
        let (status, body) = api(&server, &token, Method::GET, "/api/v1/people", None).await?;
        assert_eq!(status, 200, "{body}");
        let browser = server.browser()?;
        let csrf = server.csrf(&browser, "/login").await?;

        proxy.stop().await;

        // The API: a problem document, 503, told when to come back, without the 10 s wait.
        for round in 0..3 {
            let started = Instant::now();
            let res = server
                .client()?
                .get(server.url("/api/v1/people"))
                .bearer_auth(&token)
                .send()
                .await?;
            let took = started.elapsed();
            assert_eq!(res.status(), 503, "request {round}");
            assert!(took < AT_ONCE, "request {round} took {took:?}");
            assert!(res.headers().contains_key("retry-after"), "request {round}");
            assert_eq!(res.headers()["content-type"], "application/problem+json");
        }
        // A page, in the visitor's language: signing in needs the database.
        for (lang, title) in [
            ("nl", "Tijdelijk niet beschikbaar"),
            ("fr", "Temporairement indisponible"),
            ("en", "Temporarily unavailable"),
        ] {
            let started = Instant::now();
            let res = browser
                .post(server.url("/login"))
                .header("origin", server.origin())
                .header("accept-language", lang)
                .form(&[
                    ("email", "staff@cb.example"),
                    ("password", "whatever it is"),
                    ("csrf", csrf.as_str()),
                ])
                .send()
                .await?;
            let took = started.elapsed();
            assert_eq!(res.status(), 503, "{lang}");
            assert!(took < AT_ONCE, "{lang}: took {took:?}");
            assert!(res.headers().contains_key("retry-after"), "{lang}");
            let page = res.text().await?;
            assert!(page.contains(&format!("lang=\"{lang}\"")), "{page}");
            assert!(page.contains(title), "{page}");
        }
        // Not ready either, and said at once.
        let started = Instant::now();
        let ready = server.client()?.get(server.url("/readyz")).send().await?;
        assert_eq!(ready.status(), 503);
        assert!(started.elapsed() < AT_ONCE, "{:?}", started.elapsed());

        proxy.restart().await?;
        let back = until(Duration::from_secs(10), || async {
            let (status, _) = api(&server, &token, Method::GET, "/api/v1/people", None).await?;
            Ok(status == 200)
        })
        .await?;
        assert!(back, "the API did not come back with the database");
        let ready = server.client()?.get(server.url("/readyz")).send().await?;
        assert_eq!(ready.status(), 200);
        server.stop().await
    }
    .await;
    proxy.stop().await;
    pg.drop_now().await;
    result
}

/// A size-limited tmpfs, unmounted on drop; `None` (with the reason printed) where mounting is
/// not allowed.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).ok()?;
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(path)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs {
                path: path.to_owned(),
            }),
            Ok(o) => {
                println!(
                    "SKIPPED: cannot mount a size-limited tmpfs ({}): the full-disk case is not \
                     exercised",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                println!("SKIPPED: cannot run mount ({e}): the full-disk case is not exercised");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_on_a_full_disk_is_not_ready_and_writes_come_back() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let Some(fs) = Tmpfs::mount(&dir.path().join("fs"), "3m") else {
        return Ok(());
    };
    let server = ServerBuilder::new(extranet_tests::Backends::new(
        extranet_tests::Db::Sqlite,
        extranet_tests::Store::Local,
    ))
    .env(
        "EXTRANET_DATABASE__URL",
        format!("sqlite://{}", fs.path.join("extranet.db").display()),
    )
    .start()
    .await?;
    server.create_user("staff@cb.example", "staff").await?;
    let ready = || async {
        let res = server.client()?.get(server.url("/readyz")).send().await?;
        Ok::<_, anyhow::Error>(res.status().as_u16())
    };
    assert_eq!(ready().await?, 200);

    // Fill the file system: every block the database could still grow into is taken.
    let filler = fs.path.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler)?;
        let block = vec![0u8; 16 * 1024];
        while f.write_all(&block).is_ok() {}
    }
    // Signing in writes a session, which cannot be stored now; readiness says so.
    let mut refused = false;
    for _ in 0..20 {
        let res = server
            .client()?
            .post(server.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": "staff@cb.example", "password": crate::access::PASSWORD }))
            .send()
            .await?;
        if res.status().is_server_error() {
            refused = true;
            break;
        }
    }
    assert!(refused, "sign-ins kept succeeding on a full disk");
    assert_eq!(ready().await?, 503, "ready while nothing can be written");

    std::fs::remove_file(&filler)?;
    // Room again: the next write succeeds, without a restart.
    assert_eq!(ready().await?, 200);
    login(&server, "staff@cb.example").await?;
    server.stop().await
}
