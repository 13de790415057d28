//! What subprocessor operations answer. Each variant has a stable `code`, which the API sends
//! and the pages translate; the HTTP layers map each variant to one status.

use extranet_directory::DirectoryError;
use time::OffsetDateTime;

pub type Result<T, E = SubprocessorsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum SubprocessorsError {
    /// Not there, or not the caller's to see: the same answer for both.
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
    /// The notice's window to object closed at `closed_at` (its effective time).
    #[error("the period to object closed at {closed_at}")]
    WindowClosed { closed_at: OffsetDateTime },
    /// The record is not in a state that allows this (a decided objection, an applied notice).
    #[error("{0}")]
    Conflict(String),
    #[error("not authenticated")]
    Unauthenticated,
    #[error("{0}")]
    Internal(String),
}

impl SubprocessorsError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> SubprocessorsError {
        SubprocessorsError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A stable name for the kind of error, for API clients and the pages' translations.
    pub fn code(&self) -> &'static str {
        match self {
            SubprocessorsError::NotFound => "not_found",
            SubprocessorsError::Forbidden(_) => "forbidden",
            SubprocessorsError::Invalid { .. } => "invalid",
            SubprocessorsError::WindowClosed { .. } => "window_closed",
            SubprocessorsError::Conflict(_) => "conflict",
            SubprocessorsError::Unauthenticated => "unauthenticated",
            SubprocessorsError::Internal(_) => "internal",
        }
    }
}

impl From<DirectoryError> for SubprocessorsError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound => SubprocessorsError::NotFound,
            DirectoryError::Forbidden(m) => SubprocessorsError::Forbidden(m),
            e @ DirectoryError::FieldNotGranted(_) => SubprocessorsError::Forbidden(e.to_string()),
            DirectoryError::Invalid { field, message } => {
                SubprocessorsError::Invalid { field, message }
            }
            DirectoryError::Conflict(m) => SubprocessorsError::Conflict(m),
            e @ (DirectoryError::Taken(_)
            | DirectoryError::LastAdmin
            | DirectoryError::Throttled(_)) => SubprocessorsError::Conflict(e.to_string()),
            DirectoryError::Unauthenticated => SubprocessorsError::Unauthenticated,
            DirectoryError::Internal(m) => SubprocessorsError::Internal(m),
        }
    }
}

impl From<sqlx::Error> for SubprocessorsError {
    fn from(e: sqlx::Error) -> Self {
        SubprocessorsError::Internal(extranet_platform::error::concise(&e))
    }
}

impl From<extranet_audit::AuditError> for SubprocessorsError {
    fn from(e: extranet_audit::AuditError) -> Self {
        SubprocessorsError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for SubprocessorsError {
    fn from(e: serde_json::Error) -> Self {
        SubprocessorsError::Internal(format!("stored JSON: {e}"))
    }
}
