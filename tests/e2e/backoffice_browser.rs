//! In Chromium: a member of staff signs in and, from `/home`, following links only, opens a
//! certification file, assigns an inspector and suspends the certificate through the
//! confirmation page, seeing the message after each step; the back-office pages are no wider
//! than a 390 px phone screen, and no Content-Security-Policy violation occurs on the way.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::browser::{Browser, artifacts_dir, csp_violations};
use extranet_tests::{Server, ServerBuilder, matrix};
use fantoccini::{Client, Locator};

use crate::access::PASSWORD;

async fn wait_for_path(c: &Client, wanted: impl Fn(&str) -> bool) -> anyhow::Result<String> {
    for _ in 0..200 {
        let path = c.current_url().await?.path().to_owned();
        if wanted(&path) {
            return Ok(path);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("still at {}", c.current_url().await?)
}

/// The flash message the page shows, waiting for one that starts with `text`.
async fn wait_for_notice(c: &Client, text: &str) -> anyhow::Result<()> {
    let mut seen = String::new();
    for _ in 0..200 {
        if let Ok(e) = c.find(Locator::Id("notice")).await {
            seen = e.text().await.unwrap_or_default();
            if seen.starts_with(text) {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("no message {text:?} (seen {seen:?}): {}", c.source().await?)
}

async fn click(c: &Client, css: &str) -> anyhow::Result<()> {
    c.find(Locator::Css(css))
        .await
        .with_context(|| format!("find {css}"))?
        .click()
        .await
        .with_context(|| format!("click {css}"))?;
    Ok(())
}

matrix!(
    async fn staff_open_assign_and_suspend_in_the_browser(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let org = server.create_client_org("Beton A NV").await?;
        server.create_user("staff@cb.example", "staff").await?;
        server.create_user("insp@cb.example", "inspector").await?;
        let browser = Browser::start().await?;
        let result = flow(&browser, &server, &org, b.label()).await;
        let console = browser.console().await.unwrap_or_default();
        browser.close().await?;
        result?;
        let violations = csp_violations(&console);
        ensure!(violations.is_empty(), "CSP violations: {violations:?}");
        let history = crate::auth::sql_rows(
            &server,
            "SELECT from_status, to_status, reason FROM dossier_status_change",
        )
        .await?;
        ensure!(
            history == vec![vec!["active", "suspended", "Surveillance audit missed"]],
            "{history:?}"
        );
        server.stop().await
    }
);

async fn flow(browser: &Browser, server: &Server, org: &str, label: String) -> anyhow::Result<()> {
    let c = &browser.client;
    c.goto(&server.url("/login")).await?;
    c.find(Locator::Id("email"))
        .await?
        .send_keys("staff@cb.example")
        .await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    wait_for_path(c, |p| p == "/home").await?;
    click(c, "a[data-lang='en']").await?;
    wait_for_path(c, |p| p == "/home").await?;

    // On a phone, from the navigation's menu to the list of files, whose form opens one.
    browser.set_viewport_width(390, 844).await?;
    narrow(browser, "/home").await?;
    click(c, ".site-menu summary").await?;
    click(c, "nav.site-nav a[href='/dossiers']").await?;
    wait_for_path(c, |p| p == "/dossiers").await?;
    narrow(browser, "/dossiers").await?;
    c.find(Locator::Id("organisation_id"))
        .await?
        .select_by_label("Beton A NV")
        .await
        .context("the company by its name")?;
    c.find(Locator::Id("scheme"))
        .await?
        .send_keys("ISO 9001")
        .await
        .context("type the scheme")?;
    c.find(Locator::Id("certificate_number"))
        .await?
        .send_keys("BE-2026-17")
        .await?;
    c.find(Locator::Id("status"))
        .await?
        .select_by_value("active")
        .await
        .context("granted from the start")?;
    click(c, "#dossier-create-submit").await?;
    let file = wait_for_path(c, |p| p.starts_with("/dossiers/") && p.len() > 20).await?;
    wait_for_notice(c, "The certification file has been opened.").await?;
    narrow(browser, &file).await?;

    // An inspector, chosen by name; the period is filled in already.
    c.find(Locator::Id("inspector_id"))
        .await?
        .select_by_label("Test Persoon")
        .await
        .context("the inspector by name")?;
    click(c, "#assign-submit").await?;
    wait_for_notice(c, "The inspector has been assigned.").await?;
    let rows = c.find_all(Locator::Css("#assignments tbody tr")).await?;
    ensure!(rows.len() == 1, "{} assignments listed", rows.len());

    // Suspending: the form, then the confirmation page, then the file with the message.
    click(c, "#dossier-status-link").await?;
    wait_for_path(c, |p| p.ends_with("/status")).await?;
    c.find(Locator::Id("status"))
        .await?
        .select_by_value("suspended")
        .await
        .context("suspended")?;
    c.find(Locator::Id("reason"))
        .await?
        .send_keys("Surveillance audit missed")
        .await?;
    narrow(browser, "the status form").await?;
    click(c, "#status-submit").await?;
    let heading = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("confirm-heading"))
        .await?
        .text()
        .await?;
    ensure!(
        heading == "Suspend the certificate of ISO 9001 — Beton A NV?",
        "{heading}"
    );
    narrow(browser, "the confirmation").await?;
    click(c, "#confirm-action").await?;
    wait_for_path(c, |p| p == file).await?;
    wait_for_notice(c, "The certificate is suspended").await?;
    let history = c.find(Locator::Id("status-history")).await?.text().await?;
    ensure!(
        history.contains("Certified → Suspended") && history.contains("Surveillance audit missed"),
        "{history}"
    );

    narrow(browser, &file).await?;
    std::fs::write(
        artifacts_dir("screenshots")?.join(format!("backoffice-390-{label}.png")),
        c.screenshot().await?,
    )?;

    // The other back-office pages on the same phone (typed here only to measure them).
    for path in [
        format!("{file}/edit"),
        "/staff/assignments".to_owned(),
        format!("/staff/organisations/{org}"),
    ] {
        c.goto(&server.url(&path)).await?;
        narrow(browser, &path).await?;
    }
    Ok(())
}

/// The page is no wider than the viewport.
async fn narrow(browser: &Browser, what: &str) -> anyhow::Result<()> {
    match browser.overflow().await? {
        None => Ok(()),
        Some(o) => anyhow::bail!("{what} is wider than the screen: {o:?}"),
    }
}
