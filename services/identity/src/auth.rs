//! Authentication as one service used by the API and the browser pages alike: sign-in with
//! throttling, token issue and verification, refresh, sign-out.

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{Clock, Db};

use crate::error::{IdentityError, Result};
use crate::revocation::{Revocations, Revoked};
use crate::sessions::{self, Grant, Refresh, Refused, SessionSettings};
use crate::throttle::{self, ThrottleSettings};
use crate::tokens::{self, Claims, KeyRing, TokenSettings, VerifyError};
use crate::verified::{self, VerifiedTokens};
use crate::{password, store};

/// An unknown key id makes us reload the key ring from the database (another instance may
/// have rotated), but at most this often: otherwise every forged token with a made-up `kid`
/// would cost a database query.
const KEY_RELOAD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

pub struct Auth {
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub keys: ArcSwap<KeyRing>,
    pub tokens: TokenSettings,
    pub sessions: SessionSettings,
    pub throttle: ThrottleSettings,
    /// Who must sign in with a second factor, and how wrong codes are slowed down.
    pub second_factor: crate::factor::FactorSettings,
    /// Tokens that passed verification, until they expire.
    verified: VerifiedTokens,
    /// Sessions ended and tokens made stale within the last access lifetime: refused even when
    /// a token's signature and times check out.
    pub revocations: Arc<Revocations>,
    /// When the key ring was last reloaded for an unknown key id.
    last_reload: std::sync::Mutex<Option<std::time::Instant>>,
}

/// An access token and the refresh token that follows it.
#[derive(Debug, Clone)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub claims: Claims,
}

#[derive(Debug)]
pub enum ChangePassword {
    Done,
    WrongCurrent,
    Weak(crate::password::Weakness),
    /// Too many wrong current passwords (for this account or from this address, sign-ins
    /// included); try again after this long.
    Throttled(std::time::Duration),
}

/// Why a sign-in did not succeed.
#[derive(Debug)]
pub enum LoginError {
    /// Wrong address or password, or an inactive account: one answer for all.
    Refused,
    /// Too many failures; try again after this long.
    Throttled(std::time::Duration),
    /// The password was right; no session yet: a second factor (or its enrolment) must
    /// complete the sign-in (`Auth::complete_sign_in`).
    SecondFactor(crate::factor::Challenge),
    Other(IdentityError),
}

impl From<IdentityError> for LoginError {
    fn from(e: IdentityError) -> Self {
        LoginError::Other(e)
    }
}

impl Auth {
    pub async fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        tokens: TokenSettings,
        sessions: SessionSettings,
        throttle: ThrottleSettings,
    ) -> Result<Auth> {
        let keys = KeyRing::load(&db, clock.as_ref(), &tokens.sealer).await?;
        // What was revoked shortly before this instance started still holds.
        let revocations = Arc::new(Revocations::new(tokens.access_lifetime, tokens.leeway));
        revocations.sync(&db, clock.as_ref()).await?;
        Ok(Auth {
            db,
            clock,
            keys: ArcSwap::from_pointee(keys),
            tokens,
            sessions,
            throttle,
            second_factor: crate::factor::FactorSettings::default(),
            verified: VerifiedTokens::new(verified::DEFAULT_CAPACITY),
            revocations,
            last_reload: std::sync::Mutex::new(None),
        })
    }

    /// Sets who must sign in with a second factor (by default the roles that can read other
    /// companies' data).
    pub fn with_second_factor(mut self, settings: crate::factor::FactorSettings) -> Auth {
        self.second_factor = settings;
        self
    }

    /// Verifies an access token. A token verified before is answered from memory until it
    /// expires. A key id we do not know may have been added by another instance (or
    /// `extranet keys rotate`): reload the keys (at most once per [`KEY_RELOAD_INTERVAL`])
    /// before refusing. Either way a token whose session ended, or whose roles changed, since
    /// it was issued is refused ([`Revocations`]).
    pub async fn verify(&self, token: &str) -> std::result::Result<Arc<Claims>, VerifyError> {
        let now = self.clock.now().unix_timestamp();
        let leeway = i64::try_from(self.tokens.leeway.as_secs()).unwrap_or(0);
        if let Some(claims) = self.verified.get(token, now, leeway) {
            if self.revocations.refuses(&claims) {
                return Err(VerifyError::Revoked);
            }
            return Ok(claims);
        }
        let claims = match self.keys.load().verify(token, &self.tokens) {
            // Boxed: the reload is rare, and its database future would otherwise make every
            // verification's future large.
            Err(VerifyError::UnknownKey) if self.may_reload_keys() => {
                Box::pin(self.reload_and_verify(token)).await
            }
            other => other,
        }?;
        if self.revocations.refuses(&claims) {
            return Err(VerifyError::Revoked);
        }
        let claims = Arc::new(claims);
        self.verified.insert(token, claims.clone());
        Ok(claims)
    }

    async fn reload_and_verify(&self, token: &str) -> std::result::Result<Claims, VerifyError> {
        if let Ok(ring) = KeyRing::load(&self.db, self.clock.as_ref(), &self.tokens.sealer).await {
            self.keys.store(Arc::new(ring));
        }
        self.keys.load().verify(token, &self.tokens)
    }

    /// Signs a rights-request receipt with the receipt key in force.
    pub fn sign_receipt<T: serde::Serialize>(&self, claims: &T) -> Result<String> {
        self.keys.load().sign_receipt(claims)
    }

    /// The claims of one of our receipts, or why not; a key id we do not know makes us reload
    /// the keys first (a rotation by another instance or the command line).
    pub async fn verify_receipt(
        &self,
        token: &str,
    ) -> std::result::Result<serde_json::Value, VerifyError> {
        if !self.keys.load().knows_receipt_key(token)
            && self.may_reload_keys()
            && let Ok(ring) =
                KeyRing::load(&self.db, self.clock.as_ref(), &self.tokens.sealer).await
        {
            self.keys.store(Arc::new(ring));
        }
        self.keys.load().verify_receipt(token)
    }

    fn may_reload_keys(&self) -> bool {
        let mut last = self
            .last_reload
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = std::time::Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < KEY_RELOAD_INTERVAL) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Checks the password (taking as long for unknown addresses), with throttling per address
    /// and per client, and starts a session.
    pub async fn login(
        &self,
        email: &str,
        pw: &str,
        client: Option<IpAddr>,
    ) -> std::result::Result<Issued, LoginError> {
        let mut keys = vec![throttle::account_key(email)];
        if let Some(ip) = client {
            keys.push(throttle::ip_key(ip));
        }
        if let Some(wait) = throttle::blocked_for(&self.db, self.clock.as_ref(), &keys).await? {
            self.audit(
                NewEntry::new(self.clock.now(), "auth.login.throttled", Outcome::Denied),
                client,
            )
            .await;
            return Err(LoginError::Throttled(wait));
        }
        if pw.len() > password::MAX_LENGTH * 4 {
            return Err(LoginError::Refused);
        }
        let creds = store::credentials_by_email(&self.db, email).await?;
        let ok = match creds.as_ref().and_then(|c| c.password_hash.as_deref()) {
            Some(hash) => password::verify(pw, hash),
            None => {
                password::verify_dummy(pw);
                false
            }
        };
        let known = creds.as_ref().map(|c| c.person_id);
        let Some(creds) = creds.filter(|c| ok && c.may_sign_in()) else {
            throttle::record_failure(&self.db, self.clock.as_ref(), &self.throttle, &keys).await?;
            // The address typed is not recorded: people type passwords into the wrong field.
            let mut entry = NewEntry::new(self.clock.now(), "auth.login.failure", Outcome::Failure);
            if let Some(person) = known {
                entry = entry.subject("person", person).actor(person);
            }
            let reason = match (known, ok) {
                (None, _) => "unknown account",
                (Some(_), false) => "wrong password",
                (Some(_), true) => "account or organisation not active",
            };
            self.audit(
                entry.detail(serde_json::json!({ "reason": reason })),
                client,
            )
            .await;
            return Err(LoginError::Refused);
        };
        throttle::record_success(&self.db, &throttle::account_key(email)).await?;
        if let Some(challenge) = crate::factor::sign_in::gate(self, &creds, client).await? {
            return Err(LoginError::SecondFactor(challenge));
        }
        let now = self.clock.now();
        let grant = sessions::start(
            &self.db,
            self.clock.as_ref(),
            &self.sessions,
            &creds,
            |sid| {
                with_ip(
                    NewEntry::new(now, "auth.login.success", Outcome::Success)
                        .actor(creds.person_id)
                        .organisation(creds.organisation_id)
                        .subject("session", sid),
                    client,
                )
            },
        )
        .await?;
        Ok(self.issue(&grant).await?)
    }

    /// Exchanges a refresh token for new tokens. Tokens that were never issued count against the
    /// client's address; past a few, it must wait ([`Refused::Throttled`]).
    pub async fn refresh(
        &self,
        refresh_token: &str,
        client: Option<IpAddr>,
    ) -> Result<std::result::Result<Issued, Refused>> {
        let key: Vec<String> = client.map(throttle::refresh_key).into_iter().collect();
        if let Some(wait) = throttle::blocked_for(&self.db, self.clock.as_ref(), &key).await? {
            return Ok(Err(Refused::Throttled(wait)));
        }
        match sessions::refresh(
            &self.db,
            self.clock.as_ref(),
            &self.sessions,
            &self.revocations,
            refresh_token,
        )
        .await?
        {
            Refresh::Granted(grant) => Ok(Ok(self.issue(&grant).await?)),
            Refresh::Refused(why) => {
                let now = self.clock.now();
                match &why {
                    Refused::Reused {
                        session_id,
                        person_id,
                    } => {
                        self.audit(
                            NewEntry::new(now, "auth.refresh.reuse", Outcome::Denied)
                                .actor(person_id)
                                .subject("session", session_id)
                                .detail(serde_json::json!({ "effect": "session family revoked" })),
                            None,
                        )
                        .await
                    }
                    Refused::Deactivated {
                        session_id,
                        person_id,
                    } => {
                        self.audit(
                            NewEntry::new(now, "auth.refresh.deactivated", Outcome::Denied)
                                .actor(person_id)
                                .subject("session", session_id),
                            None,
                        )
                        .await
                    }
                    Refused::Unknown => {
                        throttle::record_failure(
                            &self.db,
                            self.clock.as_ref(),
                            &self.throttle,
                            &key,
                        )
                        .await?;
                    }
                    _ => {}
                }
                Ok(Err(why))
            }
        }
    }

    pub async fn logout(&self, claims: &Claims) -> Result<()> {
        let now = self.clock.now();
        let ended = sessions::revoke_audited(
            &self.db,
            self.clock.as_ref(),
            claims.sid,
            claims.sub,
            false,
            "logout",
            |_| {
                NewEntry::new(now, "auth.logout", Outcome::Success)
                    .actor(claims.sub)
                    .subject("session", claims.sid)
            },
        )
        .await?;
        self.learn(&ended).await;
        Ok(())
    }

    pub async fn logout_everywhere(&self, claims: &Claims) -> Result<u64> {
        let now = self.clock.now();
        let ended = sessions::revoke_audited(
            &self.db,
            self.clock.as_ref(),
            claims.sid,
            claims.sub,
            true,
            "signed out everywhere",
            |n| {
                NewEntry::new(now, "auth.logout.everywhere", Outcome::Success)
                    .actor(claims.sub)
                    .subject("person", claims.sub)
                    .detail(serde_json::json!({ "sessions_ended": n }))
            },
        )
        .await?;
        self.learn(&ended).await;
        Ok(ended.count())
    }

    /// Makes this instance refuse at once the tokens a committed change ended (other instances
    /// learn it from the database).
    pub async fn learn(&self, revoked: &Revoked) {
        self.revocations
            .after_commit(&self.db, self.clock.as_ref(), revoked)
            .await;
    }

    /// Changes the signed-in person's password after checking the current one; every other
    /// session of theirs ends. Wrong current passwords are throttled like sign-ins, on the same
    /// keys (the account and the address): a stolen session cannot guess the password faster
    /// than the sign-in form allows.
    pub async fn change_password(
        &self,
        claims: &Claims,
        current: &str,
        new: &str,
        client: Option<IpAddr>,
    ) -> Result<ChangePassword> {
        let person = store::get_person(&self.db, claims.sub).await?;
        let mut keys = vec![throttle::account_key(&person.email)];
        if let Some(ip) = client {
            keys.push(throttle::ip_key(ip));
        }
        if let Some(wait) = throttle::blocked_for(&self.db, self.clock.as_ref(), &keys).await? {
            self.audit(
                NewEntry::new(self.clock.now(), "auth.password.change", Outcome::Denied)
                    .actor(claims.sub)
                    .detail(serde_json::json!({ "reason": "throttled" })),
                client,
            )
            .await;
            return Ok(ChangePassword::Throttled(wait));
        }
        let stored = store::password_hash(&self.db, claims.sub).await?;
        if !stored
            .as_deref()
            .is_some_and(|h| password::verify(current, h))
        {
            throttle::record_failure(&self.db, self.clock.as_ref(), &self.throttle, &keys).await?;
            self.audit(
                NewEntry::new(self.clock.now(), "auth.password.change", Outcome::Failure)
                    .actor(claims.sub)
                    .detail(serde_json::json!({ "reason": "wrong current password" })),
                client,
            )
            .await;
            return Ok(ChangePassword::WrongCurrent);
        }
        throttle::record_success(&self.db, &keys[0]).await?;
        if let Err(weak) =
            password::check_strength(new, &[&person.first_name, &person.surname, &person.email])
        {
            return Ok(ChangePassword::Weak(weak));
        }
        let hash = password::hash(new).map_err(|e| IdentityError::Internal(e.to_string()))?;
        let now = self.clock.now();
        let ended = store::replace_password(
            &self.db,
            self.clock.as_ref(),
            claims.sub,
            &hash,
            Some(claims.sid),
            |ended| {
                NewEntry::new(now, "auth.password.change", Outcome::Success)
                    .actor(claims.sub)
                    .subject("person", claims.sub)
                    .detail(serde_json::json!({ "other_sessions_ended": ended }))
            },
        )
        .await?;
        self.learn(&ended).await;
        Ok(ChangePassword::Done)
    }

    /// When the person last came before this session: the start of their previous session
    /// (`None` on a first visit). What is new "since your last visit" starts there.
    pub async fn previous_visit(&self, claims: &Claims) -> Result<Option<time::OffsetDateTime>> {
        store::previous_session_start(&self.db, claims.sub, claims.sid).await
    }

    /// The language switch while signed in: the profile's language follows it.
    pub async fn set_own_language(
        &self,
        claims: &Claims,
        language: crate::Language,
        client: Option<IpAddr>,
    ) -> Result<()> {
        let entry = with_ip(
            NewEntry::new(self.clock.now(), "person.update", Outcome::Success)
                .actor(claims.sub)
                .subject("person", claims.sub)
                .detail(serde_json::json!({ "fields": ["language"] })),
            client,
        );
        store::set_own_language(&self.db, self.clock.as_ref(), claims.sub, language, &entry).await
    }

    pub async fn update_own_profile(
        &self,
        claims: &Claims,
        profile: &store::OwnProfile,
        client: Option<IpAddr>,
    ) -> Result<()> {
        // Saving the profile also confirms the data is correct: both records commit with it.
        let now = self.clock.now();
        let entries = [
            with_ip(
                NewEntry::new(now, "person.update", Outcome::Success)
                    .actor(claims.sub)
                    .subject("person", claims.sub)
                    .detail(serde_json::json!({ "fields": ["phone", "mobile", "fax", "function", "language"] })),
                client,
            ),
            with_ip(
                crate::confirmation::confirmed_entry(
                    now,
                    claims.sub,
                    claims.org,
                    crate::confirmation::ConfirmedBy::Profile,
                ),
                client,
            ),
        ];
        store::update_own_profile(&self.db, self.clock.as_ref(), claims.sub, profile, &entries)
            .await
    }

    /// Writes an audit record. A failure to record is logged loudly but does not turn a
    /// sign-in into an error page.
    async fn audit(&self, entry: NewEntry, client: Option<IpAddr>) {
        let entry = with_ip(entry, client);
        if let Err(e) = extranet_audit::append(&self.db, &entry).await {
            tracing::error!(error = %e, action = %entry.action, "audit record not written");
        }
    }

    pub(crate) async fn issue(&self, grant: &Grant) -> Result<Issued> {
        // The token's instant is taken before its roles are read: a role change committed after
        // the read has a later cutoff, so this token is refused if it carries the old roles.
        let now = self.clock.now();
        // Issuing already costs database round trips; one more notices a key rotation.
        let current = tokens::current_signing_kid(&self.db).await?;
        if current.as_deref() != Some(self.keys.load().signing_kid()) {
            self.keys.store(Arc::new(
                KeyRing::load(&self.db, self.clock.as_ref(), &self.tokens.sealer).await?,
            ));
        }
        let person = store::get_person(&self.db, grant.person_id).await?;
        let claims = tokens::access_claims(
            &self.tokens,
            now,
            grant.person_id,
            grant.organisation_id,
            person.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            grant.session_id,
        );
        let access_token = self.keys.load().sign(&claims)?;
        Ok(Issued {
            access_token,
            refresh_token: grant.refresh_token.clone(),
            claims,
        })
    }
}

fn with_ip(entry: NewEntry, client: Option<IpAddr>) -> NewEntry {
    match client {
        Some(ip) => entry.ip(ip),
        None => entry,
    }
}
