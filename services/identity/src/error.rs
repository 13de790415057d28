use crate::types::Invalid;

pub type Result<T, E = IdentityError> = std::result::Result<T, E>;

/// How a field whose value is taken is named in messages.
pub fn taken_label(field: &str) -> &'static str {
    match field {
        "enterprise_number" => "the enterprise number",
        _ => "the e-mail address",
    }
}

/// What identity operations can answer. The HTTP layer maps each variant to one status.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// Another record already holds a unique value; names the field (`email`,
    /// `enterprise_number`).
    #[error("{} is already in use", taken_label(.0))]
    Taken(&'static str),
    #[error("not found")]
    NotFound,
    /// Too many of these (mails to one account or from one address); try again after this long.
    #[error("too many requests; try again in {} s", .0.as_secs().max(1))]
    Throttled(std::time::Duration),
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
        if let Some(index) = extranet_platform::error::unique_violation(&e) {
            return IdentityError::Taken(if index.contains("enterprise_number") {
                "enterprise_number"
            } else {
                "email"
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
