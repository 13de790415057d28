//! In Chromium: a company's primary contact uploads a document into a certification file with
//! the page's form — the progress bar moves to 100 % — sees it, uploads a second version on the
//! document's page, and downloads it with the browser's session; the bytes are the ones sent.
//! No Content-Security-Policy violation on the way.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::browser::{Browser, artifacts_dir, csp_violations};
use extranet_tests::{Server, ServerBuilder, matrix};
use fantoccini::{Client, Locator};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::documents::{big_pdf, fixture};

pub(crate) async fn wait_for_path(c: &Client, prefix: &str, not: &str) -> anyhow::Result<String> {
    for _ in 0..300 {
        let path = c.current_url().await?.path().to_owned();
        if path.starts_with(prefix) && path != not {
            return Ok(path);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("still at {} instead of {prefix}…", c.current_url().await?)
}

/// Records every value the page's progress bar takes in `window.name`, which survives the
/// navigation that follows a successful upload.
const WATCH_PROGRESS: &str = "
    window.name = '';
    const bar = document.getElementById('upload-progress');
    new MutationObserver(() => { window.name += bar.getAttribute('value') + ' '; })
        .observe(bar, { attributes: true, attributeFilter: ['value'] });
";

/// Fills the dossier's (with a title) or the document's upload form, sends it and returns the
/// values the progress bar took.
pub(crate) async fn upload_with_form(
    c: &Client,
    file: &std::path::Path,
    title: Option<&str>,
) -> anyhow::Result<Vec<f64>> {
    if let Some(title) = title {
        c.find(Locator::Id("upload-title"))
            .await?
            .send_keys(title)
            .await?;
        c.find(Locator::Css("#upload-type option[value=\"test_report\"]"))
            .await?
            .click()
            .await?;
    }
    c.find(Locator::Id("upload-file"))
        .await?
        .send_keys(&file.display().to_string())
        .await?;
    c.execute(WATCH_PROGRESS, vec![]).await?;
    c.find(Locator::Css("form[data-upload] button[type=submit]"))
        .await?
        .click()
        .await?;
    // The bar reaches 100 when the last byte is sent; the page then moves to the document.
    for _ in 0..300 {
        let seen: Value = c.execute("return window.name;", vec![]).await?;
        let seen = seen.as_str().unwrap_or_default().to_owned();
        if seen.trim_end().ends_with("100") {
            return Ok(seen
                .split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = c.find(Locator::Id("upload-status")).await?.text().await?;
    anyhow::bail!("the upload did not finish: {status}")
}

matrix!(
    async fn upload_with_progress_new_version_and_download(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let f = fixture(&server).await?;
        let browser = Browser::start().await?;
        let result = flow(&browser, &server, &f.dossier_a, b.label()).await;
        let console = browser.console().await.unwrap_or_default();
        browser.close().await?;
        result?;
        let violations = csp_violations(&console);
        ensure!(violations.is_empty(), "CSP violations: {violations:?}");
        server.stop().await
    }
);

async fn flow(
    browser: &Browser,
    server: &Server,
    dossier: &str,
    label: String,
) -> anyhow::Result<()> {
    let c = &browser.client;
    // Her profile says Dutch; she switches to English with the language menu, as people do.
    crate::tasks_browser::sign_in(c, server, "ca@a.example").await?;
    let lang = c.find(Locator::Css("html")).await?.attr("lang").await?;
    ensure!(
        lang.as_deref() == Some("en"),
        "page language after the switch: {lang:?}"
    );

    let dir = tempfile::tempdir()?;
    let first = dir.path().join("keuringsverslag.pdf");
    std::fs::write(&first, big_pdf(12 * 1024 * 1024, 11))?;
    let second_bytes = big_pdf(6 * 1024 * 1024 + 7, 12);
    let second = dir.path().join("keuringsverslag-v2.pdf");
    std::fs::write(&second, &second_bytes)?;

    c.goto(&server.url(&format!("/dossiers/{dossier}"))).await?;
    if c.find(Locator::Id("upload-title")).await.is_err() {
        anyhow::bail!("no upload form on the dossier page: {}", c.source().await?);
    }
    // A file that is not a document: refused, with the reason in the page's language.
    let fake = dir.path().join("notities.pdf");
    std::fs::write(&fake, "just some notes, not a PDF")?;
    c.find(Locator::Id("upload-title"))
        .await?
        .send_keys("Notities")
        .await?;
    c.find(Locator::Id("upload-file"))
        .await?
        .send_keys(&fake.display().to_string())
        .await?;
    c.find(Locator::Css("form[data-upload] button[type=submit]"))
        .await?
        .click()
        .await?;
    let mut message = String::new();
    for _ in 0..100 {
        message = c.find(Locator::Id("upload-status")).await?.text().await?;
        if message.starts_with("Files of this type") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(
        message.starts_with("Files of this type are not accepted"),
        "refusal shown: {message:?}"
    );
    c.goto(&server.url(&format!("/dossiers/{dossier}"))).await?;
    let values = upload_with_form(c, &first, Some("Keuringsverslag 2026")).await?;
    ensure!(
        values.iter().any(|v| *v > 0.0 && *v <= 100.0) && values.last() == Some(&100.0),
        "progress bar values {values:?}"
    );
    let path = wait_for_path(c, "/documents/", "").await?;
    let title = c
        .find(Locator::Id("document-heading"))
        .await?
        .text()
        .await?;
    ensure!(title == "Keuringsverslag 2026", "heading {title:?}");
    ensure!(
        c.find(Locator::Css("#versions tr[data-version=\"1\"]"))
            .await
            .is_ok(),
        "version 1 listed"
    );
    // The file type and fingerprint wait behind "Technical details".
    let sha = c.find(Locator::Id("document-sha256")).await?;
    ensure!(
        !sha.is_displayed().await?,
        "the SHA-256 shows before the fold is opened"
    );
    c.find(Locator::Css("#technical-details summary"))
        .await?
        .click()
        .await?;
    let shown = sha.text().await?;
    ensure!(
        sha.is_displayed().await?
            && shown.len() == 64
            && shown.chars().all(|ch| ch.is_ascii_hexdigit()),
        "the SHA-256 behind the fold: {shown:?}"
    );
    let facts = c
        .find(Locator::Css("section > dl.facts"))
        .await?
        .text()
        .await?;
    ensure!(
        !facts.contains("application/pdf") && !facts.contains(&shown),
        "technical values among the facts: {facts}"
    );

    // A second version from the document's page.
    let values = upload_with_form(c, &second, None).await?;
    ensure!(
        values.last() == Some(&100.0),
        "progress bar values {values:?}"
    );
    let row = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#versions tr[data-version=\"2\"]"))
        .await
        .context("version 2 listed")?;
    ensure!(
        row.text().await?.contains("keuringsverslag-v2.pdf"),
        "version 2 row"
    );
    std::fs::write(
        artifacts_dir("screenshots")?.join(format!("document-{label}.png")),
        c.screenshot().await?,
    )?;

    // Download with the browser's own session, and hash what arrived.
    let link = c
        .find(Locator::Id("download-latest"))
        .await?
        .attr("href")
        .await?
        .context("download link")?;
    ensure!(link == format!("{path}/content"), "download link {link}");
    let digest = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(arguments[0]).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status))
               .then(b => crypto.subtle.digest('SHA-256', b))
               .then(d => done(Array.from(new Uint8Array(d)).map(x => x.toString(16).padStart(2, '0')).join('')))
               .catch(e => done('failed: ' + e));",
            vec![Value::String(link)],
        )
        .await?;
    let want: String = Sha256::digest(&second_bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    ensure!(digest == Value::String(want), "downloaded digest {digest}");
    Ok(())
}
