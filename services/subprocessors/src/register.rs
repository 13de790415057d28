//! The register: the list as it stands now or stood on any date, and each entry's history.
//! The list is rebuilt from `subprocessor_change`, which holds the whole entry after every
//! change; "now" reads the `subprocessor` table itself.

use std::collections::{BTreeMap, BTreeSet};

use extranet_access::{Action, Domain, DomainSet, Grants, Masked, Resource, SubprocessorView};
use extranet_directory::Caller;
use extranet_platform::on_pool;
use serde::Serialize;
use sqlx::{AssertSqlSafe, FromRow};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::entry::{Entry, Location, Snapshot};
use crate::error::{Result, SubprocessorsError};
use crate::service::Subprocessors;
use crate::time_util;

/// Who reads the list: a signed-in person, or anyone when the list is public.
#[derive(Clone, Copy)]
pub enum Reader<'a> {
    Person(&'a Caller),
    Anyone,
}

impl Reader<'_> {
    pub fn organisation(&self) -> Option<Uuid> {
        match self {
            Reader::Person(c) => Some(c.organisation),
            Reader::Anyone => None,
        }
    }
}

pub(crate) const ALL: DomainSet = DomainSet::EMPTY;

pub(crate) fn all() -> DomainSet {
    ALL.with(Domain::All)
}

/// The list as of an instant.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The instant the list describes.
    pub as_of: OffsetDateTime,
    pub entries: Vec<Masked<SubprocessorView>>,
}

impl Listing {
    /// The list as JSON, the same for the API and the published file: `as_of` (RFC 3339) and
    /// the masked entries under `items`.
    pub fn to_json(&self) -> serde_json::Value {
        let as_of = self
            .as_of
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        serde_json::json!({ "as_of": as_of, "items": self.entries })
    }
}

/// One change of an entry.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// RFC 3339.
    pub at: String,
    /// `announced`, `activated`, `changed`, `retired`, `withdrawn` or `excluded`.
    pub kind: String,
    pub notice_id: Option<Uuid>,
    /// The entry after the change.
    pub entry: Snapshot,
}

/// A stored change: when, what, by which notice, for which company, the entry after it.
type ChangeRow = (i64, String, Option<Uuid>, Option<Uuid>, String);

#[derive(FromRow)]
pub(crate) struct Row {
    pub id: Uuid,
    pub legal_name: String,
    pub registration_number: String,
    pub website: String,
    pub service: String,
    pub data_categories: String,
    pub subject_categories: String,
    pub locations: String,
    pub agreement_date: Option<String>,
    pub state: String,
}

impl Row {
    pub(crate) fn snapshot(&self) -> Result<Snapshot> {
        Ok(Snapshot {
            entry: Entry {
                legal_name: self.legal_name.clone(),
                registration_number: self.registration_number.clone(),
                website: self.website.clone(),
                service: self.service.clone(),
                data_categories: serde_json::from_str(&self.data_categories)?,
                subject_categories: serde_json::from_str(&self.subject_categories)?,
                locations: serde_json::from_str::<Vec<Location>>(&self.locations)?,
                agreement_date: self.agreement_date.clone(),
            },
            state: self.state.clone(),
        })
    }
}

pub(crate) const COLUMNS: &str = "id, legal_name, registration_number, website, service, \
     data_categories, subject_categories, locations, agreement_date, state";

pub(crate) fn view(id: Uuid, s: &Snapshot, excluded: bool) -> SubprocessorView {
    SubprocessorView {
        id,
        legal_name: s.entry.legal_name.clone(),
        registration_number: s.entry.registration_number.clone(),
        website: s.entry.website.clone(),
        service: s.entry.service.clone(),
        data_categories: s.entry.data_categories.clone(),
        subject_categories: s.entry.subject_categories.clone(),
        locations: s.entry.countries(),
        transfers: s.entry.transfers(),
        agreement_date: s.entry.agreement_date.clone(),
        state: s.state.clone(),
        excluded,
    }
}

impl Subprocessors {
    /// The grants a reader's fields are decided by. Anyone (a public list) sees what a client
    /// company's ordinary contact sees, nothing more.
    pub(crate) async fn reader_grants(&self, reader: Reader<'_>) -> Result<Grants> {
        match reader {
            Reader::Person(c) => {
                if !c.grants.allows(Resource::Subprocessor, Action::List, all()) {
                    return Err(c
                        .deny(
                            self.db(),
                            self.clock(),
                            (Resource::Subprocessor, Action::List),
                            ("subprocessor", None),
                            extranet_directory::DirectoryError::Forbidden(
                                "subprocessor.list".into(),
                            ),
                        )
                        .await
                        .into());
                }
                Ok(c.grants.clone())
            }
            Reader::Anyone if self.settings.public => {
                Ok(self.directory.policy().grants(["client_user"], []))
            }
            Reader::Anyone => Err(SubprocessorsError::Unauthenticated),
        }
    }

    /// Entries excluded for `organisation` by upheld objections, as of `at` (Unix seconds).
    pub(crate) async fn exclusions(
        &self,
        organisation: Option<Uuid>,
        at: i64,
    ) -> Result<BTreeSet<Uuid>> {
        let Some(org) = organisation else {
            return Ok(BTreeSet::new());
        };
        let rows: Vec<(Uuid,)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT subprocessor_id FROM subprocessor_exclusion \
                 WHERE organisation_id = $1 AND at <= $2",
            )
            .bind(org)
            .bind(at)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The active entries now, by name.
    pub async fn current(&self, reader: Reader<'_>) -> Result<Listing> {
        let grants = self.reader_grants(reader).await?;
        let now = self.clock().now();
        let rows: Vec<Row> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM subprocessor WHERE state = 'active' ORDER BY legal_name, id"
            )))
            .fetch_all(pool)
            .await
        })?;
        let excluded = self
            .exclusions(reader.organisation(), now.unix_timestamp())
            .await?;
        let visible = grants.visible::<SubprocessorView>(all());
        let mut entries = Vec::with_capacity(rows.len());
        for r in rows {
            let s = r.snapshot()?;
            entries.push(Masked::new(
                view(r.id, &s, excluded.contains(&r.id)),
                visible,
            ));
        }
        Ok(Listing {
            as_of: now,
            entries,
        })
    }

    /// The list as it stood at the end of `date` (`YYYY-MM-DD`) in the installation's time
    /// zone; a date to come is refused (the future is in the notices).
    pub async fn as_of(&self, reader: Reader<'_>, date: &str) -> Result<Listing> {
        let grants = self.reader_grants(reader).await?;
        let day = time_util::parse_date("at", date)?;
        let now = self.clock().now();
        if day > time_util::today(now, &self.settings.time_zone) {
            return Err(SubprocessorsError::invalid(
                "at",
                "a date today or before: planned changes are in the notices",
            ));
        }
        let end = time_util::start_of(time_util::add_days(day, 1), &self.settings.time_zone)? - 1;
        let rows: Vec<(Uuid, String)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT subprocessor_id, entry FROM subprocessor_change \
                 WHERE at <= $1 AND kind <> 'excluded' ORDER BY subprocessor_id, at, id",
            )
            .bind(end)
            .fetch_all(pool)
            .await
        })?;
        // The last change of each entry up to then.
        let mut last: BTreeMap<Uuid, Snapshot> = BTreeMap::new();
        for (id, entry) in rows {
            last.insert(id, serde_json::from_str(&entry)?);
        }
        let excluded = self.exclusions(reader.organisation(), end).await?;
        let visible = grants.visible::<SubprocessorView>(all());
        let mut entries: Vec<Masked<SubprocessorView>> = last
            .iter()
            .filter(|(_, s)| s.state == "active")
            .map(|(id, s)| Masked::new(view(*id, s, excluded.contains(id)), visible))
            .collect();
        entries.sort_by(|a, b| a.inner().legal_name.cmp(&b.inner().legal_name));
        Ok(Listing {
            as_of: time_util::instant(end.min(now.unix_timestamp())),
            entries,
        })
    }

    /// One entry as it stands now, with its history, oldest change first. A company sees its own
    /// exclusion, never another's; staff roles see all of them.
    pub async fn entry(
        &self,
        reader: Reader<'_>,
        id: Uuid,
    ) -> Result<(Masked<SubprocessorView>, Vec<Change>)> {
        let grants = self.reader_grants(reader).await?;
        let row: Option<Row> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM subprocessor WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?;
        let Some(row) = row else {
            return Err(SubprocessorsError::NotFound);
        };
        let changes: Vec<ChangeRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT at, kind, notice_id, organisation_id, entry FROM subprocessor_change \
                     WHERE subprocessor_id = $1 ORDER BY at, id",
            )
            .bind(id)
            .fetch_all(pool)
            .await
        })?;
        let sees_all = matches!(reader, Reader::Person(c)
            if c.grants.allows(Resource::Objection, Action::List, all()));
        let own = reader.organisation();
        let mut history = Vec::new();
        for (at, kind, notice_id, org, entry) in changes {
            if kind == "excluded" && !sees_all && org != own {
                continue;
            }
            history.push(Change {
                at: time_util::rfc3339(at),
                kind,
                notice_id,
                entry: serde_json::from_str(&entry)?,
            });
        }
        let now = self.clock().now().unix_timestamp();
        let excluded = self.exclusions(own, now).await?;
        let visible = grants.visible::<SubprocessorView>(all());
        let s = row.snapshot()?;
        Ok((
            Masked::new(view(row.id, &s, excluded.contains(&row.id)), visible),
            history,
        ))
    }

    /// Every entry in the register whatever its state, for the coordinator's choices.
    pub async fn all_entries(&self, caller: &Caller) -> Result<Vec<SubprocessorView>> {
        self.reader_grants(Reader::Person(caller)).await?;
        let rows: Vec<Row> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM subprocessor ORDER BY legal_name, id"
            )))
            .fetch_all(pool)
            .await
        })?;
        rows.iter()
            .map(|r| Ok(view(r.id, &r.snapshot()?, false)))
            .collect()
    }
}
