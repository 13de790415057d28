//! Privacy by the register: the processing register kept in `policies/register/` (activities,
//! retention schedule, the map from the schema to data categories), checked as a whole; the
//! record of processing activities it exports (GDPR Art. 30); the service holding the register
//! in force.
//!
//! Nothing here knows about HTTP.

pub mod consent;
pub mod erasure;
pub mod error;
pub mod export;
pub mod newsletter;
pub mod notice;
pub mod register;
pub mod retention;
pub mod service;
pub mod subject;

pub use consent::{ConsentSettings, Consents};
pub use error::{PrivacyError, Result};
pub use register::{Context, Problem, Register, RegisterSource};
pub use service::{ErasureJournal, Privacy, Settings};
