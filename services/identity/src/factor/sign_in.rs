//! The second step of signing in. A right password for someone with a factor (or whose role
//! requires one) starts no session: [`gate`] records a challenge (only its hash) and answers
//! its token; [`Auth::complete_sign_in`] takes the token and a code and starts the session,
//! in the same transaction as the audit record that names the factor used.

use std::net::IpAddr;

use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{on_pool, write_tx};
use uuid::Uuid;

use super::store::{self, NewCodes};
use super::{Against, Challenge, Checked, Enrolment, Proof, Used, totp, with_ip};
use crate::auth::{Auth, Issued};
use crate::error::{IdentityError, Result};
use crate::sessions::{self, hash_token, new_token};
use crate::store::Credentials;

const VERIFY: &str = "verify";
const ENROL: &str = "enrol";

/// Decides, once the password was right, whether a second step is needed; when it is, records
/// the challenge (and for someone who must enrol, a new secret) with its audit record.
pub(crate) async fn gate(
    auth: &Auth,
    creds: &Credentials,
    client: Option<IpAddr>,
) -> Result<Option<Challenge>> {
    let person = creds.person_id;
    let enrolled = store::confirmed_totp(&auth.db, person).await?.is_some();
    let account = crate::store::get_person(&auth.db, person).await?;
    let must_enrol = !enrolled && auth.second_factor.required_for(&account.roles);
    if !enrolled && !must_enrol {
        return Ok(None);
    }
    let now = auth.clock.now();
    let token = new_token();
    let hash = hash_token(&token);
    let (purpose, lifetime) = if enrolled {
        (VERIFY, auth.second_factor.challenge_lifetime)
    } else {
        (ENROL, auth.second_factor.enrolment_lifetime)
    };
    let expires = now + lifetime;
    let secret = must_enrol.then(totp::new_secret);
    let entry = with_ip(
        NewEntry::new(now, "auth.second_factor.challenge", Outcome::Success)
            .actor(person)
            .organisation(creds.organisation_id)
            .subject("person", person)
            .detail(serde_json::json!({ "step": purpose })),
        client,
    );
    let factor_id = Uuid::now_v7();
    let sealed = secret
        .as_ref()
        .map(|s| store::seal(&auth.tokens.sealer, factor_id, s))
        .transpose()?;
    let res: Result<()> = write_tx!(&auth.db, |tx| async {
        sqlx::query(store::INSERT_CHALLENGE)
            .bind(&hash)
            .bind(person)
            .bind(purpose)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
        if let Some(sealed) = &sealed {
            // A new sign-in starts its enrolment afresh: an earlier, unfinished one is dropped.
            sqlx::query(store::DELETE_PENDING)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            sqlx::query(store::INSERT_TOTP)
                .bind(factor_id)
                .bind(person)
                .bind("Authenticator app")
                .bind(sealed)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        extranet_audit::append_in(&mut *tx, &entry).await?;
        Ok::<(), IdentityError>(())
    }
    .await)
    .await;
    res?;
    let enrolment = match &secret {
        Some(s) => Some(auth.enrolment(s, &account.email)?),
        None => None,
    };
    Ok(Some(Challenge {
        token,
        expires_in: lifetime,
        enrolment,
    }))
}

/// A sign-in waiting for its second step, as its page shows it.
#[derive(Debug, Clone)]
pub struct PendingSignIn {
    /// `Some` when the person must enrol first: what to put in their app.
    pub enrolment: Option<Enrolment>,
}

/// How a second step ended.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in.
    Done { issued: Box<Issued>, via: Via },
    /// The code was not right (or already used); the challenge stays usable.
    Wrong,
    /// Too many wrong codes: try again after this long.
    Throttled(std::time::Duration),
    /// The challenge is unknown, used or expired, or the account can no longer sign in:
    /// start again with the password.
    Expired,
}

/// What completed the sign-in.
#[derive(Debug, Clone)]
pub enum Via {
    Totp,
    /// A recovery code, now spent; this many are left.
    RecoveryCode {
        left: u32,
    },
    /// A first code from a new enrolment; the recovery codes to show, once.
    Enrolled {
        recovery_codes: Vec<String>,
    },
}

impl Auth {
    /// The sign-in a challenge token stands for, if it can still be completed.
    pub async fn pending_sign_in(&self, token: &str) -> Result<Option<PendingSignIn>> {
        let now = self.clock.now();
        let Some((person, purpose)) =
            store::live_challenge(&self.db, &hash_token(token), now).await?
        else {
            return Ok(None);
        };
        if purpose != ENROL {
            return Ok(Some(PendingSignIn { enrolment: None }));
        }
        let Some((_, secret)) = store::pending_totp(&self.db, person)
            .await?
            .map(|f| f.opened(&self.tokens.sealer))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        let email = crate::store::get_person(&self.db, person).await?.email;
        Ok(Some(PendingSignIn {
            enrolment: Some(self.enrolment(&secret, &email)?),
        }))
    }

    /// Completes a sign-in with a TOTP code or a recovery code (or, for someone enrolling, the
    /// first code of the new factor).
    pub async fn complete_sign_in(
        &self,
        token: &str,
        code: &str,
        client: Option<IpAddr>,
    ) -> Result<SignIn> {
        let hash = hash_token(token);
        let Some((person, purpose)) =
            store::live_challenge(&self.db, &hash, self.clock.now()).await?
        else {
            return Ok(SignIn::Expired);
        };
        let Some(creds) = crate::store::credentials_by_id(&self.db, person)
            .await?
            .filter(Credentials::may_sign_in)
        else {
            return Ok(SignIn::Expired);
        };
        let enrolling = purpose == ENROL;
        let against = if enrolling {
            Against::Pending
        } else {
            Against::Confirmed { recovery: true }
        };
        let proof = Proof::Code(code.to_owned());
        let used = match self
            .check_proof(person, &proof, against, client, "sign-in")
            .await?
        {
            Checked::Accepted(used) => used,
            Checked::Wrong => return Ok(SignIn::Wrong),
            Checked::Throttled(wait) => return Ok(SignIn::Throttled(wait)),
        };
        let via = if enrolling {
            match self.finish_enrolment(person, &creds, &hash, client).await? {
                Some(recovery_codes) => Via::Enrolled { recovery_codes },
                None => return Ok(SignIn::Expired),
            }
        } else {
            if !self.consume(&hash).await? {
                return Ok(SignIn::Expired);
            }
            match used {
                Used::RecoveryCode => Via::RecoveryCode {
                    left: store::recovery_codes_left(&self.db, person).await?,
                },
                _ => Via::Totp,
            }
        };
        let detail = match &via {
            Via::Totp => serde_json::json!({ "second_factor": "totp" }),
            Via::RecoveryCode { left } => serde_json::json!({
                "second_factor": "recovery_code", "recovery_codes_left": left
            }),
            Via::Enrolled { .. } => {
                serde_json::json!({ "second_factor": "totp", "enrolled": true })
            }
        };
        let now = self.clock.now();
        let grant = sessions::start(
            &self.db,
            self.clock.as_ref(),
            &self.sessions,
            &creds,
            |sid| {
                with_ip(
                    NewEntry::new(now, "auth.login.success", Outcome::Success)
                        .actor(person)
                        .organisation(creds.organisation_id)
                        .subject("session", sid)
                        .detail(detail),
                    client,
                )
            },
        )
        .await?;
        let issued = self.issue(&grant).await?;
        Ok(SignIn::Done {
            issued: Box::new(issued),
            via,
        })
    }

    /// Uses the challenge up; false when another request did first.
    async fn consume(&self, hash: &str) -> Result<bool> {
        let now = self.clock.now();
        let person: Option<Uuid> = on_pool!(&self.db, write, |pool| {
            sqlx::query_scalar(store::CONSUME_CHALLENGE)
                .bind(now)
                .bind(hash)
                .fetch_optional(pool)
                .await
        })?;
        Ok(person.is_some())
    }

    /// A first right code from a new factor: the challenge is used up, the factor confirmed
    /// and recovery codes issued, with the audit record, in one transaction. `None` when the
    /// challenge was used meanwhile.
    async fn finish_enrolment(
        &self,
        person: Uuid,
        creds: &Credentials,
        challenge: &str,
        client: Option<IpAddr>,
    ) -> Result<Option<Vec<String>>> {
        let Some(factor) = store::pending_totp(&self.db, person).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let codes = NewCodes::generate();
        let entry = with_ip(
            NewEntry::new(now, "auth.second_factor.enrol", Outcome::Success)
                .actor(person)
                .organisation(creds.organisation_id)
                .subject("person", person)
                .detail(serde_json::json!({ "kind": "totp", "during": "sign-in" })),
            client,
        );
        let done: Result<bool> = write_tx!(&self.db, |tx| async {
            let used: Option<Uuid> = sqlx::query_scalar(store::CONSUME_CHALLENGE)
                .bind(now)
                .bind(challenge)
                .fetch_optional(&mut *tx)
                .await?;
            if used != Some(person) {
                return Ok(false);
            }
            confirm_in!(tx, person, factor.id, now, &codes.hashes);
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<bool, IdentityError>(true)
        }
        .await)
        .await;
        Ok(done?.then_some(codes.plain))
    }
}
