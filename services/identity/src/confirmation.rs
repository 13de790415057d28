//! The yearly "is your data still correct?" mail.
//!
//! Active people of active organisations whose data was last confirmed (or, if never, whose
//! account was created) more than `interval` ago, and who were not asked within that interval,
//! get a mail in their language with a link to their account page. Confirming there (the button,
//! or saving their profile) sets `person.data_confirmed_at`.
//!
//! One [`Reminder`] task runs per instance. Each person is claimed with a conditional `UPDATE`
//! of `confirmation_requested_at` that repeats the due conditions, so when two instances find the
//! same person only one update matches: the claim, the outbox row and the audit record
//! `account.confirmation.requested` commit in one transaction, and the loser writes nothing.
//!
//! On SQLite the times of `person` are sqlx's RFC 3339 text, which sorts like the times it holds
//! except within one second (`…:05Z` sorts after `…:05.3Z`): at intervals of days that is
//! immaterial, and the claim compares exactly what the search compared.

use std::sync::Arc;
use std::time::Duration;

use extranet_audit::{NewEntry, Outcome};
use extranet_notify::{Mail, Sender, enqueue_in};
use extranet_platform::{Clock, Db, on_pool, write_tx};
use sqlx::FromRow;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::error::{IdentityError, Result};

/// People looked at per query; a round repeats while full batches come back.
const BATCH: i64 = 100;

/// Sends the confirmation requests. Build one per instance and [`Reminder::run`] it.
pub struct Reminder {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    /// `https://extranet.example.org`: the link in the mail starts here (never a request's Host).
    pub base_url: String,
    pub site_name: String,
    pub sender: Arc<Sender>,
    /// How long a confirmation holds (a year in production). Must not be zero.
    pub interval: Duration,
    /// How often to look for people to ask.
    pub check_every: Duration,
}

#[derive(FromRow)]
struct Due {
    id: Uuid,
    organisation_id: Uuid,
    first_name: String,
    email: String,
    language: String,
}

// Active person, active organisation, last confirmed (or created) at or before the threshold,
// and not asked since the threshold. `$1` is the threshold, `$2` TRUE (bound: SQLite keeps
// booleans as integers).
const DUE_SQL: &str = "SELECT p.id, p.organisation_id, p.first_name, p.email, p.language \
     FROM person p JOIN organisation o ON o.id = p.organisation_id \
     WHERE p.state = 'active' AND o.active = $2 \
       AND COALESCE(p.data_confirmed_at, p.created_at) <= $1 \
       AND (p.confirmation_requested_at IS NULL OR p.confirmation_requested_at <= $1) \
     ORDER BY p.id LIMIT $3";

// The claim repeats every condition of DUE_SQL: whichever instance updates first makes the row
// no longer due, so a second instance's update matches nothing.
const CLAIM_SQL: &str = "UPDATE person SET confirmation_requested_at = $1 \
     WHERE id = $2 AND state = 'active' \
       AND COALESCE(data_confirmed_at, created_at) <= $3 \
       AND (confirmation_requested_at IS NULL OR confirmation_requested_at <= $3) \
       AND organisation_id IN (SELECT id FROM organisation WHERE active = $4)";

impl Reminder {
    /// Looks for people to ask every `check_every` until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            match self.request_due().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(requests = n, "data confirmation requests queued"),
                Err(e) => tracing::warn!(error = %e, "data confirmation round failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.check_every) => {},
            }
        }
    }

    /// One round: queues a mail for everyone due; returns how many were queued by this instance.
    pub async fn request_due(&self) -> Result<usize> {
        let now = self.clock.now();
        let interval = time::Duration::try_from(self.interval)
            .map_err(|e| IdentityError::Internal(format!("confirmation interval: {e}")))?;
        let Some(threshold) = now.checked_sub(interval) else {
            return Ok(0);
        };
        let mut queued = 0;
        loop {
            let due: Vec<Due> = on_pool!(&self.db, read, |pool| {
                sqlx::query_as(DUE_SQL)
                    .bind(threshold)
                    .bind(true)
                    .bind(BATCH)
                    .fetch_all(pool)
                    .await
            })?;
            let full = i64::try_from(due.len()).unwrap_or(i64::MAX) >= BATCH;
            let mut claimed_here = 0;
            for person in &due {
                if self.request(person, now, threshold).await? {
                    claimed_here += 1;
                }
            }
            queued += claimed_here;
            // A full batch may hide more people; stop when another instance took them all.
            if !full || claimed_here == 0 {
                break;
            }
        }
        if queued > 0 {
            self.sender.wake();
        }
        Ok(queued)
    }

    /// Claims `person` and queues their mail and audit record, in one transaction. `false`
    /// when the person is no longer due (another instance was first, or they confirmed).
    async fn request(
        &self,
        person: &Due,
        now: OffsetDateTime,
        threshold: OffsetDateTime,
    ) -> Result<bool> {
        let mail = Mail {
            recipient: person.email.clone(),
            language: person.language.clone(),
            template: "data-confirmation",
            args: serde_json::json!({
                "name": person.first_name,
                "link": format!("{}/account", self.base_url.trim_end_matches('/')),
                "site": self.site_name,
            }),
        };
        let entry = NewEntry::new(now, "account.confirmation.requested", Outcome::Success)
            .subject("person", person.id)
            .organisation(person.organisation_id);
        let clock = self.clock.as_ref();
        write_tx!(&self.db, |tx| async {
            let claimed = sqlx::query(CLAIM_SQL)
                .bind(now)
                .bind(person.id)
                .bind(threshold)
                .bind(true)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if claimed != 1 {
                return Ok::<_, IdentityError>(false);
            }
            enqueue_in(&mut *tx, clock, &mail).await?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok(true)
        }
        .await)
        .await
    }
}

/// How a person confirmed their data, recorded in the audit entry's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmedBy {
    /// The "My data is correct" button.
    Button,
    /// Saving their profile.
    Profile,
}

impl ConfirmedBy {
    fn as_str(self) -> &'static str {
        match self {
            ConfirmedBy::Button => "button",
            ConfirmedBy::Profile => "profile",
        }
    }
}

/// The audit record of a confirmation by `person` (who is both actor and subject).
pub fn confirmed_entry(
    at: OffsetDateTime,
    person: Uuid,
    organisation: Uuid,
    by: ConfirmedBy,
) -> NewEntry {
    NewEntry::new(at, "account.confirmation.confirmed", Outcome::Success)
        .actor(person)
        .subject("person", person)
        .organisation(organisation)
        .detail(serde_json::json!({ "via": by.as_str() }))
}

/// The person says their data is correct: `data_confirmed_at` and the audit record
/// `account.confirmation.confirmed` commit together.
pub async fn confirm(
    db: &Db,
    clock: &dyn Clock,
    person: Uuid,
    client: Option<std::net::IpAddr>,
) -> Result<OffsetDateTime> {
    let now = clock.now();
    write_tx!(db, |tx| async {
        let organisation: Option<Uuid> = sqlx::query_scalar(
            "UPDATE person SET data_confirmed_at = $1 WHERE id = $2 RETURNING organisation_id",
        )
        .bind(now)
        .bind(person)
        .fetch_optional(&mut *tx)
        .await?;
        let organisation = organisation.ok_or(IdentityError::NotFound)?;
        let mut entry = confirmed_entry(now, person, organisation, ConfirmedBy::Button);
        if let Some(ip) = client {
            entry = entry.ip(ip);
        }
        extranet_audit::append_in(&mut *tx, &entry).await?;
        Ok::<_, IdentityError>(now)
    }
    .await)
    .await
}

/// When `person` last confirmed their data; `None` if never.
pub async fn confirmed_at(db: &Db, person: Uuid) -> Result<Option<OffsetDateTime>> {
    let at: Option<Option<OffsetDateTime>> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT data_confirmed_at FROM person WHERE id = $1")
            .bind(person)
            .fetch_optional(pool)
            .await
    })?;
    at.ok_or(IdentityError::NotFound)
}
