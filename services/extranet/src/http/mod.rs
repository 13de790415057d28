//! The HTTP layers every response passes through, and the one place where errors become
//! responses.

pub mod body;
pub mod edge;
pub mod errors;
pub mod metrics;
pub mod security;
