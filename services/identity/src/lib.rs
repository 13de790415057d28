//! Identity: who people and organisations are, and how they prove it.
//!
//! Input is parsed into these types at the edge ("parse, don't validate"), so that an invalid
//! enterprise number, e-mail address or language cannot exist past a handler.

pub mod password;
pub mod types;

pub use types::{EmailAddress, EnterpriseNumber, Gender, Language, LicencePlate, VatNumber};
