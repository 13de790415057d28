//! Single-use, expiring links (invitations, password resets). The token is random and only its
//! SHA-256 hash is stored; using it marks it used in the same statement that checks it.

use std::time::Duration;

use extranet_platform::{Clock, Db, on_pool};
use uuid::Uuid;

use crate::error::Result;
use crate::sessions::hash_token;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Invitation,
    PasswordReset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

pub(crate) const INSERT: &str = "INSERT INTO one_time_token (token_hash, person_id, purpose, \
     created_at, expires_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)";

/// A new link token: the random text for the link, and what is stored (only its hash).
pub(crate) struct NewLink {
    pub token: String,
    pub hash: String,
    pub purpose: &'static str,
    pub created_at: time::OffsetDateTime,
    pub expires_at: time::OffsetDateTime,
}

impl NewLink {
    pub(crate) fn new(clock: &dyn Clock, purpose: Purpose, lifetime: Duration) -> NewLink {
        let token = crate::sessions::new_token();
        let now = clock.now();
        NewLink {
            hash: hash_token(&token),
            token,
            purpose: purpose.as_str(),
            created_at: now,
            expires_at: now + lifetime,
        }
    }
}

/// Creates a link token for `person` in a transaction of its own; returns the token to put in
/// the link. (Links that are mailed are created with their mail: see `recovery`.)
pub async fn create(
    db: &Db,
    clock: &dyn Clock,
    person: Uuid,
    purpose: Purpose,
    lifetime: Duration,
) -> Result<String> {
    let link = NewLink::new(clock, purpose, lifetime);
    on_pool!(db, write, |pool| {
        sqlx::query(INSERT)
            .bind(&link.hash)
            .bind(person)
            .bind(link.purpose)
            .bind(link.created_at)
            .bind(link.expires_at)
            .bind(None::<Uuid>)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    Ok(link.token)
}

/// Whether a token is currently usable (for showing the form), without using it.
pub async fn peek(
    db: &Db,
    clock: &dyn Clock,
    token: &str,
    purpose: Purpose,
) -> Result<Option<Uuid>> {
    let now = clock.now();
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT person_id FROM one_time_token WHERE token_hash = $1 AND purpose = $2 \
             AND used_at IS NULL AND expires_at > $3",
        )
        .bind(hash_token(token))
        .bind(purpose.as_str())
        .bind(now)
        .fetch_optional(pool)
        .await
    })?)
}

/// Uses a token: returns its person if it was unused and unexpired, and marks it used.
pub async fn consume(
    db: &Db,
    clock: &dyn Clock,
    token: &str,
    purpose: Purpose,
) -> Result<Option<Uuid>> {
    let now = clock.now();
    Ok(on_pool!(db, write, |pool| {
        sqlx::query_scalar(
            "UPDATE one_time_token SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 \
             AND used_at IS NULL AND expires_at > $1 RETURNING person_id",
        )
        .bind(now)
        .bind(hash_token(token))
        .bind(purpose.as_str())
        .fetch_optional(pool)
        .await
    })?)
}

/// When the links of `person` created after `since` were created, oldest first (to limit how
/// many are mailed).
pub async fn created_since(
    db: &extranet_platform::Db,
    person: uuid::Uuid,
    since: time::OffsetDateTime,
) -> crate::Result<Vec<time::OffsetDateTime>> {
    Ok(extranet_platform::on_pool!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT created_at FROM one_time_token WHERE person_id = $1 AND created_at > $2 \
             ORDER BY created_at",
        )
        .bind(person)
        .bind(since)
        .fetch_all(pool)
        .await
    })?)
}
