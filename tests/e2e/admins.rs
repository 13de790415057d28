//! Nobody changes someone above them: a person's roles, rights and account state are changed only
//! by someone who could give every role that person holds (`policies/roles.csv`), and the last
//! active administrator is never demoted or deactivated, whoever asks.

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, databases};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{api, login};
use crate::auth::sql_rows;

async fn id_of(server: &Server, token: &str) -> anyhow::Result<String> {
    let (status, me) = api(server, token, Method::GET, "/api/v1/me", None).await?;
    anyhow::ensure!(status == 200, "me: {status}");
    let me: Value = serde_json::from_str(&me)?;
    Ok(me["id"].as_str().context("id")?.to_owned())
}

async fn denials(server: &Server, actor: &str) -> anyhow::Result<usize> {
    Ok(sql_rows(
        server,
        &format!(
            "SELECT detail FROM audit_log WHERE action = 'access.denied' AND actor_id = '{actor}'"
        ),
    )
    .await?
    .len())
}

databases!(
    async fn staff_cannot_demote_or_deactivate_those_above_them(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        for (email, role) in [
            ("admin@cb.example", "admin"),
            ("staff@cb.example", "staff"),
            ("po@cb.example", "privacy_officer"),
            ("insp@cb.example", "inspector"),
        ] {
            server.create_user(email, role).await?;
        }
        let admin = login(&server, "admin@cb.example").await?;
        let staff = login(&server, "staff@cb.example").await?;
        let (admin_id, staff_id, po_id, insp_id) = (
            id_of(&server, &admin).await?,
            id_of(&server, &staff).await?,
            id_of(&server, &login(&server, "po@cb.example").await?).await?,
            id_of(&server, &login(&server, "insp@cb.example").await?).await?,
        );

        // What the attack run did: staff demote and deactivate the administrator.
        for (m, path, body) in [
            (
                Method::PUT,
                format!("/api/v1/people/{admin_id}/roles"),
                Some(json!({ "roles": ["staff"] })),
            ),
            (
                Method::POST,
                format!("/api/v1/people/{admin_id}/deactivate"),
                None,
            ),
            (
                Method::PUT,
                format!("/api/v1/people/{po_id}/roles"),
                Some(json!({ "roles": ["privacy_officer", "staff"] })),
            ),
            (
                Method::POST,
                format!("/api/v1/people/{po_id}/deactivate"),
                None,
            ),
            // Nor give the roles only an administrator gives.
            (
                Method::PUT,
                format!("/api/v1/people/{insp_id}/roles"),
                Some(json!({ "roles": ["inspector", "privacy_officer"] })),
            ),
            (
                Method::PUT,
                format!("/api/v1/people/{insp_id}/roles"),
                Some(json!({ "roles": ["admin"] })),
            ),
        ] {
            let (status, text) = api(&server, &staff, m.clone(), &path, body).await?;
            assert_eq!(status, 403, "staff {m} {path}: {text}");
            let problem: Value = serde_json::from_str(&text)?;
            assert!(problem["detail"].as_str().is_some(), "a reason: {text}");
        }
        assert_eq!(
            denials(&server, &staff_id).await?,
            6,
            "every refusal recorded"
        );
        // Nothing changed: the administrator still signs in as an administrator.
        let again = login(&server, "admin@cb.example").await?;
        let (_, me) = api(&server, &again, Method::GET, "/api/v1/me", None).await?;
        let me: Value = serde_json::from_str(&me)?;
        assert_eq!(me["roles"], json!(["admin"]));
        // What staff may do: their own kind and below.
        let (status, text) = api(
            &server,
            &staff,
            Method::PUT,
            &format!("/api/v1/people/{insp_id}/roles"),
            Some(json!({ "roles": ["inspector", "staff"] })),
        )
        .await?;
        assert_eq!(status, 200, "{text}");
        // An administrator gives the privacy coordinator's role and may change them.
        let (status, text) = api(
            &server,
            &admin,
            Method::PUT,
            &format!("/api/v1/people/{insp_id}/roles"),
            Some(json!({ "roles": ["privacy_officer"] })),
        )
        .await?;
        assert_eq!(status, 200, "{text}");
        let (status, text) = api(
            &server,
            &admin,
            Method::POST,
            &format!("/api/v1/people/{po_id}/deactivate"),
            None,
        )
        .await?;
        assert_eq!(status, 200, "{text}");
        server.stop().await
    }
);

databases!(
    async fn the_last_active_administrator_stays_whoever_asks(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        server.create_user("admin@cb.example", "admin").await?;
        let admin = login(&server, "admin@cb.example").await?;
        let admin_id = id_of(&server, &admin).await?;

        // The command line is refused too, with the reason, and changes nothing.
        let (status, out, err) = server
            .command(&["user", "deactivate", "admin@cb.example"], "")
            .await?;
        assert!(!status.success(), "{out}");
        assert!(err.contains("last active administrator"), "{err}");
        assert_eq!(
            api(&server, &admin, Method::GET, "/api/v1/me", None)
                .await?
                .0,
            200,
            "the administrator was signed out"
        );

        // Two administrators demoting each other at the same moment: at most one succeeds, and
        // an active administrator remains. Several rounds, so that the two transactions overlap.
        for round in 0..4 {
            let other = format!("admin{round}@cb.example");
            server.create_user(&other, "admin").await?;
            let (a, b) = (
                login(&server, "admin@cb.example").await?,
                login(&server, &other).await?,
            );
            let (a_id, b_id) = (admin_id.clone(), id_of(&server, &b).await?);
            let demote = |token: String, target: String| {
                let server = &server;
                async move {
                    api(
                        server,
                        &token,
                        Method::PUT,
                        &format!("/api/v1/people/{target}/roles"),
                        Some(json!({ "roles": ["staff"] })),
                    )
                    .await
                }
            };
            let (ra, rb) = tokio::join!(
                demote(a.clone(), b_id.clone()),
                demote(b.clone(), a_id.clone())
            );
            let (sa, ta) = ra?;
            let (sb, tb) = rb?;
            let statuses = [sa, sb];
            assert!(
                statuses.iter().filter(|s| **s == 200).count() == 1,
                "round {round}: {sa} {ta} / {sb} {tb}"
            );
            for (s, t) in [(sa, &ta), (sb, &tb)] {
                if s == 409 {
                    assert!(t.contains("last active administrator"), "{t}");
                } else {
                    // 403: the other's change came first and left this caller staff; 401: it
                    // came first and ended this caller's token (roles changed).
                    assert!([200, 401, 403].contains(&s), "round {round}: {s} {t}");
                }
            }
            let admins = sql_rows(
                &server,
                "SELECT p.email FROM person p JOIN person_role r ON r.person_id = p.id \
                 WHERE r.role = 'admin' AND p.state = 'active'",
            )
            .await?;
            assert_eq!(admins.len(), 1, "round {round}: {admins:?}");
            if admins[0][0] != "admin@cb.example" {
                // The other one won: give the role back so the next round starts alike.
                let back = login(&server, &admins[0][0]).await?;
                let (s, t) = api(
                    &server,
                    &back,
                    Method::PUT,
                    &format!("/api/v1/people/{admin_id}/roles"),
                    Some(json!({ "roles": ["admin"] })),
                )
                .await?;
                assert_eq!(s, 200, "{t}");
                let (s, t) = api(
                    &server,
                    &login(&server, "admin@cb.example").await?,
                    Method::PUT,
                    &format!("/api/v1/people/{}/roles", id_of(&server, &back).await?),
                    Some(json!({ "roles": ["staff"] })),
                )
                .await?;
                assert_eq!(s, 200, "{t}");
            }
        }
        server.stop().await
    }
);

databases!(
    async fn pages_offer_no_deactivation_of_those_above_the_viewer(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let mut password = String::new();
        for (email, role) in [
            ("admin@cb.example", "admin"),
            ("staff@cb.example", "staff"),
            ("po@cb.example", "privacy_officer"),
            ("insp@cb.example", "inspector"),
        ] {
            password = server.create_user(email, role).await?;
        }
        let mut ids = std::collections::BTreeMap::new();
        for email in ["admin@cb.example", "po@cb.example", "insp@cb.example"] {
            ids.insert(email, id_of(&server, &login(&server, email).await?).await?);
        }
        let staff = server.sign_in("staff@cb.example", &password).await?;
        for (email, offered) in [
            ("admin@cb.example", false),
            ("po@cb.example", false),
            ("insp@cb.example", true),
        ] {
            let html = staff
                .get(server.url(&format!("/people/{}", ids[email])))
                .send()
                .await?
                .text()
                .await?;
            assert_eq!(
                html.contains("id=\"state-submit\""),
                offered,
                "{email}: deactivation offered to staff: {html}"
            );
        }
        // The administrator is offered it for the privacy coordinator.
        let admin = server.sign_in("admin@cb.example", &password).await?;
        let html = admin
            .get(server.url(&format!("/people/{}", ids["po@cb.example"])))
            .send()
            .await?
            .text()
            .await?;
        assert!(html.contains("id=\"state-submit\""), "{html}");
        server.stop().await
    }
);
