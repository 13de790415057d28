//! Who may see what, through the real binary: a role × route matrix generated from the policy
//! and the OpenAPI document, a role × field test generated from the field grants, and the
//! moments that matter (an assignment ending, a deactivated primary contact, escalation and
//! mass-assignment attempts). Run on SQLite and PostgreSQL; no object storage is touched.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, bail};
use extranet_tests::{Server, ServerBuilder, databases};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::sql_rows;

pub(crate) const PASSWORD: &str = "vlaai-tram-Kortrijk-42-brug";

/// One signed-in caller of the fixture.
pub(crate) struct Who {
    pub email: &'static str,
    pub roles: Vec<&'static str>,
    pub org: String,
    pub id: String,
    pub token: String,
}

/// Three client companies, the certification body's people in every role, dossiers with an
/// assignment in force (A), an expired one (B) and none (C).
pub(crate) struct World {
    pub orgs: BTreeMap<&'static str, String>,
    pub people: BTreeMap<&'static str, Who>,
    pub dossiers: BTreeMap<&'static str, String>,
    /// assignment key → (id, inspector email, in force)
    pub assignments: BTreeMap<&'static str, (String, &'static str, bool)>,
    /// dossier key → organisation key
    pub dossier_org: BTreeMap<&'static str, &'static str>,
    /// document key → (id, dossier key)
    pub documents: BTreeMap<&'static str, (String, &'static str)>,
    /// organisation key → a pending invitation there (the invited person's id); filled by the
    /// tests that need them.
    pub invitations: BTreeMap<&'static str, String>,
    /// Subprocessors (filled by [`subprocessor_world`]): the entry a published notice
    /// announced, the notice, and each company's objection to it (organisation key → id).
    pub entry: Option<String>,
    pub notice: Option<String>,
    pub objections: BTreeMap<&'static str, String>,
}

/// A published notice announcing an entry, and an open objection of companies A and B to it.
pub(crate) async fn subprocessor_world(server: &Server, w: &mut World) -> anyhow::Result<()> {
    let po = &w.people["po@cb.example"].token;
    let d = (OffsetDateTime::now_utc() + time::Duration::days(40)).date();
    let (status, body) = api(server, po, Method::POST, "/api/v1/subprocessor-notices",
        Some(json!({ "kind": "add", "summary": "Back-ups", "effective_date": format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            "entry": { "legal_name": "Vault NV", "registration_number": "0123.456.789", "website": "https://vault.example",
                "service": "Back-ups", "data_categories": ["contact"], "subject_categories": ["client_contacts"],
                "locations": [{ "country": "BE" }], "agreement_date": null } }))).await?;
    anyhow::ensure!(status == 201, "notice: {status} {body}");
    let v: Value = serde_json::from_str(&body)?;
    let id = v["id"].as_str().context("notice id")?.to_owned();
    let (status, body) = api(
        server,
        po,
        Method::POST,
        &format!("/api/v1/subprocessor-notices/{id}/publish"),
        None,
    )
    .await?;
    anyhow::ensure!(status == 200, "publish: {status} {body}");
    let v: Value = serde_json::from_str(&body)?;
    w.entry = Some(v["subprocessor_id"].as_str().context("entry")?.to_owned());
    for (org, email) in [("A", "ca@a.example"), ("B", "cba@b.example")] {
        let (status, body) = api(
            server,
            &w.people[email].token,
            Method::POST,
            &format!("/api/v1/subprocessor-notices/{id}/objections"),
            Some(json!({ "reasons": "<p>No.</p>" })),
        )
        .await?;
        anyhow::ensure!(status == 201, "objection {org}: {status} {body}");
        let v: Value = serde_json::from_str(&body)?;
        w.objections
            .insert(org, v["id"].as_str().context("objection")?.to_owned());
    }
    w.notice = Some(id);
    Ok(())
}

/// A small PDF, as uploads need one.
pub(crate) fn pdf_bytes(text: &str) -> Vec<u8> {
    format!("%PDF-1.4\n% {text}\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n").into_bytes()
}

/// An upload through the API: a new document when `url` ends in `/documents` (with a title and
/// the type), otherwise a new version.
pub(crate) async fn upload(
    server: &Server,
    token: &str,
    url: &str,
    doc_type: &str,
    file_name: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<(u16, String)> {
    let part = reqwest::multipart::Part::bytes(bytes)
        .file_name(file_name.to_owned())
        .mime_str("application/pdf")?;
    // File names as browsers send them: UTF-8 as it is, not percent-encoded.
    let mut form = reqwest::multipart::Form::new().percent_encode_noop();
    if url.ends_with("/documents") {
        form = form
            .text("title", "Inspectieverslag")
            .text("doc_type", doc_type.to_owned());
    }
    let res = server
        .client()?
        .post(server.url(url))
        .bearer_auth(token)
        .multipart(form.part("file", part))
        .send()
        .await?;
    Ok((res.status().as_u16(), res.text().await?))
}

pub(crate) async fn api(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, String)> {
    let mut req = server
        .client()?
        .request(method, server.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await?;
    Ok((res.status().as_u16(), res.text().await?))
}

pub(crate) async fn login(server: &Server, email: &str) -> anyhow::Result<String> {
    let res: Value = server
        .client()?
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await?
        .json()
        .await?;
    Ok(res["access_token"]
        .as_str()
        .context("access token")?
        .to_owned())
}

fn instant(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

pub(crate) async fn world(server: &Server) -> anyhow::Result<World> {
    let mut orgs = BTreeMap::new();
    for (key, name) in [
        ("A", "Beton A NV"),
        ("B", "Prefab B BV"),
        ("C", "Staal C NV"),
    ] {
        orgs.insert(key, server.create_client_org(name).await?);
    }
    // admin2 and po2 are targets only: people holding roles that only an administrator gives.
    let cb_people: [(&str, &str); 7] = [
        ("admin@cb.example", "admin"),
        ("staff@cb.example", "staff"),
        ("po@cb.example", "privacy_officer"),
        ("insp@cb.example", "inspector"),
        ("insp2@cb.example", "inspector"),
        ("admin2@cb.example", "admin"),
        ("po2@cb.example", "privacy_officer"),
    ];
    let client_people: [(&str, &str, &str); 6] = [
        ("ca@a.example", "client_admin", "A"),
        ("cu@a.example", "client_user", "A"),
        ("c2@a.example", "client_user", "A"),
        ("cba@b.example", "client_admin", "B"),
        ("cb2@b.example", "client_user", "B"),
        ("cca@c.example", "client_admin", "C"),
    ];
    for (email, role) in cb_people {
        server.create_user(email, role).await?;
    }
    for (email, role, org) in client_people {
        server.create_user_in(email, role, &orgs[org]).await?;
    }
    let mut people = BTreeMap::new();
    for (email, role, org) in cb_people
        .iter()
        .map(|(e, r)| (*e, *r, None))
        .chain(client_people.iter().map(|(e, r, o)| (*e, *r, Some(*o))))
    {
        let token = login(server, email).await?;
        let (status, me) = api(server, &token, Method::GET, "/api/v1/me", None).await?;
        anyhow::ensure!(status == 200, "me for {email}: {status}");
        let me: Value = serde_json::from_str(&me)?;
        if let Some(org) = org {
            anyhow::ensure!(
                me["organisation_id"] == orgs[org].as_str(),
                "{email} is not in {org}"
            );
        }
        people.insert(
            email,
            Who {
                email,
                roles: vec![role],
                org: me["organisation_id"].as_str().context("org")?.to_owned(),
                id: me["id"].as_str().context("id")?.to_owned(),
                token,
            },
        );
    }
    let staff = people["staff@cb.example"].token.clone();
    let mut dossiers = BTreeMap::new();
    let mut dossier_org = BTreeMap::new();
    for (key, org) in [("dA", "A"), ("dA2", "A"), ("dB", "B"), ("dC", "C")] {
        let (status, body) = api(server, &staff, Method::POST, "/api/v1/dossiers",
            Some(json!({ "organisation_id": orgs[org], "scheme": "BENOR", "status": "active", "valid_from": "2026-01-01", "valid_until": "2028-12-31" }))).await?;
        anyhow::ensure!(status == 201, "dossier {key}: {status} {body}");
        let v: Value = serde_json::from_str(&body)?;
        dossiers.insert(key, v["id"].as_str().context("dossier id")?.to_owned());
        dossier_org.insert(key, org);
    }
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let insp = people["insp@cb.example"].id.clone();
    let mut assignments = BTreeMap::new();
    for (key, dossier, from, until, in_force) in [
        ("active", "dA", now - day, now + day, true),
        ("to_end", "dA2", now - day, now + day, true),
        ("expired", "dB", now - day * 3, now - day, false),
    ] {
        let (status, body) = api(server, &staff, Method::POST, "/api/v1/assignments",
            Some(json!({ "dossier_id": dossiers[dossier], "inspector_id": insp, "starts_at": instant(from), "ends_at": instant(until) }))).await?;
        anyhow::ensure!(status == 201, "assignment {key}: {status} {body}");
        let v: Value = serde_json::from_str(&body)?;
        assignments.insert(
            key,
            (
                v["id"].as_str().context("assignment id")?.to_owned(),
                "insp@cb.example",
                in_force,
            ),
        );
    }
    let mut documents = BTreeMap::new();
    for (key, dossier) in [("docA", "dA"), ("docB", "dB"), ("docC", "dC")] {
        let url = format!("/api/v1/dossiers/{}/documents", dossiers[dossier]);
        let (status, body) = upload(
            server,
            &staff,
            &url,
            "inspection_report",
            "verslag.pdf",
            pdf_bytes(key),
        )
        .await?;
        anyhow::ensure!(status == 201, "document {key}: {status} {body}");
        let v: Value = serde_json::from_str(&body)?;
        documents.insert(
            key,
            (v["id"].as_str().context("document id")?.to_owned(), dossier),
        );
    }
    Ok(World {
        orgs,
        people,
        dossiers,
        assignments,
        dossier_org,
        documents,
        invitations: BTreeMap::new(),
        entry: None,
        notice: None,
        objections: BTreeMap::new(),
    })
}

/// The policy as the binary compiled it: subject → "resource.action" → domains.
async fn policy_matrix(server: &Server) -> anyhow::Result<Value> {
    let (status, out, err) = server
        .command(&["policy", "matrix", "--format", "json"], "")
        .await?;
    anyhow::ensure!(status.success(), "policy matrix: {err}");
    Ok(serde_json::from_str(&out)?)
}

fn domains_of(matrix: &Value, section: &str, who: &Who, name: &str) -> BTreeSet<String> {
    let mut subjects: Vec<&str> = who.roles.clone();
    subjects.push("person");
    if who.roles.contains(&"admin") {
        subjects.push("staff"); // `g, admin, staff, all` — the matrix already folds it in
    }
    let mut out = BTreeSet::new();
    for s in subjects {
        if let Some(ds) = matrix[section][s][name].as_array() {
            out.extend(ds.iter().filter_map(|d| d.as_str().map(str::to_owned)));
        }
    }
    out
}

/// A record of the fixture, and how it relates to a caller.
#[derive(Clone, Debug)]
enum Target {
    Org(&'static str),
    Person(&'static str),
    Dossier(&'static str),
    Assignment(&'static str),
    Document(&'static str),
    /// The pending invitation in an organisation.
    Invitation(&'static str),
    /// The register's entry (one list for everyone).
    Entry,
    /// The published notice.
    Notice,
    /// An organisation's objection to the notice.
    Objection(&'static str),
}

impl World {
    fn org_of_person(&self, email: &str) -> String {
        self.people[email].org.clone()
    }

    fn inspector_reaches_org(&self, caller: &Who, org_id: &str) -> bool {
        self.assignments.iter().any(|(k, (_, insp, in_force))| {
            *insp == caller.email && *in_force && {
                let dossier = match *k {
                    "active" => "dA",
                    "to_end" => "dA2",
                    _ => "dB",
                };
                self.orgs[self.dossier_org[dossier]] == org_id
            }
        })
    }

    /// The domains in which `target` relates to `caller` (always `all`).
    fn relation(&self, caller: &Who, target: &Target) -> BTreeSet<String> {
        let mut r = BTreeSet::from(["all".to_owned()]);
        let (org, person, assigned): (Option<String>, Option<String>, bool) = match target {
            Target::Org(k) => (
                Some(self.orgs[k].clone()),
                None,
                self.inspector_reaches_org(caller, &self.orgs[k]),
            ),
            Target::Person(e) => {
                let org = self.org_of_person(e);
                let reach = self.inspector_reaches_org(caller, &org);
                (Some(org), Some(self.people[e].id.clone()), reach)
            }
            Target::Dossier(d) => {
                let key = match *d {
                    "dA" => "active",
                    "dA2" => "to_end",
                    "dB" => "expired",
                    _ => "",
                };
                let assigned = self
                    .assignments
                    .get(key)
                    .is_some_and(|(_, i, f)| *i == caller.email && *f);
                (Some(self.orgs[self.dossier_org[d]].clone()), None, assigned)
            }
            Target::Assignment(a) => {
                let (_, i, f) = &self.assignments[a];
                (None, None, *i == caller.email && *f)
            }
            Target::Document(k) => {
                return self.relation(caller, &Target::Dossier(self.documents[k].1));
            }
            Target::Invitation(k) => {
                return self.relation(caller, &Target::Org(k));
            }
            Target::Entry | Target::Notice => (None, None, false),
            Target::Objection(k) => (Some(self.orgs[k].clone()), None, false),
        };
        if org.as_deref() == Some(caller.org.as_str()) {
            r.insert("organisation".into());
        }
        if person.as_deref() == Some(caller.id.as_str()) {
            r.insert("self".into());
        }
        if assigned {
            r.insert("assignment".into());
        }
        r
    }

    fn id(&self, t: &Target) -> String {
        match t {
            Target::Org(k) => self.orgs[k].clone(),
            Target::Person(e) => self.people[e].id.clone(),
            Target::Dossier(d) => self.dossiers[d].clone(),
            Target::Assignment(a) => self.assignments[a].0.clone(),
            Target::Document(k) => self.documents[k].0.clone(),
            Target::Invitation(k) => self.invitations[k].clone(),
            Target::Entry => self.entry.clone().unwrap_or_default(),
            Target::Notice => self.notice.clone().unwrap_or_default(),
            Target::Objection(k) => self.objections[k].clone(),
        }
    }
}

/// Permissions that change a person's roles, rights or account state: refused (403) on a person
/// holding a role the caller could not give.
fn changes_standing(permission: &str) -> bool {
    matches!(permission, "person.grant" | "person.deactivate")
}

fn resource_of(permission: &str) -> &str {
    permission.split('.').next().unwrap_or_default()
}

databases!(
    /// Every role × every API route × (own tenant, other tenant, assigned, unassigned, expired
    /// assignment, own record, a person holding a role the caller cannot give): the answer is
    /// the one the policy gives. An operation without an
    /// `x-permission` fails the test, so a route cannot be added without policy.
    async fn every_role_on_every_route_gets_what_the_policy_says(b: Backends) {
        // Invitations, resent and withdrawn ones too, go beyond the default mail limits here.
        let server = ServerBuilder::new(b)
            .env("EXTRANET_AUTH__MAILS_PER_ADDRESS", "1000")
            .env("EXTRANET_AUTH__MAILS_PER_ACCOUNT_PER_HOUR", "100")
            .start()
            .await?;
        let mut w = world(&server).await?;
        for org in ["A", "B", "C"] {
            let id = invite(&server, &w, org).await?;
            w.invitations.insert(org, id);
        }
        subprocessor_world(&server, &mut w).await?;
        let matrix = policy_matrix(&server).await?;
        let doc: Value = server
            .client()?
            .get(server.url("/api/v1/openapi.json"))
            .send()
            .await?
            .json()
            .await?;
        let mut ops: Vec<(String, String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().context("paths")? {
            for (method, op) in item.as_object().context("item")? {
                let Some(permission) = op["x-permission"].as_str() else {
                    bail!(
                        "{} {path} has no x-permission: every route needs a policy",
                        method.to_uppercase()
                    );
                };
                ops.push((method.clone(), path.clone(), permission.to_owned()));
            }
        }
        // Ending assignments changes what inspectors see, deleting documents what non-staff
        // see: last, deletion the very last (callers run inspector and clients first).
        ops.sort_by_key(|(m, p, _)| (m == "delete", p.ends_with("/end")));
        let callers: Vec<&'static str> = vec![
            "insp@cb.example",
            "cu@a.example",
            "ca@a.example",
            "cba@b.example",
            "po@cb.example",
            "staff@cb.example",
            "admin@cb.example",
        ];
        // A rights request of cu@a.example: the record the rights-request routes are tried on.
        let (status, body) = api(
            &server,
            &w.people["cu@a.example"].token,
            Method::POST,
            "/api/v1/rights-requests",
            Some(json!({ "rights": ["access"] })),
        )
        .await?;
        anyhow::ensure!(status == 201, "rights request: {status} {body}");
        let rights_id = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("rights request id")?
            .to_owned();
        let mut checked = 0usize;
        let mut invites = 0usize;
        for (method, path, permission) in &ops {
            if permission == "public" || permission == "authenticated" {
                continue;
            }
            let action_name = permission.as_str();
            for caller_key in &callers {
                let caller = &w.people[caller_key];
                let allowed_domains = domains_of(&matrix, "actions", caller, action_name);
                // One's own consents: the record is always the caller's own (`self`).
                if resource_of(permission) == "consent" {
                    let allowed = allowed_domains.contains("self");
                    let (status, body) = if method == "get" {
                        api(&server, &caller.token, Method::GET, path, None).await?
                    } else {
                        let path = path.replace("{purpose}", "newsletter");
                        let body = serde_json::json!({ "given": false });
                        api(&server, &caller.token, Method::PUT, &path, Some(body)).await?
                    };
                    assert_eq!(
                        status,
                        if allowed { 200 } else { 403 },
                        "{caller_key} {method} {path}: {body}"
                    );
                    checked += 1;
                    continue;
                }
                // Rights requests: one's own (`self`) or every one (`all`). Someone else's
                // request is not found, as if it did not exist.
                if resource_of(permission) == "rights_request" {
                    let read = domains_of(&matrix, "actions", caller, "rights_request.read");
                    let own = *caller_key == "cu@a.example";
                    let readable = read.contains("all") || (own && read.contains("self"));
                    let url = path.replace("{id}", &rights_id);
                    let (expected, status, body) = match (method.as_str(), path.as_str()) {
                        ("post", "/api/v1/rights-requests") => {
                            let (st, b) = api(
                                &server,
                                &caller.token,
                                Method::POST,
                                &url,
                                Some(json!({ "rights": ["access"] })),
                            )
                            .await?;
                            (
                                if allowed_domains.contains("self") {
                                    201
                                } else {
                                    403
                                },
                                st,
                                b,
                            )
                        }
                        ("get", p) if !p.contains("{id}") => {
                            let (st, b) =
                                api(&server, &caller.token, Method::GET, &url, None).await?;
                            let wanted = if p.ends_with("/queue") { "all" } else { "self" };
                            let ok = allowed_domains.contains(wanted);
                            if ok && st == 200 {
                                // Exactly the requests the policy lets the caller list.
                                let listed = b.contains(&rights_id);
                                assert_eq!(
                                    listed,
                                    own || wanted == "all",
                                    "{caller_key} GET {path}: {b}"
                                );
                            }
                            (if ok { 200 } else { 403 }, st, b)
                        }
                        ("get", _) => {
                            let (st, b) =
                                api(&server, &caller.token, Method::GET, &url, None).await?;
                            (if readable { 200 } else { 404 }, st, b)
                        }
                        _ => {
                            let (st, b) = api(
                                &server,
                                &caller.token,
                                Method::POST,
                                &url,
                                Some(
                                    json!({ "step": "comment", "note": "seen", "internal": true }),
                                ),
                            )
                            .await?;
                            let expect = if !readable {
                                404
                            } else if allowed_domains.contains("all") {
                                200
                            } else {
                                403
                            };
                            (expect, st, b)
                        }
                    };
                    assert_eq!(status, expected, "{caller_key} {method} {path}: {body}");
                    checked += 1;
                    continue;
                }
                // What the caller must be able to read for a refusal to be 403 rather than 404:
                // the record, or for a creation the record it is created in.
                let parent = match action_name {
                    "dossier.create" | "person.invite" | "person.handover" => "organisation",
                    "assignment.create" => "dossier",
                    "document.access_log" => "organisation",
                    _ if path.starts_with("/api/v1/dossiers/{id}/") => "dossier",
                    _ if path.starts_with("/api/v1/subprocessor-notices") => "notice",
                    _ if path.starts_with("/api/v1/objections") => "objection",
                    _ => resource_of(permission),
                };
                // Invitations are seen where they are listed; an organisation is created in
                // none (a refusal is always 403).
                let read_permission = match parent {
                    "invitation" => "invitation.list".to_owned(),
                    "notice" => "subprocessor.list".to_owned(),
                    _ => format!("{parent}.read"),
                };
                let read_domains = domains_of(&matrix, "actions", caller, &read_permission);
                let targets: Vec<Target> = match parent {
                    "organisation" => vec![Target::Org("A"), Target::Org("B"), Target::Org("C")],
                    "person" => vec![
                        Target::Person("c2@a.example"),
                        Target::Person("cb2@b.example"),
                        Target::Person("cca@c.example"),
                        Target::Person("admin2@cb.example"),
                        Target::Person("po2@cb.example"),
                        Target::Person(caller_key),
                    ],
                    "dossier" => vec![
                        Target::Dossier("dA"),
                        Target::Dossier("dB"),
                        Target::Dossier("dC"),
                    ],
                    "assignment" if path.ends_with("/end") => {
                        vec![Target::Assignment("to_end"), Target::Assignment("expired")]
                    }
                    "assignment" => {
                        vec![Target::Assignment("active"), Target::Assignment("expired")]
                    }
                    "document" => vec![
                        Target::Document("docA"),
                        Target::Document("docB"),
                        Target::Document("docC"),
                    ],
                    "invitation" => vec![
                        Target::Invitation("A"),
                        Target::Invitation("B"),
                        Target::Invitation("C"),
                    ],
                    "subprocessor" => vec![Target::Entry],
                    "notice" => vec![Target::Notice],
                    "objection" => vec![Target::Objection("A"), Target::Objection("B")],
                    other => bail!("no targets for resource {other}"),
                };
                let targets = if action_name == "organisation.create" {
                    vec![Target::Org("A")]
                } else {
                    targets
                };
                if !path.contains("{id}") && method == "get" {
                    // A list: 200, and exactly the records the policy lets this caller list.
                    let (status, body) =
                        api(&server, &caller.token, Method::GET, path, None).await?;
                    // Lists that select by more than the policy (a period, a role): only the
                    // answer is checked here (tests/e2e/backoffice.rs checks their contents).
                    // The register lists active entries only; the entry here is announced
                    // (tests/e2e/subprocessors.rs checks the list as of dates).
                    if path.ends_with("/export")
                        || path.ends_with("/ending-soon")
                        || path.ends_with("/inspectors")
                        || path == "/api/v1/subprocessors"
                    {
                        assert_eq!(status, 200, "{caller_key} GET {path}");
                        checked += 1;
                        continue;
                    }
                    assert_eq!(status, 200, "{caller_key} GET {path}: {body}");
                    let v: Value = serde_json::from_str(&body)?;
                    let got: BTreeSet<String> = v["items"]
                        .as_array()
                        .context("items")?
                        .iter()
                        .filter_map(|i| i["id"].as_str().map(str::to_owned))
                        .collect();
                    for t in &targets {
                        let expect = !allowed_domains.is_disjoint(&w.relation(caller, t));
                        let id = w.id(t);
                        assert_eq!(
                            got.contains(&id),
                            expect,
                            "{caller_key} GET {path}: {t:?} listed = {}, policy says {expect}",
                            got.contains(&id)
                        );
                    }
                    checked += 1;
                    continue;
                }
                for t in &targets {
                    let mut rel = w.relation(caller, t);
                    // An objection to a notice is lodged for the caller's own company.
                    if permission == "subprocessor.object" && matches!(t, Target::Notice) {
                        rel.insert("organisation".into());
                    }
                    let mut allowed = !allowed_domains.is_disjoint(&rel);
                    // A person's roles, rights and state: only by someone who could give every
                    // role they hold (the `roles` relation of the matrix).
                    if allowed
                        && changes_standing(permission)
                        && let Target::Person(e) = t
                        && e != caller_key
                    {
                        allowed = w.people[e].roles.iter().all(|role| {
                            !domains_of(&matrix, "roles", caller, &format!("role.{role}"))
                                .is_disjoint(&rel)
                        });
                    }
                    let readable =
                        action_name == "organisation.create" || !read_domains.is_disjoint(&rel);
                    // A withdrawal removes the invitation: each case withdraws a fresh one.
                    let tid = match t {
                        Target::Invitation(org) if action_name == "invitation.withdraw" => {
                            invite(&server, &w, org).await?
                        }
                        _ => w.id(t),
                    };
                    let (m, url, body) =
                        request_for(&w, method, path, permission, t, &tid, &mut invites);
                    let (status, text) = if permission == "document.upload" {
                        upload(
                            &server,
                            &caller.token,
                            &url,
                            "inspection_report",
                            "v.pdf",
                            pdf_bytes("x"),
                        )
                        .await?
                    } else {
                        api(&server, &caller.token, m, &url, body).await?
                    };
                    if allowed {
                        assert!(
                            ![403, 404, 401].contains(&status),
                            "{caller_key} {method} {url} ({t:?}): policy allows, got {status} {text}"
                        );
                        if permission == "assignment.end"
                            && status == 200
                            && let Target::Assignment(a) = t
                            && let Some(x) = w.assignments.get_mut(a)
                        {
                            x.2 = false;
                        }
                    } else if readable {
                        assert_eq!(
                            status, 403,
                            "{caller_key} {method} {url} ({t:?}): readable but not allowed: {text}"
                        );
                    } else {
                        assert_eq!(
                            status, 404,
                            "{caller_key} {method} {url} ({t:?}): not the caller's to see: {text}"
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "only {checked} cases");
        // Every refusal left an audit record.
        let denied = sql_rows(
            &server,
            "SELECT count(*) FROM audit_log WHERE action = 'access.denied'",
        )
        .await?;
        let n: usize = denied[0][0].parse().unwrap_or(0);
        let n = if n == 0 {
            sql_rows(
                &server,
                "SELECT CAST(count(*) AS TEXT) FROM audit_log WHERE action = 'access.denied'",
            )
            .await?[0][0]
                .parse()
                .unwrap_or(0)
        } else {
            n
        };
        assert!(n > 50, "{n} denials recorded");
        server.stop().await
    }
);

/// Staff invite a contact into organisation `org` of the fixture; the invited person's id.
pub(crate) async fn invite(server: &Server, w: &World, org: &str) -> anyhow::Result<String> {
    let email = format!("pending-{}@x.example", uuid::Uuid::new_v4().simple());
    let (status, body) = api(
        server,
        &w.people["staff@cb.example"].token,
        Method::POST,
        &format!("/api/v1/organisations/{}/contacts", w.orgs[org]),
        Some(json!({ "first_name": "Open", "surname": "Uitnodiging", "email": email, "language": "nl" })),
    )
    .await?;
    anyhow::ensure!(status == 201, "invitation into {org}: {status} {body}");
    let v: Value = serde_json::from_str(&body)?;
    Ok(v["id"].as_str().context("invited id")?.to_owned())
}

/// The request that performs `permission` on `target`, with a body that passes validation.
fn request_for(
    w: &World,
    method: &str,
    path: &str,
    permission: &str,
    t: &Target,
    tid: &str,
    invites: &mut usize,
) -> (Method, String, Option<Value>) {
    let url = path.replace("{id}", tid);
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap_or(Method::GET);
    let body = match permission {
        "person.invite" => {
            *invites += 1;
            Some(
                json!({ "first_name": "Nieuw", "surname": "Contact", "email": format!("invite{invites}@x.example"), "language": "nl", "rights": [] }),
            )
        }
        "person.handover" => {
            // To the company's present primary contact: allowed, and changes nothing.
            let primary = match t {
                Target::Org("A") => "ca@a.example",
                Target::Org("B") => "cba@b.example",
                _ => "cca@c.example",
            };
            Some(json!({ "person_id": w.people[primary].id }))
        }
        "person.update" => Some(json!({ "function": "Kwaliteitsverantwoordelijke" })),
        "organisation.update" => Some(json!({ "phone": "+32 2 000 00 00" })),
        "person.grant" if path.ends_with("/rights") => Some(json!({ "rights": ["document.read"] })),
        "person.grant" => {
            let roles = match t {
                Target::Person(e) => w.people[e].roles.clone(),
                _ => vec![],
            };
            Some(json!({ "roles": roles }))
        }
        "dossier.hold" => Some(json!({ "hold": false })),
        "subprocessor.object" if path.ends_with("/withdraw") => None,
        "subprocessor.object" => Some(json!({ "reasons": "<p>Nog steeds niet.</p>" })),
        "subprocessor.withdraw" => Some(json!({ "reason": "Niet meer nodig" })),
        "subprocessor.update" => {
            let d = (OffsetDateTime::now_utc() + time::Duration::days(40)).date();
            Some(
                json!({ "kind": "add", "summary": "Archief", "effective_date": format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
                "entry": { "legal_name": "Archief NV", "registration_number": "0123.456.789", "website": "https://archief.example",
                    "service": "Archief", "data_categories": ["contact"], "subject_categories": ["client_contacts"],
                    "locations": [{ "country": "BE" }], "agreement_date": null } }),
            )
        }
        "objection.decide" => {
            Some(json!({ "decision": "settled", "note": "In overleg geregeld." }))
        }
        "dossier.update" => Some(json!({ "valid_until": "2029-06-30" })),
        "dossier.status" => Some(json!({ "status": "suspended", "reason": "controle" })),
        "organisation.create" => {
            *invites += 1;
            Some(json!({ "kind": "client", "name": format!("Nieuw {invites} NV") }))
        }
        "dossier.create" => {
            Some(json!({ "organisation_id": tid, "scheme": "ISO 9001", "status": "application" }))
        }
        "assignment.create" => {
            let now = OffsetDateTime::now_utc();
            Some(
                json!({ "dossier_id": tid, "inspector_id": w.people["insp2@cb.example"].id,
                "starts_at": instant(now + time::Duration::days(30)), "ends_at": instant(now + time::Duration::days(31)) }),
            )
        }
        _ => None,
    };
    (m, url, body)
}

/// Unique values for every field of one contact, so that a masked value can be searched for in
/// the raw response bytes.
const MARKERS: &[(&str, &str)] = &[
    ("surname", "Vandermarker"),
    ("first_name", "Annelies"),
    ("phone", "+32 2 111 22 33"),
    ("mobile", "+32 470 11 22 33"),
    ("fax", "+32 2 999 88 77"),
    ("function", "Kwaliteitsmarker"),
    ("birth_date", "1981-02-03"),
    ("training_valid_until", "2027-04-05"),
    ("licence_plates", "1-MRK-123"),
];

databases!(
    /// Every role × every person field through every output that carries it (detail, list,
    /// search, CSV and JSON export): granted → present, otherwise named under `masked` (JSON) or
    /// `[hidden]` (CSV), and its value absent from the response bytes.
    async fn every_role_sees_exactly_the_fields_granted(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let mut w = world(&server).await?;
        let matrix = policy_matrix(&server).await?;
        sql_rows(
            &server,
            "UPDATE person SET surname = 'Vandermarker', first_name = 'Annelies', phone = '+32 2 111 22 33', \
             mobile = '+32 470 11 22 33', fax = '+32 2 999 88 77', function = 'Kwaliteitsmarker', \
             birth_date = '1981-02-03', training_valid_until = '2027-04-05' \
             WHERE email = 'c2@a.example'",
        )
        .await?;
        // Her vehicle (the vehicle's id: hers, unique and of the right type on both databases).
        sql_rows(
            &server,
            "INSERT INTO vehicle (id, person_id, licence_plate, created_at) \
             SELECT id, id, '1-MRK-123', created_at FROM person WHERE email = 'c2@a.example'",
        )
        .await?;
        // c2 herself is a caller too (her own record).
        let token = login(&server, "c2@a.example").await?;
        if let Some(p) = w.people.get_mut("c2@a.example") {
            p.token = token;
        }
        let fields: Vec<String> = matrix["fields"]["staff"]
            .as_object()
            .context("fields")?
            .keys()
            .filter_map(|k| k.strip_prefix("person.").map(str::to_owned))
            .collect();
        assert!(fields.len() >= 15, "{fields:?}");
        let target = Target::Person("c2@a.example");
        let mut checked = 0usize;
        for caller_key in [
            "insp@cb.example",
            "cu@a.example",
            "ca@a.example",
            "cba@b.example",
            "po@cb.example",
            "staff@cb.example",
            "admin@cb.example",
            "c2@a.example",
        ] {
            let caller = &w.people[caller_key];
            let rel = w.relation(caller, &target);
            let id = w.id(&target);
            let outputs: [(&str, String, &str); 5] = [
                ("detail", format!("/api/v1/people/{id}"), "person.read"),
                (
                    "list",
                    format!("/api/v1/people?organisation_id={}", w.orgs["A"]),
                    "person.list",
                ),
                (
                    "search",
                    "/api/v1/people?q=annelies".to_owned(),
                    "person.list",
                ),
                (
                    "export-json",
                    format!(
                        "/api/v1/people/export?format=json&organisation_id={}",
                        w.orgs["A"]
                    ),
                    "person.export",
                ),
                (
                    "export-csv",
                    format!("/api/v1/people/export?organisation_id={}", w.orgs["A"]),
                    "person.export",
                ),
            ];
            for (output, url, action) in outputs {
                let reaches = !domains_of(&matrix, "actions", caller, action).is_disjoint(&rel);
                let (status, body) = api(&server, &caller.token, Method::GET, &url, None).await?;
                if !reaches {
                    assert!(
                        status == 404 || !body.contains(&id),
                        "{caller_key} {output}: the record leaked ({status})"
                    );
                    for (_, marker) in MARKERS {
                        assert!(
                            !body.contains(marker),
                            "{caller_key} {output}: {marker} leaked"
                        );
                    }
                    continue;
                }
                assert_eq!(status, 200, "{caller_key} {output}: {body}");
                // The record as this output carries it.
                let (json_record, csv_row): (Option<Value>, Option<BTreeMap<String, String>>) =
                    if output == "export-csv" {
                        let mut lines = body.lines();
                        let header: Vec<String> = lines
                            .next()
                            .context("header")?
                            .split(',')
                            .map(str::to_owned)
                            .collect();
                        let row = lines
                            .map(csv_cells)
                            .find(|cells| cells.first().map(String::as_str) == Some(id.as_str()))
                            .context("row of the target")?;
                        (None, Some(header.into_iter().zip(row).collect()))
                    } else if output == "detail" {
                        (Some(serde_json::from_str(&body)?), None)
                    } else {
                        let v: Value = serde_json::from_str(&body)?;
                        let rec = v["items"]
                            .as_array()
                            .context("items")?
                            .iter()
                            .find(|i| i["id"].as_str() == Some(id.as_str()))
                            .cloned();
                        (
                            Some(rec.with_context(|| {
                                format!("{caller_key} {output}: the target is missing: {body}")
                            })?),
                            None,
                        )
                    };
                for field in &fields {
                    let granted =
                        !domains_of(&matrix, "fields", caller, &format!("person.{field}"))
                            .is_disjoint(&rel);
                    let marker = MARKERS.iter().find(|(f, _)| f == field).map(|(_, m)| *m);
                    if let Some(rec) = &json_record {
                        let present = rec
                            .as_object()
                            .is_some_and(|o| o.contains_key(field.as_str()));
                        let listed = rec["masked"]
                            .as_array()
                            .is_some_and(|m| m.iter().any(|x| x.as_str() == Some(field.as_str())));
                        assert_eq!(
                            present, granted,
                            "{caller_key} {output}: {field} present = {present}, granted = {granted}"
                        );
                        assert_eq!(
                            listed, !granted,
                            "{caller_key} {output}: {field} named as masked = {listed}"
                        );
                    }
                    if let Some(row) = &csv_row {
                        let hidden = row.get(field.as_str()).is_some_and(|c| c == "[hidden]");
                        assert_eq!(
                            hidden, !granted,
                            "{caller_key} {output}: {field} hidden = {hidden}, granted = {granted}"
                        );
                    }
                    if let Some(m) = marker
                        && !granted
                    {
                        assert!(
                            !body.contains(m),
                            "{caller_key} {output}: the masked {field} value is in the response"
                        );
                    }
                    checked += 1;
                }
            }
        }
        // The person's page, for every caller who may read the record: each field either shows
        // or says "hidden", and a hidden value is not in the page.
        for caller_key in [
            "insp@cb.example",
            "ca@a.example",
            "po@cb.example",
            "staff@cb.example",
            "c2@a.example",
            "cu@a.example",
            "cba@b.example",
        ] {
            let caller = &w.people[caller_key];
            let rel = w.relation(caller, &target);
            let browser = server.sign_in(caller_key, PASSWORD).await?;
            let res = browser
                .get(server.url(&format!("/people/{}", w.id(&target))))
                .header("accept-language", "en")
                .send()
                .await?;
            let status = res.status().as_u16();
            let page = res.text().await?;
            if domains_of(&matrix, "actions", caller, "person.read").is_disjoint(&rel) {
                assert_eq!(
                    status, 404,
                    "{caller_key}: page of a person not theirs to see"
                );
                continue;
            }
            assert_eq!(status, 200, "{caller_key}: {page}");
            for field in fields
                .iter()
                .filter(|f| *f != "id" && *f != "organisation_id")
            {
                let granted = !domains_of(&matrix, "fields", caller, &format!("person.{field}"))
                    .is_disjoint(&rel);
                let dom_id = format!("id=\"person-{}\"", field.replace('_', "-"));
                let at = page
                    .find(&dom_id)
                    .with_context(|| format!("{caller_key}: {dom_id} missing"))?;
                let shown_hidden = page[at..].starts_with(&format!("{dom_id} class=\"masked\""));
                assert_eq!(
                    shown_hidden, !granted,
                    "{caller_key} page: {field} hidden = {shown_hidden}, granted = {granted}"
                );
                if let Some((_, m)) = MARKERS.iter().find(|(f, _)| f == field)
                    && !granted
                {
                    assert!(
                        !page.contains(m),
                        "{caller_key} page: the masked {field} value is in the page"
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 250, "only {checked} checks");
        server.stop().await
    }
);

/// The cells of one CSV line (the markers hold no quotes or commas; quoted cells are unwrapped).
fn csv_cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

databases!(
    /// The moment an assignment ends the inspector loses the dossier; a deactivated primary
    /// contact's contacts keep working; a primary contact cannot escalate or smuggle fields.
    async fn assignments_end_at_once_and_nobody_escalates(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let w = world(&server).await?;
        let insp = &w.people["insp@cb.example"].token;
        let staff = &w.people["staff@cb.example"].token;
        let ca = &w.people["ca@a.example"];
        let d = &w.dossiers["dA2"];
        assert_eq!(
            api(
                &server,
                insp,
                Method::GET,
                &format!("/api/v1/dossiers/{d}"),
                None
            )
            .await?
            .0,
            200
        );
        let (status, _) = api(
            &server,
            staff,
            Method::POST,
            &format!("/api/v1/assignments/{}/end", w.assignments["to_end"].0),
            None,
        )
        .await?;
        assert_eq!(status, 200);
        assert_eq!(
            api(
                &server,
                insp,
                Method::GET,
                &format!("/api/v1/dossiers/{d}"),
                None
            )
            .await?
            .0,
            404,
            "still visible after the end"
        );
        let (_, list) = api(&server, insp, Method::GET, "/api/v1/dossiers", None).await?;
        assert!(!list.contains(d.as_str()) && list.contains(w.dossiers["dA"].as_str()));

        // An assignment that ends before it starts, or of someone who is not an inspector.
        let now = OffsetDateTime::now_utc();
        let (status, body) = api(
            &server,
            staff,
            Method::POST,
            "/api/v1/assignments",
            Some(json!({
            "dossier_id": w.dossiers["dC"], "inspector_id": w.people["insp2@cb.example"].id,
            "starts_at": instant(now), "ends_at": instant(now - time::Duration::hours(1)) })),
        )
        .await?;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("ends_at"));
        let (status, body) = api(
            &server,
            staff,
            Method::POST,
            "/api/v1/assignments",
            Some(json!({
            "dossier_id": w.dossiers["dC"], "inspector_id": w.people["cu@a.example"].id,
            "starts_at": instant(now), "ends_at": instant(now + time::Duration::hours(1)) })),
        )
        .await?;
        assert_eq!(status, 422, "{body}");

        // Escalation and mass assignment by a primary contact: refused, recorded, nothing changed.
        let cu = &w.people["cu@a.example"].id;
        for (path, body) in [
            (
                format!("/api/v1/people/{cu}/roles"),
                json!({ "roles": ["client_user", "staff"] }),
            ),
            (
                format!("/api/v1/people/{}/roles", ca.id),
                json!({ "roles": ["client_admin", "admin"] }),
            ),
            (
                format!("/api/v1/people/{cu}/roles"),
                json!({ "roles": ["client_admin"] }),
            ),
        ] {
            let (status, text) = api(&server, &ca.token, Method::PUT, &path, Some(body)).await?;
            assert!(status == 403 || status == 422, "{path}: {status} {text}");
        }
        let (status, text) = api(
            &server,
            &ca.token,
            Method::PATCH,
            &format!("/api/v1/people/{cu}"),
            Some(json!({ "function": "x", "roles": ["staff"], "organisation_id": w.orgs["B"] })),
        )
        .await?;
        assert_eq!(status, 422, "{text}");
        assert!(
            text.contains("roles") && text.contains("organisation_id"),
            "{text}"
        );
        let roles = sql_rows(&server, "SELECT role FROM person_role r JOIN person p ON p.id = r.person_id WHERE p.email = 'cu@a.example'").await?;
        assert_eq!(roles, vec![vec!["client_user".to_owned()]]);
        let function = sql_rows(
            &server,
            "SELECT COALESCE(function, '') FROM person WHERE email = 'cu@a.example'",
        )
        .await?;
        assert_eq!(function, vec![vec![String::new()]], "half-applied change");
        let denied = sql_rows(
            &server,
            &format!(
                "SELECT detail FROM audit_log WHERE action = 'access.denied' AND actor_id = '{}'",
                ca.id
            ),
        )
        .await?;
        assert!(denied.len() >= 4, "{denied:?}");
        assert!(
            denied
                .iter()
                .flatten()
                .any(|d| d.contains("organisation_id"))
        );

        // Grants and invitations never beyond the primary contact's own; a guessed id of another
        // tenant answers 404.
        let (status, _) = api(
            &server,
            &ca.token,
            Method::PUT,
            &format!("/api/v1/people/{}/rights", w.people["cb2@b.example"].id),
            Some(json!({ "rights": ["document.read"] })),
        )
        .await?;
        assert_eq!(status, 404);
        let (status, body) = api(
            &server,
            &ca.token,
            Method::PUT,
            &format!("/api/v1/people/{cu}/rights"),
            Some(json!({ "rights": ["document.upload", "document.teleport"] })),
        )
        .await?;
        assert_eq!(status, 422, "{body}");
        let (status, body) = api(
            &server,
            &ca.token,
            Method::PUT,
            &format!("/api/v1/people/{cu}/rights"),
            Some(json!({ "rights": ["document.upload"] })),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("document.upload"));

        // An invitation not yet accepted is withdrawn by deactivating the person: the state
        // changes (it did not, once, while the audit log said it had) and the link dies.
        let (status, body) = api(&server, &ca.token, Method::POST, &format!("/api/v1/organisations/{}/contacts", w.orgs["A"]),
            Some(json!({ "first_name": "Pending", "surname": "Contact", "email": "pending@a.example", "language": "fr" }))).await?;
        assert_eq!(status, 201, "{body}");
        let pending = serde_json::from_str::<Value>(&body)?["id"]
            .as_str()
            .context("id")?
            .to_owned();
        let (status, _) = api(
            &server,
            &ca.token,
            Method::POST,
            &format!("/api/v1/people/{pending}/deactivate"),
            None,
        )
        .await?;
        assert_eq!(status, 200);
        let state = sql_rows(
            &server,
            "SELECT state FROM person WHERE email = 'pending@a.example'",
        )
        .await?;
        assert_eq!(state, vec![vec!["deactivated".to_owned()]]);
        let live = sql_rows(
            &server,
            "SELECT t.token_hash FROM one_time_token t JOIN person p ON p.id = t.person_id \
            WHERE p.email = 'pending@a.example' AND t.used_at IS NULL",
        )
        .await?;
        assert!(live.is_empty(), "the invitation link still works: {live:?}");
        let (status, _) = api(
            &server,
            &ca.token,
            Method::POST,
            &format!("/api/v1/people/{pending}/reactivate"),
            None,
        )
        .await?;
        assert_eq!(status, 200);
        let state = sql_rows(
            &server,
            "SELECT state FROM person WHERE email = 'pending@a.example'",
        )
        .await?;
        assert_eq!(
            state,
            vec![vec!["invited".to_owned()]],
            "no password, so invited again, not active"
        );

        // The primary contact deactivated by staff: the contacts keep working.
        let (status, _) = api(
            &server,
            staff,
            Method::POST,
            &format!("/api/v1/people/{}/deactivate", ca.id),
            None,
        )
        .await?;
        assert_eq!(status, 200);
        let cu_token = login(&server, "cu@a.example").await?;
        assert_eq!(
            api(
                &server,
                &cu_token,
                Method::GET,
                &format!("/api/v1/dossiers/{}", w.dossiers["dA"]),
                None
            )
            .await?
            .0,
            200
        );
        // …and the deactivated one can change nothing more, even with a token still valid.
        let (status, _) = api(
            &server,
            &ca.token,
            Method::PATCH,
            &format!("/api/v1/people/{cu}"),
            Some(json!({ "function": "y" })),
        )
        .await?;
        assert_eq!(status, 401);
        server.stop().await
    }
);

databases!(
    /// Every role × every field of organisations, dossiers and assignments through their detail
    /// and list outputs, and the dossier page (which shows the dossier and its organisation):
    /// granted → present, otherwise named under `masked` or shown as hidden.
    async fn every_role_sees_exactly_the_granted_fields_of_every_type(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let mut w = world(&server).await?;
        subprocessor_world(&server, &mut w).await?;
        let matrix = policy_matrix(&server).await?;
        sql_rows(&server, "UPDATE organisation SET phone = '+32 9 123 45 67', fax = '+32 9 765 43 21', sector = 'Betonmarker' WHERE id IN (SELECT organisation_id FROM dossier)").await?;
        let fields_of = |ty: &str| -> anyhow::Result<Vec<String>> {
            Ok(matrix["fields"]["staff"]
                .as_object()
                .context("fields")?
                .keys()
                .filter_map(|k| k.strip_prefix(&format!("{ty}.")).map(str::to_owned))
                .collect())
        };
        let mut checked = 0usize;
        let callers = [
            "insp@cb.example",
            "cu@a.example",
            "ca@a.example",
            "cba@b.example",
            "po@cb.example",
            "staff@cb.example",
            "admin@cb.example",
        ];
        let cases: Vec<(&str, Target, String, String)> = vec![
            (
                "organisation",
                Target::Org("A"),
                format!("/api/v1/organisations/{}", w.orgs["A"]),
                "/api/v1/organisations".to_owned(),
            ),
            (
                "dossier",
                Target::Dossier("dA"),
                format!("/api/v1/dossiers/{}", w.dossiers["dA"]),
                "/api/v1/dossiers".to_owned(),
            ),
            (
                "assignment",
                Target::Assignment("active"),
                format!("/api/v1/assignments/{}", w.assignments["active"].0),
                "/api/v1/assignments".to_owned(),
            ),
            (
                "notice",
                Target::Notice,
                format!("/api/v1/subprocessor-notices/{}", w.id(&Target::Notice)),
                "/api/v1/subprocessor-notices".to_owned(),
            ),
            (
                "objection",
                Target::Objection("A"),
                format!("/api/v1/objections/{}", w.id(&Target::Objection("A"))),
                "/api/v1/objections".to_owned(),
            ),
            // An entry's page holds it under `entry`; the list holds active entries only.
            (
                "subprocessor",
                Target::Entry,
                format!("/api/v1/subprocessors/{}", w.id(&Target::Entry)),
                String::new(),
            ),
        ];
        for caller_key in callers {
            let caller = &w.people[caller_key];
            for (ty, target, detail, list) in &cases {
                let rel = w.relation(caller, target);
                let id = w.id(target);
                for (output, url, action) in [
                    ("detail", detail.clone(), "read"),
                    ("list", list.clone(), "list"),
                ] {
                    if url.is_empty() {
                        continue;
                    }
                    // Notices and entries are read by who may list the register.
                    let permission = match *ty {
                        "notice" | "subprocessor" => "subprocessor.list".to_owned(),
                        _ => format!("{ty}.{action}"),
                    };
                    let reaches =
                        !domains_of(&matrix, "actions", caller, &permission).is_disjoint(&rel);
                    let (status, body) =
                        api(&server, &caller.token, Method::GET, &url, None).await?;
                    if !reaches {
                        assert!(
                            status == 404 || !body.contains(&id),
                            "{caller_key} {ty} {output}: leaked ({status})"
                        );
                        continue;
                    }
                    let v: Value = serde_json::from_str(&body)?;
                    let rec = if output == "detail" && *ty == "subprocessor" {
                        v["entry"].clone()
                    } else if output == "detail" {
                        v
                    } else {
                        v["items"]
                            .as_array()
                            .context("items")?
                            .iter()
                            .find(|i| i["id"].as_str() == Some(id.as_str()))
                            .cloned()
                            .with_context(|| format!("{caller_key} {ty} list: target missing"))?
                    };
                    for field in fields_of(ty)? {
                        let granted =
                            !domains_of(&matrix, "fields", caller, &format!("{ty}.{field}"))
                                .is_disjoint(&rel);
                        let present = rec
                            .as_object()
                            .is_some_and(|o| o.contains_key(field.as_str()));
                        let listed = rec["masked"]
                            .as_array()
                            .is_some_and(|m| m.iter().any(|x| x.as_str() == Some(field.as_str())));
                        assert_eq!(
                            (present, listed),
                            (granted, !granted),
                            "{caller_key} {ty} {output}: {field}"
                        );
                        checked += 1;
                    }
                    if *ty == "organisation"
                        && domains_of(&matrix, "fields", caller, "organisation.fax")
                            .is_disjoint(&rel)
                    {
                        assert!(
                            !body.contains("765 43 21"),
                            "{caller_key}: a masked fax number in the {output}"
                        );
                    }
                }
            }
            // The dossier page: the dossier's and its organisation's facts.
            let browser = server.sign_in(caller_key, PASSWORD).await?;
            let res = browser
                .get(server.url(&format!("/dossiers/{}", w.dossiers["dA"])))
                .send()
                .await?;
            let status = res.status().as_u16();
            let page = res.text().await?;
            let rel = w.relation(caller, &Target::Dossier("dA"));
            if domains_of(&matrix, "actions", caller, "dossier.read").is_disjoint(&rel) {
                assert_eq!(status, 404, "{caller_key}: dossier page");
                continue;
            }
            assert_eq!(status, 200, "{caller_key}: {page}");
            let org_rel = w.relation(caller, &Target::Org("A"));
            let org_readable =
                !domains_of(&matrix, "actions", caller, "organisation.read").is_disjoint(&org_rel);
            for (ty, rel, skip) in [
                ("dossier", &rel, vec!["id", "organisation_id"]),
                ("organisation", &org_rel, vec!["id"]),
            ] {
                if ty == "organisation" && !org_readable {
                    assert!(
                        !page.contains("id=\"organisation-"),
                        "{caller_key}: organisation facts without read"
                    );
                    continue;
                }
                for field in fields_of(ty)?
                    .into_iter()
                    .filter(|f| !skip.contains(&f.as_str()))
                {
                    let granted = !domains_of(&matrix, "fields", caller, &format!("{ty}.{field}"))
                        .is_disjoint(rel);
                    let dom_id = format!("id=\"{ty}-{}\"", field.replace('_', "-"));
                    let at = page
                        .find(&dom_id)
                        .with_context(|| format!("{caller_key}: {dom_id} missing"))?;
                    let hidden = page[at..].starts_with(&format!("{dom_id} class=\"masked\""));
                    assert_eq!(hidden, !granted, "{caller_key} dossier page: {ty}.{field}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 150, "only {checked} checks");
        server.stop().await
    }
);

databases!(
    /// Restriction of processing (GDPR Art. 18) learnt by the role × route and role × field
    /// tests: the contact c2 of company A is restricted by the privacy coordinator; then every
    /// role, on every API route about a person (from the OpenAPI document and the policy), gets
    /// 404 where the person is not theirs to see, 403 where the policy refuses, the record with
    /// only its id and `restricted` where it may read (every other field masked, in the record
    /// and in the list), and 409 `restricted` for every change; the person themself reads and
    /// changes their own record as before.
    async fn every_role_meets_a_restricted_person_as_the_policy_says(b: Backends) {
        let server = ServerBuilder::new(b).start().await?;
        let w = world(&server).await?;
        let matrix = policy_matrix(&server).await?;
        let target = Target::Person("c2@a.example");
        let rid = w.id(&target);
        let po = &w.people["po@cb.example"].token;
        let (status, body) = api(
            &server,
            po,
            Method::PUT,
            &format!("/api/v1/people/{rid}/restriction"),
            Some(json!({ "reason": "Verzoek tot beperking" })),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let doc: Value = server
            .client()?
            .get(server.url("/api/v1/openapi.json"))
            .send()
            .await?
            .json()
            .await?;
        let mut ops: Vec<(String, String, String)> = Vec::new();
        for (path, item) in doc["paths"].as_object().context("paths")? {
            if !path.starts_with("/api/v1/people/{id}") || path.ends_with("/restriction") {
                continue;
            }
            for (method, op) in item.as_object().context("item")? {
                let permission = op["x-permission"].as_str().context("x-permission")?;
                ops.push((method.clone(), path.clone(), permission.to_owned()));
            }
        }
        // Reading first; deactivating and reactivating last.
        ops.sort_by_key(|(m, p, _)| (m != "get", p.ends_with("activate")));
        assert!(ops.len() >= 6, "{ops:?}");
        let callers = [
            "insp@cb.example",
            "cu@a.example",
            "ca@a.example",
            "cba@b.example",
            "po@cb.example",
            "staff@cb.example",
            "admin@cb.example",
            "c2@a.example",
        ];
        let mut invites = 0usize;
        let mut checked = 0usize;
        for caller_key in callers {
            let caller = &w.people[caller_key];
            let rel = w.relation(caller, &target);
            let myself = caller_key == "c2@a.example";
            // An administrator's reset of the person's second factor ended their sessions.
            let fresh = if myself {
                Some(login(&server, caller_key).await?)
            } else {
                None
            };
            let caller = &Who {
                token: fresh.unwrap_or_else(|| caller.token.clone()),
                roles: caller.roles.clone(),
                org: caller.org.clone(),
                id: caller.id.clone(),
                email: caller.email,
            };
            let readable = !domains_of(&matrix, "actions", caller, "person.read").is_disjoint(&rel);
            // The list: the person is in it exactly as the policy says, with only the mark.
            let listable = !domains_of(&matrix, "actions", caller, "person.list").is_disjoint(&rel);
            let (status, body) = api(
                &server,
                &caller.token,
                Method::GET,
                "/api/v1/people?limit=1000",
                None,
            )
            .await?;
            if status == 200 {
                let v: Value = serde_json::from_str(&body)?;
                let found = v["items"]
                    .as_array()
                    .context("items")?
                    .iter()
                    .find(|i| i["id"] == rid.as_str())
                    .cloned();
                assert_eq!(found.is_some(), listable, "{caller_key}: listed");
                if let Some(p) = found {
                    assert_restricted(caller_key, &p, myself);
                }
            }
            for (method, path, permission) in &ops {
                let allowed_domains = domains_of(&matrix, "actions", caller, permission);
                let mut allowed = !allowed_domains.is_disjoint(&rel);
                if allowed && changes_standing(permission) && !myself {
                    allowed = w.people["c2@a.example"].roles.iter().all(|role| {
                        !domains_of(&matrix, "roles", caller, &format!("role.{role}"))
                            .is_disjoint(&rel)
                    });
                }
                let (m, url, body) =
                    request_for(&w, method, path, permission, &target, &rid, &mut invites);
                let (status, text) = api(&server, &caller.token, m, &url, body).await?;
                if !readable && !myself {
                    assert_eq!(status, 404, "{caller_key} {method} {path}: {text}");
                } else if !allowed {
                    assert!(
                        [403, 404, 422].contains(&status),
                        "{caller_key} {method} {path}: refused by the policy, got {status} {text}"
                    );
                } else if method == "get" {
                    assert_eq!(status, 200, "{caller_key} {method} {path}: {text}");
                    assert_restricted(caller_key, &serde_json::from_str(&text)?, myself);
                } else if myself || permission == "person.reset_second_factor" {
                    // One's own record, and an administrator's reset of a lost second factor
                    // (security, which the restriction does not stop).
                    assert!(
                        ![403, 404, 409].contains(&status),
                        "{caller_key} {method} {path}: {status} {text}"
                    );
                } else {
                    assert_eq!(
                        status, 409,
                        "{caller_key} {method} {path}: a use of a restricted person: {text}"
                    );
                    assert!(
                        text.contains("\"restricted\""),
                        "{caller_key} {method} {path}: {text}"
                    );
                }
                checked += 1;
            }
        }
        assert!(checked >= 40, "only {checked} cases");
        let denied = sql_rows(&server, &format!(
            "SELECT action FROM audit_log WHERE action = 'access.denied' AND subject_id = '{rid}' AND detail LIKE '%restricted%'")).await?;
        assert!(denied.len() >= 5, "{} refusals recorded", denied.len());
        server.stop().await
    }
);

/// A restricted person's record as a caller receives it: only the id and the mark for anyone
/// but the person; every granted field for the person.
fn assert_restricted(caller: &str, p: &Value, myself: bool) {
    let o = p.as_object().cloned().unwrap_or_default();
    if myself {
        assert!(
            o.get("restricted").is_none() && o.contains_key("surname"),
            "{caller} (self): {p}"
        );
        return;
    }
    assert_eq!(p["restricted"], true, "{caller}: {p}");
    let shown: Vec<&String> = o
        .keys()
        .filter(|k| !["id", "masked", "restricted"].contains(&k.as_str()))
        .collect();
    assert!(
        shown.is_empty(),
        "{caller} sees fields of a restricted person: {shown:?}"
    );
}
