//! Finding entries.

use extranet_platform::Db;
use time::OffsetDateTime;

use crate::entry::Entry;
use crate::error::Result;
use crate::sql::{At, StoredRow};

/// Entries returned when [`Filter::limit`] is not set.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most entries one search returns.
pub const MAX_LIMIT: u32 = 1000;

/// What to look for; every field left `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    pub actor_id: Option<String>,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub organisation_id: Option<String>,
    /// Matched literally (`_` and `%` are not wildcards): `auth.login` finds
    /// `auth.login.success` and `auth.login.failure`.
    pub action_prefix: Option<String>,
    /// Inclusive.
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub until: Option<OffsetDateTime>,
    /// [`DEFAULT_LIMIT`] when `None`, at most [`MAX_LIMIT`].
    pub limit: Option<u32>,
}

// Absent filters are bound as NULL and switch their condition off. sqlx sends every parameter's
// type to PostgreSQL, so `$1 IS NULL` needs no cast. The prefix is compared with `substr`, not
// `LIKE`: no wildcards to escape, and case-sensitive on both engines.
const SEARCH_SQL: &str = concat!(
    "SELECT ",
    crate::sql::columns!(),
    " FROM audit_log \
     WHERE ($1 IS NULL OR actor_id = $1) \
       AND ($2 IS NULL OR subject_type = $2) \
       AND ($3 IS NULL OR subject_id = $3) \
       AND ($4 IS NULL OR organisation_id = $4) \
       AND ($5 IS NULL OR substr(action, 1, length($5)) = $5) \
       AND ($6 IS NULL OR at >= $6) \
       AND ($7 IS NULL OR at < $7) \
     ORDER BY seq DESC \
     LIMIT $8"
);

/// Entries matching `filter`, newest (highest `seq`) first.
pub async fn search(db: &Db, filter: &Filter) -> Result<Vec<Entry>> {
    let limit = i64::from(filter.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT));
    let rows: Vec<StoredRow> = extranet_platform::on_pool!(db, read, |pool| {
        sqlx::query_as(SEARCH_SQL)
            .bind(filter.actor_id.as_deref())
            .bind(filter.subject_type.as_deref())
            .bind(filter.subject_id.as_deref())
            .bind(filter.organisation_id.as_deref())
            .bind(filter.action_prefix.as_deref())
            .bind(filter.from.map(At))
            .bind(filter.until.map(At))
            .bind(limit)
            .fetch_all(pool)
            .await
    })?;
    rows.into_iter().map(StoredRow::into_entry).collect()
}
