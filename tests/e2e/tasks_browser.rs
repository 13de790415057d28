//! Each role's main task in Chromium, from the home page, following links only (the sign-in
//! page is the one address typed): a primary contact uploads into a certification file and sees
//! who opened the document; an inspector opens the file assigned to him and downloads a
//! document; the privacy coordinator finds a person's reads by typing the person's name and
//! exports them. Staff's task (a file, an inspector, a suspension) is in `backoffice_browser`.
//! No Content-Security-Policy violation on the way.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::browser::{Browser, csp_violations};
use extranet_tests::{Server, ServerBuilder, matrix};
use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::access::{PASSWORD, World, api, pdf_bytes, world};
use crate::auth::{rename, sql_rows};
use crate::documents_browser::{upload_with_form, wait_for_path};

async fn start(b: extranet_tests::Backends) -> anyhow::Result<(Server, World)> {
    let server = ServerBuilder::new(b)
        .env("EXTRANET_AUTH__SECOND_FACTOR_ROLES", "[]")
        .start()
        .await?;
    let w = world(&server).await?;
    Ok((server, w))
}

/// Signs in through the form, in English (the language menu), and lands on the home page.
pub(crate) async fn sign_in(c: &Client, server: &Server, email: &str) -> anyhow::Result<()> {
    c.goto(&server.url("/login")).await?;
    c.find(Locator::Id("email")).await?.send_keys(email).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    wait_for_path(c, "/home", "").await?;
    c.find(Locator::Css("a[data-lang='en']"))
        .await?
        .click()
        .await?;
    wait_for_path(c, "/home", "").await?;
    Ok(())
}

/// Follows a link of the navigation, opening the menu first where it is folded.
async fn menu(c: &Client, href: &str) -> anyhow::Result<()> {
    let link = c
        .find(Locator::Css(&format!("nav.site-nav a[href='{href}']")))
        .await
        .with_context(|| format!("no {href} in the navigation"))?;
    // On a wide screen the links show as they are (chromedriver still calls what is inside a
    // closed <details> not interactable, so the click is the page's own, after proving that
    // the link is what a pointer at its place would hit); on a narrow one behind "Menu".
    let hit = c
        .execute(
            "const r = arguments[0].getBoundingClientRect();
             return r.width > 0 && document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === arguments[0];",
            vec![serde_json::to_value(&link)?],
        )
        .await?;
    if hit == Value::Bool(true) {
        c.execute("arguments[0].click();", vec![serde_json::to_value(&link)?])
            .await?;
    } else {
        c.find(Locator::Css("details.site-menu summary"))
            .await?
            .click()
            .await?;
        link.click().await?;
    }
    wait_for_path(c, href, "").await?;
    Ok(())
}

/// SHA-256 (hex) of what the browser downloads from `href` with its own session.
async fn download(c: &Client, href: &str) -> anyhow::Result<String> {
    let digest = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status))
               .then(b => crypto.subtle.digest('SHA-256', b))
               .then(d => done(Array.from(new Uint8Array(d)).map(x => x.toString(16).padStart(2, '0')).join('')))
               .catch(e => done('failed: ' + e));",
            vec![Value::String(href.to_owned())],
        )
        .await?;
    digest.as_str().map(str::to_owned).context("digest")
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `task` in a fresh browser and fails on any CSP violation it caused.
pub(crate) async fn in_browser<F, Fut>(task: F) -> anyhow::Result<()>
where
    F: FnOnce(Browser) -> Fut,
    Fut: std::future::Future<Output = (Browser, anyhow::Result<()>)>,
{
    let browser = Browser::start().await?;
    let (browser, result) = task(browser).await;
    let console = browser.console().await.unwrap_or_default();
    browser.close().await?;
    result?;
    let violations = csp_violations(&console);
    ensure!(violations.is_empty(), "CSP violations: {violations:?}");
    Ok(())
}

matrix!(
    async fn primary_contact_uploads_and_sees_who_opened_it(b: Backends) {
        let (server, w) = start(b).await?;
        rename(&server, "staff@cb.example", "Sofie", "Peeters").await?;
        let dossier = w.dossiers["dA"].clone();
        in_browser(|browser| async {
            let r = async {
                let c = &browser.client;
                sign_in(c, &server, "ca@a.example").await?;
                // The file from the home page.
                c.find(Locator::Css(&format!(
                    "#home-files a[href='/dossiers/{dossier}']"
                )))
                .await?
                .click()
                .await?;
                wait_for_path(c, &format!("/dossiers/{dossier}"), "").await?;
                let dir = tempfile::tempdir()?;
                let file = dir.path().join("attest.pdf");
                let bytes = pdf_bytes("attest 2026");
                std::fs::write(&file, &bytes)?;
                upload_with_form(c, &file, Some("Attest 2026")).await?;
                let path = wait_for_path(c, "/documents/", "/documents/").await?;
                let id = path.trim_start_matches("/documents/").to_owned();
                let heading = c
                    .find(Locator::Id("document-heading"))
                    .await?
                    .text()
                    .await?;
                ensure!(heading == "Attest 2026", "{heading}");

                // Staff open it.
                let staff = &w.people["staff@cb.example"].token;
                let (status, _) = api(
                    &server,
                    staff,
                    Method::GET,
                    &format!("/api/v1/documents/{id}/content"),
                    None,
                )
                .await?;
                ensure!(status == 200, "staff download: {status}");

                // Who opened it: the company's access log, from the menu.
                menu(c, "/company/access-log").await?;
                let log = c.find(Locator::Css("main")).await?.text().await?;
                let line = log
                    .lines()
                    .find(|l| l.contains("Sofie Peeters") && l.contains("Attest 2026"))
                    .with_context(|| format!("no line of Sofie Peeters opening it: {log}"))?;
                ensure!(!line.contains(&id), "an id instead of words: {line}");
                Ok(())
            }
            .await;
            (browser, r)
        })
        .await?;
        server.stop().await
    }
);

matrix!(
    async fn inspector_opens_his_file_and_downloads_a_document(b: Backends) {
        let (server, w) = start(b).await?;
        let dossier = w.dossiers["dA"].clone();
        let (doc, _) = w.documents["docA"].clone();
        in_browser(|browser| async {
            let r = async {
                let c = &browser.client;
                sign_in(c, &server, "insp@cb.example").await?;
                // His assignment in force, from the home page.
                c.find(Locator::Css(&format!(
                    "#home-assignments a[href='/dossiers/{dossier}']"
                )))
                .await?
                .click()
                .await?;
                wait_for_path(c, &format!("/dossiers/{dossier}"), "").await?;
                c.find(Locator::Css(&format!(
                    "#documents a[href='/documents/{doc}']"
                )))
                .await?
                .click()
                .await?;
                wait_for_path(c, &format!("/documents/{doc}"), "").await?;
                let href = c
                    .find(Locator::Id("download-latest"))
                    .await?
                    .attr("href")
                    .await?
                    .context("download link")?;
                let got = download(c, &href).await?;
                ensure!(got == sha256(&pdf_bytes("docA")), "downloaded {got}");
                // The file whose assignment ended is not on his home page.
                menu(c, "/home").await?;
                let home = c.source().await?;
                ensure!(
                    !home.contains(&format!("/dossiers/{}", w.dossiers["dB"])),
                    "an ended assignment's file on the inspector's home"
                );
                Ok(())
            }
            .await;
            (browser, r)
        })
        .await?;
        // The download is in the audit log, as his.
        let reads = sql_rows(
            &server,
            &format!(
                "SELECT action FROM audit_log WHERE actor_id = '{}' AND subject_id = '{doc}'",
                w.people["insp@cb.example"].id
            ),
        )
        .await?;
        ensure!(
            reads.iter().any(|r| r[0] == "document.download"),
            "no download recorded: {reads:?}"
        );
        server.stop().await
    }
);

matrix!(
    async fn privacy_coordinator_finds_a_persons_reads_by_name_and_exports_them(b: Backends) {
        let (server, w) = start(b).await?;
        rename(&server, "cu@a.example", "Bob", "Bosmans").await?;
        // Bob may read his company's documents, and opens one.
        let (status, body) = api(
            &server,
            &w.people["ca@a.example"].token,
            Method::PUT,
            &format!("/api/v1/people/{}/rights", w.people["cu@a.example"].id),
            Some(json!({ "rights": ["document.read"] })),
        )
        .await?;
        ensure!(status == 200, "{status} {body}");
        let (doc, _) = w.documents["docA"].clone();
        let (status, _) = api(
            &server,
            &w.people["cu@a.example"].token,
            Method::GET,
            &format!("/api/v1/documents/{doc}/content"),
            None,
        )
        .await?;
        ensure!(status == 200, "Bob's download: {status}");
        in_browser(|browser| async {
            let r = async {
                let c = &browser.client;
                sign_in(c, &server, "po@cb.example").await?;
                menu(c, "/staff/audit").await?;
                // Opening the page searches nothing.
                ensure!(
                    c.find(Locator::Id("audit-results")).await.is_err(),
                    "results before any search"
                );
                c.find(Locator::Id("actor"))
                    .await?
                    .send_keys("Bob Bosmans")
                    .await?;
                c.find(Locator::Id("action"))
                    .await?
                    .send_keys("document.")
                    .await?;
                c.find(Locator::Id("audit-submit")).await?.click().await?;
                let table = c
                    .wait()
                    .at_most(Duration::from_secs(10))
                    .for_element(Locator::Id("audit-results"))
                    .await
                    .context("the results")?
                    .text()
                    .await?;
                ensure!(table.contains("Bob Bosmans"), "{table}");
                let rows = c.find_all(Locator::Css("#audit-results tr.audit-row")).await?;
                ensure!(!rows.is_empty(), "no rows: {table}");
                ensure!(!table.contains(&doc), "ids instead of names: {table}");
                // The export: what was found, as CSV, with the browser's session.
                let href = c
                    .find(Locator::Id("audit-export"))
                    .await?
                    .attr("href")
                    .await?
                    .context("export link")?;
                let csv = c
                    .execute_async(
                        "const done = arguments[arguments.length - 1];
                         fetch(arguments[0]).then(r => r.text()).then(done).catch(e => done('failed: ' + e));",
                        vec![Value::String(href)],
                    )
                    .await?;
                let csv = csv.as_str().context("csv")?.to_owned();
                let lines: Vec<&str> = csv.lines().skip(1).collect();
                ensure!(lines.len() == rows.len(), "export {} lines, page {} rows:\n{csv}", lines.len(), rows.len());
                ensure!(lines.iter().all(|l| l.contains("Bob Bosmans")), "{csv}");
                Ok(())
            }
            .await;
            (browser, r)
        })
        .await?;
        let exports = sql_rows(
            &server,
            &format!(
                "SELECT actor_id FROM audit_log WHERE action = 'audit.export' AND actor_id = '{}'",
                w.people["po@cb.example"].id
            ),
        )
        .await?;
        ensure!(exports.len() == 1, "{exports:?}");
        server.stop().await
    }
);
