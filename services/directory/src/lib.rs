//! The records a caller may see: organisations, people, dossiers and assignments. Every query
//! takes the caller's [`Scope`] (from the policy) as parameters of its WHERE clause, so a list
//! never holds a row the caller may not see; every record leaves as an
//! [`extranet_access::Masked`] value; reads of other people's records, denials and every change
//! of roles, rights or assignments are written to the audit log. No HTTP here.

pub mod assignments;
pub mod caller;
pub mod delegation;
pub mod dossiers;
pub mod error;
pub mod organisations;
pub mod people;
pub mod seed;
pub mod service;

pub use caller::{Caller, Scope};
pub use error::{DirectoryError, Result};
pub use service::Directory;
