//! The audit-log search page (`/staff/audit`) through the real binary: only staff,
//! administrators and the privacy coordinator reach it; searches by person, actor, action and
//! period find exactly their entries; bad input answers 422 with the message next to its field;
//! whatever is searched for comes back escaped; and every search is itself audited.

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, matrix};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::auth::{break_audit_head, restore_audit_head, sql_rows};

const STAFF: &str = "staff@cert.example";
const PRIVACY: &str = "privacy@cert.example";
const ANN: &str = "ann@cert.example";
const BOB: &str = "bob@cert.example";

/// Signs in through the API (an audited event) and returns the person's id.
async fn api_login(server: &Server, email: &str, password: &str) -> anyhow::Result<String> {
    let client = server.client()?;
    let res = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 200, "login of {email}: {}", res.status());
    let token: Value = res.json().await?;
    let access = token["access_token"].as_str().context("access token")?;
    let me: Value = client
        .get(server.url("/api/v1/me"))
        .bearer_auth(access)
        .send()
        .await?
        .json()
        .await?;
    Ok(me["id"].as_str().context("id")?.to_owned())
}

/// A failed sign-in of a known account (audited with the person as actor and subject).
async fn failed_login(server: &Server, email: &str) -> anyhow::Result<()> {
    let res = server
        .client()?
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": "not-the-password" }))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 401, "wrong password: {}", res.status());
    Ok(())
}

/// The result rows of a search page: the text of each cell, still escaped as the page has it.
fn rows(html: &str) -> Vec<Vec<String>> {
    html.split("<tr class=\"audit-row\">")
        .skip(1)
        .map(|row| {
            let row = row.split("</tr>").next().unwrap_or_default();
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = cell.split_once('>').map(|(_, c)| c).unwrap_or_default();
                    cell.split("</td>").next().unwrap_or_default().to_owned()
                })
                .collect()
        })
        .collect()
}

/// Columns: 0 time, 1 action, 2 outcome, 3 actor, 4 subject, 5 organisation, 6 detail.
fn actions(rows: &[Vec<String>]) -> Vec<String> {
    rows.iter().map(|r| r[1].clone()).collect()
}

/// Language, query, the field whose message is expected, and the start of that message.
type BadInput<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

async fn search(
    server: &Server,
    who: &reqwest::Client,
    lang: &str,
    query: &[(&str, &str)],
) -> anyhow::Result<(u16, String)> {
    let res = who
        .get(server.url("/staff/audit"))
        .header("accept-language", lang)
        .query(query)
        .send()
        .await?;
    Ok((res.status().as_u16(), res.text().await?))
}

matrix!(
    async fn audit_search_is_for_staff_and_the_privacy_coordinator_only(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        server.create_user(PRIVACY, "privacy_officer").await?;
        server
            .create_user("inspector@cert.example", "inspector")
            .await?;
        let org = server.create_client_org("Beton Noord").await?;
        server
            .create_user_in("contact@noord.example", "client_user", &org)
            .await?;
        server
            .create_user_in("primary@noord.example", "client_admin", &org)
            .await?;

        for email in [
            "inspector@cert.example",
            "contact@noord.example",
            "primary@noord.example",
        ] {
            let who = server.sign_in(email, &password).await?;
            let res = who.get(server.url("/staff/audit")).send().await?;
            assert_eq!(res.status(), 404, "{email} reached the audit log");
            let account = who.get(server.url("/account")).send().await?.text().await?;
            assert!(!account.contains("id=\"audit-link\""), "{email}: {account}");
        }
        let anonymous = server.browser()?;
        let res = anonymous.get(server.url("/staff/audit")).send().await?;
        assert_eq!(
            res.status(),
            404,
            "an anonymous visitor reached the audit log"
        );

        for email in [STAFF, PRIVACY] {
            let who = server.sign_in(email, &password).await?;
            let account = who.get(server.url("/account")).send().await?.text().await?;
            assert!(
                account.contains("href=\"/staff/audit\""),
                "{email}: {account}"
            );
            let (status, html) = search(&server, &who, "en", &[]).await?;
            assert_eq!(status, 200, "{email}: {html}");
            assert!(html.contains("id=\"audit-results\""), "{html}");
            assert!(html.contains("auth.login.success"), "{html}");
        }
        // Nobody refused left an audit.search entry; both who searched did.
        let searches = sql_rows(
            &server,
            "SELECT actor_id FROM audit_log WHERE action = 'audit.search'",
        )
        .await?;
        assert_eq!(searches.len(), 2, "{searches:?}");
        server.stop().await
    }
);

matrix!(
    async fn audit_search_finds_exactly_what_was_asked(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        server.create_user(ANN, "inspector").await?;
        server.create_user(BOB, "inspector").await?;
        let staff_id = api_login(&server, STAFF, &password).await?;
        let ann = api_login(&server, ANN, &password).await?;
        failed_login(&server, ANN).await?;
        let bob = api_login(&server, BOB, &password).await?;
        failed_login(&server, BOB).await?;
        failed_login(&server, BOB).await?;
        let staff = server.sign_in(STAFF, &password).await?;

        // By person (the subject), given by e-mail address: Ann's account and failed sign-in.
        let (status, html) = search(&server, &staff, "en", &[("person", ANN)]).await?;
        assert_eq!(status, 200, "{html}");
        let found = rows(&html);
        let mut got = actions(&found);
        got.sort();
        assert_eq!(got, ["account.create", "auth.login.failure"], "{html}");
        assert!(
            found.iter().all(|r| r[4] == format!("person {ann}")),
            "{found:?}"
        );
        // The same by id.
        let (_, by_id) = search(&server, &staff, "en", &[("person", &ann)]).await?;
        assert_eq!(rows(&by_id), found);

        // By actor: Bob's sign-in and his two failures, newest first, and nothing of Ann's.
        let (status, html) = search(&server, &staff, "en", &[("actor", BOB)]).await?;
        assert_eq!(status, 200, "{html}");
        let found = rows(&html);
        assert_eq!(
            actions(&found),
            [
                "auth.login.failure",
                "auth.login.failure",
                "auth.login.success"
            ],
            "{html}"
        );
        assert!(found.iter().all(|r| r[3] == bob), "{found:?}");
        assert!(!html.contains(&ann), "Ann in Bob's results");

        // By action prefix: the three failures, nobody's successes.
        let (_, html) = search(&server, &staff, "en", &[("action", "auth.login.failure")]).await?;
        let found = rows(&html);
        assert_eq!(found.len(), 3, "{html}");
        assert!(found.iter().all(|r| r[1] == "auth.login.failure"));
        // A prefix is not a pattern: `%` and `_` match only themselves.
        let (_, html) = search(&server, &staff, "en", &[("action", "auth_login")]).await?;
        assert!(html.contains("id=\"no-results\""), "{html}");
        // Combined: Bob's failures only.
        let (_, html) = search(
            &server,
            &staff,
            "en",
            &[("actor", bob.as_str()), ("action", "auth.login.f")],
        )
        .await?;
        assert_eq!(rows(&html).len(), 2, "{html}");

        // By period: today (UTC) is inside from=today..until=today; `until` includes its day.
        let today = OffsetDateTime::now_utc().date();
        let day = |d: time::Date| d.to_string();
        let (yesterday, tomorrow) = (
            today.previous_day().context("yesterday")?,
            today.next_day().context("tomorrow")?,
        );
        let (_, html) = search(
            &server,
            &staff,
            "en",
            &[
                ("actor", bob.as_str()),
                ("from", &day(today)),
                ("until", &day(today)),
            ],
        )
        .await?;
        assert_eq!(rows(&html).len(), 3, "{html}");
        for (from, until) in [
            (day(tomorrow), String::new()),
            (String::new(), day(yesterday)),
        ] {
            let (status, html) =
                search(&server, &staff, "en", &[("from", &from), ("until", &until)]).await?;
            assert_eq!(status, 200);
            assert!(
                html.contains("id=\"no-results\"") && rows(&html).is_empty(),
                "{from}..{until}: {html}"
            );
        }

        // Every search above was recorded, with the searcher as actor and the filter used.
        let searches = sql_rows(
            &server,
            "SELECT actor_id, detail FROM audit_log WHERE action = 'audit.search' ORDER BY seq",
        )
        .await?;
        assert_eq!(searches.len(), 9, "{searches:?}");
        assert!(searches.iter().all(|r| r[0] == staff_id), "{searches:?}");
        let first: Value = serde_json::from_str(&searches[0][1])?;
        assert_eq!(first["filter"]["person"], json!(ann), "{first}");
        assert!(
            !searches.iter().any(|r| r[1].contains(ANN)),
            "an e-mail address was copied into the log: {searches:?}"
        );
        // …and the page finds them too.
        let (_, html) = search(&server, &staff, "en", &[("action", "audit.search")]).await?;
        assert_eq!(rows(&html).len(), 9, "{html}");
        server.stop().await
    }
);

matrix!(
    async fn audit_search_refuses_bad_input_and_escapes_what_it_shows(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        let staff = server.sign_in(STAFF, &password).await?;

        // Invalid input: 422, the message next to its field in the visitor's language, no results.
        let cases: [BadInput; 6] = [
            (
                "nl",
                &[("person", "not-an-id")],
                "person-error",
                "Geef een e-mailadres of een id",
            ),
            (
                "fr",
                &[("actor", "12345")],
                "actor-error",
                "Indiquez une adresse e-mail ou un identifiant",
            ),
            (
                "en",
                &[("organisation", "acme")],
                "organisation-error",
                "Enter the organisation",
            ),
            (
                "nl",
                &[("from", "2026-13-01")],
                "from-error",
                "Geef een datum als JJJJ-MM-DD.",
            ),
            (
                "en",
                &[("until", "01/12/2026")],
                "until-error",
                "Enter a date as YYYY-MM-DD.",
            ),
            (
                "nl",
                &[("from", "2026-12-05"), ("until", "2026-12-01")],
                "until-error",
                "Deze datum ligt vóór de datum bij",
            ),
        ];
        for (lang, query, field, message) in cases {
            let (status, html) = search(&server, &staff, lang, query).await?;
            assert_eq!(status, 422, "{query:?}: {html}");
            let next_to_field = html
                .split(&format!("id=\"{field}\">"))
                .nth(1)
                .unwrap_or_default();
            assert!(
                next_to_field.starts_with(message)
                    || next_to_field.replace("&#34;", "\"").starts_with(message),
                "{query:?}: {message:?} not next to {field}: {html}"
            );
            assert!(!html.contains("id=\"audit-results\""), "{html}");
            assert!(!html.contains("id=\"no-results\""), "{html}");
        }
        // An e-mail address no account has: said next to the field, not an error page.
        let (status, html) =
            search(&server, &staff, "fr", &[("person", "nobody@cert.example")]).await?;
        assert_eq!(status, 200, "{html}");
        assert!(
            html.contains("id=\"person-error\">Aucun compte n&#39;a cette adresse e-mail.")
                || html.contains("id=\"person-error\">Aucun compte n&#x27;a cette adresse e-mail.")
                || html.contains("id=\"person-error\">Aucun compte n'a cette adresse e-mail."),
            "{html}"
        );
        assert!(!html.contains("id=\"audit-results\""), "{html}");
        // None of these searched, so none was recorded.
        let searches = sql_rows(
            &server,
            "SELECT seq FROM audit_log WHERE action = 'audit.search'",
        )
        .await?;
        assert!(searches.is_empty(), "{searches:?}");

        // HTML in searched values comes back as text.
        let payload = "<script>alert(1)</script>";
        for query in [
            vec![("action", payload)],
            vec![("person", "\"><img src=x onerror=alert(1)>@x.example")],
        ] {
            let (_, html) = search(&server, &staff, "en", &query).await?;
            assert!(!html.contains("<script>alert"), "{html}");
            assert!(!html.contains("<img src=x"), "{html}");
            assert!(html.contains("&lt;") || html.contains("&#60;"), "{html}");
        }
        // A search that cannot be recorded shows nothing.
        break_audit_head(&server).await?;
        let (status, html) = search(&server, &staff, "en", &[]).await?;
        assert_eq!(status, 500, "{html}");
        assert!(!html.contains("auth.login"), "{html}");
        restore_audit_head(&server).await?;
        let (status, _) = search(&server, &staff, "en", &[]).await?;
        assert_eq!(status, 200);
        server.stop().await
    }
);

matrix!(
    async fn audit_search_shows_at_most_200_entries_and_says_so(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        let staff = server.sign_in(STAFF, &password).await?;
        // Each search is an entry: 201 of them, then a search for them.
        for _ in 0..201 {
            let (status, _) = search(&server, &staff, "en", &[("action", "nothing.here")]).await?;
            assert_eq!(status, 200);
        }
        let (_, html) = search(&server, &staff, "nl", &[("action", "audit.search")]).await?;
        assert_eq!(rows(&html).len(), 200);
        assert!(
            html.contains("id=\"limit-note\">Alleen de 200 recentste vermeldingen"),
            "{html}"
        );
        // 201 matched: the newest 200 are shown, newest first.
        let times: Vec<String> = rows(&html).iter().map(|r| r[0].clone()).collect();
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(times, sorted, "not newest first");
        let (_, html) = search(&server, &staff, "en", &[("action", "nothing.here")]).await?;
        assert!(!html.contains("limit-note"), "{html}");
        server.stop().await
    }
);
