//! Certification documents through the real binary, on SQLite and PostgreSQL × local and
//! S3-compatible storage: byte-identical round trips with SHA-256, ETag and Range; versions;
//! every kind of bad input refused with nothing stored; deletion, restore and legal holds; the
//! scanning hook; the access log; and crash consistency — a server killed with SIGKILL in the
//! middle of an upload, and a client that goes away, leave nothing visible and nothing stored.

use std::time::Duration;

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, Store, matrix};
use futures::StreamExt;
use object_store::ObjectStore;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::access::{api, login, pdf_bytes, upload};
use crate::auth::sql_rows;

/// A client company with its primary contact and a contact without rights, another company,
/// staff, and an inspector assigned to the first company's dossier.
pub(crate) struct Fixture {
    pub dossier_a: String,
    pub dossier_b: String,
    org_a: String,
    pub staff: String,
    pub admin_a: String,
    user_a: String,
    admin_b: String,
    inspector: String,
}

pub(crate) async fn fixture(server: &Server) -> anyhow::Result<Fixture> {
    let org_a = server.create_client_org("Beton A NV").await?;
    let org_b = server.create_client_org("Prefab B BV").await?;
    server.create_user("staff@cb.example", "staff").await?;
    server.create_user("insp@cb.example", "inspector").await?;
    server
        .create_user_in("ca@a.example", "client_admin", &org_a)
        .await?;
    server
        .create_user_in("cu@a.example", "client_user", &org_a)
        .await?;
    server
        .create_user_in("cba@b.example", "client_admin", &org_b)
        .await?;
    let staff = login(server, "staff@cb.example").await?;
    let mut dossiers = Vec::new();
    for org in [&org_a, &org_b] {
        let (status, body) = api(
            server,
            &staff,
            Method::POST,
            "/api/v1/dossiers",
            Some(json!({ "organisation_id": org, "scheme": "BENOR", "status": "active" })),
        )
        .await?;
        anyhow::ensure!(status == 201, "dossier: {status} {body}");
        let v: Value = serde_json::from_str(&body)?;
        dossiers.push(v["id"].as_str().context("dossier id")?.to_owned());
    }
    let inspector = login(server, "insp@cb.example").await?;
    let (_, me) = api(server, &inspector, Method::GET, "/api/v1/me", None).await?;
    let me: Value = serde_json::from_str(&me)?;
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let (status, body) = api(server, &staff, Method::POST, "/api/v1/assignments",
        Some(json!({ "dossier_id": dossiers[0], "inspector_id": me["id"], "starts_at": fmt(now - time::Duration::hours(1)), "ends_at": fmt(now + time::Duration::days(1)) }))).await?;
    anyhow::ensure!(status == 201, "assignment: {status} {body}");
    Ok(Fixture {
        dossier_a: dossiers[0].clone(),
        dossier_b: dossiers[1].clone(),
        org_a,
        staff,
        admin_a: login(server, "ca@a.example").await?,
        user_a: login(server, "cu@a.example").await?,
        admin_b: login(server, "cba@b.example").await?,
        inspector,
    })
}

/// Deterministic bytes that start as a PDF.
pub(crate) fn big_pdf(len: usize, seed: u8) -> Vec<u8> {
    let mut v = b"%PDF-1.7\n".to_vec();
    let mut x: u32 = 0x9e37_79b9 ^ u32::from(seed);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every object key the server's store holds under `documents/` — on the local store including
/// multipart staging files, which a listing through object_store would not show.
pub(crate) async fn stored_objects(server: &Server) -> anyhow::Result<Vec<String>> {
    match server.backends.store {
        Store::Local => {
            let dir = server.data_dir.join("objects").join("documents");
            let mut out = Vec::new();
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries {
                    out.push(format!("documents/{}", e?.file_name().to_string_lossy()));
                }
            }
            out.sort();
            Ok(out)
        }
        Store::S3 => {
            let env = extranet_tests::TestEnv::get();
            let prefix = server
                .env_value("EXTRANET_STORAGE__S3__PREFIX")
                .context("s3 prefix")?;
            let s3 = object_store::aws::AmazonS3Builder::new()
                .with_endpoint(env.s3_endpoint)
                .with_bucket_name(env.s3_bucket)
                .with_region("us-east-1")
                .with_access_key_id(env.s3_access_key)
                .with_secret_access_key(env.s3_secret_key)
                .with_allow_http(true)
                .build()?;
            let path = object_store::path::Path::from(format!("{prefix}/documents"));
            let mut listed = s3.list(Some(&path));
            let mut out = Vec::new();
            while let Some(meta) = listed.next().await {
                let key = meta?.location.to_string();
                out.push(key.trim_start_matches(&format!("{prefix}/")).to_owned());
            }
            out.sort();
            Ok(out)
        }
    }
}

/// The object keys the database references.
async fn referenced_objects(server: &Server) -> anyhow::Result<Vec<String>> {
    let mut keys: Vec<String> = sql_rows(
        server,
        "SELECT object_key FROM document_version UNION SELECT object_key FROM document_upload",
    )
    .await?
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    keys.sort();
    Ok(keys)
}

pub(crate) async fn count(server: &Server, sql: &str) -> anyhow::Result<i64> {
    let rows = sql_rows(server, sql).await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.parse().ok())
        .unwrap_or(-1))
}

async fn download(
    server: &Server,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> anyhow::Result<reqwest::Response> {
    let mut req = server.client()?.get(server.url(path)).bearer_auth(token);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Ok(req.send().await?)
}

matrix!(
    /// Upload → download byte-identical, SHA-256 and ETag right, Range answered as RFC 9110
    /// says; a second upload is version 2 and version 1 stays readable; every download is in the
    /// audit log; the store holds exactly the referenced objects.
    async fn round_trip_versions_and_ranges(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let f = fixture(&server).await?;
        let bytes = big_pdf(5 * 1024 * 1024 + 123, 1);
        let url = format!("/api/v1/dossiers/{}/documents", f.dossier_a);
        let name = "Rapport d'essai été.pdf";
        let (status, body) = upload(
            &server,
            &f.admin_a,
            &url,
            "test_report",
            name,
            bytes.clone(),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let doc: Value = serde_json::from_str(&body)?;
        let id = doc["id"].as_str().context("id")?.to_owned();
        let sha = hex_sha256(&bytes);
        assert_eq!(doc["sha256"], sha.as_str());
        assert_eq!(doc["size"], bytes.len() as u64);
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["media_type"], "application/pdf");
        assert_eq!(doc["file_name"], name);
        // A client's primary contact is not granted `deleted_at`: named, not shown.
        assert!(doc["masked"].to_string().contains("deleted_at"), "{doc}");

        let content = format!("/api/v1/documents/{id}/content");
        let res = download(&server, &f.admin_a, &content, &[]).await?;
        assert_eq!(res.status(), 200);
        let h = res.headers().clone();
        assert_eq!(h["etag"], format!("\"{sha}\"").as_str());
        assert_eq!(h["cache-control"], "no-store");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["accept-ranges"], "bytes");
        assert_eq!(h["content-type"], "application/pdf");
        assert_eq!(
            h["content-disposition"],
            "attachment; filename=\"Rapport d'essai _t_.pdf\"; filename*=UTF-8''Rapport%20d%27essai%20%C3%A9t%C3%A9.pdf"
        );
        let got = res.bytes().await?;
        assert!(got.as_ref() == bytes.as_slice(), "downloaded bytes differ");
        assert_eq!(hex_sha256(&got), sha);

        // Ranges: a slice, an open end, a suffix; If-Range with another tag gets everything;
        // a range past the end is 416 with the length.
        let n = bytes.len();
        for (range, from, to) in [
            ("bytes=0-99".to_owned(), 0, 100),
            (format!("bytes={}-", n - 10), n - 10, n),
            ("bytes=-4096".to_owned(), n - 4096, n),
            ("bytes=1048570-1048600".to_owned(), 1_048_570, 1_048_601),
        ] {
            let res = download(&server, &f.admin_a, &content, &[("range", &range)]).await?;
            assert_eq!(res.status(), 206, "{range}");
            assert_eq!(
                res.headers()["content-range"],
                format!("bytes {from}-{}/{n}", to - 1).as_str()
            );
            assert!(res.bytes().await?.as_ref() == &bytes[from..to], "{range}");
        }
        let res = download(
            &server,
            &f.admin_a,
            &content,
            &[("range", "bytes=0-9"), ("if-range", "\"other\"")],
        )
        .await?;
        assert_eq!(res.status(), 200);
        assert_eq!(res.bytes().await?.len(), n);
        let res = download(
            &server,
            &f.admin_a,
            &content,
            &[("range", &format!("bytes={n}-"))],
        )
        .await?;
        assert_eq!(res.status(), 416);
        assert_eq!(
            res.headers()["content-range"],
            format!("bytes */{n}").as_str()
        );

        // A preview is inline only for PDFs and images, under a sandboxing CSP.
        let res = download(&server, &f.admin_a, &format!("{content}?inline=true"), &[]).await?;
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-disposition"]
                .to_str()?
                .starts_with("inline;")
        );
        assert!(
            res.headers()["content-security-policy"]
                .to_str()?
                .starts_with("sandbox")
        );
        assert_eq!(res.bytes().await?.len(), n);

        // Version 2, by the inspector? No: a test report is not theirs to upload.
        let versions = format!("/api/v1/documents/{id}/versions");
        let (status, _) = upload(
            &server,
            &f.inspector,
            &versions,
            "",
            "v2.pdf",
            pdf_bytes("v2"),
        )
        .await?;
        assert_eq!(status, 403);
        let second = big_pdf(300_000, 2);
        let (status, body) =
            upload(&server, &f.staff, &versions, "", "v2.pdf", second.clone()).await?;
        assert_eq!(status, 201, "{body}");
        let v2: Value = serde_json::from_str(&body)?;
        assert_eq!(v2["version"], 2);
        let (status, body) = api(
            &server,
            &f.admin_a,
            Method::GET,
            &format!("/api/v1/documents/{id}"),
            None,
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let detail: Value = serde_json::from_str(&body)?;
        let listed: Vec<i64> = detail["versions"]
            .as_array()
            .context("versions")?
            .iter()
            .filter_map(|v| v["version"].as_i64())
            .collect();
        assert_eq!(listed, vec![2, 1]);
        let latest = download(&server, &f.admin_a, &content, &[])
            .await?
            .bytes()
            .await?;
        assert!(latest.as_ref() == second.as_slice());
        let first = download(&server, &f.admin_a, &format!("{content}?version=1"), &[])
            .await?
            .bytes()
            .await?;
        assert!(first.as_ref() == bytes.as_slice());

        // The list shows it once, at version 2.
        let (_, body) = api(&server, &f.admin_a, Method::GET, &url, None).await?;
        let list: Value = serde_json::from_str(&body)?;
        let items = list["items"].as_array().context("items")?;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["version"], 2);

        // Downloads are audited; the store holds exactly what the rows name.
        let downloads = count(
            &server,
            "SELECT CAST(count(*) AS TEXT) FROM audit_log WHERE action = 'document.download'",
        )
        .await?;
        assert!(downloads >= 9, "{downloads} downloads recorded");
        assert_eq!(
            stored_objects(&server).await?,
            referenced_objects(&server).await?
        );
        assert_eq!(stored_objects(&server).await?.len(), 2);
        server.stop().await
    }
);

matrix!(
    /// Every bad upload gets its status and a clear message, and leaves nothing: no row, no
    /// intent, no object.
    async fn bad_uploads_store_nothing(b: Backends) {
        let server = ServerBuilder::new(b)
            .env("EXTRANET_DOCUMENTS__MAX_UPLOAD_BYTES", "1048576")
            .start()
            .await?;
        let f = fixture(&server).await?;
        let url = format!("/api/v1/dossiers/{}/documents", f.dossier_a);
        let png =
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde".to_vec();
        let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
            (
                "over the limit",
                "big.pdf",
                big_pdf(2 * 1024 * 1024, 3),
                413,
                "too_large",
            ),
            (
                "a script",
                "run.pdf",
                b"#!/bin/sh\nrm -rf /\n".to_vec(),
                415,
                "type_not_allowed",
            ),
            (
                "an executable",
                "setup.exe",
                b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec(),
                415,
                "type_not_allowed",
            ),
            (
                "PNG bytes named .pdf",
                "scan.pdf",
                png.clone(),
                415,
                "type_mismatch",
            ),
            ("empty", "empty.pdf", Vec::new(), 422, "empty"),
        ];
        for (what, name, bytes, want, code) in cases {
            let (status, body) =
                upload(&server, &f.admin_a, &url, "test_report", name, bytes).await?;
            assert_eq!(status, want, "{what}: {body}");
            let v: Value =
                serde_json::from_str(&body).with_context(|| format!("{what}: {body}"))?;
            assert_eq!(v["code"], code, "{what}: {body}");
            assert!(
                v["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{what}: {body}"
            );
        }
        // A PDF whose part says it is a PNG.
        let part = reqwest::multipart::Part::bytes(pdf_bytes("x"))
            .file_name("x.png")
            .mime_str("image/png")?;
        let form = reqwest::multipart::Form::new()
            .text("title", "x")
            .text("doc_type", "test_report")
            .part("file", part);
        let res = server
            .client()?
            .post(server.url(&url))
            .bearer_auth(&f.admin_a)
            .multipart(form)
            .send()
            .await?;
        assert_eq!(res.status(), 415);
        // Missing title, unknown type, file before the title, no file at all.
        for (form, field) in [
            (
                reqwest::multipart::Form::new().text("doc_type", "test_report"),
                "title",
            ),
            (
                reqwest::multipart::Form::new()
                    .text("title", "x")
                    .text("doc_type", "recipe"),
                "doc_type",
            ),
            (
                reqwest::multipart::Form::new()
                    .text("title", "x")
                    .text("doc_type", "test_report"),
                "file",
            ),
        ] {
            let form = if field == "file" {
                form
            } else {
                form.part(
                    "file",
                    reqwest::multipart::Part::bytes(pdf_bytes("y")).file_name("y.pdf"),
                )
            };
            let res = server
                .client()?
                .post(server.url(&url))
                .bearer_auth(&f.admin_a)
                .multipart(form)
                .send()
                .await?;
            assert_eq!(res.status(), 422, "{field}");
            let v: Value = res.json().await?;
            assert!(v.to_string().contains(field), "{field}: {v}");
        }
        // A malformed multipart body, and a body that is not multipart at all.
        let res = server
            .client()?
            .post(server.url(&url))
            .bearer_auth(&f.admin_a)
            .header("content-type", "multipart/form-data; boundary=XYZ")
            .body("--XYZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nx\r\n--XYZ\r\nbroken")
            .send()
            .await?;
        assert_eq!(res.status(), 400);
        let res = server
            .client()?
            .post(server.url(&url))
            .bearer_auth(&f.admin_a)
            .json(&json!({ "title": "x" }))
            .send()
            .await?;
        assert_eq!(res.status(), 400);
        // Another tenant's dossier, a dossier the inspector is not assigned to, a contact
        // without the upload right.
        // Each refusal leaves exactly one audit record, naming the document upload.
        let other = format!("/api/v1/dossiers/{}/documents", f.dossier_b);
        let denials = "SELECT CAST(count(*) AS TEXT) FROM audit_log WHERE action = 'access.denied' \
                       AND detail LIKE '%\"resource\":\"document\"%' AND detail LIKE '%\"action\":\"upload\"%'";
        for (who, target, doc_type, want) in [
            (&f.admin_a, &other, "test_report", 404),
            (&f.inspector, &other, "inspection_report", 404),
            (&f.user_a, &url, "test_report", 403),
        ] {
            let before = count(&server, denials).await?;
            let (status, _) =
                upload(&server, who, target, doc_type, "x.pdf", pdf_bytes("x")).await?;
            assert_eq!(status, want, "{target}");
            assert_eq!(
                count(&server, denials).await?,
                before + 1,
                "{target}: one denial recorded"
            );
        }

        assert_eq!(
            count(&server, "SELECT CAST(count(*) AS TEXT) FROM document").await?,
            0
        );
        assert_eq!(
            count(
                &server,
                "SELECT CAST(count(*) AS TEXT) FROM document_upload"
            )
            .await?,
            0
        );
        // Cleanup of refused uploads is immediate, but may finish just after the answer.
        let mut left = stored_objects(&server).await?;
        for _ in 0..50 {
            if left.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            left = stored_objects(&server).await?;
        }
        assert!(left.is_empty(), "objects left behind: {left:?}");

        // A hostile name is accepted, but only as harmless metadata.
        let hostile = "..\\..\\etc/\u{202e}fdp.<b onclick=x>.pdf";
        let (status, body) = upload(
            &server,
            &f.admin_a,
            &url,
            "test_report",
            hostile,
            pdf_bytes("n"),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let v: Value = serde_json::from_str(&body)?;
        let stored = v["file_name"].as_str().context("name")?;
        assert_eq!(stored, "fdp._b onclick=x_.pdf");
        let id = v["id"].as_str().context("id")?;
        let res = download(
            &server,
            &f.admin_a,
            &format!("/api/v1/documents/{id}/content"),
            &[],
        )
        .await?;
        let cd = res.headers()["content-disposition"].to_str()?.to_owned();
        assert!(
            !cd.contains('/') && !cd.contains('\\') && !cd.contains('<'),
            "{cd}"
        );
        server.stop().await
    }
);

matrix!(
    /// Soft deletion (only staff see and restore it), legal holds blocking deletion, the
    /// scanning hook refusing a file, and the company's access log.
    async fn deletion_holds_scanning_and_access_log(b: Backends) {
        let dir = tempfile::tempdir()?;
        let scanner = dir.path().join("scan.sh");
        // A stand-in for `clamdscan -`: exit 1 ("infected") when the file holds the marker.
        // It also notes which of the server's settings it was given (none, it should be).
        let seen = dir.path().join("scanner-env");
        std::fs::write(
            &scanner,
            format!(
                "#!/bin/sh\nenv | grep -c '^EXTRANET_' > '{}'\n\
                 if grep -q EICAR-MARKER; then exit 1; fi\nexit 0\n",
                seen.display()
            ),
        )?;
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&scanner)
            .status()?;
        let server = ServerBuilder::new(b)
            .env(
                "EXTRANET_DOCUMENTS__SCAN_COMMAND",
                format!("[\"{}\"]", scanner.display()),
            )
            .start()
            .await?;
        let f = fixture(&server).await?;
        let url = format!("/api/v1/dossiers/{}/documents", f.dossier_a);
        let (status, body) = upload(
            &server,
            &f.admin_a,
            &url,
            "test_report",
            "bad.pdf",
            pdf_bytes("EICAR-MARKER"),
        )
        .await?;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("\"rejected\""), "{body}");
        assert_eq!(
            std::fs::read_to_string(&seen)?.trim(),
            "0",
            "the scanner saw the server's EXTRANET_* settings (secrets among them)"
        );
        assert_eq!(
            count(&server, "SELECT CAST(count(*) AS TEXT) FROM document").await?,
            0
        );

        let (status, body) = upload(
            &server,
            &f.admin_a,
            &url,
            "test_report",
            "ok.pdf",
            pdf_bytes("fine"),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        let id = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        let doc = format!("/api/v1/documents/{id}");

        // The inspector and the other company's contact look at it (or try to).
        assert_eq!(
            download(&server, &f.inspector, &format!("{doc}/content"), &[])
                .await?
                .status(),
            200
        );
        assert_eq!(
            api(&server, &f.admin_b, Method::GET, &doc, None).await?.0,
            404
        );
        // A contact without the read right: the document is not theirs to see.
        assert_eq!(
            api(&server, &f.user_a, Method::GET, &doc, None).await?.0,
            404
        );

        // The access log: the primary contact sees who opened it; a contact does not.
        let log = format!("/api/v1/organisations/{}/document-accesses", f.org_a);
        let (status, body) = api(&server, &f.admin_a, Method::GET, &log, None).await?;
        assert_eq!(status, 200, "{body}");
        let entries: Value = serde_json::from_str(&body)?;
        let first = &entries["items"][0];
        assert_eq!(first["action"], "document.download");
        assert_eq!(first["actor_name"], "Test Persoon");
        assert_eq!(first["actor_roles"], json!(["inspector"]));
        assert_eq!(first["document_id"], id.as_str());
        assert_eq!(
            api(&server, &f.user_a, Method::GET, &log, None).await?.0,
            403
        );
        assert_eq!(
            api(&server, &f.admin_b, Method::GET, &log, None).await?.0,
            404
        );

        // A legal hold blocks deletion; lifted, the primary contact deletes.
        let hold = format!("/api/v1/dossiers/{}/legal-hold", f.dossier_a);
        assert_eq!(
            api(
                &server,
                &f.admin_a,
                Method::PUT,
                &hold,
                Some(json!({ "hold": true }))
            )
            .await?
            .0,
            403
        );
        assert_eq!(
            api(
                &server,
                &f.staff,
                Method::PUT,
                &hold,
                Some(json!({ "hold": true }))
            )
            .await?
            .0,
            204
        );
        let (status, body) = api(&server, &f.admin_a, Method::DELETE, &doc, None).await?;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("legal_hold"), "{body}");
        assert_eq!(
            api(
                &server,
                &f.staff,
                Method::PUT,
                &hold,
                Some(json!({ "hold": false }))
            )
            .await?
            .0,
            204
        );
        assert_eq!(
            api(&server, &f.inspector, Method::DELETE, &doc, None)
                .await?
                .0,
            403
        );
        assert_eq!(
            api(&server, &f.admin_a, Method::DELETE, &doc, None)
                .await?
                .0,
            204
        );

        // Gone for the company and the inspector; staff still see it and restore it.
        assert_eq!(
            api(&server, &f.admin_a, Method::GET, &doc, None).await?.0,
            404
        );
        assert_eq!(
            download(&server, &f.inspector, &format!("{doc}/content"), &[])
                .await?
                .status(),
            404
        );
        let (_, body) = api(&server, &f.admin_a, Method::GET, &url, None).await?;
        assert_eq!(serde_json::from_str::<Value>(&body)?["items"], json!([]));
        let (status, body) = api(&server, &f.staff, Method::GET, &doc, None).await?;
        assert_eq!(status, 200);
        assert!(serde_json::from_str::<Value>(&body)?["document"]["deleted_at"].is_string());
        assert_eq!(
            api(
                &server,
                &f.admin_a,
                Method::POST,
                &format!("{doc}/restore"),
                None
            )
            .await?
            .0,
            404
        );
        assert_eq!(
            api(
                &server,
                &f.staff,
                Method::POST,
                &format!("{doc}/restore"),
                None
            )
            .await?
            .0,
            200
        );
        assert_eq!(
            api(&server, &f.admin_a, Method::GET, &doc, None).await?.0,
            200
        );
        // The bytes were never touched.
        assert_eq!(stored_objects(&server).await?.len(), 1);
        server.stop().await
    }
);

/// Streams `total` bytes of a PDF as the `file` part, as fast as the server takes them; the
/// returned counter says how many were handed over.
fn streaming_upload(
    server: &Server,
    token: &str,
    dossier: &str,
    total: usize,
) -> anyhow::Result<(
    tokio::task::JoinHandle<reqwest::Result<reqwest::Response>>,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
)> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let sent = Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let chunk = bytes::Bytes::from(big_pdf(256 * 1024, 7));
    let chunks = total / chunk.len();
    let stream = futures::stream::iter(0..chunks).map(move |_| {
        counter.fetch_add(chunk.len(), Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk.clone())
    });
    let part = reqwest::multipart::Part::stream_with_length(
        reqwest::Body::wrap_stream(stream),
        (chunks * 256 * 1024) as u64,
    )
    .file_name("big.pdf")
    .mime_str("application/pdf")?;
    let form = reqwest::multipart::Form::new()
        .text("title", "Big")
        .text("doc_type", "test_report")
        .part("file", part);
    let req = server
        .client()?
        .post(server.url(&format!("/api/v1/dossiers/{dossier}/documents")))
        .bearer_auth(token)
        .multipart(form);
    Ok((tokio::spawn(req.send()), sent))
}

pub(crate) async fn wait_until<F, Fut>(limit: Duration, mut check: F) -> anyhow::Result<bool>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<bool>>,
{
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check().await? {
            return Ok(true);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check().await
}

matrix!(
    /// The server killed with SIGKILL in the middle of a 200 MB upload: after a restart nothing
    /// is visible, and the collector removes the intent and every byte that was stored.
    async fn killed_mid_upload_leaves_nothing(b: Backends) {
        let dir = tempfile::tempdir()?;
        let timing = [
            ("EXTRANET_DOCUMENTS__IDLE_TIMEOUT_SECS", "1"),
            ("EXTRANET_DOCUMENTS__STALE_AFTER_SECS", "2"),
            ("EXTRANET_DOCUMENTS__COLLECT_EVERY_SECS", "1"),
        ];
        let mut builder = ServerBuilder::new(b).data_dir(dir.path());
        for (k, v) in timing {
            builder = builder.env(k, v);
        }
        let mut first = builder.start().await?;
        let f = fixture(&first).await?;
        let (upload, sent) = streaming_upload(&first, &f.admin_a, &f.dossier_a, 200 * 1024 * 1024)?;
        // Well into the upload: the intent is recorded and bytes are in the store.
        let started = wait_until(Duration::from_secs(60), || async {
            Ok(
                sent.load(std::sync::atomic::Ordering::SeqCst) > 40 * 1024 * 1024
                    && count(&first, "SELECT CAST(count(*) AS TEXT) FROM document_upload").await?
                        == 1,
            )
        })
        .await?;
        assert!(started, "the upload did not get going");
        if b.store == Store::Local {
            assert!(
                !stored_objects(&first).await?.is_empty(),
                "no staging file while uploading"
            );
        }
        first.signal("KILL")?;
        first.wait_exit(Duration::from_secs(10)).await?;
        assert!(
            upload.await?.is_err()
                || sent.load(std::sync::atomic::Ordering::SeqCst) < 200 * 1024 * 1024
        );

        let mut again = ServerBuilder::new(b).data_dir(dir.path());
        for (k, v) in timing {
            again = again.env(k, v);
        }
        if let Some(url) = first.pg_url() {
            again = again.env("EXTRANET_DATABASE__URL", url.to_owned());
        }
        if let Some(prefix) = first.env_value("EXTRANET_STORAGE__S3__PREFIX") {
            again = again.env("EXTRANET_STORAGE__S3__PREFIX", prefix.to_owned());
        }
        let again = again.start().await?;
        let (_, body) = api(
            &again,
            &login(&again, "ca@a.example").await?,
            Method::GET,
            &format!("/api/v1/dossiers/{}/documents", f.dossier_a),
            None,
        )
        .await?;
        assert_eq!(
            serde_json::from_str::<Value>(&body)?["items"],
            json!([]),
            "visible after the crash"
        );
        let collected = wait_until(Duration::from_secs(30), || async {
            Ok(
                count(&again, "SELECT CAST(count(*) AS TEXT) FROM document_upload").await? == 0
                    && stored_objects(&again).await?.is_empty(),
            )
        })
        .await?;
        assert!(collected, "left: {:?}", stored_objects(&again).await?);
        assert_eq!(
            count(&again, "SELECT CAST(count(*) AS TEXT) FROM document").await?,
            0
        );
        assert!(
            again
                .stderr_contains("collected leftovers", Duration::from_secs(1))
                .await
        );
        again.stop().await?;
        first.stop().await
    }
);

matrix!(
    /// A client that goes away in the middle of an upload: nothing visible, and the server
    /// removes what it stored at once (no collector needed: it runs only hourly here).
    async fn client_gone_mid_upload_leaves_nothing(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let f = fixture(&server).await?;
        let (upload, sent) =
            streaming_upload(&server, &f.admin_a, &f.dossier_a, 200 * 1024 * 1024)?;
        let started = wait_until(Duration::from_secs(60), || async {
            Ok(
                sent.load(std::sync::atomic::Ordering::SeqCst) > 30 * 1024 * 1024
                    && count(
                        &server,
                        "SELECT CAST(count(*) AS TEXT) FROM document_upload",
                    )
                    .await?
                        == 1,
            )
        })
        .await?;
        assert!(started, "the upload did not get going");
        upload.abort();
        let _ = upload.await;
        let clean = wait_until(Duration::from_secs(20), || async {
            Ok(count(
                &server,
                "SELECT CAST(count(*) AS TEXT) FROM document_upload",
            )
            .await?
                == 0
                && stored_objects(&server).await?.is_empty())
        })
        .await?;
        assert!(
            clean,
            "left: {:?}, intents {}; server log:\n{}",
            stored_objects(&server).await?,
            count(
                &server,
                "SELECT CAST(count(*) AS TEXT) FROM document_upload"
            )
            .await?,
            server.stderr()
        );
        assert_eq!(
            count(&server, "SELECT CAST(count(*) AS TEXT) FROM document").await?,
            0
        );
        server.stop().await
    }
);
