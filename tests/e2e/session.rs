//! Browser sessions over HTTPS with a cookie-keeping client: cookie flags, CSRF and origin
//! checks on forms, transparent refresh past the access lifetime, sign-out.

use std::time::Duration;

use anyhow::Context;
use extranet_tests::{ServerBuilder, matrix};

use crate::auth::EMAIL;

matrix!(
    async fn browser_session_cookies_csrf_and_transparent_refresh(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__ACCESS_LIFETIME_SECS", "2")
            .env("EXTRANET_AUTH__LEEWAY_SECS", "0")
            .start()
            .await?;
        let password = server.create_user(EMAIL, "client_admin").await?;
        let client = server.browser()?;
        let origin = format!("https://localhost:{}", server.https.port());
        let token = server.csrf(&client, "/login").await?;

        // Without the CSRF token, or from a foreign origin: refused, nobody signed in.
        for (what, form_token, from) in [
            ("no token", "", origin.as_str()),
            (
                "wrong token",
                "forged-token-forged-token-forged-token",
                origin.as_str(),
            ),
            ("foreign origin", token.as_str(), "https://evil.example"),
        ] {
            let res = client
                .post(server.url("/login"))
                .header("origin", from)
                .form(&[
                    ("email", EMAIL),
                    ("password", password.as_str()),
                    ("csrf", form_token),
                ])
                .send()
                .await?;
            assert_eq!(res.status(), 403, "{what}");
            assert!(
                res.headers()
                    .get_all("set-cookie")
                    .iter()
                    .all(|c| !c.to_str().unwrap_or("").starts_with("__Host-access")),
                "{what}"
            );
        }
        // A wrong password: the form again, the address kept, the error in the person's language.
        let res = client
            .post(server.url("/login"))
            .header("origin", &origin)
            .header("accept-language", "nl")
            .form(&[
                ("email", EMAIL),
                ("password", "wrong"),
                ("csrf", token.as_str()),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 401);
        let html = res.text().await?;
        assert!(html.contains("klopt niet"), "{html}");
        assert!(html.contains(&format!("value=\"{EMAIL}\"")));

        let res = client
            .post(server.url("/login"))
            .header("origin", &origin)
            .form(&[
                ("email", EMAIL),
                ("password", password.as_str()),
                ("csrf", token.as_str()),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/home");
        let cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for name in ["__Host-access=", "__Host-refresh="] {
            let c = cookies
                .iter()
                .find(|c| c.starts_with(name))
                .with_context(|| format!("{name} not set: {cookies:?}"))?;
            for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
                assert!(c.contains(flag), "{name} lacks {flag}: {c}");
            }
            assert!(
                !c.contains("Domain="),
                "__Host- cookies carry no Domain: {c}"
            );
        }
        let page = client.get(server.url("/account")).send().await?;
        assert_eq!(page.status(), 200);
        assert!(page.text().await?.contains("Test Persoon"));

        // Past the access lifetime the person is still signed in: refreshed transparently.
        tokio::time::sleep(Duration::from_millis(3200)).await;
        let page = client.get(server.url("/account")).send().await?;
        assert_eq!(page.status(), 200, "signed out after the access lifetime");
        assert!(
            page.headers()
                .get_all("set-cookie")
                .iter()
                .any(|c| c.to_str().unwrap_or("").starts_with("__Host-access="))
        );

        // Sign-out needs the CSRF token too.
        let token = server.csrf(&client, "/account").await?;
        let res = client
            .post(server.url("/logout"))
            .header("origin", &origin)
            .form(&[("csrf", "nope")])
            .send()
            .await?;
        assert_eq!(res.status(), 403);
        assert_eq!(
            client.get(server.url("/account")).send().await?.status(),
            200
        );
        let res = client
            .post(server.url("/logout"))
            .header("origin", &origin)
            .form(&[("csrf", token.as_str())])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        let res = client.get(server.url("/account")).send().await?;
        assert_eq!(res.status(), 303, "still signed in after sign-out");
        assert_eq!(res.headers()["location"], "/login");
        server.stop().await
    }
);

matrix!(
    async fn sign_out_everywhere_ends_every_session(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(EMAIL, "inspector").await?;
        let origin = format!("https://localhost:{}", server.https.port());
        let mut clients = Vec::new();
        for _ in 0..2 {
            let client = server.browser()?;
            let token = server.csrf(&client, "/login").await?;
            let res = client
                .post(server.url("/login"))
                .header("origin", &origin)
                .form(&[
                    ("email", EMAIL),
                    ("password", password.as_str()),
                    ("csrf", token.as_str()),
                ])
                .send()
                .await?;
            assert_eq!(res.status(), 303);
            clients.push(client);
        }
        let token = server.csrf(&clients[0], "/account").await?;
        let res = clients[0]
            .post(server.url("/logout/everywhere"))
            .header("origin", &origin)
            .form(&[("csrf", token.as_str())])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        // The other browser's refresh token is dead; once its access token lapses it is out.
        // (Its access token stays valid for at most the access lifetime; see README.)
        let api = server.client()?;
        let res = api
            .post(server.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": EMAIL, "password": password }))
            .send()
            .await?;
        assert_eq!(res.status(), 200, "a new sign-in still works");
        let sessions = crate::auth::sql_rows(
            &server,
            "SELECT revoked_reason FROM auth_session ORDER BY created_at",
        )
        .await?;
        let reasons: Vec<String> = sessions
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect();
        assert_eq!(
            reasons[..2],
            [
                "signed out everywhere".to_owned(),
                "signed out everywhere".to_owned()
            ]
        );
        assert_eq!(reasons[2], "");
        server.stop().await
    }
);

matrix!(
    async fn own_profile_and_password_can_be_changed(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(EMAIL, "client_user").await?;
        let client = server.sign_in(EMAIL, &password).await?;
        let origin = server.origin();
        let other = server.sign_in(EMAIL, &password).await?;

        // Bad input comes back next to its field, in the person's language, what was typed kept.
        server.speak(&client, "fr").await?;
        let token = server.csrf(&client, "/account").await?;
        let res = client
            .post(server.url("/account/profile"))
            .header("origin", &origin)
            .form(&[
                ("phone", "call me <maybe>"),
                ("mobile", ""),
                ("fax", ""),
                ("function", "Kwaliteit"),
                ("language", "fr"),
                ("csrf", token.as_str()),
                ("roles", "admin"),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 422);
        let html = res.text().await?;
        assert!(html.contains("id=\"phone-error\""), "{html}");
        assert!(html.contains("Utilisez uniquement des chiffres"), "{html}");
        assert!(
            html.contains("value=\"call me &lt;maybe&gt;\"")
                || html.contains("value=\"call me &#60;maybe&#62;\""),
            "input not kept (escaped)"
        );
        // Good input is saved; smuggled fields (roles) are ignored; the language follows.
        let res = client
            .post(server.url("/account/profile"))
            .header("origin", &origin)
            .form(&[
                ("phone", "+32 2 123 45 67"),
                ("mobile", "0470 12 34 56"),
                ("fax", ""),
                ("function", "Kwaliteitsverantwoordelijke"),
                ("language", "fr"),
                ("csrf", token.as_str()),
                ("roles", "admin"),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        let me: serde_json::Value = {
            let api = server.client()?;
            let t: serde_json::Value = api
                .post(server.url("/api/v1/auth/login"))
                .json(&serde_json::json!({ "email": EMAIL, "password": password }))
                .send()
                .await?
                .json()
                .await?;
            api.get(server.url("/api/v1/me"))
                .bearer_auth(t["access_token"].as_str().unwrap_or_default())
                .send()
                .await?
                .json()
                .await?
        };
        assert_eq!(me["phone"], "+32 2 123 45 67");
        assert_eq!(me["language"], "fr");
        assert_eq!(me["roles"], serde_json::json!(["client_user"]));
        let page = client
            .get(server.url("/account?saved=profile"))
            .send()
            .await?
            .text()
            .await?;
        assert!(page.contains("Vos données ont été enregistrées"), "{page}");

        // Password: the current one must be right, the new one strong; then other sessions end.
        let token = server.csrf(&client, "/account").await?;
        let change = |current: &'static str, new: &'static str| {
            client
                .post(server.url("/account/password"))
                .header("origin", &origin)
                .form(&[
                    ("current", current),
                    ("password", new),
                    ("confirm", new),
                    ("csrf", token.as_str()),
                ])
                .send()
        };
        assert_eq!(
            change("not-my-password", "Zeer-Sterk-Wachtwoord-42")
                .await?
                .status(),
            422
        );
        assert_eq!(
            change("vlaai-tram-Kortrijk-42-brug", "password1234")
                .await?
                .status(),
            422
        );
        assert_eq!(
            change("vlaai-tram-Kortrijk-42-brug", "Zeer-Sterk-Wachtwoord-42")
                .await?
                .status(),
            303
        );
        assert_eq!(
            client.get(server.url("/account")).send().await?.status(),
            200,
            "this session goes on"
        );
        // The other browser's session is over once its access token is refused or refreshed.
        let refresh = crate::auth::sql_rows(
            &server,
            "SELECT revoked_reason FROM auth_session WHERE revoked_reason IS NOT NULL",
        )
        .await?;
        assert!(
            refresh.iter().flatten().any(|r| r == "password changed"),
            "{refresh:?}"
        );
        drop(other);
        server.stop().await
    }
);
