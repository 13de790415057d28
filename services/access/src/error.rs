//! What loading or checking a policy can answer.

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The policy files name something the code does not know, or cannot be read.
    #[error("{0}")]
    Policy(String),
}

pub type Result<T, E = AccessError> = std::result::Result<T, E>;
