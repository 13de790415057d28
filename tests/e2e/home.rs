//! The signed-in home page shows what needs each person's attention from what they may see:
//! documents since the last visit (only in files they may read), invitations not yet accepted
//! (to whoever may resend them), and for whoever reads the audit log the week's refusals and
//! changes of roles, counted as the log has them.

use anyhow::{Context, ensure};
use extranet_tests::{Server, ServerBuilder, matrix};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{PASSWORD, api, pdf_bytes, upload, world};
use crate::auth::sql_rows;

async fn home(server: &Server, email: &str) -> anyhow::Result<(reqwest::Client, String)> {
    let who = server.sign_in(email, PASSWORD).await?;
    server.speak(&who, "en").await?;
    let res = who.get(server.url("/home")).send().await?;
    ensure!(
        res.status() == 200,
        "{email}: home answered {}",
        res.status()
    );
    let html = res.text().await?;
    Ok((who, html))
}

/// The part of the page inside the element with `id`, up to the end of its list.
fn section<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let start = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[start..];
    Some(&rest[..rest.find("</ul>").unwrap_or(rest.len())])
}

matrix!(
    async fn home_shows_new_documents_invitations_and_the_weeks_refusals(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__SECOND_FACTOR_ROLES", "[]")
            .start()
            .await?;
        // Everyone signed in once through the API, then staff uploaded one document in each
        // of A, B and C: new since their last visit.
        let w = world(&server).await?;
        let doc = |k: &str| format!("/documents/{}", w.documents[k].0);

        // The primary contact of A: A's document, not B's or C's.
        let (_, html) = home(&server, "ca@a.example").await?;
        let recent = section(&html, "home-recent").context(html.clone())?;
        ensure!(recent.contains(&doc("docA")), "A's new document: {recent}");
        ensure!(
            !recent.contains(&doc("docB")) && !recent.contains(&doc("docC")),
            "another company's document on A's home: {recent}"
        );
        ensure!(html.contains("id=\"recent-since\">Since "), "{html}");
        // Showing titles is a read of documents: recorded.
        let reads = sql_rows(
            &server,
            &format!(
                "SELECT detail FROM audit_log WHERE action = 'document.list' AND actor_id = '{}'",
                w.people["ca@a.example"].id
            ),
        )
        .await?;
        ensure!(
            reads.iter().any(|r| r[0].contains("\"recent\":1")),
            "no record of the home's document list: {reads:?}"
        );

        // The contact person of B has no right to documents: no such section at all.
        let (_, html) = home(&server, "cb2@b.example").await?;
        ensure!(!html.contains("id=\"recent-heading\""), "{html}");

        // The inspector: the files assigned to him now (A's), not the one that ended (B).
        let (_, html) = home(&server, "insp@cb.example").await?;
        let recent = section(&html, "home-recent").context(html.clone())?;
        ensure!(recent.contains(&doc("docA")), "{recent}");
        ensure!(!recent.contains(&doc("docB")), "{recent}");

        // Staff see every file's new documents.
        let (_, html) = home(&server, "staff@cb.example").await?;
        let recent = section(&html, "home-recent").context(html.clone())?;
        for k in ["docA", "docB", "docC"] {
            ensure!(recent.contains(&doc(k)), "{k} on the staff home: {recent}");
        }

        // A second visit: what was there at the first is no longer new; a later upload is.
        let (_, html) = home(&server, "ca@a.example").await?;
        ensure!(
            section(&html, "home-recent").is_none() && html.contains("No new documents."),
            "{html}"
        );
        let staff = &w.people["staff@cb.example"].token;
        let (status, body) = upload(
            &server,
            staff,
            &format!("/api/v1/dossiers/{}/documents", w.dossiers["dA2"]),
            "inspection_report",
            "later.pdf",
            pdf_bytes("later"),
        )
        .await?;
        ensure!(status == 201, "{status} {body}");
        let later: Value = serde_json::from_str(&body)?;
        let (_, html) = home(&server, "ca@a.example").await?;
        let recent = section(&html, "home-recent").context(html.clone())?;
        ensure!(
            recent.contains(later["id"].as_str().context("id")?) && !recent.contains(&doc("docA")),
            "{recent}"
        );

        // An invitation not yet accepted: on the primary contact's home (to /company) and on
        // the staff home (to the company's page); not on the contact person's.
        let (status, body) = api(
            &server,
            &w.people["ca@a.example"].token,
            Method::POST,
            &format!("/api/v1/organisations/{}/contacts", w.orgs["A"]),
            Some(json!({ "first_name": "Nele", "surname": "Nieuwkomer",
                "email": "nele@a.example", "language": "nl", "rights": [] })),
        )
        .await?;
        ensure!(status == 201, "{status} {body}");
        let (_, html) = home(&server, "ca@a.example").await?;
        let invitations = section(&html, "home-invitations").context(html.clone())?;
        ensure!(
            invitations.contains("href=\"/company\"") && invitations.contains("Nele Nieuwkomer"),
            "{invitations}"
        );
        let (_, html) = home(&server, "staff@cb.example").await?;
        let invitations = section(&html, "home-invitations").context(html.clone())?;
        ensure!(
            invitations.contains(&format!("href=\"/staff/organisations/{}\"", w.orgs["A"]))
                && invitations.contains("Nele Nieuwkomer"),
            "{invitations}"
        );
        let (_, html) = home(&server, "cu@a.example").await?;
        ensure!(!html.contains("id=\"home-invitations\""), "{html}");

        // A refusal, then the privacy coordinator's home counts the week's refusals as the log
        // has them, and its link lists them.
        let (status, _) = api(
            &server,
            &w.people["cu@a.example"].token,
            Method::GET,
            &format!("/api/v1/dossiers/{}", w.dossiers["dB"]),
            None,
        )
        .await?;
        ensure!(
            status == 404,
            "a contact person reached another company's file"
        );
        let denied = sql_rows(
            &server,
            "SELECT actor_id FROM audit_log WHERE action = 'access.denied'",
        )
        .await?
        .len()
        .to_string();
        ensure!(denied != "0", "the refusal was not recorded");
        let (po, html) = home(&server, "po@cb.example").await?;
        let count = html
            .split("id=\"watch-denied\"><strong>")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .context(html.clone())?;
        ensure!(count == denied, "home counts {count}, the log has {denied}");
        let href = html
            .split("href=\"")
            .find(|s| s.contains("id=\"watch-denied\""))
            .and_then(|s| s.split('"').next())
            .context("the count's link")?
            .replace("&amp;", "&");
        let res = po.get(server.url(&href)).send().await?;
        ensure!(res.status() == 200, "{href}: {}", res.status());
        let listed = res.text().await?;
        ensure!(
            listed.matches("data-action=\"access.denied\"").count() >= 1,
            "{listed}"
        );
        // Company people see no audit counts.
        let (_, html) = home(&server, "ca@a.example").await?;
        ensure!(!html.contains("id=\"home-watch\""), "{html}");
        server.stop().await
    }
);

matrix!(
    async fn a_contact_person_without_the_document_right_is_told_who_gives_it(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__SECOND_FACTOR_ROLES", "[]")
            .start()
            .await?;
        let w = world(&server).await?;
        let page = format!("/dossiers/{}", w.dossiers["dB"]);
        let doc = format!("/documents/{}", w.documents["docB"].0);
        let contact = server.sign_in("cb2@b.example", PASSWORD).await?;
        server.speak(&contact, "en").await?;
        let html = contact.get(server.url(&page)).send().await?.text().await?;
        let notice = html
            .split("id=\"documents-no-right\">")
            .nth(1)
            .and_then(|s| s.split("</p>").next())
            .context(html.clone())?
            .replace("&#39;", "'");
        ensure!(
            notice.starts_with("You may not see this company's documents yet.")
                && notice.contains("primary contact can give you this right"),
            "{notice}"
        );
        ensure!(
            !html.contains(&doc),
            "a document listed without the right: {html}"
        );
        // The primary contact gives the right: the notice is gone, the document is listed.
        let (status, body) = api(
            &server,
            &w.people["cba@b.example"].token,
            Method::PUT,
            &format!("/api/v1/people/{}/rights", w.people["cb2@b.example"].id),
            Some(json!({ "rights": ["document.read"] })),
        )
        .await?;
        ensure!(status == 200, "{status} {body}");
        let contact = server.sign_in("cb2@b.example", PASSWORD).await?;
        let html = contact.get(server.url(&page)).send().await?.text().await?;
        ensure!(!html.contains("id=\"documents-no-right\""), "{html}");
        ensure!(html.contains(&doc), "{html}");
        server.stop().await
    }
);
