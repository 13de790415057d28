//! Small helpers for the erasure's parameterised statements on either engine.

use extranet_platform::{Db, on_pool};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::error::Result;

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Bind {
    Id(Uuid),
    Text(String),
    Int(i64),
}

macro_rules! bind_all {
    ($q:expr, $binds:expr) => {{
        let mut q = $q;
        for b in $binds {
            q = match b {
                $crate::erasure::sql::Bind::Id(u) => q.bind(*u),
                $crate::erasure::sql::Bind::Text(t) => q.bind(t.clone()),
                $crate::erasure::sql::Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// One number (`SELECT COUNT(*) …`).
pub(crate) async fn number(db: &Db, sql: &str, binds: &[Bind]) -> Result<u64> {
    let (n,): (i64,) = on_pool!(db, read, |pool| {
        bind_all!(sqlx::query_as(AssertSqlSafe(sql.to_owned())), binds)
            .fetch_one(pool)
            .await
    })?;
    Ok(n.max(0) as u64)
}

/// Ids (`SELECT id …`).
pub(crate) async fn ids(db: &Db, sql: &str, binds: &[Bind]) -> Result<Vec<Uuid>> {
    let rows: Vec<(Uuid,)> = on_pool!(db, read, |pool| {
        bind_all!(sqlx::query_as(AssertSqlSafe(sql.to_owned())), binds)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

/// Texts (`SELECT key …`).
pub(crate) async fn texts(db: &Db, sql: &str, binds: &[Bind]) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = on_pool!(db, read, |pool| {
        bind_all!(sqlx::query_as(AssertSqlSafe(sql.to_owned())), binds)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

/// `(LOWER(col) LIKE $n OR …)` over the person's identifiers, bound from `first`: whether a
/// free-text column names them.
pub(crate) fn names(col: &str, first: usize, n: usize) -> String {
    if n == 0 {
        return "1 = 0".into();
    }
    let parts: Vec<String> = (first..first + n)
        .map(|i| format!("LOWER({col}) LIKE ${i}"))
        .collect();
    format!("({})", parts.join(" OR "))
}
