//! The JSON API under `/api/v1`: problem+json errors, Bearer authentication.

pub mod auth;
pub mod error;
pub mod json;
pub mod openapi;

pub use auth::{Auth, Authenticated};
