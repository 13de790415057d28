use thiserror::Error;

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// Everything that can go wrong below the domain services.
///
/// Messages name *what* and *where* (never a password): they are shown to operators at start-up.
#[derive(Debug, Error)]
pub enum PlatformError {
    #[error("database {target}: {source}")]
    Database {
        target: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("database {target}: migration failed: {source}")]
    Migrate {
        target: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("object store {target}: {source}")]
    ObjectStore {
        target: String,
        #[source]
        source: object_store::Error,
    },
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
            source,
        }
    }
}
