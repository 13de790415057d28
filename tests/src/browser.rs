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

    /// The HTTP status of the page shown, after redirects: Navigation Timing's `responseStatus`
    /// where the browser gives it (Chromium under WebDriver may leave it 0), else the status of
    /// fetching the same address again with the same session.
    pub async fn page_status(&self) -> anyhow::Result<u16> {
        let v = self
            .client
            .execute(
                "const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseStatus : 0;",
                vec![],
            )
            .await?;
        match v.as_u64().and_then(|s| u16::try_from(s).ok()) {
            Some(status) if status > 0 => Ok(status),
            _ => {
                let here = self.client.current_url().await?;
                self.fetch_status(here.as_str()).await
            }
        }
    }

    /// The status of a GET of `url` from the page, with the browser's session (redirects followed).
    pub async fn fetch_status(&self, url: &str) -> anyhow::Result<u16> {
        let v = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(arguments[0], { credentials: 'same-origin' })
                   .then(r => { if (r.body) { r.body.cancel(); } done(r.status); })
                   .catch(e => done('failed: ' + e));",
                vec![Value::String(url.to_owned())],
            )
            .await?;
        v.as_u64()
            .and_then(|s| u16::try_from(s).ok())
            .with_context(|| format!("fetch {url}: {v}"))
    }

    /// Resizes the window so that the viewport (`window.innerWidth`) is `width` CSS px wide.
    pub async fn set_viewport_width(&self, width: u32, height: u32) -> anyhow::Result<()> {
        let (mut w, mut inner) = (width, 0);
        for _ in 0..3 {
            self.client.set_window_size(w, height).await?;
            inner = self
                .client
                .execute("return window.innerWidth;", vec![])
                .await?
                .as_i64()
                .unwrap_or_default();
            if inner == i64::from(width) {
                return Ok(());
            }
            // The window's own frame takes the difference.
            w = u32::try_from(i64::from(w) + i64::from(width) - inner)?;
        }
        bail!("window.innerWidth is {inner}, not {width}")
    }

    /// Whether the page is wider than the viewport (its scroll width beyond `window.innerWidth`,
    /// or beyond the root's client width when a scrollbar takes room): `None`, or the widths and
    /// the widest element that reaches past the edge (not counting what a scrolling ancestor clips).
    pub async fn overflow(&self) -> anyhow::Result<Option<Overflow>> {
        let v = self.client.execute(OVERFLOW_JS, vec![]).await?;
        if v.is_null() {
            return Ok(None);
        }
        Ok(Some(Overflow {
            scroll_width: v["scroll_width"].as_f64().context("scroll_width")?,
            inner_width: v["inner_width"].as_f64().context("inner_width")?,
            client_width: v["client_width"].as_f64().context("client_width")?,
            widest: v["widest"].as_str().map(str::to_owned),
            innermost: v["innermost"].as_str().map(str::to_owned),
            text: v["text"].as_str().map(str::to_owned),
            widest_right: v["widest_right"].as_f64(),
        }))
    }

    /// Runs axe-core (its source injected through WebDriver, which the page's CSP does not
    /// govern) on the page: the violations of impact `serious` or `critical`.
    pub async fn axe(&self) -> anyhow::Result<Vec<AxeViolation>> {
        let source = axe_source()?;
        let loaded = self
            .client
            .execute(
                &format!(
                    "{source}\n;return typeof window.axe === 'object' ? window.axe.version : null;"
                ),
                vec![],
            )
            .await?;
        let Some(version) = loaded.as_str() else {
            bail!("axe-core did not load into the page: {loaded}");
        };
        anyhow::ensure!(!version.is_empty(), "axe-core has no version");
        let v = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                                  target: v.nodes.length ? JSON.stringify(v.nodes[0].target) : '' }))))
                   .catch(e => done({ error: String(e) }));",
                vec![],
            )
            .await?;
        if let Some(e) = v.get("error") {
            bail!("axe.run failed: {e}");
        }
        let text = |x: &Value, k: &str| x[k].as_str().unwrap_or_default().to_owned();
        Ok(v.as_array()
            .context("axe.run answered no list")?
            .iter()
            .map(|x| AxeViolation {
                id: text(x, "id"),
                impact: text(x, "impact"),
                help: text(x, "help"),
                nodes: x["nodes"].as_u64().unwrap_or_default(),
                target: text(x, "target"),
            })
            .collect())
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// A page wider than its viewport.
#[derive(Debug, Clone)]
pub struct Overflow {
    /// `document.documentElement.scrollWidth`.
    pub scroll_width: f64,
    /// `window.innerWidth`.
    pub inner_width: f64,
    /// `document.documentElement.clientWidth` (less than `inner_width` by a vertical scrollbar).
    pub client_width: f64,
    /// The outermost element reaching furthest right (`main > table.grid`), if one does.
    pub widest: Option<String>,
    /// The innermost element inside it reaching as far (`input#surname`), if any.
    pub innermost: Option<String>,
    /// The text reaching furthest right, in its element (`dd#person-email «a@b.example»`).
    pub text: Option<String>,
    /// The widest element's right edge, in CSS px from the page's left.
    pub widest_right: Option<f64>,
}

/// One axe-core rule violated on a page.
#[derive(Debug, Clone)]
pub struct AxeViolation {
    pub id: String,
    pub impact: String,
    pub help: String,
    /// How many elements violate it.
    pub nodes: u64,
    /// The first such element's selector (axe's `target`, as JSON).
    pub target: String,
}

const OVERFLOW_JS: &str = "
    const inner = window.innerWidth, client = document.documentElement.clientWidth;
    const scroll = document.documentElement.scrollWidth;
    if (scroll <= Math.min(inner, client)) { return null; }
    const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        Array.from(el.classList).slice(0, 3).map(c => '.' + c).join('');
    const clipped = el => {
        for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
            if (getComputedStyle(a).overflowX !== 'visible') { return true; }
        }
        return false;
    };
    const edge = el => {
        const r = el.getBoundingClientRect();
        return (r.width > 0 || r.height > 0) ? r.right + window.scrollX : 0;
    };
    let widest = null, right = Math.min(inner, client) + 0.5;
    for (const el of document.body.querySelectorAll('*')) {
        const e = edge(el);
        if (e > right + 0.5 && !clipped(el)) { widest = el; right = e; }
    }
    let innermost = null;
    if (widest) {
        for (const el of widest.querySelectorAll('*')) {
            if (edge(el) >= right - 0.5 && !clipped(el)) { innermost = el; }
        }
    }
    // The text reaching furthest right: often what stretches a grid or a table cell.
    let text = null, textRight = Math.min(inner, client) + 0.5;
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const p = n.parentElement;
        if (!p || !n.textContent.trim() || getComputedStyle(p).overflowX !== 'visible' || clipped(p)) { continue; }
        range.selectNodeContents(n);
        const e = range.getBoundingClientRect().right + window.scrollX;
        if (e > textRight + 0.5) { text = n; textRight = e; }
    }
    return { scroll_width: scroll, inner_width: inner, client_width: client,
             text: text ? name(text.parentElement) + ' «' + text.textContent.trim().slice(0, 40) + '»' : null,
             widest: widest ? (widest.parentElement ? name(widest.parentElement) + ' > ' : '') + name(widest) : null,
             innermost: innermost ? name(innermost) : null,
             widest_right: widest ? Math.round(right) : null };
";

/// axe-core's source, read once from `TEST_EXTRANET_AXE`.
fn axe_source() -> anyhow::Result<&'static str> {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(s) = SOURCE.get() {
        return Ok(s);
    }
    let path = TestEnv::get().axe;
    let s = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "read {} (install it with infra/scripts/install-axe.sh)",
            path.display()
        )
    })?;
    Ok(SOURCE.get_or_init(|| s))
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
