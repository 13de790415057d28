//! Who wants the notices by mail. A company's primary contact gets them unless they
//! unsubscribe; any other contact of a client company may subscribe. Everyone of those
//! companies sees the notices in the extranet either way.

use extranet_audit::Outcome;
use extranet_directory::Caller;
use extranet_platform::{on_pool, write_tx};

use crate::error::{Result, SubprocessorsError};
use crate::service::Subprocessors;

impl Subprocessors {
    /// Whether the caller may choose (a person of a client company).
    pub fn may_subscribe(caller: &Caller) -> bool {
        caller.has_role("client_admin") || caller.has_role("client_user")
    }

    /// Whether the caller gets the notices by mail.
    pub async fn wants_mail(&self, caller: &Caller) -> Result<bool> {
        let row: Option<(bool,)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT wants_mail FROM subprocessor_subscription WHERE person_id = $1")
                .bind(caller.person)
                .fetch_optional(pool)
                .await
        })?;
        Ok(match row {
            Some((w,)) => w,
            None => caller.has_role("client_admin"),
        })
    }

    /// Subscribes or unsubscribes the caller.
    pub async fn set_wants_mail(&self, caller: &Caller, wants: bool) -> Result<()> {
        if !Self::may_subscribe(caller) {
            return Err(SubprocessorsError::Forbidden(
                "notices are mailed to the people of client companies".into(),
            ));
        }
        let now = self.clock().now().unix_timestamp();
        let audit = caller
            .entry(self.clock(), "subprocessor.subscription", Outcome::Success)
            .subject("person", caller.person)
            .detail(serde_json::json!({ "wants_mail": wants }));
        crate::tx(
            write_tx!(self.db(), |tx| async {
                sqlx::query(
                    "INSERT INTO subprocessor_subscription (person_id, wants_mail, updated_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (person_id) DO UPDATE \
                     SET wants_mail = excluded.wants_mail, updated_at = excluded.updated_at",
                )
                .bind(caller.person)
                .bind(wants)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                extranet_audit::append_in(&mut *tx, &audit).await?;
                Ok::<(), SubprocessorsError>(())
            }
            .await)
            .await,
        )
    }
}
