//! Carrying an erasure out, step by step, each step one transaction with its counts; resumed
//! from the erasure's row after a crash.

use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{Db, Objects, on_pool, write_tx};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use super::plan::{self, Person, anonymisation, objects_of};
use super::sql::{Bind, bind_all, ids, names};
use super::{Erased, ErasureOutcome, rfc3339};
use crate::error::{PrivacyError, Result};
use crate::register::{Register, Target};
use crate::retention::anonymise;
use crate::retention::targets::{dossier_held, placeholders};

/// An access token of an ended session is refused whatever its issuance
/// (`identity::revocation::SESSION_ENDED`).
const SESSION_ENDED: i64 = i64::MAX;

#[derive(Debug, Clone, sqlx::FromRow)]
struct RunRow {
    id: Uuid,
    person_id: Uuid,
    as_of: i64,
    counts: String,
}

/// One statement of a step: what it counts as, and how it runs.
struct Statement {
    table: String,
    action: &'static str,
    sql: String,
    binds: Vec<Bind>,
}

/// The counts so far, as stored in the erasure's row.
struct Tally {
    run: Uuid,
    done: Vec<Erased>,
}

impl Tally {
    fn with(&self, register: &Register, adds: &[(String, &str, u64, u64)]) -> Vec<Erased> {
        let mut done = self.done.clone();
        for (table, action, rows, objects) in adds {
            // Revocations written for the ended sessions are not erasures.
            if (*rows == 0 && *objects == 0) || *action == "insert" {
                continue;
            }
            // Each version deleted is one object removed before it.
            let objects = if table == "document_version" {
                rows
            } else {
                objects
            };
            match done
                .iter_mut()
                .find(|e| e.table == *table && e.action == *action)
            {
                Some(e) => {
                    e.rows += rows;
                    e.objects += objects;
                }
                None => done.push(Erased {
                    table: table.clone(),
                    columns: plan::columns(register, table),
                    action: (*action).to_owned(),
                    rows: *rows,
                    objects: *objects,
                }),
            }
        }
        done
    }

    fn json(done: &[Erased]) -> String {
        serde_json::to_string(done).unwrap_or_else(|_| "[]".into())
    }
}

/// Erases the person: every row and object about them deleted or anonymised except what the
/// plan keeps. An erasure of theirs that was interrupted is finished (same instant and counts).
/// `NotFound` for an unknown person (nothing changed). `batch` documents per step bound a
/// step's transaction and what a crash can leave half-done.
pub async fn run(
    db: &Db,
    objects: &Objects,
    register: &Register,
    person_id: Uuid,
    now: OffsetDateTime,
    batch: usize,
) -> Result<ErasureOutcome> {
    let p = plan::person(db, person_id).await?;
    let (row, resumed) = match unfinished(db, Some(person_id)).await?.into_iter().next() {
        Some(row) => (row, true),
        None => (start(db, person_id, now).await?, false),
    };
    if resumed {
        tracing::warn!(erasure = %row.id, "finishing an interrupted erasure");
    }
    let as_of = OffsetDateTime::from_unix_timestamp(row.as_of)
        .map_err(|e| PrivacyError::Internal(e.to_string()))?;
    // What stays is decided before anything changes in this pass; steps already done do not
    // change it (they never touch what is kept).
    let planned = plan::plan(db, register, person_id, as_of).await?;
    let held = !plan::holds(db, &p).await?.is_empty();
    let mut tally = Tally {
        run: row.id,
        done: serde_json::from_str(&row.counts).unwrap_or_default(),
    };
    let now_unix = now.unix_timestamp();
    if !held {
        documents(db, objects, register, &p, &mut tally, now_unix, batch).await?;
        uploads(db, objects, register, &p, &mut tally, now_unix).await?;
    }
    let middle = records(register, &p, held, as_of);
    step(db, register, &mut tally, &middle, now_unix, None).await?;
    let last = account(register, &p, held, as_of);
    let entry = |done: &[Erased]| {
        let counts: std::collections::BTreeMap<String, u64> = done
            .iter()
            .map(|e| (format!("{}.{}", e.table, e.action), e.rows + e.objects))
            .collect();
        NewEntry::new(now, "privacy.erasure", Outcome::Success)
            .subject("person", person_id)
            .detail(serde_json::json!({
                "erasure": row.id,
                "resumed": resumed,
                "counts": counts,
                "kept": planned.keep.len(),
            }))
    };
    step(db, register, &mut tally, &last, now_unix, Some(&entry)).await?;
    Ok(ErasureOutcome {
        erasure: row.id,
        person: person_id,
        as_of: rfc3339(as_of),
        resumed,
        erased: tally.done,
        kept: planned.keep,
    })
}

/// Whether an erasure of the person begun at or after `since` (Unix seconds) has finished: a
/// restore re-applies a journalled erasure only when the restored database does not hold it.
pub async fn finished_since(db: &Db, person: Uuid, since: i64) -> Result<bool> {
    let n: i64 = on_pool!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM erasure_run WHERE person_id = $1 AND started_at >= $2 \
             AND finished_at IS NOT NULL",
        )
        .bind(person)
        .bind(since)
        .fetch_one(pool)
        .await
    })?;
    Ok(n > 0)
}

/// Finishes every erasure that was interrupted (a job at start-up, or the coordinator).
pub async fn resume_unfinished(
    db: &Db,
    objects: &Objects,
    register: &Register,
    now: OffsetDateTime,
    batch: usize,
) -> Result<Vec<ErasureOutcome>> {
    let mut out = Vec::new();
    for row in unfinished(db, None).await? {
        out.push(run(db, objects, register, row.person_id, now, batch).await?);
    }
    Ok(out)
}

async fn unfinished(db: &Db, person: Option<Uuid>) -> Result<Vec<RunRow>> {
    let rows: Vec<RunRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT id, person_id, as_of, counts FROM erasure_run WHERE finished_at IS NULL \
             AND ($1 IS NULL OR person_id = $1) ORDER BY started_at",
        )
        .bind(person)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows)
}

async fn start(db: &Db, person: Uuid, now: OffsetDateTime) -> Result<RunRow> {
    let row = RunRow {
        id: Uuid::now_v7(),
        person_id: person,
        as_of: now.unix_timestamp(),
        counts: "[]".into(),
    };
    let inserted = on_pool!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO erasure_run (id, person_id, as_of, started_at, heartbeat_at, counts) \
             VALUES ($1, $2, $3, $3, $3, $4) \
             ON CONFLICT (person_id) WHERE finished_at IS NULL DO NOTHING",
        )
        .bind(row.id)
        .bind(row.person_id)
        .bind(row.as_of)
        .bind(&row.counts)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    if inserted == 1 {
        return Ok(row);
    }
    // Another start won: finish that erasure.
    unfinished(db, Some(person))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| PrivacyError::Conflict("an erasure of this person just finished".into()))
}

/// The audit record of a finished erasure, from its counts.
type Finish<'a> = dyn Fn(&[Erased]) -> NewEntry + Sync + 'a;

/// Runs the statements and records their counts in one transaction; with `finish`, the
/// erasure is marked finished and its audit record appended in the same transaction.
async fn step(
    db: &Db,
    register: &Register,
    tally: &mut Tally,
    statements: &[Statement],
    now: i64,
    finish: Option<&Finish<'_>>,
) -> Result<()> {
    let run = tally.run;
    let done: std::result::Result<Vec<Erased>, PrivacyError> = write_tx!(db, |tx| async {
        let mut adds = Vec::new();
        for s in statements {
            let q = bind_all!(sqlx::query(AssertSqlSafe(s.sql.clone())), &s.binds);
            let n = q.execute(&mut *tx).await?.rows_affected();
            adds.push((s.table.clone(), s.action, n, 0));
        }
        let done = tally.with(register, &adds);
        let finished: Option<i64> = finish.map(|_| now);
        sqlx::query(
            "UPDATE erasure_run SET counts = $1, heartbeat_at = $2, \
             finished_at = COALESCE($3, finished_at) WHERE id = $4",
        )
        .bind(Tally::json(&done))
        .bind(now)
        .bind(finished)
        .bind(run)
        .execute(&mut *tx)
        .await?;
        if let Some(entry) = finish {
            extranet_audit::append_in(&mut *tx, &entry(&done)).await?;
        }
        Ok::<Vec<Erased>, PrivacyError>(done)
    }
    .await)
    .await;
    tally.done = done?;
    Ok(())
}

/// The person's documents not under a hold, a batch at a time: their objects first, then the
/// rows (a crash in between leaves rows whose objects are gone, which the re-run deletes).
async fn documents(
    db: &Db,
    objects: &Objects,
    register: &Register,
    p: &Person,
    tally: &mut Tally,
    now: i64,
    batch: usize,
) -> Result<()> {
    let select = format!(
        "SELECT d.id FROM document d WHERE d.created_by = $1 AND NOT {} LIMIT {batch}",
        dossier_held("d.dossier_id")
    );
    loop {
        let docs = ids(db, &select, &[Bind::Id(p.id)]).await?;
        if docs.is_empty() {
            return Ok(());
        }
        objects.delete_many(objects_of(db, &docs).await?).await?;
        let list = placeholders(1, docs.len());
        let binds: Vec<Bind> = docs.iter().map(|d| Bind::Id(*d)).collect();
        let statements = [
            Statement {
                table: "document_version".into(),
                action: "delete",
                sql: format!("DELETE FROM document_version WHERE document_id IN ({list})"),
                binds: binds.clone(),
            },
            Statement {
                table: "document".into(),
                action: "delete",
                sql: format!("DELETE FROM document WHERE id IN ({list})"),
                binds,
            },
        ];
        step(db, register, tally, &statements, now, None).await?;
    }
}

/// Uploads the person had begun: the staging files or multipart uploads first, then the
/// intents.
async fn uploads(
    db: &Db,
    objects: &Objects,
    register: &Register,
    p: &Person,
    tally: &mut Tally,
    now: i64,
) -> Result<()> {
    let rows: Vec<(Uuid, String, Option<String>)> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT id, object_key, multipart_id FROM document_upload WHERE person_id = $1",
        )
        .bind(p.id)
        .fetch_all(pool)
        .await
    })?;
    if rows.is_empty() {
        return Ok(());
    }
    for (_, key, multipart) in &rows {
        objects.discard(key, multipart.as_deref()).await?;
    }
    let list = placeholders(1, rows.len());
    let statements = [Statement {
        table: "document_upload".into(),
        action: "delete",
        sql: format!("DELETE FROM document_upload WHERE id IN ({list})"),
        binds: rows.iter().map(|r| Bind::Id(r.0)).collect(),
    }];
    step(db, register, tally, &statements, now, None).await
}

/// The person's records in other tables (one transaction).
fn records(register: &Register, p: &Person, held: bool, as_of: OffsetDateTime) -> Vec<Statement> {
    let id = || vec![Bind::Id(p.id)];
    let email = || vec![Bind::Text(p.email_normalized.clone())];
    let pats = p.patterns();
    let mut out = vec![
        Statement {
            table: "login_throttle".into(),
            action: "delete",
            sql: "DELETE FROM login_throttle WHERE throttle_key = 'account:' || $1".into(),
            binds: email(),
        },
        Statement {
            table: "consent".into(),
            action: "withdraw",
            sql: "UPDATE consent SET withdrawn_at = $2, withdrawn_via = 'erasure' \
                  WHERE person_id = $1 AND withdrawn_at IS NULL"
                .into(),
            binds: vec![Bind::Id(p.id), Bind::Int(as_of.unix_timestamp())],
        },
    ];
    if held {
        return out;
    }
    let mut about = email();
    about.extend(pats.iter().cloned().map(Bind::Text));
    out.extend([
        Statement {
            table: "vehicle".into(),
            action: "delete",
            sql: "DELETE FROM vehicle WHERE person_id = $1".into(),
            binds: id(),
        },
        Statement {
            table: "outbox".into(),
            action: "delete",
            sql: "DELETE FROM outbox WHERE LOWER(recipient) = $1".into(),
            binds: email(),
        },
        Statement {
            table: "outbox".into(),
            action: "delete",
            sql: format!(
                "DELETE FROM outbox WHERE LOWER(recipient) <> $1 AND sent_at IS NOT NULL AND {}",
                names("payload", 2, pats.len())
            ),
            binds: about,
        },
        Statement {
            table: "privacy_hold".into(),
            action: "erase",
            sql: "UPDATE privacy_hold SET reason = '-' WHERE subject_type = 'person' \
                  AND subject_id = $1 AND lifted_at IS NOT NULL AND reason <> '-'"
                .into(),
            binds: id(),
        },
        Statement {
            table: "audit_log".into(),
            action: "erase",
            sql: "UPDATE audit_log SET actor_ip = NULL, actor_ip_salt = NULL WHERE actor_id = $1 \
                  AND hash_version >= 2 AND (actor_ip IS NOT NULL OR actor_ip_salt IS NOT NULL)"
                .into(),
            binds: vec![Bind::Text(p.id.hyphenated().to_string())],
        },
    ]);
    if !register
        .rules
        .iter()
        .any(|r| r.target == Target::WithdrawnConsents)
    {
        out.push(Statement {
            table: "consent".into(),
            action: "delete",
            sql: "DELETE FROM consent WHERE person_id = $1".into(),
            binds: id(),
        });
    }
    out
}

/// The end of the account, and (without a hold) the person's row anonymised under the
/// register's rule for people: the last step.
fn account(register: &Register, p: &Person, held: bool, as_of: OffsetDateTime) -> Vec<Statement> {
    let id = || vec![Bind::Id(p.id)];
    let (mut erase, replace) = anonymisation(register);
    if held {
        // Under a hold the vehicles stay with the person.
        erase.retain(|f| f != "licence_plates");
    }
    let st = anonymise::statements(&erase, &replace, 1);
    let now_ms = as_of.unix_timestamp().saturating_mul(1000);
    let mut out = vec![Statement {
        table: "access_revocation".into(),
        action: "insert",
        sql: "INSERT INTO access_revocation (session_id, not_after, recorded_ms) \
              SELECT id, $2, $3 FROM auth_session WHERE person_id = $1"
            .into(),
        binds: vec![
            Bind::Id(p.id),
            Bind::Int(SESSION_ENDED),
            Bind::Int(now_ms.max(0)),
        ],
    }];
    // The retention job's anonymisation deletes what lets someone act as the person; the
    // end of an account also removes their roles, rights and usage.
    for sql in st.deletes.iter().chain(
        [
            "DELETE FROM person_role WHERE person_id IN ($1)".to_owned(),
            "DELETE FROM person_right WHERE person_id IN ($1)".to_owned(),
            "DELETE FROM privacy_notice_seen WHERE person_id IN ($1)".to_owned(),
            "DELETE FROM upload_usage WHERE person_id IN ($1)".to_owned(),
        ]
        .iter(),
    ) {
        let table = sql.split_whitespace().nth(2).unwrap_or("-").to_owned();
        out.push(Statement {
            table,
            action: "delete",
            sql: sql.clone(),
            binds: id(),
        });
    }
    out.push(Statement {
        table: "person".into(),
        action: "deactivate",
        sql: "UPDATE person SET state = 'deactivated', password_hash = NULL WHERE id = $1 \
              AND (state <> 'deactivated' OR password_hash IS NOT NULL)"
            .into(),
        binds: id(),
    });
    if !held {
        let idtext = p.id.hyphenated().to_string();
        let mut binds = vec![Bind::Id(p.id), Bind::Int(as_of.unix_timestamp())];
        binds.extend(
            replace
                .iter()
                .map(|(_, v)| Bind::Text(v.replace("{id}", &idtext))),
        );
        out.push(Statement {
            table: "person".into(),
            action: "anonymise",
            sql: st.update,
            binds,
        });
    }
    out
}
