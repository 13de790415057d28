//! `Privacy`: the register in force (swapped whole on reload, never half-read), with the
//! database, the object store and the clock the retention job and the notice need.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use extranet_platform::{Clock, Db, Objects, on_pool};

use crate::error::Result;
use crate::notice::NoticeSettings;
use crate::register::{Context, Register, RegisterSource};

/// Where the register comes from (a directory, or the one built in), and how the retention
/// job works.
#[derive(Debug, Clone)]
pub struct Settings {
    pub register_dir: Option<PathBuf>,
    /// Records per retention transaction: bounds how long a batch holds its locks.
    pub batch: usize,
    /// Documents per erasure step.
    pub erasure_batch: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            register_dir: None,
            batch: 5000,
            erasure_batch: 100,
        }
    }
}

impl Settings {
    pub fn source(&self) -> Result<RegisterSource> {
        match &self.register_dir {
            Some(dir) => RegisterSource::from_dir(dir),
            None => Ok(RegisterSource::embedded()),
        }
    }
}

pub struct Privacy {
    db: Db,
    objects: Objects,
    clock: Arc<dyn Clock>,
    settings: Settings,
    register: ArcSwap<Register>,
    notice: NoticeSettings,
    journal: Option<ErasureJournal>,
}

/// Records an erasure outside the database before it is carried out (the backup target's
/// journal), so that a restore from an earlier backup carries it out again: a restore cannot
/// bring erased personal data back. Given the person and the erasure's instant; an error stops
/// the erasure before anything is erased.
pub type ErasureJournal = Arc<
    dyn Fn(
            uuid::Uuid,
            time::OffsetDateTime,
        ) -> futures::future::BoxFuture<'static, std::result::Result<(), String>>
        + Send
        + Sync,
>;

/// The registration numbers and legal names of the subprocessor register's entries.
pub async fn subprocessor_names(db: &Db) -> Result<BTreeMap<String, String>> {
    let rows: Vec<(String, String)> = on_pool!(db, read, |pool| {
        sqlx::query_as("SELECT registration_number, legal_name FROM subprocessor")
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().collect())
}

/// Reads and checks the register against the database's schema and subprocessor register.
pub async fn load(db: &Db, settings: &Settings) -> Result<Register> {
    let ctx = Context {
        columns: Some(db.columns().await?),
        // A register of the installation's own is held to its subprocessor register; the
        // built-in one describes the demo's certification body, whose subprocessors an
        // installation need not have (`policy check` still names them).
        subprocessors: match settings.register_dir {
            Some(_) => Some(
                subprocessor_names(db)
                    .await?
                    .into_keys()
                    .collect::<BTreeSet<_>>(),
            ),
            None => None,
        },
    };
    Register::load(&settings.source()?, &ctx)
}

impl Privacy {
    /// Loads the register (refusing one that does not check out).
    pub async fn new(
        db: Db,
        objects: Objects,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> Result<Privacy> {
        let register = load(&db, &settings).await?;
        Ok(Privacy {
            db,
            objects,
            clock,
            settings,
            register: ArcSwap::from_pointee(register),
            notice: NoticeSettings::default(),
            journal: None,
        })
    }

    /// Every erasure is first recorded by `journal`.
    pub fn with_erasure_journal(mut self, journal: Option<ErasureJournal>) -> Privacy {
        self.journal = journal;
        self
    }

    /// Erases the person now ([`crate::erasure::run`]), recorded first in the erasure journal
    /// when there is one. `batch`: documents per step.
    pub async fn erase(
        &self,
        person: uuid::Uuid,
        batch: usize,
    ) -> Result<crate::erasure::ErasureOutcome> {
        let now = self.clock.now();
        if let Some(journal) = &self.journal {
            journal(person, now).await.map_err(|e| {
                crate::PrivacyError::Internal(format!(
                    "the erasure could not be recorded in the backup target's journal, so \
                     nothing was erased: {e}"
                ))
            })?;
        }
        crate::erasure::run(
            &self.db,
            &self.objects,
            &self.register(),
            person,
            now,
            batch,
        )
        .await
    }

    /// The contacts the privacy notice names and the address its mails link to.
    pub fn with_notice(mut self, notice: NoticeSettings) -> Privacy {
        self.notice = notice;
        self
    }

    pub fn notice_settings(&self) -> &NoticeSettings {
        &self.notice
    }

    /// The register in force.
    pub fn register(&self) -> Arc<Register> {
        self.register.load_full()
    }

    /// Reads the register again; one that does not check out is refused and the one in force
    /// stays.
    pub async fn reload(&self) -> Result<()> {
        let register = load(&self.db, &self.settings).await?;
        self.register.store(Arc::new(register));
        Ok(())
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn objects(&self) -> &Objects {
        &self.objects
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }
}
