//! A second factor for signing in. Today that is TOTP (RFC 6238: an authenticator app) with
//! one-time recovery codes; passkeys (WebAuthn) will be another `kind` of the same
//! `second_factor` table.
//!
//! - **Who**: everyone holding one of `FactorSettings::required_roles` (by default those who
//!   can read other companies' data: admin, staff, privacy coordinator, inspector), and anyone
//!   else who chose to enrol on their account page.
//! - **Signing in** becomes two steps: a right password starts no session but a short-lived,
//!   single-use challenge ([`sign_in`]); the code (or a recovery code) completes it and the
//!   session starts, its audit record naming the factor used. Someone whose role requires a
//!   factor and who has none enrols at that moment, before any session, and sees their
//!   recovery codes once.
//! - **Codes** are good once (the last accepted 30-s step is stored), and wrong ones are
//!   throttled per person and per client address like sign-in (`throttle`), each failure
//!   audited — never with the code.
//! - **Managing** ([`manage`]): status, enrolment, new recovery codes, turning it off when no
//!   role requires it (with a current code or the password). An administrator's reset of
//!   someone else's factor lives in the directory (it is a policy decision).
//!
//! The TOTP secret has to be kept readable to check codes; it is stored as is (the database and
//! its backups must be protected accordingly), recovery codes and challenges only as hashes.

/// Inside a write transaction: confirms factor `$factor` of `$person` and replaces their
/// recovery codes with `$hashes`.
macro_rules! confirm_in {
    ($tx:ident, $person:expr, $factor:expr, $now:expr, $hashes:expr) => {
        sqlx::query($crate::factor::store::CONFIRM)
            .bind($now)
            .bind($factor)
            .execute(&mut *$tx)
            .await?;
        replace_codes_in!($tx, $person, $now, $hashes);
    };
}

/// Inside a write transaction: replaces `$person`'s recovery codes with `$hashes`.
macro_rules! replace_codes_in {
    ($tx:ident, $person:expr, $now:expr, $hashes:expr) => {
        sqlx::query($crate::factor::store::DELETE_RECOVERY_CODES)
            .bind($person)
            .execute(&mut *$tx)
            .await?;
        for hash in $hashes {
            sqlx::query($crate::factor::store::INSERT_RECOVERY_CODE)
                .bind(hash)
                .bind($person)
                .bind($now)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

pub mod codes;
pub mod manage;
pub mod sign_in;
pub mod store;
pub mod totp;

use std::net::IpAddr;
use std::time::Duration;

use extranet_audit::{NewEntry, Outcome};
use uuid::Uuid;

use crate::auth::Auth;
use crate::error::Result;
use crate::model::Role;
use crate::throttle::{self, ThrottleSettings};
use codes::Presented;

/// What the second factor asks of whom, and how hard wrong codes are slowed down.
#[derive(Debug, Clone)]
pub struct FactorSettings {
    /// Holders of these roles must sign in with a second factor, and enrol at their next
    /// sign-in when they have none.
    pub required_roles: Vec<Role>,
    /// The name authenticator apps show beside the code (the site's name).
    pub issuer: String,
    /// Wrong codes, counted per person and per client address.
    pub throttle: ThrottleSettings,
    /// How long a sign-in may wait for its code.
    pub challenge_lifetime: Duration,
    /// How long a sign-in may wait for an enrolment (installing an app takes a while).
    pub enrolment_lifetime: Duration,
}

/// The roles that require a second factor unless configured otherwise: everyone who can read
/// other companies' data.
pub const DEFAULT_REQUIRED_ROLES: [Role; 4] = [
    Role::Admin,
    Role::Staff,
    Role::PrivacyOfficer,
    Role::Inspector,
];

/// Wrong codes in a row before each further attempt must wait.
pub const DEFAULT_ATTEMPTS: u32 = 5;

impl Default for FactorSettings {
    fn default() -> Self {
        FactorSettings {
            required_roles: DEFAULT_REQUIRED_ROLES.to_vec(),
            issuer: "Extranet".into(),
            throttle: throttle_settings(
                DEFAULT_ATTEMPTS,
                Duration::from_secs(30),
                Duration::from_secs(900),
            ),
            challenge_lifetime: Duration::from_secs(5 * 60),
            enrolment_lifetime: Duration::from_secs(15 * 60),
        }
    }
}

/// Throttling after `attempts` wrong codes: the attempt after the last allowed one waits
/// `base_delay`, each further failure doubles it up to `max_delay`.
pub fn throttle_settings(
    attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
) -> ThrottleSettings {
    ThrottleSettings {
        // The throttle lets `free_attempts` failures through and delays from the next one on;
        // here the `attempts`-th wrong code already starts the wait.
        free_attempts: attempts.saturating_sub(1),
        base_delay,
        max_delay,
        ..ThrottleSettings::default()
    }
}

impl FactorSettings {
    pub fn required_for(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.required_roles.contains(r))
    }
}

/// What a client needs to add the factor to an authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The shared secret in base32, for typing it in.
    pub secret: String,
    /// The `otpauth://` URI a QR code carries.
    pub uri: String,
}

/// A sign-in whose password was right and whose second step is pending.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// What the client holds (a cookie, or the API's `challenge`); good once.
    pub token: String,
    pub expires_in: Duration,
    /// `Some` when the person has no factor yet and must enrol now.
    pub enrolment: Option<Enrolment>,
}

/// Which factor a code is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Against {
    /// The confirmed factor; with `recovery`, one of the recovery codes too.
    Confirmed { recovery: bool },
    /// The enrolment in progress.
    Pending,
}

/// What proved the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    Totp,
    RecoveryCode,
    Password,
}

impl Used {
    pub fn as_str(self) -> &'static str {
        match self {
            Used::Totp => "totp",
            Used::RecoveryCode => "recovery_code",
            Used::Password => "password",
        }
    }
}

/// What a person presents to prove it is them.
#[derive(Debug, Clone)]
pub enum Proof {
    Code(String),
    Password(String),
}

/// The answer to a code.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Checked {
    Accepted(Used),
    Wrong,
    Throttled(Duration),
}

fn person_key(person: Uuid) -> String {
    format!("second_factor:{person}")
}

/// Separate from sign-in's address key: a wrong code and a wrong password are counted apart.
fn address_key(ip: IpAddr) -> String {
    format!("second_factor_ip:{ip}")
}

fn with_ip(entry: NewEntry, client: Option<IpAddr>) -> NewEntry {
    match client {
        Some(ip) => entry.ip(ip),
        None => entry,
    }
}

impl Auth {
    /// Checks `proof` against the person's factor (or password), throttled per person and per
    /// address; a TOTP code is spent (its step can never be used again), so is a recovery code.
    /// Every failure and every throttled attempt is audited, without what was typed.
    async fn check_proof(
        &self,
        person: Uuid,
        proof: &Proof,
        against: Against,
        client: Option<IpAddr>,
        during: &'static str,
    ) -> Result<Checked> {
        let mut keys = vec![person_key(person)];
        if let Some(ip) = client {
            keys.push(address_key(ip));
        }
        let clock = self.clock.as_ref();
        if let Some(wait) = throttle::blocked_for(&self.db, clock, &keys).await? {
            self.audit_factor(
                NewEntry::new(clock.now(), "auth.second_factor.throttled", Outcome::Denied)
                    .actor(person)
                    .subject("person", person)
                    .detail(serde_json::json!({ "during": during })),
                client,
            )
            .await;
            return Ok(Checked::Throttled(wait));
        }
        let outcome = match proof {
            Proof::Code(raw) => self.spend_code(person, raw, against).await?,
            Proof::Password(pw) => self.matches_password(person, pw).await?,
        };
        match outcome {
            Ok(used) => {
                throttle::record_success(&self.db, &person_key(person)).await?;
                Ok(Checked::Accepted(used))
            }
            Err(reason) => {
                throttle::record_failure(&self.db, clock, &self.second_factor.throttle, &keys)
                    .await?;
                self.audit_factor(
                    NewEntry::new(clock.now(), "auth.second_factor.failure", Outcome::Failure)
                        .actor(person)
                        .subject("person", person)
                        .detail(serde_json::json!({ "reason": reason, "during": during })),
                    client,
                )
                .await;
                Ok(Checked::Wrong)
            }
        }
    }

    /// The code's verdict: what it was, or why it was refused.
    async fn spend_code(
        &self,
        person: Uuid,
        raw: &str,
        against: Against,
    ) -> Result<std::result::Result<Used, &'static str>> {
        let now = self.clock.now();
        match codes::classify(raw) {
            Presented::Totp(code) => {
                let row = match against {
                    Against::Confirmed { .. } => store::confirmed_totp(&self.db, person).await?,
                    Against::Pending => store::pending_totp(&self.db, person).await?,
                };
                let Some((id, secret)) = row
                    .map(|r| r.opened(&self.tokens.sealer))
                    .transpose()?
                    .flatten()
                else {
                    return Ok(Err("no authenticator"));
                };
                let Some(step) = totp::matching_step(&secret, &code, now.unix_timestamp()) else {
                    return Ok(Err("wrong code"));
                };
                if store::accept_step(&self.db, id, step, now).await? {
                    Ok(Ok(Used::Totp))
                } else {
                    Ok(Err("code already used"))
                }
            }
            Presented::Recovery(code) if against == (Against::Confirmed { recovery: true }) => {
                let Some(hash) = codes::hash(&code) else {
                    return Ok(Err("not a code"));
                };
                if store::spend_recovery_code(&self.db, person, &hash, now).await? {
                    Ok(Ok(Used::RecoveryCode))
                } else {
                    Ok(Err("wrong recovery code"))
                }
            }
            Presented::Recovery(_) => Ok(Err("recovery code not accepted here")),
            Presented::Malformed => Ok(Err("not a code")),
        }
    }

    async fn matches_password(
        &self,
        person: Uuid,
        pw: &str,
    ) -> Result<std::result::Result<Used, &'static str>> {
        if pw.len() > crate::password::MAX_LENGTH * 4 {
            return Ok(Err("wrong password"));
        }
        let stored = crate::store::password_hash(&self.db, person).await?;
        Ok(match stored {
            Some(hash) if crate::password::verify(pw, &hash) => Ok(Used::Password),
            _ => Err("wrong password"),
        })
    }

    /// An enrolment for `secret`, as the person's app will show it.
    fn enrolment(&self, secret: &[u8], account: &str) -> Result<Enrolment> {
        Ok(Enrolment {
            secret: totp::base32(secret),
            uri: totp::otpauth_uri(secret, &self.second_factor.issuer, account)?,
        })
    }

    /// Writes an audit record of its own. A failure to record is logged loudly; it does not
    /// turn a refusal into an error page.
    async fn audit_factor(&self, entry: NewEntry, client: Option<IpAddr>) {
        let entry = with_ip(entry, client);
        if let Err(e) = extranet_audit::append(&self.db, &entry).await {
            tracing::error!(error = %e, action = %entry.action, "audit record not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_wrong_code_starts_the_wait() {
        let s = FactorSettings::default();
        assert_eq!(s.throttle.free_attempts, 4);
        assert!(s.required_for(&[Role::Inspector]));
        assert!(!s.required_for(&[Role::ClientAdmin, Role::ClientUser]));
    }
}
