//! Headless Chromium through chromedriver (fantoccini), with the browser console readable so
//! that tests can prove no Content-Security-Policy violation happened.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::backends::TestEnv;

/// A chromedriver process and a browser session on it.
pub struct Browser {
    pub client: Client,
    _driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> anyhow::Result<Browser> {
        let env = TestEnv::get();
        let port = free_port()?;
        let mut driver = Command::new(&env.chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| {
                format!(
                    "start {} (install it with infra/scripts/install-chromium.sh)",
                    env.chromedriver
                )
            })?;
        let profile = tempfile::tempdir()?;
        let caps = json!({
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": env.chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = match caps {
            Value::Object(map) => map,
            _ => bail!("capabilities must be an object"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..50 {
            match ClientBuilder::rustls()?
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Ok(Browser {
                        client,
                        _driver: driver,
                        _profile: profile,
                    });
                }
                Err(e) => {
                    last = Some(e);
                    if let Ok(Some(status)) = driver.try_wait() {
                        bail!("chromedriver exited: {status}");
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        bail!("cannot start a browser session: {last:?}")
    }

    /// Browser console entries since the last call (chromedriver's log endpoint).
    pub async fn console(&self) -> anyhow::Result<Vec<String>> {
        let v = self.client.issue_cmd(BrowserLog).await?;
        Ok(v.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// Console entries that report a Content-Security-Policy violation.
pub fn csp_violations(console: &[String]) -> Vec<String> {
    console
        .iter()
        .filter(|m| m.contains("Content Security Policy") || m.contains("Content-Security-Policy"))
        .cloned()
        .collect()
}

#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `target/e2e-artifacts/<what>`, created: where screenshots are kept after a run.
pub fn artifacts_dir(what: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/<profile>/deps/e2e-HASH → target
    let target = exe
        .ancestors()
        .nth(3)
        .context("test executable is not under target/<profile>/deps")?;
    let dir = target.join("e2e-artifacts").join(what);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
