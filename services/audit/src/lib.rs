//! The audit log: who did what, to what, when and with which outcome — append-only and
//! tamper-evident.
//!
//! Each entry's hash covers its content and the previous entry's hash ([`hash`]); a one-row head
//! (`audit_head`) holds the last entry's number and hash. [`verify()`] walks the chain and names
//! the first entry that was edited, deleted, inserted or moved. This detects changes made to the
//! database behind the application's back, unless whoever made them also rewrote every later
//! hash and the head: the chain is not a signature. Recording the head elsewhere from time to
//! time (see [`verify::VerifyReport`]) anchors it.
//!
//! Entries are written with [`append()`] (stand-alone records: group-committed with the others
//! waiting at the same moment, returning once durable) or [`append_in()`] (inside the caller's
//! transaction, so that the record commits or rolls back with the change it records).
//! `detail` is JSON for context (a reason, a changed field's name); it must never hold secrets.

pub mod append;
mod batch;
pub mod checkpoint;
pub mod entry;
pub mod erase;
pub mod error;
pub mod hash;
pub mod search;
mod sql;
pub mod verify;

pub use append::{AuditConn, append, append_in};
pub use batch::MAX_BATCH;
pub use entry::{Entry, NewEntry, Outcome};
pub use error::{AuditError, Result};
pub use hash::GENESIS_HASH;
pub use search::{Filter, search};
pub use verify::{Problem, VerifyReport, head, verify, verify_checkpoint};
