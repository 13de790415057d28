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
