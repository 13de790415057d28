//! The privacy notice and the record of processing activities (issue 16): `/privacy` in Dutch,
//! French and English names every activity of the register (read from the register's file),
//! the coordinator and the supervisory authority, for anyone; a changed register (SIGHUP) makes
//! version 2 while version 1 stays readable as it was, every active person gets a mail and sees
//! a banner until they open the notice; `/privacy/register` is the staff's (refused to a client
//! contact and an inspector), its views and exports audited; `extranet register export` writes
//! the record as JSON, CSV and a printable page in each language.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use extranet_tests::mail::wait_for;
use extranet_tests::{Server, ServerBuilder, TestEnv, databases};

use crate::backoffice_pages::page;
use crate::documents::count;

const LANGS: [&str; 3] = ["nl", "fr", "en"];

/// A copy of `policies/register` in a temporary directory: the test changes it, never the
/// source tree.
fn register_copy() -> anyhow::Result<tempfile::TempDir> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/register");
    let dir = tempfile::tempdir()?;
    for name in ["activities.toml", "retention.toml", "schema.csv"] {
        std::fs::copy(src.join(name), dir.path().join(name)).context(name)?;
    }
    Ok(dir)
}

/// The purposes of the register's activities in `lang`, from the file itself.
fn purposes(dir: &Path, lang: &str) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(dir.join("activities.toml"))?;
    let doc: toml::Value = toml::from_str(&text)?;
    let list = doc
        .get("activity")
        .and_then(|a| a.as_array())
        .context("no [[activity]]")?;
    let out: Vec<String> = list
        .iter()
        .filter_map(|a| a.get("purpose")?.get(lang)?.as_str().map(str::to_owned))
        .collect();
    anyhow::ensure!(
        out.len() == list.len() && !out.is_empty(),
        "purposes in {lang}"
    );
    Ok(out)
}

/// The text of a page as a reader sees it (the entities askama writes, decoded).
fn text(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The export without its `<p class="meta">` line, which names the minute it was made.
fn without_stamp(export: &str) -> String {
    export
        .lines()
        .filter(|l| !l.trim_start().starts_with("<p class=\"meta\">"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A visitor without a session whose browser asks for `lang`.
async fn anonymous(server: &Server, lang: &str, path: &str) -> anyhow::Result<(u16, String)> {
    let res = server
        .browser()?
        .get(server.url(path))
        .header("accept-language", lang)
        .send()
        .await?;
    Ok((res.status().as_u16(), res.text().await?))
}

async fn start(
    b: extranet_tests::Backends,
    register: &Path,
    data: Option<&Path>,
) -> anyhow::Result<Server> {
    let env = TestEnv::get();
    let mut builder = ServerBuilder::new(b)
        .env("EXTRANET_SITE__TIME_ZONE", "UTC")
        .env("EXTRANET_SITE__NAME", "Keurcert VZW")
        .env(
            "EXTRANET_PRIVACY__REGISTER_DIR",
            register.display().to_string(),
        )
        .env(
            "EXTRANET_PRIVACY__COORDINATOR_EMAIL",
            "dpo@keurcert.example",
        )
        .env("EXTRANET_PRIVACY__AUTHORITY_NAME", "Autoriteit Testland")
        .env("EXTRANET_MAIL__TRANSPORT", "smtp")
        .env("EXTRANET_MAIL__SMTP_HOST", "127.0.0.1")
        .env("EXTRANET_MAIL__SMTP_PORT", env.smtp_port.to_string())
        .env("EXTRANET_MAIL__SMTP_TLS", "none")
        .env("EXTRANET_MAIL__POLL_SECS", "1");
    if let Some(d) = data {
        builder = builder.data_dir(d);
    }
    builder.start().await
}

databases!(
    /// The notice for anyone in three languages; the staff's register; a changed register makes
    /// version 2, mailed, with a banner until it is opened; version 1 reads as it was.
    async fn notice_versions_mail_banner_and_register_page(b: Backends) {
        let register = register_copy()?;
        let server = start(b, register.path(), None).await?;
        assert!(
            server
                .stdout()
                .contains("privacy notice version 1 published"),
            "{}",
            server.stdout()
        );

        // Anyone, in their browser's language: every activity, the coordinator, the authority.
        for lang in LANGS {
            let (code, html) = anonymous(&server, lang, "/privacy").await?;
            assert_eq!(code, 200, "{lang}: {html}");
            assert!(html.contains(&format!("<html lang=\"{lang}\"")), "{lang}");
            let shown = text(&html);
            for purpose in purposes(register.path(), lang)? {
                assert!(shown.contains(&purpose), "{lang}: {purpose} missing");
            }
            assert!(
                shown.contains("dpo@keurcert.example"),
                "{lang}: coordinator"
            );
            assert!(shown.contains("Autoriteit Testland"), "{lang}: authority");
            assert!(shown.contains("Keurcert VZW"), "{lang}: controller");
            assert!(html.contains("href=\"/subprocessors\""), "{lang}");
            assert!(html.contains("href=\"/account\""), "{lang}: rights");
            let basis = match lang {
                "nl" => "AVG art. 6, lid 1, b)",
                "fr" => "RGPD art. 6, par. 1, b)",
                _ => "GDPR Art. 6(1)(b)",
            };
            assert!(shown.contains(basis), "{lang}: the basis letter");
            let years = match lang {
                "nl" => "jaar na het einde",
                "fr" => "ans après la fin",
                _ => "years after the end",
            };
            assert!(shown.contains(years), "{lang}: retention in words");
        }
        // Linked from the sign-in page and every page's footer.
        let (_, login) = anonymous(&server, "en", "/login").await?;
        assert!(login.contains("href=\"/privacy\""), "sign-in page");
        let (_, home) = anonymous(&server, "en", "/").await?;
        assert!(home.contains("id=\"footer-privacy\""), "footer");

        // The people of this run (the SMTP sink is shared).
        let tag = format!("pn{}", uuid::Uuid::new_v4().simple());
        let org = server.create_client_org("Hoogwerkers NV").await?;
        let client = format!("ca@{tag}.example");
        let staff = format!("staff@{tag}.example");
        let inspector = format!("insp@{tag}.example");
        let password = server.create_user_in(&client, "client_admin", &org).await?;
        server.create_user(&staff, "staff").await?;
        server.create_user(&inspector, "inspector").await?;

        // The register's page: the staff's, refused to a client contact and an inspector.
        for email in [&client, &inspector] {
            let who = server.sign_in(email, &password).await?;
            for path in [
                "/privacy/register",
                "/privacy/register.json",
                "/privacy/register.csv",
                "/privacy/register/print",
            ] {
                let (code, _) = page(&server, &who, path).await?;
                assert!(code == 404 || code == 403, "{email} {path}: {code}");
            }
            let (_, home) = page(&server, &who, "/home").await?;
            assert!(
                !home.contains("href=\"/privacy/register\""),
                "{email}: menu"
            );
        }
        let st = server.sign_in(&staff, &password).await?;
        let (_, home) = page(&server, &st, "/home").await?;
        assert!(home.contains("href=\"/privacy/register\""), "staff: menu");
        assert!(
            !home.contains("id=\"privacy-banner\""),
            "no banner before a change"
        );
        for lang in LANGS {
            server.speak(&st, lang).await?;
            let (code, html) = page(&server, &st, "/privacy/register").await?;
            assert_eq!(code, 200, "{lang}: {html}");
            let shown = text(&html);
            for purpose in purposes(register.path(), lang)? {
                assert!(shown.contains(&purpose), "{lang}: {purpose} missing");
            }
            for link in [
                "/privacy/register.json",
                "/privacy/register.csv",
                "/privacy/register/print",
            ] {
                assert!(html.contains(&format!("href=\"{link}\"")), "{lang}: {link}");
                let (code, body) = page(&server, &st, link).await?;
                assert_eq!(code, 200, "{lang} {link}");
                let shown = text(&body);
                let first = purposes(register.path(), lang)?.remove(0);
                assert!(shown.contains(&first), "{lang} {link}");
            }
        }
        assert_eq!(
            count(
                &server,
                "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'register.read'"
            )
            .await?,
            3
        );
        assert_eq!(
            count(
                &server,
                "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'register.export'"
            )
            .await?,
            9
        );

        // The register changes: SIGHUP publishes version 2.
        let activities = register.path().join("activities.toml");
        let old = purposes(register.path(), "en")?.remove(0);
        let new = format!("{old}, and keeping certificates verifiable ({tag})");
        let changed = std::fs::read_to_string(&activities)?.replacen(
            &format!("en = \"{old}\""),
            &format!("en = \"{new}\""),
            1,
        );
        std::fs::write(&activities, changed)?;
        server.signal("HUP")?;
        let out = server
            .stdout_until(
                "privacy notice version 2 published",
                Duration::from_secs(30),
            )
            .await;
        assert!(out.contains("privacy notice version 2 published"), "{out}");
        // A second reload of the same register publishes nothing.
        server.signal("HUP")?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            count(&server, "SELECT CAST(COUNT(*) AS TEXT) FROM privacy_notice").await?,
            2
        );

        let (code, html) = anonymous(&server, "en", "/privacy").await?;
        assert_eq!(code, 200);
        assert!(text(&html).contains(&new), "the new text");
        let (code, html) = anonymous(&server, "en", "/privacy/versions").await?;
        assert_eq!(code, 200);
        assert!(html.contains("href=\"/privacy/versions/1\""), "{html}");
        assert!(html.contains("href=\"/privacy/versions/2\""), "{html}");
        let (code, html) = anonymous(&server, "en", "/privacy/versions/1").await?;
        assert_eq!(code, 200);
        let shown = text(&html);
        assert!(
            shown.contains(&old) && !shown.contains(&new),
            "version 1 as it was"
        );
        assert!(html.contains("id=\"privacy-earlier\""), "marked as earlier");
        let (code, _) = anonymous(&server, "en", "/privacy/versions/9").await?;
        assert_eq!(code, 404);

        // Every active person gets a mail, in their language: Dutch (the default of `user
        // create`), English for the staff member who last switched to it.
        for (email, subject, essential) in [
            (
                &client,
                "privacyverklaring",
                "essentiële juridische kennisgeving",
            ),
            (
                &inspector,
                "privacyverklaring",
                "essentiële juridische kennisgeving",
            ),
            (
                &staff,
                "privacy notice has changed",
                "essential legal notice",
            ),
        ] {
            let mail = wait_for(&TestEnv::get().smtp_dir, email, Duration::from_secs(60)).await?;
            assert!(mail.subject.contains(subject), "{email}: {}", mail.subject);
            assert!(mail.subject.contains('2'), "{email}: {}", mail.subject);
            assert!(mail.body.contains("/privacy"), "{email}: {}", mail.body);
            assert!(mail.body.contains(essential), "{email}");
        }
        assert_eq!(
            count(
                &server,
                "SELECT CAST(COUNT(*) AS TEXT) FROM outbox WHERE template = 'privacy-notice'"
            )
            .await?,
            3
        );

        // The banner, until the notice is opened.
        let (_, home) = page(&server, &st, "/home").await?;
        assert!(
            home.contains("id=\"privacy-banner\""),
            "banner after the change"
        );
        let (code, _) = page(&server, &st, "/privacy").await?;
        assert_eq!(code, 200);
        let (_, home) = page(&server, &st, "/home").await?;
        assert!(
            !home.contains("id=\"privacy-banner\""),
            "banner gone once read"
        );
        // The client contact still has it.
        let ca = server.sign_in(&client, &password).await?;
        let (_, home) = page(&server, &ca, "/home").await?;
        assert!(
            home.contains("id=\"privacy-banner\""),
            "the client's banner"
        );
        assert_eq!(
            count(
                &server,
                "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'privacy.notice.publish'"
            )
            .await?,
            2
        );
        server.stop().await?;
        Ok(())
    }
);

databases!(
    /// `extranet register export` in each format and language: every activity's purpose.
    async fn register_export_command(b: Backends) {
        let register = register_copy()?;
        let server = start(b, register.path(), None).await?;
        let out_dir = tempfile::tempdir()?;
        for lang in LANGS {
            let expected = purposes(register.path(), lang)?;
            for format in ["json", "csv", "html"] {
                let file: PathBuf = out_dir.path().join(format!("record-{lang}.{format}"));
                let file_arg = file.display().to_string();
                let (status, stdout, stderr) = server
                    .command(
                        &["register", "export", "--format", format, "--lang", lang],
                        "",
                    )
                    .await?;
                assert!(status.success(), "{format} {lang}: {stderr}");
                let (status, _, stderr) = server
                    .command(
                        &[
                            "register", "export", "--format", format, "--lang", lang, "--output",
                            &file_arg,
                        ],
                        "",
                    )
                    .await?;
                assert!(status.success(), "{format} {lang} to a file: {stderr}");
                // The same record either way; the page's "generated" minute may differ when the
                // two runs straddle a minute.
                assert_eq!(
                    without_stamp(&std::fs::read_to_string(&file)?),
                    without_stamp(&stdout),
                    "{format} {lang}"
                );
                match format {
                    "json" => {
                        let v: serde_json::Value = serde_json::from_str(&stdout)?;
                        assert_eq!(v["language"], lang);
                        let got: Vec<&str> = v["activities"]
                            .as_array()
                            .context("activities")?
                            .iter()
                            .filter_map(|a| a["purpose"].as_str())
                            .collect();
                        assert_eq!(got, expected, "json {lang}");
                    }
                    "csv" => {
                        // A header and one row per activity (purposes hold no line breaks).
                        for p in &expected {
                            assert!(stdout.contains(p.as_str()), "csv {lang}: {p}");
                        }
                    }
                    _ => {
                        assert!(stdout.starts_with("<!DOCTYPE html>"), "html {lang}");
                        assert!(stdout.contains(&format!("<html lang=\"{lang}\">")));
                        assert!(stdout.contains("<style>"), "the file carries its style");
                        let shown = text(&stdout);
                        for p in &expected {
                            assert!(shown.contains(p.as_str()), "html {lang}: {p}");
                        }
                    }
                }
            }
        }
        // Wrong words are refused, naming the option.
        let (status, _, stderr) = server
            .command(&["register", "export", "--format", "xml"], "")
            .await?;
        assert!(!status.success() && stderr.contains("--format"), "{stderr}");
        let (status, _, stderr) = server
            .command(&["register", "export", "--lang", "de"], "")
            .await?;
        assert!(!status.success() && stderr.contains("--lang"), "{stderr}");
        assert_eq!(
            count(
                &server,
                "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'register.export'"
            )
            .await?,
            18
        );
        server.stop().await?;
        Ok(())
    }
);
