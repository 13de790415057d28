//! The link crawl (issue 14), in Chromium: every role signs in through /login, then the crawl
//! follows every same-origin link breadth-first from the home page — GET only, never a form —
//! and checks each page it reaches:
//!
//! - its HTTP status (Navigation Timing): 404, or any other 4xx or 5xx;
//! - Content-Security-Policy violations (and uncaught script errors) in the console;
//! - the shell: `nav.site-nav` and the sign-out form `form.sign-out[action="/logout"]`;
//! - at a viewport 390 CSS px wide, nothing wider than the viewport (the widest element named);
//! - axe-core (pinned, `infra/scripts/install-axe.sh`): no violation of impact serious/critical.
//!
//! Document downloads (`…/content`) and links past the bounds below are fetched with the
//! browser's session and only their status checked. An anonymous visitor gets the same checks,
//! but the shell's, on the home page, /login, /password/forgot and what they link to. Every
//! problem is gathered; the test fails once at the end with the whole list by role and path
//! (also written to `target/e2e-artifacts/crawl/<backends>.txt`). Self-checks first show that
//! each check can fail: an unknown path answers 404, an element made too wide is found, a button
//! without a name is an axe violation, an inline style is a CSP violation, and an anonymous page
//! has no sign-out form.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::browser::{Browser, artifacts_dir, csp_violations};
use extranet_tests::{Server, ServerBuilder, matrix};
use fantoccini::Locator;
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

use crate::access::{PASSWORD, api, world};

/// The viewport the pages are checked at: a phone held upright.
const WIDTH: u32 = 390;
const HEIGHT: u32 = 844;
/// Pages rendered and checked per role.
const MAX_PAGES: usize = 60;
/// Pages rendered per route (`/people/{id}`): further ones get their status checked only.
const PER_ROUTE: usize = 3;
/// Status-only fetches per role (downloads, and links past the bounds above).
const MAX_FETCHES: usize = 120;
/// Query parameters that page through a list: kept in the visited key, a few per path.
const PAGING: [&str; 5] = ["page", "after", "before", "cursor", "offset"];
const PAGED_PER_PATH: usize = 3;

/// The roles crawled and the fixture's person in each (`crate::access::world`).
const ROLES: [(&str, &str); 6] = [
    ("client_admin", "ca@a.example"),
    ("client_user", "cu@a.example"),
    ("inspector", "insp@cb.example"),
    ("staff", "staff@cb.example"),
    ("admin", "admin@cb.example"),
    ("privacy_officer", "po@cb.example"),
];

matrix!(
    async fn every_role_crawls_every_link_status_csp_shell_width_axe(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__SECOND_FACTOR_ROLES", "[]")
            // Subprocessors: a notice may take effect today, and is applied within a second
            // (the installation's day is the tests' UTC day).
            .env("EXTRANET_SUBPROCESSORS__NOTICE_DAYS", "0")
            .env("EXTRANET_SUBPROCESSORS__APPLY_EVERY_SECS", "1")
            .env("EXTRANET_SITE__TIME_ZONE", "UTC")
            .start()
            .await?;
        // Three companies, people in every role, dossiers with an inspector assigned and a
        // document uploaded in each of three.
        let w = world(&server).await?;
        // Subprocessors: one in use (with its history), one announced with an objection.
        subprocessors(&server, &w.people["ca@a.example"].token).await?;
        // The contact person may read the company's documents.
        let (status, body) = api(
            &server,
            &w.people["ca@a.example"].token,
            Method::PUT,
            &format!("/api/v1/people/{}/rights", w.people["cu@a.example"].id),
            Some(json!({ "rights": ["document.read"] })),
        )
        .await?;
        ensure!(status == 200, "grant document.read: {status} {body}");

        let browser = Browser::start().await?;
        let result = crawl_everyone(&browser, &server).await;
        browser.close().await?;
        let (problems, summary) = result?;
        let report = format!("{summary}\n{}", problems.render());
        std::fs::write(
            artifacts_dir("crawl")?.join(format!("{}.txt", b.label())),
            &report,
        )?;
        server.stop().await?;
        ensure!(
            problems.is_empty(),
            "the crawl found {} problems:\n{report}",
            problems.count()
        );
        Ok(())
    }
);

/// A subprocessor in use and a notice with an open objection of company A, through the API.
async fn subprocessors(server: &Server, ca: &str) -> anyhow::Result<()> {
    use crate::subprocessors_pages::{in_days, published_notice};
    published_notice(server, "Hosting NV", &in_days(0)).await?;
    let notice = published_notice(server, "Back-up Hosting NV", &in_days(40)).await?;
    let (status, body) = api(
        server,
        ca,
        Method::POST,
        &format!("/api/v1/subprocessor-notices/{notice}/objections"),
        Some(json!({ "reasons": "<p>We <em>object</em>: <a href=\"https://example.org\">why</a></p>" })),
    )
    .await?;
    ensure!(status == 201, "objection: {status} {body}");
    for _ in 0..50 {
        let (_, body) = api(server, ca, Method::GET, "/api/v1/subprocessors", None).await?;
        if serde_json::from_str::<Value>(&body)?["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty())
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("the notice of today was not applied")
}

/// Problems by role, then by path.
#[derive(Default)]
struct Problems(BTreeMap<String, BTreeMap<String, Vec<String>>>);

impl Problems {
    fn add(&mut self, who: &str, path: &str, problem: String) {
        self.0
            .entry(who.to_owned())
            .or_default()
            .entry(path.to_owned())
            .or_default()
            .push(problem);
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn count(&self) -> usize {
        self.0.values().flat_map(|p| p.values()).map(Vec::len).sum()
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for (who, paths) in &self.0 {
            let _ = writeln!(out, "== {who}");
            for (path, problems) in paths {
                let _ = writeln!(out, "  {path}");
                for p in problems {
                    let _ = writeln!(out, "    - {p}");
                }
            }
        }
        out
    }
}

async fn crawl_everyone(browser: &Browser, server: &Server) -> anyhow::Result<(Problems, String)> {
    let c = &browser.client;
    c.goto(&server.url("/login")).await?;
    browser.set_viewport_width(WIDTH, HEIGHT).await?;
    self_check(browser, server).await?;

    let mut problems = Problems::default();
    let mut summary = String::new();
    let anonymous = Crawl::new(browser, server, "anonymous", false)?
        .run(&["/", "/login", "/password/forgot"], &mut problems)
        .await?;
    let _ = writeln!(summary, "anonymous: {anonymous}");
    for (role, email) in ROLES {
        c.delete_all_cookies().await?;
        sign_in(c, server, email).await?;
        let who = format!("{role} ({email})");
        let stats = Crawl::new(browser, server, &who, true)?
            .run(&["/"], &mut problems)
            .await?;
        let _ = writeln!(summary, "{who}: {stats}");
    }
    Ok((problems, summary))
}

/// Each check can fail: proven on real pages of this server before the crawl relies on it.
async fn self_check(browser: &Browser, server: &Server) -> anyhow::Result<()> {
    let c = &browser.client;
    c.goto(&server.url("/crawl-self-check/missing")).await?;
    let status = browser.page_status().await?;
    ensure!(
        status == 404,
        "self-check: an unknown path answered {status}"
    );
    let status = browser
        .fetch_status(&server.url("/crawl-self-check/missing"))
        .await?;
    ensure!(
        status == 404,
        "self-check: fetching an unknown path: {status}"
    );

    c.goto(&server.url("/login")).await?;
    ensure!(
        !shell(browser).await?.1,
        "self-check: an anonymous page has a sign-out form"
    );
    // An element 2000 px wide (set through the CSSOM, which the CSP allows).
    c.execute(
        "const d = document.createElement('div'); d.id = 'crawl-wide';
         d.style.width = '2000px'; d.style.height = '1px'; document.body.appendChild(d);",
        vec![],
    )
    .await?;
    let wide = browser.overflow().await?;
    ensure!(
        wide.as_ref()
            .and_then(|o| o.widest.as_deref())
            .is_some_and(|w| w.contains("div#crawl-wide")),
        "self-check: a 2000 px element was not found: {wide:?}"
    );
    c.execute("document.getElementById('crawl-wide').remove();", vec![])
        .await?;
    ensure!(
        browser.overflow().await?.is_none(),
        "self-check: the login page overflows without the wide element"
    );
    // A button without a name: axe's `button-name`, critical.
    c.execute(
        "document.body.insertAdjacentHTML('beforeend', '<button id=\"crawl-bad\"></button>');",
        vec![],
    )
    .await?;
    let found = browser.axe().await?;
    ensure!(
        found
            .iter()
            .any(|v| v.id == "button-name" && v.target.contains("crawl-bad")),
        "self-check: axe did not report a button without a name: {found:?}"
    );
    // Injecting and running axe is no CSP violation of its own.
    let console = browser.console().await?;
    ensure!(
        csp_violations(&console).is_empty(),
        "self-check: running axe caused CSP violations: {console:?}"
    );
    // An inline style is refused and reported in the console.
    c.execute(
        "const s = document.createElement('style'); s.textContent = 'body{color:red}'; document.head.appendChild(s);",
        vec![],
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let console = browser.console().await?;
    ensure!(
        !csp_violations(&console).is_empty(),
        "self-check: an inline style was not reported as a CSP violation: {console:?}"
    );
    Ok(())
}

async fn sign_in(c: &fantoccini::Client, server: &Server, email: &str) -> anyhow::Result<()> {
    c.goto(&server.url("/login")).await?;
    c.find(Locator::Id("email")).await?.send_keys(email).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    for _ in 0..100 {
        let path = c.current_url().await?.path().to_owned();
        if !path.starts_with("/login") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("sign-in of {email}: still at {}", c.current_url().await?)
}

/// Whether the page has the shell's navigation and its sign-out form.
async fn shell(browser: &Browser) -> anyhow::Result<(bool, bool)> {
    let v = browser
        .client
        .execute(
            "return [!!document.querySelector('nav.site-nav'),
                     !!document.querySelector('form.sign-out[action=\"/logout\"]')];",
            vec![],
        )
        .await?;
    Ok((v[0] == Value::Bool(true), v[1] == Value::Bool(true)))
}

/// One person's crawl.
struct Crawl<'a> {
    browser: &'a Browser,
    server: &'a Server,
    origin: url::Origin,
    who: String,
    signed_in: bool,
    queue: VecDeque<(Url, String)>,
    /// Visited keys: the path, with the paging parameters only.
    seen: BTreeSet<String>,
    paged: BTreeMap<String, usize>,
    /// Pages fully checked, by where they ended up (after redirects).
    checked: BTreeSet<String>,
    routes: BTreeMap<String, usize>,
    rendered: usize,
    /// Every page rendered, as the report lists them.
    pages: Vec<String>,
    fetched: usize,
    skipped: usize,
    lang_checked: bool,
}

impl<'a> Crawl<'a> {
    fn new(
        browser: &'a Browser,
        server: &'a Server,
        who: &str,
        signed_in: bool,
    ) -> anyhow::Result<Crawl<'a>> {
        Ok(Crawl {
            browser,
            server,
            origin: Url::parse(&server.url("/"))?.origin(),
            who: who.to_owned(),
            signed_in,
            queue: VecDeque::new(),
            seen: BTreeSet::new(),
            paged: BTreeMap::new(),
            checked: BTreeSet::new(),
            routes: BTreeMap::new(),
            rendered: 0,
            pages: Vec::new(),
            fetched: 0,
            skipped: 0,
            lang_checked: false,
        })
    }

    async fn run(mut self, start: &[&str], problems: &mut Problems) -> anyhow::Result<String> {
        for path in start {
            let url = Url::parse(&self.server.url(path))?;
            self.enqueue(url, "(start)", problems).await?;
        }
        while let Some((url, from)) = self.queue.pop_front() {
            let route = route_of(url.path());
            let download = url.path().ends_with("/content")
                || url.path().ends_with(".csv")
                || url.path().ends_with(".json")
                || url.path().ends_with(".atom")
                || url.path().starts_with("/api/");
            let render = !download
                && self.rendered < MAX_PAGES
                && self.routes.get(&route).copied().unwrap_or(0) < PER_ROUTE;
            if render {
                *self.routes.entry(route).or_default() += 1;
                self.rendered += 1;
                self.page(&url, &from, problems).await?;
            } else if self.fetched < MAX_FETCHES {
                self.fetched += 1;
                let status = self.browser.fetch_status(url.as_str()).await?;
                if status >= 400 || status == 0 {
                    problems.add(
                        &self.who,
                        &display(&url),
                        format!("HTTP {status} (linked from {from}; fetched, not rendered)"),
                    );
                }
            } else {
                self.skipped += 1;
            }
        }
        Ok(format!(
            "{} pages rendered and checked, {} links fetched for their status, {} left unchecked\n    {}",
            self.rendered,
            self.fetched,
            self.skipped,
            self.pages.join(" ")
        ))
    }

    /// Queues a same-origin link once (the language switch: one link checked, then skipped).
    async fn enqueue(
        &mut self,
        url: Url,
        from: &str,
        problems: &mut Problems,
    ) -> anyhow::Result<()> {
        if url.origin() != self.origin || !matches!(url.scheme(), "https" | "http") {
            return Ok(());
        }
        let path = url.path();
        if path.starts_with("/static/") || path == "/logout" || path.starts_with("/logout/") {
            return Ok(());
        }
        if path.starts_with("/lang/") {
            if !self.lang_checked {
                self.lang_checked = true;
                let status = self.browser.fetch_status(url.as_str()).await?;
                if status >= 400 || status == 0 {
                    problems.add(
                        &self.who,
                        &display(&url),
                        format!("HTTP {status} (language switch, linked from {from})"),
                    );
                }
            }
            return Ok(());
        }
        let Some(key) = self.key(&url) else {
            return Ok(());
        };
        if self.seen.insert(key) {
            let mut url = url;
            url.set_fragment(None);
            self.queue.push_back((url, from.to_owned()));
        }
        Ok(())
    }

    /// The visited key: path, plus paging parameters (a few variants per path); downloads keep
    /// their whole query (a version each). `None` past the bound.
    fn key(&mut self, url: &Url) -> Option<String> {
        let path = url.path().to_owned();
        if path.ends_with("/content") {
            return Some(display(url));
        }
        let paging: Vec<String> = url
            .query_pairs()
            .filter(|(k, _)| PAGING.contains(&k.as_ref()))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if paging.is_empty() {
            return Some(path);
        }
        let key = format!("{path}?{}", paging.join("&"));
        if self.seen.contains(&key) {
            return Some(key);
        }
        let n = self.paged.entry(path).or_default();
        if *n >= PAGED_PER_PATH {
            return None;
        }
        *n += 1;
        Some(key)
    }

    async fn page(&mut self, url: &Url, from: &str, problems: &mut Problems) -> anyhow::Result<()> {
        let c = &self.browser.client;
        let asked = display(url);
        if let Err(e) = c.goto(url.as_str()).await {
            problems.add(
                &self.who,
                &asked,
                format!("navigation failed (linked from {from}): {e}"),
            );
            return Ok(());
        }
        let here = c.current_url().await?;
        let shown = display(&here);
        self.pages.push(if shown == asked {
            shown.clone()
        } else {
            format!("{asked}→{shown}")
        });
        let status = self.browser.page_status().await?;
        if status >= 400 || status == 0 {
            let via = if here.path() == url.path() {
                String::new()
            } else {
                format!(" after a redirect from {asked}")
            };
            problems.add(
                &self.who,
                &shown,
                format!("HTTP {status} (linked from {from}{via})"),
            );
        }
        if self.signed_in && here.path() == "/login" && url.path() != "/login" {
            problems.add(
                &self.who,
                &asked,
                format!("sends a signed-in person to /login (linked from {from})"),
            );
        }
        // A redirect to a page already checked: its links are queued already.
        let key = self.key(&here).unwrap_or_else(|| shown.clone());
        self.seen.insert(key.clone());
        if !self.checked.insert(key) {
            let _ = self.browser.console().await?;
            return Ok(());
        }
        let kind = c.execute("return document.contentType;", vec![]).await?;
        if kind != "text/html" {
            problems.add(
                &self.who,
                &shown,
                format!("not an HTML page ({kind}; linked from {from})"),
            );
            return Ok(());
        }

        let console = self.browser.console().await?;
        for v in csp_violations(&console) {
            problems.add(&self.who, &shown, format!("CSP: {v}"));
        }
        for e in console.iter().filter(|m| m.contains("Uncaught")) {
            problems.add(&self.who, &shown, format!("script error: {e}"));
        }
        if self.signed_in {
            let (nav, sign_out) = shell(self.browser).await?;
            if !nav {
                problems.add(&self.who, &shown, "shell: no nav.site-nav".into());
            }
            if !sign_out {
                problems.add(
                    &self.who,
                    &shown,
                    "shell: no form.sign-out[action=\"/logout\"]".into(),
                );
            }
        }
        if let Some(o) = self.browser.overflow().await? {
            problems.add(
                &self.who,
                &shown,
                format!(
                    "wider than the viewport at {WIDTH} px: scrollWidth {} > innerWidth {} (clientWidth {}); widest: {}{} (right edge {} px){}",
                    o.scroll_width,
                    o.inner_width,
                    o.client_width,
                    o.widest.as_deref().unwrap_or("(none found)"),
                    o.innermost
                        .as_deref()
                        .map_or(String::new(), |i| format!(", innermost {i}")),
                    o.widest_right.map_or("?".into(), |r| r.to_string()),
                    o.text
                        .as_deref()
                        .map_or(String::new(), |t| format!("; furthest text: {t}")),
                ),
            );
        }
        match self.browser.axe().await {
            Ok(found) => {
                for v in found {
                    problems.add(
                        &self.who,
                        &shown,
                        format!(
                            "axe {} ({}): {} — {} element(s), first {}",
                            v.id, v.impact, v.help, v.nodes, v.target
                        ),
                    );
                }
            }
            Err(e) => problems.add(&self.who, &shown, format!("axe could not run: {e}")),
        }
        let console = self.browser.console().await?;
        for v in csp_violations(&console) {
            problems.add(&self.who, &shown, format!("CSP (while axe ran): {v}"));
        }

        let links = c
            .execute(
                "return Array.from(document.querySelectorAll('a[href]'), a => a.href);",
                vec![],
            )
            .await?;
        let links: Vec<Url> = links
            .as_array()
            .context("links")?
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|h| Url::parse(h).ok())
            .collect();
        for link in links {
            self.enqueue(link, &shown, problems).await?;
        }
        Ok(())
    }
}

/// Path and query, as the report shows a page.
fn display(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The route a path belongs to: ids (UUIDs, numbers) replaced by `{id}`.
fn route_of(path: &str) -> String {
    path.split('/')
        .map(|s| {
            let id = (s.len() >= 16 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
                || (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit()));
            if id { "{id}" } else { s }
        })
        .collect::<Vec<_>>()
        .join("/")
}
