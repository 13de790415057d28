//! What directory operations answer. The HTTP layers map each variant to one status.

use extranet_identity::IdentityError;

pub type Result<T, E = DirectoryError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The record does not exist or is not the caller's to see: the same answer for both, so
    /// that another tenant's ids cannot be probed.
    #[error("not found")]
    NotFound,
    /// The caller sees the record but may not do this to it.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// A value is not acceptable; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    /// The caller's account is no longer active.
    #[error("not authenticated")]
    Unauthenticated,
    #[error("{0}")]
    Internal(String),
}

impl DirectoryError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> DirectoryError {
        DirectoryError::Invalid {
            field,
            message: message.into(),
        }
    }
}

impl From<sqlx::Error> for DirectoryError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            return DirectoryError::Conflict(match db.constraint() {
                Some(c) if c.contains("certificate") => {
                    "certificate number is already in use".into()
                }
                _ => "e-mail address is already in use".into(),
            });
        }
        DirectoryError::Internal(extranet_platform::error::concise(&e))
    }
}

impl From<IdentityError> for DirectoryError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Invalid(i) => DirectoryError::Invalid {
                field: i.code,
                message: i.message,
            },
            IdentityError::Conflict(what) => {
                DirectoryError::Conflict(format!("{what} is already in use"))
            }
            IdentityError::NotFound => DirectoryError::NotFound,
            IdentityError::LastAdmin => {
                DirectoryError::Conflict(extranet_identity::admins::LAST_ADMIN.to_owned())
            }
            IdentityError::Unauthenticated => DirectoryError::Unauthenticated,
            IdentityError::Store(e) => DirectoryError::Internal(e.to_string()),
            IdentityError::Internal(e) => DirectoryError::Internal(e),
        }
    }
}

impl From<extranet_audit::AuditError> for DirectoryError {
    fn from(e: extranet_audit::AuditError) -> Self {
        match e {
            extranet_audit::AuditError::Database(e) => DirectoryError::from(e),
            other => DirectoryError::Internal(other.to_string()),
        }
    }
}

impl From<extranet_platform::PlatformError> for DirectoryError {
    fn from(e: extranet_platform::PlatformError) -> Self {
        DirectoryError::Internal(e.to_string())
    }
}
