//! What privacy operations answer. The HTTP layers map each variant to one status.

pub type Result<T, E = PrivacyError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// The register's files are wrong; each problem names file, line and word.
    #[error("the processing register has {} problem(s):\n  {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Register(Vec<crate::register::Problem>),
    #[error("not found")]
    NotFound,
    /// A value is not acceptable; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The record is not in a state that allows this.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Internal(String),
    /// The policy does not allow the caller this.
    #[error("{0}")]
    Forbidden(String),
}

impl PrivacyError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> PrivacyError {
        PrivacyError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for PrivacyError {
    fn from(e: sqlx::Error) -> Self {
        PrivacyError::Internal(format!("database: {e}"))
    }
}

impl From<extranet_audit::AuditError> for PrivacyError {
    fn from(e: extranet_audit::AuditError) -> Self {
        PrivacyError::Internal(format!("audit: {e}"))
    }
}

impl From<extranet_platform::PlatformError> for PrivacyError {
    fn from(e: extranet_platform::PlatformError) -> Self {
        PrivacyError::Internal(e.to_string())
    }
}

impl From<object_store::Error> for PrivacyError {
    fn from(e: object_store::Error) -> Self {
        PrivacyError::Internal(format!("object storage: {e}"))
    }
}
