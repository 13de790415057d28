//! Identity: who people and organisations are, and how they prove it.
//!
//! Input is parsed into these types at the edge ("parse, don't validate"), so that an invalid
//! enterprise number, e-mail address or language cannot exist past a handler.

pub mod admins;
pub mod auth;
pub mod confirmation;
pub mod error;
pub mod factor;
pub mod model;
pub mod onetime;
pub mod organisations;
pub mod password;
pub mod recovery;
pub mod revocation;
pub mod sessions;
pub mod store;
pub mod throttle;
pub mod tokens;
pub mod types;
pub mod verified;

pub use error::{IdentityError, Result};
pub use model::{
    AccountState, NewOrganisation, NewPerson, Organisation, OrganisationKind, Person, Role,
};
pub use types::{EmailAddress, EnterpriseNumber, Gender, Language, LicencePlate, VatNumber};
