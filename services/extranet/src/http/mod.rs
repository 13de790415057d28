//! The HTTP layers every response passes through, and the one place where errors become
//! responses.

pub mod errors;
pub mod metrics;
pub mod respond;
pub mod security;
