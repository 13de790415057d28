//! Checking the chain.

use std::fmt;

use extranet_platform::Db;
use sqlx::{FromRow, Row};
use uuid::Uuid;

use crate::error::Result;
use crate::hash::{GENESIS_HASH, entry_hash};
use crate::sql::StoredRow;

/// Entries read per query: the log is walked in pages, never loaded whole.
const PAGE: i64 = 1000;

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyReport {
    /// Every entry from 1 to the head is present, unchanged and in place. `head_hash` is worth
    /// recording outside the database: a later log must still contain it at entry `entries`.
    Ok { entries: i64, head_hash: String },
    /// The first problem found, in `seq` order.
    Broken(Problem),
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        matches!(self, VerifyReport::Ok { .. })
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            VerifyReport::Ok { .. } => None,
            VerifyReport::Broken(p) => Some(p),
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyReport::Ok { entries, .. } => write!(f, "audit log intact: {entries} entries"),
            VerifyReport::Broken(p) => write!(f, "audit log tampered with: {p}"),
        }
    }
}

/// What is wrong with the log, naming the entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Its hash does not match its content.
    Edited {
        seq: i64,
        id: Uuid,
    },
    /// A stored value can no longer be read (e.g. an id that is not a UUID).
    Unreadable {
        seq: i64,
        reason: String,
    },
    /// Entries `seq` to `next - 1` are missing: the log jumps to `next`.
    Deleted {
        seq: i64,
        next: i64,
    },
    /// The log ends before the head: entries `seq` to `head_seq` are missing.
    Truncated {
        seq: i64,
        head_seq: i64,
    },
    /// Its `prev_hash` is not the previous entry's hash: entries were reordered or swapped, or
    /// the previous entry was rewritten together with its hash.
    Reordered {
        seq: i64,
        id: Uuid,
    },
    /// Not written by an append: numbered out of sequence, or beyond the head.
    Inserted {
        seq: i64,
        id: Uuid,
    },
    /// The head's hash is not the last entry's: the head or that entry was rewritten.
    HeadMismatch {
        seq: i64,
    },
    HeadMissing,
    /// The log ends at `entries` but a checkpoint recorded `checkpoint` entries: everything after
    /// `entries` was removed and the head rewound (invisible to the chain alone).
    BeforeCheckpoint {
        entries: i64,
        checkpoint: i64,
    },
    /// Entry `seq` is not the one the checkpoint recorded: the log was rewritten up to it.
    CheckpointMismatch {
        seq: i64,
    },
}

impl Problem {
    /// The number of the first entry concerned (0 when the head row itself is missing).
    pub fn seq(&self) -> i64 {
        match self {
            Problem::Edited { seq, .. }
            | Problem::Unreadable { seq, .. }
            | Problem::Deleted { seq, .. }
            | Problem::Truncated { seq, .. }
            | Problem::Reordered { seq, .. }
            | Problem::Inserted { seq, .. }
            | Problem::HeadMismatch { seq }
            | Problem::CheckpointMismatch { seq } => *seq,
            Problem::BeforeCheckpoint { entries, .. } => entries + 1,
            Problem::HeadMissing => 0,
        }
    }

    /// The id of the entry found at [`Problem::seq`], when there is one.
    pub fn id(&self) -> Option<Uuid> {
        match self {
            Problem::Edited { id, .. }
            | Problem::Reordered { id, .. }
            | Problem::Inserted { id, .. } => Some(*id),
            _ => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Edited { seq, id } => write!(
                f,
                "entry {seq} (id {id}) was edited: its hash does not match its content"
            ),
            Problem::Unreadable { seq, reason } => write!(
                f,
                "entry {seq} was edited: a stored value cannot be read ({reason})"
            ),
            Problem::Deleted { seq, next } if next - seq == 1 => write!(
                f,
                "entry {seq} was deleted: the log goes on at entry {next}"
            ),
            Problem::Deleted { seq, next } => write!(
                f,
                "entries {seq} to {} were deleted: the log goes on at entry {next}",
                next - 1
            ),
            Problem::Truncated { seq, head_seq } if seq == head_seq => write!(
                f,
                "entry {seq} was deleted: the log ends before it but its head records {head_seq} entries"
            ),
            Problem::Truncated { seq, head_seq } => write!(
                f,
                "entries {seq} to {head_seq} were deleted: the log ends before them but its head records {head_seq} entries"
            ),
            Problem::Reordered { seq, id } => write!(
                f,
                "entry {seq} (id {id}) is out of place: it does not link to entry {} (entries were reordered or swapped, or that one rewritten)",
                seq - 1
            ),
            Problem::Inserted { seq, id } => write!(
                f,
                "entry {seq} (id {id}) was inserted outside the log: it is numbered out of sequence or beyond the head"
            ),
            Problem::HeadMismatch { seq } => write!(
                f,
                "the head does not match entry {seq}, the last one: the head or that entry was rewritten"
            ),
            Problem::HeadMissing => f.write_str("the head row (audit_head) is missing"),
            Problem::BeforeCheckpoint {
                entries,
                checkpoint,
            } => write!(
                f,
                "entries {} to {checkpoint} are missing: the log ends at entry {entries} but a \
                 checkpoint recorded {checkpoint} (the log was truncated and its head rewound)",
                entries + 1
            ),
            Problem::CheckpointMismatch { seq } => write!(
                f,
                "entry {seq} is not the one the checkpoint recorded: the log was rewritten up to it"
            ),
        }
    }
}

const PAGE_SQL: &str = concat!(
    "SELECT ",
    crate::sql::columns!(),
    " FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
);

/// Walks the log from entry 1 to the head, recomputing every hash. Entries appended while this
/// runs (beyond the head read first) are left for the next run.
pub async fn verify(db: &Db) -> Result<VerifyReport> {
    let report = walk(db).await?;
    match &report {
        VerifyReport::Ok { entries, .. } => tracing::debug!(entries, "audit log verified"),
        VerifyReport::Broken(problem) => tracing::warn!(%problem, "audit log tampered with"),
    }
    Ok(report)
}

async fn walk(db: &Db) -> Result<VerifyReport> {
    let head: Option<(i64, String)> = extranet_platform::on_pool!(db, read, |pool| {
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(pool)
            .await
    })?;
    let Some((head_seq, head_hash)) = head else {
        return Ok(VerifyReport::Broken(Problem::HeadMissing));
    };

    let mut last_seq = 0;
    let mut last_hash = GENESIS_HASH.to_owned();
    // Starts below 1 so that rows numbered 0 or less are seen (and reported) too.
    let mut cursor = i64::MIN;
    loop {
        // Rows are decoded one by one: one unreadable row is a finding, not an error.
        let page: Vec<(Option<i64>, Result<StoredRow, sqlx::Error>)> =
            extranet_platform::on_pool!(db, read, |pool| {
                sqlx::query(PAGE_SQL)
                    .bind(cursor)
                    .bind(head_seq)
                    .bind(PAGE)
                    .fetch_all(pool)
                    .await
                    .map(|rows| {
                        rows.iter()
                            .map(|r| (r.try_get::<i64, _>("seq").ok(), StoredRow::from_row(r)))
                            .collect()
                    })
            })?;
        if page.is_empty() {
            break;
        }
        for (seq, row) in page {
            let expected = last_seq + 1;
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    return Ok(VerifyReport::Broken(Problem::Unreadable {
                        seq: seq.unwrap_or(expected),
                        reason: extranet_platform::error::concise(&e),
                    }));
                }
            };
            if let Some(problem) = check(&row, expected, &last_hash)? {
                return Ok(VerifyReport::Broken(problem));
            }
            cursor = row.seq;
            last_seq = row.seq;
            last_hash = row.hash;
        }
    }

    if last_seq < head_seq {
        return Ok(VerifyReport::Broken(Problem::Truncated {
            seq: last_seq + 1,
            head_seq,
        }));
    }
    if last_hash != head_hash {
        return Ok(VerifyReport::Broken(Problem::HeadMismatch {
            seq: last_seq,
        }));
    }
    // One statement, so that an append committing meanwhile moves head and row together.
    let beyond: Option<(i64, Uuid)> = extranet_platform::on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT seq, id FROM audit_log \
             WHERE seq > (SELECT seq FROM audit_head WHERE id = 1) ORDER BY seq LIMIT 1",
        )
        .fetch_optional(pool)
        .await
    })?;
    if let Some((seq, id)) = beyond {
        return Ok(VerifyReport::Broken(Problem::Inserted { seq, id }));
    }
    Ok(VerifyReport::Ok {
        entries: last_seq,
        head_hash,
    })
}

/// As [`verify`], and the log still holds entry `seq` with `hash`, as a checkpoint recorded it
/// (signed, and kept outside the database): a log truncated and rewound after the checkpoint,
/// which the chain alone cannot tell, fails here with the first missing entry named.
pub async fn verify_checkpoint(db: &Db, seq: i64, hash: &str) -> Result<VerifyReport> {
    let report = verify(db).await?;
    let VerifyReport::Ok { entries, .. } = &report else {
        return Ok(report);
    };
    if *entries < seq {
        return Ok(VerifyReport::Broken(Problem::BeforeCheckpoint {
            entries: *entries,
            checkpoint: seq,
        }));
    }
    let at: Option<String> = extranet_platform::on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1")
            .bind(seq)
            .fetch_optional(pool)
            .await
    })?;
    if at.as_deref() != Some(hash) {
        return Ok(VerifyReport::Broken(Problem::CheckpointMismatch { seq }));
    }
    Ok(report)
}

/// The head as it is now: (number of entries, last hash), for a checkpoint.
pub async fn head(db: &Db) -> Result<(i64, String)> {
    let head: Option<(i64, String)> = extranet_platform::on_pool!(db, read, |pool| {
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(pool)
            .await
    })?;
    head.ok_or_else(|| crate::AuditError::Damaged("the audit_head row is missing".into()))
}

/// Numbering first (a gap is a deletion), then the link (a row that is intact but elsewhere is
/// a move), then the row's own hash (an edit).
fn check(row: &StoredRow, expected: i64, prev_hash: &str) -> Result<Option<Problem>> {
    let (seq, id) = (row.seq, row.id);
    if seq > expected {
        return Ok(Some(Problem::Deleted {
            seq: expected,
            next: seq,
        }));
    }
    if seq < expected {
        return Ok(Some(Problem::Inserted { seq, id }));
    }
    if row.prev_hash != prev_hash {
        return Ok(Some(Problem::Reordered { seq, id }));
    }
    if entry_hash(&row.prev_hash, &row.fields())? != row.hash || !row.address_matches() {
        return Ok(Some(Problem::Edited { seq, id }));
    }
    Ok(None)
}
