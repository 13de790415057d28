//! Certification documents. A document belongs to a dossier and has versions; each version's
//! bytes are one immutable object under a random key, streamed in from the request with its
//! size limit, SHA-256, type check (by the bytes) and optional malware scan applied on the way.
//!
//! Crash consistency: an upload first commits an intent (`document_upload`) naming its object
//! key, then writes the object with the store's multipart API (invisible until complete), then
//! publishes the version row and removes the intent in one transaction with its audit record.
//! Whatever is interrupted — the client, the server, the store — leaves at most an intent whose
//! leftovers the collector ([`collect`]) removes; no row ever points at a missing object.
//!
//! Who may do what is the policy's (`document.read|upload|delete|restore|access_log`,
//! `dossier.hold`), decided on the dossier's relation to the caller as the database holds it now.
//! No HTTP here.

pub mod access;
pub mod access_log;
pub mod collect;
pub mod error;
pub mod limits;
pub mod manage;
pub mod names;
pub mod read;
pub mod scan;
pub mod seed;
pub mod service;
pub mod sniff;
pub mod upload;

pub use error::{DocumentsError, Result};
pub use service::{Documents, Settings};

/// Pins the error type of a `write_tx!` block to this crate's (it cannot be inferred through
/// the macro's `?`).
pub(crate) fn tx<T>(r: Result<T>) -> Result<T> {
    r
}
