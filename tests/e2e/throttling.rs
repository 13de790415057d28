//! Throttling beyond sign-in: wrong current passwords on the password form count like wrong
//! sign-ins (for the account and the address), unknown refresh tokens from one address are slowed
//! down, and password-reset mails are limited per account and per address while the page answers
//! the same to everyone.

use extranet_tests::{Server, ServerBuilder, databases};
use serde_json::json;

use crate::auth::sql_rows;

const PERSON: &str = "persoon@bouw.example";

async fn count(server: &Server, sql: &str) -> anyhow::Result<usize> {
    let rows = sql_rows(server, sql).await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

databases!(
    async fn wrong_current_passwords_and_unknown_refresh_tokens_are_throttled(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__LOGIN_BASE_DELAY_SECS", "60")
            .start()
            .await?;
        let pw = server.create_user(PERSON, "client_admin").await?;
        let browser = server.sign_in(PERSON, &pw).await?;
        server.speak(&browser, "en").await?;

        // A stolen session guessing the password: from the seventh wrong guess on, 429.
        let mut statuses = Vec::new();
        for i in 0..12 {
            let csrf = server.csrf(&browser, "/account").await?;
            let res = browser
                .post(server.url("/account/password"))
                .header("origin", server.origin())
                .form(&[
                    ("current", format!("guess-{i}").as_str()),
                    ("password", "nieuw-Zonnebloem-Gent-77-kaai"),
                    ("confirm", "nieuw-Zonnebloem-Gent-77-kaai"),
                    ("csrf", csrf.as_str()),
                ])
                .send()
                .await?;
            let status = res.status().as_u16();
            if status == 429 {
                assert!(res.headers().contains_key("retry-after"));
                assert!(res.text().await?.contains("Too many failed attempts"));
            }
            statuses.push(status);
        }
        assert_eq!(&statuses[..6], &[422; 6], "{statuses:?}");
        assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
        // The right password does not get through the wait either…
        let csrf = server.csrf(&browser, "/account").await?;
        let res = browser
            .post(server.url("/account/password"))
            .header("origin", server.origin())
            .form(&[
                ("current", pw.as_str()),
                ("password", "nieuw-Zonnebloem-Gent-77-kaai"),
                ("confirm", "nieuw-Zonnebloem-Gent-77-kaai"),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 429);
        // …and the guesses count against the account's sign-in too.
        let res = server
            .client()?
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": PERSON, "password": pw }))
            .send()
            .await?;
        assert_eq!(res.status(), 429);

        // Refresh tokens that were never issued, from one address: slowed down, then 429.
        let client = server.client()?;
        let mut statuses = Vec::new();
        for i in 0..12 {
            let res = client
                .post(server.url("/api/v1/auth/refresh"))
                .json(&json!({ "refresh_token": format!("guessed-refresh-token-{i:02}-xxxxxxxxxxxxxxxxxxxx") }))
                .send()
                .await?;
            if res.status() == 429 {
                assert!(res.headers().contains_key("retry-after"));
            }
            statuses.push(res.status().as_u16());
        }
        assert_eq!(&statuses[..6], &[401; 6], "{statuses:?}");
        assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
        server.stop().await
    }
);

databases!(
    async fn reset_mails_are_limited_per_account_and_per_address(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__MAILS_PER_ACCOUNT_PER_HOUR", "3")
            .env("EXTRANET_AUTH__MAILS_PER_ADDRESS", "8")
            .start()
            .await?;
        server.create_user(PERSON, "client_admin").await?;
        let others = [
            "a@bouw.example",
            "b@bouw.example",
            "c@bouw.example",
            "d@bouw.example",
        ];
        for o in others {
            server.create_user(o, "client_user").await?;
        }
        let browser = server.browser()?;
        let ask = |email: &'static str| {
            let browser = browser.clone();
            let server = &server;
            async move {
                let csrf = server.csrf(&browser, "/password/forgot").await?;
                let res = browser
                    .post(server.url("/password/forgot"))
                    .header("origin", server.origin())
                    .form(&[("email", email), ("csrf", csrf.as_str())])
                    .send()
                    .await?;
                Ok::<(u16, String), anyhow::Error>((res.status().as_u16(), res.text().await?))
            }
        };
        // Six requests for one account within a minute: three mails, and the same page each time.
        let (_, first_page) = ask(PERSON).await?;
        for _ in 0..5 {
            let (status, page) = ask(PERSON).await?;
            assert_eq!(status, 200);
            assert_eq!(page.len(), first_page.len(), "the answer tells nothing");
        }
        let to_person =
            format!("SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE recipient = '{PERSON}'");
        assert_eq!(count(&server, &to_person).await?, 3);
        // Then other accounts from the same address: the address's budget (8 requests) is used
        // by the six above and two more; the rest send nothing.
        for o in others {
            let (status, _) = ask(o).await?;
            assert_eq!(status, 200);
        }
        let total = count(&server, "SELECT CAST(COUNT(*) AS TEXT) FROM outbox").await?;
        assert_eq!(total, 3 + 2, "mails in the outbox");
        let refused = count(
            &server,
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'auth.password.reset_throttled'",
        )
        .await?;
        assert_eq!(refused, 3 + 2, "each refusal recorded");
        server.stop().await
    }
);
