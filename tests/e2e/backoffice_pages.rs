//! The back office in the browser (issue 14): staff open and edit certification files, change a
//! certificate's status with a reason (history and audit record with the client address),
//! assign an inspector and end the assignment, see assignments on `/staff/assignments`, and
//! resend or withdraw pending invitations — all through the pages' forms, with bad input coming
//! back on the form (422, message next to the field, nothing written) and anyone else refused.

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, matrix};
use reqwest::Client;

use crate::auth::sql_rows;

const PASSWORD: &str = crate::access::PASSWORD;

async fn count(server: &Server, sql: &str) -> anyhow::Result<i64> {
    let rows = sql_rows(server, &format!("SELECT CAST(({sql}) AS TEXT)")).await?;
    Ok(rows[0][0].parse().unwrap_or(-1))
}

/// Posts a form as the page would, with the browser's CSRF token: (status, location, body).
pub(crate) async fn post(
    server: &Server,
    who: &Client,
    path: &str,
    fields: &[(&str, &str)],
) -> anyhow::Result<(u16, String, String)> {
    let token = server.csrf(who, "/account").await?;
    let mut form: Vec<(&str, &str)> = fields.to_vec();
    form.push(("csrf", token.as_str()));
    let res = who
        .post(server.url(path))
        .header("origin", server.origin())
        .form(&form)
        .send()
        .await?;
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((status, location, res.text().await?))
}

pub(crate) async fn page(
    server: &Server,
    who: &Client,
    path: &str,
) -> anyhow::Result<(u16, String)> {
    let res = who.get(server.url(path)).send().await?;
    Ok((res.status().as_u16(), res.text().await?))
}

/// The audit records of `action`, oldest first: (actor, ip).
async fn audited(server: &Server, action: &str) -> anyhow::Result<Vec<Vec<String>>> {
    sql_rows(
        server,
        &format!(
            "SELECT CAST(actor_id AS TEXT), CAST(actor_ip AS TEXT) FROM audit_log \
             WHERE action = '{action}' ORDER BY seq"
        ),
    )
    .await
}

/// A signed-up person's id, as the API tells them.
async fn person_id(server: &Server, email: &str) -> anyhow::Result<String> {
    let token = crate::access::login(server, email).await?;
    let (_, me) =
        crate::access::api(server, &token, reqwest::Method::GET, "/api/v1/me", None).await?;
    let me: serde_json::Value = serde_json::from_str(&me)?;
    Ok(me["id"].as_str().context("id")?.to_owned())
}

/// The id of the invited person whose row on the page has a "send again" button.
fn invited_id(html: &str, email: &str) -> anyhow::Result<String> {
    let row = html
        .split("<tr data-id=\"")
        .find(|r| r.split("</tr>").next().unwrap_or_default().contains(email))
        .with_context(|| format!("no invitation of {email}: {html}"))?;
    Ok(row.split('"').next().unwrap_or_default().to_owned())
}

/// The text of the element with this id (up to its closing tag's start).
fn element<'a>(html: &'a str, id: &str) -> &'a str {
    html.split(&format!("id=\"{id}\""))
        .nth(1)
        .map(|s| s.split("</section>").next().unwrap_or(s))
        .unwrap_or("")
}

/// Opens a certification file for `org` through the list page's form; its id.
async fn open_file(
    server: &Server,
    staff: &Client,
    org: &str,
    scheme: &str,
    status: &str,
) -> anyhow::Result<String> {
    let (code, location, body) = post(
        server,
        staff,
        "/dossiers",
        &[
            ("organisation_id", org),
            ("scheme", scheme),
            ("certificate_number", ""),
            ("status", status),
            ("valid_from", "2026-01-01"),
            ("valid_until", "2028-12-31"),
        ],
    )
    .await?;
    anyhow::ensure!(code == 303, "{code}: {body}");
    Ok(location
        .strip_prefix("/dossiers/")
        .context("redirect to the file")?
        .to_owned())
}

matrix!(
    /// Open, edit and change the status of a certification file through the forms; bad input is
    /// a 422 with the message next to its field and nothing written; a company's contact sees
    /// no form and is refused.
    async fn staff_open_edit_and_change_the_status_of_a_file(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let org = server.create_client_org("Beton A NV").await?;
        server.create_user("staff@cb.example", "staff").await?;
        server
            .create_user_in("ca@a.example", "client_admin", &org)
            .await?;
        let staff = server.sign_in("staff@cb.example", PASSWORD).await?;
        server.speak(&staff, "en").await?;
        let staff_id = person_id(&server, "staff@cb.example").await?;
        let files = "SELECT count(*) FROM dossier";

        // The form is on the list, the company chosen by its name.
        let (code, html) = page(&server, &staff, "/dossiers").await?;
        assert_eq!(code, 200);
        assert!(html.contains("id=\"dossier-create\""), "{html}");
        assert!(
            html.contains(&format!("<option value=\"{org}\">Beton A NV</option>")),
            "{html}"
        );
        // And on the company's staff page.
        let (_, html) = page(&server, &staff, &format!("/staff/organisations/{org}")).await?;
        assert!(html.contains("id=\"dossier-create\""), "{html}");
        assert!(
            html.contains(&format!("name=\"organisation_id\" value=\"{org}\"")),
            "{html}"
        );

        // Bad input: back on the form, the message next to the field, what was typed kept.
        for (fields, field, message) in [
            (
                [("scheme", "  "), ("valid_from", ""), ("valid_until", "")],
                "scheme",
                "Enter the certification scheme",
            ),
            (
                [
                    ("scheme", "ISO <9001>"),
                    ("valid_from", "2026-13-40"),
                    ("valid_until", ""),
                ],
                "valid_from",
                "Enter a date",
            ),
            (
                [
                    ("scheme", "ISO <9001>"),
                    ("valid_from", "2027-01-01"),
                    ("valid_until", "2026-01-01"),
                ],
                "valid_until",
                "The end of validity cannot come before its start.",
            ),
        ] {
            let mut form = vec![
                ("organisation_id", org.as_str()),
                ("certificate_number", "BE-4711"),
                ("status", "application"),
            ];
            form.extend(fields);
            let (code, _, html) = post(&server, &staff, "/dossiers", &form).await?;
            assert_eq!(code, 422, "{field}: {html}");
            let error = html
                .split(&format!("id=\"{field}-error\">"))
                .nth(1)
                .unwrap_or_default();
            assert!(error.starts_with(message), "{field}: {html}");
            assert!(html.contains("value=\"BE-4711\""), "input kept: {html}");
            assert!(
                html.contains(&format!("<option value=\"{org}\" selected>")),
                "company kept: {html}"
            );
            assert_eq!(
                count(&server, files).await?,
                0,
                "{field}: a file was written"
            );
        }
        // No company chosen.
        let (code, _, html) = post(
            &server,
            &staff,
            "/dossiers",
            &[
                ("organisation_id", ""),
                ("scheme", "ISO 9001"),
                ("status", "application"),
            ],
        )
        .await?;
        assert_eq!(code, 422);
        assert!(html.contains("id=\"organisation_id-error\""), "{html}");
        assert_eq!(count(&server, files).await?, 0);

        // Opened: the file's page says so.
        let id = open_file(&server, &staff, &org, "ISO 9001", "application").await?;
        let file = format!("/dossiers/{id}");
        let (_, html) = page(&server, &staff, &file).await?;
        assert!(
            html.contains("The certification file has been opened."),
            "{html}"
        );
        assert!(html.contains("31 December 2028"), "dates in words: {html}");
        assert!(html.contains(&format!("href=\"{file}/edit\"")), "{html}");
        assert!(html.contains(&format!("href=\"{file}/status\"")), "{html}");
        let created = audited(&server, "dossier.create").await?;
        assert_eq!(created, vec![vec![staff_id.clone(), "127.0.0.1".into()]]);

        // Edited: bad input changes nothing; then saved.
        let (code, html) = page(&server, &staff, &format!("{file}/edit")).await?;
        assert_eq!(code, 200);
        assert!(html.contains("value=\"ISO 9001\""), "{html}");
        assert!(html.contains("value=\"2028-12-31\""), "{html}");
        let (code, _, html) = post(
            &server,
            &staff,
            &format!("{file}/edit"),
            &[
                ("scheme", "ISO 14001"),
                ("certificate_number", "BE-1"),
                ("valid_from", "2029-01-01"),
                ("valid_until", "2028-12-31"),
            ],
        )
        .await?;
        assert_eq!(code, 422, "{html}");
        assert!(html.contains("id=\"valid_until-error\""), "{html}");
        assert!(html.contains("value=\"ISO 14001\""), "{html}");
        let stored = sql_rows(&server, "SELECT scheme FROM dossier").await?;
        assert_eq!(stored[0][0], "ISO 9001", "a refused edit was written");
        let (code, location, _) = post(
            &server,
            &staff,
            &format!("{file}/edit"),
            &[
                ("scheme", "ISO 14001"),
                ("certificate_number", "BE-1"),
                ("valid_from", "2026-01-01"),
                ("valid_until", "2028-12-31"),
            ],
        )
        .await?;
        assert_eq!((code, location.as_str()), (303, file.as_str()));
        let (_, html) = page(&server, &staff, &file).await?;
        assert!(html.contains("The changes to the certification file have been saved."));
        assert!(html.contains("ISO 14001"), "{html}");
        assert_eq!(audited(&server, "dossier.update").await?[0][1], "127.0.0.1");

        // Status: a reason is required; granting needs no confirmation.
        let status = format!("{file}/status");
        let (code, html) = page(&server, &staff, &status).await?;
        assert_eq!(code, 200);
        assert!(html.contains("<option value=\"active\""), "{html}");
        assert!(!html.contains("<option value=\"suspended\""), "{html}");
        let (code, _, html) = post(
            &server,
            &staff,
            &status,
            &[("status", "active"), ("reason", "   ")],
        )
        .await?;
        assert_eq!(code, 422);
        assert!(html.contains("id=\"reason-error\">Give a reason"), "{html}");
        assert_eq!(
            count(&server, "SELECT count(*) FROM dossier_status_change").await?,
            0
        );
        let (code, location, _) = post(
            &server,
            &staff,
            &status,
            &[("status", "active"), ("reason", "Audit passed")],
        )
        .await?;
        assert_eq!((code, location.as_str()), (303, file.as_str()));

        // Suspending asks first, and the question changes nothing.
        let (code, _, html) = post(
            &server,
            &staff,
            &status,
            &[
                ("status", "suspended"),
                ("reason", "Missed <the> surveillance audit"),
            ],
        )
        .await?;
        assert_eq!(code, 200);
        assert!(
            html.contains("Suspend the certificate of ISO 14001 — Beton A NV?"),
            "{html}"
        );
        assert!(html.contains("name=\"confirmed\" value=\"1\""), "{html}");
        assert!(html.contains(&format!("href=\"{file}\"")), "a way back");
        let now = sql_rows(&server, "SELECT status FROM dossier").await?;
        assert_eq!(now[0][0], "active", "suspended before confirmation");
        let (code, location, _) = post(
            &server,
            &staff,
            &status,
            &[
                ("status", "suspended"),
                ("reason", "Missed <the> surveillance audit"),
                ("confirmed", "1"),
            ],
        )
        .await?;
        assert_eq!((code, location.as_str()), (303, file.as_str()));
        let (_, html) = page(&server, &staff, &file).await?;
        assert!(html.contains("The certificate is suspended"), "{html}");
        let history = element(&html, "status-history");
        assert!(history.contains("Certified → Suspended"), "{history}");
        assert!(history.contains("Application → Certified"), "{history}");
        assert!(history.contains("By Test Persoon on "), "{history}");
        assert!(
            history.contains("Missed &lt;the&gt; surveillance audit")
                || history.contains("Missed &#60;the&#62; surveillance audit"),
            "{history}"
        );
        assert!(
            !history.contains("T1") && !history.contains("+00:00"),
            "{history}"
        );
        let changes = sql_rows(
            &server,
            "SELECT from_status, to_status, reason FROM dossier_status_change \
             ORDER BY changed_at, id",
        )
        .await?;
        assert_eq!(changes.len(), 2, "{changes:?}");
        assert_eq!(
            changes[1],
            ["active", "suspended", "Missed <the> surveillance audit"]
        );
        let audit = audited(&server, "dossier.status").await?;
        assert_eq!(audit.len(), 2);
        for row in audit {
            assert_eq!(row, vec![staff_id.clone(), "127.0.0.1".to_owned()]);
        }

        // A company's primary contact sees the file but no form, and is refused.
        let ca = server.sign_in("ca@a.example", PASSWORD).await?;
        let (code, html) = page(&server, &ca, &file).await?;
        assert_eq!(code, 200);
        for form in ["dossier-edit-link", "dossier-status-link", "assign-form"] {
            assert!(!html.contains(form), "{form} shown to a client: {html}");
        }
        let (_, html) = page(&server, &ca, "/dossiers").await?;
        assert!(!html.contains("dossier-create"), "{html}");
        for path in [format!("{file}/edit"), status.clone()] {
            assert_eq!(page(&server, &ca, &path).await?.0, 403, "{path}");
        }
        for (path, fields) in [
            (
                "/dossiers".to_owned(),
                vec![
                    ("organisation_id", org.as_str()),
                    ("scheme", "X"),
                    ("status", "active"),
                ],
            ),
            (
                format!("{file}/edit"),
                vec![("scheme", "Hacked"), ("certificate_number", "")],
            ),
            (
                status.clone(),
                vec![("status", "withdrawn"), ("reason", "x"), ("confirmed", "1")],
            ),
        ] {
            let (code, _, _) = post(&server, &ca, &path, &fields).await?;
            assert_eq!(code, 403, "{path}");
        }
        assert_eq!(count(&server, files).await?, 1);
        let stored = sql_rows(&server, "SELECT scheme, status FROM dossier").await?;
        assert_eq!(stored[0], ["ISO 14001", "suspended"]);

        // The message is in the person's language.
        server.speak(&staff, "nl").await?;
        let (code, _, html) = post(
            &server,
            &staff,
            &status,
            &[("status", "active"), ("reason", "")],
        )
        .await?;
        assert_eq!(code, 422);
        assert!(
            html.contains("id=\"reason-error\">Geef een reden"),
            "{html}"
        );
        server.stop().await
    }
);

matrix!(
    /// An inspector assigned on the file's page and the assignment ended after a confirmation;
    /// `/staff/assignments` lists it with names and links that lead somewhere; others refused.
    async fn staff_assign_an_inspector_and_end_the_assignment(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let org = server.create_client_org("Prefab B BV").await?;
        server.create_user("staff@cb.example", "staff").await?;
        server.create_user("insp@cb.example", "inspector").await?;
        server
            .create_user_in("ca@b.example", "client_admin", &org)
            .await?;
        let staff = server.sign_in("staff@cb.example", PASSWORD).await?;
        server.speak(&staff, "en").await?;
        let insp_id = person_id(&server, "insp@cb.example").await?;
        let id = open_file(&server, &staff, &org, "BENOR beton", "active").await?;
        let file = format!("/dossiers/{id}");
        let assign = format!("{file}/assignments");
        let assignments = "SELECT count(*) FROM assignment";

        let (_, html) = page(&server, &staff, &file).await?;
        assert!(html.contains("id=\"assign-form\""), "{html}");
        assert!(
            html.contains(&format!(
                "<option value=\"{insp_id}\">Test Persoon</option>"
            )),
            "the inspector by name: {html}"
        );
        let today = time::OffsetDateTime::now_utc().date();
        let soon = (today + time::Duration::days(10)).to_string();
        let later = (today + time::Duration::days(100)).to_string();
        let much_later = (today + time::Duration::days(200)).to_string();
        let yesterday = (today - time::Duration::days(1)).to_string();

        // Refused: no inspector; a period that ends before it starts; someone not an inspector.
        let staff_id = person_id(&server, "staff@cb.example").await?;
        for (who, from, until, field) in [
            ("", yesterday.as_str(), soon.as_str(), "inspector_id"),
            (
                insp_id.as_str(),
                soon.as_str(),
                yesterday.as_str(),
                "ends_on",
            ),
            (
                staff_id.as_str(),
                yesterday.as_str(),
                soon.as_str(),
                "inspector_id",
            ),
            (insp_id.as_str(), "someday", soon.as_str(), "starts_on"),
        ] {
            let (code, _, html) = post(
                &server,
                &staff,
                &assign,
                &[
                    ("inspector_id", who),
                    ("starts_on", from),
                    ("ends_on", until),
                ],
            )
            .await?;
            assert_eq!(code, 422, "{field}: {html}");
            assert!(
                html.contains(&format!("id=\"{field}-error\"")),
                "{field}: {html}"
            );
            assert!(html.contains(&format!("value=\"{until}\"")), "kept: {html}");
            assert_eq!(count(&server, assignments).await?, 0, "{field}");
        }

        // In force now and ending soon; another one planned.
        for (from, until) in [(&yesterday, &soon), (&later, &much_later)] {
            let (code, location, body) = post(
                &server,
                &staff,
                &assign,
                &[
                    ("inspector_id", insp_id.as_str()),
                    ("starts_on", from),
                    ("ends_on", until),
                ],
            )
            .await?;
            assert_eq!((code, location.as_str()), (303, file.as_str()), "{body}");
        }
        let (_, html) = page(&server, &staff, &file).await?;
        assert!(html.contains("The inspector has been assigned."), "{html}");
        let table = element(&html, "assignments");
        assert!(table.contains("Test Persoon"), "{table}");
        assert!(
            table.contains("In force") && table.contains("Planned"),
            "{table}"
        );
        let made = audited(&server, "assignment.create").await?;
        assert_eq!(made.len(), 2);
        assert_eq!(made[0], vec![staff_id.clone(), "127.0.0.1".to_owned()]);

        // The overview, from the navigation.
        let (_, home) = page(&server, &staff, "/home").await?;
        assert!(home.contains("href=\"/staff/assignments\""), "{home}");
        let (code, html) = page(&server, &staff, "/staff/assignments").await?;
        assert_eq!(code, 200);
        for section in ["ending", "current", "planned"] {
            let part = element(&html, section);
            assert!(part.contains("Test Persoon"), "{section}: {part}");
            assert!(part.contains("Prefab B BV"), "{section}: {part}");
            assert!(part.contains("BENOR beton"), "{section}: {part}");
            assert!(
                part.contains(&format!("href=\"{file}\"")),
                "{section}: {part}"
            );
        }
        assert!(!html.contains("T00:00"), "moments in words: {html}");
        // No link on the page leads nowhere.
        for href in html.split("href=\"").skip(1) {
            let href = href.split('"').next().unwrap_or_default();
            if href.starts_with('/') && !href.starts_with("/static/") && href != "/logout" {
                let code = page(&server, &staff, href).await?.0;
                assert_ne!(code, 404, "{href}");
            }
        }

        // Ending one: the link asks first; the question changes nothing.
        let (_, html) = page(&server, &staff, &file).await?;
        let end = html
            .split("href=\"/staff/assignments/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("an end link")?;
        let end = format!("/staff/assignments/{end}");
        let (code, html) = page(&server, &staff, &end).await?;
        assert_eq!(code, 200);
        assert!(
            html.contains("End the assignment of Test Persoon?"),
            "{html}"
        );
        assert_eq!(
            count(
                &server,
                "SELECT count(*) FROM assignment WHERE ended_by IS NOT NULL"
            )
            .await?,
            0
        );
        // Not for a company's contact, nor for the inspector.
        let ca = server.sign_in("ca@b.example", PASSWORD).await?;
        let insp = server.sign_in("insp@cb.example", PASSWORD).await?;
        for who in [&ca, &insp] {
            assert_eq!(page(&server, who, "/staff/assignments").await?.0, 404);
            let (_, html) = page(&server, who, &file).await?;
            assert!(
                !html.contains("assign-form") && !html.contains("/end\""),
                "{html}"
            );
            let (code, _, _) = post(&server, who, &end, &[]).await?;
            assert!(code == 403 || code == 404, "{code}");
            let (code, _, _) = post(
                &server,
                who,
                &assign,
                &[
                    ("inspector_id", insp_id.as_str()),
                    ("starts_on", yesterday.as_str()),
                    ("ends_on", soon.as_str()),
                ],
            )
            .await?;
            assert!(code == 403 || code == 404, "{code}");
        }
        assert_eq!(count(&server, assignments).await?, 2);
        let (code, location, _) = post(&server, &staff, &end, &[]).await?;
        assert_eq!((code, location.as_str()), (303, file.as_str()));
        let (_, html) = page(&server, &staff, &file).await?;
        assert!(html.contains("The assignment has ended"), "{html}");
        assert_eq!(
            count(
                &server,
                "SELECT count(*) FROM assignment WHERE ended_by IS NOT NULL"
            )
            .await?,
            1
        );
        let ended = audited(&server, "assignment.end").await?;
        assert_eq!(ended, vec![vec![staff_id, "127.0.0.1".to_owned()]]);
        server.stop().await
    }
);

matrix!(
    /// Pending invitations on the staff's organisation page and on the primary contact's
    /// company page, resent and withdrawn (after a confirmation) with a message after each;
    /// another company's contact is refused.
    async fn invitations_resent_and_withdrawn_through_the_pages(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_MAIL__POLL_SECS", "1")
            .start()
            .await?;
        let org = server.create_client_org("Beton A NV").await?;
        let other = server.create_client_org("Prefab B BV").await?;
        server.create_user("staff@cb.example", "staff").await?;
        server
            .create_user_in("ca@a.example", "client_admin", &org)
            .await?;
        server
            .create_user_in("cb@b.example", "client_admin", &other)
            .await?;
        let staff = server.sign_in("staff@cb.example", PASSWORD).await?;
        server.speak(&staff, "en").await?;
        let org_page = format!("/staff/organisations/{org}");
        for email in ["wim@a.example", "an@a.example"] {
            let (code, _, body) = post(
                &server,
                &staff,
                &org_page,
                &[
                    ("first_name", "Wim"),
                    ("surname", "Wouters"),
                    ("email", email),
                    ("language", "nl"),
                    ("role", "client_user"),
                ],
            )
            .await?;
            assert_eq!(code, 303, "{body}");
        }
        let (_, html) = page(&server, &staff, &org_page).await?;
        let wim = invited_id(&html, "wim@a.example")?;
        let an = invited_id(&html, "an@a.example")?;
        let pending = element(&html, "invitations");
        assert!(pending.contains("wim@a.example") && pending.contains("an@a.example"));
        assert!(
            pending.contains(&format!("id=\"resend-{wim}\"")),
            "{pending}"
        );
        assert!(
            pending.contains(&format!("href=\"/invitations/{wim}/withdraw\"")),
            "{pending}"
        );

        // Resent by staff: back on the organisation's page with a message.
        let links = "SELECT count(*) FROM one_time_token t JOIN person p ON p.id = t.person_id \
            WHERE p.email = 'wim@a.example' AND t.purpose = 'invitation'";
        let before = count(&server, links).await?;
        let (code, location, _) =
            post(&server, &staff, &format!("/invitations/{wim}/resend"), &[]).await?;
        assert_eq!((code, location.as_str()), (303, org_page.as_str()));
        let (_, html) = page(&server, &staff, &org_page).await?;
        assert!(
            html.contains("The invitation has been sent again"),
            "{html}"
        );
        assert_eq!(count(&server, links).await?, before + 1);
        assert_eq!(
            audited(&server, "invitation.resend").await?[0][1],
            "127.0.0.1"
        );

        // Another company's contact: not theirs.
        let cb = server.sign_in("cb@b.example", PASSWORD).await?;
        assert_eq!(
            page(&server, &cb, &format!("/invitations/{wim}/withdraw"))
                .await?
                .0,
            404
        );
        for action in ["resend", "withdraw"] {
            let (code, _, _) =
                post(&server, &cb, &format!("/invitations/{wim}/{action}"), &[]).await?;
            assert_eq!(code, 404, "{action}");
        }
        let (_, html) = page(&server, &cb, "/company").await?;
        assert!(!html.contains("wim@a.example"), "{html}");

        // The company's primary contact sees them on the company page and withdraws one.
        let ca = server.sign_in("ca@a.example", PASSWORD).await?;
        server.speak(&ca, "fr").await?;
        let (_, html) = page(&server, &ca, "/company").await?;
        let pending = element(&html, "invitations");
        assert!(pending.contains("Invitations en attente"), "{pending}");
        assert!(pending.contains("wim@a.example"), "{pending}");
        let withdraw = format!("/invitations/{wim}/withdraw");
        let (code, html) = page(&server, &ca, &withdraw).await?;
        assert_eq!(code, 200);
        assert!(
            html.contains("Retirer l'invitation de Wim Wouters")
                || html.contains("Retirer l&#39;invitation de Wim Wouters"),
            "{html}"
        );
        assert_eq!(
            count(
                &server,
                "SELECT count(*) FROM person WHERE email = 'wim@a.example'"
            )
            .await?,
            1
        );
        let (code, location, _) = post(&server, &ca, &withdraw, &[]).await?;
        assert_eq!((code, location.as_str()), (303, "/company"));
        let (_, html) = page(&server, &ca, "/company").await?;
        assert!(html.contains("invitation est retirée"), "{html}");
        assert!(!html.contains("wim@a.example"), "{html}");
        assert_eq!(
            count(
                &server,
                "SELECT count(*) FROM person WHERE email = 'wim@a.example'"
            )
            .await?,
            0
        );

        // Staff withdraw the other one from the organisation's page.
        let (code, location, _) =
            post(&server, &staff, &format!("/invitations/{an}/withdraw"), &[]).await?;
        assert_eq!((code, location.as_str()), (303, org_page.as_str()));
        let (_, html) = page(&server, &staff, &org_page).await?;
        assert!(
            html.contains("The invitation has been withdrawn."),
            "{html}"
        );
        assert!(element(&html, "invitations").contains("No invitation is waiting"));
        let withdrawn = audited(&server, "invitation.withdraw").await?;
        assert_eq!(withdrawn.len(), 2);
        assert!(
            withdrawn.iter().all(|r| r[1] == "127.0.0.1"),
            "{withdrawn:?}"
        );
        server.stop().await
    }
);

matrix!(
    /// The staff's organisation page creates and (de)activates through the directory: each
    /// change has its audit record with the actor and the client address; the page lists the
    /// organisation's people and certification files.
    async fn organisations_created_and_deactivated_with_the_client_address(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        server.create_user("staff@cb.example", "staff").await?;
        let staff = server.sign_in("staff@cb.example", PASSWORD).await?;
        server.speak(&staff, "en").await?;
        let staff_id = person_id(&server, "staff@cb.example").await?;
        let (code, location, body) = post(
            &server,
            &staff,
            "/staff/organisations",
            &[
                ("name", "Verhuur C BV"),
                ("kind", "rental"),
                ("enterprise_number", "0403.170.701"),
                ("vat_number", ""),
                ("phone", ""),
            ],
        )
        .await?;
        assert_eq!(code, 303, "{body}");
        let org = location
            .strip_prefix("/staff/organisations/")
            .context("the organisation's page")?
            .to_owned();
        let (_, html) = page(&server, &staff, &location).await?;
        assert!(
            html.contains("The organisation has been created."),
            "{html}"
        );
        server
            .create_user_in("contact@c.example", "client_admin", &org)
            .await?;
        open_file(&server, &staff, &org, "Hoogwerkers", "application").await?;
        let (_, html) = page(&server, &staff, &location).await?;
        assert!(
            element(&html, "people").contains("contact@c.example"),
            "{html}"
        );
        assert!(element(&html, "dossiers").contains("Hoogwerkers"), "{html}");

        let (code, to, _) = post(&server, &staff, &format!("{location}/deactivate"), &[]).await?;
        assert_eq!((code, to.as_str()), (303, location.as_str()));
        let (code, _, _) = post(&server, &staff, &format!("{location}/reactivate"), &[]).await?;
        assert_eq!(code, 303);
        for action in [
            "organisation.create",
            "organisation.deactivate",
            "organisation.reactivate",
        ] {
            let rows = audited(&server, action).await?;
            assert_eq!(
                rows,
                vec![vec![staff_id.clone(), "127.0.0.1".to_owned()]],
                "{action}"
            );
        }
        server.stop().await
    }
);
