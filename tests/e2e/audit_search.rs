//! The audit-log search page (`/staff/audit`) through the real binary: only staff,
//! administrators and the privacy coordinator reach it; searches by person, actor, action and
//! period find exactly their entries; bad input answers 422 with the message next to its field;
//! whatever is searched for comes back escaped; and every search is itself audited.

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, matrix};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::auth::{break_audit_head, rename, restore_audit_head, sql_rows};

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

/// The result rows of a search page: the text of each cell (tags removed, still escaped).
fn rows(html: &str) -> Vec<Vec<String>> {
    html.split("<tr class=\"audit-row\">")
        .skip(1)
        .map(|row| {
            let row = row.split("</tr>").next().unwrap_or_default();
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = cell.split_once('>').map(|(_, c)| c).unwrap_or_default();
                    strip_tags(cell.split("</td>").next().unwrap_or_default())
                })
                .collect()
        })
        .collect()
}

fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in html.chars() {
        match c {
            '<' => inside = true,
            '>' => inside = false,
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out
}

/// The actions' codes of the result rows, in order (the cells show them in words).
fn actions(html: &str) -> Vec<String> {
    html.split("data-action=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default().to_owned())
        .collect()
}

/// The `href` of the element with this id, unescaped.
fn href_of(html: &str, id: &str) -> Option<String> {
    let after = html.split(&format!("id=\"{id}\"")).nth(1)?;
    let href = after.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&").replace("&#38;", "&"))
}

/// Language, query, the field whose message is expected, and the start of that message.
type BadInput<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

/// A submitted search (`search=1` and the query).
async fn search(
    server: &Server,
    who: &reqwest::Client,
    lang: &str,
    query: &[(&str, &str)],
) -> anyhow::Result<(u16, String)> {
    server.speak(who, lang).await?;
    let res = who
        .get(server.url("/staff/audit"))
        .query(&[("search", "1")])
        .query(query)
        .send()
        .await?;
    Ok((res.status().as_u16(), res.text().await?))
}

async fn count(server: &Server, sql_where: &str) -> anyhow::Result<usize> {
    let rows = sql_rows(
        server,
        &format!("SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE {sql_where}"),
    )
    .await?;
    Ok(rows[0][0].parse()?)
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
            for path in ["/staff/audit?search=1", "/staff/audit/export.csv?search=1"] {
                let res = who.get(server.url(path)).send().await?;
                assert_eq!(res.status(), 404, "{email} reached {path}");
            }
            let account = who.get(server.url("/account")).send().await?.text().await?;
            assert!(
                !account.contains("href=\"/staff/audit\""),
                "{email}: {account}"
            );
        }
        // Without a session: the sign-in page, nothing of the log.
        let anonymous = server.browser()?;
        let res = anonymous.get(server.url("/staff/audit")).send().await?;
        assert_eq!(
            res.status(),
            303,
            "an anonymous visitor reached the audit log"
        );
        assert_eq!(res.headers()["location"], "/login");

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
            assert!(
                actions(&html).iter().any(|a| a == "auth.login.success"),
                "{html}"
            );
            assert!(html.contains(">Signed in<"), "the action in words: {html}");
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
    async fn opening_the_audit_log_searches_and_records_nothing(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        let staff = server.sign_in(STAFF, &password).await?;
        let before = count(&server, "1 = 1").await?;
        for path in ["/staff/audit", "/staff/audit?person=x&action=auth"] {
            let res = staff.get(server.url(path)).send().await?;
            assert_eq!(res.status(), 200, "{path}");
            let html = res.text().await?;
            assert!(html.contains("id=\"audit-submit\""), "the form: {html}");
            assert!(html.contains("name=\"search\" value=\"1\""), "{html}");
            assert!(!html.contains("id=\"audit-results\""), "{html}");
            assert!(!html.contains("id=\"no-results\""), "{html}");
        }
        assert_eq!(
            count(&server, "1 = 1").await?,
            before,
            "opening the page recorded something"
        );
        assert_eq!(count(&server, "action = 'audit.search'").await?, 0);
        server.stop().await
    }
);

matrix!(
    async fn audit_search_finds_exactly_what_was_asked(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        server.create_user(ANN, "inspector").await?;
        server.create_user(BOB, "inspector").await?;
        rename(&server, ANN, "Ann", "Aerts").await?;
        rename(&server, BOB, "Bob", "Bosmans").await?;
        let staff_id = api_login(&server, STAFF, &password).await?;
        let ann = api_login(&server, ANN, &password).await?;
        failed_login(&server, ANN).await?;
        let bob = api_login(&server, BOB, &password).await?;
        failed_login(&server, BOB).await?;
        failed_login(&server, BOB).await?;
        let staff = server.sign_in(STAFF, &password).await?;

        // By person (the subject), given by name: Ann's account and failed sign-in, shown with
        // her name; her id only in the hover title.
        let (status, html) = search(&server, &staff, "en", &[("person", "ann  aerts")]).await?;
        assert_eq!(status, 200, "{html}");
        let found = rows(&html);
        let mut got = actions(&html);
        got.sort();
        assert_eq!(got, ["account.create", "auth.login.failure"], "{html}");
        assert!(found.iter().all(|r| r[4] == "Ann Aerts"), "{found:?}");
        assert!(
            html.contains(&format!("title=\"{ann}\">Ann Aerts<")),
            "{html}"
        );
        assert!(
            found.iter().all(|r| r.iter().all(|c| !c.contains(&ann))),
            "an id shown: {found:?}"
        );
        // The names the caller sees are suggested.
        assert!(html.contains("<option value=\"Ann Aerts\">"), "{html}");
        // The same by e-mail address and by id.
        let (_, by_email) = search(&server, &staff, "en", &[("person", ANN)]).await?;
        assert_eq!(rows(&by_email), found);
        let (_, by_id) = search(&server, &staff, "en", &[("person", &ann)]).await?;
        assert_eq!(rows(&by_id), found);

        // By actor: Bob's sign-in and his two failures, newest first, and nothing of Ann's.
        let (status, html) = search(&server, &staff, "en", &[("actor", "Bob Bosmans")]).await?;
        assert_eq!(status, 200, "{html}");
        let found = rows(&html);
        assert_eq!(
            actions(&html),
            [
                "auth.login.failure",
                "auth.login.failure",
                "auth.login.success"
            ],
            "{html}"
        );
        assert!(found.iter().all(|r| r[3] == "Bob Bosmans"), "{found:?}");
        assert!(
            found
                .iter()
                .all(|r| r[1] == "Sign-in failed" || r[1] == "Signed in"),
            "{found:?}"
        );
        assert!(!html.contains(&ann), "Ann in Bob's results");

        // By action prefix: the three failures, nobody's successes.
        let (_, html) = search(&server, &staff, "en", &[("action", "auth.login.failure")]).await?;
        assert_eq!(actions(&html).len(), 3, "{html}");
        assert!(actions(&html).iter().all(|a| a == "auth.login.failure"));
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

        // Every search above was recorded, with the searcher as actor and the filter used (ids,
        // never the names or addresses typed).
        let searches = sql_rows(
            &server,
            "SELECT actor_id, detail, actor_ip FROM audit_log WHERE action = 'audit.search' ORDER BY seq",
        )
        .await?;
        assert_eq!(searches.len(), 10, "{searches:?}");
        assert!(searches.iter().all(|r| r[0] == staff_id), "{searches:?}");
        assert!(searches.iter().all(|r| r[2] == "127.0.0.1"), "{searches:?}");
        let first: Value = serde_json::from_str(&searches[0][1])?;
        assert_eq!(first["filter"]["person"], json!(ann), "{first}");
        assert!(
            !searches
                .iter()
                .any(|r| r[1].contains(ANN) || r[1].contains("Aerts") || r[1].contains("Bosmans")),
            "a name or an e-mail address was copied into the log: {searches:?}"
        );
        // …and the page finds them too.
        let (_, html) = search(&server, &staff, "en", &[("action", "audit.search")]).await?;
        assert_eq!(rows(&html).len(), 10, "{html}");
        server.stop().await
    }
);

matrix!(
    async fn audit_search_refuses_bad_input_and_escapes_what_it_shows(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        // Two people with the same name.
        server.create_user(ANN, "inspector").await?;
        server.create_user(BOB, "inspector").await?;
        let staff = server.sign_in(STAFF, &password).await?;

        // Invalid input: 422, the message next to its field in the visitor's language, no results.
        let cases: [BadInput; 8] = [
            (
                "nl",
                &[("person", "not-an-id")],
                "person-error",
                "Niemand die u kunt zien heeft deze naam",
            ),
            (
                "fr",
                &[("actor", "12345")],
                "actor-error",
                "Personne parmi celles que vous voyez",
            ),
            (
                "fr",
                &[("person", "nobody@cert.example")],
                "person-error",
                "Personne parmi celles que vous voyez",
            ),
            (
                "en",
                &[("person", "Test Persoon")],
                "person-error",
                "Several have this name",
            ),
            (
                "en",
                &[("organisation", "acme")],
                "organisation-error",
                "No organisation you can see has this name",
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
        // None of these searched, so none was recorded.
        assert_eq!(count(&server, "action = 'audit.search'").await?, 0);

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
        assert!(!html.contains("audit-row"), "{html}");
        restore_audit_head(&server).await?;
        let (status, _) = search(&server, &staff, "en", &[]).await?;
        assert_eq!(status, 200);
        server.stop().await
    }
);

matrix!(
    async fn audit_search_pages_by_fifty_keeping_the_filter(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        let staff = server.sign_in(STAFF, &password).await?;
        // Each search is an entry: 55 of them, then a search for them.
        for _ in 0..55 {
            let (status, _) = search(&server, &staff, "en", &[("action", "nothing.here")]).await?;
            assert_eq!(status, 200);
        }
        let (_, html) = search(&server, &staff, "nl", &[("action", "audit.search")]).await?;
        assert_eq!(rows(&html).len(), 50, "{html}");
        assert!(html.contains("id=\"audit-page\">Pagina 1<"), "{html}");
        assert!(!html.contains("id=\"audit-previous\""), "{html}");
        let next = href_of(&html, "audit-next").context("a link to the next page")?;
        assert!(
            next.contains("action=audit.search") && next.contains("page=2"),
            "{next}"
        );
        let html = staff
            .get(server.url(&next))
            .header("accept-language", "nl")
            .send()
            .await?
            .text()
            .await?;
        // 55 earlier searches and the one of page 1 matched when page 2 was asked for.
        assert_eq!(rows(&html).len(), 6, "{html}");
        assert!(actions(&html).iter().all(|a| a == "audit.search"), "{html}");
        assert!(!html.contains("id=\"audit-next\""), "{html}");
        let previous = href_of(&html, "audit-previous").context("a link back")?;
        assert!(
            previous.contains("action=audit.search") && previous.contains("page=1"),
            "{previous}"
        );
        // Each page shown was recorded with its page number.
        let pages = sql_rows(
            &server,
            "SELECT detail FROM audit_log WHERE action = 'audit.search' ORDER BY seq DESC",
        )
        .await?;
        let last: Value = serde_json::from_str(&pages[0][0])?;
        assert_eq!(last["page"], json!(2), "{last}");
        assert_eq!(last["results"], json!(6), "{last}");
        server.stop().await
    }
);

matrix!(
    async fn audit_export_is_a_formula_safe_csv_and_is_itself_recorded(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(STAFF, "staff").await?;
        server.create_user(BOB, "inspector").await?;
        rename(&server, BOB, "=1+2", "Bosmans").await?;
        let staff_id = api_login(&server, STAFF, &password).await?;
        let bob = api_login(&server, BOB, &password).await?;
        failed_login(&server, BOB).await?;
        let staff = server.sign_in(STAFF, &password).await?;

        let (_, html) = search(&server, &staff, "en", &[("actor", BOB)]).await?;
        let link = href_of(&html, "audit-export").context("an export link")?;
        assert!(link.starts_with("/staff/audit/export.csv?"), "{link}");
        let res = staff.get(server.url(&link)).send().await?;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()?
                .starts_with("text/csv"),
            "{:?}",
            res.headers()
        );
        assert!(
            res.headers()["content-disposition"]
                .to_str()?
                .starts_with("attachment"),
            "{:?}",
            res.headers()
        );
        let csv = res.text().await?;
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some(
                "at,action,outcome,actor,actor_id,actor_ip,subject_type,subject,subject_id,organisation,organisation_id,detail"
            )
        );
        let body: Vec<&str> = lines.collect();
        assert_eq!(body.len(), 2, "{csv}");
        assert!(body.iter().all(|l| l.contains(&bob)), "{csv}");
        // The name that looks like a formula is neutralised; no cell starts a formula.
        assert!(csv.contains(",'=1+2 Bosmans,"), "{csv}");
        assert!(!csv.contains(",=1+2"), "{csv}");
        // The export is in the log, with the exporter, their address and the filter (ids).
        let exports = sql_rows(
            &server,
            "SELECT actor_id, actor_ip, detail FROM audit_log WHERE action = 'audit.export'",
        )
        .await?;
        assert_eq!(exports.len(), 1, "{exports:?}");
        assert_eq!(exports[0][0], staff_id);
        assert_eq!(exports[0][1], "127.0.0.1");
        let detail: Value = serde_json::from_str(&exports[0][2])?;
        assert_eq!(detail["filter"]["actor"], json!(bob), "{detail}");
        assert_eq!(detail["results"], json!(2), "{detail}");
        server.stop().await
    }
);

matrix!(
    async fn page_actions_record_the_client_address(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_MAIL__POLL_SECS", "1")
            .start()
            .await?;
        let password = server.create_user(STAFF, "staff").await?;
        let org = server.create_client_org("Beton West").await?;
        let staff = server.sign_in(STAFF, &password).await?;
        server.speak(&staff, "en").await?;
        let origin = server.origin();
        // Staff invite a person into a company.
        let page = format!("/staff/organisations/{org}");
        let token = server.csrf(&staff, &page).await?;
        let res = staff
            .post(server.url(&page))
            .header("origin", &origin)
            .form(&[
                ("first_name", "Jan"),
                ("surname", "Peeters"),
                ("email", "jan@west.example"),
                ("language", "nl"),
                ("role", "client_user"),
                ("csrf", token.as_str()),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        let created = sql_rows(
            &server,
            "SELECT actor_ip, subject_id FROM audit_log WHERE action = 'account.create' \
             AND actor_id IS NOT NULL",
        )
        .await?;
        assert_eq!(created.len(), 1, "{created:?}");
        assert_eq!(created[0][0], "127.0.0.1", "{created:?}");
        let jan = created[0][1].clone();

        // …and deactivate him, after the confirmation page.
        let confirm = format!("/people/{jan}/deactivate");
        let html = staff.get(server.url(&confirm)).send().await?.text().await?;
        assert!(html.contains("Deactivate Jan Peeters?"), "{html}");
        assert!(
            html.contains(&format!("href=\"/people/{jan}\"")),
            "a way back: {html}"
        );
        assert_eq!(
            count(&server, "action = 'account.deactivate'").await?,
            0,
            "asked, not done"
        );
        let token = server.csrf(&staff, &confirm).await?;
        let res = staff
            .post(server.url(&confirm))
            .header("origin", &origin)
            .form(&[("csrf", token.as_str())])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers()["location"].to_str()?,
            format!("/people/{jan}")
        );
        let html = staff
            .get(server.url(&format!("/people/{jan}")))
            .send()
            .await?
            .text()
            .await?;
        assert!(
            html.contains("The account is deactivated"),
            "the flash: {html}"
        );
        let ips = sql_rows(
            &server,
            "SELECT actor_ip FROM audit_log WHERE action = 'account.deactivate'",
        )
        .await?;
        assert_eq!(ips, vec![vec!["127.0.0.1".to_owned()]]);
        server.stop().await
    }
);
