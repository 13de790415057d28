//! The documents service: what every operation needs, in one place.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use extranet_directory::{Caller, Directory};
use extranet_platform::{Clock, Db, Objects};
use uuid::Uuid;

use crate::error::Result;
use crate::scan::ScanHook;

/// The document types of a default installation (`documents.types` replaces them).
pub const DEFAULT_TYPES: [&str; 6] = [
    "production_control",
    "test_report",
    "certificate",
    "inspection_report",
    "audit_report",
    "other",
];

/// How documents behave in this installation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest accepted file, in bytes; enforced while the file streams in.
    pub max_bytes: u64,
    /// The document types, in the order forms offer them.
    pub types: Vec<String>,
    /// The types an inspector may upload into a dossier assigned to them (when the policy
    /// grants inspectors `document.upload` at all).
    pub inspector_types: Vec<String>,
    pub scan: Option<ScanHook>,
    /// An upload whose body stalls for this long is cut off (by the HTTP layer reading it).
    pub idle: Duration,
    /// An upload whose body brings fewer bytes a second than this, over `rate_window` of
    /// waiting for it, is cut off (by the HTTP layer reading it); 0: no minimum.
    pub min_rate: u64,
    pub rate_window: Duration,
    /// Uploads one person may begin in an hour; 0: no limit.
    pub uploads_per_hour: u32,
    /// Bytes one person may upload in an hour; 0: no limit.
    pub upload_bytes_per_hour: u64,
    /// An upload that received nothing for this long is considered dead and collected.
    pub stale_after: Duration,
    /// How often the collector runs.
    pub collect_every: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_bytes: 2 * 1024 * 1024 * 1024,
            types: DEFAULT_TYPES.iter().map(|t| (*t).to_owned()).collect(),
            inspector_types: vec!["inspection_report".into()],
            scan: None,
            idle: Duration::from_secs(60),
            min_rate: 1024,
            rate_window: Duration::from_secs(30),
            uploads_per_hour: 200,
            upload_bytes_per_hour: 20 * 1024 * 1024 * 1024,
            stale_after: Duration::from_secs(3600),
            collect_every: Duration::from_secs(600),
        }
    }
}

pub struct Documents {
    pub(crate) directory: Arc<Directory>,
    pub(crate) objects: Objects,
    pub(crate) settings: Settings,
    /// Orphan objects whose deletion failed, and when to try again (see `collect`).
    pub(crate) orphan_retries: crate::collect::OrphanRetries,
}

impl Documents {
    pub fn new(directory: Arc<Directory>, objects: Objects, settings: Settings) -> Documents {
        Documents {
            directory,
            objects,
            settings,
            orphan_retries: Default::default(),
        }
    }

    pub fn db(&self) -> &Db {
        self.directory.db()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.directory.clock()
    }

    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The caller as the database says now: documents are decided on current roles and
    /// delegated rights (which the access token does not carry).
    pub async fn caller(&self, person: Uuid, ip: Option<IpAddr>) -> Result<Caller> {
        Ok(self.directory.current(person, ip).await?)
    }
}
