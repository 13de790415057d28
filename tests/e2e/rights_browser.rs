//! Rights requests in Chromium (issue 17): a contact files an access request on "My privacy
//! requests", the privacy coordinator finds it in the queue, carries the right out and closes
//! it (after a confirmation), and the contact opens and downloads the report; a person without
//! an account files an erasure request on the public page and confirms it through the mailed
//! link, and the coordinator's answer ("we hold no data on you") reaches them. No
//! Content-Security-Policy violation occurs.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::mail::{link, wait_for_subject};
use extranet_tests::{TestEnv, databases};
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::access::login;
use crate::consent_browser::sign_in;
use crate::documents_browser::wait_for_path;
use crate::rights::{set_clock, start, step, unique, wait_for_body};
use crate::tasks_browser::in_browser;

/// Waits until element `id` says `needle`; its text.
async fn wait_text(c: &Client, id: &str, needle: &str) -> anyhow::Result<String> {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Id(id)).await {
            last = e.text().await.unwrap_or_default();
            if last.contains(needle) {
                return Ok(last);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let url = c.current_url().await?;
    let body = match c.find(Locator::Css("main")).await {
        Ok(m) => m.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    anyhow::bail!("#{id} does not say {needle:?}: {last:?} at {url}: {body}")
}

async fn click(c: &Client, id: &str) -> anyhow::Result<()> {
    c.find(Locator::Id(id))
        .await
        .with_context(|| format!("#{id}"))?
        .click()
        .await?;
    Ok(())
}

fn now_clock(dir: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let clock = dir.join("clock");
    set_clock(
        &clock,
        &time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339)?,
    )?;
    Ok(clock)
}

databases!(
    /// Filed on the account page, carried out and closed from the coordinator's queue, and the
    /// report opened and downloaded by the contact.
    async fn a_contact_gets_their_access_report(b: Backends) {
        let dir = tempfile::tempdir()?;
        let clock = now_clock(dir.path())?;
        let server = start(b, &clock, &unique("coordinator")).await?;
        let org = server.create_client_org("Browser Beton NV").await?;
        let contact = unique("contact");
        let po = unique("po");
        server.create_user_in(&contact, "client_user", &org).await?;
        server.create_user(&po, "privacy_officer").await?;

        in_browser(|browser| async {
            let r = async {
                let c = &browser.client;
                sign_in(c, &server, &contact).await?;
                c.goto(&server.url("/account/requests")).await?;
                click(c, "right-access").await?;
                c.find(Locator::Id("rights-details"))
                    .await?
                    .send_keys("Everything you hold on me, please.")
                    .await?;
                click(c, "rights-submit").await?;
                let path = wait_for_path(c, "/account/requests/", "/account/requests").await?;
                wait_text(c, "notice", "Your request is registered").await?;
                let state = wait_text(c, "rights-state", "").await?;
                ensure!(!state.is_empty(), "no state shown");

                // The coordinator: the queue from the menu, the request, carried out, closed.
                sign_in(c, &server, &po).await?;
                c.find(Locator::Css("nav.site-nav a[href='/privacy/requests']"))
                    .await
                    .context("Rights requests in the navigation")?;
                c.goto(&server.url("/privacy/requests")).await?;
                wait_for_path(c, "/privacy/requests", "").await?;
                let id = path.trim_start_matches("/account/requests/");
                c.find(Locator::Css(&format!("tr[data-request='{id}'] a")))
                    .await?
                    .click()
                    .await?;
                wait_for_path(c, &format!("/privacy/requests/{id}"), "").await?;
                click(c, "rights-carry-out-access").await?;
                wait_text(c, "notice", "the right is carried out").await?;
                wait_text(c, "rights-done", "Access and a copy").await?;
                c.find(Locator::Id("rights-close-note"))
                    .await?
                    .send_keys("Your report is on your request's page.")
                    .await?;
                click(c, "rights-close").await?;
                // Closing tells the requester at once: asked first.
                wait_text(c, "confirm-heading", "").await?;
                click(c, "confirm-action").await?;
                wait_text(c, "notice", "the request is updated").await?;
                wait_text(c, "rights-state", "Fulfilled").await?;

                // The contact: the report as a page, and as a download.
                sign_in(c, &server, &contact).await?;
                c.goto(&server.url(&path)).await?;
                wait_text(c, "rights-state", "Fulfilled").await?;
                let zip = c
                    .find(Locator::Id("rights-report-zip"))
                    .await?
                    .attr("href")
                    .await?
                    .context("href")?;
                ensure!(browser.fetch_status(&zip).await? == 200, "{zip}");
                click(c, "rights-report").await?;
                wait_for_path(c, &format!("{path}/report"), "").await?;
                let body = c.find(Locator::Css("body")).await?.text().await?;
                ensure!(body.contains(&contact), "the report names her address");
                Ok(())
            }
            .await;
            (browser, r)
        })
        .await?;
        server.stop().await
    }
);

databases!(
    /// Filed on the public page by someone without an account, confirmed through the mailed
    /// link, and answered.
    async fn a_person_without_an_account_files_an_erasure_request(b: Backends) {
        let dir = tempfile::tempdir()?;
        let clock = now_clock(dir.path())?;
        let server = start(b, &clock, &unique("coordinator")).await?;
        let former = unique("former");
        let po = unique("po");
        server.create_user(&po, "privacy_officer").await?;

        in_browser(|browser| async {
            let r = async {
                let c = &browser.client;
                c.delete_all_cookies().await?;
                c.goto(&server.url("/")).await?;
                c.find(Locator::Css("a[href='/rights']"))
                    .await
                    .context("the public request page in the footer")?
                    .click()
                    .await?;
                wait_for_path(c, "/rights", "").await?;
                c.find(Locator::Id("rights-email"))
                    .await?
                    .send_keys(&former)
                    .await?;
                c.find(Locator::Id("rights-name"))
                    .await?
                    .send_keys("Former Contact")
                    .await?;
                c.find(Locator::Css("#rights-language option[value='en']"))
                    .await?
                    .click()
                    .await?;
                click(c, "right-erasure").await?;
                click(c, "rights-submit").await?;
                wait_text(c, "rights-sent", "").await?;

                let mail = wait_for_subject(
                    &TestEnv::get().smtp_dir,
                    &former,
                    "confirm",
                    Duration::from_secs(30),
                )
                .await?;
                let url = url::Url::parse(&link(&mail.body)?)?;
                c.goto(&server.url(&format!(
                    "{}?{}",
                    url.path(),
                    url.query().unwrap_or_default()
                )))
                .await?;
                click(c, "rights-confirm").await?;
                let number = wait_text(c, "rights-number", "-").await?;
                wait_text(c, "rights-receipt", ".").await?;

                // The link works once.
                c.goto(&server.url(&format!(
                    "{}?{}",
                    url.path(),
                    url.query().unwrap_or_default()
                )))
                .await?;
                if c.find(Locator::Id("rights-confirm")).await.is_ok() {
                    click(c, "rights-confirm").await?;
                }
                wait_text(c, "rights-link-refused", "").await?;

                // The coordinator carries it out: nobody has this address.
                let t_po = login(&server, &po).await?;
                let (_, queue) = crate::access::api(
                    &server,
                    &t_po,
                    reqwest::Method::GET,
                    "/api/v1/rights-requests/queue",
                    None,
                )
                .await?;
                let queue: serde_json::Value = serde_json::from_str(&queue)?;
                let id = queue["items"]
                    .as_array()
                    .and_then(|a| a.iter().find(|r| r["number"] == number.trim()))
                    .and_then(|r| r["id"].as_str())
                    .context("the request in the queue")?
                    .to_owned();
                let (s, a) = step(
                    &server,
                    &t_po,
                    &id,
                    json!({ "step": "carry_out", "right": "erasure" }),
                )
                .await?;
                ensure!(s == 200, "{s} {a}");
                wait_for_body(&former, "We hold no data on you").await?;
                Ok(())
            }
            .await;
            (browser, r)
        })
        .await?;
        server.stop().await
    }
);
