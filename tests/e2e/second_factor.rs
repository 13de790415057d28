//! The second factor (TOTP) through the real binary, over the API and the pages: enrolment at
//! sign-in for a role that requires it, codes good once, recovery codes good once, clients
//! opting in and out, wrong codes throttled (429 + Retry-After), an administrator's reset
//! (audited, sessions ended) and anyone else's refused. The harness turns the requirement off
//! for other tests; these turn it on (`unset` leaves the server's default: admin, staff,
//! privacy coordinator, inspector).

use anyhow::{Context, ensure};
use extranet_tests::totp::{code, secret_of_uri};
use extranet_tests::{Backends, Server, ServerBuilder, databases};
use serde_json::{Value, json};

use crate::auth::sql_rows;

const ROLES: &str = "EXTRANET_AUTH__SECOND_FACTOR_ROLES";

async fn with_default_roles(b: Backends) -> anyhow::Result<Server> {
    ServerBuilder::new(b).unset(ROLES).start().await
}

async fn post(
    server: &Server,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<(u16, Value, reqwest::header::HeaderMap)> {
    let mut req = server.client()?.post(server.url(path)).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await?;
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).with_context(|| format!("{path}: {text}"))?
    };
    Ok((status, v, headers))
}

async fn login(server: &Server, email: &str, password: &str) -> anyhow::Result<(u16, Value)> {
    let (s, v, _) = post(
        server,
        "/api/v1/auth/login",
        None,
        json!({ "email": email, "password": password }),
    )
    .await?;
    Ok((s, v))
}

async fn second_step(server: &Server, challenge: &str, code: &str) -> anyhow::Result<(u16, Value)> {
    let (s, v, _) = post(
        server,
        "/api/v1/auth/login/second-factor",
        None,
        json!({ "challenge": challenge, "code": code }),
    )
    .await?;
    Ok((s, v))
}

/// Signs in someone whose role requires a second factor and who has none: enrols at sign-in.
/// Returns (access token, refresh token, secret, recovery codes).
async fn enrol_at_sign_in(
    server: &Server,
    email: &str,
    password: &str,
) -> anyhow::Result<(String, String, String, Vec<String>)> {
    let (s, v) = login(server, email, password).await?;
    ensure!(s == 401, "{email}: {s} {v}");
    ensure!(v["code"] == "second_factor_enrolment_required", "{v}");
    let secret = v["enrolment"]["secret"]
        .as_str()
        .context("secret")?
        .to_owned();
    let challenge = v["challenge"].as_str().context("challenge")?;
    let (s, v) = second_step(server, challenge, &code(&secret, 0)?).await?;
    ensure!(s == 200, "{email} enrolment: {s} {v}");
    let codes: Vec<String> = v["recovery_codes"]
        .as_array()
        .context("recovery codes")?
        .iter()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    Ok((
        v["access_token"].as_str().context("access")?.to_owned(),
        v["refresh_token"].as_str().context("refresh")?.to_owned(),
        secret,
        codes,
    ))
}

/// The id of the person an access token belongs to.
async fn id_of(server: &Server, token: &str) -> anyhow::Result<String> {
    let me: Value = server
        .client()?
        .get(server.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    Ok(me["id"].as_str().context("id")?.to_owned())
}

/// A browser signed in through the pages: the password, then a code `steps_ahead` steps on.
async fn page_sign_in(
    server: &Server,
    email: &str,
    password: &str,
    secret: &str,
    steps_ahead: u64,
) -> anyhow::Result<reqwest::Client> {
    let browser = server.browser()?;
    let csrf = server.csrf(&browser, "/login").await?;
    let res = browser
        .post(server.url("/login"))
        .header("origin", server.origin())
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await?;
    ensure!(
        res.headers()["location"] == "/login/second-factor",
        "{email}: {res:?}"
    );
    let csrf = server.csrf(&browser, "/login/second-factor").await?;
    let res = browser
        .post(server.url("/login/second-factor"))
        .header("origin", server.origin())
        .form(&[
            ("code", code(secret, steps_ahead)?.as_str()),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await?;
    ensure!(res.headers()["location"] == "/home", "{email}: {res:?}");
    Ok(browser)
}

async fn count(server: &Server, sql: &str) -> anyhow::Result<i64> {
    let rows = sql_rows(server, sql).await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1))
}

async fn audit_actions(server: &Server) -> anyhow::Result<Vec<(String, String)>> {
    Ok(
        sql_rows(server, "SELECT action, detail FROM audit_log ORDER BY seq")
            .await?
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect(),
    )
}

databases!(
    /// A staff member signs in for the first time: no session until they enrol; then a code
    /// signs them in once, a recovery code once, and the log names the factor used — never a
    /// code or the secret.
    async fn staff_enrol_at_sign_in_and_codes_are_good_once(b: Backends) {
        let server = with_default_roles(b).await?;
        let email = "staff@cb.example";
        let password = server.create_user(email, "staff").await?;

        let (s, v) = login(&server, email, &password).await?;
        assert_eq!(s, 401, "{v}");
        assert_eq!(v["code"], "second_factor_enrolment_required", "{v}");
        assert!(v.get("access_token").is_none(), "{v}");
        let uri = v["enrolment"]["otpauth_uri"].as_str().context("uri")?;
        let secret = v["enrolment"]["secret"]
            .as_str()
            .context("secret")?
            .to_owned();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert_eq!(secret_of_uri(uri).as_deref(), Some(secret.as_str()));
        let challenge = v["challenge"].as_str().context("challenge")?.to_owned();
        assert_eq!(
            count(&server, "SELECT CAST(COUNT(*) AS TEXT) FROM auth_session").await?,
            0,
            "a session exists before the second factor"
        );
        // The challenge is not a token.
        let me = server
            .client()?
            .get(server.url("/api/v1/me"))
            .bearer_auth(&challenge)
            .send()
            .await?;
        assert_eq!(me.status(), 401);

        let (s, v) = second_step(&server, &challenge, "000000").await?;
        assert_eq!((s, v["code"].as_str()), (401, Some("wrong_code")), "{v}");
        let first = code(&secret, 0)?;
        let (s, v) = second_step(&server, &challenge, &first).await?;
        assert_eq!(s, 200, "{v}");
        let codes: Vec<String> = serde_json::from_value(v["recovery_codes"].clone())?;
        assert_eq!(codes.len(), 10);
        let token = v["access_token"].as_str().context("token")?.to_owned();
        let (s, v) = second_step(&server, &challenge, &code(&secret, 1)?).await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("challenge_expired")),
            "used twice: {v}"
        );

        let status: Value = server
            .client()?
            .get(server.url("/api/v1/me/second-factor"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(status["enrolled"], true, "{status}");
        assert_eq!(status["required"], true, "{status}");
        assert_eq!(status["recovery_codes_left"], 10, "{status}");

        // Signing in again: a code, the same one refused (replay), the next one accepted.
        let (s, v) = login(&server, email, &password).await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("second_factor_required")),
            "{v}"
        );
        assert!(v.get("enrolment").is_none(), "{v}");
        let challenge = v["challenge"].as_str().context("challenge")?.to_owned();
        let (s, v) = second_step(&server, &challenge, &first).await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("wrong_code")),
            "replayed: {v}"
        );
        let (s, v) = second_step(&server, &challenge, &code(&secret, 1)?).await?;
        assert_eq!(s, 200, "{v}");
        assert!(v.get("recovery_codes").is_none(), "{v}");

        // A recovery code signs in once, in whatever spelling it is typed.
        let (_, v) = login(&server, email, &password).await?;
        let challenge = v["challenge"].as_str().context("challenge")?.to_owned();
        let (s, v) = second_step(&server, &challenge, &codes[0]).await?;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["recovery_codes_left"], 9, "{v}");
        let (_, v) = login(&server, email, &password).await?;
        let challenge = v["challenge"].as_str().context("challenge")?.to_owned();
        let (s, v) = second_step(&server, &challenge, &codes[0]).await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("wrong_code")),
            "spent: {v}"
        );
        let typed = codes[1].to_uppercase().replace('-', " ");
        let (s, v) = second_step(&server, &challenge, &typed).await?;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["recovery_codes_left"], 8, "{v}");

        let log = audit_actions(&server).await?;
        let successes: Vec<&String> = log
            .iter()
            .filter(|(a, _)| a == "auth.login.success")
            .map(|(_, d)| d)
            .collect();
        assert_eq!(successes.len(), 4, "{log:?}");
        assert!(successes[0].contains("\"enrolled\":true"), "{successes:?}");
        assert!(successes[1].contains("\"totp\""), "{successes:?}");
        assert!(successes[2].contains("recovery_code"), "{successes:?}");
        assert!(log.iter().any(|(a, _)| a == "auth.second_factor.enrol"));
        let failures: Vec<&String> = log
            .iter()
            .filter(|(a, _)| a == "auth.second_factor.failure")
            .map(|(_, d)| d)
            .collect();
        assert_eq!(failures.len(), 3, "{log:?}");
        assert!(
            failures.iter().any(|d| d.contains("code already used")),
            "{failures:?}"
        );
        let everything = format!("{log:?}");
        for secret_thing in [secret.as_str(), first.as_str(), codes[0].as_str(), "000000"] {
            assert!(
                !everything.contains(secret_thing),
                "{secret_thing} in the audit log"
            );
        }
        assert!(
            !server.stderr().contains(&secret) && !server.stderr().contains(&codes[1]),
            "a secret in the server's log"
        );
        server.stop().await
    }
);

databases!(
    /// A role that requires a second factor gets no session without enrolling, cannot turn it
    /// off, and which roles require it is configuration.
    async fn required_roles_enrol_first_and_are_configurable(b: Backends) {
        let server = with_default_roles(b).await?;
        let password = server.create_user("insp@cb.example", "inspector").await?;
        let (s, v) = login(&server, "insp@cb.example", &password).await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("second_factor_enrolment_required"))
        );
        let challenge = v["challenge"].as_str().context("challenge")?;
        // Neither the challenge nor a guess at a recovery code makes a session.
        let (s, _, _) = post(
            &server,
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": challenge }),
        )
        .await?;
        assert_eq!(s, 401);
        let (s, v) = second_step(&server, challenge, "abcd-efgh-jkmn-pqrs").await?;
        assert_eq!((s, v["code"].as_str()), (401, Some("wrong_code")), "{v}");
        assert_eq!(
            count(&server, "SELECT CAST(COUNT(*) AS TEXT) FROM auth_session").await?,
            0
        );
        let (token, _, _, _) = enrol_at_sign_in(&server, "insp@cb.example", &password).await?;
        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor/disable",
            Some(&token),
            json!({ "password": password }),
        )
        .await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (403, Some("required_by_role")),
            "{v}"
        );
        server.stop().await?;

        // Configured: client administrators must, staff need not.
        let server = ServerBuilder::new(b)
            .env(ROLES, "[client_admin]")
            .start()
            .await?;
        let password = server.create_user("staff@cb.example", "staff").await?;
        let (s, v) = login(&server, "staff@cb.example", &password).await?;
        assert_eq!(s, 200, "staff without a required factor: {v}");
        let org = server.create_client_org("Beton NV").await?;
        server
            .create_user_in("ca@beton.example", "client_admin", &org)
            .await?;
        let (s, v) = login(&server, "ca@beton.example", &password).await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("second_factor_enrolment_required")),
            "{v}"
        );
        server.stop().await
    }
);

databases!(
    /// A client opts in on their own, gets new recovery codes (the old ones stop working) and
    /// turns the factor off again with their password.
    async fn clients_opt_in_replace_codes_and_opt_out(b: Backends) {
        let server = with_default_roles(b).await?;
        let org = server.create_client_org("Beton NV").await?;
        let email = "cu@beton.example";
        let password = server.create_user_in(email, "client_user", &org).await?;
        let (s, v) = login(&server, email, &password).await?;
        assert_eq!(s, 200, "a client needs no second factor: {v}");
        let token = v["access_token"].as_str().context("token")?.to_owned();

        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor/confirm",
            Some(&token),
            json!({ "code": "123456" }),
        )
        .await?;
        assert_eq!((s, v["code"].as_str()), (409, Some("no_enrolment")), "{v}");
        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor",
            Some(&token),
            json!({ "password": "not-it" }),
        )
        .await?;
        assert_eq!(s, 422, "enrolment without the password: {v}");
        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor",
            Some(&token),
            json!({ "password": password }),
        )
        .await?;
        assert_eq!(s, 201, "{v}");
        let secret = v["secret"].as_str().context("secret")?.to_owned();
        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor/confirm",
            Some(&token),
            json!({ "code": "12345" }),
        )
        .await?;
        assert_eq!(s, 422, "{v}");
        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor/confirm",
            Some(&token),
            json!({ "code": code(&secret, 0)? }),
        )
        .await?;
        assert_eq!(s, 200, "{v}");
        let old: Vec<String> = serde_json::from_value(v["recovery_codes"].clone())?;
        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor",
            Some(&token),
            json!({ "password": password }),
        )
        .await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (409, Some("already_enrolled")),
            "{v}"
        );

        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor/recovery-codes",
            Some(&token),
            json!({ "code": code(&secret, 1)? }),
        )
        .await?;
        assert_eq!(s, 200, "{v}");
        let new: Vec<String> = serde_json::from_value(v["recovery_codes"].clone())?;
        assert!(new.iter().all(|c| !old.contains(c)));

        // Now signing in takes a code; an old recovery code no longer does.
        let (s, v) = login(&server, email, &password).await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("second_factor_required")),
            "{v}"
        );
        let challenge = v["challenge"].as_str().context("challenge")?;
        let (s, _) = second_step(&server, challenge, &old[0]).await?;
        assert_eq!(s, 401, "a replaced recovery code");
        let (s, v) = second_step(&server, challenge, &new[0]).await?;
        assert_eq!(s, 200, "{v}");

        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor/disable",
            Some(&token),
            json!({}),
        )
        .await?;
        assert_eq!(s, 422, "neither code nor password: {v}");
        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor/disable",
            Some(&token),
            json!({ "password": "not-the-password" }),
        )
        .await?;
        assert_eq!(s, 422, "{v}");
        let (s, v, _) = post(
            &server,
            "/api/v1/me/second-factor/disable",
            Some(&token),
            json!({ "password": password }),
        )
        .await?;
        assert_eq!(s, 204, "{v}");
        let (s, v) = login(&server, email, &password).await?;
        assert_eq!(s, 200, "password only again: {v}");
        let log = audit_actions(&server).await?;
        for action in [
            "auth.second_factor.enrolment_started",
            "auth.second_factor.enrol",
            "auth.second_factor.recovery_codes",
            "auth.second_factor.disable",
        ] {
            assert!(log.iter().any(|(a, _)| a == action), "{action} not audited");
        }
        server.stop().await
    }
);

databases!(
    /// Five wrong codes in a row: the next attempt, even with the right code, waits (429 with
    /// Retry-After); every failure and the throttled attempt are audited, without the codes.
    async fn wrong_codes_are_throttled(b: Backends) {
        let server = with_default_roles(b).await?;
        let email = "po@cb.example";
        let password = server.create_user(email, "privacy_officer").await?;
        let (_, _, secret, _) = enrol_at_sign_in(&server, email, &password).await?;
        let (_, v) = login(&server, email, &password).await?;
        let challenge = v["challenge"].as_str().context("challenge")?.to_owned();
        for wrong in ["111111", "222222", "333333", "444444", "555555"] {
            let (s, v) = second_step(&server, &challenge, wrong).await?;
            assert_eq!((s, v["code"].as_str()), (401, Some("wrong_code")), "{v}");
        }
        let (s, v, headers) = post(
            &server,
            "/api/v1/auth/login/second-factor",
            None,
            json!({ "challenge": challenge, "code": code(&secret, 1)? }),
        )
        .await?;
        assert_eq!(s, 429, "{v}");
        let retry: u64 = headers
            .get("retry-after")
            .context("Retry-After")?
            .to_str()?
            .parse()?;
        assert!(retry >= 1, "{retry}");
        assert_eq!(
            count(&server, "SELECT CAST(COUNT(*) AS TEXT) FROM auth_session").await?,
            1,
            "only the enrolment's session"
        );
        let log = audit_actions(&server).await?;
        let failures = log
            .iter()
            .filter(|(a, _)| a == "auth.second_factor.failure")
            .count();
        assert_eq!(failures, 5, "{log:?}");
        assert!(log.iter().any(|(a, _)| a == "auth.second_factor.throttled"));
        assert!(
            !format!("{log:?}").contains("333333"),
            "a typed code in the log"
        );
        server.stop().await
    }
);

databases!(
    /// An administrator resets an inspector's lost factor: removed, audited, the inspector's
    /// sessions ended, and they enrol again at their next sign-in. Staff may not (403,
    /// recorded); an administrator resetting their own keeps the session in use.
    async fn admins_reset_a_lost_factor_and_nobody_else_does(b: Backends) {
        let server = with_default_roles(b).await?;
        let password = server.create_user("admin@cb.example", "admin").await?;
        server.create_user("staff@cb.example", "staff").await?;
        server.create_user("insp@cb.example", "inspector").await?;
        let (admin, admin_refresh, _, _) =
            enrol_at_sign_in(&server, "admin@cb.example", &password).await?;
        let (staff, _, _, _) = enrol_at_sign_in(&server, "staff@cb.example", &password).await?;
        let (insp, insp_refresh, _, _) =
            enrol_at_sign_in(&server, "insp@cb.example", &password).await?;
        let insp_id = id_of(&server, &insp).await?;
        let path = format!("/api/v1/people/{insp_id}/second-factor");

        let res = server
            .client()?
            .delete(server.url(&path))
            .bearer_auth(&staff)
            .send()
            .await?;
        assert_eq!(res.status(), 403, "staff reset someone's factor");
        let denied = count(
            &server,
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'access.denied' \
             AND detail LIKE '%reset_second_factor%'",
        )
        .await?;
        assert_eq!(denied, 1, "the refusal is recorded");

        let res = server
            .client()?
            .delete(server.url(&path))
            .bearer_auth(&admin)
            .send()
            .await?;
        assert_eq!(res.status(), 200);
        let done: Value = res.json().await?;
        assert_eq!(done["factors_removed"], 1, "{done}");
        assert_eq!(done["sessions_ended"], 1, "{done}");
        let (s, _, _) = post(
            &server,
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": insp_refresh }),
        )
        .await?;
        assert_eq!(s, 401, "the inspector's session survived the reset");
        let (s, v) = login(&server, "insp@cb.example", &password).await?;
        assert_eq!(
            (s, v["code"].as_str()),
            (401, Some("second_factor_enrolment_required")),
            "{v}"
        );
        let log = audit_actions(&server).await?;
        let reset = log
            .iter()
            .find(|(a, _)| a == "auth.second_factor.reset")
            .context("reset not audited")?;
        assert!(reset.1.contains("\"sessions_ended\":1"), "{reset:?}");

        // Their own: the session in use stays.
        let admin_id = id_of(&server, &admin).await?;
        let res = server
            .client()?
            .delete(server.url(&format!("/api/v1/people/{admin_id}/second-factor")))
            .bearer_auth(&admin)
            .send()
            .await?;
        assert_eq!(res.status(), 200);
        let done: Value = res.json().await?;
        assert_eq!(done["sessions_ended"], 0, "{done}");
        let (s, v, _) = post(
            &server,
            "/api/v1/auth/refresh",
            None,
            json!({ "refresh_token": admin_refresh }),
        )
        .await?;
        assert_eq!(s, 200, "{v}");
        server.stop().await
    }
);

databases!(
    /// The same in the pages: the second step after the password, an administrator's reset
    /// button on a person's page with a confirmation step (staff see none), the notice.
    async fn pages_ask_for_the_code_and_admins_reset_with_a_confirmation(b: Backends) {
        let server = with_default_roles(b).await?;
        let password = server.create_user("admin@cb.example", "admin").await?;
        server.create_user("staff@cb.example", "staff").await?;
        let (admin_token, _, admin_secret, _) =
            enrol_at_sign_in(&server, "admin@cb.example", &password).await?;
        let (staff_token, _, staff_secret, _) =
            enrol_at_sign_in(&server, "staff@cb.example", &password).await?;
        let staff_id = id_of(&server, &staff_token).await?;
        let admin_id = id_of(&server, &admin_token).await?;

        // Staff see no reset button and cannot reach the confirmation.
        let staff = page_sign_in(&server, "staff@cb.example", &password, &staff_secret, 1).await?;
        let page = staff
            .get(server.url(&format!("/people/{admin_id}")))
            .send()
            .await?
            .text()
            .await?;
        assert!(
            !page.contains("id=\"reset-factor\""),
            "staff offered a reset"
        );
        let res = staff
            .get(server.url(&format!("/people/{admin_id}/second-factor/reset")))
            .send()
            .await?;
        assert_eq!(res.status(), 403);

        // The password alone signs nobody in: it leads to the code.
        let browser = server.browser()?;
        let csrf = server.csrf(&browser, "/login").await?;
        let res = browser
            .post(server.url("/login"))
            .header("origin", server.origin())
            .form(&[
                ("email", "admin@cb.example"),
                ("password", password.as_str()),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/login/second-factor");
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("__Host-signin="))
            .context("challenge cookie")?
            .to_owned();
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie}");
        }
        assert!(
            browser.get(server.url("/account")).send().await?.status() == 303,
            "a session before the code"
        );
        let page = browser
            .get(server.url("/login/second-factor"))
            .header("accept-language", "fr")
            .send()
            .await?
            .text()
            .await?;
        assert!(page.contains("Code de vérification"), "{page}");
        let csrf = server.csrf(&browser, "/login/second-factor").await?;
        let res = browser
            .post(server.url("/login/second-factor"))
            .header("origin", server.origin())
            .form(&[
                ("code", code(&admin_secret, 1)?.as_str()),
                ("csrf", csrf.as_str()),
            ])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        // The account page asked for before the code is where the sign-in ends.
        assert_eq!(res.headers()["location"], "/account");
        let account = browser.get(server.url("/account")).send().await?;
        assert_eq!(account.status(), 200);

        // The reset: a button, a confirmation page, the change.
        let person = browser
            .get(server.url(&format!("/people/{staff_id}")))
            .send()
            .await?
            .text()
            .await?;
        assert!(
            person.contains("id=\"reset-factor\""),
            "no reset button for the admin"
        );
        let confirm = browser
            .get(server.url(&format!("/people/{staff_id}/second-factor/reset")))
            .header("accept-language", "nl")
            .send()
            .await?;
        assert_eq!(confirm.status(), 200);
        let confirm = confirm.text().await?;
        assert!(confirm.contains("Tweede factor herstellen"), "{confirm}");
        let csrf = confirm
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .context("csrf")?
            .to_owned();
        let res = browser
            .post(server.url(&format!("/people/{staff_id}/second-factor/reset")))
            .header("origin", server.origin())
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        let back = res.headers()["location"].to_str()?.to_owned();
        server.speak(&browser, "en").await?;
        let page = browser
            .get(server.url(&back))
            .header("accept-language", "en")
            .send()
            .await?
            .text()
            .await?;
        assert!(page.contains("The second factor is reset"), "{page}");
        assert!(
            audit_actions(&server)
                .await?
                .iter()
                .any(|(a, _)| a == "auth.second_factor.reset"),
            "not audited"
        );

        // The staff member enrols again at their next sign-in.
        drop(staff);
        let (_, v) = login(&server, "staff@cb.example", &password).await?;
        assert_eq!(
            v["code"], "second_factor_enrolment_required",
            "staff enrol again: {v}"
        );
        server.stop().await
    }
);

databases!(
    /// The shared secret is kept like the signing keys: sealed under the key-encryption key,
    /// bound to its row, and moved by `keys rotate` to a new key-encryption key, after which
    /// codes still check out with only the new key configured.
    async fn secrets_are_sealed_and_move_with_the_key_encryption_key(b: Backends) {
        let dir = tempfile::tempdir()?;
        let (kek1, kek2) = (
            extranet_tests::keys::new_kek()?,
            extranet_tests::keys::new_kek()?,
        );
        let builder = |kek: &str, pg: &Option<String>| {
            let mut s = ServerBuilder::new(b)
                .unset(ROLES)
                .data_dir(dir.path())
                .env("EXTRANET_KEYS__ENCRYPTION_KEY", kek);
            if let Some(url) = pg {
                s = s.env("EXTRANET_DATABASE__URL", url.clone());
            }
            s
        };
        let mut first = builder(&kek1, &None).start().await?;
        let pg = first.pg_url().map(str::to_owned);
        let pw = first.create_user("staf@cb.example", "staff").await?;
        let (_, _, secret, _) = enrol_at_sign_in(&first, "staf@cb.example", &pw).await?;
        let compact: String = secret.chars().filter(|c| !c.is_whitespace()).collect();
        let stored = sql_rows(&first, "SELECT secret FROM second_factor").await?;
        let [row] = stored.as_slice() else {
            anyhow::bail!("one factor expected: {stored:?}");
        };
        assert!(row[0].starts_with("sealed-v1:"), "{}", row[0]);
        assert!(!row[0].contains(&compact), "the secret in clear");
        first.signal("TERM")?;
        first.wait_exit(std::time::Duration::from_secs(20)).await?;

        // A new key-encryption key, the old one given as previous while `keys rotate` runs.
        let data = dir.path().display().to_string();
        let mut env = vec![
            ("EXTRANET_DATA_DIR", data.as_str()),
            ("EXTRANET_KEYS__ENCRYPTION_KEY", kek2.as_str()),
            ("EXTRANET_KEYS__PREVIOUS_ENCRYPTION_KEY", kek1.as_str()),
        ];
        if let Some(url) = &pg {
            env.push(("EXTRANET_DATABASE__URL", url.as_str()));
        }
        let (status, out, err) =
            extranet_tests::server::run_command(&["keys", "rotate"], &env).await?;
        assert!(status.success(), "{out}{err}");
        let resealed = sql_rows(&first, "SELECT secret FROM second_factor").await?;
        assert_ne!(resealed[0][0], row[0], "the secret was not sealed again");

        // Only the new key: a code from the app signs in.
        let second = builder(&kek2, &pg).start().await?;
        let (s, v) = login(&second, "staf@cb.example", &pw).await?;
        assert_eq!(s, 401, "{v}");
        assert_eq!(v["code"], "second_factor_required", "{v}");
        let challenge = v["challenge"].as_str().context("challenge")?;
        let (s, v) = second_step(&second, challenge, &code(&secret, 1)?).await?;
        assert_eq!(s, 200, "{v}");
        second.stop().await?;
        first.stop().await
    }
);
