//! The JSON API under `/api/v1`: problem+json errors, Bearer authentication.

pub mod auth;
pub mod backoffice;
pub mod consents;
pub mod directory;
pub mod documents;
pub mod duplicates;
pub mod error;
pub mod json;
pub mod openapi;
pub mod query;
pub mod restriction;
pub mod rights;
pub mod second_factor;
pub mod subject;
pub mod subprocessors;
pub mod words;

pub use auth::{Auth, Authenticated};

use std::sync::Arc;

use axum::extract::FromRef;
use extranet_directory::Directory;

/// What the API handlers share: authentication, and the directory (policy, scoping, masking).
#[derive(Clone)]
pub struct ApiState {
    pub auth: Arc<Auth>,
    pub directory: Arc<Directory>,
    pub documents: Arc<extranet_documents::Documents>,
    pub subprocessors: Arc<extranet_subprocessors::Subprocessors>,
    pub consents: Arc<extranet_privacy::Consents>,
    pub rights: Arc<extranet_rights::Rights>,
}

impl FromRef<ApiState> for Arc<extranet_documents::Documents> {
    fn from_ref(s: &ApiState) -> Arc<extranet_documents::Documents> {
        s.documents.clone()
    }
}

impl FromRef<ApiState> for Arc<Auth> {
    fn from_ref(s: &ApiState) -> Arc<Auth> {
        s.auth.clone()
    }
}

impl FromRef<ApiState> for Arc<Directory> {
    fn from_ref(s: &ApiState) -> Arc<Directory> {
        s.directory.clone()
    }
}
