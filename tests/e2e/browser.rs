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

matrix!(
    async fn sign_in_stay_signed_in_change_language_sign_out(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__ACCESS_LIFETIME_SECS", "2")
            .env("EXTRANET_AUTH__LEEWAY_SECS", "0")
            .start()
            .await?;
        let password = server
            .create_user(crate::auth::EMAIL, "client_user")
            .await?;
        let browser = Browser::start().await?;
        let result = sign_in_flow(&browser, &server, b, &password).await;
        browser.close().await?;
        result?;
        server.stop().await
    }
);

async fn sign_in_flow(
    browser: &Browser,
    server: &extranet_tests::Server,
    b: Backends,
    password: &str,
) -> anyhow::Result<()> {
    let c = &browser.client;
    // A deep link opened signed out: sign-in first, then the page asked for (not the home page).
    c.goto(&server.url("/account")).await?;
    wait_for_path(c, "/login").await?;
    c.find(Locator::Id("email"))
        .await?
        .send_keys(crate::auth::EMAIL)
        .await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    wait_for_path(c, "/account").await?;
    let name = c.find(Locator::Id("account-name")).await?.text().await?;
    ensure!(name == "Test Persoon", "account page shows {name:?}");

    // Keep working past the access token's lifetime: no new sign-in needed.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    c.refresh().await?;
    let url = c.current_url().await?;
    ensure!(
        url.path() == "/account",
        "sent to {url} after the access lifetime"
    );

    // Change language on the account page.
    c.find(Locator::Css(".lang-switch a[data-lang=\"fr\"]"))
        .await?
        .click()
        .await?;
    let mut h1 = String::new();
    for _ in 0..50 {
        h1 = c.find(Locator::Css("h1")).await?.text().await?;
        if h1 == "Mon compte" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    ensure!(h1 == "Mon compte", "heading {h1:?}");
    let png = c.screenshot().await?;
    std::fs::write(
        artifacts_dir("screenshots")?.join(format!("account-{}-fr.png", b.label())),
        png,
    )?;

    // Sign out: on the sign-in page, which says so, and the account page sends to sign-in.
    c.find(Locator::Id("sign-out")).await?.click().await?;
    let url = wait_for_path(c, "/login").await?;
    ensure!(url.path() == "/login", "after sign-out at {url}");
    c.goto(&server.url("/account")).await?;
    let url = c.current_url().await?;
    ensure!(
        url.path() == "/login",
        "account page reachable after sign-out: {url}"
    );

    let violations = csp_violations(&browser.console().await?);
    ensure!(violations.is_empty(), "CSP violations: {violations:?}");
    Ok(())
}

/// Form submissions navigate after `click` returns: wait (bounded) for the new page.
async fn wait_for_path(c: &fantoccini::Client, path: &str) -> anyhow::Result<url::Url> {
    let mut url = c.current_url().await?;
    for _ in 0..50 {
        if url.path() == path {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        url = c.current_url().await?;
    }
    Ok(url)
}
