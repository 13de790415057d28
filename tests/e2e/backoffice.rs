//! The back office's operations through the real binary (issue 14, item 4): creating
//! organisations, editing dossiers, certificate status with reasons and history, assignments
//! ending soon, pending invitations resent and withdrawn. Each change is audited with the client
//! address; wrong roles are refused as the policy says (and recorded); bad input is a 422 that
//! names the field and writes nothing.

use std::time::Duration;

use anyhow::Context;
use extranet_tests::mail::wait_for_count;
use extranet_tests::{Server, ServerBuilder, matrix};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::access::{api, login};
use crate::auth::sql_rows;

async fn call(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let (status, text) = api(server, token, method, path, body).await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// The audit records of `action`, oldest first: (actor, ip, subject, detail).
async fn audited(server: &Server, action: &str) -> anyhow::Result<Vec<Vec<String>>> {
    sql_rows(
        server,
        &format!(
            "SELECT CAST(actor_id AS TEXT), CAST(actor_ip AS TEXT), CAST(subject_id AS TEXT), \
             CAST(detail AS TEXT) FROM audit_log WHERE action = '{action}' ORDER BY seq"
        ),
    )
    .await
}

async fn count(server: &Server, sql: &str) -> anyhow::Result<i64> {
    let rows = sql_rows(server, &format!("SELECT CAST(({sql}) AS TEXT)")).await?;
    Ok(rows[0][0].parse().unwrap_or(-1))
}

fn field_of(problem: &Value) -> String {
    problem["errors"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

struct Cast {
    staff: String,
    staff_id: String,
    ca: String,
    ca_id: String,
    other: String,
    insp_id: String,
    org_a: String,
}

async fn cast(server: &Server) -> anyhow::Result<Cast> {
    let org_a = server.create_client_org("Beton A NV").await?;
    let org_b = server.create_client_org("Prefab B BV").await?;
    server.create_user("staff@cb.example", "staff").await?;
    server.create_user("insp@cb.example", "inspector").await?;
    server
        .create_user_in("ca@a.example", "client_admin", &org_a)
        .await?;
    server
        .create_user_in("cba@b.example", "client_admin", &org_b)
        .await?;
    let staff = login(server, "staff@cb.example").await?;
    let ca = login(server, "ca@a.example").await?;
    let other = login(server, "cba@b.example").await?;
    let insp = login(server, "insp@cb.example").await?;
    let id_of = |t: String| async move {
        let (_, me) = call(server, &t, Method::GET, "/api/v1/me", None).await?;
        anyhow::Ok(me["id"].as_str().context("id")?.to_owned())
    };
    Ok(Cast {
        staff_id: id_of(staff.clone()).await?,
        ca_id: id_of(ca.clone()).await?,
        insp_id: id_of(insp).await?,
        staff,
        ca,
        other,
        org_a,
    })
}

matrix!(
    /// Organisations created by staff only; dossiers edited and their status changed with a
    /// reason, in a history that keeps order; assignments ending soon; each audited with the
    /// client address, refusals recorded, bad input refused without a trace.
    async fn organisations_dossiers_and_status_are_staff_operations(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let c = cast(&server).await?;
        let orgs = "SELECT count(*) FROM organisation";

        // Organisation creation.
        let (status, org) = call(&server, &c.staff, Method::POST, "/api/v1/organisations",
            Some(json!({ "kind": "rental", "name": "  Verhuur C BV ", "enterprise_number": "0403.170.701" }))).await?;
        assert_eq!(status, 201, "{org}");
        assert_eq!(org["name"], "Verhuur C BV");
        assert_eq!(org["kind"], "rental");
        // (The command line's `org create` writes the same action, without an actor.)
        let org_id = org["id"].as_str().context("org id")?;
        let created = audited(&server, "organisation.create").await?;
        let created: Vec<&Vec<String>> = created.iter().filter(|r| r[2] == org_id).collect();
        assert_eq!(created.len(), 1);
        assert_eq!(created[0][0], c.staff_id);
        assert_eq!(created[0][1], "127.0.0.1");
        let before = count(&server, orgs).await?;
        for (body, field) in [
            (json!({ "kind": "client", "name": "   " }), "name"),
            (
                json!({ "kind": "client", "name": "X", "enterprise_number": "0403.170.702" }),
                "enterprise_number",
            ),
            (
                json!({ "kind": "client", "name": "X", "phone": "12" }),
                "phone",
            ),
            (json!({ "kind": "certification_body", "name": "X" }), "kind"),
        ] {
            let (status, problem) = call(
                &server,
                &c.staff,
                Method::POST,
                "/api/v1/organisations",
                Some(body),
            )
            .await?;
            assert_eq!(status, 422, "{problem}");
            assert_eq!(field_of(&problem), field, "{problem}");
        }
        let (status, problem) = call(
            &server,
            &c.staff,
            Method::POST,
            "/api/v1/organisations",
            Some(json!({ "kind": "client", "name": "Dubbel", "enterprise_number": "0403170701" })),
        )
        .await?;
        assert_eq!(status, 409, "{problem}");
        assert!(
            problem.to_string().contains("enterprise number"),
            "{problem}"
        );
        let (status, _) = call(
            &server,
            &c.ca,
            Method::POST,
            "/api/v1/organisations",
            Some(json!({ "kind": "client", "name": "Eigen Bedrijf" })),
        )
        .await?;
        assert_eq!(status, 403);
        assert_eq!(
            count(&server, orgs).await?,
            before,
            "a refused creation wrote a row"
        );
        let denied = count(&server, "SELECT count(*) FROM audit_log WHERE action = 'access.denied' AND CAST(detail AS TEXT) LIKE '%organisation%' AND CAST(detail AS TEXT) LIKE '%create%'").await?;
        assert!(denied >= 1, "the refusal is not recorded");

        // Dossier edit.
        let (status, d) = call(&server, &c.staff, Method::POST, "/api/v1/dossiers",
            Some(json!({ "organisation_id": c.org_a, "scheme": "BENOR", "status": "application", "valid_from": "2026-01-01" }))).await?;
        assert_eq!(status, 201, "{d}");
        let dossier = d["id"].as_str().context("dossier id")?.to_owned();
        let path = format!("/api/v1/dossiers/{dossier}");
        let (status, d) = call(&server, &c.staff, Method::PATCH, &path,
            Some(json!({ "scheme": "ISO 9001", "certificate_number": "C-123", "valid_until": "2029-12-31" }))).await?;
        assert_eq!(status, 200, "{d}");
        assert_eq!(
            (
                d["scheme"].as_str(),
                d["certificate_number"].as_str(),
                d["valid_until"].as_str()
            ),
            (Some("ISO 9001"), Some("C-123"), Some("2029-12-31"))
        );
        let updates = audited(&server, "dossier.update").await?;
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0][1], "127.0.0.1");
        let detail: Value = serde_json::from_str(&updates[0][3])?;
        assert_eq!(
            detail["scheme"],
            json!({ "from": "BENOR", "to": "ISO 9001" })
        );
        assert_eq!(
            detail["valid_until"],
            json!({ "from": null, "to": "2029-12-31" })
        );
        assert!(detail.get("valid_from").is_none(), "{detail}");
        let (status, problem) = call(
            &server,
            &c.staff,
            Method::PATCH,
            &path,
            Some(json!({ "valid_until": "2025-01-01" })),
        )
        .await?;
        assert_eq!(
            (status, field_of(&problem).as_str()),
            (422, "valid_until"),
            "{problem}"
        );
        let (status, problem) = call(
            &server,
            &c.staff,
            Method::PATCH,
            &path,
            Some(json!({ "scheme": " " })),
        )
        .await?;
        assert_eq!(
            (status, field_of(&problem).as_str()),
            (422, "scheme"),
            "{problem}"
        );
        let (status, _) = call(
            &server,
            &c.ca,
            Method::PATCH,
            &path,
            Some(json!({ "scheme": "Eigen" })),
        )
        .await?;
        assert_eq!(
            status, 403,
            "the company sees its dossier but may not edit it"
        );
        let (status, _) = call(
            &server,
            &c.other,
            Method::PATCH,
            &path,
            Some(json!({ "scheme": "Eigen" })),
        )
        .await?;
        assert_eq!(status, 404, "another company does not see it");
        let (_, d) = call(&server, &c.staff, Method::GET, &path, None).await?;
        assert_eq!(
            d["scheme"], "ISO 9001",
            "a refused edit changed the dossier"
        );
        assert_eq!(audited(&server, "dossier.update").await?.len(), 1);

        // Certificate status, with reasons and history.
        let status_path = format!("{path}/status");
        for (to, reason) in [
            ("active", "certificaat toegekend"),
            ("suspended", "tekortkomingen bij audit"),
            ("active", "tekortkomingen verholpen"),
        ] {
            let (status, d) = call(
                &server,
                &c.staff,
                Method::POST,
                &status_path,
                Some(json!({ "status": to, "reason": reason })),
            )
            .await?;
            assert_eq!(status, 200, "{to}: {d}");
            assert_eq!(d["status"], to);
        }
        let history_before = count(&server, "SELECT count(*) FROM dossier_status_change").await?;
        for (body, needle) in [
            (
                json!({ "status": "active", "reason": "nogmaals" }),
                "already active",
            ),
            (
                json!({ "status": "application", "reason": "terug" }),
                "cannot become application",
            ),
            (
                json!({ "status": "expired", "reason": "   " }),
                "reason is required",
            ),
            (
                json!({ "status": "expired", "reason": "x".repeat(1001) }),
                "reason",
            ),
        ] {
            let (status, problem) =
                call(&server, &c.staff, Method::POST, &status_path, Some(body)).await?;
            assert_eq!(status, 422, "{problem}");
            assert!(problem.to_string().contains(needle), "{needle}: {problem}");
        }
        let (status, _) = call(
            &server,
            &c.ca,
            Method::POST,
            &status_path,
            Some(json!({ "status": "withdrawn", "reason": "wij stoppen" })),
        )
        .await?;
        assert_eq!(status, 403);
        assert_eq!(
            count(&server, "SELECT count(*) FROM dossier_status_change").await?,
            history_before
        );
        let (status, h) = call(
            &server,
            &c.staff,
            Method::GET,
            &format!("{path}/status-history"),
            None,
        )
        .await?;
        assert_eq!(status, 200, "{h}");
        let items = h["items"].as_array().context("items")?;
        let steps: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|i| {
                (
                    i["from_status"].as_str().unwrap_or_default(),
                    i["to_status"].as_str().unwrap_or_default(),
                    i["reason"].as_str().unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(
            steps,
            vec![
                ("application", "active", "certificaat toegekend"),
                ("active", "suspended", "tekortkomingen bij audit"),
                ("suspended", "active", "tekortkomingen verholpen"),
            ]
        );
        assert!(items.iter().all(|i| i["changed_by"] == c.staff_id.as_str()));
        let (status, _) = call(
            &server,
            &c.ca,
            Method::GET,
            &format!("{path}/status-history"),
            None,
        )
        .await?;
        assert_eq!(status, 403);
        let changes = audited(&server, "dossier.status").await?;
        assert_eq!(changes.len(), 3);
        assert!(
            changes
                .iter()
                .all(|r| r[1] == "127.0.0.1" && r[2] == dossier)
        );
        assert!(
            !changes[1][3].contains("tekortkomingen"),
            "the free-text reason belongs in the history only"
        );

        // Assignments ending soon, and the inspectors staff may assign.
        let now = OffsetDateTime::now_utc();
        let at = |days: i64| {
            (now + time::Duration::days(days))
                .format(&Rfc3339)
                .unwrap_or_default()
        };
        let mut ids = Vec::new();
        for (from, until) in [(-1, 2), (-1, 60)] {
            let (status, a) = call(&server, &c.staff, Method::POST, "/api/v1/assignments",
                Some(json!({ "dossier_id": dossier, "inspector_id": c.insp_id, "starts_at": at(from), "ends_at": at(until) }))).await?;
            assert_eq!(status, 201, "{a}");
            ids.push(a["id"].as_str().context("assignment id")?.to_owned());
        }
        let (status, soon) = call(
            &server,
            &c.staff,
            Method::GET,
            "/api/v1/assignments/ending-soon?days=7",
            None,
        )
        .await?;
        assert_eq!(status, 200, "{soon}");
        let listed: Vec<&str> = soon["items"]
            .as_array()
            .context("items")?
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        assert_eq!(listed, vec![ids[0].as_str()]);
        let (status, _) = call(
            &server,
            &c.staff,
            Method::GET,
            "/api/v1/assignments/ending-soon?days=0",
            None,
        )
        .await?;
        assert_eq!(status, 422);
        let (status, ins) =
            call(&server, &c.staff, Method::GET, "/api/v1/inspectors", None).await?;
        assert_eq!(status, 200, "{ins}");
        let listed: Vec<&str> = ins["items"]
            .as_array()
            .context("items")?
            .iter()
            .filter_map(|p| p["id"].as_str())
            .collect();
        assert_eq!(listed, vec![c.insp_id.as_str()]);
        let (_, ins) = call(&server, &c.ca, Method::GET, "/api/v1/inspectors", None).await?;
        assert_eq!(ins["items"], json!([]));
        let (status, a) = call(
            &server,
            &c.staff,
            Method::POST,
            &format!("/api/v1/assignments/{}/end", ids[0]),
            None,
        )
        .await?;
        assert_eq!((status, a["state"].as_str()), (200, Some("ended")), "{a}");
        assert_eq!(audited(&server, "assignment.end").await?[0][1], "127.0.0.1");
        server.stop().await
    }
);

/// The token of an invitation link, and whether its page still accepts it.
async fn link_works(server: &Server, url: &str) -> anyhow::Result<bool> {
    let parsed = url::Url::parse(url)?;
    let path = format!("{}?{}", parsed.path(), parsed.query().unwrap_or_default());
    let status = server
        .browser()?
        .get(server.url(&path))
        .send()
        .await?
        .status();
    Ok(status == 200)
}

async fn links_to(server: &Server, email: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let mails = wait_for_count(
        &server.data_dir.join("mail"),
        email,
        n,
        Duration::from_secs(20),
    )
    .await?;
    mails
        .iter()
        .map(|m| extranet_tests::mail::link(&m.body))
        .collect()
}

matrix!(
    /// Pending invitations: listed for staff and the company's primary contact (not another
    /// company's); resent with a fresh link that replaces the old one; withdrawn so that the link
    /// fails and the address can be invited again. Each audited with the client address.
    async fn invitations_are_listed_resent_and_withdrawn(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_MAIL__POLL_SECS", "1")
            .start()
            .await?;
        let c = cast(&server).await?;
        let email = format!("nieuw-{}@a.example", uuid::Uuid::new_v4().simple());
        let invite = json!({ "first_name": "Nieuw", "surname": "Contact", "email": email, "language": "nl" });
        let (status, p) = call(
            &server,
            &c.ca,
            Method::POST,
            &format!("/api/v1/organisations/{}/contacts", c.org_a),
            Some(invite.clone()),
        )
        .await?;
        assert_eq!(status, 201, "{p}");
        let person = p["id"].as_str().context("person id")?.to_owned();
        let first = links_to(&server, &email, 1).await?.remove(0);
        assert!(link_works(&server, &first).await?);

        for (token, sees) in [(&c.ca, true), (&c.staff, true), (&c.other, false)] {
            let (status, list) =
                call(&server, token, Method::GET, "/api/v1/invitations", None).await?;
            assert_eq!(status, 200, "{list}");
            let found = list["items"]
                .as_array()
                .context("items")?
                .iter()
                .find(|i| i["id"] == person.as_str())
                .cloned();
            assert_eq!(found.is_some(), sees, "{list}");
            if let Some(i) = found {
                assert_eq!(i["invited_by"], c.ca_id.as_str());
                assert_eq!(i["organisation_id"], c.org_a.as_str());
                assert!(
                    i["expires_at"].is_string() && i["invited_at"].is_string(),
                    "{i}"
                );
            }
        }

        // Another company neither resends nor withdraws it.
        for action in ["resend", "withdraw"] {
            let (status, _) = call(
                &server,
                &c.other,
                Method::POST,
                &format!("/api/v1/invitations/{person}/{action}"),
                None,
            )
            .await?;
            assert_eq!(status, 404, "{action}");
        }
        let (status, i) = call(
            &server,
            &c.staff,
            Method::POST,
            &format!("/api/v1/invitations/{person}/resend"),
            None,
        )
        .await?;
        assert_eq!(status, 200, "{i}");
        let links = links_to(&server, &email, 2).await?;
        let second = links
            .into_iter()
            .find(|l| *l != first)
            .context("a new link")?;
        assert!(
            !link_works(&server, &first).await?,
            "the old link still works"
        );
        assert!(
            link_works(&server, &second).await?,
            "the new link does not work"
        );
        let resent = audited(&server, "invitation.resend").await?;
        assert_eq!(
            (
                resent.len(),
                resent[0][0].as_str(),
                resent[0][1].as_str(),
                resent[0][2].as_str()
            ),
            (1, c.staff_id.as_str(), "127.0.0.1", person.as_str())
        );

        let (status, _) = call(
            &server,
            &c.ca,
            Method::POST,
            &format!("/api/v1/invitations/{person}/withdraw"),
            None,
        )
        .await?;
        assert_eq!(status, 204);
        assert!(
            !link_works(&server, &second).await?,
            "a withdrawn invitation's link works"
        );
        let (_, list) = call(&server, &c.staff, Method::GET, "/api/v1/invitations", None).await?;
        assert!(!list.to_string().contains(&person), "{list}");
        let withdrawn = audited(&server, "invitation.withdraw").await?;
        assert_eq!(
            (
                withdrawn.len(),
                withdrawn[0][1].as_str(),
                withdrawn[0][2].as_str()
            ),
            (1, "127.0.0.1", person.as_str())
        );
        assert!(
            !withdrawn[0][3].contains(&email),
            "the address is in the audit log"
        );
        let (status, _) = call(
            &server,
            &c.staff,
            Method::POST,
            &format!("/api/v1/invitations/{person}/resend"),
            None,
        )
        .await?;
        assert_eq!(status, 404, "a withdrawn invitation was resent");

        // The address can be invited again.
        let (status, p) = call(
            &server,
            &c.ca,
            Method::POST,
            &format!("/api/v1/organisations/{}/contacts", c.org_a),
            Some(invite),
        )
        .await?;
        assert_eq!(status, 201, "{p}");
        server.stop().await
    }
);
