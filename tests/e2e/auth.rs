//! Sign-in for API clients through the real binary: the token test matrix (every forged,
//! altered, expired or misdirected token refused), refresh rotation with reuse detection,
//! deactivation, key rotation.

use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extranet_tests::{Db, Server, ServerBuilder, matrix};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row, SqliteConnection};

pub(crate) const EMAIL: &str = "inspecteur@cert.example";

async fn login(server: &Server, client: &reqwest::Client, password: &str) -> anyhow::Result<Value> {
    let res = client
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": EMAIL, "password": password }))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 200, "login: {}", res.status());
    Ok(res.json().await?)
}

async fn me_status(server: &Server, client: &reqwest::Client, token: &str) -> anyhow::Result<u16> {
    Ok(client
        .get(server.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await?
        .status()
        .as_u16())
}

async fn refresh(
    server: &Server,
    client: &reqwest::Client,
    token: &str,
) -> anyhow::Result<(u16, Value)> {
    let res = client
        .post(server.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": token }))
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

/// Runs one SQL statement on the server's database, as an attacker or operator with database
/// access would (reading the signing key, deactivating an organisation).
/// Deletes the audit log's head row, so that every append fails until [`restore_audit_head`].
pub(crate) async fn break_audit_head(server: &Server) -> anyhow::Result<()> {
    sql_rows(server, "DELETE FROM audit_head").await.map(|_| ())
}

/// Puts the head row back where the chain ends (the genesis hash for an empty log).
pub(crate) async fn restore_audit_head(server: &Server) -> anyhow::Result<()> {
    sql_rows(
        server,
        "INSERT INTO audit_head (id, seq, hash) SELECT 1, COALESCE(MAX(seq), 0), \
         COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), \
         '0000000000000000000000000000000000000000000000000000000000000000') FROM audit_log",
    )
    .await
    .map(|_| ())
}

/// Gives an account a name of its own (the CLI names everyone "Test Persoon").
pub(crate) async fn rename(
    server: &Server,
    email: &str,
    first: &str,
    last: &str,
) -> anyhow::Result<()> {
    sql_rows(
        server,
        &format!(
            "UPDATE person SET first_name = '{first}', surname = '{last}' WHERE email = '{email}'"
        ),
    )
    .await?;
    Ok(())
}

pub(crate) async fn sql_rows(server: &Server, sql: &str) -> anyhow::Result<Vec<Vec<String>>> {
    match server.backends.db {
        Db::Sqlite => {
            let url = format!("sqlite://{}", server.data_dir.join("extranet.db").display());
            let mut c = SqliteConnection::connect(&url).await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(&mut c)
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.try_get::<String, _>(i).unwrap_or_default())
                        .collect()
                })
                .collect())
        }
        Db::Postgres => {
            let mut c = PgConnection::connect(server.pg_url().context("pg")?).await?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_all(&mut c)
                .await?;
            Ok(rows
                .iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.try_get::<String, _>(i).unwrap_or_default())
                        .collect()
                })
                .collect())
        }
    }
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn parts(token: &str) -> anyhow::Result<(Value, Value, String)> {
    let mut it = token.split('.');
    let h = it.next().context("header")?;
    let p = it.next().context("payload")?;
    let s = it.next().context("signature")?;
    Ok((
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h)?)?,
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p)?)?,
        s.to_owned(),
    ))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

matrix!(
    async fn forged_altered_and_misdirected_tokens_are_refused(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(EMAIL, "inspector").await?;
        let client = server.client()?;
        let tokens = login(&server, &client, &password).await?;
        let access = tokens["access_token"]
            .as_str()
            .context("access")?
            .to_owned();
        assert_eq!(me_status(&server, &client, &access).await?, 200);
        let (header, payload, signature) = parts(&access)?;
        assert_eq!(header["alg"], "EdDSA");
        let kid = header["kid"].as_str().context("kid")?.to_owned();
        for claim in [
            "iss", "aud", "sub", "org", "roles", "sid", "jti", "iat", "nbf", "exp",
        ] {
            assert!(payload.get(claim).is_some(), "claim {claim} missing");
        }
        assert!(payload["exp"].as_i64().unwrap_or(0) - payload["iat"].as_i64().unwrap_or(0) <= 300);

        // The server's own private key, read from its database and opened with the server's
        // key-encryption key: lets the test sign tokens that are valid in every respect but one.
        let rows = sql_rows(
            &server,
            &format!("SELECT private_key FROM signing_key WHERE kid = '{kid}'"),
        )
        .await?;
        let sealed = rows
            .first()
            .and_then(|r| r.first())
            .cloned()
            .context("signing key")?;
        let kek = std::fs::read_to_string(
            server
                .env_value("EXTRANET_KEYS__ENCRYPTION_KEY_FILE")
                .context("the harness's KEK file")?,
        )?;
        let pem = extranet_tests::keys::open_sealed(&kek, &sealed, &format!("signing_key:{kid}"))?;
        let key = EncodingKey::from_ed_pem(&pem)?;
        let sign = |claims: &Value, kid: &str| -> anyhow::Result<String> {
            let mut h = Header::new(Algorithm::EdDSA);
            h.kid = Some(kid.to_owned());
            Ok(jsonwebtoken::encode(&h, claims, &key)?)
        };
        // Control: a token the test signs with the right key and claims is accepted, so each
        // refusal below is for the one thing changed.
        let mut good = payload.clone();
        good["jti"] = json!(uuid::Uuid::new_v4());
        assert_eq!(
            me_status(&server, &client, &sign(&good, &kid)?).await?,
            200,
            "control token"
        );

        let mut cases: Vec<(&str, String)> = Vec::new();
        // alg: none
        let none_header = json!({ "alg": "none", "typ": "JWT", "kid": kid });
        cases.push((
            "alg none",
            format!("{}.{}.", b64(&none_header), b64(&payload)),
        ));
        // HS256 keyed with the public key (the classic algorithm confusion)
        let jwks: Value = client
            .get(server.url("/.well-known/jwks.json"))
            .send()
            .await?
            .json()
            .await?;
        let x = jwks["keys"][0]["x"].as_str().context("x")?.to_owned();
        for secret in [x.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(&x)?] {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some(kid.clone());
            cases.push((
                "HS256 with the public key",
                jsonwebtoken::encode(&h, &payload, &EncodingKey::from_secret(&secret))?,
            ));
        }
        // a modified payload, the signature kept
        let mut admin = payload.clone();
        admin["roles"] = json!(["admin"]);
        cases.push((
            "modified payload",
            format!("{}.{}.{signature}", b64(&header), b64(&admin)),
        ));
        // a modified header, the signature kept
        let mut h2 = header.clone();
        h2["typ"] = json!("JWT");
        cases.push((
            "modified header",
            format!("{}.{}.{signature}", b64(&h2), b64(&payload)),
        ));
        // expired, not yet valid, wrong issuer, wrong audience, no exp, not an access token
        let t = now();
        for (what, field, value) in [
            ("expired", "exp", json!(t - 120)),
            ("not yet valid", "nbf", json!(t + 600)),
            ("wrong iss", "iss", json!("https://evil.example")),
            ("wrong aud", "aud", json!("another-service")),
            ("wrong typ", "typ", json!("refresh")),
        ] {
            let mut c = good.clone();
            c[field] = value;
            if field == "exp" {
                c["iat"] = json!(t - 600);
                c["nbf"] = json!(t - 600);
            }
            cases.push((what, sign(&c, &kid)?));
        }
        let mut no_exp = good.clone();
        if let Some(o) = no_exp.as_object_mut() {
            o.remove("exp");
        }
        cases.push(("missing exp", sign(&no_exp, &kid)?));
        // unknown kid; a key that was never ours
        cases.push(("unknown kid", sign(&good, "no-such-key")?));
        let foreign = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)?;
        let mut fh = Header::new(Algorithm::EdDSA);
        fh.kid = Some(kid.clone());
        cases.push((
            "foreign key",
            jsonwebtoken::encode(
                &fh,
                &good,
                &EncodingKey::from_ed_pem(foreign.serialize_pem().as_bytes())?,
            )?,
        ));
        cases.push(("garbage", "not.a.token".to_owned()));
        for (what, token) in cases {
            let res = client
                .get(server.url("/api/v1/me"))
                .bearer_auth(&token)
                .send()
                .await?;
            assert_eq!(res.status(), 401, "{what} was accepted");
            assert_eq!(res.headers()["www-authenticate"], "Bearer", "{what}");
            assert_eq!(
                res.headers()["content-type"],
                "application/problem+json",
                "{what}"
            );
        }
        let res = client.get(server.url("/api/v1/me")).send().await?;
        assert_eq!(res.status(), 401, "no token");
        server.stop().await
    }
);

matrix!(
    async fn refresh_rotates_and_reuse_revokes_the_family(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(EMAIL, "client_user").await?;
        let client = server.client()?;
        let first = login(&server, &client, &password).await?;
        let r1 = first["refresh_token"].as_str().context("r1")?.to_owned();
        let (status, second) = refresh(&server, &client, &r1).await?;
        assert_eq!(status, 200);
        let r2 = second["refresh_token"].as_str().context("r2")?.to_owned();
        assert_ne!(r1, r2, "refresh tokens rotate");
        assert_eq!(
            me_status(
                &server,
                &client,
                second["access_token"].as_str().context("a2")?
            )
            .await?,
            200
        );
        // r1 again: refused, and the family's newer token r2 dies with it.
        assert_eq!(refresh(&server, &client, &r1).await?.0, 401, "reused token");
        assert_eq!(
            refresh(&server, &client, &r2).await?.0,
            401,
            "family not revoked"
        );
        // Refresh tokens are stored only as hashes.
        let stored = sql_rows(&server, "SELECT token_hash FROM refresh_token").await?;
        assert!(!stored.iter().flatten().any(|h| h == &r1 || h == &r2));
        // A new login is a new family, unaffected.
        let third = login(&server, &client, &password).await?;
        let r3 = third["refresh_token"].as_str().context("r3")?.to_owned();
        assert_eq!(refresh(&server, &client, &r3).await?.0, 200);
        // Logout ends the session: its refresh token no longer works.
        let fourth = login(&server, &client, &password).await?;
        let res = client
            .post(server.url("/api/v1/auth/logout"))
            .bearer_auth(fourth["access_token"].as_str().context("a4")?)
            .send()
            .await?;
        assert_eq!(res.status(), 204);
        let r4 = fourth["refresh_token"].as_str().context("r4")?;
        assert_eq!(
            refresh(&server, &client, r4).await?.0,
            401,
            "refresh after logout"
        );
        server.stop().await
    }
);

matrix!(
    async fn deactivation_stops_refresh_and_login(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(EMAIL, "client_admin").await?;
        let client = server.client()?;
        // Account deactivated (CLI): refresh and login refused.
        let t = login(&server, &client, &password).await?;
        let (status, out, err) = server.command(&["user", "deactivate", EMAIL], "").await?;
        assert!(status.success(), "{out}{err}");
        assert_eq!(
            refresh(&server, &client, t["refresh_token"].as_str().context("r")?)
                .await?
                .0,
            401
        );
        let res = client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": EMAIL, "password": password }))
            .send()
            .await?;
        assert_eq!(res.status(), 401);
        // The same answer as for an account that does not exist.
        let unknown = client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": "nobody@cert.example", "password": password }))
            .send()
            .await?;
        assert_eq!(unknown.status(), 401);
        let (status, _, _) = server.command(&["user", "reactivate", EMAIL], "").await?;
        assert!(status.success());
        login(&server, &client, &password).await?;
        server.stop().await
    }
);

matrix!(
    async fn organisation_deactivation_stops_its_people(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        // Creates the certification body's own organisation too.
        server.create_user("staff@cert.example", "staff").await?;
        let org = server.create_client_org("Beton Noord").await?;
        let password = server.create_user_in(EMAIL, "client_admin", &org).await?;
        let password = password.as_str();
        let client = server.client()?;
        let t = login(&server, &client, password).await?;

        let (status, out, err) = server.command(&["org", "deactivate", &org], "").await?;
        assert!(status.success(), "{out}{err}");
        assert!(out.contains("1 session(s) ended"), "{out}");
        // The session is gone and no new one can start.
        assert_eq!(
            refresh(&server, &client, t["refresh_token"].as_str().context("r")?)
                .await?
                .0,
            401
        );
        let res = client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": EMAIL, "password": password }))
            .send()
            .await?;
        assert_eq!(res.status(), 401);
        let (_, list, _) = server.command(&["org", "list"], "").await?;
        assert!(
            list.contains(&format!("{org}\tclient\tdeactivated\tBeton Noord")),
            "{list}"
        );

        // The certification body itself cannot be deactivated.
        let body = list
            .lines()
            .find(|l| l.contains("\tcertification_body\t"))
            .and_then(|l| l.split('\t').next())
            .context("the certification body in org list")?
            .to_owned();
        let (status, _, err) = server.command(&["org", "deactivate", &body], "").await?;
        assert!(!status.success());
        assert!(err.contains("cannot be deactivated"), "{err}");
        // An unknown id is named, not a crash.
        let (status, _, err) = server
            .command(
                &["org", "deactivate", "0190f0f0-0000-7000-8000-000000000000"],
                "",
            )
            .await?;
        assert!(!status.success());
        assert!(err.contains("no organisation with id"), "{err}");

        let (status, out, err) = server.command(&["org", "reactivate", &org], "").await?;
        assert!(status.success(), "{out}{err}");
        login(&server, &client, password).await?;

        // Every step is in the audit log, and the chain still verifies.
        let actions = sql_rows(
            &server,
            "SELECT action FROM audit_log WHERE action LIKE 'organisation.%' ORDER BY seq",
        )
        .await?;
        assert_eq!(
            actions,
            vec![
                vec!["organisation.create".to_owned()],
                vec!["organisation.deactivate".to_owned()],
                vec!["organisation.reactivate".to_owned()]
            ]
        );
        let (status, out, err) = server.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "{out}{err}");
        server.stop().await
    }
);

matrix!(
    async fn access_tokens_expire_and_survive_key_rotation(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__ACCESS_LIFETIME_SECS", "2")
            .env("EXTRANET_AUTH__LEEWAY_SECS", "0")
            .start()
            .await?;
        let password = server.create_user(EMAIL, "staff").await?;
        let client = server.client()?;
        let before = login(&server, &client, &password).await?;
        let old_access = before["access_token"].as_str().context("a")?.to_owned();
        let old_kid = parts(&old_access)?.0["kid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();

        let (status, out, err) = server.command(&["keys", "rotate"], "").await?;
        assert!(status.success(), "{out}{err}");
        // The old token is still good until it expires…
        assert_eq!(me_status(&server, &client, &old_access).await?, 200);
        // …new tokens are signed with the new key, which the running server learns of by itself.
        let (status, after) = refresh(
            &server,
            &client,
            before["refresh_token"].as_str().context("r")?,
        )
        .await?;
        assert_eq!(status, 200);
        let new_access = after["access_token"].as_str().context("a")?.to_owned();
        let new_kid = parts(&new_access)?.0["kid"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert_ne!(old_kid, new_kid);
        assert_eq!(me_status(&server, &client, &new_access).await?, 200);
        let jwks: Value = client
            .get(server.url("/.well-known/jwks.json"))
            .send()
            .await?
            .json()
            .await?;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .map(|k| k.iter().filter_map(|k| k["kid"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
            "{kids:?}"
        );

        // Past its lifetime the access token is refused.
        tokio::time::sleep(Duration::from_millis(3200)).await;
        assert_eq!(me_status(&server, &client, &new_access).await?, 401);
        server.stop().await
    }
);

matrix!(
    async fn login_rate_limit_engages_and_releases(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__LOGIN_FREE_ATTEMPTS", "3")
            .env("EXTRANET_AUTH__LOGIN_BASE_DELAY_SECS", "2")
            .start()
            .await?;
        let password = server.create_user(EMAIL, "staff").await?;
        let client = server.client()?;
        let attempt = |pw: &str| {
            client
                .post(server.url("/api/v1/auth/login"))
                .json(&json!({ "email": EMAIL, "password": pw }))
                .send()
        };
        for _ in 0..3 {
            assert_eq!(attempt("wrong-password").await?.status(), 401);
        }
        // The fourth failure starts the delay: now even the right password waits.
        assert_eq!(attempt("wrong-password").await?.status(), 401);
        let res = attempt(&password).await?;
        assert_eq!(res.status(), 429);
        let retry: u64 = res.headers()["retry-after"].to_str()?.parse()?;
        assert!((1..=2).contains(&retry), "retry-after {retry}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        // An unknown account gets the same treatment (no hint that it does not exist).
        for _ in 0..4 {
            client
                .post(server.url("/api/v1/auth/login"))
                .json(&json!({ "email": "nobody@cert.example", "password": "x" }))
                .send()
                .await?;
        }
        let res = client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": "nobody@cert.example", "password": "x" }))
            .send()
            .await?;
        assert_eq!(res.status(), 429);
        // Released after the delay.
        tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(300)).await;
        assert_eq!(attempt(&password).await?.status(), 200);
        server.stop().await
    }
);

matrix!(
    async fn openapi_document_describes_every_api_route(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let client = server.client()?;
        let doc: Value = client
            .get(server.url("/api/v1/openapi.json"))
            .send()
            .await?
            .json()
            .await?;
        assert!(
            doc["openapi"]
                .as_str()
                .unwrap_or_default()
                .starts_with("3.1"),
            "{}",
            doc["openapi"]
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        let paths = doc["paths"].as_object().context("paths")?;
        for expected in [
            "/api/v1/auth/login",
            "/api/v1/auth/refresh",
            "/api/v1/auth/logout",
            "/api/v1/me",
        ] {
            assert!(paths.contains_key(expected), "{expected} not documented");
        }
        // Every documented operation exists, answers its documented error shape, and those
        // needing a token say so.
        for (path, ops) in paths {
            for (method, op) in ops.as_object().context("operations")? {
                let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())?;
                let res = client
                    .request(m, server.url(path))
                    .json(&json!({}))
                    .send()
                    .await?;
                let status = res.status().as_u16();
                assert!(status != 404 && status != 405, "{method} {path}: {status}");
                assert!(
                    op["responses"].get(status.to_string()).is_some(),
                    "{method} {path}: {status} undocumented"
                );
                if op.get("security").is_some() {
                    assert_eq!(status, 401, "{method} {path} without a token");
                }
            }
        }
        server.stop().await
    }
);

matrix!(
    async fn api_bodies_name_every_bad_field(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let client = server.client()?;
        let post = |body: reqwest::Body, content_type: &'static str| {
            client
                .post(server.url("/api/v1/auth/login"))
                .header("content-type", content_type)
                .body(body)
                .send()
        };
        // Missing and mistyped fields: one 422 naming each.
        let res = post(r#"{"password": 42}"#.into(), "application/json").await?;
        assert_eq!(res.status(), 422);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let doc: Value = res.json().await?;
        let mut fields: Vec<(String, String)> = doc["errors"]
            .as_array()
            .context("errors")?
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap_or_default().to_owned(),
                    e["message"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                ("email".to_owned(), "is required".to_owned()),
                ("password".to_owned(), "must be a string".to_owned())
            ],
            "{doc}"
        );
        // Not JSON at all: 400 that says so. Not declared as JSON: 415. Not an object: 422.
        let res = post("{\"email\": ".into(), "application/json").await?;
        assert_eq!(res.status(), 400);
        let doc: Value = res.json().await?;
        assert!(
            doc["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("not valid JSON"),
            "{doc}"
        );
        let res = post(
            r#"{"email":"a@b.example","password":"x"}"#.into(),
            "text/plain",
        )
        .await?;
        assert_eq!(res.status(), 415);
        let res = post("[1,2]".into(), "application/json").await?;
        assert_eq!(res.status(), 422);
        // The refresh endpoint goes through the same checks.
        let res = client
            .post(server.url("/api/v1/auth/refresh"))
            .json(&json!({ "refresh_token": ["not", "a", "string"] }))
            .send()
            .await?;
        assert_eq!(res.status(), 422);
        let doc: Value = res.json().await?;
        assert_eq!(doc["errors"][0]["field"], "refresh_token", "{doc}");
        server.stop().await
    }
);

matrix!(
    async fn a_session_starts_only_with_its_audit_record(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let password = server.create_user(EMAIL, "staff").await?;
        let client = server.client()?;
        let count = || async {
            let rows = sql_rows(&server, "SELECT CAST(COUNT(*) AS TEXT) FROM auth_session").await?;
            anyhow::Ok(rows[0][0].clone())
        };
        // With the audit log unwritable, signing in fails (a server fault, not the caller's)
        // and leaves no session behind.
        break_audit_head(&server).await?;
        let res = client
            .post(server.url("/api/v1/auth/login"))
            .json(&json!({ "email": EMAIL, "password": password }))
            .send()
            .await?;
        assert_eq!(res.status(), 500);
        let doc: Value = res.json().await?;
        assert!(doc.get("access_token").is_none(), "{doc}");
        assert_eq!(
            count().await?,
            "0",
            "a session the audit log does not know of"
        );

        restore_audit_head(&server).await?;
        let t = login(&server, &client, &password).await?;
        assert_eq!(count().await?, "1");
        // Signing out revokes the session and records it, together.
        let res = client
            .post(server.url("/api/v1/auth/logout"))
            .bearer_auth(t["access_token"].as_str().context("access")?)
            .send()
            .await?;
        assert_eq!(res.status(), 204);
        let rows = sql_rows(
            &server,
            "SELECT action FROM audit_log WHERE action IN ('auth.login.success', 'auth.logout') ORDER BY seq",
        )
        .await?;
        assert_eq!(
            rows,
            vec![
                vec!["auth.login.success".to_owned()],
                vec!["auth.logout".to_owned()]
            ]
        );
        let (status, out, err) = server.command(&["audit", "verify"], "").await?;
        assert!(status.success(), "{out}{err}");
        server.stop().await
    }
);
