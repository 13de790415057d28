//! Forgotten passwords and invitations through the real binary, with mail delivered to a real
//! SMTP server (and, by default, to `.eml` files), in the recipient's language.

use std::time::Duration;

use anyhow::Context;
use extranet_tests::mail::{link, wait_for};
use extranet_tests::{Server, ServerBuilder, TestEnv, matrix};
use serde_json::json;

fn smtp(b: extranet_tests::Backends) -> ServerBuilder {
    let env = TestEnv::get();
    ServerBuilder::new(b)
        .env("EXTRANET_MAIL__TRANSPORT", "smtp")
        .env("EXTRANET_MAIL__SMTP_HOST", "127.0.0.1")
        .env("EXTRANET_MAIL__SMTP_PORT", env.smtp_port.to_string())
        .env("EXTRANET_MAIL__SMTP_TLS", "none")
        .env("EXTRANET_MAIL__POLL_SECS", "1")
}

async fn api_login(server: &Server, email: &str, password: &str) -> anyhow::Result<u16> {
    Ok(server
        .client()?
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?
        .status()
        .as_u16())
}

/// Posts the new-password form of `url` (a link from a mail).
async fn set_password(
    server: &Server,
    client: &reqwest::Client,
    url: &str,
    password: &str,
    confirm: &str,
) -> anyhow::Result<(u16, String)> {
    let parsed = url::Url::parse(url)?;
    let token = parsed
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .context("token")?;
    let path = parsed.path().to_owned();
    let form_token = server
        .csrf(client, &format!("{path}?token={token}"))
        .await?;
    let res = client
        .post(server.url(&path))
        .header(
            "origin",
            format!("https://localhost:{}", server.https.port()),
        )
        .form(&[
            ("token", token.as_str()),
            ("password", password),
            ("confirm", confirm),
            ("csrf", form_token.as_str()),
        ])
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.text().await.unwrap_or_default()))
}

matrix!(
    async fn forgotten_password_by_mail_in_the_persons_language(b: Backends) {
        let server = smtp(b).start().await?;
        let env = TestEnv::get();
        let email = format!("reset-{}@bouw.example", uuid::Uuid::new_v4().simple());
        let (status, out, err) = server
            .command(
                &[
                    "user",
                    "create",
                    "--email",
                    &email,
                    "--first-name",
                    "Claire",
                    "--surname",
                    "Martin",
                    "--role",
                    "client_user",
                    "--language",
                    "fr",
                    "--password-stdin",
                ],
                "vlaai-tram-Kortrijk-42-brug\n",
            )
            .await?;
        assert!(status.success(), "{out}{err}");
        let client = server.browser()?;
        let origin = format!("https://localhost:{}", server.https.port());

        // Ask, for the account and for an address without one: the same answer.
        let mut pages = Vec::new();
        for address in [email.as_str(), "nobody-here@bouw.example"] {
            let token = server.csrf(&client, "/password/forgot").await?;
            let res = client
                .post(server.url("/password/forgot"))
                .header("origin", &origin)
                .header("accept-language", "en")
                .form(&[("email", address), ("csrf", token.as_str())])
                .send()
                .await?;
            assert_eq!(res.status(), 200);
            pages.push(res.text().await?.replace(&token, ""));
        }
        assert!(pages[0].contains("If an account exists"), "{}", pages[0]);
        assert_eq!(
            pages[0], pages[1],
            "the answer tells whether an account exists"
        );

        let mail = wait_for(&env.smtp_dir, &email, Duration::from_secs(20)).await?;
        assert!(
            mail.subject.starts_with("Réinitialisez votre mot de passe"),
            "{}",
            mail.subject
        );
        assert!(mail.body.contains("Bonjour Claire"), "{}", mail.body);
        let url = link(&mail.body)?;
        assert!(
            url.starts_with(&format!(
                "https://localhost:{}/password/reset?token=",
                server.https.port()
            )),
            "{url}"
        );
        assert!(
            wait_for(
                &env.smtp_dir,
                "nobody-here@bouw.example",
                Duration::from_millis(500)
            )
            .await
            .is_err()
        );

        // A weak password is refused with the reason; mismatched ones too.
        let (status, html) =
            set_password(&server, &client, &url, "motdepasse", "motdepasse").await?;
        assert_eq!(status, 422, "{html}");
        let (status, _) = set_password(
            &server,
            &client,
            &url,
            "Koekoek-Zwaluw-Pont-2026",
            "something else",
        )
        .await?;
        assert_eq!(status, 422);
        let (status, _) = set_password(
            &server,
            &client,
            &url,
            "Koekoek-Zwaluw-Pont-2026",
            "Koekoek-Zwaluw-Pont-2026",
        )
        .await?;
        assert_eq!(status, 303);
        assert_eq!(
            api_login(&server, &email, "Koekoek-Zwaluw-Pont-2026").await?,
            200
        );
        assert_eq!(
            api_login(&server, &email, "vlaai-tram-Kortrijk-42-brug").await?,
            401
        );
        // The link works once.
        let res = client.get(&url).send().await?;
        assert_eq!(res.status(), 410);
        let token = url.split("token=").nth(1).context("token")?.to_owned();
        let form_token = server.csrf(&client, "/password/forgot").await?;
        let res = client
            .post(server.url("/password/reset"))
            .header("origin", &origin)
            .form(&[
                ("token", token.as_str()),
                ("password", "Nog-Een-Ander-Wachtwoord-7"),
                ("confirm", "Nog-Een-Ander-Wachtwoord-7"),
                ("csrf", form_token.as_str()),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 410, "a used link set a password");
        assert_eq!(
            api_login(&server, &email, "Nog-Een-Ander-Wachtwoord-7").await?,
            401
        );
        server.stop().await
    }
);

matrix!(
    async fn invitation_mail_lets_a_new_person_choose_a_password(b: Backends) {
        let server = smtp(b).start().await?;
        let env = TestEnv::get();
        let email = format!("invite-{}@bouw.example", uuid::Uuid::new_v4().simple());
        let (status, out, err) = server
            .command(
                &[
                    "user",
                    "create",
                    "--email",
                    &email,
                    "--first-name",
                    "Jan",
                    "--surname",
                    "Peeters",
                    "--role",
                    "client_admin",
                    "--language",
                    "nl",
                ],
                "",
            )
            .await?;
        assert!(status.success(), "{out}{err}");
        assert!(out.contains("(invited)"), "{out}");
        assert_eq!(api_login(&server, &email, "").await?, 401);
        let mail = wait_for(&env.smtp_dir, &email, Duration::from_secs(20)).await?;
        assert!(
            mail.subject.starts_with("Uw account op het extranet"),
            "{}",
            mail.subject
        );
        let url = link(&mail.body)?;
        assert!(url.contains("/password/set?token="), "{url}");
        let client = server.browser()?;
        let (status, _) = set_password(
            &server,
            &client,
            &url,
            "Vlaamse-Gaai-Brugge-88",
            "Vlaamse-Gaai-Brugge-88",
        )
        .await?;
        assert_eq!(status, 303);
        assert_eq!(
            api_login(&server, &email, "Vlaamse-Gaai-Brugge-88").await?,
            200
        );
        server.stop().await
    }
);

#[tokio::test]
async fn default_transport_writes_eml_files() -> anyhow::Result<()> {
    let server = ServerBuilder::new(extranet_tests::Backends::new(
        extranet_tests::Db::Sqlite,
        extranet_tests::Store::Local,
    ))
    .env("EXTRANET_MAIL__POLL_SECS", "1")
    .start()
    .await?;
    let email = "eml@bouw.example";
    let (status, out, err) = server
        .command(
            &[
                "user",
                "create",
                "--email",
                email,
                "--first-name",
                "Eva",
                "--surname",
                "Smit",
                "--role",
                "client_user",
                "--language",
                "en",
            ],
            "",
        )
        .await?;
    assert!(status.success(), "{out}{err}");
    let mail = wait_for(
        &server.data_dir.join("mail"),
        email,
        Duration::from_secs(20),
    )
    .await?;
    assert!(
        mail.subject.starts_with("Your account on the extranet"),
        "{}",
        mail.subject
    );
    server.stop().await
}

matrix!(
    async fn a_link_its_mail_and_its_audit_record_commit_together(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        server
            .create_user("claire@bouw.example", "client_user")
            .await?;
        let client = server.browser()?;
        let origin = server.origin();
        let ask = || async {
            let token = server.csrf(&client, "/password/forgot").await?;
            let res = client
                .post(server.url("/password/forgot"))
                .header("origin", &origin)
                .form(&[("email", "claire@bouw.example"), ("csrf", token.as_str())])
                .send()
                .await?;
            anyhow::Ok(res.status())
        };
        // Break the audit log's head row: the append fails, so the whole change must roll back.
        crate::auth::break_audit_head(&server).await?;
        // The visitor learns nothing either way (the failure is logged, not shown).
        assert_eq!(ask().await?, 200);
        let count = |table: &'static str| {
            let server = &server;
            async move {
                let rows = crate::auth::sql_rows(
                    server,
                    &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"),
                )
                .await?;
                anyhow::Ok(rows[0][0].clone())
            }
        };
        assert_eq!(
            count("one_time_token").await?,
            "0",
            "a link without its mail or audit record"
        );
        assert_eq!(
            count("outbox").await?,
            "0",
            "a mail for a change that was rolled back"
        );

        // With the log repaired (a fresh head), the same request commits all three.
        crate::auth::restore_audit_head(&server).await?;
        assert_eq!(ask().await?, 200);
        assert_eq!(count("one_time_token").await?, "1");
        assert_eq!(count("outbox").await?, "1");
        let audited = crate::auth::sql_rows(
            &server,
            "SELECT action FROM audit_log WHERE action = 'auth.password.reset_requested'",
        )
        .await?;
        assert_eq!(audited.len(), 1);
        server.stop().await
    }
);
