use thiserror::Error;

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// Everything that can go wrong below the domain services.
///
/// Messages name *what* and *where* (never a password): they are shown to operators at start-up.
#[derive(Debug, Error)]
pub enum PlatformError {
    #[error("database {target}: {detail}")]
    Database { target: String, detail: String },
    #[error("database {target}: migration failed: {detail}")]
    Migrate { target: String, detail: String },
    #[error("object store {target}: {detail}")]
    ObjectStore { target: String, detail: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl PlatformError {
    /// A query failed on an already open database.
    pub fn query(source: sqlx::Error) -> Self {
        PlatformError::Database {
            target: "query".into(),
            detail: concise(&source),
        }
    }
}

/// The innermost cause of an error, which is what an operator can act on ("Connection refused",
/// "NoSuchBucket"); the outer layers of object_store and sqlx errors repeat their sources, and
/// start-up errors must fit on one line.
pub fn concise(err: &(dyn std::error::Error + 'static)) -> String {
    let mut root = err;
    while let Some(next) = root.source() {
        root = next;
    }
    let text = root.to_string().replace(['\n', '\r'], " ");
    match text.char_indices().nth(400) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
