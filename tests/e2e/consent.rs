//! Consent records (issue 16, item 5), over HTTP against the real binary: giving and withdrawing
//! on the account's Privacy tab and through the API records the text version, language, times
//! and how; an unknown purpose or one whose basis is not consent is a 422; a newsletter is
//! queued only to active people with a consent to the text version in force (a consent to an
//! earlier version does not count until given again); the mails carry RFC 8058
//! `List-Unsubscribe` headers; the withdrawal link refuses an altered, someone else's or an
//! expired token and changes nothing, its GET changes nothing, and its one-click POST withdraws
//! without session or CSRF token; every change has its audit record.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::mail::{Received, wait_for, wait_for_subject};
use extranet_tests::{Server, ServerBuilder, TestEnv, databases};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{PASSWORD, api, login};
use crate::auth::sql_rows;
use crate::backoffice_pages::{page, post};

/// A tag for this run's addresses: the SMTP sink is shared between tests and runs.
pub(crate) fn tag(b: &extranet_tests::Backends) -> String {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!(
        "{}{}",
        b.label()
            .to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), ""),
        nanos % 1_000_000_000_000
    )
}

/// A server delivering mail to the SMTP sink, its clock for consents in `clock` (absent: now),
/// its processing register read from `register` (re-read on SIGHUP).
pub(crate) fn builder(b: extranet_tests::Backends, register: &Path, clock: &Path) -> ServerBuilder {
    let env = TestEnv::get();
    ServerBuilder::new(b)
        .env("EXTRANET_SITE__TIME_ZONE", "UTC")
        .env("EXTRANET_MAIL__TRANSPORT", "smtp")
        .env("EXTRANET_MAIL__SMTP_HOST", "127.0.0.1")
        .env("EXTRANET_MAIL__SMTP_PORT", env.smtp_port.to_string())
        .env("EXTRANET_MAIL__SMTP_TLS", "none")
        .env("EXTRANET_MAIL__POLL_SECS", "1")
        .env("EXTRANET_PRIVACY__RETENTION", "false")
        .env(
            "EXTRANET_PRIVACY__REGISTER_DIR",
            register.display().to_string(),
        )
        .env("EXTRANET_PRIVACY__CLOCK_FILE", clock.display().to_string())
}

/// A copy of the source tree's processing register, to change during a test.
pub(crate) fn register_copy(dir: &Path) -> anyhow::Result<PathBuf> {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/register");
    let to = dir.join("register");
    std::fs::create_dir_all(&to)?;
    for f in ["activities.toml", "retention.toml", "schema.csv"] {
        std::fs::copy(from.join(f), to.join(f))?;
    }
    Ok(to)
}

/// The newsletter's consent text moves to version 2 (new words in every language).
fn new_text_version(register: &Path) -> anyhow::Result<()> {
    let file = register.join("activities.toml");
    let text = std::fs::read_to_string(&file)?;
    let changed = text
        .replace("consent = { version = 1,", "consent = { version = 2,")
        .replace(
            "I can withdraw this consent at any time.",
            "I can withdraw this consent at any time, also from each newsletter.",
        );
    ensure!(
        changed != text,
        "the register's newsletter consent is not where it was"
    );
    std::fs::write(&file, changed)?;
    Ok(())
}

pub(crate) async fn person_id(server: &Server, email: &str) -> anyhow::Result<String> {
    let token = login(server, email).await?;
    let (_, me) = api(server, &token, Method::GET, "/api/v1/me", None).await?;
    let me: Value = serde_json::from_str(&me)?;
    Ok(me["id"].as_str().context("id")?.to_owned())
}

/// Gives (or withdraws) `email`'s newsletter consent through the API.
pub(crate) async fn consent_api(
    server: &Server,
    email: &str,
    given: bool,
    language: &str,
) -> anyhow::Result<Value> {
    let token = login(server, email).await?;
    let (status, body) = api(
        server,
        &token,
        Method::PUT,
        "/api/v1/consents/newsletter",
        Some(json!({ "given": given, "language": language })),
    )
    .await?;
    ensure!(status == 200, "PUT consent for {email}: {status} {body}");
    Ok(serde_json::from_str(&body)?)
}

/// The consent rows of a person for the newsletter, oldest first: (text_version, language,
/// given_via, withdrawn_at or "", withdrawn_via or "", text).
pub(crate) async fn rows(server: &Server, email: &str) -> anyhow::Result<Vec<Vec<String>>> {
    sql_rows(
        server,
        &format!(
            "SELECT CAST(text_version AS TEXT), language, given_via, \
             COALESCE(CAST(withdrawn_at AS TEXT), ''), COALESCE(withdrawn_via, ''), text, \
             CAST(given_at AS TEXT) FROM consent \
             WHERE person_id = (SELECT id FROM person WHERE email = '{email}') \
             AND purpose = 'newsletter' \
             ORDER BY given_at, id"
        ),
    )
    .await
}

pub(crate) async fn count(server: &Server, sql: &str) -> anyhow::Result<i64> {
    let rows = sql_rows(server, &format!("SELECT CAST(({sql}) AS TEXT)")).await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1))
}

/// The recipients the outbox holds newsletters for.
pub(crate) async fn newsletter_recipients(server: &Server) -> anyhow::Result<Vec<String>> {
    Ok(sql_rows(
        server,
        "SELECT recipient FROM outbox WHERE template = 'newsletter' ORDER BY recipient",
    )
    .await?
    .into_iter()
    .filter_map(|r| r.into_iter().next())
    .collect())
}

/// Staff send a newsletter through the pages: the confirmation first (nothing queued), then
/// the send. Returns the flash text.
pub(crate) async fn send_newsletter(
    server: &Server,
    staff: &reqwest::Client,
    subject: &str,
) -> anyhow::Result<String> {
    let before = newsletter_recipients(server).await?.len();
    let fields = [
        ("subject", subject),
        (
            "body",
            "Hello,\n\n**Spring** news: [the schemes](https://schemes.example).",
        ),
    ];
    let (code, _, html) = post(server, staff, "/newsletter/confirm", &fields).await?;
    ensure!(code == 200, "confirm: {code} {html}");
    ensure!(
        html.contains("id=\"newsletter-send\""),
        "no confirmation: {html}"
    );
    ensure!(
        html.contains("<strong>Spring</strong>"),
        "no preview: {html}"
    );
    ensure!(
        newsletter_recipients(server).await?.len() == before,
        "the confirmation queued mail"
    );
    let (code, location, _) = post(server, staff, "/newsletter/send", &fields).await?;
    ensure!(
        code == 303 && location == "/newsletter",
        "send: {code} {location}"
    );
    let (code, html) = page(server, staff, "/newsletter").await?;
    ensure!(code == 200, "{html}");
    let flash = html
        .split("id=\"notice\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_default()
        .to_owned();
    Ok(flash)
}

/// The withdrawal link of a received newsletter, from its `List-Unsubscribe` header (checked
/// to be RFC 8058 one-click, on one line).
pub(crate) fn unsubscribe_link(mail: &Received) -> anyhow::Result<String> {
    let header = mail
        .header("List-Unsubscribe")
        .context("no List-Unsubscribe header")?;
    ensure!(
        mail.header("List-Unsubscribe-Post") == Some("List-Unsubscribe=One-Click"),
        "List-Unsubscribe-Post: {:?}",
        mail.header("List-Unsubscribe-Post")
    );
    let url = header
        .trim()
        .strip_prefix('<')
        .and_then(|h| h.strip_suffix('>'))
        .context("List-Unsubscribe: <url>")?;
    ensure!(
        url.starts_with("https://") && !url.contains(['\r', '\n']),
        "{url}"
    );
    ensure!(mail.body.contains(url), "the body carries the link too");
    Ok(url.to_owned())
}

/// The same link with one query parameter replaced.
fn with_param(link: &str, name: &str, value: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(link)?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            if k == name {
                (k.into_owned(), value.to_owned())
            } else {
                (k.into_owned(), v.into_owned())
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(url.to_string())
}

fn param(link: &str, name: &str) -> anyhow::Result<String> {
    url::Url::parse(link)?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .context("parameter")
}

/// The link opened and posted to by someone with no session at all, as a mail client would:
/// (status, body).
pub(crate) async fn open(server: &Server, link: &str) -> anyhow::Result<(u16, String)> {
    let res = server.client()?.get(local(server, link)?).send().await?;
    Ok((res.status().as_u16(), res.text().await?))
}

pub(crate) async fn one_click(
    server: &Server,
    link: &str,
    body: &str,
) -> anyhow::Result<(u16, String)> {
    let res = server
        .client()?
        .post(local(server, link)?)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await?;
    Ok((res.status().as_u16(), res.text().await?))
}

/// A link from a mail, on this server (mails name its public address).
fn local(server: &Server, link: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(link)?;
    Ok(server.url(&format!(
        "{}?{}",
        url.path(),
        url.query().unwrap_or_default()
    )))
}

async fn audited(server: &Server, action: &str, person: &str) -> anyhow::Result<Vec<String>> {
    Ok(sql_rows(
        server,
        &format!(
            "SELECT detail FROM audit_log WHERE action = '{action}' AND subject_id = '{person}' \
             ORDER BY seq"
        ),
    )
    .await?
    .into_iter()
    .filter_map(|r| r.into_iter().next())
    .collect())
}

databases!(
    /// Giving and withdrawing on the Privacy tab and through the API: what is recorded, what
    /// the page says, what is refused, and the audit records.
    async fn given_and_withdrawn_through_the_page_and_the_api(b: Backends) {
        let dir = tempfile::tempdir()?;
        let register = register_copy(dir.path())?;
        let clock = dir.path().join("clock");
        let server = builder(b, &register, &clock).start().await?;
        let t = tag(&b);
        let org = server.create_client_org("Beton C NV").await?;
        let anna = format!("anna-{t}@consent.example");
        let bert = format!("bert-{t}@consent.example");
        server.create_user_in(&anna, "client_user", &org).await?;
        server.create_user_in(&bert, "client_admin", &org).await?;
        let anna_id = person_id(&server, &anna).await?;
        let bert_id = person_id(&server, &bert).await?;

        // The page: never given, then given, then withdrawn.
        let who = server.sign_in(&anna, PASSWORD).await?;
        server.speak(&who, "nl").await?;
        let (code, html) = page(&server, &who, "/account").await?;
        ensure!(
            code == 200 && html.contains("href=\"/account/privacy\""),
            "no tab: {html}"
        );
        let (code, html) = page(&server, &who, "/account/privacy").await?;
        ensure!(code == 200, "{code} {html}");
        ensure!(html.contains("data-status=\"never\""), "{html}");
        ensure!(
            html.contains("Ik wil de nieuwsbrief over certificatieschema"),
            "the text in the person's language: {html}"
        );
        let (code, location, _) = post(
            &server,
            &who,
            "/account/privacy",
            &[("purpose", "newsletter"), ("change", "give")],
        )
        .await?;
        ensure!(
            code == 303 && location == "/account/privacy",
            "{code} {location}"
        );
        let (_, html) = page(&server, &who, "/account/privacy").await?;
        ensure!(html.contains("data-status=\"given\""), "{html}");
        ensure!(
            html.contains("Uw toestemming is geregistreerd."),
            "no flash: {html}"
        );
        ensure!(html.contains("U gaf uw toestemming op "), "{html}");
        ensure!(
            html.contains(" UTC"),
            "the date in the installation's zone: {html}"
        );
        let r = rows(&server, &anna).await?;
        ensure!(r.len() == 1, "{r:?}");
        ensure!(
            r[0][0] == "1" && r[0][1] == "nl" && r[0][2] == "account",
            "{r:?}"
        );
        ensure!(r[0][3].is_empty(), "not withdrawn: {r:?}");
        ensure!(
            r[0][5].starts_with("Ik wil de nieuwsbrief"),
            "the exact text: {r:?}"
        );
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let given_at: i64 = r[0][6].parse()?;
        ensure!(
            (now - given_at).abs() < 120,
            "given_at {given_at}, now {now}"
        );
        // Giving it again changes nothing.
        post(
            &server,
            &who,
            "/account/privacy",
            &[("purpose", "newsletter"), ("change", "give")],
        )
        .await?;
        ensure!(rows(&server, &anna).await?.len() == 1);
        let (code, location, _) = post(
            &server,
            &who,
            "/account/privacy",
            &[("purpose", "newsletter"), ("change", "withdraw")],
        )
        .await?;
        ensure!(
            code == 303 && location == "/account/privacy",
            "{code} {location}"
        );
        let (_, html) = page(&server, &who, "/account/privacy").await?;
        ensure!(html.contains("data-status=\"withdrawn\""), "{html}");
        ensure!(
            html.contains("Uw toestemming is ingetrokken."),
            "no flash: {html}"
        );
        ensure!(
            html.contains("op uw accountpagina"),
            "the history says how: {html}"
        );
        let r = rows(&server, &anna).await?;
        ensure!(
            r.len() == 1 && !r[0][3].is_empty() && r[0][4] == "account",
            "{r:?}"
        );
        // A purpose that is not one, or a form without the CSRF token: refused, nothing changes.
        let (code, _, _) = post(
            &server,
            &who,
            "/account/privacy",
            &[("purpose", "certification"), ("change", "give")],
        )
        .await?;
        ensure!(code == 400, "{code}");
        let res = who
            .post(server.url("/account/privacy"))
            .header("origin", server.origin())
            .form(&[("purpose", "newsletter"), ("change", "give")])
            .send()
            .await?;
        ensure!(res.status() == 403, "without CSRF token: {}", res.status());
        ensure!(rows(&server, &anna).await?.len() == 1);

        // The API: in French, then the refusals.
        let token = login(&server, &bert).await?;
        let (code, body) = api(&server, &token, Method::GET, "/api/v1/consents", None).await?;
        ensure!(code == 200, "{body}");
        let v: Value = serde_json::from_str(&body)?;
        ensure!(v["purposes"][0]["purpose"] == "newsletter", "{v}");
        ensure!(
            v["purposes"][0]["status"] == "never" && v["purposes"][0]["version"] == 1,
            "{v}"
        );
        let v = consent_api(&server, &bert, true, "fr").await?;
        ensure!(v["purposes"][0]["status"] == "given", "{v}");
        let h = &v["history"][0];
        ensure!(
            h["language"] == "fr" && h["given_via"] == "api" && h["text_version"] == 1,
            "{v}"
        );
        ensure!(
            h["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Je souhaite recevoir"),
            "{v}"
        );
        let v = consent_api(&server, &bert, false, "fr").await?;
        ensure!(v["purposes"][0]["status"] == "withdrawn", "{v}");
        ensure!(v["history"][0]["withdrawn_via"] == "api", "{v}");
        for (path, body) in [
            ("/api/v1/consents/certification", json!({ "given": true })),
            ("/api/v1/consents/no-such-purpose", json!({ "given": true })),
            (
                "/api/v1/consents/newsletter",
                json!({ "given": true, "extra": 1 }),
            ),
            (
                "/api/v1/consents/newsletter",
                json!({ "given": true, "language": "de" }),
            ),
        ] {
            let (code, answer) = api(&server, &token, Method::PUT, path, Some(body)).await?;
            ensure!(code == 422, "{path}: {code} {answer}");
        }
        let (code, answer) = api(
            &server,
            &token,
            Method::PUT,
            "/api/v1/consents/certification",
            Some(json!({ "given": true })),
        )
        .await?;
        ensure!(
            answer.contains("purpose"),
            "the field is named: {code} {answer}"
        );
        let r = rows(&server, &bert).await?;
        ensure!(r.len() == 1 && r[0][1] == "fr" && r[0][4] == "api", "{r:?}");

        // Every change has its audit record, naming purpose, version and how; no address.
        for (person, gives, withdraws) in
            [(&anna_id, "account", "account"), (&bert_id, "api", "api")]
        {
            let given = audited(&server, "consent.give", person).await?;
            ensure!(given.len() == 1, "{given:?}");
            ensure!(
                given[0].contains("\"newsletter\"") && given[0].contains(gives),
                "{given:?}"
            );
            let withdrawn = audited(&server, "consent.withdraw", person).await?;
            ensure!(
                withdrawn.len() == 1 && withdrawn[0].contains(withdraws),
                "{withdrawn:?}"
            );
            ensure!(!given[0].contains('@') && !withdrawn[0].contains('@'));
        }
        Ok(())
    }
);

databases!(
    /// A newsletter goes to consenting, active people at the text version in force, and to
    /// nobody else; its mails carry the one-click headers; the link refuses what it must and
    /// one-click withdraws.
    async fn newsletter_recipients_and_the_withdrawal_link(b: Backends) {
        let dir = tempfile::tempdir()?;
        let register = register_copy(dir.path())?;
        let clock = dir.path().join("clock");
        let server = builder(b, &register, &clock).start().await?;
        let t = tag(&b);
        let org = server.create_client_org("Beton D NV").await?;
        let staff = format!("staff-{t}@consent.example");
        server.create_user(&staff, "staff").await?;
        let mut people = Vec::new();
        for name in ["yes", "also", "never", "gone", "left", "old"] {
            let email = format!("{name}-{t}@consent.example");
            server.create_user_in(&email, "client_user", &org).await?;
            people.push((name, email.clone(), person_id(&server, &email).await?));
        }
        let email = |n: &str| {
            people
                .iter()
                .find(|(name, _, _)| *name == n)
                .map(|(_, e, _)| e.clone())
                .unwrap_or_default()
        };
        let id = |n: &str| {
            people
                .iter()
                .find(|(name, _, _)| *name == n)
                .map(|(_, _, i)| i.clone())
                .unwrap_or_default()
        };
        for n in ["yes", "also", "gone", "left", "old"] {
            consent_api(&server, &email(n), true, "en").await?;
        }
        consent_api(&server, &email("gone"), false, "en").await?;

        // The consent text moves to version 2: the consents given so far stop counting.
        new_text_version(&register)?;
        server.signal("HUP")?;
        let token = login(&server, &email("old")).await?;
        let mut outdated = false;
        // The reload reads the policy and the register again: slow in a debug build on a
        // busy machine.
        for _ in 0..600 {
            let (_, body) = api(&server, &token, Method::GET, "/api/v1/consents", None).await?;
            if body.contains("\"outdated\"") {
                outdated = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ensure!(
            outdated,
            "the consent to version 1 did not become outdated: {}",
            server.stderr()
        );
        let who = server.sign_in(&email("old"), PASSWORD).await?;
        server.speak(&who, "en").await?;
        let (_, html) = page(&server, &who, "/account/privacy").await?;
        ensure!(html.contains("data-status=\"outdated\""), "{html}");
        ensure!(
            html.contains("id=\"consent-newsletter-give\""),
            "asks to agree again: {html}"
        );
        ensure!(
            html.contains("also from each newsletter"),
            "the new text: {html}"
        );
        // "yes", "also" and "left" agree to version 2; "left" then leaves (deactivated).
        for n in ["yes", "also", "left"] {
            let v = consent_api(&server, &email(n), true, "en").await?;
            ensure!(v["purposes"][0]["status"] == "given", "{v}");
            ensure!(v["history"][1]["withdrawn_via"] == "superseded", "{v}");
        }
        let (status, out, err) = server
            .command(&["user", "deactivate", &email("left")], "")
            .await?;
        ensure!(status.success(), "deactivate: {out} {err}");

        // Not staff: no newsletter page.
        let (code, _) = page(&server, &who, "/newsletter").await?;
        ensure!(code == 404, "{code}");
        let staff_client = server.sign_in(&staff, PASSWORD).await?;
        server.speak(&staff_client, "en").await?;
        let (code, html) = page(&server, &staff_client, "/home").await?;
        ensure!(
            code == 200 && html.contains("href=\"/newsletter\""),
            "not in the navigation"
        );
        let (code, _, html) = post(
            &server,
            &staff_client,
            "/newsletter/confirm",
            &[("subject", ""), ("body", "x")],
        )
        .await?;
        ensure!(
            code == 422 && html.contains("id=\"subject-error\""),
            "{code} {html}"
        );
        let flash = send_newsletter(&server, &staff_client, &format!("Spring {t}")).await?;
        ensure!(flash.contains("queued for 2 recipients"), "{flash}");
        let mut expected = vec![email("also"), email("yes")];
        expected.sort();
        ensure!(
            newsletter_recipients(&server).await? == expected,
            "{:?}",
            newsletter_recipients(&server).await?
        );
        ensure!(
            count(
                &server,
                "SELECT COUNT(*) FROM newsletter WHERE recipients = 2 AND text_version = 2"
            )
            .await?
                == 1
        );
        ensure!(
            count(
                &server,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'newsletter.send'"
            )
            .await?
                == 1
        );
        let (_, html) = page(&server, &staff_client, "/newsletter").await?;
        ensure!(
            html.contains(&format!("Spring {t}")),
            "the list of what was sent"
        );

        // The mails: the one-click headers and the link.
        let env = TestEnv::get();
        // (A privacy notice's version 2 is mailed too: the register changed above.)
        let spring = format!("Spring {t}");
        let yes_mail = wait_for_subject(
            &env.smtp_dir,
            &email("yes"),
            &spring,
            Duration::from_secs(30),
        )
        .await?;
        ensure!(
            yes_mail.subject == format!("Spring {t}"),
            "{}",
            yes_mail.subject
        );
        ensure!(!yes_mail.body.contains("it is not a newsletter"));
        let yes_link = unsubscribe_link(&yes_mail)?;
        let also_mail = wait_for_subject(
            &env.smtp_dir,
            &email("also"),
            &spring,
            Duration::from_secs(30),
        )
        .await?;
        let also_link = unsubscribe_link(&also_mail)?;
        ensure!(
            param(&yes_link, "p")? == id("yes"),
            "the link is the person's own"
        );

        // GET shows a confirmation and changes nothing (mail scanners open links).
        let (code, html) = open(&server, &yes_link).await?;
        ensure!(
            code == 200 && html.contains("id=\"consent-link-withdraw\""),
            "{code} {html}"
        );
        let given = |r: &Vec<Vec<String>>| r.last().is_some_and(|l| l[3].is_empty());
        ensure!(
            given(&rows(&server, &email("yes")).await?),
            "a GET withdrew"
        );

        // Altered, someone else's, cut short, or with another body: refused, nothing changes.
        let token = param(&yes_link, "t")?;
        let mut altered = token.clone().into_bytes();
        let i = altered.len() / 2;
        altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered)?;
        let refusals = [
            (with_param(&yes_link, "t", &altered)?, 403),
            (with_param(&yes_link, "p", &id("also"))?, 403),
            (with_param(&yes_link, "t", &param(&also_link, "t")?)?, 403),
            (with_param(&yes_link, "u", "certification")?, 403),
            (with_param(&yes_link, "t", "")?, 400),
            (with_param(&yes_link, "p", "nobody")?, 400),
        ];
        for (link, status) in &refusals {
            let (code, html) = open(&server, link).await?;
            ensure!(code == *status, "GET {link}: {code} {html}");
            ensure!(!html.contains("id=\"consent-link-withdraw\""), "{html}");
            let (code, _) = one_click(&server, link, "List-Unsubscribe=One-Click").await?;
            ensure!(code == *status, "POST {link}: {code}");
        }
        let (code, _) = one_click(&server, &yes_link, "unsubscribe=yes").await?;
        ensure!(code == 400, "another body: {code}");
        ensure!(
            given(&rows(&server, &email("yes")).await?),
            "a refused link withdrew"
        );
        ensure!(
            given(&rows(&server, &email("also")).await?),
            "a refused link withdrew"
        );

        // Expired: the same genuine link, 181 days later.
        let later = time::OffsetDateTime::now_utc() + time::Duration::days(181);
        std::fs::write(
            &clock,
            later.format(&time::format_description::well_known::Rfc3339)?,
        )?;
        let (code, html) = open(&server, &also_link).await?;
        ensure!(code == 403 && html.contains("expired"), "{code} {html}");
        let (code, _) = one_click(&server, &also_link, "List-Unsubscribe=One-Click").await?;
        ensure!(code == 403, "{code}");
        std::fs::remove_file(&clock)?;
        ensure!(
            given(&rows(&server, &email("also")).await?),
            "an expired link withdrew"
        );

        // One-click (RFC 8058): no session, no CSRF token, withdrawn at once.
        let (code, html) = one_click(&server, &yes_link, "List-Unsubscribe=One-Click").await?;
        ensure!(
            code == 200 && html.contains("Your consent is withdrawn"),
            "{code} {html}"
        );
        let r = rows(&server, &email("yes")).await?;
        ensure!(
            r.last()
                .is_some_and(|l| !l[3].is_empty() && l[4] == "one_click"),
            "{r:?}"
        );
        let withdrawals = audited(&server, "consent.withdraw", &id("yes")).await?;
        ensure!(
            withdrawals.last().is_some_and(|d| d.contains("one_click")),
            "{withdrawals:?}"
        );
        // Again: nothing more to withdraw, still a clear page, no second record.
        let (code, _) = one_click(&server, &yes_link, "List-Unsubscribe=One-Click").await?;
        ensure!(code == 200, "{code}");
        ensure!(
            audited(&server, "consent.withdraw", &id("yes"))
                .await?
                .len()
                == withdrawals.len()
        );
        // The confirmation page's own button.
        let (code, html) = one_click(&server, &also_link, "confirm=yes").await?;
        ensure!(code == 200, "{code} {html}");
        let r = rows(&server, &email("also")).await?;
        ensure!(r.last().is_some_and(|l| l[4] == "mail_link"), "{r:?}");

        // Nobody consents any more: the next newsletter is queued to nobody.
        let flash = send_newsletter(&server, &staff_client, &format!("Summer {t}")).await?;
        ensure!(flash.contains("queued for 0 recipients"), "{flash}");
        ensure!(
            newsletter_recipients(&server).await? == expected,
            "only the first newsletter's mails"
        );
        Ok(())
    }
);

databases!(
    /// Essential mail says why it is sent; it carries no unsubscribe header.
    async fn essential_mail_says_why(b: Backends) {
        let dir = tempfile::tempdir()?;
        let register = register_copy(dir.path())?;
        let clock = dir.path().join("clock");
        let server = builder(b, &register, &clock).start().await?;
        let t = tag(&b);
        let email = format!("forgot-{t}@consent.example");
        server.create_user(&email, "staff").await?;
        let client = server.browser()?;
        let token = server.csrf(&client, "/password/forgot").await?;
        let res = client
            .post(server.url("/password/forgot"))
            .header("origin", server.origin())
            .header("accept-language", "en")
            .form(&[("email", email.as_str()), ("csrf", token.as_str())])
            .send()
            .await?;
        ensure!(res.status() == 200, "{}", res.status());
        let mail = wait_for(&TestEnv::get().smtp_dir, &email, Duration::from_secs(30)).await?;
        // In the person's language (Dutch, as the command line creates them).
        ensure!(
            mail.body.contains(
                "omdat het de beveiliging van uw account betreft; het is geen nieuwsbrief"
            ),
            "{}",
            mail.body
        );
        ensure!(mail.header("List-Unsubscribe").is_none());
        Ok(())
    }
);
