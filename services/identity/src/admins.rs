//! The installation always keeps an active administrator: whoever asks — staff, another
//! administrator, the command line — the last one is neither demoted nor deactivated, because
//! only the command line could then restore access.
//!
//! The check runs inside the change's transaction ([`AdminGuard`]): it first locks every
//! administrator's person row, then counts in a new statement. Two transactions demoting two
//! administrators at once queue on the first lock, and the second counts after the first has
//! committed (a new statement sees it under PostgreSQL's READ COMMITTED; SQLite has one writer).

use std::future::Future;

use extranet_audit::NewEntry;
use extranet_platform::{Clock, Db, write_tx};
use uuid::Uuid;

use crate::error::{IdentityError, Result};
use crate::revocation::{Ending, RevokeConn, Revoked};

/// What the refusal says, in the API's 409 and the pages.
pub const LAST_ADMIN: &str =
    "the last active administrator cannot lose that role or be deactivated";

const LOCK_ADMINS: &str = "UPDATE person SET updated_at = updated_at \
     WHERE id IN (SELECT person_id FROM person_role WHERE role = 'admin')";
const OTHER_ACTIVE_ADMINS: &str = "SELECT COUNT(*) FROM person p JOIN person_role r ON r.person_id = p.id \
     WHERE r.role = 'admin' AND p.state = 'active' AND p.id <> $1";
const IS_ADMIN: &str = "SELECT COUNT(*) FROM person_role WHERE person_id = $1 AND role = 'admin'";

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::SqliteConnection {}
    impl Sealed for sqlx::PgConnection {}
}

/// A connection (the `tx` of a write transaction) on which a change can check that an active
/// administrator remains.
pub trait AdminGuard: sealed::Sealed + Send {
    /// Whether `person` may stop being an active administrator: they are not one, or another
    /// active administrator remains. Locks the administrators' rows until the transaction ends.
    fn may_leave_admins<'a>(
        &'a mut self,
        person: Uuid,
    ) -> impl Future<Output = std::result::Result<bool, sqlx::Error>> + Send + 'a;
}

macro_rules! impl_admin_guard {
    ($conn:ty) => {
        impl AdminGuard for $conn {
            fn may_leave_admins<'a>(
                &'a mut self,
                person: Uuid,
            ) -> impl Future<Output = std::result::Result<bool, sqlx::Error>> + Send + 'a {
                async move {
                    let admin: i64 = sqlx::query_scalar(IS_ADMIN)
                        .bind(person)
                        .fetch_one(&mut *self)
                        .await?;
                    if admin == 0 {
                        return Ok(true);
                    }
                    sqlx::query(LOCK_ADMINS).execute(&mut *self).await?;
                    let others: i64 = sqlx::query_scalar(OTHER_ACTIVE_ADMINS)
                        .bind(person)
                        .fetch_one(&mut *self)
                        .await?;
                    Ok(others > 0)
                }
            }
        }
    };
}

impl_admin_guard!(sqlx::SqliteConnection);
impl_admin_guard!(sqlx::PgConnection);

/// Deactivates an account from the command line: the state, the end of its sessions and the
/// audit record in one transaction; refused for the last active administrator.
pub async fn deactivate(
    db: &Db,
    clock: &dyn Clock,
    person: Uuid,
    audit: impl FnOnce(u64) -> NewEntry,
) -> Result<Revoked> {
    let now = clock.now();
    write_tx!(db, |tx| async {
        if !tx.may_leave_admins(person).await? {
            return Err(IdentityError::LastAdmin);
        }
        let n =
            sqlx::query("UPDATE person SET state = 'deactivated', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(person)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        if n == 0 {
            return Err(IdentityError::NotFound);
        }
        let ended = tx
            .end_sessions(Ending::Person(person), now, "account deactivated")
            .await?;
        extranet_audit::append_in(&mut *tx, &audit(ended.count())).await?;
        Ok::<Revoked, IdentityError>(ended)
    }
    .await)
    .await
}
