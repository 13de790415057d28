//! Consent records, purpose by purpose (GDPR Art. 7): for every activity of the register whose
//! basis is consent, the exact text a person agreed to (its version, language and words), when
//! and how it was given, and when and how it was withdrawn. Only a consent to the text version
//! in force counts: when the register's text changes, earlier consents stop counting until the
//! person agrees again ([`Consents::may_send`]).
//!
//! Every change commits with its audit record in one transaction; the audit records name the
//! person by id and the purpose, never an address. A mail that relies on consent carries a
//! withdrawal link ([`Consents::link_url`]): the expiry date sealed (AES-256-GCM) under the
//! key-encryption key with the person and the purpose as associated data, so the link works
//! for that person and that purpose only, cannot be altered and stops working when it expires
//! — without a session and without a row per link.
//!
//! Nothing here knows about HTTP.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use extranet_access::{Action, Domain, DomainSet, Grants, Resource};
use extranet_audit::{NewEntry, Outcome};
use extranet_platform::sealed::Sealer;
use extranet_platform::{on_pool, write_tx};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

use crate::error::{PrivacyError, Result};
use crate::register::{Activity, Basis, Consent, Register, Texts};
use crate::service::Privacy;

/// How long a withdrawal link in a mail works, unless configured otherwise.
pub const LINK_LIFETIME: Duration = Duration::from_secs(180 * 24 * 3600);

/// How a consent was given or withdrawn (the `given_via` / `withdrawn_via` columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The person's account page.
    Account,
    /// The JSON API, with the person's own token.
    Api,
    /// The withdrawal link of a mail, confirmed on its page.
    MailLink,
    /// A mail client's one-click unsubscribe (RFC 8058 `List-Unsubscribe-Post`).
    OneClick,
    /// Replaced by a consent to a newer text version (withdrawal only).
    Superseded,
    /// A rights request's withdrawal of consent, carried out by the privacy coordinator.
    RightsRequest,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Account => "account",
            Via::Api => "api",
            Via::MailLink => "mail_link",
            Via::OneClick => "one_click",
            Via::Superseded => "superseded",
            Via::RightsRequest => "rights_request",
        }
    }
}

/// Who changes their own consents: the person, the client address, and what the policy lets
/// them do.
pub struct Acting<'a> {
    pub person: Uuid,
    pub ip: Option<IpAddr>,
    pub grants: &'a Grants,
}

/// One consent as recorded: a row of `consent`.
#[derive(Debug, Clone, FromRow, Serialize, PartialEq, Eq)]
pub struct ConsentRecord {
    pub id: Uuid,
    pub purpose: String,
    pub text_version: i64,
    pub language: String,
    pub text: String,
    pub given_at: i64,
    pub given_via: String,
    pub withdrawn_at: Option<i64>,
    pub withdrawn_via: Option<String>,
}

/// Where a person stands with one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Given to the text version in force: it counts.
    Given,
    /// Given to an earlier text version: it does not count until agreed again.
    Outdated,
    /// Withdrawn (the latest consent).
    Withdrawn,
    /// Never given.
    Never,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Given => "given",
            Status::Outdated => "outdated",
            Status::Withdrawn => "withdrawn",
            Status::Never => "never",
        }
    }
}

/// A purpose whose basis is consent, with the person's standing.
#[derive(Debug, Clone)]
pub struct PurposeState {
    /// The activity's id (`newsletter`).
    pub purpose: String,
    /// What the activity is for, in the three languages.
    pub description: Texts,
    /// The text version in force and its words.
    pub version: u32,
    pub text: Texts,
    pub status: Status,
    /// The person's latest consent for this purpose (current or withdrawn).
    pub latest: Option<ConsentRecord>,
}

/// Why a withdrawal link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// No token at all.
    Malformed,
    /// Not one of ours: altered, cut short, sealed for another person or purpose, or under a
    /// key no longer configured.
    Invalid,
    /// Genuine but past its expiry.
    Expired,
}

/// What the consent service needs besides the register: where links point, and how long they
/// work.
#[derive(Debug, Clone)]
pub struct ConsentSettings {
    /// The extranet's public address (`https://…`, no trailing slash): links in mails.
    pub base_url: String,
    /// The certification body's name, for mails.
    pub site_name: String,
    pub link_lifetime: Duration,
}

/// Consents and the newsletter: the register in force, the database, and the key that seals
/// withdrawal links.
pub struct Consents {
    pub(crate) privacy: Arc<Privacy>,
    sealer: Sealer,
    pub(crate) settings: ConsentSettings,
}

/// The columns of a [`ConsentRecord`], spelled once.
macro_rules! columns {
    () => {
        "id, purpose, text_version, language, text, given_at, given_via, withdrawn_at, withdrawn_via"
    };
}

const BY_PERSON: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM consent WHERE person_id = $1 ORDER BY given_at DESC, id DESC"
);
const CURRENT: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM consent WHERE person_id = $1 AND purpose = $2 AND withdrawn_at IS NULL"
);

/// The purpose in the register, whose basis must be consent (else a 422 naming `purpose`).
pub fn consent_purpose<'r>(
    register: &'r Register,
    purpose: &str,
) -> Result<(&'r Activity, &'r Consent)> {
    let Some(activity) = register.activity(purpose) else {
        return Err(PrivacyError::invalid(
            "purpose",
            format!("`{purpose}` is not a purpose of the processing register"),
        ));
    };
    match (&activity.consent, activity.basis) {
        (Some(c), Basis::Consent) => Ok((activity, c)),
        _ => Err(PrivacyError::invalid(
            "purpose",
            format!(
                "the basis of `{purpose}` is not consent: there is nothing to give or withdraw"
            ),
        )),
    }
}

fn own() -> DomainSet {
    DomainSet::default().with(Domain::SelfRecord)
}

fn language_of(code: &str) -> &'static str {
    match code {
        "nl" => "nl",
        "fr" => "fr",
        _ => "en",
    }
}

/// What a withdrawal link's seal is bound to: this person and this purpose.
fn link_context(person: Uuid, purpose: &str) -> String {
    format!("consent_withdrawal:v1:{person}:{purpose}")
}

impl Consents {
    pub fn new(privacy: Arc<Privacy>, sealer: Sealer, settings: ConsentSettings) -> Consents {
        Consents {
            privacy,
            sealer,
            settings,
        }
    }

    pub fn privacy(&self) -> &Privacy {
        &self.privacy
    }

    pub fn settings(&self) -> &ConsentSettings {
        &self.settings
    }

    fn now(&self) -> i64 {
        self.privacy.clock().now().unix_timestamp()
    }

    fn permit(&self, who: &Acting<'_>, action: Action) -> Result<()> {
        if who.grants.allows(Resource::Consent, action, own()) {
            Ok(())
        } else {
            Err(PrivacyError::Forbidden(format!(
                "consent.{} is not granted",
                action.as_str()
            )))
        }
    }

    /// Every consent the person ever gave, newest first.
    pub async fn history(&self, who: &Acting<'_>) -> Result<Vec<ConsentRecord>> {
        self.permit(who, Action::Read)?;
        self.records(who.person).await
    }

    async fn records(&self, person: Uuid) -> Result<Vec<ConsentRecord>> {
        Ok(on_pool!(self.privacy.db(), read, |pool| {
            sqlx::query_as(BY_PERSON).bind(person).fetch_all(pool).await
        })?)
    }

    /// Each purpose whose basis is consent, with the person's standing.
    pub async fn overview(&self, who: &Acting<'_>) -> Result<Vec<PurposeState>> {
        self.permit(who, Action::Read)?;
        let records = self.records(who.person).await?;
        let register = self.privacy.register();
        Ok(register
            .consent_purposes()
            .map(|(activity, consent)| {
                let latest = records
                    .iter()
                    .filter(|r| r.purpose == activity.id)
                    .max_by_key(|r| (r.withdrawn_at.is_none(), r.given_at))
                    .cloned();
                let status = match &latest {
                    None => Status::Never,
                    Some(r) if r.withdrawn_at.is_some() => Status::Withdrawn,
                    Some(r) if r.text_version == i64::from(consent.version) => Status::Given,
                    Some(_) => Status::Outdated,
                };
                PurposeState {
                    purpose: activity.id.clone(),
                    description: activity.purpose.clone(),
                    version: consent.version,
                    text: consent.text.clone(),
                    status,
                    latest,
                }
            })
            .collect())
    }

    /// Records the person's consent to the text version in force, in `language` (the language
    /// the text was shown in; the profile's when `None`). A consent to that version already in
    /// force is left as it is (`changed` false); one to an earlier version is closed
    /// (`superseded`) and a new one recorded.
    pub async fn give(
        &self,
        who: &Acting<'_>,
        purpose: &str,
        language: Option<&str>,
        via: Via,
    ) -> Result<(ConsentRecord, bool)> {
        self.permit(who, Action::Update)?;
        let register = self.privacy.register();
        let (activity, consent) = consent_purpose(&register, purpose)?;
        let language = match language {
            Some(l) => language_of(l),
            None => self.profile_language(who.person).await?,
        };
        let now = self.now();
        let version = i64::from(consent.version);
        let record = ConsentRecord {
            id: Uuid::now_v7(),
            purpose: activity.id.clone(),
            text_version: version,
            language: language.to_owned(),
            text: consent.text.get(language).to_owned(),
            given_at: now,
            given_via: via.as_str().to_owned(),
            withdrawn_at: None,
            withdrawn_via: None,
        };
        let entry = NewEntry::new(self.privacy.clock().now(), "consent.give", Outcome::Success)
            .actor(who.person)
            .subject("person", who.person)
            .detail(serde_json::json!({
                "purpose": record.purpose,
                "text_version": version,
                "language": language,
                "via": via.as_str(),
            }));
        let entry = match who.ip {
            Some(ip) => entry.ip(ip),
            None => entry,
        };
        let person = who.person;
        let res: Result<(ConsentRecord, bool)> = write_tx!(self.privacy.db(), |tx| async {
            let current: Option<ConsentRecord> = sqlx::query_as(CURRENT)
                .bind(person)
                .bind(&record.purpose)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(c) = current {
                if c.text_version == version {
                    return Ok((c, false));
                }
                sqlx::query(
                    "UPDATE consent SET withdrawn_at = $1, withdrawn_via = $2 \
                     WHERE id = $3 AND withdrawn_at IS NULL",
                )
                .bind(now)
                .bind(Via::Superseded.as_str())
                .bind(c.id)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "INSERT INTO consent (id, person_id, purpose, text_version, language, text, \
                 given_at, given_via) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(record.id)
            .bind(person)
            .bind(&record.purpose)
            .bind(version)
            .bind(&record.language)
            .bind(&record.text)
            .bind(now)
            .bind(&record.given_via)
            .execute(&mut *tx)
            .await?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<_, PrivacyError>((record.clone(), true))
        }
        .await)
        .await;
        res
    }

    /// Withdraws the person's consent for `purpose`, if one is in force; `None` when there was
    /// none (nothing changes, nothing is recorded).
    pub async fn withdraw(
        &self,
        who: &Acting<'_>,
        purpose: &str,
        via: Via,
    ) -> Result<Option<ConsentRecord>> {
        self.permit(who, Action::Update)?;
        self.withdraw_unchecked(who.person, purpose, via, who.ip)
            .await
    }

    /// Withdraws through a mail's link: `token` must be the one sealed for this person and
    /// purpose, and unexpired. A refused link changes nothing.
    pub async fn withdraw_by_link(
        &self,
        person: Uuid,
        purpose: &str,
        token: &str,
        via: Via,
        ip: Option<IpAddr>,
    ) -> Result<std::result::Result<Option<ConsentRecord>, LinkError>> {
        if let Err(e) = self.check_link(person, purpose, token) {
            return Ok(Err(e));
        }
        Ok(Ok(self
            .withdraw_unchecked(person, purpose, via, ip)
            .await?))
    }

    /// Withdraws every consent the person has given, as their rights request asks: the caller
    /// (the rights service) has checked that the privacy coordinator may carry it out. The
    /// records withdrawn, each with its audit record.
    pub async fn withdraw_all(
        &self,
        person: Uuid,
        ip: Option<IpAddr>,
    ) -> Result<Vec<ConsentRecord>> {
        let mut out = Vec::new();
        let current: Vec<String> = self
            .records(person)
            .await?
            .into_iter()
            .filter(|r| r.withdrawn_at.is_none())
            .map(|r| r.purpose)
            .collect();
        for purpose in current {
            if let Some(c) = self
                .withdraw_unchecked(person, &purpose, Via::RightsRequest, ip)
                .await?
            {
                out.push(c);
            }
        }
        Ok(out)
    }

    async fn withdraw_unchecked(
        &self,
        person: Uuid,
        purpose: &str,
        via: Via,
        ip: Option<IpAddr>,
    ) -> Result<Option<ConsentRecord>> {
        let register = self.privacy.register();
        let (activity, _) = consent_purpose(&register, purpose)?;
        let purpose = activity.id.clone();
        let now = self.now();
        let entry = NewEntry::new(
            self.privacy.clock().now(),
            "consent.withdraw",
            Outcome::Success,
        )
        .actor(person)
        .subject("person", person);
        let entry = match ip {
            Some(ip) => entry.ip(ip),
            None => entry,
        };
        let res: Result<Option<ConsentRecord>> = write_tx!(self.privacy.db(), |tx| async {
            let current: Option<ConsentRecord> = sqlx::query_as(CURRENT)
                .bind(person)
                .bind(&purpose)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(mut c) = current else {
                return Ok(None);
            };
            sqlx::query(
                "UPDATE consent SET withdrawn_at = $1, withdrawn_via = $2 \
                 WHERE id = $3 AND withdrawn_at IS NULL",
            )
            .bind(now)
            .bind(via.as_str())
            .bind(c.id)
            .execute(&mut *tx)
            .await?;
            let entry = entry.clone().detail(serde_json::json!({
                "purpose": purpose,
                "text_version": c.text_version,
                "via": via.as_str(),
            }));
            extranet_audit::append_in(&mut *tx, &entry).await?;
            c.withdrawn_at = Some(now);
            c.withdrawn_via = Some(via.as_str().to_owned());
            Ok::<_, PrivacyError>(Some(c))
        }
        .await)
        .await;
        res
    }

    /// Whether a mail for `purpose` may be sent to `person`: they are active and their consent
    /// to the text version in force is recorded and not withdrawn.
    pub async fn may_send(&self, person: Uuid, purpose: &str) -> Result<bool> {
        let register = self.privacy.register();
        let (activity, consent) = consent_purpose(&register, purpose)?;
        let found: Option<(Uuid,)> = on_pool!(self.privacy.db(), read, |pool| {
            sqlx::query_as(
                "SELECT c.id FROM consent c JOIN person p ON p.id = c.person_id \
                 JOIN organisation o ON o.id = p.organisation_id \
                 WHERE c.person_id = $1 AND c.purpose = $2 AND c.withdrawn_at IS NULL \
                 AND c.text_version = $3 AND p.state = 'active' AND o.active = $4",
            )
            .bind(person)
            .bind(&activity.id)
            .bind(i64::from(consent.version))
            .bind(true)
            .fetch_optional(pool)
            .await
        })?;
        Ok(found.is_some())
    }

    async fn profile_language(&self, person: Uuid) -> Result<&'static str> {
        let lang: Option<String> = on_pool!(self.privacy.db(), read, |pool| {
            sqlx::query_scalar("SELECT language FROM person WHERE id = $1")
                .bind(person)
                .fetch_optional(pool)
                .await
        })?;
        lang.map(|l| language_of(&l)).ok_or(PrivacyError::NotFound)
    }

    /// A withdrawal token for this person and purpose, valid for the configured lifetime from
    /// now.
    pub fn link_token(&self, person: Uuid, purpose: &str) -> Result<String> {
        let lifetime = i64::try_from(self.settings.link_lifetime.as_secs()).unwrap_or(i64::MAX);
        let expires = self.now().saturating_add(lifetime);
        let sealed = self
            .sealer
            .seal(&expires.to_be_bytes(), &link_context(person, purpose))
            .map_err(|e| PrivacyError::Internal(format!("withdrawal link: {e}")))?;
        Ok(URL_SAFE_NO_PAD.encode(sealed.as_bytes()))
    }

    /// The withdrawal link of a mail for `purpose` to `person` (also the RFC 8058 one-click
    /// address).
    pub fn link_url(&self, person: Uuid, purpose: &str) -> Result<String> {
        let token = self.link_token(person, purpose)?;
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("p", &person.to_string())
            .append_pair("u", purpose)
            .append_pair("t", &token)
            .finish();
        Ok(format!(
            "{}/consent/withdraw?{query}",
            self.settings.base_url.trim_end_matches('/')
        ))
    }

    /// Whether `token` is a genuine, unexpired withdrawal token for this person and purpose.
    pub fn check_link(
        &self,
        person: Uuid,
        purpose: &str,
        token: &str,
    ) -> std::result::Result<(), LinkError> {
        if token.trim().is_empty() {
            return Err(LinkError::Malformed);
        }
        // Whatever else is wrong with a token — not base64, not sealed text, altered, sealed for
        // someone or something else — it is simply not valid.
        let sealed = URL_SAFE_NO_PAD
            .decode(token.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(LinkError::Invalid)?;
        let plain = self
            .sealer
            .open(&sealed, &link_context(person, purpose))
            .map_err(|_| LinkError::Invalid)?;
        let bytes: [u8; 8] = plain
            .as_slice()
            .try_into()
            .map_err(|_| LinkError::Invalid)?;
        if self.now() > i64::from_be_bytes(bytes) {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_contexts_differ_by_person_and_purpose() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        assert_ne!(link_context(a, "newsletter"), link_context(b, "newsletter"));
        assert_ne!(link_context(a, "newsletter"), link_context(a, "events"));
    }

    #[test]
    fn the_register_s_newsletter_is_a_consent_purpose_and_others_are_not() {
        let register = Register::load(
            &crate::RegisterSource::embedded(),
            &crate::Context::default(),
        );
        let Ok(register) = register else {
            panic!("the built-in register loads");
        };
        assert!(consent_purpose(&register, "newsletter").is_ok());
        assert!(matches!(
            consent_purpose(&register, "certification"),
            Err(PrivacyError::Invalid {
                field: "purpose",
                ..
            })
        ));
        assert!(matches!(
            consent_purpose(&register, "nope"),
            Err(PrivacyError::Invalid {
                field: "purpose",
                ..
            })
        ));
    }
}
