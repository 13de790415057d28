//! The rights service: the database, the clock, the keys that sign receipts, and the settings.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use extranet_access::{Action, Domain, DomainSet, Grants, Resource};
use extranet_identity::auth::Auth;
use extranet_platform::{Clock, Db};
use uuid::Uuid;

use crate::error::{Result, RightsError};

#[derive(Debug, Clone)]
pub struct Settings {
    /// The extranet's public address (`https://…`, no trailing slash): links in mails.
    pub base_url: String,
    /// The certification body's name, for mails and receipts.
    pub site_name: String,
    /// Where reminders and overdue notices go besides the assignee (the privacy coordinator).
    pub coordinator_email: Option<String>,
    /// The installation's calendar: receipt days and due dates are its dates.
    pub time_zone: jiff::tz::TimeZone,
    /// How long a confirmation link of a request filed without an account works.
    pub link_lifetime: Duration,
    /// Days before the due date when the coordinator is reminded (once).
    pub reminder_days: u8,
    /// Requests one e-mail address may file without an account per day, and one client address
    /// per hour: beyond, refused (the mailbox of someone else is not flooded).
    pub per_address_per_day: i64,
    pub per_client_per_hour: i64,
}

impl Settings {
    pub fn new(base_url: String, site_name: String) -> Settings {
        Settings {
            base_url,
            site_name,
            coordinator_email: None,
            time_zone: jiff::tz::TimeZone::UTC,
            link_lifetime: Duration::from_secs(24 * 3600),
            reminder_days: 7,
            per_address_per_day: 3,
            per_client_per_hour: 10,
        }
    }
}

pub struct Rights {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) auth: Arc<Auth>,
    pub(crate) settings: Settings,
    /// What carries rights out (absent in tools that only read requests).
    pub(crate) fulfilment: Option<crate::fulfil::Fulfilment>,
}

/// Who acts: a signed-in person, their client address and what the policy lets them do.
pub struct Who<'a> {
    pub person: Uuid,
    pub grants: &'a Grants,
    pub ip: Option<IpAddr>,
}

pub(crate) fn own() -> DomainSet {
    DomainSet::default().with(Domain::SelfRecord)
}

pub(crate) fn any() -> DomainSet {
    DomainSet::default().with(Domain::All)
}

impl Rights {
    pub fn new(db: Db, clock: Arc<dyn Clock>, auth: Arc<Auth>, settings: Settings) -> Rights {
        Rights {
            db,
            clock,
            auth,
            settings,
            fulfilment: None,
        }
    }

    /// The same service on another clock (the demo files a request "forty days ago"); it
    /// carries no rights out.
    pub fn on_clock(&self, clock: Arc<dyn Clock>) -> Rights {
        Rights {
            db: self.db.clone(),
            clock,
            auth: self.auth.clone(),
            settings: self.settings.clone(),
            fulfilment: None,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// Today in the installation's calendar.
    pub fn today(&self) -> time::Date {
        crate::due::local_date(self.now(), &self.settings.time_zone)
    }

    /// The policy's answer for `action` on a request related to the caller as `relation`.
    pub(crate) fn permit(&self, who: &Who<'_>, action: Action, relation: DomainSet) -> Result<()> {
        if who.grants.allows(Resource::RightsRequest, action, relation) {
            Ok(())
        } else {
            Err(RightsError::Forbidden(format!(
                "rights_request.{} is not granted",
                action.as_str()
            )))
        }
    }

    /// Whether the caller works the queue (every request).
    pub fn coordinates(&self, grants: &Grants) -> bool {
        grants.allows(Resource::RightsRequest, Action::Update, any())
    }

    pub(crate) fn link(&self, path: &str) -> String {
        format!("{}{path}", self.settings.base_url.trim_end_matches('/'))
    }
}
