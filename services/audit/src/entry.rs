//! What an audit entry holds.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::{AuditError, Result};

/// How the recorded attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failure,
    /// Refused by an authorization decision (as opposed to failing, e.g. a wrong password).
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Outcome {
    type Err = AuditError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "success" => Ok(Outcome::Success),
            "failure" => Ok(Outcome::Failure),
            "denied" => Ok(Outcome::Denied),
            other => Err(AuditError::Invalid(format!("unknown outcome {other:?}"))),
        }
    }
}

/// An entry to append. Build with [`NewEntry::new`] and the setters; `at` comes from the
/// caller's clock and is stored in UTC, truncated to microseconds (what PostgreSQL keeps).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    pub at: OffsetDateTime,
    /// The person who acted; `None` for the system or an anonymous visitor.
    pub actor_id: Option<String>,
    pub actor_ip: Option<IpAddr>,
    /// Dotted, lower case: `auth.login.success`, `account.deactivate`.
    pub action: String,
    pub outcome: Outcome,
    /// What was acted upon: a kind (`account`, `document`) and its id.
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub organisation_id: Option<String>,
    /// Context as JSON. Never secrets: no passwords, tokens or keys, not even wrong ones.
    pub detail: serde_json::Value,
}

impl NewEntry {
    pub fn new(at: OffsetDateTime, action: impl Into<String>, outcome: Outcome) -> NewEntry {
        NewEntry {
            at,
            actor_id: None,
            actor_ip: None,
            action: action.into(),
            outcome,
            subject_type: None,
            subject_id: None,
            organisation_id: None,
            detail: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    /// Ids are taken as text (a UUID is written hyphenated) so the log does not depend on how
    /// other contexts name things, and outlives them.
    pub fn actor(mut self, id: impl fmt::Display) -> NewEntry {
        self.actor_id = Some(id.to_string());
        self
    }

    pub fn ip(mut self, ip: IpAddr) -> NewEntry {
        self.actor_ip = Some(ip);
        self
    }

    pub fn subject(mut self, kind: impl Into<String>, id: impl fmt::Display) -> NewEntry {
        self.subject_type = Some(kind.into());
        self.subject_id = Some(id.to_string());
        self
    }

    pub fn organisation(mut self, id: impl fmt::Display) -> NewEntry {
        self.organisation_id = Some(id.to_string());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> NewEntry {
        self.detail = detail;
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        let a = &self.action;
        let well_formed = !a.is_empty()
            && a.len() <= MAX_ACTION
            && a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && !a.starts_with('.')
            && !a.ends_with('.');
        if !well_formed {
            return Err(AuditError::Invalid(format!(
                "action {a:?} must be 1 to {MAX_ACTION} characters a-z, 0-9, '.', '_' or '-'"
            )));
        }
        for (name, value) in [
            ("actor_id", &self.actor_id),
            ("subject_type", &self.subject_type),
            ("subject_id", &self.subject_id),
            ("organisation_id", &self.organisation_id),
        ] {
            if let Some(v) = value
                && (v.is_empty() || v.len() > MAX_ID || v.chars().any(char::is_control))
            {
                return Err(AuditError::Invalid(format!(
                    "{name} must be 1 to {MAX_ID} bytes without control characters"
                )));
            }
        }
        if self.subject_id.is_some() && self.subject_type.is_none() {
            return Err(AuditError::Invalid(
                "a subject_id needs a subject_type".into(),
            ));
        }
        Ok(())
    }
}

const MAX_ACTION: usize = 100;
const MAX_ID: usize = 200;
/// The log records facts, not documents: a larger detail is a mistake (or a leak) upstream.
pub(crate) const MAX_DETAIL: usize = 16 * 1024;

/// An entry as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// 1, 2, 3… without gaps, in the order entries were appended.
    pub seq: i64,
    /// UUIDv7.
    pub id: Uuid,
    /// UTC, microsecond precision.
    pub at: OffsetDateTime,
    pub actor_id: Option<String>,
    pub actor_ip: Option<IpAddr>,
    pub action: String,
    pub outcome: Outcome,
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub organisation_id: Option<String>,
    pub detail: serde_json::Value,
    /// Hex SHA-256 of the previous entry ([`crate::GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this entry, see [`crate::hash`].
    pub hash: String,
}
