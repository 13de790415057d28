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

/// When `err` is a unique violation: a text that names the index it hit, the same way on both
/// engines — PostgreSQL gives the index (`organisation_enterprise_number_idx`), SQLite only a
/// message naming the column (`UNIQUE constraint failed: organisation.enterprise_number`). Callers
/// tell their unique values apart by a column name contained in it.
pub fn unique_violation(err: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    Some(match db.constraint() {
        Some(index) => index.to_owned(),
        None => db.message().to_owned(),
    })
}

#[cfg(test)]
mod unique_tests {
    use super::unique_violation;

    #[tokio::test]
    async fn sqlite_unique_violations_name_their_column() {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .expect("sqlite");
        sqlx::query("CREATE TABLE t (a TEXT, b TEXT)")
            .execute(&mut c)
            .await
            .expect("table");
        sqlx::query("CREATE UNIQUE INDEX t_b_idx ON t (b)")
            .execute(&mut c)
            .await
            .expect("index");
        sqlx::query("INSERT INTO t VALUES ('x', 'y')")
            .execute(&mut c)
            .await
            .expect("row");
        let err = sqlx::query("INSERT INTO t VALUES ('z', 'y')")
            .execute(&mut c)
            .await
            .expect_err("duplicate");
        let named = unique_violation(&err).expect("a unique violation");
        assert!(named.contains("t.b"), "{named}");
        let other = sqlx::query("INSERT INTO nowhere VALUES (1)")
            .execute(&mut c)
            .await
            .expect_err("no table");
        assert_eq!(unique_violation(&other), None);
    }
}
