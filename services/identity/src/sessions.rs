//! Sessions and refresh tokens. A refresh token is opaque and random, stored only as a SHA-256
//! hash, and rotated at every use; presenting one that was already used revokes its whole
//! session family. Refresh is refused once the account or its organisation is deactivated.

use std::time::Duration;

use extranet_audit::NewEntry;
use extranet_platform::{Clock, Db, on_pool, write_tx};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{IdentityError, Result};
use crate::revocation::{Ending, Revocations, RevokeConn, Revoked};
use crate::store::{self, Credentials};

#[derive(Debug, Clone)]
pub struct SessionSettings {
    /// A refresh token unused for this long expires.
    pub idle_lifetime: Duration,
    /// A session ends this long after sign-in, however active.
    pub absolute_lifetime: Duration,
}

/// 32 random bytes, URL-safe; what the client holds.
pub fn new_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A started or refreshed session: what to put in a new access token, and the next refresh token.
#[derive(Debug, Clone)]
pub struct Grant {
    pub session_id: Uuid,
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub refresh_token: String,
}

/// Starts a session family for a person who just proved who they are. `audit` is the record of
/// it, given the new session's id: it commits with the session or neither does, so there is no
/// session that the audit log does not know of.
pub async fn start(
    db: &Db,
    clock: &dyn Clock,
    settings: &SessionSettings,
    creds: &Credentials,
    audit: impl FnOnce(Uuid) -> NewEntry,
) -> Result<Grant> {
    let now = clock.now();
    let session_id = Uuid::now_v7();
    let token = new_token();
    let hash = hash_token(&token);
    let absolute = now + settings.absolute_lifetime;
    let idle = (now + settings.idle_lifetime).min(absolute);
    let entry = audit(session_id);
    let res: Result<()> = write_tx!(db, |tx| {
        async {
            sqlx::query(
                "INSERT INTO auth_session (id, person_id, created_at, absolute_expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(session_id)
            .bind(creds.person_id)
            .bind(now)
            .bind(absolute)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO refresh_token (token_hash, session_id, issued_at, idle_expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&hash)
            .bind(session_id)
            .bind(now)
            .bind(idle)
            .execute(&mut *tx)
            .await?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<(), crate::IdentityError>(())
        }
        .await
    })
    .await;
    res?;
    Ok(Grant {
        session_id,
        person_id: creds.person_id,
        organisation_id: creds.organisation_id,
        refresh_token: token,
    })
}

#[derive(FromRow)]
struct TokenRow {
    session_id: Uuid,
    person_id: Uuid,
    idle_expires_at: OffsetDateTime,
    used_at: Option<OffsetDateTime>,
    absolute_expires_at: OffsetDateTime,
    revoked_at: Option<OffsetDateTime>,
}

/// Why a refresh was refused (all answer "not authenticated" to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Unknown,
    /// An already rotated token came back: the family is revoked now.
    Reused {
        session_id: Uuid,
        person_id: Uuid,
    },
    Expired,
    Revoked,
    /// The account or its organisation is no longer active; the family is revoked now.
    Deactivated {
        session_id: Uuid,
        person_id: Uuid,
    },
    /// Too many refresh tokens that were never issued came from this address; try again after
    /// this long.
    Throttled(std::time::Duration),
}

pub enum Refresh {
    Granted(Grant),
    Refused(Refused),
}

/// Exchanges a refresh token for the next one. A session it ends (a token presented twice, an
/// account found deactivated) is learnt by `revocations` before this returns.
pub async fn refresh(
    db: &Db,
    clock: &dyn Clock,
    settings: &SessionSettings,
    revocations: &Revocations,
    presented: &str,
) -> Result<Refresh> {
    let end = |session: Uuid, reason: &'static str| async move {
        let revoked = revoke(db, clock, session, reason).await?;
        revocations.after_commit(db, clock, &revoked).await;
        Ok::<bool, IdentityError>(revoked.count() > 0)
    };
    let now = clock.now();
    let hash = hash_token(presented);
    let row: Option<TokenRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(
            "SELECT t.session_id, s.person_id, t.idle_expires_at, t.used_at, \
             s.absolute_expires_at, s.revoked_at FROM refresh_token t \
             JOIN auth_session s ON s.id = t.session_id WHERE t.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(pool)
        .await
    })?;
    let Some(row) = row else {
        return Ok(Refresh::Refused(Refused::Unknown));
    };
    if row.revoked_at.is_some() {
        return Ok(Refresh::Refused(Refused::Revoked));
    }
    if row.used_at.is_some() {
        end(row.session_id, "refresh token reused").await?;
        return Ok(Refresh::Refused(Refused::Reused {
            session_id: row.session_id,
            person_id: row.person_id,
        }));
    }
    if now >= row.idle_expires_at || now >= row.absolute_expires_at {
        return Ok(Refresh::Refused(Refused::Expired));
    }
    let creds = store::credentials_by_id(db, row.person_id).await?;
    let Some(creds) = creds.filter(Credentials::may_sign_in) else {
        end(row.session_id, "account or organisation deactivated").await?;
        return Ok(Refresh::Refused(Refused::Deactivated {
            session_id: row.session_id,
            person_id: row.person_id,
        }));
    };

    let token = new_token();
    let next_hash = hash_token(&token);
    let idle = (now + settings.idle_lifetime).min(row.absolute_expires_at);
    // Mark the presented token used only if nobody else did in the meantime and the session was
    // not ended since it was read: of two concurrent refreshes with the same token, exactly one
    // wins and the other is a reuse; a refresh racing a sign-out issues nothing.
    let won: std::result::Result<bool, sqlx::Error> = write_tx!(db, |tx| {
        async {
            let marked = sqlx::query(
                "UPDATE refresh_token SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL \
                 AND EXISTS (SELECT 1 FROM auth_session s WHERE s.id = refresh_token.session_id \
                 AND s.revoked_at IS NULL)",
            )
            .bind(now)
            .bind(&hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if marked != 1 {
                return Ok::<bool, sqlx::Error>(false);
            }
            sqlx::query(
                "INSERT INTO refresh_token (token_hash, session_id, issued_at, idle_expires_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&next_hash)
            .bind(row.session_id)
            .bind(now)
            .bind(idle)
            .execute(&mut *tx)
            .await?;
            Ok(true)
        }
        .await
    })
    .await;
    if !won? {
        // Nothing left to end: the session was ended while this refresh ran.
        if !end(row.session_id, "refresh token reused").await? {
            return Ok(Refresh::Refused(Refused::Revoked));
        }
        return Ok(Refresh::Refused(Refused::Reused {
            session_id: row.session_id,
            person_id: row.person_id,
        }));
    }
    Ok(Refresh::Granted(Grant {
        session_id: row.session_id,
        person_id: creds.person_id,
        organisation_id: creds.organisation_id,
        refresh_token: token,
    }))
}

/// Ends one session family (a refresh token presented twice, a deactivated account found at
/// refresh) and refuses its access tokens.
pub async fn revoke(db: &Db, clock: &dyn Clock, session: Uuid, reason: &str) -> Result<Revoked> {
    let now = clock.now();
    end(db, Ending::Session(session), now, reason).await
}

/// Ends one session family (`all`: every family of the session's person) and appends the audit
/// record `audit` makes from the number ended, in one transaction.
pub async fn revoke_audited(
    db: &Db,
    clock: &dyn Clock,
    session: Uuid,
    person: Uuid,
    all: bool,
    reason: &str,
    audit: impl FnOnce(u64) -> NewEntry,
) -> Result<Revoked> {
    let now = clock.now();
    let which = if all {
        Ending::Person(person)
    } else {
        Ending::Session(session)
    };
    write_tx!(db, |tx| async {
        let revoked = tx.end_sessions(which, now, reason).await?;
        extranet_audit::append_in(&mut *tx, &audit(revoked.count())).await?;
        Ok::<Revoked, crate::IdentityError>(revoked)
    }
    .await)
    .await
}

async fn end(db: &Db, which: Ending, now: OffsetDateTime, reason: &str) -> Result<Revoked> {
    let res: std::result::Result<Revoked, sqlx::Error> =
        write_tx!(db, |tx| tx.end_sessions(which, now, reason).await).await;
    Ok(res?)
}

impl From<Refused> for IdentityError {
    fn from(_: Refused) -> Self {
        IdentityError::Unauthenticated
    }
}
