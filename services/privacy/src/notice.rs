//! The privacy notice, generated from the register and the installation's contacts, in
//! versions.
//!
//! At start-up and after a reload of the register, [`Privacy::publish_notice`] compares the
//! register's digest and the contacts the notice names with the latest stored version; when
//! they differ, a new version is stored with its content frozen (the record in the three
//! languages and the contacts, as JSON), so that an earlier version reads as it was. Storing is
//! exactly once across instances: the version's key (`register_digest`, UNIQUE) is derived from
//! the previous version and the content, and the insert does nothing on a conflict; the audit
//! record and — for a changed notice (version 2 on) — the mails to every active person are in
//! the same transaction.
//!
//! A changed notice is also shown as a banner on signed-in pages until the person opens it:
//! publishing records, for every active person who has no row yet, the previous version as the
//! one they were shown (`privacy_notice_seen`); opening the notice records the latest. A
//! person invited after the publication has no row and no banner.
//!
//! Nothing here knows about HTTP.

use std::net::IpAddr;

use extranet_audit::{NewEntry, Outcome};
use extranet_notify::outbox::Mail;
use extranet_platform::{on_pool, write_tx};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::{PrivacyError, Result};
use crate::export::{self, Record};
use crate::service::{Privacy, subprocessor_names};

/// The languages every version is frozen in.
pub const LANGUAGES: [&str; 3] = ["nl", "fr", "en"];

/// The mail template that announces a changed notice.
pub const MAIL_TEMPLATE: &str = "privacy-notice";

/// Who the controller is (the installation's site configuration).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    pub name: String,
    pub address: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub enterprise_number: Option<String>,
}

/// The supervisory authority the notice names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    pub name: String,
    pub address: Vec<String>,
    pub website: String,
}

/// What the notice names besides the register.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    pub controller: Controller,
    /// The data-protection coordinator's address.
    pub coordinator_email: Option<String>,
    pub authority: Authority,
}

/// The notice's configuration in the service.
#[derive(Debug, Clone, Default)]
pub struct NoticeSettings {
    pub contacts: Contacts,
    /// The extranet's public address, for the link in the mails (no trailing slash).
    pub base_url: String,
}

/// A version's frozen content.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Content {
    /// Identifies the register and contacts this version was made from.
    pub source_digest: String,
    pub contacts: Contacts,
    /// One record per language of [`LANGUAGES`].
    pub records: Vec<Record>,
}

impl Content {
    /// The record in `lang` (English for anything else, else the first one).
    pub fn record(&self, lang: &str) -> Option<&Record> {
        self.records
            .iter()
            .find(|r| r.language == lang)
            .or_else(|| self.records.iter().find(|r| r.language == "en"))
            .or_else(|| self.records.first())
    }
}

/// A stored version.
#[derive(Debug, Clone)]
pub struct Version {
    pub version: i64,
    /// Unix seconds.
    pub published_at: i64,
    pub content: Content,
}

/// A version in the list of versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionSummary {
    pub version: i64,
    pub published_at: i64,
}

/// The digest of what a notice is made from: the register's digest and the contacts.
pub fn source_digest(register_digest: &str, contacts: &Contacts) -> Result<String> {
    let contacts =
        serde_json::to_string(contacts).map_err(|e| PrivacyError::Internal(e.to_string()))?;
    let mut h = Sha256::new();
    h.update(register_digest.as_bytes());
    h.update(b"\n");
    h.update(contacts.as_bytes());
    Ok(hex::encode(h.finalize()))
}

/// The key a version is stored under: the previous version and the content. Two instances
/// publishing the same change after the same version make the same key (one insert wins);
/// a register changed back to an earlier text still makes a new version.
fn version_key(previous: i64, source: &str) -> String {
    let mut h = Sha256::new();
    h.update(previous.to_string().as_bytes());
    h.update(b"\n");
    h.update(source.as_bytes());
    hex::encode(h.finalize())
}

/// Names the error type of a `write_tx!` block.
fn pin<T>(r: Result<T>) -> Result<T> {
    r
}

fn parse_content(raw: &str) -> Result<Content> {
    serde_json::from_str(raw).map_err(|e| PrivacyError::Internal(format!("notice content: {e}")))
}

const ACTIVE_PEOPLE: &str = "SELECT p.email, p.language FROM person p \
     JOIN organisation o ON o.id = p.organisation_id \
     WHERE p.state = 'active' AND o.active = $1 ORDER BY p.id";

const MARK_PREVIOUS: &str = "INSERT INTO privacy_notice_seen (person_id, version) \
     SELECT p.id, $1 FROM person p JOIN organisation o ON o.id = p.organisation_id \
     WHERE p.state = 'active' AND o.active = $2 \
     ON CONFLICT DO NOTHING";

impl Privacy {
    /// The notice as the register and contacts in force make it now (not stored).
    pub async fn current_notice_content(&self) -> Result<Content> {
        let register = self.register();
        let contacts = self.notice_settings().contacts.clone();
        let names = subprocessor_names(self.db()).await?;
        let records = LANGUAGES
            .iter()
            .map(|lang| export::record(&register, lang, &names))
            .collect::<Result<Vec<_>>>()?;
        Ok(Content {
            source_digest: source_digest(&register.digest, &contacts)?,
            contacts,
            records,
        })
    }

    /// Stores a new version when the register or the contacts changed since the latest one;
    /// returns its number, or `None` when nothing changed (or another instance stored it).
    pub async fn publish_notice(&self) -> Result<Option<i64>> {
        let content = self.current_notice_content().await?;
        if let Some(latest) = self.latest_notice().await?
            && latest.content.source_digest == content.source_digest
        {
            return Ok(None);
        }
        let raw =
            serde_json::to_string(&content).map_err(|e| PrivacyError::Internal(e.to_string()))?;
        let now = self.clock().now();
        let clock = self.clock();
        let base_url = self
            .notice_settings()
            .base_url
            .trim_end_matches('/')
            .to_owned();
        let site = content.contacts.controller.name.clone();
        let source = content.source_digest.clone();
        let published = pin(write_tx!(self.db(), |tx| async {
            let (previous,): (Option<i64>,) =
                sqlx::query_as("SELECT MAX(version) FROM privacy_notice")
                    .fetch_one(&mut *tx)
                    .await?;
            let previous = previous.unwrap_or(0);
            let version = previous + 1;
            let key = version_key(previous, &source);
            let n = sqlx::query(
                "INSERT INTO privacy_notice (version, register_digest, published_at, content) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(version)
            .bind(&key)
            .bind(now.unix_timestamp())
            .bind(&raw)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok::<Option<(i64, usize)>, PrivacyError>(None);
            }
            let mut mails = Vec::new();
            if version >= 2 {
                sqlx::query(MARK_PREVIOUS)
                    .bind(previous)
                    .bind(true)
                    .execute(&mut *tx)
                    .await?;
                let people: Vec<(String, String)> = sqlx::query_as(ACTIVE_PEOPLE)
                    .bind(true)
                    .fetch_all(&mut *tx)
                    .await?;
                mails = people
                    .into_iter()
                    .map(|(recipient, language)| Mail {
                        recipient,
                        language,
                        template: MAIL_TEMPLATE,
                        args: serde_json::json!({
                            "site": site,
                            "version": version,
                            "link": format!("{base_url}/privacy"),
                        }),
                    })
                    .collect();
                extranet_notify::outbox::enqueue_many_in(&mut *tx, clock, &mails).await?;
            }
            let audit = NewEntry::new(now, "privacy.notice.publish", Outcome::Success)
                .subject("privacy_notice", version)
                .detail(serde_json::json!({
                    "version": version,
                    "register_digest": content
                        .records
                        .first()
                        .map(|r| r.register_digest.clone())
                        .unwrap_or_default(),
                    "mails": mails.len(),
                }));
            extranet_audit::append_in(&mut *tx, &audit).await?;
            Ok(Some((version, mails.len())))
        }
        .await)
        .await)?;
        if let Some((version, mails)) = published {
            tracing::info!(version, mails, "privacy notice published");
        }
        Ok(published.map(|(v, _)| v))
    }

    /// The latest stored version, if any.
    pub async fn latest_notice(&self) -> Result<Option<Version>> {
        let row: Option<(i64, i64, String)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT version, published_at, content FROM privacy_notice \
                 ORDER BY version DESC LIMIT 1",
            )
            .fetch_optional(pool)
            .await
        })?;
        row.map(|(version, published_at, raw)| {
            Ok(Version {
                version,
                published_at,
                content: parse_content(&raw)?,
            })
        })
        .transpose()
    }

    /// Version `n`; [`PrivacyError::NotFound`] when there is none.
    pub async fn notice_version(&self, n: i64) -> Result<Version> {
        let row: Option<(i64, i64, String)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT version, published_at, content FROM privacy_notice WHERE version = $1",
            )
            .bind(n)
            .fetch_optional(pool)
            .await
        })?;
        let Some((version, published_at, raw)) = row else {
            return Err(PrivacyError::NotFound);
        };
        Ok(Version {
            version,
            published_at,
            content: parse_content(&raw)?,
        })
    }

    /// Every version, the latest first.
    pub async fn notice_versions(&self) -> Result<Vec<VersionSummary>> {
        let rows: Vec<(i64, i64)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT version, published_at FROM privacy_notice ORDER BY version DESC")
                .fetch_all(pool)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(version, published_at)| VersionSummary {
                version,
                published_at,
            })
            .collect())
    }

    /// Whether the person has a changed notice to read: they were shown an earlier version
    /// than the latest.
    pub async fn notice_unseen(&self, person: Uuid) -> Result<bool> {
        let row: Option<(i64, Option<i64>)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT s.version, (SELECT MAX(n.version) FROM privacy_notice n) \
                 FROM privacy_notice_seen s WHERE s.person_id = $1",
            )
            .bind(person)
            .fetch_optional(pool)
            .await
        })?;
        Ok(matches!(row, Some((seen, Some(latest))) if seen < latest))
    }

    /// The person opened the notice, version `version`: the banner goes.
    pub async fn notice_opened(
        &self,
        person: Uuid,
        version: i64,
        ip: Option<IpAddr>,
    ) -> Result<()> {
        let mut audit = NewEntry::new(self.clock().now(), "privacy.notice.seen", Outcome::Success)
            .actor(person)
            .subject("privacy_notice", version);
        if let Some(ip) = ip {
            audit = audit.ip(ip);
        }
        pin(write_tx!(self.db(), |tx| async {
            sqlx::query(
                "INSERT INTO privacy_notice_seen (person_id, version) VALUES ($1, $2) \
                 ON CONFLICT (person_id) DO UPDATE SET version = excluded.version \
                 WHERE privacy_notice_seen.version < excluded.version",
            )
            .bind(person)
            .bind(version)
            .execute(&mut *tx)
            .await?;
            extranet_audit::append_in(&mut *tx, &audit).await?;
            Ok::<(), PrivacyError>(())
        }
        .await)
        .await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_depends_on_the_previous_version_and_the_content() {
        assert_ne!(version_key(1, "a"), version_key(2, "a"));
        assert_ne!(version_key(1, "a"), version_key(1, "b"));
        assert_eq!(version_key(3, "a"), version_key(3, "a"));
    }

    #[test]
    fn contacts_change_the_source_digest() {
        let mut c = Contacts::default();
        let a = source_digest("d", &c).unwrap_or_default();
        c.coordinator_email = Some("dpo@example.be".into());
        let b = source_digest("d", &c).unwrap_or_default();
        assert_ne!(a, b);
        assert_eq!(
            a,
            source_digest("d", &Contacts::default()).unwrap_or_default()
        );
    }
}
