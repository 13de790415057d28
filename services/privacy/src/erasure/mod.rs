//! Erasure of one person (GDPR Art. 17): every row and object about them is deleted or
//! anonymised, except what a retention rule or a legal hold requires to keep; the answer says
//! what was erased, and for what is kept: where, on which ground, and until when.
//!
//! [`plan`] reads what would happen and changes nothing; [`run`] carries it out in steps, each
//! step one transaction that also adds its counts to the erasure's row (`erasure_run`). Objects
//! go before their rows, as the retention job's deleted documents do: a kill -9 in between
//! leaves rows whose objects are gone, which the next run (a re-run, or [`resume_unfinished`])
//! deletes; never an object without its row. The person's own row is anonymised last, in the
//! transaction that finishes the erasure and writes its audit record (counts only), so until
//! then the person is still found by their e-mail address and the erasure can be re-run.

mod audit;
mod plan;
mod run;
mod sql;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use plan::plan;
pub use run::{finished_since, resume_unfinished, run};

/// What an erasure deletes, anonymises or empties in one table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Erased {
    pub table: String,
    /// The columns holding personal data (the register's schema map), or the fields the rule
    /// anonymises.
    pub columns: Vec<String>,
    /// `delete`, `anonymise` (fields emptied or replaced), `erase` (a column emptied) or
    /// `withdraw` (a consent withdrawn; its proof is kept, see the kept places).
    pub action: String,
    pub rows: u64,
    /// Objects in storage removed with the rows.
    pub objects: u64,
}

/// Why something is kept.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ground {
    /// A rule of the retention schedule (`retention.toml`).
    Rule { rule: String, trigger: String },
    /// A legal hold: a `privacy_hold` on the person or organisation (`hold` its id), or a
    /// dossier's `legal_hold` (`hold` absent, `subject` the dossier).
    Hold {
        on: String,
        subject: Uuid,
        hold: Option<Uuid>,
    },
    /// A processing activity of the register whose basis requires the record as it is.
    Activity { activity: String, reason: String },
}

/// Something about the person that stays.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Kept {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: u64,
    /// Keys of the objects kept with the rows.
    pub objects: Vec<String>,
    pub ground: Ground,
    /// When it goes: a date (RFC 3339) from the rule, or the rule's words, or "while the hold
    /// lasts".
    pub until: String,
    /// The kept columns (or objects) name the person directly (name, e-mail, phone…), as
    /// opposed to only referring to their pseudonymous id.
    pub identifying: bool,
}

/// What [`plan`] finds.
#[derive(Debug, Clone, Serialize)]
pub struct ErasurePlan {
    pub person: Uuid,
    pub as_of: String,
    pub erase: Vec<Erased>,
    pub keep: Vec<Kept>,
}

/// What [`run`] did.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureOutcome {
    pub erasure: Uuid,
    pub person: Uuid,
    pub as_of: String,
    /// An interrupted erasure was finished.
    pub resumed: bool,
    pub erased: Vec<Erased>,
    pub kept: Vec<Kept>,
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
