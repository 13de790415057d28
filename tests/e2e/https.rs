//! Transport: TLS versions, ALPN, certificate reload, the redirect listener, security headers.

use std::time::Duration;

use anyhow::{Context, ensure};
use extranet_tests::tls::{HelloReply, first_cert_der, generate_cert, handshake, legacy_hello};
use extranet_tests::{ServerBuilder, matrix};
use rustls::version::{TLS12, TLS13};

matrix!(
    async fn tls_1_0_and_1_1_are_refused_1_2_and_1_3_accepted(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        // The same hand-built hello is answered with a ServerHello at 1.2 (so the probe works)…
        assert_eq!(
            legacy_hello(server.https, 0x0303).await?,
            HelloReply::ServerHello { version: 0x0303 }
        );
        // …and with a protocol_version alert (70) at 1.0 and 1.1.
        for old in [0x0301, 0x0302] {
            let reply = legacy_hello(server.https, old).await?;
            assert_eq!(
                reply,
                HelloReply::Alert { description: 70 },
                "version {old:#06x}"
            );
        }
        let cert = server.dev_cert_pem()?;
        for v in [&TLS12, &TLS13] {
            let hs = handshake(server.https, &cert, &[v], &[b"http/1.1"]).await?;
            assert_eq!(hs.version, Some(v.version));
        }
        server.stop().await
    }
);

matrix!(
    async fn alpn_negotiates_h2_and_http_1_1(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let cert = server.dev_cert_pem()?;
        let h2 = handshake(server.https, &cert, &[&TLS13], &[b"h2", b"http/1.1"]).await?;
        assert_eq!(h2.alpn.as_deref(), Some(&b"h2"[..]));
        let h1 = handshake(server.https, &cert, &[&TLS13], &[b"http/1.1"]).await?;
        assert_eq!(h1.alpn.as_deref(), Some(&b"http/1.1"[..]));

        // And real requests over each.
        let client = server.client()?;
        let res = client.get(server.url("/healthz")).send().await?;
        assert_eq!(res.version(), reqwest::Version::HTTP_2);
        assert_eq!(res.status(), 200);
        let h1_client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&cert)?])
            .resolve("localhost", server.https)
            .http1_only()
            .build()?;
        let res = h1_client.get(server.url("/healthz")).send().await?;
        assert_eq!(res.version(), reqwest::Version::HTTP_11);
        assert_eq!(res.status(), 200);
        server.stop().await
    }
);

matrix!(
    async fn renewed_certificate_is_picked_up_without_dropping_connections(b: Backends) {
        let dir = tempfile::tempdir()?;
        let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let (cert1, key1) = generate_cert()?;
        std::fs::write(&cert_path, &cert1)?;
        std::fs::write(&key_path, &key1)?;
        let server = ServerBuilder::new(b)
            .env("EXTRANET_TLS__CERT_FILE", cert_path.display().to_string())
            .env("EXTRANET_TLS__KEY_FILE", key_path.display().to_string())
            .env("EXTRANET_TLS__RELOAD_CHECK_SECS", "1")
            .start()
            .await?;
        let old_client = server.client_trusting(cert1.as_bytes())?;
        let res = old_client.get(server.url("/healthz")).send().await?;
        assert_eq!(res.status(), 200);
        assert!(
            !server.data_dir.join("tls/dev-cert.pem").exists(),
            "no dev cert when one is configured"
        );

        // Renew on disk and signal: new connections see the new certificate.
        let (cert2, key2) = generate_cert()?;
        std::fs::write(&key_path, &key2)?;
        std::fs::write(&cert_path, &cert2)?;
        server.signal("HUP")?;
        let expected = first_cert_der(cert2.as_bytes())?;
        let mut seen = Vec::new();
        for _ in 0..50 {
            seen = handshake(server.https, cert2.as_bytes(), &[&TLS13], &[b"http/1.1"])
                .await
                .map(|h| h.peer_cert)
                .unwrap_or_default();
            if seen == expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            seen, expected,
            "a new connection should get the renewed certificate"
        );
        // The connection opened before the renewal is still served.
        let res = old_client.get(server.url("/healthz")).send().await?;
        assert_eq!(res.status(), 200);

        // Without a signal: a changed file is noticed by the periodic check.
        let (cert3, key3) = generate_cert()?;
        std::fs::write(&key_path, &key3)?;
        std::fs::write(&cert_path, &cert3)?;
        let expected = first_cert_der(cert3.as_bytes())?;
        let mut picked_up = false;
        for _ in 0..60 {
            let hs = handshake(server.https, cert3.as_bytes(), &[&TLS13], &[b"http/1.1"]).await;
            if hs.is_ok_and(|h| h.peer_cert == expected) {
                picked_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            picked_up,
            "a changed certificate file should be reloaded without a signal"
        );

        // A broken renewal is refused and the current certificate kept.
        std::fs::write(&cert_path, "not a certificate")?;
        server.signal("HUP")?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let hs = handshake(server.https, cert3.as_bytes(), &[&TLS13], &[b"http/1.1"]).await?;
        assert_eq!(hs.peer_cert, expected);
        server.stop().await
    }
);

matrix!(
    /// Plain HTTP redirects a browser's GET to HTTPS on a host name of ours only, and never
    /// redirects a request that carries something: API calls and form posts get an error
    /// saying what to do, since a 308 would make the client send the secret a second time.
    async fn redirect_listener_only_redirects_to_https(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SERVER__REDIRECT_LISTEN", "127.0.0.1:0")
            .start()
            .await?;
        let http = server.redirect.context("redirect listener address")?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        for path in ["/", "/healthz", "/some/where?x=1&y=%20"] {
            for method in [reqwest::Method::GET, reqwest::Method::HEAD] {
                let res = client
                    .request(
                        method.clone(),
                        format!("http://localhost:{}{path}", http.port()),
                    )
                    .send()
                    .await?;
                assert_eq!(res.status(), 308, "{method} {path}");
                let location = res.headers()["location"].to_str()?.to_owned();
                assert_eq!(
                    location,
                    format!("https://localhost:{}{path}", server.https.port())
                );
                // Nothing else is served on plain HTTP.
                let body = res.text().await?;
                assert!(!body.contains("\"status\""), "{body}");
            }
        }
        // The development certificate names 127.0.0.1 too.
        let res = client
            .get(format!("http://127.0.0.1:{}/login", http.port()))
            .send()
            .await?;
        assert_eq!(res.status(), 308);
        assert_eq!(
            res.headers()["location"],
            format!("https://127.0.0.1:{}/login", server.https.port()).as_str()
        );

        // Without a public URL, a Host the certificate does not cover is not redirected to.
        for host in [
            "evil.example",
            "evil.example:9444",
            "localhost.evil.example",
        ] {
            let res = client
                .get(format!("http://127.0.0.1:{}/login", http.port()))
                .header("host", host)
                .send()
                .await?;
            assert_eq!(res.status(), 400, "{host}");
            assert!(!res.headers().contains_key("location"), "{host}");
            assert!(!res.text().await?.contains("evil"), "{host}");
        }

        // The API over plain HTTP: an error naming the risk, never a redirect.
        let res = client
            .post(format!(
                "http://localhost:{}/api/v1/auth/login",
                http.port()
            ))
            .json(&serde_json::json!({ "email": "a@b.example", "password": "in clear" }))
            .send()
            .await?;
        assert_eq!(res.status(), 403);
        assert!(!res.headers().contains_key("location"));
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let problem: serde_json::Value = res.json().await?;
        assert_eq!(problem["code"], "https_required", "{problem}");
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("HTTPS only") && detail.contains("exposed"),
            "{detail}"
        );
        assert!(
            detail.contains(&format!("https://localhost:{}", server.https.port())),
            "{detail}"
        );
        for (method, path) in [
            (reqwest::Method::GET, "/api/v1/me"),
            (reqwest::Method::GET, "/api"),
            (reqwest::Method::POST, "/login"),
            (reqwest::Method::PUT, "/account"),
        ] {
            let res = client
                .request(
                    method.clone(),
                    format!("http://localhost:{}{path}", http.port()),
                )
                .header("authorization", "Bearer leaked")
                .body("email=a%40b.example&password=in+clear")
                .send()
                .await?;
            assert_eq!(res.status(), 403, "{method} {path}");
            assert!(!res.headers().contains_key("location"), "{method} {path}");
        }
        server.stop().await?;

        // With a public URL configured, that is where people are sent, whatever Host says.
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SERVER__REDIRECT_LISTEN", "127.0.0.1:0")
            .env(
                "EXTRANET_SERVER__PUBLIC_URL",
                "https://extranet.example.org",
            )
            .start()
            .await?;
        let http = server.redirect.context("redirect listener address")?;
        let res = client
            .get(format!("http://127.0.0.1:{}/login", http.port()))
            .header("host", "evil.example")
            .send()
            .await?;
        assert_eq!(res.status(), 308);
        assert_eq!(
            res.headers()["location"],
            "https://extranet.example.org/login"
        );
        let res = client
            .post(format!(
                "http://127.0.0.1:{}/api/v1/auth/login",
                http.port()
            ))
            .header("host", "evil.example")
            .json(&serde_json::json!({ "email": "a@b.example", "password": "in clear" }))
            .send()
            .await?;
        assert_eq!(res.status(), 403);
        let detail = res.text().await?;
        assert!(
            detail.contains("https://extranet.example.org/") && !detail.contains("evil"),
            "{detail}"
        );
        server.stop().await
    }
);

const HEADERS: &[&str] = &[
    "strict-transport-security",
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "x-request-id",
];

fn check_security_headers(what: &str, res: &reqwest::Response) -> anyhow::Result<()> {
    for h in HEADERS {
        ensure!(res.headers().contains_key(*h), "{what}: missing {h}");
    }
    let csp = res.headers()["content-security-policy"].to_str()?;
    ensure!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    ensure!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    ensure!(csp.contains("script-src 'self'"), "{what}: {csp}");
    ensure!(
        res.headers()["x-content-type-options"] == "nosniff",
        "{what}"
    );
    ensure!(
        res.headers()["strict-transport-security"]
            .to_str()?
            .starts_with("max-age="),
        "{what}"
    );
    Ok(())
}

matrix!(
    async fn security_headers_on_pages_errors_and_static_files(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SERVER__BODY_LIMIT_BYTES", "4096")
            .start()
            .await?;
        let client = server.client()?;
        let cases = [
            ("home page", client.get(server.url("/")), 200),
            (
                "static file",
                client.get(server.url("/static/app.css")),
                200,
            ),
            ("unknown page", client.get(server.url("/no/such/page")), 404),
            (
                "unknown API route",
                client.get(server.url("/api/v1/nothing")),
                404,
            ),
            ("health", client.get(server.url("/healthz")), 200),
            (
                "body too large",
                client.post(server.url("/")).body(vec![b'x'; 10_000]),
                413,
            ),
            ("wrong method", client.delete(server.url("/")), 405),
        ];
        let mut ids = std::collections::HashSet::new();
        for (what, req, status) in cases {
            let res = req.send().await?;
            assert_eq!(res.status(), status, "{what}");
            check_security_headers(what, &res)?;
            let id = res.headers()["x-request-id"].to_str()?.to_owned();
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{what}: {id}");
            assert!(ids.insert(id), "{what}: a request id seen before");
        }
        // A plain id set by a proxy in front is kept (for correlating logs); anything else is
        // replaced by one of ours.
        let res = client
            .get(server.url("/healthz"))
            .header("x-request-id", "lb-7f3a.12")
            .send()
            .await?;
        assert_eq!(res.headers()["x-request-id"], "lb-7f3a.12");
        let res = client
            .get(server.url("/healthz"))
            .header("x-request-id", "<script>alert(1)</script>")
            .send()
            .await?;
        let id = res.headers()["x-request-id"].to_str()?;
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
        server.stop().await
    }
);

/// `Cache-Control: no-store` and `Pragma: no-cache`, as a response carrying a token or
/// someone's data must leave.
fn check_no_store(what: &str, res: &reqwest::Response) -> anyhow::Result<()> {
    let cc: Vec<_> = res.headers().get_all("cache-control").iter().collect();
    ensure!(cc == ["no-store"], "{what}: cache-control {cc:?}");
    ensure!(
        res.headers().get("pragma").is_some_and(|v| v == "no-cache"),
        "{what}: pragma {:?}",
        res.headers().get("pragma")
    );
    Ok(())
}

extranet_tests::databases!(
    /// Tokens and personal data are never kept by a browser or a proxy: the token responses,
    /// API records and lists, errors and every page are `no-store`; only what is the same for
    /// everyone and versioned (static files, the public keys) may be cached.
    async fn tokens_and_personal_data_are_never_cached(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let email = "cache@cb.example";
        let password = server.create_user(email, "staff").await?;
        let client = server.client()?;
        let res = client
            .post(server.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await?;
        assert_eq!(res.status(), 200);
        check_no_store("token response", &res)?;
        let tokens: serde_json::Value = res.json().await?;
        let access = tokens["access_token"]
            .as_str()
            .context("access")?
            .to_owned();
        let refresh = tokens["refresh_token"].as_str().context("refresh")?;
        let res = client
            .post(server.url("/api/v1/auth/refresh"))
            .json(&serde_json::json!({ "refresh_token": refresh }))
            .send()
            .await?;
        assert_eq!(res.status(), 200);
        check_no_store("refreshed tokens", &res)?;
        let me: serde_json::Value = client
            .get(server.url("/api/v1/me"))
            .bearer_auth(&access)
            .send()
            .await?
            .json()
            .await?;
        let my_id = me["id"].as_str().context("my id")?.to_owned();
        for path in [
            "/api/v1/me".to_owned(),
            "/api/v1/people".to_owned(),
            format!("/api/v1/people/{my_id}"),
            "/api/v1/organisations".to_owned(),
            "/api/v1/people/export?format=csv".to_owned(),
        ] {
            let res = client
                .get(server.url(&path))
                .bearer_auth(&access)
                .send()
                .await?;
            assert_eq!(res.status(), 200, "{path}");
            check_no_store(&path, &res)?;
        }
        let res = client.get(server.url("/api/v1/me")).send().await?;
        assert_eq!(res.status(), 401);
        check_no_store("401", &res)?;

        let browser = server.sign_in(email, &password).await?;
        for path in [
            "/account".to_owned(),
            format!("/people/{my_id}"),
            "/staff/organisations".to_owned(),
            "/dossiers".to_owned(),
        ] {
            let res = browser.get(server.url(&path)).send().await?;
            assert_eq!(res.status(), 200, "{path}");
            check_no_store(&path, &res)?;
        }
        for path in ["/login", "/"] {
            let res = server.browser()?.get(server.url(path)).send().await?;
            assert_eq!(res.status(), 200, "{path}");
            check_no_store(path, &res)?;
        }

        // What is the same for everyone keeps its own caching, without Pragma.
        for (path, want) in [
            ("/.well-known/jwks.json", "public, max-age=60"),
            ("/static/app.css", "public, max-age=3600"),
        ] {
            let res = client.get(server.url(path)).send().await?;
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(res.headers()["cache-control"], want, "{path}");
            assert!(!res.headers().contains_key("pragma"), "{path}");
        }
        server.stop().await
    }
);
