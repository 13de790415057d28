//! Restriction of processing (GDPR Art. 18, issue 17), through the real binary on SQLite and
//! PostgreSQL: the privacy coordinator flags a person and lifts the flag (nobody else may);
//! while flagged, the person's data is stored but not used — lists and searches of other roles
//! show them as restricted with no field, exports leave them out, changes, assignments and
//! invitation mails concerning them are refused with 409 and recorded as `access.denied`, the
//! newsletter is withheld (and the skip recorded) while essential mail (a password reset) still
//! arrives; the person themself still reads their own record. Lifting restores everything.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::mail::wait_for_subject;
use extranet_tests::{Server, TestEnv, databases};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{PASSWORD, api, login, pdf_bytes, upload};
use crate::backoffice_pages::{page, post};
use crate::consent::{builder, consent_api, count, person_id, register_copy, send_newsletter, tag};

/// The marks of the restricted person's own data, searched for in raw responses.
const SURNAME: &str = "Beperktmarker";
const PHONE: &str = "+32 2 444 55 66";

fn json_of(body: &str) -> anyhow::Result<Value> {
    serde_json::from_str(body).with_context(|| format!("not JSON: {body}"))
}

/// The item with `id` in a list answer.
fn item<'a>(list: &'a Value, id: &str) -> Option<&'a Value> {
    list["items"]
        .as_array()?
        .iter()
        .find(|i| i["id"].as_str() == Some(id))
}

/// How many `access.denied` records name `person` with the restriction as reason.
async fn refusals(server: &Server, person: &str) -> anyhow::Result<i64> {
    count(
        server,
        &format!(
            "SELECT count(*) FROM audit_log WHERE action = 'access.denied' \
             AND subject_id = '{person}' AND detail LIKE '%restricted%'"
        ),
    )
    .await
}

/// Asks for a password reset of `email` on the public page.
async fn forgot(server: &Server, email: &str) -> anyhow::Result<()> {
    let client = server.browser()?;
    let token = server.csrf(&client, "/password/forgot").await?;
    let res = client
        .post(server.url("/password/forgot"))
        .header("origin", server.origin())
        .form(&[("email", email), ("csrf", token.as_str())])
        .send()
        .await?;
    ensure!(res.status() == 200, "forgot: {}", res.status());
    Ok(())
}

databases!(
    /// Every output path with a restricted person, then the same paths after lifting.
    async fn a_restricted_person_is_stored_but_not_used(b: Backends) {
        let dir = tempfile::tempdir()?;
        let register = register_copy(dir.path())?;
        let clock = dir.path().join("clock");
        let server = builder(b, &register, &clock).start().await?;
        let env = TestEnv::get();
        let t = tag(&b);
        let org = server.create_client_org(&format!("Beperkt {t} NV")).await?;
        let staff = format!("staff-{t}@cb.example");
        let po = format!("po-{t}@cb.example");
        let insp = format!("insp-{t}@cb.example");
        let ca = format!("ca-{t}@restrict.example");
        let rs = format!("rs-{t}@restrict.example");
        server.create_user(&staff, "staff").await?;
        server.create_user(&po, "privacy_officer").await?;
        server.create_user(&insp, "inspector").await?;
        server.create_user_in(&ca, "client_admin", &org).await?;
        server.create_user_in(&rs, "client_user", &org).await?;
        let (staff_t, po_t, ca_t, rs_t) = (
            login(&server, &staff).await?,
            login(&server, &po).await?,
            login(&server, &ca).await?,
            login(&server, &rs).await?,
        );
        let rs_id = person_id(&server, &rs).await?;
        let insp_id = person_id(&server, &insp).await?;
        let person_url = format!("/api/v1/people/{rs_id}");
        let restriction_url = format!("{person_url}/restriction");

        // The person's own data, marked, and their consent to the newsletter (as the primary
        // contact's, the mail that must arrive).
        let (s, body) = api(
            &server,
            &rs_t,
            Method::PATCH,
            &person_url,
            Some(json!({ "surname": SURNAME, "phone": PHONE })),
        )
        .await?;
        ensure!(s == 200, "own change: {s} {body}");
        consent_api(&server, &rs, true, "nl").await?;
        consent_api(&server, &ca, true, "nl").await?;

        // Before: the export holds the person (so the checks below can fail).
        let (s, csv) = api(
            &server,
            &staff_t,
            Method::GET,
            "/api/v1/people/export",
            None,
        )
        .await?;
        ensure!(
            s == 200 && csv.contains(SURNAME),
            "export before: {s} {csv}"
        );

        // A dossier and an assignment of the inspector, before they are restricted.
        let (s, body) = api(
            &server,
            &staff_t,
            Method::POST,
            "/api/v1/dossiers",
            Some(json!({ "organisation_id": org, "scheme": "BENOR", "status": "active" })),
        )
        .await?;
        ensure!(s == 201, "dossier: {s} {body}");
        let dossier = json_of(&body)?["id"]
            .as_str()
            .context("dossier")?
            .to_owned();
        let now = time::OffsetDateTime::now_utc();
        let at = |d: i64| {
            (now + time::Duration::days(d))
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let (s, body) = api(&server, &staff_t, Method::POST, "/api/v1/assignments",
            Some(json!({ "dossier_id": dossier, "inspector_id": insp_id, "starts_at": at(-1), "ends_at": at(1) }))).await?;
        ensure!(s == 201, "assignment: {s} {body}");
        let assignment = json_of(&body)?["id"]
            .as_str()
            .context("assignment")?
            .to_owned();

        // A document of the company, which the contact may read.
        let (s, body) = upload(
            &server,
            &staff_t,
            &format!("/api/v1/dossiers/{dossier}/documents"),
            "inspection_report",
            "verslag.pdf",
            pdf_bytes("beperkt"),
        )
        .await?;
        ensure!(s == 201, "document: {s} {body}");
        let document = json_of(&body)?["id"]
            .as_str()
            .context("document")?
            .to_owned();
        let (s, body) = api(
            &server,
            &ca_t,
            Method::PUT,
            &format!("{person_url}/rights"),
            Some(json!({ "rights": ["document.read"] })),
        )
        .await?;
        ensure!(s == 200, "right: {s} {body}");

        // Only the privacy coordinator restricts; a reason is required.
        for token in [&staff_t, &ca_t, &rs_t] {
            let (s, body) = api(
                &server,
                token,
                Method::PUT,
                &restriction_url,
                Some(json!({ "reason": "verzoek" })),
            )
            .await?;
            ensure!(s == 403, "restricted by a non-coordinator: {s} {body}");
        }
        let (s, body) = api(
            &server,
            &po_t,
            Method::PUT,
            &restriction_url,
            Some(json!({ "reason": "  " })),
        )
        .await?;
        ensure!(s == 422, "without a reason: {s} {body}");
        ensure!(
            count(
                &server,
                &format!(
                    "SELECT count(*) FROM person WHERE email = '{rs}' AND restricted_at IS NOT NULL"
                )
            )
            .await?
                == 0,
            "a refused restriction was written"
        );
        let (s, body) = api(
            &server,
            &po_t,
            Method::PUT,
            &restriction_url,
            Some(json!({ "reason": "Verzoek 2026-17: juistheid betwist" })),
        )
        .await?;
        ensure!(s == 200, "restrict: {s} {body}");
        ensure!(
            count(
                &server,
                &format!(
                    "SELECT count(*) FROM person WHERE email = '{rs}' AND restricted_at IS NOT NULL"
                )
            )
            .await?
                == 1,
            "the restriction is not stored"
        );
        let v = json_of(&body)?;
        ensure!(
            v["changed"] == true && v["restriction"]["restricted"] == true,
            "{v}"
        );
        let (s, body) = api(
            &server,
            &po_t,
            Method::PUT,
            &restriction_url,
            Some(json!({ "reason": "nogmaals" })),
        )
        .await?;
        ensure!(
            s == 200 && json_of(&body)?["changed"] == false,
            "again: {s} {body}"
        );
        let (s, body) = api(
            &server,
            &po_t,
            Method::PUT,
            &format!("/api/v1/people/{insp_id}/restriction"),
            Some(json!({ "reason": "Verzoek 2026-18" })),
        )
        .await?;
        ensure!(s == 200, "restrict the inspector: {s} {body}");
        ensure!(
            count(&server, &format!("SELECT count(*) FROM audit_log WHERE action = 'person.restriction.place' AND subject_id = '{rs_id}'")).await? == 1,
            "one audit record for one change"
        );

        // Lists, searches and the record, for every other role that sees them: the mark and the
        // id, none of the fields.
        for (who, token) in [
            ("staff", &staff_t),
            ("coordinator", &po_t),
            ("primary contact", &ca_t),
        ] {
            let (s, body) = api(
                &server,
                token,
                Method::GET,
                "/api/v1/people?limit=1000",
                None,
            )
            .await?;
            ensure!(s == 200, "{who} list: {s}");
            ensure!(
                !body.contains(SURNAME) && !body.contains(PHONE) && !body.contains(&rs),
                "{who} list shows the data: {body}"
            );
            let v = json_of(&body)?;
            let one = item(&v, &rs_id).with_context(|| format!("{who}: not listed"))?;
            ensure!(
                one["restricted"] == true && one.get("surname").is_none(),
                "{who}: {one}"
            );
            let (s, body) = api(&server, token, Method::GET, &person_url, None).await?;
            ensure!(
                s == 200 && !body.contains(SURNAME) && json_of(&body)?["restricted"] == true,
                "{who} record: {s} {body}"
            );
            let (s, body) = api(
                &server,
                token,
                Method::GET,
                &format!("/api/v1/people?q={SURNAME}"),
                None,
            )
            .await?;
            ensure!(
                s == 200 && item(&json_of(&body)?, &rs_id).is_none(),
                "{who} search finds them: {body}"
            );
        }
        // The assignment of the restricted inspector: their name masked.
        let (s, body) = api(
            &server,
            &staff_t,
            Method::GET,
            &format!("/api/v1/assignments/{assignment}"),
            None,
        )
        .await?;
        let v = json_of(&body)?;
        ensure!(
            s == 200 && v["restricted"] == true && v.get("inspector_name").is_none(),
            "assignment: {s} {v}"
        );

        // The person themself sees everything.
        let (s, body) = api(&server, &rs_t, Method::GET, &person_url, None).await?;
        ensure!(
            s == 200 && body.contains(SURNAME) && body.contains(PHONE),
            "own record: {s} {body}"
        );
        ensure!(json_of(&body)?.get("restricted").is_none(), "{body}");
        let (s, body) = api(&server, &rs_t, Method::GET, "/api/v1/me", None).await?;
        ensure!(s == 200 && body.contains(SURNAME), "me: {s} {body}");

        // They open the company's document themself; who opened it, as the primary contact
        // sees it: the entry is there, the name is not.
        let rs_t = login(&server, &rs).await?;
        let (s, _) = api(
            &server,
            &rs_t,
            Method::GET,
            &format!("/api/v1/documents/{document}/content"),
            None,
        )
        .await?;
        ensure!(s == 200, "own download: {s}");
        let (s, body) = api(
            &server,
            &ca_t,
            Method::GET,
            &format!("/api/v1/organisations/{org}/document-accesses"),
            None,
        )
        .await?;
        ensure!(
            s == 200 && !body.contains(SURNAME),
            "access log: {s} {body}"
        );
        let v = json_of(&body)?;
        let marked = v["items"]
            .as_array()
            .context("items")?
            .iter()
            .filter(|e| e["restricted"] == true && e.get("actor_name").is_none())
            .count();
        ensure!(marked == 1, "the restricted reader is not marked: {v}");

        // Exports leave them out.
        let (s, csv) = api(
            &server,
            &staff_t,
            Method::GET,
            "/api/v1/people/export",
            None,
        )
        .await?;
        ensure!(
            s == 200 && !csv.contains(SURNAME) && !csv.contains(&rs_id),
            "export: {csv}"
        );
        let (s, csv) = api(&server, &ca_t, Method::GET, "/api/v1/people/export", None).await?;
        ensure!(
            s == 200 && !csv.contains(&rs_id) && csv.contains(&ca),
            "primary contact's export: {csv}"
        );

        // Every use is refused (409, code `restricted`) and recorded.
        let before = refusals(&server, &rs_id).await?;
        let uses: Vec<(&str, &String, Method, String, Value)> = vec![
            (
                "staff edit",
                &staff_t,
                Method::PATCH,
                person_url.clone(),
                json!({ "function": "Koper" }),
            ),
            (
                "coordinator edit",
                &po_t,
                Method::PATCH,
                person_url.clone(),
                json!({ "function": "Koper" }),
            ),
            (
                "primary contact edit",
                &ca_t,
                Method::PATCH,
                person_url.clone(),
                json!({ "function": "Koper" }),
            ),
            (
                "rights",
                &ca_t,
                Method::PUT,
                format!("{person_url}/rights"),
                json!({ "rights": ["document.read"] }),
            ),
            (
                "roles",
                &staff_t,
                Method::PUT,
                format!("{person_url}/roles"),
                json!({ "roles": ["client_user"] }),
            ),
            (
                "deactivation",
                &ca_t,
                Method::POST,
                format!("{person_url}/deactivate"),
                json!({}),
            ),
            (
                "handover",
                &ca_t,
                Method::POST,
                format!("/api/v1/organisations/{org}/primary-contact"),
                json!({ "person_id": rs_id }),
            ),
        ];
        for (what, token, method, url, body) in uses {
            let (s, text) = api(&server, token, method, &url, Some(body)).await?;
            ensure!(s == 409, "{what}: {s} {text}");
            let v = json_of(&text)?;
            ensure!(v["code"] == "restricted", "{what}: {v}");
        }
        ensure!(
            refusals(&server, &rs_id).await? == before + 7,
            "refusals not recorded"
        );
        let (s, text) = api(&server, &staff_t, Method::POST, "/api/v1/assignments",
            Some(json!({ "dossier_id": dossier, "inspector_id": insp_id, "starts_at": at(10), "ends_at": at(11) }))).await?;
        ensure!(
            s == 409 && json_of(&text)?["code"] == "restricted",
            "assignment of a restricted inspector: {s} {text}"
        );
        ensure!(
            refusals(&server, &insp_id).await? == 1,
            "assignment refusal not recorded"
        );
        let (s, body) = api(&server, &staff_t, Method::GET, &person_url, None).await?;
        ensure!(
            s == 200 && !body.contains("Koper"),
            "a refused change was written: {body}"
        );

        // Mail: the newsletter is withheld (and the skip recorded), the primary contact's
        // arrives; essential mail (a password reset) still reaches the person.
        let subject = format!("Nieuws {t}");
        let staff_web = server.sign_in(&staff, PASSWORD).await?;
        send_newsletter(&server, &staff_web, &subject).await?;
        wait_for_subject(&env.smtp_dir, &ca, &subject, Duration::from_secs(30)).await?;
        let mut withheld = 0;
        for _ in 0..100 {
            withheld = count(&server, &format!("SELECT count(*) FROM outbox WHERE recipient = '{rs}' AND template = 'newsletter' AND withheld_at IS NOT NULL AND sent_at IS NULL")).await?;
            if withheld == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ensure!(
            withheld == 1,
            "the newsletter to a restricted person was not withheld"
        );
        ensure!(
            count(&server, &format!("SELECT count(*) FROM audit_log WHERE action = 'mail.withheld' AND subject_id = '{rs_id}'")).await? == 1,
            "the withheld mail is not recorded"
        );
        forgot(&server, &rs).await?;
        let reset = wait_for_subject(&env.smtp_dir, &rs, "", Duration::from_secs(30)).await?;
        ensure!(
            !reset.subject.contains(&subject),
            "the newsletter reached a restricted person"
        );

        // Lifting: only the coordinator; then everything is as before.
        let (s, _) = api(&server, &staff_t, Method::DELETE, &restriction_url, None).await?;
        ensure!(s == 403, "lifted by staff: {s}");
        let (s, body) = api(&server, &po_t, Method::DELETE, &restriction_url, None).await?;
        ensure!(
            s == 200 && json_of(&body)?["changed"] == true,
            "lift: {s} {body}"
        );
        ensure!(
            count(&server, &format!("SELECT count(*) FROM audit_log WHERE action = 'person.restriction.lift' AND subject_id = '{rs_id}'")).await? == 1,
            "lifting is not recorded"
        );
        let (s, body) = api(
            &server,
            &ca_t,
            Method::GET,
            &format!("/api/v1/people?q={SURNAME}"),
            None,
        )
        .await?;
        let v = json_of(&body)?;
        let one = item(&v, &rs_id).context("not found after lifting")?;
        ensure!(
            s == 200 && one["surname"] == SURNAME && one.get("restricted").is_none(),
            "{one}"
        );
        let (s, csv) = api(
            &server,
            &staff_t,
            Method::GET,
            "/api/v1/people/export",
            None,
        )
        .await?;
        ensure!(
            s == 200 && csv.contains(SURNAME),
            "export after lifting: {csv}"
        );
        let (s, body) = api(
            &server,
            &ca_t,
            Method::PATCH,
            &person_url,
            Some(json!({ "function": "Koper" })),
        )
        .await?;
        ensure!(
            s == 200 && body.contains("Koper"),
            "edit after lifting: {s} {body}"
        );
        server.stop().await
    }
);

databases!(
    /// The person's page: the privacy coordinator's "Restrict processing" asks for confirmation
    /// first, says what happened and shows the badge; the company's primary contact then sees
    /// the contact as "restricted" in the list of contacts and on the page, and a change they
    /// post is refused with the message in their language; lifting restores the page.
    async fn restricted_and_lifted_from_the_persons_page(b: Backends) {
        let dir = tempfile::tempdir()?;
        let register = register_copy(dir.path())?;
        let clock = dir.path().join("clock");
        let server = builder(b, &register, &clock).start().await?;
        let t = tag(&b);
        let org = server.create_client_org(&format!("Pagina {t} NV")).await?;
        let po = format!("po-{t}@cb.example");
        let ca = format!("ca-{t}@page.example");
        let rs = format!("rs-{t}@page.example");
        server.create_user(&po, "privacy_officer").await?;
        server.create_user_in(&ca, "client_admin", &org).await?;
        server.create_user_in(&rs, "client_user", &org).await?;
        let rs_id = person_id(&server, &rs).await?;
        let rs_t = login(&server, &rs).await?;
        let (s, body) = api(
            &server,
            &rs_t,
            Method::PATCH,
            &format!("/api/v1/people/{rs_id}"),
            Some(json!({ "surname": SURNAME })),
        )
        .await?;
        ensure!(s == 200, "{s} {body}");
        let page_url = format!("/people/{rs_id}");

        let coordinator = server.sign_in(&po, PASSWORD).await?;
        server.speak(&coordinator, "nl").await?;
        let (code, html) = page(&server, &coordinator, &page_url).await?;
        ensure!(
            code == 200
                && html.contains("id=\"restrict-submit\"")
                && html.contains("Verwerking beperken"),
            "{code} {html}"
        );
        ensure!(
            !html.contains("id=\"restricted-badge\""),
            "badge before: {html}"
        );
        // The confirmation says what the restriction does, and changes nothing.
        let (code, html) = page(&server, &coordinator, &format!("{page_url}/restrict")).await?;
        ensure!(
            code == 200
                && html.contains("id=\"confirm-action\"")
                && html.contains("wettelijk vereiste"),
            "{code} {html}"
        );
        ensure!(
            count(
                &server,
                &format!(
                    "SELECT count(*) FROM person WHERE email = '{rs}' AND restricted_at IS NOT NULL"
                )
            )
            .await?
                == 0,
            "the confirmation page restricted"
        );
        let reason = html
            .split("name=\"reason\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("reason")?
            .to_owned();
        let (code, location, _) = post(
            &server,
            &coordinator,
            &format!("{page_url}/restrict"),
            &[("reason", reason.as_str())],
        )
        .await?;
        ensure!(code == 303 && location == page_url, "{code} {location}");
        let (code, html) = page(&server, &coordinator, &page_url).await?;
        ensure!(
            code == 200
                && html.contains("id=\"restricted-badge\"")
                && html.contains("Verwerking beperkt"),
            "{html}"
        );
        ensure!(
            html.contains("De verwerking van de gegevens van deze persoon is nu beperkt."),
            "no flash: {html}"
        );
        ensure!(
            html.contains("id=\"restrict-lift\"") && !html.contains(SURNAME),
            "{html}"
        );

        // The primary contact: "beperkt" in the list and on the page, a change refused.
        let primary = server.sign_in(&ca, PASSWORD).await?;
        server.speak(&primary, "fr").await?;
        let (code, html) = page(&server, &primary, "/company").await?;
        ensure!(
            code == 200 && html.contains("limité") && !html.contains(SURNAME),
            "company page: {html}"
        );
        let (code, location, html) = post(
            &server,
            &primary,
            &page_url,
            &[
                ("surname", "Anders"),
                ("first_name", "X"),
                ("phone", ""),
                ("mobile", ""),
                ("fax", ""),
                ("function", ""),
                ("language", "nl"),
            ],
        )
        .await?;
        ensure!(code == 409, "{code} {location} {html}");
        ensure!(
            html.contains("Le traitement des données de cette personne est limité"),
            "{html}"
        );
        ensure!(
            count(
                &server,
                &format!(
                    "SELECT count(*) FROM person WHERE email = '{rs}' AND surname = '{SURNAME}'"
                )
            )
            .await?
                == 1,
            "a refused change was written"
        );

        // The person themself still sees their own page, with the badge.
        let own = server.sign_in(&rs, PASSWORD).await?;
        let (code, html) = page(&server, &own, &page_url).await?;
        ensure!(
            code == 200 && html.contains(SURNAME) && html.contains("id=\"restricted-badge\""),
            "own page: {html}"
        );
        ensure!(
            !html.contains("id=\"restrict-submit\"") && !html.contains("id=\"restrict-lift\""),
            "{html}"
        );

        // Lifting, confirmed first.
        let (code, html) = page(&server, &coordinator, &format!("{page_url}/unrestrict")).await?;
        ensure!(
            code == 200 && html.contains("Beperking opheffen"),
            "{code} {html}"
        );
        let (code, location, _) = post(
            &server,
            &coordinator,
            &format!("{page_url}/unrestrict"),
            &[],
        )
        .await?;
        ensure!(code == 303 && location == page_url, "{code} {location}");
        let (code, html) = page(&server, &primary, "/company").await?;
        ensure!(
            code == 200 && html.contains(SURNAME),
            "after lifting: {html}"
        );
        server.stop().await
    }
);
