//! The second factor's rows: factors, recovery codes and pending sign-in challenges. Statements
//! that must commit with others (an audit record, a session) are constants run inside the
//! callers' transactions; the public ones are what an administrator's reset (in the directory)
//! runs in its own.

use extranet_platform::{Db, on_pool};
use sqlx::FromRow;
use time::OffsetDateTime;
use uuid::Uuid;

use extranet_platform::sealed::Sealer;
use zeroize::Zeroizing;

use crate::error::{IdentityError, Result};

/// A TOTP factor as stored: its secret sealed under the key-encryption key.
#[derive(Debug, Clone, FromRow)]
pub(crate) struct FactorRow {
    pub id: Uuid,
    pub secret: Option<String>,
    pub confirmed_at: Option<OffsetDateTime>,
}

/// What a factor's sealed secret is bound to: its own row, so that a sealed value copied to
/// another row does not open.
pub(crate) fn context(factor: Uuid) -> String {
    format!("second_factor:{factor}")
}

/// Seals a new TOTP secret for the factor `id`.
pub(crate) fn seal(sealer: &Sealer, id: Uuid, secret: &[u8]) -> Result<String> {
    sealer
        .seal(secret, &context(id))
        .map_err(|e| IdentityError::Internal(format!("second factor {id}: {e}")))
}

impl FactorRow {
    /// The factor's id and its secret, opened.
    pub fn opened(self, sealer: &Sealer) -> Result<Option<(Uuid, Zeroizing<Vec<u8>>)>> {
        let Some(sealed) = self.secret else {
            return Ok(None);
        };
        let secret = sealer
            .open(&sealed, &context(self.id))
            .map_err(|e| IdentityError::Internal(format!("second factor {}: {e}", self.id)))?;
        Ok(Some((self.id, secret)))
    }
}

const FACTOR_COLUMNS: &str = "SELECT id, secret, confirmed_at FROM second_factor \
     WHERE person_id = $1 AND kind = 'totp'";

/// The person's confirmed TOTP factor, if any.
pub(crate) async fn confirmed_totp(db: &Db, person: Uuid) -> Result<Option<FactorRow>> {
    let sql = format!("{FACTOR_COLUMNS} AND confirmed_at IS NOT NULL ORDER BY created_at LIMIT 1");
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(person)
            .fetch_optional(pool)
            .await
    })?)
}

/// The person's enrolment in progress (a TOTP factor not confirmed yet), if any.
pub(crate) async fn pending_totp(db: &Db, person: Uuid) -> Result<Option<FactorRow>> {
    let sql = format!("{FACTOR_COLUMNS} AND confirmed_at IS NULL ORDER BY created_at DESC LIMIT 1");
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(person)
            .fetch_optional(pool)
            .await
    })?)
}

/// Removes an enrolment in progress ($1 = person) before another starts.
pub(crate) const DELETE_PENDING: &str =
    "DELETE FROM second_factor WHERE person_id = $1 AND kind = 'totp' AND confirmed_at IS NULL";

/// $1 id, $2 person, $3 name, $4 secret, $5 now.
pub(crate) const INSERT_TOTP: &str = "INSERT INTO second_factor (id, person_id, kind, name, \
     secret, created_at) VALUES ($1, $2, 'totp', $3, $4, $5)";

/// Confirms an enrolment: $1 now, $2 factor id.
pub(crate) const CONFIRM: &str = "UPDATE second_factor SET confirmed_at = $1 \
     WHERE id = $2 AND confirmed_at IS NULL";

/// Accepts a TOTP step only if it is later than every step accepted before: a code is good
/// once (RFC 6238 §5.2), also when two requests bring it at the same moment.
pub(crate) async fn accept_step(
    db: &Db,
    factor: Uuid,
    step: u64,
    now: OffsetDateTime,
) -> Result<bool> {
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let n = on_pool!(db, write, |pool| {
        sqlx::query(
            "UPDATE second_factor SET last_used_step = $1, last_used_at = $2 \
             WHERE id = $3 AND (last_used_step IS NULL OR last_used_step < $1)",
        )
        .bind(step)
        .bind(now)
        .bind(factor)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Spends a recovery code: true if it was the person's and unused.
pub(crate) async fn spend_recovery_code(
    db: &Db,
    person: Uuid,
    hash: &str,
    now: OffsetDateTime,
) -> Result<bool> {
    let n = on_pool!(db, write, |pool| {
        sqlx::query(
            "UPDATE recovery_code SET used_at = $1 \
             WHERE code_hash = $2 AND person_id = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(hash)
        .bind(person)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

pub(crate) async fn recovery_codes_left(db: &Db, person: Uuid) -> Result<u32> {
    let n: i64 = on_pool!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_code WHERE person_id = $1 AND used_at IS NULL",
        )
        .bind(person)
        .fetch_one(pool)
        .await
    })?;
    Ok(u32::try_from(n).unwrap_or(0))
}

/// Drops every recovery code of $1 (before a new set, or with the factor).
pub const DELETE_RECOVERY_CODES: &str = "DELETE FROM recovery_code WHERE person_id = $1";

/// $1 hash, $2 person, $3 now.
pub(crate) const INSERT_RECOVERY_CODE: &str =
    "INSERT INTO recovery_code (code_hash, person_id, created_at) VALUES ($1, $2, $3)";

/// Drops every factor of $1.
pub const DELETE_FACTORS: &str = "DELETE FROM second_factor WHERE person_id = $1";

/// Voids the pending sign-ins of $2 ($1 now): after a reset, a challenge issued before it
/// must not complete.
pub const VOID_CHALLENGES: &str = "UPDATE sign_in_challenge SET used_at = $1 \
     WHERE person_id = $2 AND used_at IS NULL";

/// $1 token hash, $2 person, $3 purpose, $4 now, $5 expiry.
pub(crate) const INSERT_CHALLENGE: &str = "INSERT INTO sign_in_challenge (token_hash, person_id, \
     purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

/// Uses a challenge once: $1 now, $2 token hash. Returns its person when it was usable.
pub(crate) const CONSUME_CHALLENGE: &str = "UPDATE sign_in_challenge SET used_at = $1 \
     WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING person_id";

/// A challenge that can still be completed: (person, purpose).
pub(crate) async fn live_challenge(
    db: &Db,
    hash: &str,
    now: OffsetDateTime,
) -> Result<Option<(Uuid, String)>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT person_id, purpose FROM sign_in_challenge \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(pool)
        .await
    })?)
}

/// A set of recovery codes with their hashes, and the statements that store them.
pub(crate) struct NewCodes {
    pub plain: Vec<String>,
    pub hashes: Vec<String>,
}

impl NewCodes {
    pub fn generate() -> NewCodes {
        let plain = super::codes::generate();
        let hashes = plain.iter().filter_map(|c| super::codes::hash(c)).collect();
        NewCodes { plain, hashes }
    }
}
