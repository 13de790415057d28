//! What rights-request operations answer. The HTTP layers map each variant to one status.

pub type Result<T, E = RightsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum RightsError {
    #[error("not found")]
    NotFound,
    /// A value is not acceptable; `field` names it and `code` says why in a word the pages
    /// translate (`required`, `too_long`, `unknown_right`…).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        code: &'static str,
        message: String,
    },
    /// The request is not in a state that allows this; `code` is the word pages translate.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// Too many requests from one address or client.
    #[error("{0}")]
    TooMany(String),
    /// The policy does not allow the caller this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Internal(String),
}

impl RightsError {
    pub fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        RightsError::Invalid {
            field,
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        RightsError::Conflict {
            code,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for RightsError {
    fn from(e: sqlx::Error) -> Self {
        RightsError::Internal(format!("database: {e}"))
    }
}

impl From<extranet_audit::AuditError> for RightsError {
    fn from(e: extranet_audit::AuditError) -> Self {
        RightsError::Internal(format!("audit: {e}"))
    }
}

impl From<extranet_platform::PlatformError> for RightsError {
    fn from(e: extranet_platform::PlatformError) -> Self {
        RightsError::Internal(e.to_string())
    }
}

impl From<extranet_identity::IdentityError> for RightsError {
    fn from(e: extranet_identity::IdentityError) -> Self {
        RightsError::Internal(e.to_string())
    }
}
