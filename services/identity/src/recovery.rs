//! Forgotten passwords and invitations: a single-use link by e-mail, in the person's language,
//! then a new password that passes the strength check. Asking never reveals whether an
//! account exists.

use std::sync::Arc;
use std::time::Duration;

use extranet_audit::{NewEntry, Outcome};
use extranet_notify::{Mail, Sender, enqueue_in};

use crate::auth::Auth;
use crate::error::Result;
use crate::onetime::{self, Purpose};
use crate::password::{self, Weakness};
use crate::store;

pub const RESET_LIFETIME: Duration = Duration::from_secs(60 * 60);
pub const INVITATION_LIFETIME: Duration = Duration::from_secs(7 * 24 * 60 * 60);

pub struct Recovery {
    pub auth: Arc<Auth>,
    /// `https://extranet.example.org`: links in mails start here (never the request's Host).
    pub base_url: String,
    pub site_name: String,
    pub sender: Arc<Sender>,
}

#[derive(Debug)]
pub enum SetPassword {
    Done,
    /// The link is unknown, used or expired.
    InvalidLink,
    Weak(Weakness),
}

impl Recovery {
    /// Sends a reset link if `email` belongs to an active account; does the same visible work
    /// either way.
    pub async fn request_reset(&self, email: &str) -> Result<()> {
        let db = &self.auth.db;
        let Some(creds) = store::credentials_by_email(db, email).await? else {
            return Ok(());
        };
        if !creds.may_sign_in() {
            return Ok(());
        }
        let person = store::get_person(db, creds.person_id).await?;
        self.send_link(
            &person,
            Purpose::PasswordReset,
            "auth.password.reset_requested",
        )
        .await
    }

    /// Sends an invitation link to a person whose account was just created without a password.
    pub async fn invite(&self, person: uuid::Uuid) -> Result<()> {
        let person = store::get_person(&self.auth.db, person).await?;
        self.send_link(&person, Purpose::Invitation, "account.invited")
            .await
    }

    /// The link token, its mail and the audit record commit together or not at all: a link
    /// that exists was mailed, and a mail in the outbox holds a link that works.
    async fn send_link(
        &self,
        person: &crate::model::Person,
        purpose: Purpose,
        action: &'static str,
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
        let entry = NewEntry::new(clock.now(), action, Outcome::Success)
            .subject("person", person.id)
            .organisation(person.organisation_id);
        let res: Result<()> = extranet_platform::write_tx!(&self.auth.db, |tx| async {
            sqlx::query(onetime::INSERT)
                .bind(&link.hash)
                .bind(person.id)
                .bind(link.purpose)
                .bind(link.created_at)
                .bind(link.expires_at)
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
