//! Subprocessors in Chromium (issue 15): a primary contact sees the notice and objects in
//! French, the privacy coordinator rejects the objection with a justification, and the contact
//! reads the decision in French. Reasons carrying script — `<script>`, `<img onerror>`,
//! `javascript:` links, `<svg>`, `<math>` mXSS — typed as Markdown in the form or sent as HTML
//! through the API, show inert on the coordinator's objection page: no script runs and no
//! Content-Security-Policy violation is reported.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::{Server, ServerBuilder, databases};
use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{PASSWORD, api, login};
use crate::documents_browser::wait_for_path;
use crate::subprocessors_pages::{in_days, people, published_notice};
use crate::tasks_browser::in_browser;

/// Signs in through the form and switches to `lang` with the language menu.
async fn sign_in(c: &Client, server: &Server, email: &str, lang: &str) -> anyhow::Result<()> {
    c.delete_all_cookies().await?;
    c.goto(&server.url("/login")).await?;
    c.find(Locator::Id("email")).await?.send_keys(email).await?;
    c.find(Locator::Id("password"))
        .await?
        .send_keys(PASSWORD)
        .await?;
    c.find(Locator::Id("sign-in-submit")).await?.click().await?;
    wait_for_path(c, "/home", "").await?;
    c.find(Locator::Css(&format!("a[data-lang='{lang}']")))
        .await?
        .click()
        .await?;
    wait_for_path(c, "/home", "").await?;
    Ok(())
}

async fn text_of(c: &Client, id: &str) -> anyhow::Result<String> {
    Ok(c.find(Locator::Id(id)).await?.text().await?)
}

databases!(
    /// Object in French, rejected with a justification, the decision read in French.
    async fn primary_contact_objects_and_reads_the_rejection(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SITE__TIME_ZONE", "UTC")
            .start()
            .await?;
        people(&server).await?;
        let notice = published_notice(&server, "Back-up Hosting NV", &in_days(40)).await?;
        in_browser(|browser| async {
            let r = async {
                let c = &browser.client;
                sign_in(c, &server, "ca@a.example", "fr").await?;
                c.find(Locator::Css("nav.site-nav a[href='/subprocessors']"))
                    .await
                    .context("Subprocessors in the navigation")?;
                c.goto(&server.url("/subprocessors")).await?;
                ensure!(text_of(c, "sp-heading").await? == "Sous-traitants ultérieurs");
                let notices = text_of(c, "sp-notices").await?;
                ensure!(
                    notices.contains("Nouveau sous-traitant ultérieur : Back-up Hosting NV"),
                    "{notices}"
                );
                ensure!(notices.contains("jours pour formuler une objection"), "{notices}");
                c.find(Locator::Id(&format!("object-{notice}")))
                    .await?
                    .click()
                    .await?;
                wait_for_path(c, &format!("/subprocessors/notices/{notice}"), "").await?;
                c.find(Locator::Id("reasons"))
                    .await?
                    .send_keys("Nous *refusons* ce changement :\n\n- les sauvegardes quittent la Belgique\n- aucun audit prévu")
                    .await?;
                c.find(Locator::Id("object-submit")).await?.click().await?;
                wait_for_path(c, "/subprocessors/objections/", "").await?;
                let path = c.current_url().await?.path().to_owned();
                ensure!(
                    text_of(c, "notice").await?.contains("Votre objection a été enregistrée"),
                    "no flash"
                );
                let reasons = c
                    .find(Locator::Css("#objection-reasons em"))
                    .await?
                    .text()
                    .await?;
                ensure!(reasons == "refusons", "{reasons}");

                // The privacy coordinator rejects it, with a justification.
                sign_in(c, &server, "po@cb.example", "en").await?;
                c.goto(&server.url("/subprocessors/manage")).await?;
                let waiting = text_of(c, "sp-published").await?;
                ensure!(waiting.contains("Open objections: 1; decided: 0"), "{waiting}");
                c.goto(&server.url(&path)).await?;
                c.find(Locator::Id("decision-rejected")).await?.click().await?;
                c.find(Locator::Id("note"))
                    .await?
                    .send_keys("Les sauvegardes restent en Belgique ; l'audit est prévu en mars.")
                    .await?;
                c.find(Locator::Id("decide-submit")).await?.click().await?;
                for _ in 0..100 {
                    if c.find(Locator::Id("notice")).await.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                ensure!(
                    text_of(c, "notice").await?.contains("The decision has been recorded"),
                    "no flash after deciding"
                );

                // The contact reads the decision in French.
                sign_in(c, &server, "ca@a.example", "fr").await?;
                c.goto(&server.url(&path)).await?;
                ensure!(text_of(c, "objection-state").await? == "Rejetée");
                let note = text_of(c, "objection-note").await?;
                ensure!(note.contains("restent en Belgique"), "{note}");
                ensure!(
                    c.find(Locator::Id("amend-form")).await.is_err(),
                    "a decided objection is not amended"
                );
                Ok(())
            }
            .await;
            (browser, r)
        })
        .await
    }
);

/// What each payload would set if it ran.
const PAYLOADS_MARKDOWN: &str = "Nos raisons :\n\n\
<script>window.__xss = 1</script>\n\n\
<img src=x onerror=\"window.__xss = 2\">\n\n\
[cliquez ici](javascript:window.__xss=3)\n\n\
<svg onload=\"window.__xss = 4\"><script>window.__xss = 5</script></svg>\n\n\
<math><mtext><table><mglyph><style><img src=x onerror=\"window.__xss = 6\"></style></mglyph></table></mtext></math>\n\n\
Fin des raisons.";

const PAYLOADS_HTML: &str = "<p>Our reasons.</p>\
<script>window.__xss = 11</script>\
<img src=x onerror=\"window.__xss = 12\">\
<a href=\"javascript:window.__xss = 13\" id=\"evil\">click here</a>\
<svg><script>window.__xss = 14</script><animate onbegin=\"window.__xss = 15\"></svg>\
<math><mtext><table><mglyph><style><img src=x onerror=\"window.__xss = 16\">\
<form><math><mtext></form><form><mglyph><svg><mtext><style><path id=\"</style><img onerror=window.__xss=17 src>\">\
<p>End of reasons.</p>";

/// The coordinator opens `path`: the reasons show, nothing ran, nothing dangerous is there.
async fn inert(c: &Client, server: &Server, path: &str, words: &str) -> anyhow::Result<()> {
    c.goto(&server.url(path)).await?;
    let reasons = text_of(c, "objection-reasons").await?;
    ensure!(reasons.contains(words), "{reasons}");
    // Click every link of the reasons: none may run script.
    let links = c.find_all(Locator::Css("#objection-reasons a")).await?;
    for link in links {
        let href = link.attr("href").await?.unwrap_or_default();
        ensure!(!href.to_ascii_lowercase().contains("javascript"), "{href}");
        if href.is_empty() {
            link.click().await?;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ran: Value = c
        .execute(
            "return [typeof window.__xss, document.querySelectorAll('#objection-reasons script, #objection-reasons img, #objection-reasons svg, #objection-reasons math, #objection-reasons style, #objection-reasons [onerror], #objection-reasons [onload]').length];",
            vec![],
        )
        .await?;
    ensure!(ran == json!(["undefined", 0]), "{path}: {ran}");
    Ok(())
}

databases!(
    /// Script in reasons, typed as Markdown or sent as HTML, is inert on the coordinator's page.
    async fn script_in_reasons_stays_inert(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SITE__TIME_ZONE", "UTC")
            .start()
            .await?;
        people(&server).await?;
        let org_b = server.create_client_org("Staal B NV").await?;
        server
            .create_user_in("cb@b.example", "client_admin", &org_b)
            .await?;
        let notice = published_notice(&server, "Back-up Hosting NV", &in_days(40)).await?;
        // Company B sends its reasons as HTML through the API.
        let token = login(&server, "cb@b.example").await?;
        let (status, body) = api(
            &server,
            &token,
            Method::POST,
            &format!("/api/v1/subprocessor-notices/{notice}/objections"),
            Some(json!({ "reasons": PAYLOADS_HTML })),
        )
        .await?;
        ensure!(status == 201, "{status} {body}");
        let by_api = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        in_browser(|browser| async {
            let r = async {
                let c = &browser.client;
                // Company A types its reasons in the form.
                sign_in(c, &server, "ca@a.example", "fr").await?;
                c.goto(&server.url(&format!("/subprocessors/notices/{notice}")))
                    .await?;
                c.find(Locator::Id("reasons"))
                    .await?
                    .send_keys(PAYLOADS_MARKDOWN)
                    .await?;
                c.find(Locator::Id("object-submit")).await?.click().await?;
                wait_for_path(c, "/subprocessors/objections/", "").await?;
                let by_form = c.current_url().await?.path().to_owned();
                let ran: Value = c.execute("return typeof window.__xss;", vec![]).await?;
                ensure!(ran == json!("undefined"), "on the company's page: {ran}");

                sign_in(c, &server, "po@cb.example", "en").await?;
                inert(c, &server, &by_form, "Nos raisons").await?;
                inert(
                    c,
                    &server,
                    &format!("/subprocessors/objections/{by_api}"),
                    "Our reasons.",
                )
                .await?;
                Ok(())
            }
            .await;
            (browser, r)
        })
        .await
    }
);
