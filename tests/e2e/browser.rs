//! Headless Chromium on the home page over HTTPS: each language, the visible language switch, no
//! CSP violation in the console, a screenshot of each language under target/e2e-artifacts/.

use anyhow::ensure;
use extranet_tests::browser::{Browser, artifacts_dir, csp_violations};
use extranet_tests::{Backends, ServerBuilder, matrix};
use fantoccini::Locator;

matrix!(
    async fn home_page_in_chromium_in_each_language(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SITE__NAME", "CertiTest")
            .start()
            .await?;
        let browser = Browser::start().await?;
        let result = drive(&browser, &server, b).await;
        browser.close().await?;
        result?;
        server.stop().await
    }
);

async fn drive(
    browser: &Browser,
    server: &extranet_tests::Server,
    b: Backends,
) -> anyhow::Result<()> {
    let c = &browser.client;
    c.goto(&server.url("/")).await?;
    let shots = artifacts_dir("screenshots")?;
    for (lang, heading) in [
        ("nl", "Welkom op het extranet van CertiTest"),
        ("fr", "Bienvenue sur l'extranet de CertiTest"),
        ("en", "Welcome to the extranet of CertiTest"),
    ] {
        // Use the visible switch, as a person would.
        c.find(Locator::Css(&format!(
            ".lang-switch a[data-lang=\"{lang}\"]"
        )))
        .await?
        .click()
        .await?;
        let html_lang = c
            .find(Locator::Css("html"))
            .await?
            .attr("lang")
            .await?
            .unwrap_or_default();
        ensure!(html_lang == lang, "html lang {html_lang}, expected {lang}");
        let h1 = c.find(Locator::Css("h1")).await?.text().await?;
        ensure!(h1 == heading, "{lang}: heading {h1:?}");
        let current = c
            .find(Locator::Css(".lang-switch a[aria-current=\"true\"]"))
            .await?
            .attr("data-lang")
            .await?;
        ensure!(
            current.as_deref() == Some(lang),
            "switch marks {current:?} as current"
        );
        // The stylesheet applied: the header has the brand colour (rgb(11, 79, 108)).
        let bg = c
            .execute(
                "return getComputedStyle(document.querySelector('.site-header')).backgroundColor",
                vec![],
            )
            .await?;
        ensure!(bg == "rgb(11, 79, 108)", "stylesheet not applied: {bg}");
        let png = c.screenshot().await?;
        std::fs::write(shots.join(format!("home-{}-{lang}.png", b.label())), png)?;
    }
    // The choice is remembered across pages.
    c.goto(&server.url("/login")).await?;
    let lang = c.find(Locator::Css("html")).await?.attr("lang").await?;
    ensure!(lang.as_deref() == Some("en"), "language not kept: {lang:?}");

    let console = browser.console().await?;
    let violations = csp_violations(&console);
    ensure!(violations.is_empty(), "CSP violations: {violations:?}");

    // The console check can fail: an inline style is refused by the CSP and reported.
    c.execute(
        "const s = document.createElement('style'); s.textContent = 'body{color:red}'; document.head.appendChild(s);",
        vec![],
    )
    .await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let console = browser.console().await?;
    ensure!(
        !csp_violations(&console).is_empty(),
        "an inline style should be reported as a CSP violation; console: {console:?}"
    );
    Ok(())
}
