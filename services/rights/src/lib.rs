//! Data subjects' rights requests (GDPR Art. 12–22): filed by a signed-in person or, without an
//! account, by an e-mail address confirmed through a single-use link; numbered, dated and due
//! one calendar month after receipt (`due`), with a receipt signed by a key published at
//! `/.well-known/jwks.json` (`receipt`); worked by the privacy coordinator step by step —
//! assigned, commented, an identity check, extended once by at most two months with a reason,
//! closed with the outcome and, where something is refused, its legal ground (`workflow`) —
//! every step mailed to the requester in their language and recorded in the audit log;
//! reminders before the due date and once overdue (`reminders`); each right carried out by
//! the system that holds the data (`fulfil`).
//!
//! Nothing here knows about HTTP.

pub mod due;
pub mod error;
pub mod filing;
pub mod fulfil;
pub mod model;
pub mod receipt;
pub mod reminders;
pub mod service;
pub mod store;
pub mod workflow;

pub use error::{Result, RightsError};
pub use fulfil::{CarryOut, Done, Fulfilment};
pub use service::{Rights, Settings, Who};
