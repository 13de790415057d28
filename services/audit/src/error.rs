use thiserror::Error;

pub type Result<T, E = AuditError> = std::result::Result<T, E>;

/// Everything the audit log can fail with. A broken chain is not an error: [`crate::verify()`]
/// reports it as a [`crate::VerifyReport`].
#[derive(Debug, Error)]
pub enum AuditError {
    /// Kept as the sqlx error (not flattened into text) so that a caller running
    /// [`crate::append_in()`] in its own transaction can tell a serialization failure to retry.
    #[error("audit log: {}", extranet_platform::error::concise(.0))]
    Database(#[from] sqlx::Error),
    #[error("invalid audit entry: {0}")]
    Invalid(String),
    /// Stored data the log cannot work with: the head row is missing, or an entry no longer holds
    /// readable values (run [`crate::verify()`] to find out which).
    #[error("audit log is damaged: {0}")]
    Damaged(String),
}
