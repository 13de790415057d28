//! Each right of a request carried out by the system (issue 17), through the real binary on
//! SQLite and PostgreSQL × local and S3 storage: the access report and the portability archive
//! downloaded by the requester only (with a copy of their document from storage), a
//! rectification accepted field by field, a withdrawal refused while the requester is the only
//! contact of a company whose certification is in progress — each answer mailed in the
//! requester's language and recorded in the audit log.

use std::io::{Cursor, Read};

use anyhow::Context;
use extranet_tests::matrix;
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{PASSWORD, api, login, pdf_bytes, upload};
use crate::backoffice_pages::page;
use crate::consent::count;
use crate::erasure::dossier;
use crate::rights::{set_clock, start, step, unique, wait_for_body};

/// The names in a ZIP archive.
fn names(bytes: &[u8]) -> anyhow::Result<Vec<String>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        out.push(zip.by_index(i)?.name()?.to_string());
    }
    Ok(out)
}

fn entry(bytes: &[u8], name: &str) -> anyhow::Result<String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))?;
    let mut text = String::new();
    zip.by_name(name)?.read_to_string(&mut text)?;
    Ok(text)
}

/// The `carried_out` line of `right` in a step's answer.
fn done<'a>(answer: &'a Value, right: &str) -> anyhow::Result<&'a Value> {
    answer["events"]
        .as_array()
        .context("events")?
        .iter()
        .filter(|e| e["kind"] == "carried_out")
        .map(|e| &e["detail"])
        .find(|d| d["right"] == right)
        .with_context(|| format!("no carried_out line for {right}: {answer}"))
}

matrix!(
    async fn each_right_is_carried_out_and_answered(b: Backends) {
        let dir = tempfile::tempdir()?;
        let clock = dir.path().join("clock");
        set_clock(
            &clock,
            &time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)?,
        )?;
        let coordinator = unique("coordinator");
        let server = start(b, &clock, &coordinator).await?;
        let org = server.create_client_org("Uitvoering Beton NV").await?;
        let staff = unique("staff");
        let contact = unique("contact");
        let po = unique("po");
        server.create_user(&staff, "staff").await?;
        server
            .create_user_in(&contact, "client_admin", &org)
            .await?;
        server.create_user(&po, "privacy_officer").await?;
        let t_staff = login(&server, &staff).await?;
        let t_contact = login(&server, &contact).await?;
        let t_po = login(&server, &po).await?;
        let d = dossier(&server, &t_staff, &org).await?;
        let (s, body) = upload(
            &server,
            &t_contact,
            &format!("/api/v1/dossiers/{d}/documents"),
            "inspection_report",
            "keuring.pdf",
            pdf_bytes("keuring van de centrale"),
        )
        .await?;
        anyhow::ensure!(s == 201, "upload: {s} {body}");

        // Proposed values go with rectification only.
        let (s, body) = api(
            &server,
            &t_contact,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["access"], "proposals": { "surname": "Anders" } })),
        )
        .await?;
        assert_eq!(s, 422, "{body}");
        let (s, body) = api(
            &server,
            &t_contact,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["rectification"], "proposals": { "password_hash": "x" } })),
        )
        .await?;
        assert_eq!(s, 422, "{body}");
        let (s, body) = api(
            &server,
            &t_contact,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({
                "rights": ["access", "portability", "rectification", "withdrawal"],
                "details": "Alles, en verbeter mijn naam",
                "proposals": { "surname": "Verbeterd", "function": "Directeur" }
            })),
        )
        .await?;
        assert_eq!(s, 201, "{body}");
        let req: Value = serde_json::from_str(&body)?;
        let id = req["id"].as_str().context("id")?.to_owned();
        assert_eq!(req["proposals"]["surname"], "Verbeterd", "{req}");

        // Nothing to download before the coordinator carries the right out.
        let web = server.sign_in(&contact, PASSWORD).await?;
        let (code, _) = page(&server, &web, &format!("/account/requests/{id}/report.zip")).await?;
        assert_eq!(code, 404);

        // A right the request does not name, or a requester carrying out their own: refused.
        let (s, a) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "carry_out", "right": "erasure" }),
        )
        .await?;
        assert_eq!(s, 422, "{a}");
        let (s, a) = step(
            &server,
            &t_contact,
            &id,
            json!({ "step": "carry_out", "right": "access" }),
        )
        .await?;
        assert!(s == 403 || s == 404, "{s} {a}");

        // Access: the report, generated; downloaded by the requester with their document.
        let (s, a) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "carry_out", "right": "access" }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        let d_access = done(&a, "access")?;
        assert_eq!(d_access["result"], "done", "{d_access}");
        assert!(
            d_access["detail"]["activities"].as_u64() > Some(0),
            "{d_access}"
        );
        assert_eq!(d_access["detail"]["documents"], 1, "{d_access}");
        assert_eq!(a["request"]["state"], "in_progress", "{a}");
        let (s, again) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "carry_out", "right": "access" }),
        )
        .await?;
        assert_eq!(s, 409, "{again}");

        let (code, html) = page(&server, &web, &format!("/account/requests/{id}")).await?;
        assert_eq!(code, 200);
        assert!(html.contains("id=\"rights-report-zip\""), "{html}");
        assert!(html.contains("data-right=\"access\""), "{html}");
        let res = web
            .get(server.url(&format!("/account/requests/{id}/report.zip")))
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/zip")
        );
        let zip = res.bytes().await?;
        let files = names(&zip)?;
        assert!(files.iter().any(|f| f == "report.json"), "{files:?}");
        assert!(files.iter().any(|f| f == "report.html"), "{files:?}");
        let doc = files
            .iter()
            .find(|f| f.starts_with("documents/"))
            .context("the uploaded document")?;
        assert!(entry(&zip, doc)?.contains("keuring van de centrale"));
        let (code, html) = page(&server, &web, &format!("/account/requests/{id}/report")).await?;
        assert_eq!(code, 200);
        assert!(html.contains("keuring.pdf"), "{html}");
        // Nobody else downloads it, not even the coordinator (their page is the queue's).
        let other = server.sign_in(&po, PASSWORD).await?;
        let (code, _) = page(
            &server,
            &other,
            &format!("/account/requests/{id}/report.zip"),
        )
        .await?;
        assert_eq!(code, 404);
        assert!(
            count(
                &server,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'subject.report'"
            )
            .await?
                >= 3
        );

        // Portability: the archive with its schema.
        let (code, _) = page(
            &server,
            &web,
            &format!("/account/requests/{id}/portability.zip"),
        )
        .await?;
        assert_eq!(code, 404, "not before it is carried out");
        let (s, a) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "carry_out", "right": "portability" }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        let zip = web
            .get(server.url(&format!("/account/requests/{id}/portability.zip")))
            .send()
            .await?
            .bytes()
            .await?;
        let files = names(&zip)?;
        assert!(
            files.iter().any(|f| f == "data.json") && files.iter().any(|f| f == "schema.json"),
            "{files:?}"
        );
        assert!(entry(&zip, "data.json")?.contains(&contact));

        // Rectification: the surname accepted, the function refused (the data is accurate).
        let (s, a) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "carry_out", "right": "rectification", "accept": ["phone"] }),
        )
        .await?;
        assert_eq!(s, 422, "a field not proposed: {a}");
        let (s, a) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "carry_out", "right": "rectification", "accept": ["surname"] }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        let d_rect = done(&a, "rectification")?;
        assert_eq!(d_rect["result"], "partly", "{d_rect}");
        assert_eq!(d_rect["ground"], "accurate", "{d_rect}");
        assert_eq!(d_rect["detail"]["refused"], json!(["function"]), "{d_rect}");
        let (_, me) = api(&server, &t_contact, Method::GET, "/api/v1/me", None).await?;
        let me: Value = serde_json::from_str(&me)?;
        assert_eq!(me["surname"], "Verbeterd", "{me}");
        assert_ne!(me["function"], "Directeur", "{me}");

        // The company's hand-over from its page: her company's data as one archive.
        let (code, html) = page(&server, &web, "/company").await?;
        assert_eq!(code, 200);
        assert!(html.contains("id=\"company-export\""), "{html}");
        let res = web.get(server.url("/company/export")).send().await?;
        assert_eq!(res.status().as_u16(), 200);
        let zip = res.bytes().await?;
        let files = names(&zip)?;
        assert!(
            files.iter().any(|f| f == "organisation.json")
                && files.iter().any(|f| f == "schema.json"),
            "{files:?}"
        );
        assert!(entry(&zip, "organisation.json")?.contains("Uitvoering Beton NV"));

        // Withdrawal: she is the only contact while the certification is in progress.
        let (s, a) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "carry_out", "right": "withdrawal" }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        let d_w = done(&a, "withdrawal")?;
        assert_eq!(d_w["result"], "refused", "{d_w}");
        assert_eq!(d_w["ground"], "contact_required", "{d_w}");
        assert_eq!(
            d_w["detail"]["organisation"], "Uitvoering Beton NV",
            "{d_w}"
        );
        assert_eq!(d_w["detail"]["requester_is_primary"], true, "{d_w}");
        let (code, html) = page(&server, &web, &format!("/account/requests/{id}")).await?;
        assert_eq!(code, 200);
        assert!(html.contains("id=\"rights-name-contact\""), "{html}");

        // Restricted meanwhile: a correction waits for the restriction to be lifted (refused,
        // with the ground), her report is still hers to have.
        let me_id = me["id"].as_str().context("id")?.to_owned();
        let (s, body) = api(
            &server,
            &t_po,
            Method::PUT,
            &format!("/api/v1/people/{me_id}/restriction"),
            Some(json!({ "reason": "Verzoek tot beperking per brief" })),
        )
        .await?;
        assert_eq!(s, 200, "{body}");
        let (s, body) = api(
            &server,
            &t_contact,
            Method::POST,
            "/api/v1/rights-requests",
            Some(
                json!({ "rights": ["rectification", "access", "restriction"],
                         "proposals": { "function": "Zaakvoerder" } }),
            ),
        )
        .await?;
        assert_eq!(s, 201, "{body}");
        let second = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        let (s, a) = step(
            &server,
            &t_po,
            &second,
            json!({ "step": "carry_out", "right": "rectification", "accept": ["function"] }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        let d_r = done(&a, "rectification")?;
        assert_eq!(d_r["result"], "refused", "{d_r}");
        assert_eq!(d_r["ground"], "restricted", "{d_r}");
        let (_, me2) = api(&server, &t_contact, Method::GET, "/api/v1/me", None).await?;
        assert!(!me2.contains("Zaakvoerder"), "{me2}");
        let (s, a) = step(
            &server,
            &t_po,
            &second,
            json!({ "step": "carry_out", "right": "access" }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        assert_eq!(done(&a, "access")?["result"], "done", "{a}");
        let (s, a) = step(
            &server,
            &t_po,
            &second,
            json!({ "step": "carry_out", "right": "restriction" }),
        )
        .await?;
        assert_eq!(s, 200, "{a}");
        assert_eq!(
            done(&a, "restriction")?["reason"],
            "already_restricted",
            "{a}"
        );

        // Four eyes: the coordinator does not carry out a request about their own data.
        let (s, body) = api(
            &server,
            &t_po,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["erasure"] })),
        )
        .await?;
        assert_eq!(s, 201, "{body}");
        let own = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        let (s, a) = step(
            &server,
            &t_po,
            &own,
            json!({ "step": "carry_out", "right": "erasure" }),
        )
        .await?;
        assert_eq!(s, 409, "{a}");
        assert!(
            login(&server, &po).await.is_ok(),
            "the coordinator is still there"
        );

        // Every answer was mailed, in her language (Dutch by default).
        let mail = wait_for_body(&contact, "Verbeterd").await?;
        assert!(mail.body.contains("rectificatie"), "{}", mail.body);
        assert!(
            count(
                &server,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'rights_request.carried_out'"
            )
            .await?
                == 7
        );
        server.stop().await
    }
);
