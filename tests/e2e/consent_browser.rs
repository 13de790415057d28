//! Consent in Chromium (issue 16, item 5): a person withdraws their newsletter consent on their
//! account's Privacy tab; another withdraws through the link of a newsletter they received,
//! with no session; staff then write and send a newsletter through the page (after its
//! confirmation), and it is queued for neither. No Content-Security-Policy violation occurs.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::mail::wait_for;
use extranet_tests::{Server, TestEnv, databases};
use fantoccini::{Client, Locator};

use crate::access::PASSWORD;
use crate::consent::{
    builder, consent_api, newsletter_recipients, register_copy, send_newsletter, tag,
    unsubscribe_link,
};
use crate::documents_browser::wait_for_path;
use crate::tasks_browser::in_browser;

pub(crate) async fn sign_in(c: &Client, server: &Server, email: &str) -> anyhow::Result<()> {
    c.delete_all_cookies().await?;
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

/// The text of element `id`, waiting for it (the page may still be loading after a click).
async fn text_of(c: &Client, id: &str) -> anyhow::Result<String> {
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Id(id)).await
            && let Ok(text) = e.text().await
        {
            return Ok(text);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("no element #{id}")
}

/// Waits until element `id` says `needle`.
async fn wait_text(c: &Client, id: &str, needle: &str) -> anyhow::Result<String> {
    let mut last = String::new();
    for _ in 0..100 {
        last = text_of(c, id).await.unwrap_or_default();
        if last.contains(needle) {
            return Ok(last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("#{id} does not say {needle:?}: {last:?}")
}

databases!(
    /// One withdraws on the account page, the other through a mail's link without a session;
    /// the newsletter sent afterwards is queued for neither.
    async fn withdrawn_on_the_page_and_through_the_link(b: Backends) {
        let dir = tempfile::tempdir()?;
        let register = register_copy(dir.path())?;
        let clock = dir.path().join("clock");
        let server = builder(b, &register, &clock).start().await?;
        let t = tag(&b);
        let org = server.create_client_org("Beton E NV").await?;
        let page_person = format!("page-{t}@consent.example");
        let link_person = format!("link-{t}@consent.example");
        let staff = format!("staff-{t}@consent.example");
        server
            .create_user_in(&page_person, "client_user", &org)
            .await?;
        server
            .create_user_in(&link_person, "client_user", &org)
            .await?;
        server.create_user(&staff, "staff").await?;
        consent_api(&server, &page_person, true, "en").await?;
        consent_api(&server, &link_person, true, "en").await?;

        in_browser(|browser| async {
            let r = async {
                let c = &browser.client;
                // On the account page.
                sign_in(c, &server, &page_person).await?;
                c.goto(&server.url("/account")).await?;
                c.find(Locator::Id("privacy-tab")).await?.click().await?;
                wait_for_path(c, "/account/privacy", "").await?;
                let state = text_of(c, "consent-newsletter-state").await?;
                ensure!(state.starts_with("You agreed on"), "{state}");
                c.find(Locator::Id("consent-newsletter-withdraw"))
                    .await?
                    .click()
                    .await?;
                wait_text(c, "notice", "Your consent is withdrawn").await?;
                wait_text(
                    c,
                    "consent-newsletter-state",
                    "You withdrew your consent on",
                )
                .await?;
                let history = text_of(c, "consent-history").await?;
                ensure!(history.contains("on your account page"), "{history}");

                // A newsletter: only the other person gets it.
                let staff_client = server.sign_in(&staff, PASSWORD).await?;
                server.speak(&staff_client, "en").await?;
                let flash = send_newsletter(&server, &staff_client, &format!("Spring {t}")).await?;
                ensure!(flash.contains("queued for 1 recipients"), "{flash}");
                ensure!(newsletter_recipients(&server).await? == vec![link_person.clone()]);

                // Through the link of the mail, with no session at all.
                let mail = wait_for(
                    &TestEnv::get().smtp_dir,
                    &link_person,
                    Duration::from_secs(30),
                )
                .await?;
                let link = unsubscribe_link(&mail)?;
                let url = url::Url::parse(&link)?;
                c.delete_all_cookies().await?;
                c.goto(&server.url(&format!(
                    "{}?{}",
                    url.path(),
                    url.query().unwrap_or_default()
                )))
                .await?;
                let message = text_of(c, "consent-link-message").await?;
                ensure!(message.contains("Press the button"), "{message}");
                c.find(Locator::Id("consent-link-withdraw"))
                    .await?
                    .click()
                    .await?;
                wait_text(c, "consent-link-message", "Your consent is withdrawn").await?;

                // Staff write the next one on the page: confirmation first, then sent to nobody.
                sign_in(c, &server, &staff).await?;
                c.find(Locator::Css("nav.site-nav a[href='/newsletter']"))
                    .await
                    .context("Newsletter in the navigation")?;
                c.goto(&server.url("/newsletter")).await?;
                c.find(Locator::Id("subject"))
                    .await?
                    .send_keys(&format!("Summer {t}"))
                    .await?;
                c.find(Locator::Id("body"))
                    .await?
                    .send_keys("Our *summer* schemes.")
                    .await?;
                c.find(Locator::Id("newsletter-preview-button"))
                    .await?
                    .click()
                    .await?;
                wait_text(c, "newsletter-audience", "It will be sent to 0 people").await?;
                let preview = c
                    .find(Locator::Css("#newsletter-preview em"))
                    .await?
                    .text()
                    .await?;
                ensure!(preview == "summer", "{preview}");
                c.find(Locator::Id("newsletter-send"))
                    .await?
                    .click()
                    .await?;
                wait_text(c, "notice", "queued for 0 recipients").await?;
                let sent = text_of(c, "newsletter-sent").await?;
                ensure!(sent.contains(&format!("Summer {t}")), "{sent}");
                ensure!(
                    newsletter_recipients(&server).await? == vec![link_person.clone()],
                    "the second newsletter was queued for someone"
                );
                Ok(())
            }
            .await;
            (browser, r)
        })
        .await
    }
);
