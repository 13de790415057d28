//! How each kind of record is found past its rule, counted, and deleted or anonymised.
//!
//! Every target is a table with a key, a condition on the trigger's time (`$1`, the cut-off)
//! and, where a legal hold can cover the record, the hold's condition. Batches walk the key in
//! order (a cursor, so one run reads the table once), take the keys first and then delete by
//! key, children before parents, in one transaction with the run's counts.

use extranet_platform::{Db, on_pool, write_tx};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{PrivacyError, Result};
use crate::register::Target;

/// A hold on the person `{p}` or on their organisation.
pub(crate) fn person_held(p: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM privacy_hold h WHERE h.lifted_at IS NULL AND \
         ((h.subject_type = 'person' AND h.subject_id = {p}) OR \
          (h.subject_type = 'organisation' AND h.subject_id = \
             (SELECT hp.organisation_id FROM person hp WHERE hp.id = {p}))))"
    )
}

/// A hold on the dossier `{d}` (its legal hold) or on its organisation.
pub(crate) fn dossier_held(d: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM dossier hd WHERE hd.id = {d} AND (hd.legal_hold OR EXISTS \
           (SELECT 1 FROM privacy_hold h WHERE h.lifted_at IS NULL AND \
            h.subject_type = 'organisation' AND h.subject_id = hd.organisation_id)))"
    )
}

/// How the cut-off is bound: most tables keep times as timestamps, the newer ones as Unix
/// seconds, and a certificate's end is a date.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cut {
    Time(OffsetDateTime),
    Unix(i64),
    Date(time::Date),
}

macro_rules! bind_cut {
    ($q:expr, $cut:expr) => {
        match $cut {
            Cut::Time(t) => $q.bind(t),
            Cut::Unix(u) => $q.bind(u),
            Cut::Date(d) => $q.bind(d),
        }
    };
}

/// A key, as the table has it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    Id(Uuid),
    Text(String),
}

macro_rules! bind_key {
    ($q:expr, $key:expr) => {
        match $key {
            Key::Id(u) => $q.bind(*u),
            Key::Text(t) => $q.bind(t.clone()),
        }
    };
}

/// One table of a target.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// `table alias`.
    pub from: &'static str,
    /// The key column, qualified by the alias.
    pub key: &'static str,
    pub text_key: bool,
    /// The condition on the cut-off `$1`.
    pub due: String,
    /// The hold's condition, where a hold can cover the record.
    pub held: Option<String>,
    /// The hold is one on a person or company only (no dossier's legal hold).
    pub person_hold: bool,
    /// What goes first, as `DELETE FROM {table} WHERE {column} IN (keys)`.
    pub children: &'static [(&'static str, &'static str)],
    /// The table and key column the record itself is deleted from.
    pub table: &'static str,
    pub table_key: &'static str,
    /// Documents: their versions' objects are removed before the rows.
    pub documents: bool,
}

/// The tables a target covers, and how its cut-off is bound.
pub(crate) fn sources(target: Target, cutoff: OffsetDateTime) -> (Vec<Source>, Cut) {
    let time = Cut::Time(cutoff);
    let doc_children: &'static [(&'static str, &'static str)] =
        &[("document_version", "document_id")];
    match target {
        Target::Sessions => (
            vec![Source {
                from: "auth_session s",
                key: "s.id",
                text_key: false,
                due: "(s.revoked_at < $1 OR s.absolute_expires_at < $1)".into(),
                person_hold: true,
                held: Some(person_held("s.person_id")),
                children: &[("refresh_token", "session_id")],
                table: "auth_session",
                table_key: "id",
                documents: false,
            }],
            time,
        ),
        Target::OneTimeLinks => (
            vec![
                Source {
                    from: "one_time_token t",
                    key: "t.token_hash",
                    text_key: true,
                    due: "COALESCE(t.used_at, t.expires_at) < $1".into(),
                    person_hold: true,
                    held: Some(person_held("t.person_id")),
                    children: &[],
                    table: "one_time_token",
                    table_key: "token_hash",
                    documents: false,
                },
                Source {
                    from: "sign_in_challenge t",
                    key: "t.token_hash",
                    text_key: true,
                    due: "COALESCE(t.used_at, t.expires_at) < $1".into(),
                    person_hold: true,
                    held: Some(person_held("t.person_id")),
                    children: &[],
                    table: "sign_in_challenge",
                    table_key: "token_hash",
                    documents: false,
                },
            ],
            time,
        ),
        Target::SignInFailures => (
            vec![Source {
                from: "login_throttle t",
                key: "t.throttle_key",
                text_key: true,
                due: "(t.last_failure_at < $1 AND t.blocked_until < $1)".into(),
                held: None,
                person_hold: false,
                children: &[],
                table: "login_throttle",
                table_key: "throttle_key",
                documents: false,
            }],
            time,
        ),
        Target::DeliveredMail => (
            vec![Source {
                from: "outbox o",
                key: "o.id",
                text_key: false,
                due: "o.sent_at < $1".into(),
                held: None,
                person_hold: false,
                children: &[],
                table: "outbox",
                table_key: "id",
                documents: false,
            }],
            time,
        ),
        Target::DeletedDocuments => (
            vec![Source {
                from: "document d",
                key: "d.id",
                text_key: false,
                due: "d.deleted_at < $1".into(),
                person_hold: false,
                held: Some(dossier_held("d.dossier_id")),
                children: doc_children,
                table: "document",
                table_key: "id",
                documents: true,
            }],
            time,
        ),
        Target::EndedCertifications => (
            vec![Source {
                from: "document d",
                key: "d.id",
                text_key: false,
                due: "EXISTS (SELECT 1 FROM dossier e WHERE e.id = d.dossier_id AND \
                      e.status IN ('withdrawn', 'expired') AND e.valid_until < $1)"
                    .into(),
                person_hold: false,
                held: Some(dossier_held("d.dossier_id")),
                children: doc_children,
                table: "document",
                table_key: "id",
                documents: true,
            }],
            Cut::Date(cutoff.date()),
        ),
        Target::RightsRequests => (
            vec![Source {
                from: "rights_request r",
                key: "r.id",
                text_key: false,
                due: "r.closed_at < $1".into(),
                person_hold: true,
                held: Some(person_held("r.person_id")),
                children: &[("rights_request_event", "request_id")],
                table: "rights_request",
                table_key: "id",
                documents: false,
            }],
            Cut::Unix(cutoff.unix_timestamp()),
        ),
        Target::UnconfirmedRequests => (
            vec![Source {
                from: "rights_request r",
                key: "r.id",
                text_key: false,
                due: "(r.state = 'unconfirmed' AND r.confirm_expires < $1)".into(),
                person_hold: false,
                held: None,
                children: &[("rights_request_event", "request_id")],
                table: "rights_request",
                table_key: "id",
                documents: false,
            }],
            Cut::Unix(cutoff.unix_timestamp()),
        ),
        Target::WithdrawnConsents => (
            vec![Source {
                from: "consent c",
                key: "c.id",
                text_key: false,
                due: "c.withdrawn_at < $1".into(),
                person_hold: true,
                held: Some(person_held("c.person_id")),
                children: &[],
                table: "consent",
                table_key: "id",
                documents: false,
            }],
            Cut::Unix(cutoff.unix_timestamp()),
        ),
        Target::DeactivatedPeople => (
            vec![Source {
                from: "person p",
                key: "p.id",
                text_key: false,
                due: "(p.state = 'deactivated' AND p.updated_at < $1 AND p.anonymised_at IS NULL)"
                    .into(),
                person_hold: true,
                held: Some(person_held("p.id")),
                children: &[],
                table: "person",
                table_key: "id",
                documents: false,
            }],
            time,
        ),
        Target::EndedClients => (
            vec![Source {
                from: "person p",
                key: "p.id",
                text_key: false,
                due: "(p.anonymised_at IS NULL AND EXISTS (SELECT 1 FROM organisation eo \
                      WHERE eo.id = p.organisation_id AND NOT eo.active AND eo.updated_at < $1))"
                    .into(),
                person_hold: true,
                held: Some(person_held("p.id")),
                children: &[],
                table: "person",
                table_key: "id",
                documents: false,
            }],
            time,
        ),
        // Counted and erased by the audit crate; external records are not here.
        Target::AuditAddresses | Target::External => (Vec::new(), time),
    }
}

/// (due, held) records of one source.
pub(crate) async fn count(db: &Db, s: &Source, cut: Cut) -> Result<(u64, u64)> {
    let held = s.held.clone().unwrap_or_else(|| "1 = 0".into());
    let sql = format!(
        "SELECT COALESCE(SUM(CASE WHEN {held} THEN 0 ELSE 1 END), 0), \
                COALESCE(SUM(CASE WHEN {held} THEN 1 ELSE 0 END), 0) \
         FROM {} WHERE {}",
        s.from, s.due
    );
    let (due, kept): (i64, i64) = on_pool!(db, read, |pool| {
        let q = sqlx::query_as(AssertSqlSafe(sql.clone()));
        bind_cut!(q, cut).fetch_one(pool).await
    })?;
    Ok((due.max(0) as u64, kept.max(0) as u64))
}

/// The next batch of due, unheld keys.
pub(crate) async fn next_keys(db: &Db, s: &Source, cut: Cut, batch: usize) -> Result<Vec<Key>> {
    let held = s
        .held
        .as_ref()
        .map(|h| format!(" AND NOT {h}"))
        .unwrap_or_default();
    let sql = format!(
        "SELECT {key} FROM {from} WHERE {due}{held} LIMIT {batch}",
        key = s.key,
        from = s.from,
        due = s.due,
    );
    let keys = if s.text_key {
        let rows: Vec<(String,)> = on_pool!(db, read, |pool| {
            let q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            bind_cut!(q, cut).fetch_all(pool).await
        })?;
        rows.into_iter().map(|(k,)| Key::Text(k)).collect()
    } else {
        let rows: Vec<(Uuid,)> = on_pool!(db, read, |pool| {
            let q = sqlx::query_as(AssertSqlSafe(sql.clone()));
            bind_cut!(q, cut).fetch_all(pool).await
        })?;
        rows.into_iter().map(|(k,)| Key::Id(k)).collect()
    };
    Ok(keys)
}

/// Takes the next `batch` keys still due and deletes them (children first) in one write
/// transaction: for records without objects, nothing has to happen between choosing and
/// deleting, and on SQLite reading the keys on the writer keeps the run off the readers'
/// snapshots, which would hold back WAL checkpoints while a million rows go. 0: none left.
pub(crate) async fn take_and_delete(
    db: &Db,
    s: &Source,
    cut: Cut,
    batch: usize,
    progress: &Progress<'_>,
) -> Result<u64> {
    let held = s
        .held
        .as_ref()
        .map(|h| format!(" AND NOT {h}"))
        .unwrap_or_default();
    let select = format!(
        "SELECT {key} FROM {from} WHERE {due}{held} LIMIT {batch}",
        key = s.key,
        from = s.from,
        due = s.due,
    );
    let done: std::result::Result<u64, PrivacyError> = write_tx!(db, |tx| async {
        let keys: Vec<Key> = if s.text_key {
            let q = sqlx::query_as::<_, (String,)>(AssertSqlSafe(select.clone()));
            bind_cut!(q, cut)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(k,)| Key::Text(k))
                .collect()
        } else {
            let q = sqlx::query_as::<_, (Uuid,)>(AssertSqlSafe(select.clone()));
            bind_cut!(q, cut)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(|(k,)| Key::Id(k))
                .collect()
        };
        if keys.is_empty() {
            return Ok::<u64, PrivacyError>(0);
        }
        let list = placeholders(1, keys.len());
        let mut n = 0;
        let children = s.children.iter().map(|(table, column)| (*table, *column));
        for (i, (table, column)) in children
            .chain(std::iter::once((s.table, s.table_key)))
            .enumerate()
        {
            let sql = format!("DELETE FROM {table} WHERE {column} IN ({list})");
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for k in &keys {
                q = bind_key!(q, k);
            }
            let res = q.execute(&mut *tx).await?;
            if i == s.children.len() {
                n = res.rows_affected();
            }
        }
        progress.record_in(&mut *tx, n).await?;
        Ok::<u64, PrivacyError>(n)
    }
    .await)
    .await;
    done
}

/// `$first, $first+1, …` for `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The objects of these documents' versions.
pub(crate) async fn object_keys(db: &Db, documents: &[Key]) -> Result<Vec<String>> {
    if documents.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT object_key FROM document_version WHERE document_id IN ({})",
        placeholders(1, documents.len())
    );
    let rows: Vec<(String,)> = on_pool!(db, read, |pool| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql.clone()));
        for k in documents {
            q = bind_key!(q, k);
        }
        q.fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

/// Deletes the records (children first) and records the run's progress, in one transaction;
/// returns how many records went (those another runner took already are not counted).
pub(crate) async fn delete_batch(
    db: &Db,
    s: &Source,
    keys: &[Key],
    progress: &Progress<'_>,
) -> Result<u64> {
    let list = placeholders(1, keys.len());
    let mut statements: Vec<String> = s
        .children
        .iter()
        .map(|(table, column)| format!("DELETE FROM {table} WHERE {column} IN ({list})"))
        .collect();
    let main = format!("DELETE FROM {} WHERE {} IN ({list})", s.table, s.table_key);
    statements.push(main);
    let last = statements.len() - 1;
    let done: std::result::Result<u64, PrivacyError> = write_tx!(db, |tx| async {
        let mut n = 0;
        for (i, sql) in statements.iter().enumerate() {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for k in keys {
                q = bind_key!(q, k);
            }
            let res = q.execute(&mut *tx).await?;
            if i == last {
                n = res.rows_affected();
            }
        }
        progress.record_in(&mut *tx, n).await?;
        Ok::<u64, PrivacyError>(n)
    }
    .await)
    .await;
    done
}

/// What a batch writes to its run row, in the batch's own transaction: the rule's count so
/// far and a heartbeat.
pub(crate) struct Progress<'a> {
    pub run: Uuid,
    pub rule: &'a str,
    pub counts: &'a std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    pub now: i64,
}

impl Progress<'_> {
    /// The counts with this batch's `n` added, as JSON.
    fn counts_after(&self, n: u64) -> String {
        let mut map = self.counts.lock().map(|m| m.clone()).unwrap_or_default();
        *map.entry(self.rule.to_owned()).or_default() += n;
        serde_json::to_string(&map).unwrap_or_else(|_| "{}".into())
    }

    /// Adds `n` to the rule's count once the transaction commits (the caller calls
    /// [`Progress::commit`] after).
    pub(crate) async fn record_in<C>(&self, conn: &mut C, n: u64) -> Result<()>
    where
        C: crate::retention::RunConn + ?Sized,
    {
        conn.set_progress(self.run, &self.counts_after(n), self.now)
            .await
    }

    pub(crate) fn commit(&self, n: u64) {
        if let Ok(mut map) = self.counts.lock() {
            *map.entry(self.rule.to_owned()).or_default() += n;
        }
    }
}
