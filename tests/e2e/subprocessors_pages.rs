//! Subprocessors in the browser (issue 15), over HTTP: the list, an entry, a notice and the
//! coordinator's page render for every role in Dutch, French and English; a wrong "as of" date
//! is a 422 in the person's language; a client company objects through the form (a second open
//! objection is a 409), the privacy coordinator rejects it with a justification and the
//! company reads the decision; the coordinator's form keeps its values and says what is wrong;
//! the JSON, CSV and Atom files (formula cells defused in the CSV), refused to an anonymous
//! visitor unless the list is public.

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, databases};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{PASSWORD, api, login};
use crate::backoffice_pages::{page, post};

/// A date `days` from today, as a date field sends it (the installation's zone is UTC here).
pub(crate) fn in_days(days: i64) -> String {
    let d = (time::OffsetDateTime::now_utc() + time::Duration::days(days)).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The people of the tests: a client company with its primary contact and a contact, and the
/// certification body's staff, privacy coordinator and an inspector.
pub(crate) async fn people(server: &Server) -> anyhow::Result<String> {
    let org = server.create_client_org("Beton A NV").await?;
    server
        .create_user_in("ca@a.example", "client_admin", &org)
        .await?;
    server
        .create_user_in("cu@a.example", "client_user", &org)
        .await?;
    server.create_user("staff@cb.example", "staff").await?;
    server
        .create_user("po@cb.example", "privacy_officer")
        .await?;
    server.create_user("insp@cb.example", "inspector").await?;
    Ok(org)
}

/// A notice drafted and published through the API by the privacy coordinator; its id.
pub(crate) async fn published_notice(
    server: &Server,
    name: &str,
    effective: &str,
) -> anyhow::Result<String> {
    let token = login(server, "po@cb.example").await?;
    let (status, body) = api(
        server,
        &token,
        Method::POST,
        "/api/v1/subprocessor-notices",
        Some(json!({
            "kind": "add",
            "entry": {
                "legal_name": name,
                "registration_number": "0123.456.789",
                "website": "https://hosting.example",
                "service": "Hosting",
                "data_categories": ["contact", "identification"],
                "subject_categories": ["client_contacts"],
                "locations": [{ "country": "BE" }],
                "agreement_date": "2026-01-31"
            },
            "summary": "A second hosting provider for the back-ups.",
            "effective_date": effective
        })),
    )
    .await?;
    anyhow::ensure!(status == 201, "draft: {status} {body}");
    let id = serde_json::from_str::<Value>(&body)?["id"]
        .as_str()
        .context("notice id")?
        .to_owned();
    let (status, body) = api(
        server,
        &token,
        Method::POST,
        &format!("/api/v1/subprocessor-notices/{id}/publish"),
        None,
    )
    .await?;
    anyhow::ensure!(status == 200, "publish: {status} {body}");
    Ok(id)
}

const TITLES: [(&str, &str); 3] = [
    ("nl", "Subverwerkers"),
    ("fr", "Sous-traitants ultérieurs"),
    ("en", "Subprocessors"),
];

databases!(
    /// Every role reads the pages in each language; the company objects through the form, the
    /// coordinator decides, and the company reads the decision.
    async fn pages_objections_and_decisions(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SITE__TIME_ZONE", "UTC")
            .start()
            .await?;
        people(&server).await?;
        let notice = published_notice(&server, "Back-up Hosting NV", &in_days(40)).await?;

        let roles = [
            "ca@a.example",
            "cu@a.example",
            "staff@cb.example",
            "po@cb.example",
            "insp@cb.example",
        ];
        for email in roles {
            let who = server.sign_in(email, PASSWORD).await?;
            for (lang, title) in TITLES {
                server.speak(&who, lang).await?;
                let (code, html) = page(&server, &who, "/subprocessors").await?;
                assert_eq!(code, 200, "{email} {lang}: {html}");
                assert!(
                    html.contains(&format!("<h1 id=\"sp-heading\">{title}</h1>")),
                    "{email} {lang}"
                );
                assert!(
                    html.contains("href=\"/subprocessors\""),
                    "{email}: not in the navigation"
                );
                assert!(
                    html.contains("Back-up Hosting NV"),
                    "{email} {lang}: the notice"
                );
                let (code, html) =
                    page(&server, &who, &format!("/subprocessors/notices/{notice}")).await?;
                assert_eq!(code, 200, "{email} {lang}: {html}");
                // Only the coordinator manages the register.
                let manages = email == "po@cb.example";
                assert_eq!(
                    html.contains("href=\"/subprocessors/manage\""),
                    manages,
                    "{email}"
                );
                let (code, _) = page(&server, &who, "/subprocessors/manage").await?;
                assert_eq!(code, if manages { 200 } else { 404 }, "{email} {lang}");
                // Objecting: the company's primary contact only.
                assert_eq!(
                    html.contains("id=\"object-form\""),
                    email == "ca@a.example",
                    "{email}"
                );
                // A wrong date: 422 with the message in the person's language.
                let (code, html) = page(&server, &who, "/subprocessors?at=31-12-2026").await?;
                assert_eq!(code, 422, "{email} {lang}");
                let message = match lang {
                    "nl" => "Vul de datum in als kalenderdatum",
                    "fr" => "Indiquez la date sous forme de date du calendrier",
                    _ => "Enter the date as a calendar date",
                };
                assert!(html.contains(message), "{email} {lang}: {html}");
                let (code, _) =
                    page(&server, &who, &format!("/subprocessors?at={}", in_days(-1))).await?;
                assert_eq!(code, 200, "{email} {lang}");
                let (code, html) =
                    page(&server, &who, &format!("/subprocessors?at={}", in_days(3))).await?;
                assert_eq!(code, 422, "{email} {lang}: a date to come");
                assert!(html.contains("id=\"at-error\""), "{email} {lang}");
            }
        }

        // The primary contact objects, in French, with Markdown.
        let ca = server.sign_in("ca@a.example", PASSWORD).await?;
        server.speak(&ca, "fr").await?;
        let (code, location, body) = post(
            &server,
            &ca,
            &format!("/subprocessors/notices/{notice}"),
            &[("reasons", "Nous *refusons* :\n\n- le stockage hors de nos murs\n- [la clause](https://example.org/clause)")],
        )
        .await?;
        assert_eq!(code, 303, "{body}");
        let objection = location
            .strip_prefix("/subprocessors/objections/")
            .context("to the objection")?
            .to_owned();
        let (code, html) = page(&server, &ca, &location).await?;
        assert_eq!(code, 200);
        assert!(html.contains("Votre objection a été enregistrée"), "{html}");
        assert!(html.contains("<em>refusons</em>"), "{html}");
        assert!(html.contains("id=\"amend-form\""), "{html}");
        // A second open objection of the same company: 409, in French.
        let (code, _, body) = post(
            &server,
            &ca,
            &format!("/subprocessors/notices/{notice}"),
            &[("reasons", "Encore")],
        )
        .await?;
        assert_eq!(code, 409, "{body}");
        assert!(
            body.contains("Votre entreprise a déjà une objection ouverte"),
            "{body}"
        );
        // Empty reasons: 422, the form kept.
        let (code, _, body) = post(
            &server,
            &ca,
            &format!("/subprocessors/objections/{objection}"),
            &[("reasons", "   ")],
        )
        .await?;
        assert_eq!(code, 422, "{body}");
        assert!(body.contains("Écrivez vos motifs"), "{body}");

        // The coordinator sees it, with its tally, and rejects it; a rejection needs a
        // justification.
        let po = server.sign_in("po@cb.example", PASSWORD).await?;
        server.speak(&po, "en").await?;
        let (code, html) = page(&server, &po, "/subprocessors/manage").await?;
        assert_eq!(code, 200);
        assert!(html.contains("Open objections: 1; decided: 0"), "{html}");
        let (code, html) = page(
            &server,
            &po,
            &format!("/subprocessors/objections/{objection}"),
        )
        .await?;
        assert_eq!(code, 200);
        assert!(
            html.contains("id=\"decide-form\"") && html.contains("Beton A NV"),
            "{html}"
        );
        assert!(!html.contains("id=\"amend-form\""), "{html}");
        let (code, _, body) = post(
            &server,
            &po,
            &format!("/subprocessors/objections/{objection}/decision"),
            &[("decision", "rejected"), ("note", "")],
        )
        .await?;
        assert_eq!(code, 422, "{body}");
        assert!(body.contains("A rejection needs a justification"), "{body}");
        let (code, _, body) = post(
            &server,
            &po,
            &format!("/subprocessors/objections/{objection}/decision"),
            &[
                ("decision", "rejected"),
                ("note", "The back-ups stay in Belgium."),
            ],
        )
        .await?;
        assert_eq!(code, 303, "{body}");

        // The company reads the decision in French, and can no longer change the objection.
        let (code, html) = page(
            &server,
            &ca,
            &format!("/subprocessors/objections/{objection}"),
        )
        .await?;
        assert_eq!(code, 200);
        assert!(
            html.contains("Rejetée") && html.contains("The back-ups stay in Belgium."),
            "{html}"
        );
        assert!(!html.contains("id=\"amend-form\""), "{html}");
        let (_, html) = page(&server, &ca, "/subprocessors").await?;
        assert!(
            html.contains("id=\"sp-objections\"") && html.contains("Rejetée"),
            "{html}"
        );

        // Subscribing: a contact who is not the primary contact gets no mails until asked.
        let cu = server.sign_in("cu@a.example", PASSWORD).await?;
        server.speak(&cu, "nl").await?;
        let (_, html) = page(&server, &cu, "/subprocessors").await?;
        assert!(
            html.contains("U ontvangt de wijzigingsberichten niet per e-mail"),
            "{html}"
        );
        let (code, location, _) = post(
            &server,
            &cu,
            "/subprocessors/subscription",
            &[("wants", "yes")],
        )
        .await?;
        assert_eq!(code, 303);
        let (_, html) = page(&server, &cu, &location).await?;
        assert!(
            html.contains("U ontvangt de wijzigingsberichten voortaan per e-mail."),
            "{html}"
        );
        // Staff have no subscription to choose.
        let staff = server.sign_in("staff@cb.example", PASSWORD).await?;
        let (_, html) = page(&server, &staff, "/subprocessors").await?;
        assert!(!html.contains("id=\"subscription\""), "{html}");

        // The coordinator's form: a date inside the notice period comes back with the values
        // kept and the earliest date; a good one saves a draft, which is published with a
        // confirmation and a count of mails.
        let mut fields = vec![
            ("kind", "add"),
            ("subprocessor_id", ""),
            ("legal_name", "Mail Relay BV"),
            ("registration_number", "NL123"),
            ("website", "https://relay.example"),
            ("service", "Sending e-mail"),
            ("data_categories", "contact"),
            ("data_categories", "identification"),
            ("subject_categories", "client_contacts"),
            ("country_0", "NL"),
            ("agreement_date", "2026-02-01"),
            ("summary", "Our mails go through a relay."),
        ];
        let early = in_days(5);
        let mut bad = fields.clone();
        bad.push(("effective_date", early.as_str()));
        let (code, _, body) = post(&server, &po, "/subprocessors/manage/new", &bad).await?;
        assert_eq!(code, 422, "{body}");
        assert!(
            body.contains("The effective date must respect the notice period"),
            "{body}"
        );
        assert!(body.contains("value=\"Mail Relay BV\""), "{body}");
        assert!(body.contains("value=\"NL\" selected"), "{body}");
        let good = in_days(35);
        fields.push(("effective_date", good.as_str()));
        let (code, location, body) =
            post(&server, &po, "/subprocessors/manage/new", &fields).await?;
        assert_eq!(code, 303, "{body}");
        let draft = location
            .strip_prefix("/subprocessors/notices/")
            .context("to the notice")?
            .to_owned();
        let (code, html) = page(
            &server,
            &po,
            &format!("/subprocessors/manage/notices/{draft}/edit"),
        )
        .await?;
        assert_eq!(code, 200);
        assert!(
            html.contains("value=\"Mail Relay BV\"") && html.contains("value=\"NL\" selected"),
            "{html}"
        );
        let (code, html) = page(
            &server,
            &po,
            &format!("/subprocessors/notices/{draft}/publish"),
        )
        .await?;
        assert_eq!(code, 200);
        assert!(html.contains("The notice is mailed at once"), "{html}");
        let (code, location, _) = post(
            &server,
            &po,
            &format!("/subprocessors/notices/{draft}/publish"),
            &[],
        )
        .await?;
        assert_eq!(code, 303);
        let (_, html) = page(&server, &po, &location).await?;
        // The primary contact (by default) and the contact who subscribed.
        assert!(
            html.contains("The notice is published; 2 e-mails were queued."),
            "{html}"
        );
        // The company objects to it, amends its reasons, then withdraws the objection after
        // being asked.
        let (code, location, body) = post(
            &server,
            &ca,
            &format!("/subprocessors/notices/{draft}"),
            &[("reasons", "Premier jet")],
        )
        .await?;
        assert_eq!(code, 303, "{body}");
        let (code, _, body) = post(
            &server,
            &ca,
            &location,
            &[("reasons", "Deuxième **version**")],
        )
        .await?;
        assert_eq!(code, 303, "{body}");
        let (_, html) = page(&server, &ca, &location).await?;
        assert!(
            html.contains("Vos motifs ont été enregistrés.")
                && html.contains("<strong>version</strong>"),
            "{html}"
        );
        let (code, html) = page(&server, &ca, &format!("{location}/withdraw")).await?;
        assert_eq!(code, 200);
        assert!(html.contains("objection de votre entreprise ?"), "{html}");
        let (code, _, _) = post(&server, &ca, &format!("{location}/withdraw"), &[]).await?;
        assert_eq!(code, 303);
        let (_, html) = page(&server, &ca, &location).await?;
        assert!(
            html.contains("objection a été retirée.")
                && html.contains("id=\"objection-state\">Retirée"),
            "{html}"
        );
        assert!(!html.contains("id=\"amend-form\""), "{html}");
        // Withdrawing asks first, with the reason.
        let (code, html) = page(
            &server,
            &po,
            &format!("/subprocessors/notices/{draft}/withdraw?reason=Not+needed"),
        )
        .await?;
        assert_eq!(code, 200);
        assert!(
            html.contains("Reason: Not needed") && html.contains("id=\"confirm-action\""),
            "{html}"
        );
        let (code, _, _) = post(
            &server,
            &po,
            &format!("/subprocessors/notices/{draft}/withdraw"),
            &[("reason", "Not needed")],
        )
        .await?;
        assert_eq!(code, 303);

        // Nobody signed in: the files send them to sign in.
        let anonymous = server.client()?;
        for path in [
            "/subprocessors.json",
            "/subprocessors.csv",
            "/subprocessors/feed.atom",
        ] {
            let res = anonymous.get(server.url(path)).send().await?;
            assert_eq!(res.status().as_u16(), 303, "{path}");
            assert_eq!(res.headers()["location"], "/login", "{path}");
        }
        Ok(())
    }
);

databases!(
    /// The files: JSON as the API's listing, CSV with formula cells defused and the date in its
    /// name, an Atom feed with one entry per notice; public when the installation says so; a
    /// closed window answered with its closing time.
    async fn published_files(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SITE__TIME_ZONE", "UTC")
            .env("EXTRANET_SUBPROCESSORS__NOTICE_DAYS", "0")
            .env("EXTRANET_SUBPROCESSORS__APPLY_EVERY_SECS", "1")
            .env("EXTRANET_SUBPROCESSORS__PUBLIC", "true")
            .env("EXTRANET_SUBPROCESSORS__ALLOW_OUTSIDE_EEA", "true")
            .start()
            .await?;
        people(&server).await?;
        let today = in_days(0);
        let formula = "=HYPERLINK(\"https://evil.example\",\"x\")";
        let notice = published_notice(&server, formula, &today).await?;

        // The notice takes effect today: applied within a few seconds.
        let anonymous = server.client()?;
        let mut listing = Value::Null;
        for _ in 0..50 {
            let res = anonymous
                .get(server.url("/subprocessors.json"))
                .send()
                .await?;
            assert_eq!(res.status().as_u16(), 200);
            listing = res.json().await?;
            if listing["items"].as_array().is_some_and(|i| !i.is_empty()) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert_eq!(listing["items"][0]["legal_name"], formula, "{listing}");
        assert!(listing["as_of"].is_string(), "{listing}");
        // The entry's page: its history, oldest first, with what changed.
        let entry_id = listing["items"][0]["id"]
            .as_str()
            .context("entry id")?
            .to_owned();
        let ca = server.sign_in("ca@a.example", PASSWORD).await?;
        server.speak(&ca, "en").await?;
        let (code, html) = page(&server, &ca, &format!("/subprocessors/{entry_id}")).await?;
        assert_eq!(code, 200, "{html}");
        let history = html
            .split("id=\"entry-history\"")
            .nth(1)
            .context("history")?;
        let announced = history.find("Announced").context("announced")?;
        let in_use = history.find("— In use").context("in use")?;
        assert!(announced < in_use, "{history}");
        assert!(
            history.contains("State: In use") && history.contains("Countries: Belgium"),
            "{history}"
        );

        // Signed in, the JSON is the API's listing.
        let file: Value = ca
            .get(server.url("/subprocessors.json"))
            .send()
            .await?
            .json()
            .await?;
        let token = login(&server, "ca@a.example").await?;
        let (status, body) =
            api(&server, &token, Method::GET, "/api/v1/subprocessors", None).await?;
        assert_eq!(status, 200);
        let from_api: Value = serde_json::from_str(&body)?;
        assert_eq!(file["items"], from_api["items"], "{file} {from_api}");

        // A wrong date: 422, in words.
        let res = ca
            .get(server.url("/subprocessors.json?at=yesterday"))
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 422);
        // As of yesterday the list was empty.
        let yesterday: Value = ca
            .get(server.url(&format!("/subprocessors.json?at={}", in_days(-1))))
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(yesterday["items"], json!([]), "{yesterday}");

        // CSV: a formula cell is defused, and the file says its date.
        let res = ca.get(server.url("/subprocessors.csv")).send().await?;
        assert_eq!(res.status().as_u16(), 200);
        let disposition = res.headers()["content-disposition"].to_str()?.to_owned();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"subprocessors-{today}.csv\"")
        );
        let text = res.text().await?;
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers = reader.headers()?.clone();
        let name_column = headers
            .iter()
            .position(|h| h == "legal_name")
            .context("legal_name column")?;
        let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
        assert_eq!(rows.len(), 1, "{text}");
        assert_eq!(&rows[0][name_column], format!("'{formula}"), "{text}");
        let as_of = headers
            .iter()
            .position(|h| h == "as_of")
            .context("as_of column")?;
        assert!(rows[0][as_of].starts_with(&today), "{text}");

        // The feed: valid Atom, one entry per notice, its id stable and its time the notice's.
        let res = anonymous
            .get(server.url("/subprocessors/feed.atom"))
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()?
                .starts_with("application/atom+xml")
        );
        let feed = feed_rs::parser::parse(res.bytes().await?.as_ref())?;
        assert_eq!(feed.entries.len(), 1, "{feed:?}");
        let entry = &feed.entries[0];
        assert_eq!(entry.id, format!("urn:uuid:{notice}"));
        let applied = applied_at(&server, &notice).await?;
        assert_eq!(
            entry.updated.map(|t| t.timestamp()),
            Some(applied),
            "{entry:?}"
        );
        assert_eq!(feed.updated, entry.updated);

        // The window closed with the notice's date: 409 with the closing time, in Dutch.
        server.speak(&ca, "nl").await?;
        let (code, _, body) = post(
            &server,
            &ca,
            &format!("/subprocessors/notices/{notice}"),
            &[("reasons", "Te laat")],
        )
        .await?;
        assert_eq!(code, 409, "{body}");
        assert!(
            body.contains("De termijn om bezwaar te maken is afgelopen op"),
            "{body}"
        );
        assert!(body.contains(" UTC"), "{body}");

        // A change announced for tomorrow: the company objects, the coordinator upholds the
        // objection by excluding the company, and the list says the entry is not used for it.
        let token = login(&server, "po@cb.example").await?;
        let (status, body) = api(
            &server,
            &token,
            Method::POST,
            "/api/v1/subprocessor-notices",
            Some(json!({
                "kind": "change",
                "subprocessor_id": entry_id,
                "entry": {
                    "legal_name": "Hosting NV",
                    "registration_number": "0123.456.789",
                    "website": "https://hosting.example",
                    "service": "Hosting and e-mail",
                    "data_categories": ["contact"],
                    "subject_categories": ["client_contacts"],
                    "locations": [{ "country": "BE" }],
                    "agreement_date": "2026-01-31"
                },
                "summary": "E-mail too.",
                "effective_date": in_days(1)
            })),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let change = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        let (status, body) = api(
            &server,
            &token,
            Method::POST,
            &format!("/api/v1/subprocessor-notices/{change}/publish"),
            None,
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let (code, objection, body) = post(
            &server,
            &ca,
            &format!("/subprocessors/notices/{change}"),
            &[("reasons", "Geen e-mail via derden.")],
        )
        .await?;
        assert_eq!(code, 303, "{body}");
        let po = server.sign_in("po@cb.example", PASSWORD).await?;
        let (code, _, body) = post(
            &server,
            &po,
            &format!("{objection}/decision"),
            &[
                ("decision", "upheld"),
                ("outcome", "exclude"),
                ("note", "Agreed."),
            ],
        )
        .await?;
        assert_eq!(code, 303, "{body}");
        let (_, html) = page(&server, &ca, "/subprocessors").await?;
        assert!(html.contains("Niet gebruikt voor uw bedrijf"), "{html}");
        let (_, html) = page(&server, &po, "/subprocessors").await?;
        assert!(!html.contains("Not used for your company"), "{html}");

        // Where the installation allows countries outside the EEA, the form asks a transfer
        // mechanism for each, and the notice names it in words.
        server.speak(&po, "en").await?;
        let (_, html) = page(&server, &po, "/subprocessors/manage/new").await?;
        assert!(
            html.contains("id=\"mechanism_0\"") && html.contains(">United States<"),
            "{html}"
        );
        let tomorrow = in_days(1);
        let mut fields = vec![
            ("kind", "add"),
            ("legal_name", "Support Inc"),
            ("registration_number", "US-42"),
            ("website", "https://support.example"),
            ("service", "Help desk"),
            ("data_categories", "contact"),
            ("subject_categories", "client_contacts"),
            ("country_0", "BE"),
            ("country_1", "US"),
            ("summary", "A help desk in the United States."),
            ("effective_date", tomorrow.as_str()),
        ];
        let (code, _, body) = post(&server, &po, "/subprocessors/manage/new", &fields).await?;
        assert_eq!(code, 422, "{body}");
        assert!(body.contains("with a transfer mechanism"), "{body}");
        fields.push(("mechanism_1", "standard_contractual_clauses"));
        let (code, location, body) =
            post(&server, &po, "/subprocessors/manage/new", &fields).await?;
        assert_eq!(code, 303, "{body}");
        let (_, html) = page(&server, &po, &location).await?;
        assert!(
            html.contains("United States: standard contractual clauses"),
            "{html}"
        );
        Ok(())
    }
);

/// When the notice took effect (Unix seconds), as the API tells the coordinator.
async fn applied_at(server: &Server, notice: &str) -> anyhow::Result<i64> {
    let token = login(server, "po@cb.example").await?;
    let (status, body) = api(
        server,
        &token,
        Method::GET,
        &format!("/api/v1/subprocessor-notices/{notice}"),
        None,
    )
    .await?;
    anyhow::ensure!(status == 200, "notice: {status} {body}");
    let n: Value = serde_json::from_str(&body)?;
    let at = n["applied_at"].as_str().context("applied_at")?;
    Ok(
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)?
            .unix_timestamp(),
    )
}
