//! The personal data the privacy statement names (issue 16, item 6), entered and corrected
//! through the API and the pages: the form of address, and for people of rental companies the
//! birth date, the training certificate and the licence plates of their vehicles (several);
//! an organisation's own details. A field the caller does not see cannot be set (403); the
//! rental-only fields are refused for anyone else (422) and not offered there; bad values are
//! refused naming the field, with nothing written; every change leaves an audit record naming
//! the fields changed and never their values.

use anyhow::Context;
use extranet_tests::{Server, ServerBuilder, databases};
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::{api, login};
use crate::auth::sql_rows;
use crate::backoffice_pages::{page, post};

const PASSWORD: &str = crate::access::PASSWORD;

/// The values this file writes: none of them may appear in an audit record.
const SECRETS: &[&str] = &[
    "1985-04-12",
    "1986-01-02",
    "2027-06-30",
    "2028-01-31",
    "1-ABC-123",
    "2-XYZ-987",
    "3-DEF-456",
    "+32 9 222 33 44",
    "+32 2 555 66 77",
    "BE0123456749",
    "0123456749",
    "Kerkstraat",
];

struct Fixture {
    server: Server,
    rental: String,
    client: String,
    /// email → (id, API token)
    people: std::collections::BTreeMap<&'static str, (String, String)>,
}

impl Fixture {
    fn id(&self, email: &str) -> &str {
        &self.people[email].0
    }

    fn token(&self, email: &str) -> &str {
        &self.people[email].1
    }

    async fn call(
        &self,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let (status, text) = api(&self.server, self.token(who), method, path, body).await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    async fn person(&self, email: &str) -> anyhow::Result<Value> {
        let (status, p) = self
            .call(
                "staff@cb.example",
                Method::GET,
                &format!("/api/v1/people/{}", self.id(email)),
                None,
            )
            .await?;
        anyhow::ensure!(status == 200, "{status} {p}");
        Ok(p)
    }

    async fn patch_person(
        &self,
        who: &str,
        email: &str,
        body: Value,
    ) -> anyhow::Result<(u16, Value)> {
        self.call(
            who,
            Method::PATCH,
            &format!("/api/v1/people/{}", self.id(email)),
            Some(body),
        )
        .await
    }

    async fn plates(&self, email: &str) -> anyhow::Result<Vec<String>> {
        let rows = sql_rows(
            &self.server,
            &format!(
                "SELECT licence_plate FROM vehicle v JOIN person p ON p.id = v.person_id \
                 WHERE p.email_normalized = '{email}' ORDER BY licence_plate"
            ),
        )
        .await?;
        Ok(rows.into_iter().map(|r| r[0].clone()).collect())
    }
}

async fn fixture(server: Server) -> anyhow::Result<Fixture> {
    let (status, out, err) = server
        .command(
            &[
                "org",
                "create",
                "--kind",
                "rental",
                "--name",
                "Hoogwerk Verhuur NV",
            ],
            "",
        )
        .await?;
    anyhow::ensure!(status.success(), "org create: {out} {err}");
    let rental = out.trim().to_owned();
    let client = server.create_client_org("Beton Klant NV").await?;
    let people: [(&'static str, &str, Option<&str>); 7] = [
        ("staff@cb.example", "staff", None),
        ("po@cb.example", "privacy_officer", None),
        ("insp@cb.example", "inspector", None),
        ("ra@r.example", "client_admin", Some(&rental)),
        ("ru@r.example", "client_user", Some(&rental)),
        ("ca@c.example", "client_admin", Some(&client)),
        ("cu@c.example", "client_user", Some(&client)),
    ];
    let mut map = std::collections::BTreeMap::new();
    for (email, role, org) in people {
        match org {
            Some(o) => server.create_user_in(email, role, o).await?,
            None => server.create_user(email, role).await?,
        };
        let token = login(&server, email).await?;
        let (status, me) = api(&server, &token, Method::GET, "/api/v1/me", None).await?;
        anyhow::ensure!(status == 200, "me: {status}");
        let me: Value = serde_json::from_str(&me)?;
        map.insert(email, (me["id"].as_str().context("id")?.to_owned(), token));
    }
    Ok(Fixture {
        server,
        rental,
        client,
        people: map,
    })
}

/// The field names a 422 names.
fn fields_named(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The details of the audit records of `action` about `subject`, oldest first.
async fn details(server: &Server, action: &str, subject: &str) -> anyhow::Result<Vec<String>> {
    Ok(sql_rows(
        server,
        &format!(
            "SELECT CAST(detail AS TEXT) FROM audit_log WHERE action = '{action}' \
             AND CAST(subject_id AS TEXT) = '{subject}' ORDER BY seq"
        ),
    )
    .await?
    .into_iter()
    .map(|r| r[0].clone())
    .collect())
}

/// No audit record holds any of the values this file wrote.
async fn no_values_audited(server: &Server) -> anyhow::Result<()> {
    let all = sql_rows(server, "SELECT CAST(detail AS TEXT) FROM audit_log").await?;
    for row in &all {
        for secret in SECRETS {
            anyhow::ensure!(
                !row[0].contains(secret),
                "an audit record holds a value: {}",
                row[0]
            );
        }
    }
    Ok(())
}

databases!(
    /// Staff set a rental company person's birth date, training certificate and two vehicles
    /// through the API and through the person's page; the company's primary contact, who does
    /// not see those fields, cannot set them, but sets the form of address and the phone.
    async fn rental_person_data_through_api_and_page(b: Backends) {
        let f = fixture(ServerBuilder::new(b).start().await?).await?;
        let ru = f.id("ru@r.example").to_owned();

        let (status, p) = f
            .patch_person(
                "staff@cb.example",
                "ru@r.example",
                json!({ "birth_date": "1985-04-12", "training_valid_until": "2027-06-30",
                        "licence_plates": ["1-abc-123", " 2-XYZ-987 "], "gender": "ms" }),
            )
            .await?;
        assert_eq!(status, 200, "{p}");
        assert_eq!(p["birth_date"], "1985-04-12", "{p}");
        assert_eq!(p["training_valid_until"], "2027-06-30", "{p}");
        assert_eq!(
            p["licence_plates"],
            json!(["1-ABC-123", "2-XYZ-987"]),
            "{p}"
        );
        assert_eq!(p["gender"], "ms", "{p}");
        assert!(p.get("licence_plate").is_none(), "{p}");
        assert_eq!(f.plates("ru@r.example").await?, ["1-ABC-123", "2-XYZ-987"]);
        let audited = details(&f.server, "person.update", &ru).await?;
        let last = audited.last().context("no person.update record")?;
        for field in [
            "birth_date",
            "training_valid_until",
            "licence_plates",
            "gender",
        ] {
            assert!(last.contains(field), "{last}");
        }

        // The primary contact does not see birth dates or plates: they cannot set them either,
        // and the refusal says which field; nothing changes.
        let (status, body) = f
            .patch_person(
                "ra@r.example",
                "ru@r.example",
                json!({ "phone": "+32 9 222 33 44", "birth_date": "1990-01-01" }),
            )
            .await?;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["code"], "field_not_granted", "{body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("birth_date"),
            "{body}"
        );
        let p = f.person("ru@r.example").await?;
        assert_eq!(p["birth_date"], "1985-04-12", "{p}");
        assert!(p["phone"].is_null(), "nothing half-written: {p}");
        let (status, body) = f
            .patch_person(
                "ra@r.example",
                "ru@r.example",
                json!({ "licence_plates": [] }),
            )
            .await?;
        assert_eq!(status, 403, "{body}");
        assert_eq!(f.plates("ru@r.example").await?.len(), 2);
        // What they do see, they set.
        let (status, p) = f
            .patch_person(
                "ra@r.example",
                "ru@r.example",
                json!({ "phone": "+32 9 222 33 44", "gender": "mr" }),
            )
            .await?;
        assert_eq!(status, 200, "{p}");
        assert_eq!(p["gender"], "mr", "{p}");
        let audited = details(&f.server, "person.update", &ru).await?;
        let last = audited.last().context("no person.update record")?;
        assert!(last.contains("phone") && last.contains("gender"), "{last}");
        assert!(
            !last.contains("birth_date"),
            "only the fields changed: {last}"
        );

        // The primary contact's form offers neither birth date nor plates; staff's does.
        let ra = f.server.sign_in("ra@r.example", PASSWORD).await?;
        let (status, html) = page(&f.server, &ra, &format!("/people/{ru}")).await?;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"edit-gender\""), "{html}");
        assert!(!html.contains("id=\"edit-birth_date\""), "{html}");
        assert!(!html.contains("id=\"edit-licence_plates\""), "{html}");
        let staff = f.server.sign_in("staff@cb.example", PASSWORD).await?;
        let (status, html) = page(&f.server, &staff, &format!("/people/{ru}")).await?;
        assert_eq!(status, 200);
        assert!(
            html.contains(
                "id=\"edit-birth_date\" name=\"birth_date\" type=\"date\" value=\"1985-04-12\""
            ),
            "{html}"
        );
        assert!(html.contains("id=\"edit-training_valid_until\""), "{html}");
        assert!(html.contains("1-ABC-123\n2-XYZ-987</textarea>"), "{html}");
        assert!(html.contains(">Ms<") || html.contains(">Mevr.<"), "{html}");

        // Through the page: two plates, one kept and one replaced, and new dates.
        let form = |birth: &'static str, plates: &'static str| {
            vec![
                ("first_name", "Test"),
                ("surname", "Persoon"),
                ("phone", "+32 9 222 33 44"),
                ("mobile", ""),
                ("fax", ""),
                ("function", ""),
                ("language", "nl"),
                ("gender", "ms"),
                ("birth_date", birth),
                ("training_valid_until", "2028-01-31"),
                ("licence_plates", plates),
            ]
        };
        let (status, location, _) = post(
            &f.server,
            &staff,
            &format!("/people/{ru}"),
            &form("1986-01-02", "1-ABC-123\r\n3-def-456\r\n"),
        )
        .await?;
        assert_eq!(status, 303);
        assert_eq!(location, format!("/people/{ru}"));
        let p = f.person("ru@r.example").await?;
        assert_eq!(
            p["licence_plates"],
            json!(["1-ABC-123", "3-DEF-456"]),
            "{p}"
        );
        assert_eq!(p["birth_date"], "1986-01-02", "{p}");
        assert_eq!(p["training_valid_until"], "2028-01-31", "{p}");
        assert_eq!(p["gender"], "ms", "{p}");
        let (_, html) = page(&f.server, &staff, &format!("/people/{ru}")).await?;
        assert!(
            html.contains("id=\"notice\""),
            "a flash says what happened: {html}"
        );

        // A bad plate on the page: 422, the message next to the field, nothing written (not
        // even the valid birth date sent with it).
        let (status, _, html) = post(
            &f.server,
            &staff,
            &format!("/people/{ru}"),
            &form("1999-09-09", "1-ABC-123\nTHIS-PLATE-IS-FAR-TOO-LONG"),
        )
        .await?;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"licence_plates-error\""), "{html}");
        let p = f.person("ru@r.example").await?;
        assert_eq!(p["birth_date"], "1986-01-02", "{p}");
        assert_eq!(
            p["licence_plates"],
            json!(["1-ABC-123", "3-DEF-456"]),
            "{p}"
        );
        no_values_audited(&f.server).await?;
        f.server.stop().await
    }
);

databases!(
    /// Birth date, training certificate and vehicles are for people of rental companies only:
    /// refused elsewhere (422, naming the field, nothing changed) and not offered on the pages.
    /// Bad values — a plate too long, eleven plates, one twice, an impossible date — are refused
    /// naming the field.
    async fn rental_fields_refused_elsewhere_and_bad_values_named(b: Backends) {
        let f = fixture(ServerBuilder::new(b).start().await?).await?;
        let cu = f.id("cu@c.example").to_owned();
        for body in [
            json!({ "birth_date": "1985-04-12" }),
            json!({ "training_valid_until": "2027-06-30" }),
            json!({ "licence_plates": ["1-ABC-123"] }),
            json!({ "phone": "+32 2 555 66 77", "licence_plates": ["1-ABC-123"] }),
        ] {
            let (status, res) = f
                .patch_person("staff@cb.example", "cu@c.example", body.clone())
                .await?;
            assert_eq!(status, 422, "{body}: {res}");
            let named = fields_named(&res);
            assert!(
                named
                    .iter()
                    .any(|n| ["birth_date", "training_valid_until", "licence_plates"]
                        .contains(&n.as_str())),
                "{res}"
            );
            assert!(
                res["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("rental"),
                "{res}"
            );
        }
        let p = f.person("cu@c.example").await?;
        assert!(p["birth_date"].is_null() && p["phone"].is_null(), "{p}");
        assert_eq!(p["licence_plates"], json!([]), "{p}");
        assert!(f.plates("cu@c.example").await?.is_empty());
        let staff = f.server.sign_in("staff@cb.example", PASSWORD).await?;
        let (status, html) = page(&f.server, &staff, &format!("/people/{cu}")).await?;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"edit-gender\""), "{html}");
        for absent in [
            "edit-birth_date",
            "edit-training_valid_until",
            "edit-licence_plates",
        ] {
            assert!(!html.contains(absent), "{absent}: {html}");
        }

        // Bad values for a rental person, each named.
        let long = "X".repeat(16);
        let eleven: Vec<String> = (0..11).map(|i| format!("1-AAA-{i:03}")).collect();
        for (body, field) in [
            (json!({ "licence_plates": [long] }), "licence_plates"),
            (json!({ "licence_plates": ["1.ABC.123"] }), "licence_plates"),
            (json!({ "licence_plates": eleven }), "licence_plates"),
            (
                json!({ "licence_plates": ["1-ABC-123", "1-abc-123"] }),
                "licence_plates",
            ),
            (json!({ "birth_date": "2026-02-30" }), "birth_date"),
            (json!({ "birth_date": "12/04/1985" }), "birth_date"),
            (json!({ "birth_date": "2999-01-01" }), "birth_date"),
            (
                json!({ "training_valid_until": "someday" }),
                "training_valid_until",
            ),
            (json!({ "gender": "sir" }), "gender"),
        ] {
            let (status, res) = f
                .patch_person("staff@cb.example", "ru@r.example", body.clone())
                .await?;
            assert_eq!(status, 422, "{body}: {res}");
            assert!(
                fields_named(&res).iter().any(|n| n.contains(field)),
                "{body}: {res}"
            );
        }
        let p = f.person("ru@r.example").await?;
        assert!(p["birth_date"].is_null(), "{p}");
        assert_eq!(p["licence_plates"], json!([]), "{p}");

        // An organisation's details: bad enterprise and VAT numbers named, good ones saved.
        let org = format!("/api/v1/organisations/{}", f.rental);
        for (body, field) in [
            (
                json!({ "enterprise_number": "0123.456.748" }),
                "enterprise_number",
            ),
            (json!({ "enterprise_number": "12345" }), "enterprise_number"),
            (json!({ "vat_number": "BE0123456748" }), "vat_number"),
            (json!({ "vat_number": "US123456" }), "vat_number"),
            (json!({ "phone": "call us" }), "phone"),
            (
                json!({ "addresses": [{ "street": "", "postcode": "9000", "city": "Gent", "country": "BE" }] }),
                "addresses",
            ),
        ] {
            let (status, res) = f
                .call("staff@cb.example", Method::PATCH, &org, Some(body.clone()))
                .await?;
            assert_eq!(status, 422, "{body}: {res}");
            assert!(
                fields_named(&res).iter().any(|n| n == field),
                "{body}: {res}"
            );
        }
        let (status, o) = f
            .call(
                "staff@cb.example",
                Method::PATCH,
                &org,
                Some(json!({ "enterprise_number": "0123.456.749", "vat_number": "be 0123 456 749",
                    "phone": "+32 2 555 66 77",
                    "addresses": [{ "street": "Kerkstraat 1", "postcode": "9000", "city": "Gent", "country": "be" }] })),
            )
            .await?;
        assert_eq!(status, 200, "{o}");
        assert_eq!(o["enterprise_number"], "0123456749", "{o}");
        assert_eq!(o["vat_number"], "BE0123456749", "{o}");
        assert_eq!(
            o["addresses"],
            json!(["Kerkstraat 1, 9000 Gent, BE"]),
            "{o}"
        );
        let audited = details(&f.server, "organisation.update", &f.rental).await?;
        let last = audited.last().context("no organisation.update record")?;
        for field in ["enterprise_number", "vat_number", "phone", "addresses"] {
            assert!(last.contains(field), "{last}");
        }
        // The primary contact corrects the phone, not the name (staff only); a contact without
        // the right changes nothing; another company's primary contact does not find it.
        let (status, res) = f
            .call(
                "ra@r.example",
                Method::PATCH,
                &org,
                Some(json!({ "name": "Andere NV" })),
            )
            .await?;
        assert_eq!(status, 403, "{res}");
        assert!(
            res["detail"].as_str().unwrap_or_default().contains("name"),
            "{res}"
        );
        let (status, res) = f
            .call(
                "ra@r.example",
                Method::PATCH,
                &org,
                Some(json!({ "fax": "+32 9 222 33 44" })),
            )
            .await?;
        assert_eq!(status, 200, "{res}");
        let (status, _) = f
            .call(
                "ru@r.example",
                Method::PATCH,
                &org,
                Some(json!({ "fax": null })),
            )
            .await?;
        assert_eq!(status, 403);
        let (status, _) = f
            .call(
                "ca@c.example",
                Method::PATCH,
                &org,
                Some(json!({ "fax": null })),
            )
            .await?;
        assert_eq!(status, 404);
        let (_, o) = f.call("staff@cb.example", Method::GET, &org, None).await?;
        assert_eq!(o["name"], "Hoogwerk Verhuur NV", "{o}");
        assert_eq!(o["fax"], "+32 9 222 33 44", "{o}");

        // The organisation's form: staff see the name, the primary contact does not; a bad VAT
        // number comes back next to its field with nothing written.
        let edit = format!("/organisations/{}/edit", f.rental);
        let (status, html) = page(&f.server, &staff, &edit).await?;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"org-name\""), "{html}");
        let ra = f.server.sign_in("ra@r.example", PASSWORD).await?;
        let (status, html) = page(&f.server, &ra, &edit).await?;
        assert_eq!(status, 200);
        assert!(!html.contains("id=\"org-name\""), "{html}");
        assert!(html.contains("id=\"org-vat_number\""), "{html}");
        let (_, company) = page(&f.server, &ra, "/company").await?;
        assert!(company.contains(&format!("href=\"{edit}\"")), "{company}");
        let org_form = |vat: &'static str| {
            vec![
                ("enterprise_number", "0123.456.749"),
                ("vat_number", vat),
                ("phone", "+32 2 555 66 77"),
                ("fax", ""),
                ("street_1", "Kerkstraat 2"),
                ("postcode_1", "9000"),
                ("city_1", "Gent"),
                ("country_1", "BE"),
                ("street_2", ""),
                ("postcode_2", ""),
                ("city_2", ""),
                ("country_2", ""),
            ]
        };
        let (status, _, html) = post(&f.server, &ra, &edit, &org_form("BE0123456748")).await?;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"vat_number-error\""), "{html}");
        let (_, o) = f.call("staff@cb.example", Method::GET, &org, None).await?;
        assert_eq!(
            o["addresses"],
            json!(["Kerkstraat 1, 9000 Gent, BE"]),
            "{o}"
        );
        let (status, location, _) = post(&f.server, &ra, &edit, &org_form("BE0123456749")).await?;
        assert_eq!(status, 303);
        assert_eq!(location, "/company");
        let (_, o) = f.call("staff@cb.example", Method::GET, &org, None).await?;
        assert_eq!(
            o["addresses"],
            json!(["Kerkstraat 2, 9000 Gent, BE"]),
            "{o}"
        );
        assert_eq!(o["fax"], Value::Null, "{o}");
        // Not for the certification body's own details, nor for someone who may not.
        let cu_client = f.server.sign_in("cu@c.example", PASSWORD).await?;
        let (status, _) = page(
            &f.server,
            &cu_client,
            &format!("/organisations/{}/edit", f.client),
        )
        .await?;
        assert_eq!(status, 403);
        no_values_audited(&f.server).await?;
        f.server.stop().await
    }
);

databases!(
    /// A person corrects their own phone and form of address on the account page (and a rental
    /// company's person their vehicles); a contact or an inspector cannot change another's
    /// record; a refused save writes nothing.
    async fn own_record_and_no_grant_refused(b: Backends) {
        let f = fixture(ServerBuilder::new(b).start().await?).await?;
        let profile = |phone: &'static str, gender: &'static str| {
            vec![
                ("phone", phone),
                ("mobile", ""),
                ("fax", ""),
                ("function", ""),
                ("language", "en"),
                ("gender", gender),
            ]
        };
        // A client company's contact: phone and form of address; no rental inputs.
        let cu = f.server.sign_in("cu@c.example", PASSWORD).await?;
        let (status, html) = page(&f.server, &cu, "/account").await?;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"gender\""), "{html}");
        assert!(!html.contains("id=\"birth_date\""), "{html}");
        assert!(!html.contains("id=\"licence_plates\""), "{html}");
        let (status, location, _) = post(
            &f.server,
            &cu,
            "/account/profile",
            &profile("+32 2 555 66 77", "mr"),
        )
        .await?;
        assert_eq!(status, 303);
        assert_eq!(location, "/account");
        let p = f.person("cu@c.example").await?;
        assert_eq!(p["phone"], "+32 2 555 66 77", "{p}");
        assert_eq!(p["gender"], "mr", "{p}");
        let (_, html) = page(&f.server, &cu, "/account").await?;
        assert!(html.contains("id=\"notice\""), "{html}");
        assert!(html.contains("value=\"mr\" selected"), "{html}");
        let cu_id = f.id("cu@c.example").to_owned();
        let audited = details(&f.server, "person.update", &cu_id).await?;
        let last = audited.last().context("no person.update record")?;
        assert!(last.contains("phone") && last.contains("gender"), "{last}");
        // A birth date slipped into the form is refused, and the phone sent with it not saved.
        let mut smuggled = profile("+32 9 222 33 44", "ms");
        smuggled.push(("birth_date", "1985-04-12"));
        let (status, _, html) = post(&f.server, &cu, "/account/profile", &smuggled).await?;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"profile-error\""), "{html}");
        assert!(html.contains("rental companies"), "{html}");
        let p = f.person("cu@c.example").await?;
        assert_eq!(p["phone"], "+32 2 555 66 77", "{p}");
        assert_eq!(p["gender"], "mr", "{p}");
        assert!(p["birth_date"].is_null(), "{p}");

        // A rental company's contact corrects their own vehicles and dates.
        let ru = f.server.sign_in("ru@r.example", PASSWORD).await?;
        let (_, html) = page(&f.server, &ru, "/account").await?;
        assert!(
            html.contains("id=\"birth_date\" name=\"birth_date\" type=\"date\""),
            "{html}"
        );
        assert!(html.contains("id=\"licence_plates\""), "{html}");
        let mut own = profile("+32 9 222 33 44", "ms");
        own.extend([
            ("birth_date", "1985-04-12"),
            ("training_valid_until", "2027-06-30"),
            ("licence_plates", "1-ABC-123\n2-XYZ-987"),
        ]);
        let (status, _, html) = post(&f.server, &ru, "/account/profile", &own).await?;
        assert_eq!(status, 303, "{html}");
        assert_eq!(f.plates("ru@r.example").await?, ["1-ABC-123", "2-XYZ-987"]);
        let (status, me) = f
            .call(
                "ru@r.example",
                Method::GET,
                &format!("/api/v1/people/{}", f.id("ru@r.example")),
                None,
            )
            .await?;
        assert_eq!(status, 200);
        assert_eq!(
            me["licence_plates"],
            json!(["1-ABC-123", "2-XYZ-987"]),
            "{me}"
        );
        assert_eq!(me["birth_date"], "1985-04-12", "{me}");
        // A bad date on the account page: next to its field, nothing written.
        let mut bad = own.clone();
        bad.retain(|(k, _)| *k != "birth_date" && *k != "licence_plates");
        bad.extend([("birth_date", "1985-02-30"), ("licence_plates", "")]);
        let (status, _, html) = post(&f.server, &ru, "/account/profile", &bad).await?;
        assert_eq!(status, 422);
        assert!(html.contains("id=\"birth_date-error\""), "{html}");
        assert_eq!(f.plates("ru@r.example").await?.len(), 2);
        // Through the API, their own record too.
        let (status, me) = f
            .patch_person(
                "ru@r.example",
                "ru@r.example",
                json!({ "licence_plates": ["1-ABC-123"] }),
            )
            .await?;
        assert_eq!(status, 200, "{me}");
        assert_eq!(f.plates("ru@r.example").await?, ["1-ABC-123"]);

        // No grant: a contact does not change a colleague's record, an inspector nobody's.
        for (who, whom) in [
            ("cu@c.example", "ca@c.example"),
            ("ru@r.example", "ra@r.example"),
            ("insp@cb.example", "cu@c.example"),
        ] {
            let (status, res) = f
                .patch_person(
                    who,
                    whom,
                    json!({ "phone": "+32 9 222 33 44", "gender": "ms" }),
                )
                .await?;
            assert!(
                status == 403 || status == 404,
                "{who} → {whom}: {status} {res}"
            );
            let p = f.person(whom).await?;
            assert_ne!(p["phone"], "+32 9 222 33 44", "{p}");
        }
        // The privacy coordinator corrects a record (rectification).
        let (status, p) = f
            .patch_person("po@cb.example", "ca@c.example", json!({ "gender": "ms" }))
            .await?;
        assert_eq!(status, 200, "{p}");
        no_values_audited(&f.server).await?;
        f.server.stop().await
    }
);
