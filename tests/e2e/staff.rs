//! Staff pages: create organisations (enterprise numbers checked) and invite people, who get an
//! invitation mail; nobody else reaches these pages.

use std::time::Duration;

use extranet_tests::mail::wait_for;
use extranet_tests::{ServerBuilder, matrix};

matrix!(
    async fn staff_create_organisations_and_invite_people(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_MAIL__POLL_SECS", "1")
            .start()
            .await?;
        let password = server.create_user("staff@cert.example", "staff").await?;
        server
            .create_user("client@bouw.example", "client_admin")
            .await?;
        let staff = server.sign_in("staff@cert.example", &password).await?;
        let origin = server.origin();
        let client = server.sign_in("client@bouw.example", &password).await?;
        assert_eq!(
            client
                .get(server.url("/staff/organisations"))
                .send()
                .await?
                .status(),
            404,
            "a client reached the staff pages"
        );

        let token = server.csrf(&staff, "/staff/organisations").await?;
        let create = |number: &'static str| {
            staff
                .post(server.url("/staff/organisations"))
                .header("origin", &origin)
                .header("accept-language", "nl")
                .form(&[
                    ("name", "Prefab <Beton> NV"),
                    ("kind", "client"),
                    ("enterprise_number", number),
                    ("vat_number", ""),
                    ("phone", ""),
                    ("csrf", token.as_str()),
                ])
                .send()
        };
        let res = create("0403.123.487").await?;
        assert_eq!(res.status(), 422);
        let html = res.text().await?;
        assert!(html.contains("controlecijfers kloppen niet"), "{html}");
        assert!(
            html.contains("Prefab &lt;Beton&gt; NV") || html.contains("Prefab &#60;Beton&#62; NV"),
            "input kept, escaped"
        );
        let res = create("0403.123.486").await?;
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str()?.to_owned();
        assert!(location.starts_with("/staff/organisations/"));
        assert_eq!(
            create("0403123486").await?.status(),
            409,
            "a second organisation with the same number"
        );

        // Invite a person; a role this page does not offer is refused.
        let token = server.csrf(&staff, &location).await?;
        let invite = |role: &'static str| {
            staff
                .post(server.url(&location))
                .header("origin", &origin)
                .form(&[
                    ("first_name", "Wim"),
                    ("surname", "Wouters"),
                    ("email", "wim@prefab.example"),
                    ("language", "fr"),
                    ("role", role),
                    ("csrf", token.as_str()),
                ])
                .send()
        };
        assert_eq!(
            invite("admin").await?.status(),
            422,
            "role escalation through the form"
        );
        let res = invite("client_admin").await?;
        assert_eq!(res.status(), 303);
        let mail = wait_for(
            &server.data_dir.join("mail"),
            "wim@prefab.example",
            Duration::from_secs(20),
        )
        .await?;
        assert!(
            mail.subject.starts_with("Votre compte sur l'extranet"),
            "{}",
            mail.subject
        );
        let page = staff
            .get(server.url(&location))
            .header("accept-language", "nl")
            .send()
            .await?
            .text()
            .await?;
        assert!(page.contains("wim@prefab.example"), "{page}");
        assert!(
            page.contains("Uitgenodigd"),
            "the new person is listed as invited: {page}"
        );
        assert!(
            page.contains("<td>Hoofdcontactpersoon</td>"),
            "the role by its name: {page}"
        );
        assert!(
            page.contains("De persoon is uitgenodigd"),
            "the flash: {page}"
        );
        assert!(
            page.contains("href=\"/people/"),
            "a link to the person: {page}"
        );
        let actions = crate::auth::sql_rows(&server, "SELECT action FROM audit_log").await?;
        for expected in ["organisation.create", "account.create", "account.invited"] {
            assert!(
                actions.iter().flatten().any(|a| a == expected),
                "{expected} not audited"
            );
        }
        // A guessed id of nothing: not found.
        let res = staff
            .get(server.url(&format!("/staff/organisations/{}", uuid::Uuid::new_v4())))
            .send()
            .await?;
        assert_eq!(res.status(), 404);
        server.stop().await
    }
);

matrix!(
    async fn staff_deactivate_and_reactivate_an_organisation(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__ACCESS_LIFETIME_SECS", "2")
            .env("EXTRANET_AUTH__LEEWAY_SECS", "0")
            .start()
            .await?;
        let password = server.create_user("staff@cert.example", "staff").await?;
        let org = server.create_client_org("Beton Zuid").await?;
        server
            .create_user_in("client@zuid.example", "client_admin", &org)
            .await?;
        let staff = server.sign_in("staff@cert.example", &password).await?;
        server.speak(&staff, "fr").await?;
        let client = server.sign_in("client@zuid.example", &password).await?;
        let page = format!("/staff/organisations/{org}");
        let deactivate = format!("{page}/deactivate");
        let reactivate = format!("{page}/reactivate");
        let origin = server.origin();
        let token = server.csrf(&staff, &page).await?;
        let post = |who: &reqwest::Client, action: &str, csrf: String| {
            who.post(server.url(action))
                .header("origin", &origin)
                .form(&[("csrf", csrf.as_str())])
                .send()
        };

        // Not staff: neither the confirmation page nor the action exists. No CSRF token: refused.
        let client_token = server.csrf(&client, "/account").await?;
        assert_eq!(
            client.get(server.url(&deactivate)).send().await?.status(),
            404
        );
        assert_eq!(
            post(&client, &deactivate, client_token).await?.status(),
            404
        );
        assert_eq!(
            post(&staff, &deactivate, String::new()).await?.status(),
            403
        );

        // The button on the page is a link to a confirmation page, which changes nothing.
        let html = staff.get(server.url(&page)).send().await?.text().await?;
        assert!(
            html.contains(&format!("href=\"{deactivate}\" id=\"org-state-submit\"")),
            "{html}"
        );
        let res = staff.get(server.url(&deactivate)).send().await?;
        assert_eq!(res.status(), 200);
        let html = res.text().await?;
        assert!(html.contains("Désactiver Beton Zuid ?"), "{html}");
        assert!(html.contains(&format!("action=\"{deactivate}\"")), "{html}");
        assert!(
            html.contains(&format!("href=\"{page}\"")),
            "a way back: {html}"
        );
        assert!(html.contains("button danger"), "{html}");

        let res = post(&staff, &deactivate, token.clone()).await?;
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str()?.to_owned();
        assert_eq!(location, page);
        let html = staff
            .get(server.url(&location))
            .send()
            .await?
            .text()
            .await?;
        assert!(
            html.contains("L'organisation est désactivée")
                || html.contains("L&#39;organisation est désactivée"),
            "{html}"
        );
        assert!(html.contains("id=\"organisation-active\">non"), "{html}");

        // Once the client's access token has expired, its session cannot be refreshed.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let res = client.get(server.url("/account")).send().await?;
        assert_eq!(
            res.status(),
            303,
            "the deactivated company's contact is still signed in"
        );
        assert_eq!(res.headers()["location"], "/login");

        let res = post(&staff, &reactivate, token).await?;
        assert_eq!(res.status(), 303);
        server.sign_in("client@zuid.example", &password).await?;

        // The certification body's own page offers no such button, and a forged form is refused.
        let (_, list, _) = server.command(&["org", "list"], "").await?;
        let body = list
            .lines()
            .find(|l| l.contains("\tcertification_body\t"))
            .and_then(|l| l.split('\t').next())
            .unwrap_or_default()
            .to_owned();
        let body_page = format!("/staff/organisations/{body}");
        let html = staff
            .get(server.url(&body_page))
            .send()
            .await?
            .text()
            .await?;
        assert!(!html.contains("org-state-submit"), "{html}");
        let token = server.csrf(&staff, &body_page).await?;
        let res = post(&staff, &format!("{body_page}/deactivate"), token).await?;
        assert_eq!(res.status(), 400);

        let rows = crate::auth::sql_rows(
            &server,
            "SELECT action FROM audit_log WHERE action LIKE 'organisation.%activate' ORDER BY seq",
        )
        .await?;
        assert_eq!(rows.len(), 2, "{rows:?}");
        server.stop().await
    }
);
