//! Forgotten passwords and invitations: a single-use link by e-mail, in the person's language,
//! then a new password that passes the strength check. Asking never reveals whether an
//! account exists.

use std::sync::Arc;
use std::time::Duration;

use extranet_audit::{NewEntry, Outcome};
use extranet_notify::{Mail, Sender, enqueue_in};

use std::net::IpAddr;

use crate::auth::Auth;
use crate::error::{IdentityError, Result};
use crate::onetime::{self, Purpose};
use crate::password::{self, Weakness};
use crate::store;
use crate::throttle::{self, ThrottleSettings};

pub const RESET_LIFETIME: Duration = Duration::from_secs(60 * 60);
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

pub struct Recovery {
    pub auth: Arc<Auth>,
    /// `https://extranet.example.org`: links in mails start here (never the request's Host).
    pub base_url: String,
    pub site_name: String,
    pub sender: Arc<Sender>,
    pub limits: MailLimits,
}

/// How many link mails go out, so that the form cannot be used to flood a mailbox or to send
/// mail in bulk from one address.
#[derive(Debug, Clone)]
pub struct MailLimits {
    /// Reset and invitation links mailed to one account within an hour.
    pub per_account_per_hour: u32,
    /// Mails asked from one client address: `free_attempts` of them, then each further one waits
    /// (the wait doubles), forgotten after an hour without one.
    pub per_address: ThrottleSettings,
}

impl Default for MailLimits {
    fn default() -> Self {
        MailLimits {
            per_account_per_hour: 3,
            per_address: ThrottleSettings {
                // Twenty mails, then a wait: the throttle blocks after `free_attempts` + 1.
                free_attempts: 19,
                base_delay: Duration::from_secs(60),
                max_delay: Duration::from_secs(60 * 60),
                forget_after: Duration::from_secs(60 * 60),
            },
        }
    }
}

const HOUR: Duration = Duration::from_secs(60 * 60);

#[derive(Debug)]
pub enum SetPassword {
    Done,
    /// The link is unknown, used or expired.
    InvalidLink,
    Weak(Weakness),
}

impl Recovery {
    /// Sends a reset link if `email` belongs to an active account; does the same visible work
    /// either way. Within the limits ([`MailLimits`]): past them nothing is sent, the refusal is
    /// recorded, and the answer is still the same, so that accounts cannot be told apart.
    pub async fn request_reset(&self, email: &str, client: Option<IpAddr>) -> Result<()> {
        let db = &self.auth.db;
        if self.address_wait(client).await?.is_some() {
            self.refused("auth.password.reset_throttled", None, client, "address")
                .await;
            return Ok(());
        }
        self.count_address(client).await?;
        let Some(creds) = store::credentials_by_email(db, email).await? else {
            return Ok(());
        };
        if !creds.may_sign_in() {
            return Ok(());
        }
        let person = store::get_person(db, creds.person_id).await?;
        if self.account_wait(person.id).await?.is_some() {
            self.refused(
                "auth.password.reset_throttled",
                Some(person.id),
                client,
                "account",
            )
            .await;
            return Ok(());
        }
        let entry = NewEntry::new(
            self.auth.clock.now(),
            "auth.password.reset_requested",
            Outcome::Success,
        )
        .subject("person", person.id)
        .organisation(person.organisation_id);
        self.send_link(&person, Purpose::PasswordReset, entry, None, false)
            .await
    }

    /// Sends an invitation link to a person whose account was created without a password. Past
    /// the account's limit, [`IdentityError::Throttled`]; the address's is checked before the
    /// account is created ([`Recovery::invitation_wait`]) and counted here.
    pub async fn invite(&self, person: uuid::Uuid, client: Option<IpAddr>) -> Result<()> {
        self.invite_by(person, client, None).await
    }

    /// [`Recovery::invite`], naming who invited (kept with the link, for the list of pending
    /// invitations).
    pub async fn invite_by(
        &self,
        person: uuid::Uuid,
        client: Option<IpAddr>,
        actor: Option<uuid::Uuid>,
    ) -> Result<()> {
        if let Some(wait) = self.account_wait(person).await? {
            return Err(IdentityError::Throttled(wait));
        }
        self.count_address(client).await?;
        let person = store::get_person(&self.auth.db, person).await?;
        let entry = NewEntry::new(self.auth.clock.now(), "account.invited", Outcome::Success)
            .subject("person", person.id)
            .organisation(person.organisation_id);
        self.send_link(&person, Purpose::Invitation, entry, actor, false)
            .await
    }

    /// Mails an invitation again with a fresh link: the unused links of the earlier mails stop
    /// working in the transaction that creates the new one, its mail and `entry` (the caller's
    /// audit record). The same limits as the first mail apply ([`IdentityError::Throttled`]).
    pub async fn resend_invitation(
        &self,
        person: uuid::Uuid,
        client: Option<IpAddr>,
        actor: uuid::Uuid,
        entry: NewEntry,
    ) -> Result<()> {
        if let Some(wait) = self.account_wait(person).await? {
            return Err(IdentityError::Throttled(wait));
        }
        if let Some(wait) = self.address_wait(client).await? {
            return Err(IdentityError::Throttled(wait));
        }
        self.count_address(client).await?;
        let person = store::get_person(&self.auth.db, person).await?;
        self.send_link(&person, Purpose::Invitation, entry, Some(actor), true)
            .await
    }

    /// How long an invitation asked from `client` must wait, if it must (checked before the
    /// account is created, so that a refused invitation leaves no account behind).
    pub async fn invitation_wait(&self, client: Option<IpAddr>) -> Result<Option<Duration>> {
        self.address_wait(client).await
    }

    async fn address_wait(&self, client: Option<IpAddr>) -> Result<Option<Duration>> {
        let keys: Vec<String> = client.map(throttle::mail_key).into_iter().collect();
        throttle::blocked_for(&self.auth.db, self.auth.clock.as_ref(), &keys).await
    }

    async fn count_address(&self, client: Option<IpAddr>) -> Result<()> {
        let keys: Vec<String> = client.map(throttle::mail_key).into_iter().collect();
        throttle::record_failure(
            &self.auth.db,
            self.auth.clock.as_ref(),
            &self.limits.per_address,
            &keys,
        )
        .await
    }

    /// How long until another link may be mailed to `person`, if the hour's are used up.
    async fn account_wait(&self, person: uuid::Uuid) -> Result<Option<Duration>> {
        let now = self.auth.clock.now();
        let sent = onetime::created_since(&self.auth.db, person, now - HOUR).await?;
        let limit = usize::try_from(self.limits.per_account_per_hour).unwrap_or(usize::MAX);
        if sent.len() < limit {
            return Ok(None);
        }
        // The oldest of the hour's links that must age out for one more to fit.
        let oldest = sent.get(sent.len() - limit).copied().unwrap_or(now);
        let frees_at = oldest + HOUR;
        Ok(Some(
            Duration::try_from(frees_at - now).unwrap_or(Duration::from_secs(1)),
        ))
    }

    async fn refused(
        &self,
        action: &'static str,
        person: Option<uuid::Uuid>,
        client: Option<IpAddr>,
        limit: &str,
    ) {
        let mut entry = NewEntry::new(self.auth.clock.now(), action, Outcome::Denied)
            .detail(serde_json::json!({ "limit": limit }));
        if let Some(p) = person {
            entry = entry.subject("person", p);
        }
        if let Some(ip) = client {
            entry = entry.ip(ip);
        }
        if let Err(e) = extranet_audit::append(&self.auth.db, &entry).await {
            tracing::error!(error = %e, action, "audit record not written");
        }
    }

    /// The link token, its mail and the audit record commit together or not at all: a link
    /// that exists was mailed, and a mail in the outbox holds a link that works. `replace`: the
    /// person's unused links of this purpose are used up first (a resent invitation).
    async fn send_link(
        &self,
        person: &crate::model::Person,
        purpose: Purpose,
        entry: NewEntry,
        actor: Option<uuid::Uuid>,
        replace: bool,
    ) -> Result<()> {
        let clock = self.auth.clock.as_ref();
        let (template, path, lifetime) = match purpose {
            Purpose::PasswordReset => ("password-reset", "/password/reset", RESET_LIFETIME),
            Purpose::Invitation => ("invitation", "/password/set", INVITATION_LIFETIME),
        };
        let link = onetime::NewLink::new(clock, purpose, lifetime);
        let mail = Mail {
            recipient: person.email.clone(),
            language: person.language.code().to_owned(),
            template,
            args: serde_json::json!({
                "name": person.first_name,
                "link": format!("{}{path}?token={}", self.base_url.trim_end_matches('/'), link.token),
                "site": self.site_name,
                "minutes": lifetime.as_secs() / 60,
            }),
        };
        let res: Result<()> = extranet_platform::write_tx!(&self.auth.db, |tx| async {
            if replace {
                sqlx::query(
                    "UPDATE one_time_token SET used_at = $1 WHERE person_id = $2 \
                     AND purpose = $3 AND used_at IS NULL",
                )
                .bind(link.created_at)
                .bind(person.id)
                .bind(purpose.as_str())
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(onetime::INSERT)
                .bind(&link.hash)
                .bind(person.id)
                .bind(link.purpose)
                .bind(link.created_at)
                .bind(link.expires_at)
                .bind(actor)
                .execute(&mut *tx)
                .await?;
            enqueue_in(&mut *tx, clock, &mail).await?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<_, crate::IdentityError>(())
        }
        .await)
        .await;
        res?;
        self.sender.wake();
        Ok(())
    }

    /// Whether a link can still be used (to show its form).
    pub async fn link_is_valid(&self, token: &str, purpose: Purpose) -> Result<bool> {
        Ok(
            onetime::peek(&self.auth.db, self.auth.clock.as_ref(), token, purpose)
                .await?
                .is_some(),
        )
    }

    /// Sets a new password through a link. Every session of the person ends.
    pub async fn set_password(
        &self,
        token: &str,
        purpose: Purpose,
        new_password: &str,
    ) -> Result<SetPassword> {
        let db = &self.auth.db;
        let clock = self.auth.clock.as_ref();
        let Some(person_id) = onetime::peek(db, clock, token, purpose).await? else {
            return Ok(SetPassword::InvalidLink);
        };
        let person = store::get_person(db, person_id).await?;
        if let Err(weak) = password::check_strength(
            new_password,
            &[&person.first_name, &person.surname, &person.email],
        ) {
            return Ok(SetPassword::Weak(weak));
        }
        if onetime::consume(db, clock, token, purpose).await?.is_none() {
            return Ok(SetPassword::InvalidLink);
        }
        let hash = password::hash(new_password)
            .map_err(|e| crate::IdentityError::Internal(e.to_string()))?;
        let now = clock.now();
        let ended = store::replace_password(db, clock, person_id, &hash, None, |ended| {
            NewEntry::new(now, "auth.password.set", Outcome::Success)
                .subject("person", person_id)
                .detail(serde_json::json!({ "sessions_ended": ended }))
        })
        .await?;
        self.auth.revocations.after_commit(db, clock, &ended).await;
        Ok(SetPassword::Done)
    }
}
