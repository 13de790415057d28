//! What an erasure of one person would do: every table of the schema map holding rows linked
//! to them, each deleted, anonymised or kept — and what is kept, on which ground and until when.

use extranet_platform::{Db, on_pool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::sql::{Bind, names, number, texts};
use super::{Erased, ErasurePlan, Ground, Kept, rfc3339};
use crate::error::{PrivacyError, Result};
use crate::register::{Action, Duration, Register, Target};
use crate::retention::targets::dossier_held;

/// The person as the erasure finds them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Person {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub email_normalized: String,
    pub surname: String,
    pub first_name: String,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub fax: Option<String>,
}

impl Person {
    /// `%…%` patterns (lower case) of what names the person in free text.
    pub fn patterns(&self) -> Vec<String> {
        let full = format!("{} {}", self.first_name.trim(), self.surname.trim());
        [
            Some(self.email_normalized.clone()),
            Some(full),
            self.phone.clone(),
            self.mobile.clone(),
            self.fax.clone(),
        ]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| s.chars().count() >= 5 && !s.contains("anonymised"))
        .map(|s| format!("%{s}%"))
        .collect()
    }
}

/// A hold in force on the person or their organisation.
#[derive(Debug, Clone)]
pub(crate) struct PersonHold {
    pub id: Uuid,
    pub on: String,
    pub subject: Uuid,
}

impl PersonHold {
    pub fn ground(&self) -> Ground {
        Ground::Hold {
            on: self.on.clone(),
            subject: self.subject,
            hold: Some(self.id),
        }
    }
}

pub(crate) const WHILE_HELD: &str = "while the hold lasts";

/// The tables that only serve the person's account: deleted when it ends, hold or not.
/// (table, how its rows are found from the person `$1`)
pub(crate) const ACCOUNT: &[(&str, &str)] = &[
    (
        "refresh_token",
        "session_id IN (SELECT id FROM auth_session WHERE person_id = $1)",
    ),
    ("auth_session", "person_id = $1"),
    ("one_time_token", "person_id = $1"),
    ("sign_in_challenge", "person_id = $1"),
    ("second_factor", "person_id = $1"),
    ("recovery_code", "person_id = $1"),
    ("subprocessor_subscription", "person_id = $1"),
    ("person_role", "person_id = $1"),
    ("person_right", "person_id = $1"),
    ("privacy_notice_seen", "person_id = $1"),
    ("upload_usage", "person_id = $1"),
];

pub(crate) async fn person(db: &Db, id: Uuid) -> Result<Person> {
    let row: Option<Person> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT id, organisation_id, email_normalized, surname, first_name, phone, mobile, \
             fax FROM person WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })?;
    row.ok_or(PrivacyError::NotFound)
}

pub(crate) async fn holds(db: &Db, p: &Person) -> Result<Vec<PersonHold>> {
    let rows: Vec<(Uuid, String, Uuid)> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT id, subject_type, subject_id FROM privacy_hold WHERE lifted_at IS NULL AND \
             ((subject_type = 'person' AND subject_id = $1) OR \
              (subject_type = 'organisation' AND subject_id = $2)) \
             ORDER BY subject_type DESC, placed_at",
        )
        .bind(p.id)
        .bind(p.organisation_id)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, on, subject)| PersonHold { id, on, subject })
        .collect())
}

/// The personal columns of a table, from the register's schema map.
pub(crate) fn columns(register: &Register, table: &str) -> Vec<String> {
    register
        .personal_columns()
        .filter(|c| c.table == table)
        .map(|c| c.column.clone())
        .collect()
}

/// The instant `d` after `t` (calendar months and years; a shorter month's last day).
pub(crate) fn after(d: Duration, t: OffsetDateTime) -> OffsetDateTime {
    let months = match d {
        Duration::Days(n) => return t + time::Duration::days(i64::from(n)),
        Duration::Months(m) => m,
        Duration::Years(y) => y.saturating_mul(12),
    };
    let date = t.date();
    let total = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + months as i32;
    let (year, month) = (total.div_euclid(12), (total.rem_euclid(12) + 1) as u8);
    let month = time::Month::try_from(month).unwrap_or(time::Month::December);
    let last = time::util::days_in_month(month, year);
    let day = date.day().min(last);
    time::Date::from_calendar_date(year, month, day)
        .map(|d| d.with_time(t.time()).assume_offset(t.offset()))
        .unwrap_or(t)
}

pub(crate) fn rule_ground(
    register: &Register,
    target: Target,
) -> Option<(&crate::register::Rule, Ground)> {
    register.rules.iter().find(|r| r.target == target).map(|r| {
        (
            r,
            Ground::Rule {
                rule: r.id.clone(),
                trigger: r.trigger.en.clone(),
            },
        )
    })
}

fn rule_words(rule: &crate::register::Rule) -> String {
    format!("{} {}", rule.after, rule.trigger.en)
}

/// The anonymisation the register gives people (its rule for deactivated people, else for the
/// people of ended clients): (fields erased, fields replaced).
pub(crate) fn anonymisation(register: &Register) -> (Vec<String>, Vec<(String, String)>) {
    for target in [Target::DeactivatedPeople, Target::EndedClients] {
        if let Some(Action::Anonymise { erase, replace }) = register
            .rules
            .iter()
            .find(|r| r.target == target)
            .map(|r| &r.action)
        {
            return (erase.clone(), replace.clone());
        }
    }
    // A register without either rule still gets a person row that names no one.
    (
        [
            "phone",
            "mobile",
            "fax",
            "function",
            "birth_date",
            "training_valid_until",
            "licence_plates",
            "password_hash",
        ]
        .map(String::from)
        .to_vec(),
        vec![
            ("surname".into(), "Anonymised".into()),
            ("first_name".into(), "-".into()),
            ("email".into(), "{id}@anonymised.invalid".into()),
            ("gender".into(), "unspecified".into()),
        ],
    )
}

fn erased(register: &Register, table: &str, action: &str, rows: u64, objects: u64) -> Erased {
    Erased {
        table: table.into(),
        columns: columns(register, table),
        action: action.into(),
        rows,
        objects,
    }
}

/// The documents the person created: (id, dossier, held, dossier's legal hold).
pub(crate) async fn documents(db: &Db, person: Uuid) -> Result<Vec<(Uuid, Uuid, bool, bool)>> {
    let sql = format!(
        "SELECT d.id, d.dossier_id, CASE WHEN {} THEN 1 ELSE 0 END, \
         (SELECT CASE WHEN x.legal_hold THEN 1 ELSE 0 END FROM dossier x WHERE x.id = d.dossier_id) \
         FROM document d WHERE d.created_by = $1 ORDER BY d.id",
        dossier_held("d.dossier_id")
    );
    let rows: Vec<(Uuid, Uuid, i32, Option<i32>)> = on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(person)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, dossier, held, legal)| (id, dossier, held == 1, legal == Some(1)))
        .collect())
}

pub(crate) async fn objects_of(db: &Db, documents: &[Uuid]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for chunk in documents.chunks(500) {
        let sql = format!(
            "SELECT object_key FROM document_version WHERE document_id IN ({}) ORDER BY object_key",
            crate::retention::targets::placeholders(1, chunk.len())
        );
        let binds: Vec<Bind> = chunk.iter().map(|d| Bind::Id(*d)).collect();
        out.extend(texts(db, &sql, &binds).await?);
    }
    Ok(out)
}

/// What an erasure of `person` at `now` would do; changes nothing. `NotFound` for an unknown
/// person.
pub async fn plan(
    db: &Db,
    register: &Register,
    person_id: Uuid,
    now: OffsetDateTime,
) -> Result<ErasurePlan> {
    let p = person(db, person_id).await?;
    let holds = holds(db, &p).await?;
    let held = holds.first().map(PersonHold::ground);
    let id = || vec![Bind::Id(p.id)];
    let pats = p.patterns();
    let with_pats = |first: Vec<Bind>| {
        let mut b = first;
        b.extend(pats.iter().cloned().map(Bind::Text));
        b
    };
    let mut erase = Vec::new();
    let mut keep = Vec::new();

    // Documents the person created, with their versions' objects.
    let docs = documents(db, p.id).await?;
    let (gone, stay): (Vec<&(Uuid, Uuid, bool, bool)>, Vec<_>) =
        docs.iter().partition(|d| held.is_none() && !d.2);
    if !gone.is_empty() {
        let ids: Vec<Uuid> = gone.iter().map(|d| d.0).collect();
        let objects = objects_of(db, &ids).await?.len() as u64;
        erase.push(erased(register, "document", "delete", ids.len() as u64, 0));
        erase.push(erased(
            register,
            "document_version",
            "delete",
            objects,
            objects,
        ));
    }
    // Kept documents, grouped by their ground.
    let mut groups: Vec<(Ground, Vec<Uuid>)> = Vec::new();
    for (doc, dossier, _, legal) in stay {
        let ground = match (&held, legal) {
            (Some(g), _) => g.clone(),
            (None, true) => Ground::Hold {
                on: "dossier".into(),
                subject: *dossier,
                hold: None,
            },
            (None, false) => org_hold_of_dossier(db, *dossier).await?,
        };
        match groups.iter_mut().find(|(g, _)| *g == ground) {
            Some((_, v)) => v.push(*doc),
            None => groups.push((ground, vec![*doc])),
        }
    }
    for (ground, ids) in groups {
        let objects = objects_of(db, &ids).await?;
        keep.push(Kept {
            table: "document".into(),
            columns: columns(register, "document"),
            rows: ids.len() as u64,
            objects: Vec::new(),
            ground: ground.clone(),
            until: WHILE_HELD.into(),
            identifying: naming_any(db, "document", "id", &ids, "title", &pats).await?,
        });
        keep.push(Kept {
            table: "document_version".into(),
            columns: columns(register, "document_version"),
            rows: objects.len() as u64,
            objects,
            ground,
            until: WHILE_HELD.into(),
            identifying: naming_any(
                db,
                "document_version",
                "document_id",
                &ids,
                "file_name",
                &pats,
            )
            .await?,
        });
    }
    // Versions the person added to other people's documents: part of the company's
    // certification file.
    let others = texts(
        db,
        "SELECT v.object_key FROM document_version v JOIN document d ON d.id = v.document_id \
         WHERE v.uploaded_by = $1 AND d.created_by <> $1 ORDER BY v.object_key",
        &id(),
    )
    .await?;
    if !others.is_empty() {
        let naming = number(
            db,
            &format!(
                "SELECT COUNT(*) FROM document_version v JOIN document d ON d.id = v.document_id \
                 WHERE v.uploaded_by = $1 AND d.created_by <> $1 AND {}",
                names("v.file_name", 2, pats.len())
            ),
            &with_pats(id()),
        )
        .await?;
        let (until, ground) = match (&held, rule_ground(register, Target::EndedCertifications)) {
            (Some(g), _) => (WHILE_HELD.to_owned(), g.clone()),
            (None, Some((r, g))) => (rule_words(r), g),
            (None, None) => (
                "with the certification file".to_owned(),
                Ground::Activity {
                    activity: "certification".into(),
                    reason: "part of the company's certification file".into(),
                },
            ),
        };
        keep.push(Kept {
            table: "document_version".into(),
            columns: columns(register, "document_version"),
            rows: others.len() as u64,
            objects: others,
            ground,
            until,
            identifying: naming > 0,
        });
    }

    // Tables counted the same way: (table, rows of the person).
    let just_id = [Bind::Id(p.id)];
    let count = |sql: &'static str| number(db, sql, &just_id);
    let simple: [(&str, &'static str); 3] = [
        (
            "document_upload",
            "SELECT COUNT(*) FROM document_upload WHERE person_id = $1",
        ),
        (
            "vehicle",
            "SELECT COUNT(*) FROM vehicle WHERE person_id = $1",
        ),
        (
            "subprocessor_objection",
            "SELECT COUNT(*) FROM subprocessor_objection WHERE author_id = $1",
        ),
    ];
    let mut n = std::collections::BTreeMap::new();
    for (table, sql) in simple {
        n.insert(table, count(sql).await?);
    }
    let email = || vec![Bind::Text(p.email_normalized.clone())];
    let to_them = number(
        db,
        "SELECT COUNT(*) FROM outbox WHERE LOWER(recipient) = $1",
        &email(),
    )
    .await?;
    let about = |sent: &str| {
        format!(
            "SELECT COUNT(*) FROM outbox WHERE LOWER(recipient) <> $1 AND sent_at IS {sent} AND {}",
            names("payload", 2, pats.len())
        )
    };
    let about_sent = number(db, &about("NOT NULL"), &with_pats(email())).await?;
    let about_unsent = number(db, &about("NULL"), &with_pats(email())).await?;
    let throttle = number(
        db,
        "SELECT COUNT(*) FROM login_throttle WHERE throttle_key = 'account:' || $1",
        &email(),
    )
    .await?;

    match &held {
        Some(g) => {
            // Under a hold everything about the person stays as it is, but their account
            // ends: nobody signs in as someone whose data is being erased.
            let mut cols = columns(register, "person");
            cols.retain(|c| c != "password_hash");
            keep.push(Kept {
                table: "person".into(),
                columns: cols,
                rows: 1,
                objects: Vec::new(),
                ground: g.clone(),
                until: WHILE_HELD.into(),
                identifying: true,
            });
            for (table, rows) in [
                ("vehicle", n["vehicle"]),
                ("outbox", to_them + about_sent + about_unsent),
                ("document_upload", n["document_upload"]),
            ] {
                if rows > 0 {
                    keep.push(Kept {
                        table: table.into(),
                        columns: columns(register, table),
                        rows,
                        objects: Vec::new(),
                        ground: g.clone(),
                        until: WHILE_HELD.into(),
                        identifying: table != "document_upload",
                    });
                }
            }
        }
        None => {
            if n["document_upload"] > 0 {
                erase.push(erased(
                    register,
                    "document_upload",
                    "delete",
                    n["document_upload"],
                    n["document_upload"],
                ));
            }
            if n["vehicle"] > 0 {
                erase.push(erased(register, "vehicle", "delete", n["vehicle"], 0));
            }
            if to_them + about_sent > 0 {
                erase.push(erased(
                    register,
                    "outbox",
                    "delete",
                    to_them + about_sent,
                    0,
                ));
            }
            if about_unsent > 0 {
                keep.push(Kept {
                    table: "outbox".into(),
                    columns: vec!["payload".into()],
                    rows: about_unsent,
                    objects: Vec::new(),
                    ground: Ground::Activity {
                        activity: "accounts".into(),
                        reason: "an e-mail to another person, not yet delivered".into(),
                    },
                    until: rule_ground(register, Target::DeliveredMail)
                        .map(|(r, _)| rule_words(r))
                        .unwrap_or_else(|| "once delivered".into()),
                    identifying: true,
                });
            }
        }
    }
    if throttle > 0 {
        erase.push(erased(register, "login_throttle", "delete", throttle, 0));
    }

    // Rights requests (this erasure's own among them): the proof of how each was answered,
    // kept under its rule, with the address it was answered at.
    let requests = number(
        db,
        "SELECT COUNT(*) FROM rights_request WHERE person_id = $1 OR LOWER(email) = $2",
        &[Bind::Id(p.id), Bind::Text(p.email_normalized.clone())],
    )
    .await?;
    if requests > 0 {
        let (until, ground) = match (&held, rule_ground(register, Target::RightsRequests)) {
            (Some(g), _) => (WHILE_HELD.to_owned(), g.clone()),
            (None, Some((r, g))) => (rule_words(r), g),
            (None, None) => (
                "as long as the request's proof is needed".to_owned(),
                Ground::Activity {
                    activity: "rights-requests".into(),
                    reason: "the proof of how a request was answered".into(),
                },
            ),
        };
        keep.push(Kept {
            table: "rights_request".into(),
            columns: columns(register, "rights_request"),
            rows: requests,
            objects: Vec::new(),
            ground,
            until,
            identifying: true,
        });
    }

    // Consents: withdrawn now; their proof is kept under its rule.
    let consents = count("SELECT COUNT(*) FROM consent WHERE person_id = $1").await?;
    let active =
        count("SELECT COUNT(*) FROM consent WHERE person_id = $1 AND withdrawn_at IS NULL").await?;
    if active > 0 {
        erase.push(erased(register, "consent", "withdraw", active, 0));
    }
    if consents > 0 {
        let (until, ground) = match (&held, rule_ground(register, Target::WithdrawnConsents)) {
            (Some(g), _) => (WHILE_HELD.to_owned(), g.clone()),
            (None, Some((r, g))) => (rfc3339(after(r.after, now)), g),
            (None, None) => (
                "never recorded".to_owned(),
                Ground::Activity {
                    activity: "-".into(),
                    reason: "no rule keeps the proof of consent".into(),
                },
            ),
        };
        if matches!(ground, Ground::Activity { .. }) {
            erase.push(erased(register, "consent", "delete", consents, 0));
        } else {
            keep.push(Kept {
                table: "consent".into(),
                columns: columns(register, "consent"),
                rows: consents,
                objects: Vec::new(),
                ground,
                until,
                identifying: false,
            });
        }
    }

    // Objections to subprocessors: the company's, kept with its relationship.
    if n["subprocessor_objection"] > 0 {
        let naming = number(
            db,
            &format!(
                "SELECT COUNT(*) FROM subprocessor_objection WHERE author_id = $1 AND ({} OR {})",
                names("reasons", 2, pats.len()),
                names("COALESCE(decision_note, '')", 2, pats.len())
            ),
            &with_pats(id()),
        )
        .await?;
        let (until, ground) = match (&held, rule_ground(register, Target::EndedClients)) {
            (Some(g), _) => (WHILE_HELD.to_owned(), g.clone()),
            (None, Some((r, g))) => (rule_words(r), g),
            (None, None) => (
                "with the client relationship".into(),
                Ground::Activity {
                    activity: "subprocessor-notices".into(),
                    reason: "the company's objection".into(),
                },
            ),
        };
        keep.push(Kept {
            table: "subprocessor_objection".into(),
            columns: columns(register, "subprocessor_objection"),
            rows: n["subprocessor_objection"],
            objects: Vec::new(),
            ground,
            until,
            identifying: naming > 0,
        });
    }

    // Holds on the person: in force, kept as their own ground; lifted, their reason goes.
    let in_force: Vec<PersonHold> = holds.iter().filter(|h| h.on == "person").cloned().collect();
    for h in &in_force {
        let naming = number(
            db,
            &format!(
                "SELECT COUNT(*) FROM privacy_hold WHERE id = $1 AND {}",
                names("reason", 2, pats.len())
            ),
            &with_pats(vec![Bind::Id(h.id)]),
        )
        .await?;
        keep.push(Kept {
            table: "privacy_hold".into(),
            columns: vec!["reason".into()],
            rows: 1,
            objects: Vec::new(),
            ground: h.ground(),
            until: WHILE_HELD.into(),
            identifying: naming > 0,
        });
    }
    let lifted = count(
        "SELECT COUNT(*) FROM privacy_hold WHERE subject_type = 'person' AND subject_id = $1 \
         AND lifted_at IS NOT NULL AND reason <> '-'",
    )
    .await?;
    if lifted > 0 {
        erase.push(Erased {
            table: "privacy_hold".into(),
            columns: vec!["reason".into()],
            action: "erase".into(),
            rows: lifted,
            objects: 0,
        });
    }

    super::audit::places(
        db,
        register,
        &p,
        &pats,
        held.as_ref(),
        &mut erase,
        &mut keep,
    )
    .await?;

    // The account.
    let mut sessions = 0;
    for (table, cond) in ACCOUNT {
        let rows = number(
            db,
            &format!("SELECT COUNT(*) FROM {table} WHERE {cond}"),
            &id(),
        )
        .await?;
        if *table == "auth_session" {
            sessions = rows;
        }
        if rows > 0 {
            erase.push(erased(register, table, "delete", rows, 0));
        }
    }
    if sessions > 0 {
        keep.push(Kept {
            table: "access_revocation".into(),
            columns: columns(register, "access_revocation"),
            rows: sessions,
            objects: Vec::new(),
            ground: Ground::Activity {
                activity: "accounts".into(),
                reason: "the ended sessions' ids, so that access tokens already issued are refused"
                    .into(),
            },
            until: "one access token lifetime (minutes)".into(),
            identifying: false,
        });
    }
    if held.is_none() {
        let (erase_f, replace) = anonymisation(register);
        let mut cols: Vec<String> = erase_f
            .into_iter()
            .filter(|f| f != "licence_plates")
            .collect();
        cols.extend(replace.into_iter().map(|(f, _)| f));
        erase.push(Erased {
            table: "person".into(),
            columns: cols,
            action: "anonymise".into(),
            rows: 1,
            objects: 0,
        });
    }
    Ok(ErasurePlan {
        person: p.id,
        as_of: rfc3339(now),
        erase,
        keep,
    })
}

/// The hold on the dossier's organisation (a held document whose dossier has no legal hold).
async fn org_hold_of_dossier(db: &Db, dossier: Uuid) -> Result<Ground> {
    let row: Option<(Uuid, Uuid)> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT h.id, h.subject_id FROM privacy_hold h JOIN dossier d \
             ON d.organisation_id = h.subject_id WHERE h.subject_type = 'organisation' \
             AND h.lifted_at IS NULL AND d.id = $1 ORDER BY h.placed_at LIMIT 1",
        )
        .bind(dossier)
        .fetch_optional(pool)
        .await
    })?;
    Ok(match row {
        Some((hold, org)) => Ground::Hold {
            on: "organisation".into(),
            subject: org,
            hold: Some(hold),
        },
        None => Ground::Hold {
            on: "dossier".into(),
            subject: dossier,
            hold: None,
        },
    })
}

/// Whether a free-text column of these rows names the person.
async fn naming_any(
    db: &Db,
    table: &str,
    key: &str,
    ids: &[Uuid],
    column: &str,
    pats: &[String],
) -> Result<bool> {
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT COUNT(*) FROM {table} WHERE {key} IN ({}) AND {}",
            crate::retention::targets::placeholders(1, chunk.len()),
            names(column, chunk.len() + 1, pats.len())
        );
        let mut binds: Vec<Bind> = chunk.iter().map(|d| Bind::Id(*d)).collect();
        binds.extend(pats.iter().cloned().map(Bind::Text));
        if number(db, &sql, &binds).await? > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn after_counts_calendar_months_and_years() {
        let t = datetime!(2024-01-31 10:00 UTC);
        assert_eq!(
            after(Duration::Months(1), t),
            datetime!(2024-02-29 10:00 UTC)
        );
        assert_eq!(
            after(Duration::Months(13), t),
            datetime!(2025-02-28 10:00 UTC)
        );
        assert_eq!(
            after(Duration::Years(5), t),
            datetime!(2029-01-31 10:00 UTC)
        );
        assert_eq!(
            after(Duration::Days(30), t),
            datetime!(2024-03-01 10:00 UTC)
        );
        let leap = datetime!(2024-02-29 00:00 UTC);
        assert_eq!(
            after(Duration::Years(1), leap),
            datetime!(2025-02-28 00:00 UTC)
        );
    }

    #[test]
    fn patterns_name_the_person_not_an_anonymised_row() {
        let p = Person {
            id: Uuid::nil(),
            organisation_id: Uuid::nil(),
            email_normalized: "an@x.example".into(),
            surname: "Peeters".into(),
            first_name: "An".into(),
            phone: Some("+32 2 123 45 67".into()),
            mobile: None,
            fax: Some("1".into()),
        };
        assert_eq!(
            p.patterns(),
            ["%an@x.example%", "%an peeters%", "%+32 2 123 45 67%"]
        );
        let gone = Person {
            email_normalized: "x@anonymised.invalid".into(),
            surname: "Anonymised".into(),
            first_name: "-".into(),
            phone: None,
            fax: None,
            ..p
        };
        assert!(gone.patterns().is_empty());
    }
}
