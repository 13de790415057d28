//! The rights of access, portability and hand-over (issue 17) through the real binary's
//! `extranet subject` command, on SQLite and PostgreSQL × local and S3 storage: the access
//! report names every activity of the register that applies to the person and every read of
//! their data by someone else, and holds their documents byte for byte; the portability archive
//! validates against the schema inside it and parses back into its type; a company's
//! hand-over holds its own documents; an unknown person writes nothing.

use std::collections::BTreeSet;
use std::io::Read;

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, matrix};
use reqwest::Method;
use serde_json::Value;

use crate::access::{api, login, upload};
use crate::documents::{big_pdf, fixture};

/// Every entry of a ZIP file, by name.
fn entries(path: &std::path::Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path)?)?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i)?;
        let mut body = Vec::new();
        f.read_to_end(&mut body)?;
        let name = f.name()?.to_string();
        out.push((name, body));
    }
    Ok(out)
}

fn entry<'a>(all: &'a [(String, Vec<u8>)], name: &str) -> anyhow::Result<&'a [u8]> {
    all.iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_slice())
        .with_context(|| format!("{name} missing from the archive"))
}

/// The activities of the register file whose subjects include one of `subjects`, or whose
/// consent the person gave (none here).
fn applying_activities(subjects: &[&str]) -> anyhow::Result<BTreeSet<String>> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../policies/register/activities.toml"),
    )?;
    let doc: toml::Value = toml::from_str(&text)?;
    let mut out = BTreeSet::new();
    for a in doc["activity"].as_array().context("activities")? {
        if a.get("consent").is_some() {
            continue;
        }
        let theirs = a["subjects"].as_array().context("subjects")?;
        if theirs
            .iter()
            .any(|s| subjects.contains(&s.as_str().unwrap_or_default()))
        {
            out.insert(a["id"].as_str().context("id")?.to_owned());
        }
    }
    Ok(out)
}

async fn run_ok(server: &Server, args: &[&str]) -> anyhow::Result<()> {
    let (status, out, err) = server.command(args, "").await?;
    anyhow::ensure!(status.success(), "{args:?}: {out} {err}");
    Ok(())
}

matrix!(
    /// A contact uploads two documents; staff read her record and download one of them; the
    /// access report (ZIP, JSON and page) names every activity of the register that applies to
    /// a client contact, every one of those reads by staff with staff's name, her documents
    /// byte for byte, and fields her own role does not see. Every export is in the audit log.
    async fn access_report_names_activities_reads_and_documents(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let f = fixture(&server).await?;
        let url = format!("/api/v1/dossiers/{}/documents", f.dossier_a);
        let files = [big_pdf(300 * 1024 + 7, 3), big_pdf(2 * 1024 * 1024 + 1, 4)];
        let mut doc_ids = Vec::new();
        for (i, bytes) in files.iter().enumerate() {
            let (status, body) = upload(
                &server,
                &f.admin_a,
                &url,
                "test_report",
                &format!("verslag-{i}.pdf"),
                bytes.clone(),
            )
            .await?;
            anyhow::ensure!(status == 201, "upload: {status} {body}");
            let v: Value = serde_json::from_str(&body)?;
            doc_ids.push(v["id"].as_str().context("id")?.to_owned());
        }
        let (_, me) = api(&server, &f.admin_a, Method::GET, "/api/v1/me", None).await?;
        let me: Value = serde_json::from_str(&me)?;
        let person = me["id"].as_str().context("me id")?.to_owned();
        // Another person reads her record and one of her documents.
        let (status, body) = api(
            &server,
            &f.staff,
            Method::GET,
            &format!("/api/v1/people/{person}"),
            None,
        )
        .await?;
        anyhow::ensure!(status == 200, "staff reads: {status} {body}");
        let res = server
            .client()?
            .get(server.url(&format!("/api/v1/documents/{}/content", doc_ids[0])))
            .bearer_auth(&f.staff)
            .send()
            .await?;
        anyhow::ensure!(res.status() == 200, "download: {}", res.status());
        let _ = res.bytes().await?;

        let dir = tempfile::tempdir()?;
        let zip_path = dir.path().join("report.zip");
        run_ok(
            &server,
            &[
                "subject",
                "report",
                "--email",
                "ca@a.example",
                "--lang",
                "nl",
                "--output",
                zip_path.to_str().context("path")?,
            ],
        )
        .await?;
        let all = entries(&zip_path)?;
        let report: Value = serde_json::from_slice(entry(&all, "report.json")?)?;
        let typed: extranet_privacy::subject::report::AccessReport =
            serde_json::from_slice(entry(&all, "report.json")?)?;
        assert_eq!(typed.person.id.to_string(), person);

        // Every activity of the register that applies to a client contact with an account.
        let named: BTreeSet<String> = report["activities"]
            .as_array()
            .context("activities")?
            .iter()
            .filter_map(|a| a["id"].as_str().map(str::to_owned))
            .collect();
        let expected = applying_activities(&["client_contacts", "website_visitors"])?;
        assert!(!expected.is_empty());
        for id in &expected {
            assert!(named.contains(id), "activity {id} missing from {named:?}");
        }
        for a in report["activities"].as_array().context("activities")? {
            assert!(!a["purpose"].as_str().unwrap_or_default().is_empty());
            assert!(!a["retention"].as_array().context("retention")?.is_empty());
        }

        // Every read of her data by staff, as the audit log has it.
        let (_, staff_me) = api(&server, &f.staff, Method::GET, "/api/v1/me", None).await?;
        let staff_me: Value = serde_json::from_str(&staff_me)?;
        let staff_id = staff_me["id"].as_str().context("staff id")?;
        let reads = crate::auth::sql_rows(
            &server,
            &format!(
                "SELECT CAST(seq AS TEXT) FROM audit_log WHERE actor_id = '{staff_id}' AND \
                 ((subject_type = 'person' AND subject_id = '{person}') OR \
                  (subject_type = 'document' AND subject_id IN ('{}', '{}')))",
                doc_ids[0], doc_ids[1]
            ),
        )
        .await?;
        assert!(reads.len() >= 2, "staff's reads were recorded: {reads:?}");
        let listed: Vec<&Value> = report["accesses"]
            .as_array()
            .context("accesses")?
            .iter()
            .collect();
        for r in &reads {
            let seq: i64 = r[0].parse()?;
            let a = listed
                .iter()
                .find(|a| a["seq"].as_i64() == Some(seq))
                .with_context(|| format!("audit entry {seq} missing from the report"))?;
            assert_eq!(a["actor_name"], "Test Persoon");
        }
        assert!(
            listed.iter().all(|a| a["actor_id"] != person.as_str()),
            "her own actions are not accesses by others"
        );

        // Her documents, byte for byte.
        let docs = report["documents"].as_array().context("documents")?;
        assert_eq!(docs.len(), 2);
        for (d, bytes) in docs.iter().zip(&files) {
            let name = d["archive_name"].as_str().context("archive name")?;
            assert!(entry(&all, name)? == bytes.as_slice(), "{name} differs");
        }

        // Fields her role does not see are there too (the password hash is held, not shown).
        let held = report["held"].as_array().context("held")?;
        let person_table = held
            .iter()
            .find(|t| t["table"] == "person")
            .context("person table")?;
        let fields = person_table["rows"][0].as_array().context("row")?;
        let field = |c: &str| fields.iter().find(|f| f["column"] == c);
        assert_eq!(field("email").context("email")?["value"], "ca@a.example");
        assert_eq!(field("password_hash").context("hash")?["withheld"], true);
        assert!(field("password_hash").context("hash")?["value"].is_null());
        assert!(held.iter().any(|t| t["table"] == "document_version"));

        // The page: in Dutch, staff by name, the documents' titles.
        let html = String::from_utf8(entry(&all, "report.html")?.to_vec())?;
        assert!(html.contains("<html lang=\"nl\""));
        assert!(html.contains("Inzageverslag"));
        assert!(html.contains("Test Persoon"));
        assert!(html.contains("verslag-1.pdf"));
        assert!(!html.contains(staff_id), "people by name, not id");

        // JSON and page alone.
        let json_path = dir.path().join("report.json");
        run_ok(
            &server,
            &[
                "subject",
                "report",
                "--email",
                "CA@a.example",
                "--format",
                "json",
                "--output",
                json_path.to_str().context("path")?,
            ],
        )
        .await?;
        let alone: Value = serde_json::from_slice(&std::fs::read(&json_path)?)?;
        assert_eq!(alone["person"]["id"], person.as_str());
        let html_path = dir.path().join("report.html");
        run_ok(
            &server,
            &[
                "subject",
                "report",
                "--email",
                "ca@a.example",
                "--lang",
                "fr",
                "--format",
                "html",
                "--output",
                html_path.to_str().context("path")?,
            ],
        )
        .await?;
        let page = std::fs::read_to_string(&html_path)?;
        assert!(
            page.contains("<html lang=\"fr\"") && page.contains("Rapport d"),
            "{page}"
        );

        // Every generation is in the audit log.
        let recorded = crate::documents::count(
            &server,
            &format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'subject.report' AND \
                 subject_type = 'person' AND subject_id = '{person}'"
            ),
        )
        .await?;
        assert_eq!(recorded, 4, "data ×3 and one archive");
        server.stop().await?;
        Ok(())
    }
);

matrix!(
    /// The portability archive holds what the contact provided — profile and uploaded
    /// documents, not audit entries — validates against the JSON Schema inside it, and parses
    /// back into the same typed value; its CSV and files agree with the JSON.
    async fn portability_archive_validates_and_round_trips(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let f = fixture(&server).await?;
        let url = format!("/api/v1/dossiers/{}/documents", f.dossier_a);
        let bytes = big_pdf(123_456, 9);
        let (status, body) = upload(
            &server,
            &f.admin_a,
            &url,
            "test_report",
            "attest.pdf",
            bytes.clone(),
        )
        .await?;
        anyhow::ensure!(status == 201, "upload: {status} {body}");
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("mine.zip");
        run_ok(
            &server,
            &[
                "subject",
                "portability",
                "--email",
                "ca@a.example",
                "--output",
                path.to_str().context("path")?,
            ],
        )
        .await?;
        let all = entries(&path)?;
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        for n in [
            "data.json",
            "schema.json",
            "profile.csv",
            "vehicles.csv",
            "consents.csv",
            "documents.csv",
        ] {
            assert!(names.contains(&n), "{n} missing: {names:?}");
        }
        let data: Value = serde_json::from_slice(entry(&all, "data.json")?)?;
        let schema: Value = serde_json::from_slice(entry(&all, "schema.json")?)?;
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let validator =
            jsonschema::draft202012::new(&schema).map_err(|e| anyhow::anyhow!("schema: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(&data)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        // A value the schema refuses: it is a real schema, not one that takes anything.
        let mut wrong = data.clone();
        wrong["profile"]["surprise"] = Value::from(1);
        assert!(!validator.is_valid(&wrong));

        let typed: extranet_privacy::subject::portability::Portable =
            serde_json::from_value(data.clone())?;
        assert_eq!(serde_json::to_value(&typed)?, data, "round trip");
        assert_eq!(typed.profile.email, "ca@a.example");
        assert_eq!(typed.documents.len(), 1);
        assert!(entry(&all, &typed.documents[0].file)? == bytes.as_slice());
        assert!(data.get("accesses").is_none() && data.get("audit").is_none());
        let profile = String::from_utf8(entry(&all, "profile.csv")?.to_vec())?;
        assert!(profile.contains("email,ca@a.example"));
        let recorded = crate::documents::count(
            &server,
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'subject.portability'",
        )
        .await?;
        assert_eq!(recorded, 1);
        server.stop().await?;
        Ok(())
    }
);

matrix!(
    /// A company's hand-over holds its organisation, its people and its dossier's documents
    /// byte for byte (and no other company's); it validates against its schema.
    async fn handover_holds_the_company_and_its_documents(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let f = fixture(&server).await?;
        let url = format!("/api/v1/dossiers/{}/documents", f.dossier_a);
        let bytes = big_pdf(77_777, 5);
        let (status, body) = upload(
            &server,
            &f.admin_a,
            &url,
            "test_report",
            "cert.pdf",
            bytes.clone(),
        )
        .await?;
        anyhow::ensure!(status == 201, "upload: {status} {body}");
        let (_, me) = api(&server, &f.admin_a, Method::GET, "/api/v1/me", None).await?;
        let me: Value = serde_json::from_str(&me)?;
        let org = me["organisation_id"]
            .as_str()
            .context("organisation")?
            .to_owned();
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("company.zip");
        run_ok(
            &server,
            &[
                "subject",
                "handover",
                "--organisation",
                &org,
                "--output",
                path.to_str().context("path")?,
            ],
        )
        .await?;
        let all = entries(&path)?;
        let data: Value = serde_json::from_slice(entry(&all, "organisation.json")?)?;
        let schema: Value = serde_json::from_slice(entry(&all, "schema.json")?)?;
        let validator =
            jsonschema::draft202012::new(&schema).map_err(|e| anyhow::anyhow!("schema: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(&data)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(data["organisation"]["name"], "Beton A NV");
        let emails: BTreeSet<&str> = data["people"]
            .as_array()
            .context("people")?
            .iter()
            .filter_map(|p| p["email"].as_str())
            .collect();
        assert_eq!(emails, BTreeSet::from(["ca@a.example", "cu@a.example"]));
        let docs = data["documents"].as_array().context("documents")?;
        assert_eq!(docs.len(), 1);
        let file = docs[0]["file"].as_str().context("file")?;
        assert!(entry(&all, file)? == bytes.as_slice());

        // Through the API: the primary contact gets her own company, staff any company; the
        // primary contact of another company (not found) and an inspector (refused) are not.
        let export = |token: String, org: String| {
            let server = &server;
            async move {
                let res = server
                    .client()?
                    .get(server.url(&format!("/api/v1/organisations/{org}/export")))
                    .bearer_auth(token)
                    .send()
                    .await?;
                let status = res.status().as_u16();
                let body = res.bytes().await?.to_vec();
                anyhow::Ok((status, body))
            }
        };
        let (status, body) = export(f.admin_a.clone(), org.clone()).await?;
        assert_eq!(status, 200);
        let got = dir.path().join("api.zip");
        std::fs::write(&got, &body)?;
        let via_api = entries(&got)?;
        assert!(entry(&via_api, file)? == bytes.as_slice());
        let (status, _) = export(f.staff.clone(), org.clone()).await?;
        assert_eq!(status, 200);
        let admin_b = login(&server, "cba@b.example").await?;
        let inspector = login(&server, "insp@cb.example").await?;
        let (_, other) = api(&server, &admin_b, Method::GET, "/api/v1/me", None).await?;
        let other: Value = serde_json::from_str(&other)?;
        let org_b = other["organisation_id"]
            .as_str()
            .context("org b")?
            .to_owned();
        let (status, _) = export(f.admin_a.clone(), org_b).await?;
        // Another company is not hers to see: not found, like every such id.
        assert_eq!(status, 404, "another company");
        let (status, _) = export(inspector, org.clone()).await?;
        assert_eq!(status, 403, "an inspector");
        let user_a = login(&server, "cu@a.example").await?;
        let (status, _) = export(user_a, org.clone()).await?;
        assert_eq!(status, 403, "a contact who is not the primary contact");
        let recorded = crate::documents::count(
            &server,
            &format!(
                "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'subject.handover' \
                 AND subject_id = '{org}'"
            ),
        )
        .await?;
        assert_eq!(recorded, 3, "command line, primary contact, staff");
        server.stop().await?;
        Ok(())
    }
);

extranet_tests::databases!(
    /// An unknown person or organisation: one clear line, a non-zero exit, no file (not even a
    /// partial one).
    async fn unknown_person_writes_nothing(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("nobody.zip");
        let p = path.to_str().context("path")?;
        for args in [
            vec![
                "subject",
                "report",
                "--email",
                "nobody@nowhere.example",
                "--output",
                p,
            ],
            vec![
                "subject",
                "portability",
                "--email",
                "nobody@nowhere.example",
                "--output",
                p,
            ],
            vec![
                "subject",
                "handover",
                "--organisation",
                "0123.456.749",
                "--output",
                p,
            ],
        ] {
            let (status, out, err) = server.command(&args, "").await?;
            assert!(!status.success(), "{args:?}: {out}");
            let line = err.trim();
            assert!(
                line.contains("no person") || line.contains("no organisation"),
                "{line}"
            );
            assert_eq!(line.lines().count(), 1, "{line}");
        }
        let (status, _, err) = server
            .command(
                &[
                    "subject",
                    "report",
                    "--email",
                    "x@y.example",
                    "--format",
                    "pdf",
                    "--output",
                    p,
                ],
                "",
            )
            .await?;
        assert!(!status.success());
        assert!(err.contains("--format"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path())?.count(), 0, "no file written");
        server.stop().await?;
        Ok(())
    }
);
