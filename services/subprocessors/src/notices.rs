//! Change notices: drafted by the privacy coordinator, published with an effective date at
//! least the notice period away (which mails every client company's primary contacts and the
//! contacts who subscribed, in the same transaction), withdrawn before they take effect, and
//! applied once on their date by [`crate::apply`].

use extranet_access::{Action, Masked, NoticeView, Resource};
use extranet_audit::Outcome;
use extranet_directory::Caller;
use extranet_notify::outbox::Mail;
use extranet_platform::{on_pool, write_tx};
use serde::Deserialize;
use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;

use crate::entry::{Entry, Snapshot};
use crate::error::{Result, SubprocessorsError};
use crate::register::{COLUMNS, Reader, Row, all};
use crate::service::{OnOpenObjections, Subprocessors};
use crate::store::Conn;
use crate::time_util;

pub const KINDS: [&str; 4] = ["add", "replace", "remove", "change"];
pub const STATES: [&str; 4] = ["draft", "published", "withdrawn", "applied"];
pub const MAX_SUMMARY: usize = 2000;

/// A notice as the coordinator writes it.
#[derive(Debug, Clone, Deserialize)]
pub struct NoticeDraft {
    /// `add`, `replace`, `remove` or `change`.
    pub kind: String,
    /// The entry changed, removed or replaced (not for `add`).
    pub subprocessor_id: Option<Uuid>,
    /// The entry as it will be (`add`, `replace`, `change`).
    pub entry: Option<Entry>,
    /// What changes and why, in plain text.
    pub summary: String,
    /// `YYYY-MM-DD`: the change takes effect at the start of this day, in the installation's
    /// time zone, and the period to object closes then.
    pub effective_date: String,
}

#[derive(Debug, Clone, FromRow)]
pub(crate) struct NoticeRow {
    pub id: Uuid,
    pub kind: String,
    pub subprocessor_id: Option<Uuid>,
    pub new_entry_id: Option<Uuid>,
    pub proposal: String,
    pub summary: String,
    pub effective_at: i64,
    pub state: String,
    pub published_at: Option<i64>,
    pub withdrawn_at: Option<i64>,
    pub withdrawal_reason: Option<String>,
    pub applied_at: Option<i64>,
    pub current_name: Option<String>,
    pub open_objections: i64,
}

pub(crate) const NOTICE_SELECT: &str = "SELECT n.id, n.kind, n.subprocessor_id, n.new_entry_id, \
     n.proposal, n.summary, n.effective_at, n.state, n.published_at, n.withdrawn_at, \
     n.withdrawal_reason, n.applied_at, s.legal_name AS current_name, \
     (SELECT COUNT(*) FROM subprocessor_objection o WHERE o.notice_id = n.id \
      AND o.state = 'open') AS open_objections \
     FROM subprocessor_notice n LEFT JOIN subprocessor s ON s.id = n.subprocessor_id";

impl NoticeRow {
    pub(crate) fn proposal(&self) -> Result<Option<Entry>> {
        Ok(serde_json::from_str(&self.proposal)?)
    }
}

impl Subprocessors {
    pub(crate) fn notice_view(&self, r: &NoticeRow) -> Result<NoticeView> {
        let proposal = r.proposal()?;
        let now = self.clock().now().unix_timestamp();
        let days_left = if r.state == "published" && r.effective_at > now {
            (r.effective_at - now + 86_399) / 86_400
        } else {
            0
        };
        let name = proposal
            .as_ref()
            .map(|e| e.legal_name.clone())
            .or_else(|| r.current_name.clone())
            .unwrap_or_default();
        let (id, replaces_id, replaces_name) = match r.kind.as_str() {
            "replace" => (r.new_entry_id, r.subprocessor_id, r.current_name.clone()),
            "add" => (r.new_entry_id, None, None),
            _ => (r.subprocessor_id, None, None),
        };
        Ok(NoticeView {
            id: r.id,
            kind: r.kind.clone(),
            state: r.state.clone(),
            subprocessor_id: id,
            subprocessor_name: name,
            replaces_id,
            replaces_name,
            summary: r.summary.clone(),
            service: proposal.as_ref().map(|e| e.service.clone()),
            locations: proposal.as_ref().map(Entry::countries).unwrap_or_default(),
            transfers: proposal.as_ref().map(Entry::transfers).unwrap_or_default(),
            data_categories: proposal
                .as_ref()
                .map(|e| e.data_categories.clone())
                .unwrap_or_default(),
            subject_categories: proposal
                .as_ref()
                .map(|e| e.subject_categories.clone())
                .unwrap_or_default(),
            effective_at: time_util::rfc3339(r.effective_at),
            published_at: r.published_at.map(time_util::rfc3339),
            withdrawn_at: r.withdrawn_at.map(time_util::rfc3339),
            withdrawal_reason: r.withdrawal_reason.clone(),
            applied_at: r.applied_at.map(time_util::rfc3339),
            days_left,
            waiting: self.is_waiting(r, now),
        })
    }

    /// The date an instant falls on in the installation's time zone (`YYYY-MM-DD`).
    pub(crate) fn local_day(&self, secs: i64) -> String {
        jiff::Timestamp::from_second(secs)
            .map(|t| {
                t.to_zoned(self.settings.time_zone.clone())
                    .date()
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// Its date has come and it waits for objections to be decided.
    pub(crate) fn is_waiting(&self, r: &NoticeRow, now: i64) -> bool {
        r.state == "published"
            && r.effective_at <= now
            && r.open_objections > 0
            && self.settings.on_open_objections == OnOpenObjections::Wait
    }

    fn may_draft(caller: &Caller) -> bool {
        caller
            .grants
            .allows(Resource::Subprocessor, Action::Update, all())
    }

    pub(crate) async fn notice_row(&self, id: Uuid) -> Result<Option<NoticeRow>> {
        Ok(on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!("{NOTICE_SELECT} WHERE n.id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// A notice the reader may see: published, withdrawn or applied ones for everyone who reads
    /// the register; drafts only for those who draft.
    pub async fn notice(&self, reader: Reader<'_>, id: Uuid) -> Result<Masked<NoticeView>> {
        let grants = self.reader_grants(reader).await?;
        let row = self.notice_row(id).await?;
        let drafts = matches!(reader, Reader::Person(c) if Self::may_draft(c));
        let row = row.filter(|r| r.state != "draft" || drafts);
        let row = match (row, reader) {
            (Some(r), _) => r,
            (None, Reader::Person(c)) => {
                let refused = c
                    .found::<()>(
                        self.db(),
                        self.clock(),
                        (Resource::Subprocessor, Action::List),
                        ("notice", id),
                        None,
                    )
                    .await;
                return Err(refused
                    .err()
                    .map(Into::into)
                    .unwrap_or(SubprocessorsError::NotFound));
            }
            (None, Reader::Anyone) => return Err(SubprocessorsError::NotFound),
        };
        Ok(Masked::new(
            self.notice_view(&row)?,
            grants.visible::<NoticeView>(all()),
        ))
    }

    /// Notices in the given states (all but drafts when none are given), the latest effective
    /// date first. Drafts only for those who draft.
    pub async fn notices(
        &self,
        reader: Reader<'_>,
        states: &[&str],
    ) -> Result<Vec<Masked<NoticeView>>> {
        let grants = self.reader_grants(reader).await?;
        let drafts = matches!(reader, Reader::Person(c) if Self::may_draft(c));
        for s in states {
            if !STATES.contains(s) {
                return Err(SubprocessorsError::invalid(
                    "state",
                    format!("one of {}", STATES.join(", ")),
                ));
            }
        }
        let rows: Vec<NoticeRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "{NOTICE_SELECT} ORDER BY n.effective_at DESC, n.id DESC LIMIT 500"
            )))
            .fetch_all(pool)
            .await
        })?;
        let visible = grants.visible::<NoticeView>(all());
        rows.iter()
            .filter(|r| r.state != "draft" || drafts)
            .filter(|r| {
                if states.is_empty() {
                    r.state != "draft"
                } else {
                    states.contains(&r.state.as_str())
                }
            })
            .map(|r| Ok(Masked::new(self.notice_view(r)?, visible)))
            .collect()
    }

    async fn entry_row(&self, id: Uuid) -> Result<Option<Row>> {
        Ok(on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM subprocessor WHERE id = $1"
            )))
            .bind(id)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// The draft checked: its kind's fields, the entry (vocabulary and EEA rule), the summary,
    /// and an effective date at least the notice period after today.
    async fn checked(&self, d: &NoticeDraft) -> Result<(Option<Entry>, String, i64)> {
        if !KINDS.contains(&d.kind.as_str()) {
            return Err(SubprocessorsError::invalid(
                "kind",
                format!("one of {}", KINDS.join(", ")),
            ));
        }
        let entry = match (d.kind.as_str(), &d.entry) {
            ("remove", _) => None,
            (_, Some(e)) => Some(e.checked(&self.vocabulary, self.settings.allow_outside_eea)?),
            (_, None) => {
                return Err(SubprocessorsError::invalid(
                    "entry",
                    "describe the subprocessor as it will be",
                ));
            }
        };
        match (d.kind.as_str(), d.subprocessor_id) {
            ("add", Some(_)) => {
                return Err(SubprocessorsError::invalid(
                    "subprocessor_id",
                    "a new subprocessor has no entry yet",
                ));
            }
            ("add", None) => {}
            (_, None) => {
                return Err(SubprocessorsError::invalid(
                    "subprocessor_id",
                    "choose the subprocessor this notice is about",
                ));
            }
            (kind, Some(id)) => {
                let current = self.entry_row(id).await?;
                let Some(current) = current.filter(|r| r.state == "active") else {
                    return Err(SubprocessorsError::invalid(
                        "subprocessor_id",
                        "not an active subprocessor of the register",
                    ));
                };
                if kind == "change" && entry.as_ref() == Some(&current.snapshot()?.entry) {
                    return Err(SubprocessorsError::invalid(
                        "entry",
                        "the entry would not change",
                    ));
                }
            }
        }
        let summary = d.summary.trim().to_owned();
        if summary.is_empty() || summary.chars().count() > MAX_SUMMARY {
            return Err(SubprocessorsError::invalid(
                "summary",
                format!("say what changes and why, in at most {MAX_SUMMARY} characters"),
            ));
        }
        let effective_at = self.effective_at(&d.effective_date)?;
        Ok((entry, summary, effective_at))
    }

    /// The first second of the effective date, refused when it is inside the notice period.
    fn effective_at(&self, date: &str) -> Result<i64> {
        let day = time_util::parse_date("effective_date", date)?;
        let tz = &self.settings.time_zone;
        let earliest = time_util::add_days(
            time_util::today(self.clock().now(), tz),
            i64::from(self.settings.notice_days),
        );
        if day < earliest {
            return Err(SubprocessorsError::invalid(
                "effective_date",
                format!(
                    "at least {} days after publication: {earliest} or later",
                    self.settings.notice_days
                ),
            ));
        }
        time_util::start_of(day, tz)
    }

    async fn permit(&self, caller: &Caller, action: Action, id: Option<Uuid>) -> Result<()> {
        if caller.grants.allows(Resource::Subprocessor, action, all()) {
            return Ok(());
        }
        Err(caller
            .deny(
                self.db(),
                self.clock(),
                (Resource::Subprocessor, action),
                ("notice", id),
                extranet_directory::DirectoryError::Forbidden(format!(
                    "subprocessor.{}",
                    action.as_str()
                )),
            )
            .await
            .into())
    }

    /// A new draft (the privacy coordinator). Nothing is announced until it is published.
    pub async fn draft(&self, caller: &Caller, d: &NoticeDraft) -> Result<Masked<NoticeView>> {
        self.permit(caller, Action::Update, None).await?;
        let (entry, summary, effective_at) = self.checked(d).await?;
        let id = Uuid::now_v7();
        let now = self.clock().now().unix_timestamp();
        let audit = caller
            .entry(self.clock(), "subprocessor.notice.draft", Outcome::Success)
            .subject("notice", id)
            .detail(serde_json::json!({ "kind": d.kind }));
        let proposal = serde_json::to_string(&entry)?;
        crate::tx(
            write_tx!(self.db(), |tx| async {
                sqlx::query(
                    "INSERT INTO subprocessor_notice (id, kind, subprocessor_id, proposal, summary, \
                     effective_at, state, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8)",
                )
                .bind(id)
                .bind(&d.kind)
                .bind(d.subprocessor_id)
                .bind(&proposal)
                .bind(&summary)
                .bind(effective_at)
                .bind(caller.person)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                extranet_audit::append_in(&mut *tx, &audit).await?;
                Ok::<(), SubprocessorsError>(())
            }.await)
            .await,
        )?;
        self.notice(Reader::Person(caller), id).await
    }

    /// A draft as the coordinator wrote it, to edit it again (its proposal in full, which the
    /// outward view summarises); a notice no longer a draft is not edited (409).
    pub async fn draft_form(&self, caller: &Caller, id: Uuid) -> Result<NoticeDraft> {
        self.permit(caller, Action::Update, Some(id)).await?;
        let Some(row) = self.notice_row(id).await? else {
            return Err(SubprocessorsError::NotFound);
        };
        if row.state != "draft" {
            return Err(SubprocessorsError::Conflict(format!(
                "a {} notice cannot be edited",
                row.state
            )));
        }
        let effective_date = self.local_day(row.effective_at);
        Ok(NoticeDraft {
            kind: row.kind.clone(),
            subprocessor_id: row.subprocessor_id,
            entry: row.proposal()?,
            summary: row.summary.clone(),
            effective_date,
        })
    }

    /// Changes a draft; a published, withdrawn or applied notice is not edited (409).
    pub async fn update_draft(
        &self,
        caller: &Caller,
        id: Uuid,
        d: &NoticeDraft,
    ) -> Result<Masked<NoticeView>> {
        self.permit(caller, Action::Update, Some(id)).await?;
        let current = self.notice(Reader::Person(caller), id).await?;
        if current.inner().state != "draft" {
            return Err(SubprocessorsError::Conflict(format!(
                "a {} notice cannot be edited",
                current.inner().state
            )));
        }
        let (entry, summary, effective_at) = self.checked(d).await?;
        let proposal = serde_json::to_string(&entry)?;
        let audit = caller
            .entry(self.clock(), "subprocessor.notice.edit", Outcome::Success)
            .subject("notice", id);
        crate::tx(
            write_tx!(self.db(), |tx| async {
                let n = sqlx::query(
                    "UPDATE subprocessor_notice SET kind = $1, subprocessor_id = $2, proposal = $3, \
                     summary = $4, effective_at = $5 WHERE id = $6 AND state = 'draft'",
                )
                .bind(&d.kind)
                .bind(d.subprocessor_id)
                .bind(&proposal)
                .bind(&summary)
                .bind(effective_at)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(SubprocessorsError::Conflict(
                        "the notice was published or withdrawn meanwhile".into(),
                    ));
                }
                extranet_audit::append_in(&mut *tx, &audit).await?;
                Ok(())
            }.await)
            .await,
        )?;
        self.notice(Reader::Person(caller), id).await
    }

    /// The mail every recipient gets, in their language.
    pub(crate) fn mail(
        &self,
        template: &'static str,
        r: &NoticeRow,
        to: (String, String),
    ) -> Result<Mail> {
        let name = r
            .proposal()?
            .map(|e| e.legal_name)
            .or_else(|| r.current_name.clone())
            .unwrap_or_default();
        let date = self.local_day(r.effective_at);
        Ok(Mail {
            recipient: to.0,
            language: to.1,
            template,
            args: serde_json::json!({
                "site": self.settings.site_name,
                "name": name,
                "kind": r.kind,
                "summary": r.summary,
                "date": date,
                "reason": r.withdrawal_reason.clone().unwrap_or_default(),
                "link": format!("{}/subprocessors/notices/{}", self.settings.base_url, r.id),
            }),
        })
    }

    /// Publishes a draft: checks the notice period again (days have passed since drafting),
    /// announces a new entry, and queues the mails — all in one transaction with its audit
    /// record. Returns the notice and the number of mails queued.
    pub async fn publish(&self, caller: &Caller, id: Uuid) -> Result<(Masked<NoticeView>, usize)> {
        self.permit(caller, Action::Publish, Some(id)).await?;
        let Some(row) = self.notice_row(id).await? else {
            return Err(SubprocessorsError::NotFound);
        };
        if row.state != "draft" {
            return Err(SubprocessorsError::Conflict(format!(
                "the notice is {} already",
                row.state
            )));
        }
        let date = self.local_day(row.effective_at);
        self.effective_at(&date)?;
        let proposal = row.proposal()?;
        let now = self.clock().now().unix_timestamp();
        let new_entry = matches!(row.kind.as_str(), "add" | "replace").then(Uuid::now_v7);
        let mut published = row.clone();
        published.state = "published".into();
        published.published_at = Some(now);
        let clock = self.clock();
        let count = crate::tx(
            write_tx!(self.db(), |tx| async {
                let n = sqlx::query(
                    "UPDATE subprocessor_notice SET state = 'published', published_at = $1, \
                     new_entry_id = $2 WHERE id = $3 AND state = 'draft'",
                )
                .bind(now)
                .bind(new_entry)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(SubprocessorsError::Conflict(
                        "the notice was published or withdrawn meanwhile".into(),
                    ));
                }
                // Someone else's published notice about the same entry would make the two
                // apply in an order nobody announced.
                if let Some(sub) = row.subprocessor_id {
                    let other: Option<(Uuid,)> = sqlx::query_as(
                        "SELECT id FROM subprocessor_notice WHERE subprocessor_id = $1 \
                         AND state = 'published' AND id <> $2",
                    )
                    .bind(sub)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if other.is_some() {
                        return Err(SubprocessorsError::Conflict(
                            "another published notice about this subprocessor is pending: \
                             withdraw it or wait until it takes effect"
                                .into(),
                        ));
                    }
                }
                if let (Some(new_id), Some(entry)) = (new_entry, &proposal) {
                    let snap = Snapshot {
                        entry: entry.clone(),
                        state: "announced".into(),
                    };
                    tx.insert_entry(new_id, &snap, now).await?;
                    tx.record_change(new_id, now, "announced", Some(id), None, &snap)
                        .await?;
                }
                let to = tx.notice_recipients().await?;
                let mails = to
                    .into_iter()
                    .map(|t| self.mail("subprocessor-notice", &published, t))
                    .collect::<Result<Vec<Mail>>>()?;
                extranet_notify::outbox::enqueue_many_in(&mut *tx, clock, &mails).await?;
                let audit = caller
                    .entry(clock, "subprocessor.notice.publish", Outcome::Success)
                    .subject("notice", id)
                    .detail(serde_json::json!({ "kind": row.kind, "mails": mails.len() }));
                extranet_audit::append_in(&mut *tx, &audit).await?;
                Ok::<usize, SubprocessorsError>(mails.len())
            }
            .await)
            .await,
        )?;
        Ok((self.notice(Reader::Person(caller), id).await?, count))
    }

    /// Withdraws a notice before it takes effect: a draft is simply set aside; a published one
    /// is mailed to the same people as its publication, with the reason, and an entry it
    /// announced is retired.
    pub async fn withdraw(
        &self,
        caller: &Caller,
        id: Uuid,
        reason: &str,
    ) -> Result<Masked<NoticeView>> {
        self.permit(caller, Action::Withdraw, Some(id)).await?;
        self.withdraw_notice(Some(caller), id, reason).await?;
        self.notice(Reader::Person(caller), id).await
    }

    /// The withdrawal itself, by a person or by an upheld objection's decision (inside its own
    /// transaction then, see `objections::decide`).
    pub(crate) async fn withdraw_notice(
        &self,
        caller: Option<&Caller>,
        id: Uuid,
        reason: &str,
    ) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_SUMMARY {
            return Err(SubprocessorsError::invalid(
                "reason",
                format!("say why, in at most {MAX_SUMMARY} characters"),
            ));
        }
        let Some(row) = self.notice_row(id).await? else {
            return Err(SubprocessorsError::NotFound);
        };
        if !matches!(row.state.as_str(), "draft" | "published") {
            return Err(SubprocessorsError::Conflict(format!(
                "a {} notice cannot be withdrawn",
                row.state
            )));
        }
        let now = self.clock().now().unix_timestamp();
        let clock = self.clock();
        let mut withdrawn = row.clone();
        withdrawn.withdrawal_reason = Some(reason.to_owned());
        let audit = match caller {
            Some(c) => c.entry(clock, "subprocessor.notice.withdraw", Outcome::Success),
            None => extranet_audit::NewEntry::new(
                clock.now(),
                "subprocessor.notice.withdraw",
                Outcome::Success,
            ),
        }
        .subject("notice", id);
        crate::tx(
            write_tx!(self.db(), |tx| async {
                tx.withdraw_notice(&withdrawn, now).await?;
                if withdrawn.state == "published" {
                    let to = tx.notice_recipients().await?;
                    let mails = to
                        .into_iter()
                        .map(|t| self.mail("subprocessor-withdrawn", &withdrawn, t))
                        .collect::<Result<Vec<Mail>>>()?;
                    extranet_notify::outbox::enqueue_many_in(&mut *tx, clock, &mails).await?;
                }
                extranet_audit::append_in(&mut *tx, &audit).await?;
                Ok::<(), SubprocessorsError>(())
            }
            .await)
            .await,
        )
    }
}
