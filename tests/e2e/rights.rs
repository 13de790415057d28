//! Rights requests (issue 17) through the real binary on SQLite and PostgreSQL, mails through
//! the SMTP sink, the requests' clock under test control (`privacy.clock_file`): filing signed
//! in and without an account (its link single-use), receipts that verify with the published
//! keys — also after a rotation — and not once altered, due dates across a month end, the
//! coordinator's steps with their refusals, internal notes kept from the requester, reminders
//! and overdue notices once, and the limit on requests from one address.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extranet_tests::mail::{link, wait_for_count, wait_for_subject};
use extranet_tests::{Server, ServerBuilder, TestEnv, databases};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::access::{api, login};

pub(crate) fn set_clock(file: &Path, at: &str) -> anyhow::Result<()> {
    let at = OffsetDateTime::parse(at, &Rfc3339)?;
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, at.format(&Rfc3339)?)?;
    std::fs::rename(tmp, file)?;
    Ok(())
}

/// Addresses no other test (nor another run) uses: the SMTP sink is shared.
pub(crate) fn unique(local: &str) -> String {
    format!("{local}-{}@rights.example", uuid::Uuid::new_v4().simple())
}

/// Verifies a compact JWS with the keys published at /.well-known/jwks.json, as anyone would.
pub(crate) async fn verify_with_jwks(server: &Server, jws: &str) -> anyhow::Result<Option<Value>> {
    let jwks: Value = server
        .client()?
        .get(server.url("/.well-known/jwks.json"))
        .send()
        .await?
        .json()
        .await?;
    let Ok(header) = jsonwebtoken::decode_header(jws) else {
        return Ok(None);
    };
    let kid = header.kid.context("kid")?;
    let Some(jwk) = jwks["keys"]
        .as_array()
        .context("keys")?
        .iter()
        .find(|k| k["kid"] == kid.as_str())
    else {
        return Ok(None);
    };
    let x = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().context("x")?)?;
    let key = jsonwebtoken::DecodingKey::from_ed_der(&x);
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_required_spec_claims::<&str>(&[]);
    v.validate_exp = false;
    v.validate_aud = false;
    Ok(jsonwebtoken::decode::<Value>(jws, &key, &v)
        .ok()
        .map(|d| d.claims))
}

/// One byte of the payload changed.
fn altered(jws: &str) -> String {
    let mut parts: Vec<String> = jws.split('.').map(str::to_owned).collect();
    let mut payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap_or_default();
    if let Some(b) = payload.iter_mut().find(|b| **b == b'2') {
        *b = b'3';
    }
    parts[1] = URL_SAFE_NO_PAD.encode(payload);
    parts.join(".")
}

pub(crate) async fn start(
    b: extranet_tests::Backends,
    clock: &Path,
    coordinator: &str,
) -> anyhow::Result<Server> {
    let env = TestEnv::get();
    ServerBuilder::new(b)
        .env("EXTRANET_SITE__TIME_ZONE", "Europe/Brussels")
        .env("EXTRANET_PRIVACY__CLOCK_FILE", clock.display().to_string())
        .env("EXTRANET_PRIVACY__COORDINATOR_EMAIL", coordinator)
        .env("EXTRANET_PRIVACY__RIGHTS_CHECK_SECS", "1")
        .env("EXTRANET_MAIL__TRANSPORT", "smtp")
        .env("EXTRANET_MAIL__SMTP_HOST", "127.0.0.1")
        .env("EXTRANET_MAIL__SMTP_PORT", env.smtp_port.to_string())
        .env("EXTRANET_MAIL__SMTP_TLS", "none")
        .env("EXTRANET_MAIL__POLL_SECS", "1")
        .start()
        .await
}

/// The first mail to `to` whose body contains `needle`, within 30 seconds.
pub(crate) async fn wait_for_body(
    to: &str,
    needle: &str,
) -> anyhow::Result<extranet_tests::mail::Received> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let all = wait_for_count(&TestEnv::get().smtp_dir, to, 1, Duration::from_secs(30)).await?;
        if let Some(m) = all.into_iter().find(|m| m.body.contains(needle)) {
            return Ok(m);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "no mail to {to} saying {needle}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub(crate) async fn step(
    server: &Server,
    token: &str,
    id: &str,
    body: Value,
) -> anyhow::Result<(u16, Value)> {
    let (status, text) = api(
        server,
        token,
        Method::POST,
        &format!("/api/v1/rights-requests/{id}/steps"),
        Some(body),
    )
    .await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

databases!(
    /// A contact files an access request; its receipt verifies with the published keys (and
    /// after a rotation), an altered one does not; the coordinator extends it once (the
    /// requester mailed the reason), comments internally (never shown), and closes it partly
    /// with a legal ground; every refusal on the way says why and changes nothing.
    async fn filed_signed_in_receipted_extended_and_closed(b: Backends) {
        let dir = tempfile::tempdir()?;
        let clock = dir.path().join("clock");
        // 31 January, late evening in Brussels: received on 31 January, due 28 February.
        set_clock(&clock, "2027-01-31T22:30:00Z")?;
        let coordinator = unique("coordinator");
        let server = start(b, &clock, &coordinator).await?;
        let org = server.create_client_org("Beton Rechten NV").await?;
        let contact = unique("contact");
        let other = unique("other");
        let po = unique("po");
        server.create_user_in(&contact, "client_user", &org).await?;
        server.create_user_in(&other, "client_user", &org).await?;
        server.create_user(&po, "privacy_officer").await?;
        let t_contact = login(&server, &contact).await?;
        let t_other = login(&server, &other).await?;
        let t_po = login(&server, &po).await?;

        // About someone else's data: refused, nothing filed.
        let (status, body) = api(
            &server,
            &t_contact,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["access"], "email": other })),
        )
        .await?;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("your own data"), "{body}");
        let (status, body) = api(
            &server,
            &t_contact,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["everything"] })),
        )
        .await?;
        assert_eq!(status, 422, "{body}");
        let (_, body) = api(
            &server,
            &t_contact,
            Method::GET,
            "/api/v1/rights-requests",
            None,
        )
        .await?;
        assert_eq!(
            serde_json::from_str::<Value>(&body)?["items"]
                .as_array()
                .map(Vec::len),
            Some(0)
        );

        let (status, body) = api(&server, &t_contact, Method::POST, "/api/v1/rights-requests",
            Some(json!({ "rights": ["portability", "access"], "details": "Alles wat u over mij heeft" }))).await?;
        assert_eq!(status, 201, "{body}");
        let req: Value = serde_json::from_str(&body)?;
        let id = req["id"].as_str().context("id")?.to_owned();
        assert_eq!(req["due_on"], "2027-02-28", "{req}");
        assert_eq!(req["state"], "received");
        assert_eq!(req["rights"], json!(["access", "portability"]));
        let number = req["number"].as_str().context("number")?.to_owned();
        assert!(number.starts_with("2027-"), "{number}");

        // The receipt: mailed, downloadable, verifiable by anyone with the published keys.
        let mail = wait_for_subject(
            &TestEnv::get().smtp_dir,
            &contact,
            &number,
            Duration::from_secs(30),
        )
        .await?;
        let receipt = req["receipt"].as_str().context("receipt")?.to_owned();
        assert!(mail.body.contains(&receipt), "the mail carries the receipt");
        assert!(mail.body.contains("2027-02-28"), "{}", mail.body);
        let res = server
            .client()?
            .get(server.url(&format!("/api/v1/rights-requests/{id}/receipt")))
            .bearer_auth(&t_contact)
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.headers()["content-type"], "application/jose");
        assert_eq!(res.text().await?, receipt);
        let claims = verify_with_jwks(&server, &receipt)
            .await?
            .context("the receipt verifies")?;
        assert_eq!(claims["number"], number.as_str());
        assert_eq!(claims["due_on"], "2027-02-28");
        assert_eq!(claims["email"], contact.as_str());
        assert_eq!(claims["rights"], json!(["access", "portability"]));
        let bad = altered(&receipt);
        assert_ne!(bad, receipt);
        assert!(
            verify_with_jwks(&server, &bad).await?.is_none(),
            "an altered receipt does not verify"
        );
        let check = |r: String| {
            let server = &server;
            async move {
                let v: Value = server
                    .client()?
                    .post(server.url("/api/v1/public/rights-receipts/verify"))
                    .json(&json!({ "receipt": r }))
                    .send()
                    .await?
                    .json()
                    .await?;
                anyhow::Ok(v)
            }
        };
        assert_eq!(check(receipt.clone()).await?["valid"], true);
        assert_eq!(check(bad.clone()).await?["valid"], false);
        // A receipt is never an access token, nor the reverse.
        let (status, _) = api(
            &server,
            &receipt,
            Method::GET,
            "/api/v1/rights-requests",
            None,
        )
        .await?;
        assert_eq!(status, 401);
        assert_eq!(check(t_contact.clone()).await?["valid"], false);

        // Only the requester and the coordinator see it.
        let (status, _) = api(
            &server,
            &t_other,
            Method::GET,
            &format!("/api/v1/rights-requests/{id}"),
            None,
        )
        .await?;
        assert_eq!(status, 404);
        let (status, _) = api(
            &server,
            &t_other,
            Method::GET,
            "/api/v1/rights-requests/queue",
            None,
        )
        .await?;
        assert_eq!(status, 403);
        let (status, body) = api(
            &server,
            &t_po,
            Method::GET,
            "/api/v1/rights-requests/queue",
            None,
        )
        .await?;
        assert_eq!(status, 200);
        assert!(body.contains(&id), "{body}");
        let (status, _) = step(&server, &t_contact, &id, json!({ "step": "start" })).await?;
        assert_eq!(status, 403, "the requester does not work the queue");

        // An internal note never reaches the requester; a comment to them does, by mail.
        let (status, _) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "comment", "note": "Check the invoices too", "internal": true }),
        )
        .await?;
        assert_eq!(status, 200);
        let (status, body) = api(
            &server,
            &t_contact,
            Method::GET,
            &format!("/api/v1/rights-requests/{id}"),
            None,
        )
        .await?;
        assert_eq!(status, 200);
        assert!(!body.contains("Check the invoices"), "{body}");
        let (_, body) = api(
            &server,
            &t_po,
            Method::GET,
            &format!("/api/v1/rights-requests/{id}"),
            None,
        )
        .await?;
        assert!(body.contains("Check the invoices"), "{body}");

        // Extensions: at most two months, with a reason, once.
        for (bad, why) in [
            (
                json!({ "step": "extend", "months": 3, "reason": "Busy" }),
                422,
            ),
            (
                json!({ "step": "extend", "months": 2, "reason": "  " }),
                422,
            ),
        ] {
            let (status, body) = step(&server, &t_po, &id, bad.clone()).await?;
            assert_eq!(status, why, "{bad}: {body}");
        }
        let (status, body) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "extend", "months": 2, "reason": "Tien jaar dossiers doorzoeken" }),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["request"]["due_on"], "2027-04-30", "{body}");
        assert_eq!(body["request"]["original_due_on"], "2027-02-28");
        assert_eq!(body["request"]["state"], "extended");
        let (status, body) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "extend", "months": 1, "reason": "Again" }),
        )
        .await?;
        assert_eq!(status, 409, "{body}");
        let mail = wait_for_body(&contact, "Tien jaar dossiers doorzoeken").await?;
        assert!(
            mail.body.contains("Tien jaar dossiers doorzoeken"),
            "{}",
            mail.body
        );
        assert!(mail.body.contains("2027-04-30"), "{}", mail.body);

        // Reminder within a week of the due date, once; the coordinator is mailed.
        set_clock(&clock, "2027-04-26T08:00:00Z")?;
        wait_for_subject(
            &TestEnv::get().smtp_dir,
            &coordinator,
            &format!("{number} is due"),
            Duration::from_secs(30),
        )
        .await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let reminders = wait_for_count(
            &TestEnv::get().smtp_dir,
            &coordinator,
            1,
            Duration::from_secs(1),
        )
        .await?;
        assert_eq!(
            reminders
                .iter()
                .filter(|m| m.subject.contains(&number))
                .count(),
            1,
            "reminded once"
        );

        // Closing: a ground for what is refused, none for what is fulfilled.
        let (status, _) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "close", "outcome": "partly_fulfilled", "note": "Report sent" }),
        )
        .await?;
        assert_eq!(status, 422);
        let (status, _) = step(&server, &t_po, &id, json!({ "step": "close", "outcome": "fulfilled", "note": "x", "ground": "legal_obligation" })).await?;
        assert_eq!(status, 422);
        let (status, body) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "close", "outcome": "partly_fulfilled",
            "note": "Report sent; invoices kept", "ground": "legal_obligation" }),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["request"]["state"], "partly_fulfilled");
        let (status, _) = step(
            &server,
            &t_po,
            &id,
            json!({ "step": "comment", "note": "late" }),
        )
        .await?;
        assert_eq!(status, 409, "a closed request takes no more steps");

        // The history the requester sees: every step but the internal note.
        let (_, body) = api(
            &server,
            &t_contact,
            Method::GET,
            &format!("/api/v1/rights-requests/{id}"),
            None,
        )
        .await?;
        let v: Value = serde_json::from_str(&body)?;
        let kinds: Vec<&str> = v["events"]
            .as_array()
            .context("events")?
            .iter()
            .filter_map(|e| e["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["filed", "extended", "closed"], "{body}");

        // A key rotation: the receipt still verifies, with the published keys and here.
        let (status, out, err) = server.command(&["keys", "rotate"], "").await?;
        assert!(status.success(), "{out} {err}");
        assert!(
            verify_with_jwks(&server, &receipt).await?.is_some(),
            "verifies after a rotation"
        );
        assert_eq!(check(receipt.clone()).await?["valid"], true);
        let (status, body) = api(
            &server,
            &t_contact,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["erasure"] })),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let newer: Value = serde_json::from_str(&body)?;
        let newer = newer["receipt"].as_str().context("receipt")?.to_owned();
        assert!(verify_with_jwks(&server, &newer).await?.is_some());
        Ok(())
    }
);

databases!(
    /// A person without an account files through the public route: nothing is received until the
    /// mailed link is used, the link works once, and one address cannot flood; an overdue
    /// request is listed as such and its notice sent once.
    async fn filed_without_an_account_confirmed_once_and_overdue(b: Backends) {
        let dir = tempfile::tempdir()?;
        let clock = dir.path().join("clock");
        set_clock(&clock, "2028-01-30T10:00:00Z")?;
        let coordinator = unique("coordinator");
        let server = start(b, &clock, &coordinator).await?;
        let po = unique("po");
        server.create_user(&po, "privacy_officer").await?;
        let t_po = login(&server, &po).await?;
        let former = unique("former");
        let file = |lang: &str| json!({ "email": former, "name": "Oud Contact", "language": lang, "rights": ["erasure"], "details": "Wis mij" });
        let client = server.client()?;
        let res = client
            .post(server.url("/api/v1/public/rights-requests"))
            .json(&file("nl"))
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 202);
        let (_, body) = api(
            &server,
            &t_po,
            Method::GET,
            "/api/v1/rights-requests/queue?state=all",
            None,
        )
        .await?;
        assert!(
            !body.contains(&former),
            "not received before it is confirmed: {body}"
        );
        let mail = wait_for_subject(
            &TestEnv::get().smtp_dir,
            &former,
            "bevestig",
            Duration::from_secs(30),
        )
        .await?;
        let url = link(&mail.body)?;
        let token = url.split("token=").nth(1).context("token")?.to_owned();
        for bad in ["nonsense".to_owned(), format!("{token}x")] {
            let res = client
                .post(server.url("/api/v1/public/rights-requests/confirm"))
                .json(&json!({ "token": bad }))
                .send()
                .await?;
            assert_eq!(res.status().as_u16(), 409);
        }
        let res = client
            .post(server.url("/api/v1/public/rights-requests/confirm"))
            .json(&json!({ "token": token }))
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 200);
        let got: Value = res.json().await?;
        // 30 January 2028 + one month: 29 February (a leap year).
        assert_eq!(got["due_on"], "2028-02-29", "{got}");
        assert!(
            verify_with_jwks(&server, got["receipt"].as_str().context("receipt")?)
                .await?
                .is_some()
        );
        let res = client
            .post(server.url("/api/v1/public/rights-requests/confirm"))
            .json(&json!({ "token": token }))
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 409, "a link works once");
        let (_, body) = api(
            &server,
            &t_po,
            Method::GET,
            "/api/v1/rights-requests/queue",
            None,
        )
        .await?;
        assert!(body.contains(&former), "{body}");

        // One address: three a day, then refused with a reason.
        for _ in 0..2 {
            let res = client
                .post(server.url("/api/v1/public/rights-requests"))
                .json(&file("en"))
                .send()
                .await?;
            assert_eq!(res.status().as_u16(), 202);
        }
        let res = client
            .post(server.url("/api/v1/public/rights-requests"))
            .json(&file("en"))
            .send()
            .await?;
        assert_eq!(res.status().as_u16(), 429);
        assert!(res.text().await?.contains("too many requests"));

        // Overdue on 1 March: listed as overdue, the notice sent once.
        set_clock(&clock, "2028-03-01T10:00:00Z")?;
        let number = got["number"].as_str().context("number")?;
        wait_for_subject(
            &TestEnv::get().smtp_dir,
            &coordinator,
            &format!("{number} is overdue"),
            Duration::from_secs(30),
        )
        .await?;
        let (_, body) = api(
            &server,
            &t_po,
            Method::GET,
            "/api/v1/rights-requests/queue?overdue=true",
            None,
        )
        .await?;
        let v: Value = serde_json::from_str(&body)?;
        let items = v["items"].as_array().context("items")?;
        assert_eq!(items.len(), 1, "{body}");
        assert_eq!(items[0]["overdue"], true);
        tokio::time::sleep(Duration::from_secs(3)).await;
        let all = wait_for_count(
            &TestEnv::get().smtp_dir,
            &coordinator,
            1,
            Duration::from_secs(1),
        )
        .await?;
        assert_eq!(
            all.iter().filter(|m| m.subject.contains("overdue")).count(),
            1,
            "overdue notice once"
        );
        Ok(())
    }
);
