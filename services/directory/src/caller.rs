//! Who is asking, what the policy lets them do, and the audit records of what they did.

use std::net::IpAddr;

use extranet_access::{Action, Domain, Grants, Policy, Relation, Resource};
use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{Clock, Db, on_pool};
use uuid::Uuid;

use crate::error::{DirectoryError, Result};

/// The person making a request, with their grants.
#[derive(Debug, Clone)]
pub struct Caller {
    pub person: Uuid,
    pub organisation: Uuid,
    pub roles: Vec<String>,
    pub rights: Vec<String>,
    pub grants: Grants,
    pub ip: Option<IpAddr>,
}

impl Caller {
    /// The caller as their access token says (at most one access lifetime old): enough to read.
    pub fn from_token(
        policy: &Policy,
        person: Uuid,
        organisation: Uuid,
        roles: &[String],
        ip: Option<IpAddr>,
    ) -> Caller {
        Caller {
            person,
            organisation,
            roles: roles.to_vec(),
            rights: Vec::new(),
            grants: policy.grants(roles.iter().map(String::as_str), []),
            ip,
        }
    }

    /// The caller as the database says now: every change goes through this, so that a role or
    /// right taken away a moment ago (a primary-contact handover, a deactivation) is not used.
    pub async fn current(
        db: &Db,
        policy: &Policy,
        person: Uuid,
        ip: Option<IpAddr>,
    ) -> Result<Caller> {
        let row: Option<(Uuid, String, bool)> = on_pool!(db, read, |pool| {
            sqlx::query_as(
                "SELECT p.organisation_id, p.state, o.active FROM person p \
                 JOIN organisation o ON o.id = p.organisation_id WHERE p.id = $1",
            )
            .bind(person)
            .fetch_optional(pool)
            .await
        })?;
        let Some((organisation, state, active)) = row else {
            return Err(DirectoryError::Unauthenticated);
        };
        if state != "active" || !active {
            return Err(DirectoryError::Unauthenticated);
        }
        let roles = crate::people::roles_of(db, person).await?;
        let rights = crate::people::rights_of(db, person).await?;
        let grants = policy.grants(
            roles.iter().map(String::as_str),
            rights.iter().map(String::as_str),
        );
        Ok(Caller {
            person,
            organisation,
            roles,
            rights,
            grants,
            ip,
        })
    }

    pub fn relation(&self) -> Relation {
        Relation {
            caller_person: self.person,
            caller_organisation: self.organisation,
        }
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Which rows a query may return for this action: bound into the query's WHERE clause.
    pub fn scope(&self, resource: Resource, action: Action) -> Scope {
        let d = self.grants.domains(resource, action);
        Scope {
            all: d.contains(Domain::All),
            organisation: d
                .contains(Domain::Organisation)
                .then_some(self.organisation),
            inspector: d.contains(Domain::Assignment).then_some(self.person),
            person: d.contains(Domain::SelfRecord).then_some(self.person),
        }
    }

    /// An audit record with this caller as actor.
    pub fn entry(&self, clock: &dyn Clock, action: &str, outcome: Outcome) -> NewEntry {
        let e = NewEntry::new(clock.now(), action, outcome).actor(self.person);
        match self.ip {
            Some(ip) => e.ip(ip),
            None => e,
        }
    }

    /// The record a request is about, as found within the caller's scope; when it was not
    /// found (not there, or not the caller's to see: the same 404), the refusal is recorded.
    pub async fn found<T>(
        &self,
        db: &Db,
        clock: &dyn Clock,
        what: (Resource, Action),
        subject: (&str, Uuid),
        found: Option<T>,
    ) -> Result<T> {
        match found {
            Some(t) => Ok(t),
            None => Err(self
                .deny(
                    db,
                    clock,
                    what,
                    (subject.0, Some(subject.1)),
                    DirectoryError::NotFound,
                )
                .await),
        }
    }

    /// Whether the policy lets the caller do `what` to a record related to them as
    /// `relation`; a refusal (403: they see the record) is recorded.
    pub async fn permit(
        &self,
        db: &Db,
        clock: &dyn Clock,
        what: (Resource, Action),
        subject: (&str, Uuid),
        relation: extranet_access::DomainSet,
    ) -> Result<()> {
        if self.grants.allows(what.0, what.1, relation) {
            return Ok(());
        }
        let why = format!(
            "{}.{} on this {}",
            what.0.as_str(),
            what.1.as_str(),
            subject.0
        );
        Err(self
            .deny(
                db,
                clock,
                what,
                (subject.0, Some(subject.1)),
                DirectoryError::Forbidden(why),
            )
            .await)
    }

    /// Records a refusal and returns the error to answer with.
    pub async fn deny(
        &self,
        db: &Db,
        clock: &dyn Clock,
        what: (Resource, Action),
        subject: (&str, Option<Uuid>),
        error: DirectoryError,
    ) -> DirectoryError {
        let reason = match &error {
            DirectoryError::NotFound => "not visible".to_owned(),
            DirectoryError::Forbidden(why) => why.clone(),
            DirectoryError::Invalid { field, message } => format!("{field}: {message}"),
            other => other.to_string(),
        };
        let mut entry =
            self.entry(clock, "access.denied", Outcome::Denied)
                .detail(serde_json::json!({
                    "resource": what.0.as_str(),
                    "action": what.1.as_str(),
                    "reason": reason,
                }));
        if let Some(id) = subject.1 {
            entry = entry.subject(subject.0, id);
        }
        if let Err(e) = extranet_audit::append(db, &entry).await {
            tracing::error!(error = %e, "denial not recorded in the audit log");
        }
        error
    }
}

/// The rows a caller may see, as query parameters: any row (`all`), rows of one organisation,
/// rows reached through an inspector's assignments in force, or one person's own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    pub all: bool,
    pub organisation: Option<Uuid>,
    pub inspector: Option<Uuid>,
    pub person: Option<Uuid>,
}

impl Scope {
    pub fn is_empty(&self) -> bool {
        !self.all
            && self.organisation.is_none()
            && self.inspector.is_none()
            && self.person.is_none()
    }
}

/// Now, in the unit assignments are stored in.
pub fn unix_now(clock: &dyn Clock) -> i64 {
    clock.now().unix_timestamp()
}
