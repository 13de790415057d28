use crate::types::Invalid;

pub type Result<T, E = IdentityError> = std::result::Result<T, E>;

/// What identity operations can answer. The HTTP layer maps each variant to one status.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// Another record already holds a unique value (an e-mail address, an enterprise number).
    #[error("{0} is already in use")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
    /// The change would leave the installation without an active administrator.
    #[error("{}", crate::admins::LAST_ADMIN)]
    LastAdmin,
    /// Credentials, tokens or sessions that do not check out. Deliberately vague.
    #[error("not authenticated")]
    Unauthenticated,
    #[error(transparent)]
    Store(#[from] extranet_platform::PlatformError),
    #[error("{0}")]
    Internal(String),
}

impl From<sqlx::Error> for IdentityError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return IdentityError::Conflict(match db.constraint() {
                Some(c) if c.contains("enterprise") => "enterprise number",
                _ => "e-mail address",
            });
        }
        IdentityError::Store(extranet_platform::PlatformError::query(e))
    }
}

impl From<extranet_audit::AuditError> for IdentityError {
    fn from(e: extranet_audit::AuditError) -> Self {
        match e {
            extranet_audit::AuditError::Database(e) => IdentityError::from(e),
            other => IdentityError::Internal(other.to_string()),
        }
    }
}
