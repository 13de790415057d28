//! Errors are not swallowed nor mistaken: a query that fails is a 500 page with the request's
//! reference and a log line (never an empty list answered 200); each unique value already in use
//! is named by its own field on both databases; an out-of-range access-token lifetime is refused
//! with its key named.

use std::time::Duration;

use anyhow::Context;
use extranet_tests::server::run_command;
use extranet_tests::{Server, ServerBuilder, databases};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{api, login};
use crate::auth::sql_rows;

/// A page whose query fails: 500, the page quotes the request id, and the log has a line with it.
async fn fails_with_reference(
    server: &Server,
    client: &reqwest::Client,
    path: &str,
) -> anyhow::Result<()> {
    server.speak(client, "en").await?;
    let res = client.get(server.url(path)).send().await?;
    assert_eq!(res.status(), 500, "{path}");
    let id = res.headers()["x-request-id"].to_str()?.to_owned();
    let page = res.text().await?;
    assert!(
        page.contains(&format!("Reference for the support desk: {id}")),
        "{page}"
    );
    assert!(
        server.stderr_contains(&id, Duration::from_secs(5)).await,
        "no log line for request {id}"
    );
    Ok(())
}

databases!(
    async fn a_failed_query_is_a_500_page_with_its_reference(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let org = server.create_client_org("Beton NV").await?;
        let pw = server
            .create_user_in("ca@beton.example", "client_admin", &org)
            .await?;
        server.create_user("staff@cb.example", "staff").await?;
        let staff = login(&server, "staff@cb.example").await?;
        let (status, body) = api(
            &server,
            &staff,
            Method::POST,
            "/api/v1/dossiers",
            Some(json!({ "organisation_id": org, "scheme": "BENOR", "status": "active" })),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let dossier: Value = serde_json::from_str(&body)?;
        let dossier = dossier["id"].as_str().context("id")?.to_owned();
        let client = server.sign_in("ca@beton.example", &pw).await?;
        let staff_pages = server.sign_in("staff@cb.example", &pw).await?;
        assert_eq!(
            client.get(server.url("/company")).send().await?.status(),
            200
        );

        // The company's dossiers cannot be read: the company page fails, it does not show
        // "no dossiers".
        sql_rows(&server, "ALTER TABLE dossier RENAME TO dossier_away").await?;
        fails_with_reference(&server, &client, "/company").await?;
        sql_rows(&server, "ALTER TABLE dossier_away RENAME TO dossier").await?;
        // A dossier whose assignments cannot be read: its page fails, it does not hide them.
        sql_rows(&server, "ALTER TABLE assignment RENAME TO assignment_away").await?;
        fails_with_reference(&server, &staff_pages, &format!("/dossiers/{dossier}")).await?;
        sql_rows(&server, "ALTER TABLE assignment_away RENAME TO assignment").await?;
        assert_eq!(
            client.get(server.url("/company")).send().await?.status(),
            200
        );
        server.stop().await
    }
);

databases!(
    async fn each_unique_value_in_use_is_named_by_its_field(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let org = server.create_client_org("Beton NV").await?;
        server.create_user("staff@cb.example", "staff").await?;
        server
            .create_user_in("ca@beton.example", "client_admin", &org)
            .await?;
        let staff = login(&server, "staff@cb.example").await?;
        let dossier = json!({ "organisation_id": org, "scheme": "BENOR", "certificate_number": "BE-0042", "status": "active" });
        let (status, body) = api(
            &server,
            &staff,
            Method::POST,
            "/api/v1/dossiers",
            Some(dossier.clone()),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let (status, body) = api(
            &server,
            &staff,
            Method::POST,
            "/api/v1/dossiers",
            Some(dossier),
        )
        .await?;
        assert_eq!(status, 409, "{body}");
        let problem: Value = serde_json::from_str(&body)?;
        assert_eq!(
            problem["errors"][0]["field"], "certificate_number",
            "{body}"
        );
        assert!(body.contains("certificate number"), "{body}");

        let invite = json!({ "first_name": "Jan", "surname": "Peeters", "email": "ca@beton.example", "language": "nl", "rights": [] });
        let (status, body) = api(
            &server,
            &staff,
            Method::POST,
            &format!("/api/v1/organisations/{org}/contacts"),
            Some(invite),
        )
        .await?;
        assert_eq!(status, 409, "{body}");
        let problem: Value = serde_json::from_str(&body)?;
        assert_eq!(problem["errors"][0]["field"], "email", "{body}");

        let (status, _, err) = server
            .command(
                &[
                    "org",
                    "create",
                    "--kind",
                    "client",
                    "--name",
                    "Ander NV",
                    "--enterprise-number",
                    "0403.123.486",
                ],
                "",
            )
            .await?;
        assert!(status.success(), "{err}");
        let (status, _, err) = server
            .command(
                &[
                    "org",
                    "create",
                    "--kind",
                    "client",
                    "--name",
                    "Nog NV",
                    "--enterprise-number",
                    "0403.123.486",
                ],
                "",
            )
            .await?;
        assert!(!status.success());
        assert!(err.contains("enterprise number is already in use"), "{err}");
        server.stop().await
    }
);

#[tokio::test]
async fn an_access_lifetime_out_of_range_is_refused_with_its_key() -> anyhow::Result<()> {
    for bad in ["0", "301", "86400"] {
        let (status, _, err) = run_command(
            &["config", "check"],
            &[("EXTRANET_AUTH__ACCESS_LIFETIME_SECS", bad)],
        )
        .await?;
        assert!(!status.success(), "{bad} accepted");
        assert!(err.contains("auth.access_lifetime_secs"), "{bad}: {err}");
    }
    let (status, _, err) = run_command(
        &["config", "check"],
        &[("EXTRANET_AUTH__ACCESS_LIFETIME_SECS", "300")],
    )
    .await?;
    assert!(status.success(), "{err}");
    Ok(())
}

databases!(
    async fn a_signed_in_persons_error_pages_keep_the_navigation(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let org = server.create_client_org("Beton NV").await?;
        let pw = server
            .create_user_in("ca@beton.example", "client_admin", &org)
            .await?;
        server.create_user("staff@cb.example", "staff").await?;
        let staff = login(&server, "staff@cb.example").await?;
        let (status, body) = api(
            &server,
            &staff,
            Method::POST,
            "/api/v1/dossiers",
            Some(json!({ "organisation_id": org, "scheme": "BENOR", "status": "active" })),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let dossier: Value = serde_json::from_str(&body)?;
        let dossier = dossier["id"].as_str().context("id")?.to_owned();
        let client = server.sign_in("ca@beton.example", &pw).await?;
        server.speak(&client, "fr").await?;
        let page = |path: String| {
            client
                .get(server.url(&path))
                .header("accept", "text/html,application/xhtml+xml")
                .send()
        };
        // An unknown address, and a page the person may not use (a legal hold is staff's).
        for (path, status, title) in [
            ("/no-such-page".to_owned(), 404, "Page introuvable"),
            (
                format!("/dossiers/{dossier}/hold?place=1"),
                403,
                "Accès refusé",
            ),
        ] {
            let res = page(path.clone()).await?;
            assert_eq!(res.status(), status, "{path}");
            let html = res.text().await?;
            assert!(html.contains("lang=\"fr\""), "{path}: {html}");
            assert!(html.contains(title), "{path}: {html}");
            assert!(
                html.contains("class=\"site-nav\""),
                "{path}: no navigation: {html}"
            );
            assert!(
                html.contains("action=\"/logout\""),
                "{path}: no sign-out: {html}"
            );
            assert!(html.contains("href=\"/company\""), "{path}: {html}");
        }
        // Signed out, the same address: the error page without a shell of a session.
        let anonymous = server.browser()?;
        let res = anonymous
            .get(server.url("/no-such-page"))
            .header("accept", "text/html")
            .send()
            .await?;
        assert_eq!(res.status(), 404);
        let html = res.text().await?;
        assert!(!html.contains("action=\"/logout\""), "{html}");
        // An API client still reads a problem document.
        let res = client
            .get(server.url("/no-such-page"))
            .header("accept", "application/json")
            .send()
            .await?;
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        server.stop().await
    }
);
