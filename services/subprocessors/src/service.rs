//! The subprocessors service: what every operation needs, in one place.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use extranet_directory::{Caller, Directory};
use extranet_platform::{Clock, Db};
use uuid::Uuid;

use crate::error::Result;
use crate::vocabulary::Vocabulary;

/// What a notice whose date arrives with objections still undecided does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOpenObjections {
    /// It waits for the decisions (the default): nothing changes silently.
    Wait,
    /// It takes effect; the objections stay to be decided.
    Proceed,
}

/// How subprocessors behave in this installation (`[subprocessors]`).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Days between a notice's publication and its effective date, at least.
    pub notice_days: u32,
    /// Whether an entry may name a location outside the EEA (each with a transfer mechanism).
    pub allow_outside_eea: bool,
    pub on_open_objections: OnOpenObjections,
    /// Whether the list, its JSON, CSV and feed are public (else for signed-in people only).
    pub public: bool,
    /// How often each instance looks for notices whose date has come.
    pub apply_every: Duration,
    /// The installation's time zone: an effective date begins at its midnight.
    pub time_zone: jiff::tz::TimeZone,
    /// The address mails link to (no trailing slash).
    pub base_url: String,
    pub site_name: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            notice_days: 30,
            allow_outside_eea: false,
            on_open_objections: OnOpenObjections::Wait,
            public: false,
            apply_every: Duration::from_secs(60),
            time_zone: jiff::tz::TimeZone::UTC,
            base_url: "https://localhost:8443".into(),
            site_name: "Extranet".into(),
        }
    }
}

pub struct Subprocessors {
    pub(crate) directory: Arc<Directory>,
    pub(crate) settings: Settings,
    pub(crate) vocabulary: Vocabulary,
    pub(crate) clock: Arc<dyn Clock>,
    /// The public list as JSON, and when it was read (see [`Subprocessors::public_json`]).
    pub(crate) public: arc_swap::ArcSwapOption<(std::time::Instant, bytes::Bytes)>,
}

/// How old the public list's JSON may be. The list changes only when a notice is applied, which
/// each instance looks for every `apply_every` (a minute by default); this instance's own
/// applications clear it at once.
pub const PUBLIC_MAX_AGE: Duration = Duration::from_secs(1);

impl Subprocessors {
    /// The service; `clock` is the one the register's dates come from (the installation's).
    pub fn new(
        directory: Arc<Directory>,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Subprocessors> {
        Ok(Subprocessors {
            directory,
            settings,
            vocabulary: Vocabulary::shipped()?,
            clock,
            public: arc_swap::ArcSwapOption::empty(),
        })
    }

    /// The list now as anyone may read it (when the list is public), as JSON: read from the
    /// database at most once every [`PUBLIC_MAX_AGE`], so that a list fetched by every client's
    /// tooling costs a copy, not a query. Its `as_of` is the instant it was read.
    pub async fn public_json(&self) -> Result<bytes::Bytes> {
        if let Some(cached) = self.public.load_full()
            && cached.0.elapsed() < PUBLIC_MAX_AGE
        {
            return Ok(cached.1.clone());
        }
        let listing = self.current(crate::Reader::Anyone).await?;
        let json = bytes::Bytes::from(listing.to_json().to_string());
        self.public
            .store(Some(Arc::new((std::time::Instant::now(), json.clone()))));
        Ok(json)
    }

    pub fn db(&self) -> &Db {
        self.directory.db()
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn vocabulary(&self) -> &Vocabulary {
        &self.vocabulary
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The caller as the database says now: changes are decided on current roles and
    /// delegated rights (which the access token does not carry).
    pub async fn caller(&self, person: Uuid, ip: Option<IpAddr>) -> Result<Caller> {
        Ok(self.directory.current(person, ip).await?)
    }
}
