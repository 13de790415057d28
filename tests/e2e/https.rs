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
    async fn redirect_listener_only_redirects_to_https(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_SERVER__REDIRECT_LISTEN", "127.0.0.1:0")
            .start()
            .await?;
        let http = server.redirect.context("redirect listener address")?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        for (method, path) in [
            (reqwest::Method::GET, "/"),
            (reqwest::Method::GET, "/healthz"),
            (reqwest::Method::POST, "/some/where?x=1&y=%20"),
        ] {
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
