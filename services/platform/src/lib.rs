//! Storage plumbing shared by every extranet service.
//!
//! - [`db`]: one SQL pool, SQLite (default) or PostgreSQL, with migrations for both;
//! - [`objects`]: the object store, local filesystem (default) or any S3-compatible service;
//! - [`sealed`]: secrets sealed at rest under a key-encryption key;
//! - [`clock`]: time as a parameter, so that deadlines and expiry can be tested.
//!
//! Nothing here knows about HTTP.

pub mod backup;
pub mod clock;
pub mod db;
pub mod error;
pub mod objects;
pub mod outage;
mod s3_uploads;
pub mod sealed;
pub mod settings;
pub mod transfer;

pub use clock::{Clock, FileClock, SystemClock};
pub use db::{Backend, Db, DbOptions};
pub use error::{PlatformError, Result};
pub use objects::{Objects, StorageOptions};
pub use transfer::ObjectWriter;
