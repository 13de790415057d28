//! Uploads that must not go on: a body that drips in below the minimum rate is cut off, and a
//! person over their hourly upload limits is refused (429 with `Retry-After`, audited, in the
//! page's language) — each cleaned up like any broken upload: no row, no intent, no object.

use std::time::{Duration, Instant};

use anyhow::Context;
use extranet_tests::tls::handshake;
use extranet_tests::{Server, ServerBuilder, matrix};
use rustls::version::TLS13;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::access::{pdf_bytes, upload};
use crate::documents::{big_pdf, count, fixture, stored_objects, wait_until};

const INTENTS: &str = "SELECT CAST(count(*) AS TEXT) FROM document_upload";
const DOCUMENTS: &str = "SELECT CAST(count(*) AS TEXT) FROM document";

/// Nothing of an upload is left: no document, no intent, no object (cleanup may finish just
/// after the answer).
async fn nothing_left(server: &Server, documents: i64) -> anyhow::Result<()> {
    let clean = wait_until(Duration::from_secs(20), || async {
        Ok(count(server, INTENTS).await? == 0
            && stored_objects(server).await?.len() as i64 == documents)
    })
    .await?;
    assert!(
        clean,
        "left: objects {:?}, intents {}",
        stored_objects(server).await?,
        count(server, INTENTS).await?
    );
    assert_eq!(count(server, DOCUMENTS).await?, documents);
    Ok(())
}

matrix!(
    /// A client that sends its upload one byte every second — never idle for the idle timeout
    /// (5 s), far below the minimum rate (1 KiB/s over 4 s) — is cut off with 408 and the
    /// upload is cleaned up. Before the minimum rate existed, such an upload never ended.
    async fn a_slow_drip_upload_is_cut_off_and_leaves_nothing(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_DOCUMENTS__IDLE_TIMEOUT_SECS", "5")
            .env("EXTRANET_DOCUMENTS__MIN_UPLOAD_RATE_BYTES_PER_SEC", "1024")
            .env("EXTRANET_DOCUMENTS__MIN_UPLOAD_RATE_WINDOW_SECS", "4")
            .start()
            .await?;
        let f = fixture(&server).await?;
        let cert = server.dev_cert_pem()?;
        let hs = handshake(server.https, &cert, &[&TLS13], &[b"http/1.1"]).await?;
        let (mut reader, mut writer) = tokio::io::split(hs.stream);

        let boundary = "drip-boundary-42";
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nDrip\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n\r\ntest_report\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
        );
        let request = format!(
            "POST /api/v1/dossiers/{}/documents HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
             Content-Length: 1000000\r\n\r\n{head}",
            f.dossier_a, f.admin_a
        );
        writer.write_all(request.as_bytes()).await?;
        writer.flush().await?;
        // The upload began: its intent is recorded.
        let began = wait_until(Duration::from_secs(10), || async {
            Ok(count(&server, INTENTS).await? == 1)
        })
        .await?;
        assert!(began, "the upload did not begin");

        // One byte a second, for at most a minute (without the minimum rate it would go on).
        let drip = tokio::spawn(async move {
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(60) {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if writer.write_all(b"x").await.is_err() || writer.flush().await.is_err() {
                    return true; // the server closed the connection
                }
            }
            false
        });
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        answer.extend_from_slice(&buf[..n]);
                        if answer.windows(4).any(|w| w == b"\r\n\r\n")
                            && String::from_utf8_lossy(&answer).contains("\"code\"")
                        {
                            break;
                        }
                    }
                }
            }
        })
        .await;
        assert!(read.is_ok(), "the dripping upload was never cut off");
        let text = String::from_utf8_lossy(&answer).into_owned();
        assert!(text.starts_with("HTTP/1.1 408"), "{text}");
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        let problem: Value = serde_json::from_str(body).with_context(|| text.clone())?;
        assert_eq!(problem["code"], "too_slow", "{problem}");
        drip.abort();

        nothing_left(&server, 0).await?;
        // The server is fine for everyone else.
        let (status, body) = upload(
            &server,
            &f.admin_a,
            &format!("/api/v1/dossiers/{}/documents", f.dossier_a),
            "test_report",
            "ok.pdf",
            pdf_bytes("ok"),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        server.stop().await
    }
);

const LIMIT_DENIALS: &str = "SELECT CAST(count(*) AS TEXT) FROM audit_log WHERE \
    action = 'document.upload' AND outcome = 'denied' AND detail LIKE '%hourly upload limit%'";

fn retry_after(res: &reqwest::Response) -> anyhow::Result<u64> {
    Ok(res
        .headers()
        .get("retry-after")
        .context("no Retry-After")?
        .to_str()?
        .parse()?)
}

async fn upload_res(
    server: &Server,
    token: &str,
    dossier: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<reqwest::Response> {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name("r.pdf")
        .mime_str("application/pdf")?;
    let form = reqwest::multipart::Form::new()
        .text("title", "Rapport")
        .text("doc_type", "test_report")
        .part("file", part);
    Ok(server
        .client()?
        .post(server.url(&format!("/api/v1/dossiers/{dossier}/documents")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await?)
}

matrix!(
    /// Per person and per hour: a byte limit that cuts an upload off in mid-stream, and a count
    /// limit refused before the body is read; both 429 with Retry-After, audited, leaving
    /// nothing; another person is not affected; the page says it in the visitor's language.
    async fn hourly_upload_limits_answer_429_with_retry_after(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_DOCUMENTS__UPLOADS_PER_HOUR", "3")
            .env("EXTRANET_DOCUMENTS__UPLOAD_BYTES_PER_HOUR", "300000")
            .start()
            .await?;
        let f = fixture(&server).await?;
        let res = upload_res(&server, &f.admin_a, &f.dossier_a, pdf_bytes("one")).await?;
        assert_eq!(res.status(), 201);
        let res = upload_res(&server, &f.admin_a, &f.dossier_a, big_pdf(200_000, 1)).await?;
        assert_eq!(res.status(), 201);

        // 200 kB used of 300 kB: a 150 kB file is cut off when it crosses the limit.
        let res = upload_res(&server, &f.admin_a, &f.dossier_a, big_pdf(150_000, 2)).await?;
        assert_eq!(res.status(), 429);
        let wait = retry_after(&res)?;
        assert!((1..=3600).contains(&wait), "{wait}");
        let problem: Value = res.json().await?;
        assert_eq!(problem["code"], "upload_limit", "{problem}");
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("300000 bytes") && d.contains("try again")),
            "{problem}"
        );
        nothing_left(&server, 2).await?;
        assert_eq!(count(&server, LIMIT_DENIALS).await?, 1);

        // Three uploads begun this hour: the fourth is refused before its body is read.
        let res = upload_res(&server, &f.admin_a, &f.dossier_a, pdf_bytes("four")).await?;
        assert_eq!(res.status(), 429);
        assert!((1..=3600).contains(&retry_after(&res)?));
        let problem: Value = res.json().await?;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|d| d.contains("3 uploads an hour")),
            "{problem}"
        );
        assert_eq!(count(&server, LIMIT_DENIALS).await?, 2);
        nothing_left(&server, 2).await?;

        // Someone else uploads as usual.
        let res = upload_res(&server, &f.staff, &f.dossier_a, pdf_bytes("staff")).await?;
        assert_eq!(res.status(), 201);

        // The page, in the visitor's language.
        let browser = server
            .sign_in("ca@a.example", "vlaai-tram-Kortrijk-42-brug")
            .await?;
        server.speak(&browser, "fr").await?;
        let page = format!("/dossiers/{}", f.dossier_a);
        let csrf = server.csrf(&browser, &page).await?;
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .text("title", "Rapport")
            .text("doc_type", "test_report")
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf_bytes("page"))
                    .file_name("p.pdf")
                    .mime_str("application/pdf")?,
            );
        let res = browser
            .post(server.url(&format!("{page}/documents")))
            .header("origin", server.origin())
            .multipart(form)
            .send()
            .await?;
        assert_eq!(res.status(), 429);
        assert!((1..=3600).contains(&retry_after(&res)?));
        let html = res.text().await?;
        assert!(html.contains("lang=\"fr\""), "{html}");
        assert!(
            html.contains("Vous avez atteint le nombre de téléversements"),
            "{html}"
        );
        assert_eq!(count(&server, LIMIT_DENIALS).await?, 3);
        nothing_left(&server, 3).await?;
        server.stop().await
    }
);
