//! Who may see what. The policy in `policies/` (casbin, RBAC with domains) decides which actions
//! a role may perform in which domain; the field grants decide which fields of each outward type
//! a role sees; everything else is denied and masked. Instance scoping — which records fall in a
//! caller's domains — is done by the queries (see `extranet-dossiers`), so that a list never
//! holds a record the caller may not see. No HTTP and no SQL here.

pub mod error;
pub mod fields;
pub mod grants;
pub mod invariants;
pub mod mask;
pub mod matrix;
pub mod policy;
pub mod roles;
pub mod views;
pub mod vocab;

pub use error::{AccessError, Result};
pub use fields::{FieldSet, Outward};
pub use grants::{Grants, Relation};
pub use mask::{Cell, Masked};
pub use policy::{Policy, PolicySource, Report};
pub use roles::RoleSet;
pub use views::{
    AssignmentView, DocumentAccessView, DocumentView, DossierView, NoticeView, ObjectionView,
    OrganisationView, PersonView, RightsEventView, RightsRequestView, SubprocessorView,
    VersionView,
};
pub use vocab::{Action, Domain, DomainSet, Resource};
