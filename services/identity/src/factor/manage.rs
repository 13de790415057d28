//! A signed-in person's own second factor: its status, enrolment (clients opt in here; anyone
//! may replace a lost factor after an administrator's reset), new recovery codes, and turning
//! it off when no role of theirs requires it.

use std::net::IpAddr;
use std::time::Duration;

use extranet_audit::{NewEntry, Outcome};
use extranet_platform::write_tx;
use time::OffsetDateTime;
use uuid::Uuid;

use super::store::{self, NewCodes};
use super::{Against, Checked, Enrolment, Proof, totp, with_ip};
use crate::auth::Auth;
use crate::error::{IdentityError, Result};
use crate::model::Person;

/// Where a person's second factor stands.
#[derive(Debug, Clone)]
pub struct Status {
    /// Since when they have a confirmed factor, if they do.
    pub enrolled_since: Option<OffsetDateTime>,
    /// A role of theirs requires one (they cannot turn it off).
    pub required: bool,
    pub recovery_codes_left: u32,
}

impl Status {
    pub fn enrolled(&self) -> bool {
        self.enrolled_since.is_some()
    }
}

/// How a change to one's own factor ended.
#[derive(Debug)]
pub enum Manage<T> {
    Done(T),
    /// The code or password was not right.
    Wrong,
    Throttled(Duration),
    /// There is no confirmed factor to act on.
    NotEnrolled,
    /// There already is one: it must be turned off (or reset) before another is enrolled.
    AlreadyEnrolled,
    /// No enrolment was started (or it was replaced).
    NoEnrolment,
    /// A role of theirs requires a second factor: it cannot be turned off.
    RequiredByRole,
}

impl Auth {
    pub async fn second_factor_status(&self, person: Uuid) -> Result<Status> {
        let p = crate::store::get_person(&self.db, person).await?;
        let confirmed = store::confirmed_totp(&self.db, person).await?;
        Ok(Status {
            enrolled_since: confirmed.and_then(|f| f.confirmed_at),
            required: self.second_factor.required_for(&p.roles),
            recovery_codes_left: store::recovery_codes_left(&self.db, person).await?,
        })
    }

    /// Starts an enrolment: a new secret, not in force until a first code confirms it. The
    /// password is asked again: a borrowed session must not be able to tie the account to
    /// someone else's phone (and so lock its owner out).
    pub async fn begin_enrolment(
        &self,
        person: Uuid,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Manage<Enrolment>> {
        if store::confirmed_totp(&self.db, person).await?.is_some() {
            return Ok(Manage::AlreadyEnrolled);
        }
        let proof = Proof::Password(password.to_owned());
        match self
            .check_proof(person, &proof, Against::Pending, client, "enrolment")
            .await?
        {
            Checked::Accepted(_) => {}
            Checked::Wrong => return Ok(Manage::Wrong),
            Checked::Throttled(wait) => return Ok(Manage::Throttled(wait)),
        }
        let p = crate::store::get_person(&self.db, person).await?;
        let secret = totp::new_secret();
        let now = self.clock.now();
        let entry = own_entry(&p, now, "auth.second_factor.enrolment_started", client);
        let id = Uuid::now_v7();
        let sealed = store::seal(&self.tokens.sealer, id, &secret)?;
        let res: Result<()> = write_tx!(&self.db, |tx| async {
            sqlx::query(store::DELETE_PENDING)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            sqlx::query(store::INSERT_TOTP)
                .bind(id)
                .bind(person)
                .bind("Authenticator app")
                .bind(&sealed)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<(), IdentityError>(())
        }
        .await)
        .await;
        res?;
        Ok(Manage::Done(self.enrolment(&secret, &p.email)?))
    }

    /// The enrolment in progress, to show it again (after a wrong code).
    pub async fn pending_enrolment(&self, person: Uuid) -> Result<Option<Enrolment>> {
        let Some((_, secret)) = store::pending_totp(&self.db, person)
            .await?
            .map(|f| f.opened(&self.tokens.sealer))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        let email = crate::store::get_person(&self.db, person).await?.email;
        Ok(Some(self.enrolment(&secret, &email)?))
    }

    /// Confirms the enrolment in progress with its first code; answers the recovery codes,
    /// which are shown this once.
    pub async fn confirm_enrolment(
        &self,
        person: Uuid,
        code: &str,
        client: Option<IpAddr>,
    ) -> Result<Manage<Vec<String>>> {
        if store::confirmed_totp(&self.db, person).await?.is_some() {
            return Ok(Manage::AlreadyEnrolled);
        }
        let Some(factor) = store::pending_totp(&self.db, person).await? else {
            return Ok(Manage::NoEnrolment);
        };
        let proof = Proof::Code(code.to_owned());
        match self
            .check_proof(person, &proof, Against::Pending, client, "enrolment")
            .await?
        {
            Checked::Accepted(_) => {}
            Checked::Wrong => return Ok(Manage::Wrong),
            Checked::Throttled(wait) => return Ok(Manage::Throttled(wait)),
        }
        let p = crate::store::get_person(&self.db, person).await?;
        let now = self.clock.now();
        let codes = NewCodes::generate();
        let entry = own_entry(&p, now, "auth.second_factor.enrol", client)
            .detail(serde_json::json!({ "kind": "totp", "during": "account" }));
        let res: Result<()> = write_tx!(&self.db, |tx| async {
            confirm_in!(tx, person, factor.id, now, &codes.hashes);
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<(), IdentityError>(())
        }
        .await)
        .await;
        res?;
        Ok(Manage::Done(codes.plain))
    }

    /// A new set of recovery codes (the old ones stop working), after a current code.
    pub async fn new_recovery_codes(
        &self,
        person: Uuid,
        code: &str,
        client: Option<IpAddr>,
    ) -> Result<Manage<Vec<String>>> {
        if store::confirmed_totp(&self.db, person).await?.is_none() {
            return Ok(Manage::NotEnrolled);
        }
        let proof = Proof::Code(code.to_owned());
        let against = Against::Confirmed { recovery: false };
        match self
            .check_proof(person, &proof, against, client, "recovery codes")
            .await?
        {
            Checked::Accepted(_) => {}
            Checked::Wrong => return Ok(Manage::Wrong),
            Checked::Throttled(wait) => return Ok(Manage::Throttled(wait)),
        }
        let p = crate::store::get_person(&self.db, person).await?;
        let now = self.clock.now();
        let codes = NewCodes::generate();
        let entry = own_entry(&p, now, "auth.second_factor.recovery_codes", client)
            .detail(serde_json::json!({ "count": codes.plain.len() }));
        let res: Result<()> = write_tx!(&self.db, |tx| async {
            replace_codes_in!(tx, person, now, &codes.hashes);
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<(), IdentityError>(())
        }
        .await)
        .await;
        res?;
        Ok(Manage::Done(codes.plain))
    }

    /// Turns one's own second factor off, when no role requires it, after a current code (or
    /// a recovery code) or the password.
    pub async fn disable_second_factor(
        &self,
        person: Uuid,
        proof: &Proof,
        client: Option<IpAddr>,
    ) -> Result<Manage<()>> {
        let p = crate::store::get_person(&self.db, person).await?;
        if self.second_factor.required_for(&p.roles) {
            return Ok(Manage::RequiredByRole);
        }
        if store::confirmed_totp(&self.db, person).await?.is_none() {
            return Ok(Manage::NotEnrolled);
        }
        let against = Against::Confirmed { recovery: true };
        let used = match self
            .check_proof(person, proof, against, client, "turning off")
            .await?
        {
            Checked::Accepted(used) => used,
            Checked::Wrong => return Ok(Manage::Wrong),
            Checked::Throttled(wait) => return Ok(Manage::Throttled(wait)),
        };
        let now = self.clock.now();
        let entry = own_entry(&p, now, "auth.second_factor.disable", client)
            .detail(serde_json::json!({ "proof": used.as_str() }));
        let res: Result<()> = write_tx!(&self.db, |tx| async {
            sqlx::query(store::DELETE_FACTORS)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            sqlx::query(store::DELETE_RECOVERY_CODES)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<(), IdentityError>(())
        }
        .await)
        .await;
        res?;
        Ok(Manage::Done(()))
    }
}

/// An audit record of a person acting on their own factor.
fn own_entry(p: &Person, now: OffsetDateTime, action: &str, client: Option<IpAddr>) -> NewEntry {
    with_ip(
        NewEntry::new(now, action, Outcome::Success)
            .actor(p.id)
            .organisation(p.organisation_id)
            .subject("person", p.id),
        client,
    )
}
