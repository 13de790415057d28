//! What document operations answer. Each variant has a stable `code`, which the API sends and
//! the pages translate; the HTTP layers map each variant to one status.

use extranet_directory::DirectoryError;

pub type Result<T, E = DocumentsError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum DocumentsError {
    /// Not there, or not the caller's to see: the same answer for both.
    #[error("not found")]
    NotFound,
    /// The caller sees the dossier or document but may not do this to it.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// A value is not acceptable; `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The file is larger than the configured limit (checked while it streams in).
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is empty")]
    Empty,
    /// The bytes are not of an allowed type.
    #[error("files of this type are not accepted (allowed: PDF, images, office documents)")]
    TypeNotAllowed,
    /// The bytes are of an allowed type, but not of the type the name or Content-Type claims.
    #[error("the file's content is {detected}, not what its name or type says ({claimed})")]
    TypeMismatch { detected: String, claimed: String },
    /// The scanning hook refused the file.
    #[error("the file was refused by the malware scan")]
    Rejected,
    /// The scanning hook could not give an answer; nothing was stored.
    #[error("the malware scan is unavailable; try again later")]
    ScanUnavailable,
    /// A legal hold on the dossier blocks deletion.
    #[error("the dossier is under a legal hold: its documents cannot be deleted")]
    LegalHold,
    #[error("{0}")]
    Conflict(String),
    /// The upload stopped before its end (the client went away or sent a broken body).
    #[error("the upload was interrupted: {0}")]
    Interrupted(String),
    /// The body came in slower than the installation's minimum rate, and was cut off.
    #[error(
        "the upload was cut off: it arrived slower than {min_rate} bytes a second over \
         {window_secs} s"
    )]
    TooSlow { min_rate: u64, window_secs: u64 },
    /// The person's hourly upload limit (a number of uploads, or bytes) is reached.
    #[error("{0}")]
    LimitReached(crate::limits::Reached),
    #[error("not authenticated")]
    Unauthenticated,
    #[error("{0}")]
    Internal(String),
}

impl DocumentsError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> DocumentsError {
        DocumentsError::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A stable name for the kind of error, for API clients and the pages' translations.
    pub fn code(&self) -> &'static str {
        match self {
            DocumentsError::NotFound => "not_found",
            DocumentsError::Forbidden(_) => "forbidden",
            DocumentsError::Invalid { .. } => "invalid",
            DocumentsError::TooLarge { .. } => "too_large",
            DocumentsError::Empty => "empty",
            DocumentsError::TypeNotAllowed => "type_not_allowed",
            DocumentsError::TypeMismatch { .. } => "type_mismatch",
            DocumentsError::Rejected => "rejected",
            DocumentsError::ScanUnavailable => "scan_unavailable",
            DocumentsError::LegalHold => "legal_hold",
            DocumentsError::Conflict(_) => "conflict",
            DocumentsError::Interrupted(_) => "interrupted",
            DocumentsError::TooSlow { .. } => "too_slow",
            DocumentsError::LimitReached(_) => "upload_limit",
            DocumentsError::Unauthenticated => "unauthenticated",
            DocumentsError::Internal(_) => "internal",
        }
    }
}

impl From<DirectoryError> for DocumentsError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound => DocumentsError::NotFound,
            DirectoryError::Forbidden(m) => DocumentsError::Forbidden(m),
            e @ DirectoryError::FieldNotGranted(_) => DocumentsError::Forbidden(e.to_string()),
            DirectoryError::Invalid { field, message } => {
                DocumentsError::Invalid { field, message }
            }
            DirectoryError::Conflict(m) => DocumentsError::Conflict(m),
            e @ (DirectoryError::Taken(_)
            | DirectoryError::LastAdmin
            | DirectoryError::Throttled(_)) => DocumentsError::Conflict(e.to_string()),
            DirectoryError::Unauthenticated => DocumentsError::Unauthenticated,
            DirectoryError::Internal(m) => DocumentsError::Internal(m),
        }
    }
}

impl From<sqlx::Error> for DocumentsError {
    fn from(e: sqlx::Error) -> Self {
        DocumentsError::Internal(extranet_platform::error::concise(&e))
    }
}

impl From<extranet_platform::PlatformError> for DocumentsError {
    fn from(e: extranet_platform::PlatformError) -> Self {
        DocumentsError::Internal(e.to_string())
    }
}

impl From<extranet_audit::AuditError> for DocumentsError {
    fn from(e: extranet_audit::AuditError) -> Self {
        DocumentsError::Internal(e.to_string())
    }
}
