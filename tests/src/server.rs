//! A running `extranet serve` (or `demo`) child process.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

use crate::backends::{Backends, Db, PgDatabase, Store, TestEnv};

const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The key-encryption key the harness gives a server, in its data directory.
pub const TEST_KEK_FILE: &str = "test-encryption.key";

pub struct ServerBuilder {
    backends: Backends,
    env: BTreeMap<String, String>,
    data_dir: Option<PathBuf>,
    args: Vec<String>,
    umask: Option<u32>,
}

impl ServerBuilder {
    pub fn new(backends: Backends) -> ServerBuilder {
        // No role is made to sign in with a second factor unless a test says so (the
        // `second_factor` tests do): the other tests sign the same people in many times within
        // one 30-second step, which a TOTP code allows only once.
        let env = BTreeMap::from([(
            "EXTRANET_AUTH__SECOND_FACTOR_ROLES".to_owned(),
            "[]".to_owned(),
        )]);
        ServerBuilder {
            backends,
            env,
            data_dir: None,
            args: vec!["serve".into()],
            umask: None,
        }
    }

    /// Starts the server under this umask (through `sh -c 'umask …; exec …'`), as an operator's
    /// shell would.
    pub fn umask(mut self, mask: u32) -> ServerBuilder {
        self.umask = Some(mask);
        self
    }

    /// Sets an `EXTRANET_*` configuration variable (or any other) for the child.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> ServerBuilder {
        self.env.insert(key.to_owned(), value.into());
        self
    }

    /// Leaves a variable the builder would set by default unset (the server's own default
    /// applies), e.g. `EXTRANET_AUTH__SECOND_FACTOR_ROLES`.
    pub fn unset(mut self, key: &str) -> ServerBuilder {
        self.env.remove(key);
        self
    }

    /// Replaces the subcommand and its arguments (default: `serve`).
    pub fn args<I, S>(mut self, args: I) -> ServerBuilder
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Reuses a data directory (e.g. to start a second time on the same state).
    pub fn data_dir(mut self, dir: &Path) -> ServerBuilder {
        self.data_dir = Some(dir.to_path_buf());
        self
    }

    /// The environment the child gets for these backends, with a fresh PostgreSQL database.
    async fn backend_env(&mut self) -> anyhow::Result<Option<PgDatabase>> {
        let env = TestEnv::get();
        let pg = match self.backends.db {
            Db::Sqlite => None,
            // A test that names the database (a restart on the same data) gets no fresh one.
            Db::Postgres if self.env.contains_key("EXTRANET_DATABASE__URL") => None,
            Db::Postgres => {
                let db = PgDatabase::create().await?;
                self.env
                    .insert("EXTRANET_DATABASE__URL".into(), db.url.clone());
                Some(db)
            }
        };
        if self.backends.store == Store::S3 {
            for (k, v) in [
                ("EXTRANET_STORAGE__KIND", "s3".to_owned()),
                ("EXTRANET_STORAGE__S3__ENDPOINT", env.s3_endpoint),
                ("EXTRANET_STORAGE__S3__BUCKET", env.s3_bucket),
                ("EXTRANET_STORAGE__S3__REGION", "us-east-1".to_owned()),
                ("EXTRANET_STORAGE__S3__ACCESS_KEY_ID", env.s3_access_key),
                ("EXTRANET_STORAGE__S3__SECRET_ACCESS_KEY", env.s3_secret_key),
                ("EXTRANET_STORAGE__S3__ALLOW_HTTP", "true".to_owned()),
                // Every server its own part of the shared test bucket: a collector sweeping
                // unreferenced objects must not see another test's.
                (
                    "EXTRANET_STORAGE__S3__PREFIX",
                    format!("t-{}", uuid::Uuid::new_v4().simple()),
                ),
            ] {
                self.env.entry(k.into()).or_insert(v);
            }
        }
        Ok(pg)
    }

    /// `serve` refuses to start without a key-encryption key: unless the test configures keys
    /// itself, each server gets its own, in a 0600 file of its data directory, so a restart on
    /// the same data finds the same key (and CLI commands on the server's data get it too).
    fn encryption_key(&mut self, data_dir: &Path) -> anyhow::Result<()> {
        if self.args.first().map(String::as_str) != Some("serve")
            || self.env.keys().any(|k| k.starts_with("EXTRANET_KEYS__"))
        {
            return Ok(());
        }
        let path = data_dir.join(TEST_KEK_FILE);
        if !path.exists() {
            std::fs::create_dir_all(data_dir)?;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            std::io::Write::write_all(&mut opts.open(&path)?, crate::keys::new_kek()?.as_bytes())?;
        }
        self.env.insert(
            "EXTRANET_KEYS__ENCRYPTION_KEY_FILE".into(),
            path.display().to_string(),
        );
        Ok(())
    }

    /// Starts the server and waits for its "serving https://…" line.
    pub async fn start(mut self) -> anyhow::Result<Server> {
        crate::init_crypto();
        let bin = crate::binary::extranet().await?;
        let (temp, data_dir) = match self.data_dir.clone() {
            Some(d) => (None, d),
            None => {
                let t = tempfile::tempdir()?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let pg = self.backend_env().await?;
        self.encryption_key(&data_dir)?;

        let mut cmd = match self.umask {
            Some(mask) => {
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(format!("umask {mask:03o} && exec \"$0\" \"$@\""))
                    .arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Only what the test says: no configuration leaks in from the developer's shell.
        for (k, _) in std::env::vars() {
            if k.starts_with("EXTRANET_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        cmd.env("EXTRANET_DATA_DIR", &data_dir)
            .env("EXTRANET_SERVER__LISTEN", "127.0.0.1:0")
            .env("NO_COLOR", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .with_context(|| format!("spawn {}", bin.display()))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(err) = child.stderr.take() {
            collect(err, stderr.clone());
        }
        let stdout = child.stdout.take().context("child stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let stdout_log = Arc::new(Mutex::new(String::new()));

        let mut redirect = None;
        let wait = async {
            while let Some(line) = lines.next_line().await? {
                push(&stdout_log, &line);
                if let Some(rest) = line.strip_prefix("extranet: redirecting http://") {
                    let addr = rest.split('/').next().unwrap_or_default();
                    redirect = Some(addr.parse::<SocketAddr>()?);
                }
                if let Some(rest) = line.strip_prefix("extranet: serving https://") {
                    let host_port = rest.split('/').next().unwrap_or_default();
                    let port: u16 = host_port
                        .rsplit(':')
                        .next()
                        .unwrap_or_default()
                        .parse()
                        .context("port in the serving line")?;
                    return Ok::<u16, anyhow::Error>(port);
                }
            }
            bail!("the server exited before serving")
        };
        let port = match tokio::time::timeout(START_TIMEOUT, wait).await {
            Ok(Ok(port)) => port,
            Ok(Err(e)) => {
                let _ = child.start_kill();
                let _ = child.wait().await;
                tokio::time::sleep(Duration::from_millis(100)).await;
                let err = stderr.lock().map(|s| s.clone()).unwrap_or_default();
                if let Some(db) = &pg {
                    db.drop_now().await;
                }
                return Err(anyhow!("{e}; stderr:\n{err}"));
            }
            Err(_) => {
                let _ = child.start_kill();
                bail!("the server did not start within {START_TIMEOUT:?}")
            }
        };
        // Keep draining stdout so the child never blocks on a full pipe.
        let log = stdout_log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                push(&log, &line);
            }
        });
        let mut child_env: Vec<(String, String)> = self.env.clone().into_iter().collect();
        child_env.push(("EXTRANET_DATA_DIR".into(), data_dir.display().to_string()));
        Ok(Server {
            env: child_env,
            child: Some(child),
            https: SocketAddr::from(([127, 0, 0, 1], port)),
            redirect,
            data_dir,
            _temp: temp,
            pg,
            stderr,
            stdout: stdout_log,
            backends: self.backends,
        })
    }
}

fn push(buf: &Arc<Mutex<String>>, line: &str) {
    if let Ok(mut b) = buf.lock() {
        b.push_str(line);
        b.push('\n');
    }
}

fn collect(stream: impl AsyncRead + Unpin + Send + 'static, into: Arc<Mutex<String>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            push(&into, &line);
        }
    });
}

pub struct Server {
    /// The configuration environment the server was started with (for CLI commands on its data).
    env: Vec<(String, String)>,
    child: Option<Child>,
    pub https: SocketAddr,
    pub redirect: Option<SocketAddr>,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
    pg: Option<PgDatabase>,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
    pub backends: Backends,
}

impl Server {
    /// A configuration variable the server was started with.
    pub fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `https://localhost:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.https.port())
    }

    /// The certificate the server presents when none is configured.
    pub fn dev_cert_pem(&self) -> anyhow::Result<Vec<u8>> {
        std::fs::read(self.data_dir.join("tls/dev-cert.pem")).context("read the dev certificate")
    }

    /// A client that trusts `cert_pem` only and resolves `localhost` to the server.
    pub fn client_trusting(&self, cert_pem: &[u8]) -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(cert_pem)?])
            .resolve("localhost", self.https)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()?)
    }

    /// A browser-like client: trusts the development certificate, keeps cookies, does not follow
    /// redirects (tests look at them).
    pub fn browser(&self) -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&self.dev_cert_pem()?)?])
            .resolve("localhost", self.https)
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .timeout(Duration::from_secs(20))
            .build()?)
    }

    /// The origin browsers send with forms to this server.
    pub fn origin(&self) -> String {
        format!("https://localhost:{}", self.https.port())
    }

    /// The CSRF token in the form of the page at `path` (its cookie is kept by `client`).
    pub async fn csrf(&self, client: &reqwest::Client, path: &str) -> anyhow::Result<String> {
        let html = client.get(self.url(path)).send().await?.text().await?;
        Ok(html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("no csrf field on the page")?
            .to_owned())
    }

    /// A browser signed in through the sign-in form.
    pub async fn sign_in(&self, email: &str, password: &str) -> anyhow::Result<reqwest::Client> {
        let client = self.browser()?;
        let token = self.csrf(&client, "/login").await?;
        let res = client
            .post(self.url("/login"))
            .header("origin", self.origin())
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", token.as_str()),
            ])
            .send()
            .await?;
        if res.status() != 303 {
            bail!("sign-in of {email}: {}", res.status());
        }
        Ok(client)
    }

    /// Switches a signed-in browser's language the way a person does, with the language menu:
    /// the profile keeps it and every following page speaks it (whatever `Accept-Language` says).
    pub async fn speak(&self, client: &reqwest::Client, lang: &str) -> anyhow::Result<()> {
        let res = client
            .get(self.url(&format!("/lang/{lang}")))
            .query(&[("next", "/home")])
            .send()
            .await?;
        if res.status() != 303 {
            bail!("language switch to {lang}: {}", res.status());
        }
        Ok(())
    }

    /// A client that trusts the development certificate.
    pub fn client(&self) -> anyhow::Result<reqwest::Client> {
        self.client_trusting(&self.dev_cert_pem()?)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits up to `limit` for `needle` to appear in the server's stderr.
    pub async fn stderr_contains(&self, needle: &str, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.stderr().contains(needle) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to `limit` for `needle` to appear on the server's stdout; returns all of it.
    pub async fn stdout_until(&self, needle: &str, limit: Duration) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let out = self.stdout();
            if out.contains(needle) || tokio::time::Instant::now() >= deadline {
                return out;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn pid(&self) -> anyhow::Result<i32> {
        let id = self
            .child
            .as_ref()
            .and_then(|c| c.id())
            .context("server not running")?;
        Ok(i32::try_from(id)?)
    }

    /// Sends a signal (`HUP`, `TERM`, `KILL`…) with kill(1).
    pub fn signal(&self, name: &str) -> anyhow::Result<()> {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid()?.to_string())
            .status()?;
        if !status.success() {
            bail!("kill -{name} failed");
        }
        Ok(())
    }

    /// Waits for the process to exit (after a signal), up to `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> anyhow::Result<std::process::ExitStatus> {
        let child = self.child.as_mut().context("server not running")?;
        let status = tokio::time::timeout(limit, child.wait())
            .await
            .context("the server did not exit in time")??;
        self.child = None;
        Ok(status)
    }

    /// SIGTERM, wait, and drop the test database.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if self.child.is_some() {
            self.signal("TERM")?;
            self.wait_exit(Duration::from_secs(30)).await?;
        }
        if let Some(db) = self.pg.take() {
            db.drop_now().await;
        }
        Ok(())
    }

    /// Runs `extranet ARGS` on this server's database and storage, feeding `stdin`.
    pub async fn command(
        &self,
        args: &[&str],
        stdin: &str,
    ) -> anyhow::Result<(std::process::ExitStatus, String, String)> {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        run_command_with_input(args, &env, stdin).await
    }

    /// Starts `extranet ARGS` on this server's database and storage without waiting for it
    /// (to kill it half-way); its output is discarded.
    pub async fn spawn_command(&self, args: &[&str]) -> anyhow::Result<Child> {
        crate::init_crypto();
        let bin = crate::binary::extranet().await?;
        let mut cmd = Command::new(&bin);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        for (k, _) in std::env::vars() {
            if k.starts_with("EXTRANET_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        Ok(cmd.spawn()?)
    }

    /// Creates an active account of the certification body with a password through the CLI;
    /// returns the password.
    pub async fn create_user(&self, email: &str, role: &str) -> anyhow::Result<String> {
        self.create_user_with(email, role, None).await
    }

    /// As [`Server::create_user`], in the organisation `organisation` (an id).
    pub async fn create_user_in(
        &self,
        email: &str,
        role: &str,
        organisation: &str,
    ) -> anyhow::Result<String> {
        self.create_user_with(email, role, Some(organisation)).await
    }

    async fn create_user_with(
        &self,
        email: &str,
        role: &str,
        organisation: Option<&str>,
    ) -> anyhow::Result<String> {
        let password = "vlaai-tram-Kortrijk-42-brug";
        let mut args = vec![
            "user",
            "create",
            "--email",
            email,
            "--first-name",
            "Test",
            "--surname",
            "Persoon",
            "--role",
            role,
            "--password-stdin",
        ];
        if let Some(org) = organisation {
            args.extend(["--organisation", org]);
        }
        let (status, out, err) = self.command(&args, &format!("{password}\n")).await?;
        if !status.success() {
            bail!("user create failed: {out} {err}");
        }
        Ok(password.to_owned())
    }

    /// Creates a client company through the CLI; returns its id.
    pub async fn create_client_org(&self, name: &str) -> anyhow::Result<String> {
        let (status, out, err) = self
            .command(&["org", "create", "--kind", "client", "--name", name], "")
            .await?;
        if !status.success() {
            bail!("org create failed: {out} {err}");
        }
        Ok(out.trim().to_owned())
    }

    /// The PostgreSQL URL of this server's database, if it runs on PostgreSQL.
    pub fn pg_url(&self) -> Option<&str> {
        match self.backends.db {
            Db::Postgres => self.env_value("EXTRANET_DATABASE__URL"),
            Db::Sqlite => None,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        if let Some(db) = self.pg.take() {
            // A test that failed before stop(): drop its database on a thread of its own.
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    rt.block_on(async {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        db.drop_now().await;
                    });
                }
            })
            .join();
        }
    }
}

/// Runs the binary to completion with the given arguments and environment (for commands such as
/// `config check`, `migrate`, or start-up failures). Returns (exit status, stdout, stderr).
pub async fn run_command(
    args: &[&str],
    env: &[(&str, &str)],
) -> anyhow::Result<(std::process::ExitStatus, String, String)> {
    run_command_with_input(args, env, "").await
}

/// [`run_command`] with `stdin` fed to the process.
pub async fn run_command_with_input(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> anyhow::Result<(std::process::ExitStatus, String, String)> {
    use tokio::io::AsyncWriteExt;
    crate::init_crypto();
    let bin = crate::binary::extranet().await?;
    let mut cmd = Command::new(&bin);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, _) in std::env::vars() {
        if k.starts_with("EXTRANET_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn()?;
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).await?;
    }
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .context("command did not finish within 60 s")??;
    Ok((
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}
