//! What loading or checking a policy can answer.

#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The policy files name something the code does not know, or cannot be read.
    #[error("{0}")]
    Policy(String),
    /// The model answers questions that every correct model answers "denied" with "allowed"
    /// (see `invariants`): each entry names the invariant and the question.
    #[error("{origin}: model.conf is refused: {}{}", broken.first().map(String::as_str).unwrap_or_default(), match broken.len() { 0 | 1 => String::new(), n => format!(" (and {} more)", n - 1) })]
    Invariants { origin: String, broken: Vec<String> },
}

pub type Result<T, E = AccessError> = std::result::Result<T, E>;
