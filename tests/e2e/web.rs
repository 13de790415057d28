//! The public pages over HTTPS: languages, the language switch, error pages and problem
//! documents, static assets, operations endpoints.

use extranet_tests::{Backends, ServerBuilder, matrix};

const SITE_NAME: &str = "Test & <Cert> Body";

fn with_site(b: Backends) -> ServerBuilder {
    ServerBuilder::new(b)
        .env("EXTRANET_SITE__NAME", SITE_NAME)
        .env("EXTRANET_SITE__EMAIL", "info@cert.example")
        .env("EXTRANET_SITE__PHONE", "+32 2 123 45 67")
        .env(
            "EXTRANET_SITE__ADDRESS",
            "[\"Rue de la Loi 16\", \"1000 Bruxelles\"]",
        )
}

matrix!(
    async fn home_page_speaks_the_visitors_language(b: Backends) {
        let server = with_site(b).start().await?;
        let client = server.client()?;
        for (accept, lang, sign_in) in [
            ("nl-BE,nl;q=0.9", "nl", "Aanmelden"),
            ("fr-BE,fr;q=0.9,en;q=0.5", "fr", "Se connecter"),
            ("en-GB", "en", "Sign in"),
            ("de-DE", "en", "Sign in"),
        ] {
            let res = client
                .get(server.url("/"))
                .header("accept-language", accept)
                .send()
                .await?;
            assert_eq!(res.status(), 200);
            assert_eq!(res.headers()["content-language"], lang, "{accept}");
            let html = res.text().await?;
            assert!(
                html.contains(&format!("<html lang=\"{lang}\">")),
                "{accept}"
            );
            assert!(html.contains(sign_in), "{accept}: {sign_in}");
            // Who the body is, from configuration, escaped.
            assert!(
                html.contains("Test &amp; &lt;Cert&gt; Body")
                    || html.contains("Test &#38; &#60;Cert&#62; Body"),
                "{html}"
            );
            assert!(!html.contains("<Cert>"));
            assert!(html.contains("mailto:info@cert.example"));
            assert!(html.contains("tel:+3221234567"));
            assert!(html.contains("Rue de la Loi 16"));
            assert!(html.contains("href=\"/login\""));
            // No inline script or style anywhere.
            assert!(!html.contains("<script"), "inline script");
            assert!(!html.contains("style="), "inline style");
            assert!(!html.contains("<style"), "inline style element");
        }
        server.stop().await
    }
);

matrix!(
    async fn language_switch_sets_a_cookie_that_wins(b: Backends) {
        let server = with_site(b).start().await?;
        let client = server.client()?;
        let res = client
            .get(server.url("/lang/fr?next=%2Flogin"))
            .header("accept-language", "nl")
            .send()
            .await?;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/login");
        let cookie = res.headers()["set-cookie"].to_str()?.to_owned();
        assert!(cookie.starts_with("lang=fr"), "{cookie}");
        for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attr), "{cookie} lacks {attr}");
        }
        // The cookie beats Accept-Language.
        let html = client
            .get(server.url("/login"))
            .header("accept-language", "nl")
            .header("cookie", "lang=fr")
            .send()
            .await?
            .text()
            .await?;
        assert!(html.contains("<html lang=\"fr\">"));
        // The switch never sends people off-site.
        for next in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
        ] {
            let res = client
                .get(server.url("/lang/nl"))
                .query(&[("next", next)])
                .send()
                .await?;
            assert_eq!(res.status(), 303);
            assert_eq!(res.headers()["location"], "/", "next={next}");
        }
        // An unknown language is a 404 page, not a cookie.
        let res = client.get(server.url("/lang/de")).send().await?;
        assert_eq!(res.status(), 404);
        assert!(res.headers().get("set-cookie").is_none());
        server.stop().await
    }
);

matrix!(
    async fn errors_are_pages_for_browsers_and_problems_for_the_api(b: Backends) {
        let server = with_site(b)
            .env("EXTRANET_SERVER__BODY_LIMIT_BYTES", "4096")
            .start()
            .await?;
        let client = server.client()?;
        // A browser gets a page in its language.
        for (lang, title) in [
            ("nl", "Pagina niet gevonden"),
            ("fr", "Page introuvable"),
            ("en", "Page not found"),
        ] {
            let res = client
                .get(server.url("/missing"))
                .header("accept-language", lang)
                .send()
                .await?;
            assert_eq!(res.status(), 404);
            assert!(
                res.headers()["content-type"]
                    .to_str()?
                    .starts_with("text/html")
            );
            let html = res.text().await?;
            assert!(html.contains(title), "{lang}: {html}");
        }
        let res = client
            .post(server.url("/"))
            .header("accept-language", "fr")
            .body(vec![b'x'; 8192])
            .send()
            .await?;
        assert_eq!(res.status(), 413);
        assert!(res.text().await?.contains("Trop volumineux"));

        // An API client gets problem+json, small.
        let res = client
            .get(server.url("/api/v1/does-not-exist"))
            .send()
            .await?;
        assert_eq!(res.status(), 404);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: serde_json::Value = res.json().await?;
        assert_eq!(body["status"], 404);
        assert_eq!(body["title"], "Not Found");
        let res = client
            .post(server.url("/api/v1/anything"))
            .body(vec![b'x'; 8192])
            .send()
            .await?;
        assert_eq!(res.status(), 413);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let res = client.delete(server.url("/healthz")).send().await?;
        assert_eq!(res.status(), 405);
        assert!(res.headers().contains_key("allow"));
        server.stop().await
    }
);

matrix!(
    async fn static_assets_are_cached_and_revalidated(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let client = server.client()?;
        let html = client.get(server.url("/")).send().await?.text().await?;
        let href = html
            .split("href=\"")
            .map(|s| s.split('"').next().unwrap_or_default())
            .find(|h| h.starts_with("/static/app.css?v="))
            .map(str::to_owned);
        let href = href.ok_or_else(|| anyhow::anyhow!("no versioned stylesheet link"))?;
        let res = client.get(server.url(&href)).send().await?;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
        assert!(
            res.headers()["cache-control"]
                .to_str()?
                .contains("immutable")
        );
        let etag = res.headers()["etag"].clone();
        let res = client
            .get(server.url("/static/app.css"))
            .header("if-none-match", etag)
            .send()
            .await?;
        assert_eq!(res.status(), 304);
        let res = client
            .get(server.url("/static/app.css?v=stale"))
            .send()
            .await?;
        assert!(
            !res.headers()["cache-control"]
                .to_str()?
                .contains("immutable")
        );
        let res = client
            .get(server.url("/static/../Cargo.toml"))
            .send()
            .await?;
        assert_eq!(res.status(), 404);
        server.stop().await
    }
);

matrix!(
    async fn health_readiness_and_metrics(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let client = server.client()?;
        for _ in 0..3 {
            let res = client.get(server.url("/healthz")).send().await?;
            assert_eq!(res.status(), 200);
            assert_eq!(res.text().await?, r#"{"status":"ok"}"#);
        }
        for path in ["/no/such/page", "/no/other/page"] {
            let res = client.get(server.url(path)).send().await?;
            assert_eq!(res.status(), 404);
        }
        let res = client.get(server.url("/readyz")).send().await?;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await?;
        assert_eq!(body["database"], "ok");
        assert_eq!(body["object_store"], "ok");
        // Metrics count requests by route template and status, with latency histograms.
        client.get(server.url("/static/app.css")).send().await?;
        let text = client
            .get(server.url("/metrics"))
            .send()
            .await?
            .text()
            .await?;
        assert!(
            text.contains("http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"}"),
            "{text}"
        );
        assert!(text.contains("route=\"/static/{name}\""), "{text}");
        // Counted exactly, each under its route template; unknown paths share one series.
        for series in [
            "http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3",
            "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 2",
            "http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 3",
        ] {
            assert!(text.lines().any(|l| l == series), "{series} in {text}");
        }
        assert!(!text.contains("/no/such/page"), "{text}");
        assert!(
            text.contains("http_request_duration_seconds_bucket"),
            "{text}"
        );
        server.stop().await?;

        // With a token configured, /metrics needs it.
        let server = ServerBuilder::new(b)
            .env("EXTRANET_METRICS__TOKEN", "metrics-token-123")
            .start()
            .await?;
        let client = server.client()?;
        let res = client.get(server.url("/metrics")).send().await?;
        assert_eq!(res.status(), 404);
        let res = client
            .get(server.url("/metrics"))
            .bearer_auth("wrong")
            .send()
            .await?;
        assert_eq!(res.status(), 404);
        let res = client
            .get(server.url("/metrics"))
            .bearer_auth("metrics-token-123")
            .send()
            .await?;
        assert_eq!(res.status(), 200);
        server.stop().await
    }
);
