//! What directory operations answer. The HTTP layers map each variant to one status.

use extranet_identity::IdentityError;

pub type Result<T, E = DirectoryError> = std::result::Result<T, E>;

/// How a field whose value is taken is named in messages.
pub fn taken_label(field: &str) -> &'static str {
    match field {
        "certificate_number" => "the certificate number",
        other => extranet_identity::error::taken_label(other),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    /// The record does not exist or is not the caller's to see: the same answer for both, so
    /// that another tenant's ids cannot be probed.
    #[error("not found")]
    NotFound,
    /// The caller sees the record but may not do this to it.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The caller may not set this field of the record: they are not granted to see it
    /// (`policies/fields.csv`), and what one may not see one may not set.
    #[error("not allowed: you may not set the field `{0}` of this record")]
    FieldNotGranted(&'static str),
    /// A value is not acceptable; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// Another record already holds a unique value; names the field (`email`,
    /// `enterprise_number`, `certificate_number`).
    #[error("{} is already in use", taken_label(.0))]
    Taken(&'static str),
    /// The change would leave the installation without an active administrator.
    #[error("{}", extranet_identity::admins::LAST_ADMIN)]
    LastAdmin,
    /// Too many of these for now (invitation mails); try again after this long.
    #[error("too many requests; try again in {} s", .0.as_secs().max(1))]
    Throttled(std::time::Duration),
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
        if let Some(index) = extranet_platform::error::unique_violation(&e) {
            return DirectoryError::Taken(if index.contains("certificate_number") {
                "certificate_number"
            } else if index.contains("enterprise_number") {
                "enterprise_number"
            } else {
                "email"
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
            IdentityError::Taken(field) => DirectoryError::Taken(field),
            IdentityError::NotFound => DirectoryError::NotFound,
            IdentityError::LastAdmin => DirectoryError::LastAdmin,
            IdentityError::Throttled(wait) => DirectoryError::Throttled(wait),
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
