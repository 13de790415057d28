//! Group commit of stand-alone records (reads, denials, failed sign-ins): one appender per
//! database per process takes every record that is waiting when it starts a batch (at most
//! [`MAX_BATCH`]) and writes them in one transaction — the head row bumped once, the entries
//! chained in order, the head's hash moved once. While a batch commits the next one fills, so
//! batches grow with the load and a lone record waits for nobody.
//!
//! Each caller waits until its batch has committed: a record is durable before the answer it
//! records leaves. A batch that fails fails every caller in it. Records that belong to a change
//! stay in the change's transaction (`append_in`); both paths take the head row's lock, so the
//! chain never forks, with one instance or several.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use extranet_platform::Db;
use tokio::sync::{mpsc, oneshot};

use crate::append::AuditConn;
use crate::entry::{Entry, NewEntry};
use crate::error::{AuditError, Result};

/// The most records one transaction writes (bounds its time and the head row's lock).
pub const MAX_BATCH: usize = 256;

/// Records waiting for an appender; beyond, callers wait to hand theirs over.
const QUEUE: usize = 4096;

struct Job {
    entry: NewEntry,
    done: oneshot::Sender<Result<Entry>>,
}

#[derive(Clone)]
struct Appender {
    jobs: mpsc::Sender<Job>,
}

/// A database as the appenders know it: its write pool's identity.
fn key(db: &Db) -> usize {
    match db {
        Db::Sqlite(s) => Arc::as_ptr(&s.write.connect_options()) as usize,
        Db::Postgres(p) => Arc::as_ptr(&p.connect_options()) as usize,
    }
}

fn appenders() -> &'static Mutex<HashMap<usize, Appender>> {
    static APPENDERS: OnceLock<Mutex<HashMap<usize, Appender>>> = OnceLock::new();
    APPENDERS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The appender of `db`, started on first use (on the caller's runtime).
fn appender(db: &Db) -> Appender {
    let mut all = appenders().lock().unwrap_or_else(|p| p.into_inner());
    let k = key(db);
    if let Some(a) = all.get(&k).filter(|a| !a.jobs.is_closed()) {
        return a.clone();
    }
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(run(db.clone(), rx));
    let a = Appender { jobs: tx };
    all.insert(k, a.clone());
    a
}

/// Appends `entry` with whatever else is waiting, and returns it once committed.
pub(crate) async fn submit(db: &Db, entry: &NewEntry) -> Result<Entry> {
    // Refused entries never reach a batch (they would fail the others).
    entry.validate()?;
    let (done, answer) = oneshot::channel();
    let job = Job {
        entry: entry.clone(),
        done,
    };
    appender(db)
        .jobs
        .send(job)
        .await
        .map_err(|_| AuditError::Damaged("the audit appender stopped".into()))?;
    answer
        .await
        .map_err(|_| AuditError::Damaged("the audit appender stopped".into()))?
}

async fn run(db: Db, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let entries: Vec<&NewEntry> = batch.iter().map(|j| &j.entry).collect();
        let res: Result<Vec<Entry>> =
            extranet_platform::write_tx!(&db, |tx| async { tx.append_entries(&entries).await }
                .await)
            .await;
        match res {
            Ok(written) => {
                // How well batching works under load shows in `/metrics`: records ÷ batches.
                metrics::counter!("audit_batches_total").increment(1);
                metrics::counter!("audit_batched_records_total").increment(written.len() as u64);
                for (job, e) in batch.into_iter().zip(written) {
                    let _ = job.done.send(Ok(e));
                }
            }
            Err(e) => {
                let why = e.to_string();
                tracing::error!(records = batch.len(), error = %why, "an audit batch failed");
                for job in batch {
                    let _ = job.done.send(Err(AuditError::Damaged(format!(
                        "the batch this record was in failed: {why}"
                    ))));
                }
            }
        }
    }
}
