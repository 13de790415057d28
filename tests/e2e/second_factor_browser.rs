//! In Chromium: a staff member signs in for the first time and must set up a second factor —
//! the test reads the key from the page as a person would type it into an app, computes the
//! code, and confirms; the recovery codes are shown once. Then: sign out, sign in with a code,
//! sign out, sign in with a recovery code (the page says how many are left), and five wrong
//! codes make the next attempt wait. No CSP violation on the way (the QR code is an image).

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::browser::{Browser, artifacts_dir, csp_violations};
use extranet_tests::totp::code;
use extranet_tests::{Server, ServerBuilder, databases};
use fantoccini::{Client, Locator};

const EMAIL: &str = "sofie@cb.example";

databases!(
    async fn staff_enrol_sign_in_with_code_and_recovery_code_then_throttled(b: Backends) {
        // The server's default: staff must have a second factor.
        let server = ServerBuilder::new(b)
            .unset("EXTRANET_AUTH__SECOND_FACTOR_ROLES")
            .start()
            .await?;
        let password = server.create_user(EMAIL, "staff").await?;
        let browser = Browser::start().await?;
        let result = flow(&browser, &server, &password, &b.label()).await;
        browser.close().await?;
        result?;
        server.stop().await
    }
);

async fn wait_for_path(c: &Client, path: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        if c.current_url().await?.path() == path {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("still at {} instead of {path}", c.current_url().await?)
}

async fn password_step(c: &Client, server: &Server, password: &str) -> anyhow::Result<()> {
    c.goto(&server.url("/login")).await?;
    c.find(Locator::Id("email")).await?.send_keys(EMAIL).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    wait_for_path(c, "/login/second-factor").await
}

async fn type_code(c: &Client, value: &str) -> anyhow::Result<()> {
    let field = c.find(Locator::Id("code")).await?;
    field.clear().await?;
    field.send_keys(value).await?;
    c.find(Locator::Id("code-submit")).await?.click().await?;
    Ok(())
}

async fn sign_out(c: &Client) -> anyhow::Result<()> {
    // The header's sign-out, on every signed-in page.
    c.find(Locator::Css("form.sign-out button"))
        .await?
        .click()
        .await?;
    wait_for_path(c, "/login").await
}

/// The page's error message once it shows `needle` (a form post navigates after `click`).
async fn error_with(c: &Client, needle: &str) -> anyhow::Result<String> {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Id("factor-error")).await {
            last = e.text().await.unwrap_or_default();
            if last.contains(needle) {
                return Ok(last);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("no message with {needle:?}; last: {last:?}")
}

async fn flow(
    browser: &Browser,
    server: &Server,
    password: &str,
    label: &str,
) -> anyhow::Result<()> {
    let c = &browser.client;
    let shots = artifacts_dir("screenshots")?;

    // First sign-in: the password leads to the enrolment, not to a session.
    password_step(c, server, password).await?;
    ensure!(
        c.find(Locator::Id("enrol-required")).await.is_ok(),
        "the page does not say the role requires it"
    );
    let qr_width = c
        .execute(
            "return document.getElementById('totp-qr').naturalWidth",
            vec![],
        )
        .await?;
    ensure!(
        qr_width.as_u64().unwrap_or(0) > 0,
        "the QR code did not load: {qr_width}"
    );
    let secret = c.find(Locator::Id("totp-secret")).await?.text().await?;
    ensure!(secret.replace(' ', "").len() == 32, "key {secret:?}");
    std::fs::write(
        shots.join(format!("second-factor-enrol-{label}.png")),
        c.screenshot().await?,
    )?;
    type_code(c, &code(&secret, 0)?).await?;

    // The recovery codes, once.
    let mut codes = Vec::new();
    for _ in 0..100 {
        if let Ok(items) = c.find_all(Locator::Css("#recovery-codes li")).await {
            codes.clear();
            for i in items {
                codes.push(i.text().await?);
            }
            if !codes.is_empty() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ensure!(codes.len() == 10, "recovery codes shown: {codes:?}");
    std::fs::write(
        shots.join(format!("second-factor-codes-{label}.png")),
        c.screenshot().await?,
    )?;
    c.find(Locator::Id("codes-continue")).await?.click().await?;
    wait_for_path(c, "/account").await?;
    let summary = c
        .find(Locator::Id("second-factor-summary"))
        .await?
        .text()
        .await?;
    ensure!(summary.contains("10"), "account page: {summary:?}");
    sign_out(c).await?;

    // With a code from the app, after opening a deep link signed out: the page asked for
    // survives both steps of the sign-in.
    c.goto(&server.url("/account/second-factor")).await?;
    wait_for_path(c, "/login").await?;
    password_step(c, server, password).await?;
    ensure!(
        c.find(Locator::Id("totp-qr")).await.is_err(),
        "enrolment offered again"
    );
    type_code(c, &code(&secret, 1)?).await?;
    wait_for_path(c, "/account/second-factor").await?;
    sign_out(c).await?;

    // With a recovery code: it is spent, and the page says how many are left.
    password_step(c, server, password).await?;
    type_code(c, &codes[0]).await?;
    wait_for_path(c, "/account/second-factor").await?;
    let notice = c.find(Locator::Id("notice")).await?.text().await?;
    ensure!(notice.contains('9'), "notice: {notice:?}");
    sign_out_from_account(c, server).await?;

    // Five wrong codes; the next attempt is told to wait. Signed in before, the browser
    // remembers her profile's language (Dutch) from then on, whatever it asks for.
    password_step(c, server, password).await?;
    for (i, wrong) in ["111111", "222222", "333333", "444444", "555555"]
        .iter()
        .enumerate()
    {
        type_code(c, wrong).await?;
        let msg = error_with(c, "klopt niet").await?;
        ensure!(!msg.is_empty(), "attempt {i}");
        // The next attempt must see a page rendered after this one.
        c.execute(
            "document.getElementById('factor-error').id = 'seen'",
            vec![],
        )
        .await?;
    }
    type_code(c, "666666").await?;
    let msg = error_with(c, "Te veel foute codes").await?;
    ensure!(msg.contains("seconden"), "{msg}");
    std::fs::write(
        shots.join(format!("second-factor-throttled-{label}.png")),
        c.screenshot().await?,
    )?;

    let violations = csp_violations(&browser.console().await?);
    ensure!(violations.is_empty(), "CSP violations: {violations:?}");
    let _ = server.stderr();
    Ok(())
}

/// From the second-factor page: back to the account page, and out.
async fn sign_out_from_account(c: &Client, server: &Server) -> anyhow::Result<()> {
    c.goto(&server.url("/account")).await?;
    wait_for_path(c, "/account").await?;
    sign_out(c).await.context("sign out")
}
