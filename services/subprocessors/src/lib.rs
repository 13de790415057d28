//! Subprocessors: the companies that process personal data on the certification body's behalf.
//! The register keeps every change ([`register`]: the list now, as of any date, each entry's
//! history); changes are announced by notices with a notice period ([`notices`]), mailed to the
//! client companies through the outbox in the transaction that publishes them; companies object
//! while the window is open and the privacy coordinator decides each objection on the record
//! ([`objections`]); [`apply`] applies a notice once on its date. Entries use the words of
//! `policies/` ([`vocabulary`]) and keep the EEA rule ([`entry`]). No HTTP here.

pub mod apply;
pub mod entry;
pub mod error;
pub mod notices;
pub mod objections;
pub mod register;
pub mod rich_text;
pub mod seed;
pub mod service;
mod store;
pub mod subscriptions;
pub mod time_util;
pub mod vocabulary;

pub use error::{Result, SubprocessorsError};
pub use register::{Listing, Reader};
pub use service::{OnOpenObjections, Settings, Subprocessors};

/// Pins the error type of a `write_tx!` block to this crate's (it cannot be inferred through
/// the macro's `?`).
pub(crate) fn tx<T>(r: Result<T>) -> Result<T> {
    r
}
