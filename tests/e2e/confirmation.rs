//! The yearly "is your data still correct?" mail through the real binary: it reaches active
//! people of active organisations whose data is older than the interval, once, in their
//! language, with a link built from the public URL; never deactivated people or people of a
//! deactivated organisation. The button on the account page (and saving the profile) records
//! the confirmation with its audit entry.
//!
//! Time is made to pass by setting `person.created_at` back in the database, as an operator
//! with database access could; the binary runs with `interval_days = 1` and checks every second.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use extranet_tests::mail::{link, wait_for};
use extranet_tests::{Server, ServerBuilder, matrix};

use crate::auth::sql_rows;

const PUBLIC_URL: &str = "https://extranet.example.org";
const FR: &str = "francoise@cert.example";
const EN: &str = "emma@cert.example";
const NL: &str = "jan@bouw.example";
const GONE: &str = "vertrokken@cert.example";
const CLOSED: &str = "piet@gesloten.example";

async fn create(
    server: &Server,
    email: &str,
    language: &str,
    organisation: Option<&str>,
) -> anyhow::Result<()> {
    // People of the certification body are inspectors; of a client, its primary contact.
    let role = if organisation.is_some() {
        "client_admin"
    } else {
        "inspector"
    };
    let mut args = vec![
        "user",
        "create",
        "--email",
        email,
        "--first-name",
        "Test",
        "--surname",
        "Persoon",
        "--role",
        role,
        "--language",
        language,
        "--password-stdin",
    ];
    if let Some(org) = organisation {
        args.extend(["--organisation", org]);
    }
    let (status, out, err) = server
        .command(&args, "vlaai-tram-Kortrijk-42-brug\n")
        .await?;
    if !status.success() {
        bail!("user create {email}: {out} {err}");
    }
    Ok(())
}

/// How many confirmation mails (`.eml` files) were written for `recipient`.
fn mails_to(dir: &Path, recipient: &str, subject_starts: &[&str]) -> anyhow::Result<usize> {
    use mailparse::MailHeaderMap;
    let mut n = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    for entry in entries.flatten() {
        let raw = std::fs::read(entry.path())?;
        let mail = mailparse::parse_mail(&raw)?;
        let to = mail.headers.get_all_values("To");
        let subject = mail.headers.get_first_value("Subject").unwrap_or_default();
        if to.iter().any(|t| t.contains(recipient))
            && subject_starts.iter().any(|s| subject.starts_with(s))
        {
            n += 1;
        }
    }
    Ok(n)
}

const SUBJECTS: [&str; 3] = [
    "Vos données sur l'extranet",
    "Is your data on the extranet",
    "Kloppen uw gegevens op het extranet",
];

async fn confirmation_recipients(server: &Server) -> anyhow::Result<BTreeSet<String>> {
    Ok(sql_rows(
        server,
        "SELECT recipient FROM outbox WHERE template = 'data-confirmation'",
    )
    .await?
    .into_iter()
    .filter_map(|r| r.into_iter().next())
    .collect())
}

async fn confirmed(server: &Server, email: &str) -> anyhow::Result<bool> {
    let rows = sql_rows(
        server,
        &format!(
            "SELECT CASE WHEN data_confirmed_at IS NULL THEN 'no' ELSE 'yes' END FROM person \
             WHERE email_normalized = '{email}'"
        ),
    )
    .await?;
    Ok(rows.first().and_then(|r| r.first()).context("person")? == "yes")
}

matrix!(
    async fn data_confirmation_mail_once_in_the_person_language(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SERVER__PUBLIC_URL", PUBLIC_URL)
            .env("EXTRANET_CONFIRMATION__INTERVAL_DAYS", "1")
            .env("EXTRANET_CONFIRMATION__CHECK_EVERY_SECS", "1")
            .env("EXTRANET_MAIL__POLL_SECS", "1")
            .start()
            .await?;
        let mail_dir = server.data_dir.join("mail");
        let client_org = server.create_client_org("Bouw Oost").await?;
        let closed_org = server.create_client_org("Gesloten BV").await?;
        create(&server, FR, "fr", None).await?;
        create(&server, EN, "en", None).await?;
        create(&server, GONE, "nl", None).await?;
        create(&server, NL, "nl", Some(&client_org)).await?;
        create(&server, CLOSED, "nl", Some(&closed_org)).await?;
        let (status, out, err) = server.command(&["user", "deactivate", GONE], "").await?;
        assert!(status.success(), "{out}{err}");
        let (status, out, err) = server
            .command(&["org", "deactivate", &closed_org], "")
            .await?;
        assert!(status.success(), "{out}{err}");

        // Nobody is due yet: every account is younger than a day.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(confirmation_recipients(&server).await?.is_empty());

        // A year later, as far as the database knows.
        sql_rows(
            &server,
            "UPDATE person SET created_at = '2025-01-01T00:00:00Z'",
        )
        .await?;
        let fr = wait_for(&mail_dir, FR, Duration::from_secs(20)).await?;
        assert!(
            fr.subject.starts_with("Vos données sur l'extranet"),
            "{}",
            fr.subject
        );
        assert_eq!(
            link(&fr.body)?,
            format!("{PUBLIC_URL}/account"),
            "{}",
            fr.body
        );
        assert!(
            fr.body.contains("Mes données sont correctes"),
            "{}",
            fr.body
        );
        let en = wait_for(&mail_dir, EN, Duration::from_secs(20)).await?;
        assert!(
            en.subject.starts_with("Is your data on the extranet"),
            "{}",
            en.subject
        );
        let nl = wait_for(&mail_dir, NL, Duration::from_secs(20)).await?;
        assert!(
            nl.subject
                .starts_with("Kloppen uw gegevens op het extranet"),
            "{}",
            nl.subject
        );
        assert_eq!(link(&nl.body)?, format!("{PUBLIC_URL}/account"));

        // Several more checks: nobody is asked twice, the deactivated never.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        let expected: BTreeSet<String> = [FR, EN, NL].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(confirmation_recipients(&server).await?, expected);
        for email in [FR, EN, NL] {
            assert_eq!(mails_to(&mail_dir, email, &SUBJECTS)?, 1, "{email}");
        }
        for email in [GONE, CLOSED] {
            assert_eq!(mails_to(&mail_dir, email, &SUBJECTS)?, 0, "{email}");
        }
        let requested = sql_rows(
            &server,
            "SELECT subject_id FROM audit_log WHERE action = 'account.confirmation.requested'",
        )
        .await?;
        assert_eq!(requested.len(), 3, "{requested:?}");

        // Jan presses "My data is correct" (with the CSRF token, from this origin).
        let password = "vlaai-tram-Kortrijk-42-brug";
        let jan = server.sign_in(NL, password).await?;
        let page = jan
            .get(server.url("/account"))
            .header("accept-language", "nl")
            .send()
            .await?
            .text()
            .await?;
        assert!(
            page.contains("U hebt uw gegevens nog niet bevestigd."),
            "{page}"
        );
        assert!(page.contains("id=\"confirm-data\""), "{page}");
        let token = server.csrf(&jan, "/account").await?;
        let press = |csrf: String| {
            jan.post(server.url("/account/confirm"))
                .header("origin", server.origin())
                .form(&[("csrf", csrf)])
                .send()
        };
        assert_eq!(press(String::new()).await?.status(), 403, "no CSRF token");
        assert!(!confirmed(&server, NL).await?);
        let res = press(token).await?;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/account");
        // The message of the action comes with the next page (the flash cookie), once.
        let page = jan
            .get(server.url("/account"))
            .header("accept-language", "nl")
            .send()
            .await?
            .text()
            .await?;
        assert!(page.contains("uw bevestiging is geregistreerd"), "{page}");
        assert!(
            [1, 2].iter().any(|h| page.contains(&format!(
                "U hebt uw gegevens het laatst bevestigd op {}",
                crate::confirmation::today_nl(*h)
            ))),
            "{page}"
        );
        assert!(confirmed(&server, NL).await?);
        let entries = sql_rows(
            &server,
            "SELECT subject_id, actor_id, detail FROM audit_log \
             WHERE action = 'account.confirmation.confirmed'",
        )
        .await?;
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(
            entries[0][0], entries[0][1],
            "the person confirmed for themselves"
        );
        assert!(entries[0][2].contains("button"), "{entries:?}");

        // Emma saves her profile: that counts as confirming too.
        let emma = server.sign_in(EN, password).await?;
        let token = server.csrf(&emma, "/account").await?;
        let res = emma
            .post(server.url("/account/profile"))
            .header("origin", server.origin())
            .form(&[
                ("phone", "+32 2 123 45 67"),
                ("mobile", ""),
                ("fax", ""),
                ("function", ""),
                ("language", "en"),
                ("csrf", token.as_str()),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        assert!(confirmed(&server, EN).await?);
        let via_profile = sql_rows(
            &server,
            "SELECT detail FROM audit_log WHERE action = 'account.confirmation.confirmed' \
             AND detail LIKE '%profile%'",
        )
        .await?;
        assert_eq!(via_profile.len(), 1, "{via_profile:?}");

        // A year after the request: Françoise, who never confirmed, is asked again; Jan and Emma,
        // who confirmed just now, are not.
        sql_rows(
            &server,
            "UPDATE person SET confirmation_requested_at = '2025-06-01T00:00:00Z'",
        )
        .await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while mails_to(&mail_dir, FR, &SUBJECTS)? < 2 {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "Françoise was not asked again"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(mails_to(&mail_dir, NL, &SUBJECTS)?, 1);
        assert_eq!(mails_to(&mail_dir, EN, &SUBJECTS)?, 1);
        assert_eq!(mails_to(&mail_dir, FR, &SUBJECTS)?, 2);
        server.stop().await
    }
);

matrix!(
    async fn data_confirmation_is_not_queued_without_its_audit_record(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_CONFIRMATION__INTERVAL_DAYS", "1")
            .env("EXTRANET_CONFIRMATION__CHECK_EVERY_SECS", "1")
            .env("EXTRANET_MAIL__POLL_SECS", "1")
            .start()
            .await?;
        create(&server, FR, "fr", None).await?;
        // The audit log refuses every append: the request, its mail and its record roll back.
        crate::auth::break_audit_head(&server).await?;
        sql_rows(
            &server,
            "UPDATE person SET created_at = '2025-01-01T00:00:00Z'",
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(3000)).await;
        assert!(confirmation_recipients(&server).await?.is_empty());
        let asked = sql_rows(
            &server,
            "SELECT email FROM person WHERE confirmation_requested_at IS NOT NULL",
        )
        .await?;
        assert!(asked.is_empty(), "{asked:?}");
        // Once the log works again, the mail goes out.
        crate::auth::restore_audit_head(&server).await?;
        let fr = wait_for(&server.data_dir.join("mail"), FR, Duration::from_secs(20)).await?;
        assert!(fr.subject.starts_with("Vos données"), "{}", fr.subject);
        server.stop().await
    }
);

/// Today's date as the Dutch pages write it ("4 december 2026") at UTC+`hours` (Brussels is
/// +1 in winter, +2 in summer).
pub(crate) fn today_nl(hours: i8) -> String {
    const MONTHS: [&str; 12] = [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ];
    let now = time::OffsetDateTime::now_utc();
    let local =
        now.to_offset(time::UtcOffset::from_hms(hours, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{} {} {}",
        local.day(),
        MONTHS[usize::from(u8::from(local.month())) - 1],
        local.year()
    )
}
