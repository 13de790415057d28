//! In Chromium: a primary contact invites a contact, who sets a password and signs in; an
//! inspector sees only the certification files assigned to them, and "hidden" where the grants
//! stop.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::browser::{Browser, artifacts_dir, csp_violations};
use extranet_tests::mail::{link, wait_for};
use extranet_tests::{Server, ServerBuilder, databases};
use fantoccini::{Client, Locator};

use crate::access::{PASSWORD, world};

async fn sign_in(c: &Client, server: &Server, email: &str, password: &str) -> anyhow::Result<()> {
    c.goto(&server.url("/login")).await?;
    c.find(Locator::Id("email")).await?.send_keys(email).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(password)
        .await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    wait_for_path(c, "/home").await
}

async fn wait_for_path(c: &Client, path: &str) -> anyhow::Result<()> {
    for _ in 0..100 {
        if c.current_url().await?.path() == path {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("still at {} instead of {path}", c.current_url().await?)
}

async fn text_of(c: &Client, css: &str) -> anyhow::Result<String> {
    Ok(c.find(Locator::Css(css)).await?.text().await?)
}

databases!(
    async fn a_primary_contact_invites_a_contact_who_signs_in(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_MAIL__POLL_SECS", "1")
            .start()
            .await?;
        world(&server).await?;
        let browser = Browser::start().await?;
        let result = invite_flow(&browser, &server, b.label()).await;
        browser.close().await?;
        result?;
        server.stop().await
    }
);

async fn invite_flow(browser: &Browser, server: &Server, label: String) -> anyhow::Result<()> {
    let c = &browser.client;
    sign_in(c, server, "ca@a.example", PASSWORD).await?;
    ensure!(
        c.find(Locator::Css("nav.site-nav a[href='/company']"))
            .await
            .is_ok(),
        "no /company link in the navigation"
    );
    c.goto(&server.url("/company")).await?;
    wait_for_path(c, "/company").await?;
    ensure!(text_of(c, "h1").await? == "Beton A NV", "company heading");
    c.find(Locator::Css(".lang-switch a[data-lang=\"nl\"]"))
        .await?
        .click()
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A mistake first: the message stands next to the field, in Dutch, and nothing is sent.
    c.find(Locator::Id("first_name"))
        .await?
        .send_keys("Lies")
        .await?;
    c.find(Locator::Id("surname"))
        .await?
        .send_keys("Wouters")
        .await?;
    c.find(Locator::Id("email"))
        .await?
        .send_keys("lies@a-example")
        .await?;
    c.find(Locator::Css("input[name=\"right_document_upload\"]"))
        .await?
        .click()
        .await?;
    c.find(Locator::Id("invite-submit")).await?.click().await?;
    let err = c
        .wait()
        .for_element(Locator::Id("email-error"))
        .await?
        .text()
        .await?;
    ensure!(err == "Dit is geen e-mailadres.", "error text {err:?}");
    let email = c.find(Locator::Id("email")).await?;
    email.clear().await?;
    email.send_keys("lies@a.example").await?;
    c.find(Locator::Id("invite-submit")).await?.click().await?;
    let notice = c
        .wait()
        .for_element(Locator::Css(".flash"))
        .await?
        .text()
        .await?;
    ensure!(notice == "De uitnodiging is verstuurd.", "flash {notice:?}");
    let contacts = c
        .find(Locator::Css("#contacts-heading ~ .table-box .grid"))
        .await?
        .text()
        .await?;
    ensure!(
        contacts.contains("lies@a.example"),
        "contacts table {contacts:?}"
    );
    std::fs::write(
        artifacts_dir("screenshots")?.join(format!("company-{label}-nl.png")),
        c.screenshot().await?,
    )?;
    c.goto(&server.url("/account")).await?;
    c.find(Locator::Id("sign-out")).await?.click().await?;
    wait_for_path(c, "/login").await?;

    let mail = wait_for(
        &server.data_dir.join("mail"),
        "lies@a.example",
        Duration::from_secs(20),
    )
    .await?;
    let url = link(&mail.body)?;
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
        .context("link path")?;
    c.goto(&server.url(&path)).await?;
    let new_password = "Schelde-brug-Antwerpen-2026";
    c.find(Locator::Id("password"))
        .await?
        .send_keys(new_password)
        .await?;
    c.find(Locator::Id("confirm"))
        .await?
        .send_keys(new_password)
        .await?;
    c.find(Locator::Id("set-submit")).await?.click().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    sign_in(c, server, "lies@a.example", new_password).await?;
    ensure!(
        c.find(Locator::Css("nav.site-nav a[href='/company']"))
            .await
            .is_ok(),
        "no /company link in the navigation"
    );
    c.goto(&server.url("/company")).await?;
    wait_for_path(c, "/company").await?;
    // A contact person sees the company and its files, not the other contacts, and cannot invite.
    ensure!(
        c.find(Locator::Id("invite-submit")).await.is_err(),
        "a contact person may not invite"
    );
    ensure!(
        c.find(Locator::Id("contacts-heading")).await.is_err(),
        "a contact person sees no contacts list"
    );
    let files = c.find(Locator::Css(".grid")).await?.text().await?;
    ensure!(files.contains("BENOR"), "the company's files: {files}");
    let rights = crate::auth::sql_rows(server, "SELECT g.right_name FROM person_right g JOIN person p ON p.id = g.person_id WHERE p.email = 'lies@a.example'").await?;
    ensure!(
        rights == vec![vec!["document.upload".to_owned()]],
        "rights {rights:?}"
    );
    let violations = csp_violations(&browser.console().await?);
    ensure!(violations.is_empty(), "CSP violations: {violations:?}");
    Ok(())
}

databases!(
    async fn an_inspector_sees_only_assigned_files_and_hidden_fields(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let w = world(&server).await?;
        crate::auth::sql_rows(
            &server,
            "UPDATE person SET phone = '+32 2 555 66 77' WHERE email = 'c2@a.example'",
        )
        .await?;
        let browser = Browser::start().await?;
        let result = inspector_flow(&browser, &server, b.label(), &w).await;
        browser.close().await?;
        result?;
        server.stop().await
    }
);

async fn inspector_flow(
    browser: &Browser,
    server: &Server,
    label: String,
    w: &crate::access::World,
) -> anyhow::Result<()> {
    let c = &browser.client;
    sign_in(c, server, "insp@cb.example", PASSWORD).await?;
    c.find(Locator::Css(".lang-switch a[data-lang=\"fr\"]"))
        .await?
        .click()
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ensure!(
        c.find(Locator::Css("nav.site-nav a[href='/dossiers']"))
            .await
            .is_ok(),
        "no /dossiers link in the navigation"
    );
    c.goto(&server.url("/dossiers")).await?;
    wait_for_path(c, "/dossiers").await?;
    ensure!(
        text_of(c, "h1").await? == "Les dossiers de certification qui vous sont affectés",
        "heading"
    );
    let rows = c.find_all(Locator::Css(".grid tbody tr")).await?;
    let mut ids = Vec::new();
    for r in &rows {
        ids.push(r.attr("data-id").await?.unwrap_or_default());
    }
    let mut expected = vec![w.dossiers["dA"].clone(), w.dossiers["dA2"].clone()];
    expected.sort();
    ids.sort();
    ensure!(ids == expected, "listed {ids:?}, assigned {expected:?}");
    // The expired and the unassigned files answer "not found".
    for d in ["dB", "dC"] {
        c.goto(&server.url(&format!("/dossiers/{}", w.dossiers[d])))
            .await?;
        let h1 = text_of(c, "h1").await?;
        ensure!(!h1.contains("BENOR"), "{d} visible: {h1}");
    }
    c.goto(&server.url(&format!("/dossiers/{}", w.dossiers["dA"])))
        .await?;
    let contacts = c.find(Locator::Css("#contacts-heading")).await;
    ensure!(contacts.is_ok(), "the file's contacts");
    // The state of an account is not an inspector's to see.
    let masked = c.find_all(Locator::Css("td.masked .masked-mark")).await?;
    ensure!(!masked.is_empty(), "hidden cells");
    ensure!(masked[0].text().await? == "masqué", "the mark says masqué");
    // A contact's page: the phone number is hidden and its value is not in the page.
    c.goto(&server.url(&format!("/people/{}", w.people["c2@a.example"].id)))
        .await?;
    let phone = text_of(c, "#person-phone").await?;
    ensure!(phone == "masqué", "phone shows {phone:?}");
    ensure!(
        !c.source().await?.contains("555 66 77"),
        "the phone number reached the page"
    );
    ensure!(
        text_of(c, "#person-email").await? == "c2@a.example",
        "e-mail is granted"
    );
    std::fs::write(
        artifacts_dir("screenshots")?.join(format!("inspector-person-{label}-fr.png")),
        c.screenshot().await?,
    )?;
    let violations = csp_violations(&browser.console().await?);
    ensure!(violations.is_empty(), "CSP violations: {violations:?}");
    Ok(())
}
