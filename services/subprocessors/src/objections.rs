//! Clients' objections to a notice: lodged while its window is open by a company's primary
//! contact or a contact holding `subprocessor.object`, amended or withdrawn until decided, and
//! decided by the privacy coordinator — upheld (the notice withdrawn, or the company excluded
//! from the entry), rejected with a justification, or settled with a note. A company sees its
//! own objections only; staff reads are recorded.

use extranet_access::{Action, Domain, DomainSet, Masked, ObjectionView, Resource};
use extranet_audit::Outcome;
use extranet_directory::{Caller, DirectoryError};
use extranet_notify::outbox::Mail;
use extranet_platform::{on_pool, write_tx};
use serde::Deserialize;
use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;

use crate::error::{Result, SubprocessorsError};
use crate::register::all;
use crate::rich_text;
use crate::service::Subprocessors;
use crate::store::Conn;
use crate::time_util;

pub const STATES: [&str; 5] = ["open", "withdrawn", "upheld", "rejected", "settled"];
pub const MAX_NOTE: usize = 4000;

/// The privacy coordinator's decision.
#[derive(Debug, Clone, Deserialize)]
pub struct Decision {
    /// `upheld`, `rejected` or `settled`.
    pub decision: String,
    /// For `upheld`: `withdraw_notice` or `exclude` (the company is taken out of the entry).
    pub outcome: Option<String>,
    /// The justification (required for a rejection) or a note.
    pub note: String,
}

#[derive(Debug, Clone, FromRow)]
struct ObjectionRow {
    id: Uuid,
    notice_id: Uuid,
    organisation_id: Uuid,
    organisation_name: String,
    author_id: Uuid,
    author_first: String,
    author_surname: String,
    reasons: String,
    state: String,
    outcome: Option<String>,
    decision_note: Option<String>,
    decided_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str = "SELECT b.id, b.notice_id, b.organisation_id, o.name AS organisation_name, \
     b.author_id, p.first_name AS author_first, p.surname AS author_surname, b.reasons, b.state, \
     b.outcome, b.decision_note, b.decided_at, b.created_at, b.updated_at \
     FROM subprocessor_objection b JOIN organisation o ON o.id = b.organisation_id \
     JOIN person p ON p.id = b.author_id";

fn view(r: &ObjectionRow) -> ObjectionView {
    ObjectionView {
        id: r.id,
        notice_id: r.notice_id,
        organisation_id: r.organisation_id,
        organisation_name: r.organisation_name.clone(),
        author_name: format!("{} {}", r.author_first, r.author_surname),
        reasons: r.reasons.clone(),
        state: r.state.clone(),
        outcome: r.outcome.clone(),
        decision_note: r.decision_note.clone(),
        decided_at: r.decided_at.map(time_util::rfc3339),
        created_at: time_util::rfc3339(r.created_at),
        updated_at: time_util::rfc3339(r.updated_at),
    }
}

/// Per notice: how many objections are in each state.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Tally {
    pub open: i64,
    pub withdrawn: i64,
    pub upheld: i64,
    pub rejected: i64,
    pub settled: i64,
}

impl Subprocessors {
    /// How an objection relates to the caller: their own company's, or any (`all`).
    fn relation(caller: &Caller, organisation: Uuid) -> DomainSet {
        let d = all();
        if organisation == caller.organisation {
            d.with(Domain::Organisation)
        } else {
            d
        }
    }

    async fn row(&self, id: Uuid) -> Result<Option<ObjectionRow>> {
        Ok(on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!("{SELECT} WHERE b.id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// An objection the caller may read (their company's, or any for staff roles); a staff
    /// read is recorded.
    async fn found(&self, caller: &Caller, id: Uuid, action: Action) -> Result<ObjectionRow> {
        let what = (Resource::Objection, Action::Read);
        let row = self.row(id).await?.filter(|r| {
            caller.grants.allows(
                Resource::Objection,
                Action::Read,
                Self::relation(caller, r.organisation_id),
            )
        });
        let row = caller
            .found(self.db(), self.clock(), what, ("objection", id), row)
            .await?;
        let rel = Self::relation(caller, row.organisation_id);
        if action != Action::Read {
            caller
                .permit(
                    self.db(),
                    self.clock(),
                    (Resource::Objection, action),
                    ("objection", id),
                    rel,
                )
                .await?;
        }
        Ok(row)
    }

    /// One objection (its company's people who may object, staff roles).
    pub async fn objection(&self, caller: &Caller, id: Uuid) -> Result<Masked<ObjectionView>> {
        let row = self.found(caller, id, Action::Read).await?;
        self.record_read(caller, "subprocessor.objection.read", Some(&row))
            .await?;
        let rel = Self::relation(caller, row.organisation_id);
        Ok(Masked::new(
            view(&row),
            caller.grants.visible::<ObjectionView>(rel),
        ))
    }

    /// Staff reads of objections are recorded (a company's reads of its own are not personal
    /// data of others).
    async fn record_read(
        &self,
        caller: &Caller,
        action: &str,
        row: Option<&ObjectionRow>,
    ) -> Result<()> {
        if row.is_some_and(|r| r.organisation_id == caller.organisation) {
            return Ok(());
        }
        let mut e = caller.entry(self.clock(), action, Outcome::Success);
        if let Some(r) = row {
            e = e.subject("objection", r.id).organisation(r.organisation_id);
        }
        extranet_audit::append(self.db(), &e).await?;
        Ok(())
    }

    /// The objections the caller may list, newest first: their company's, or every company's
    /// for staff roles (recorded); optionally those of one notice.
    pub async fn objections(
        &self,
        caller: &Caller,
        notice: Option<Uuid>,
    ) -> Result<Vec<Masked<ObjectionView>>> {
        let domains = caller.grants.domains(Resource::Objection, Action::List);
        let every = domains.contains(Domain::All);
        let own = domains.contains(Domain::Organisation);
        // Like every list here: nothing to list is an empty list, not a refusal.
        if !every && !own {
            return Ok(Vec::new());
        }
        let rows: Vec<ObjectionRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "{SELECT} WHERE ($1 OR b.organisation_id = $2) \
                 AND ($3 IS NULL OR b.notice_id = $3) \
                 ORDER BY b.created_at DESC, b.id DESC LIMIT 1000"
            )))
            .bind(every)
            .bind(caller.organisation)
            .bind(notice)
            .fetch_all(pool)
            .await
        })?;
        if every {
            let e = caller
                .entry(
                    self.clock(),
                    "subprocessor.objection.list",
                    Outcome::Success,
                )
                .detail(serde_json::json!({ "notice": notice, "count": rows.len() }));
            extranet_audit::append(self.db(), &e).await?;
        }
        Ok(rows
            .iter()
            .map(|r| {
                let rel = Self::relation(caller, r.organisation_id);
                Masked::new(view(r), caller.grants.visible::<ObjectionView>(rel))
            })
            .collect())
    }

    /// The objections of each notice by state (staff roles).
    pub async fn tallies(&self, caller: &Caller) -> Result<Vec<(Uuid, Tally)>> {
        if !caller
            .grants
            .allows(Resource::Objection, Action::List, all())
        {
            return Ok(Vec::new());
        }
        let rows: Vec<(Uuid, String)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as("SELECT notice_id, state FROM subprocessor_objection")
                .fetch_all(pool)
                .await
        })?;
        let mut out: Vec<(Uuid, Tally)> = Vec::new();
        for (notice, state) in rows {
            let i = match out.iter().position(|(n, _)| *n == notice) {
                Some(i) => i,
                None => {
                    out.push((notice, Tally::default()));
                    out.len() - 1
                }
            };
            let t = &mut out[i].1;
            match state.as_str() {
                "open" => t.open += 1,
                "withdrawn" => t.withdrawn += 1,
                "upheld" => t.upheld += 1,
                "rejected" => t.rejected += 1,
                _ => t.settled += 1,
            }
        }
        Ok(out)
    }

    /// Lodges the caller's company's objection to a published notice, while its window is open.
    pub async fn object(
        &self,
        caller: &Caller,
        notice: Uuid,
        reasons: &str,
    ) -> Result<Masked<ObjectionView>> {
        let what = (Resource::Subprocessor, Action::Object);
        let row = self
            .notice_row(notice)
            .await?
            .filter(|r| r.state != "draft");
        let row = caller
            .found(self.db(), self.clock(), what, ("notice", notice), row)
            .await?;
        let rel = all().with(Domain::Organisation);
        caller
            .permit(self.db(), self.clock(), what, ("notice", notice), rel)
            .await?;
        let now = self.clock().now();
        if row.state != "published" || now.unix_timestamp() >= row.effective_at {
            let closed_at = row
                .withdrawn_at
                .filter(|_| row.state == "withdrawn")
                .unwrap_or(row.effective_at)
                .min(row.effective_at);
            // A refusal like any other: recorded, then answered with the closing time.
            let _ = caller
                .deny(
                    self.db(),
                    self.clock(),
                    what,
                    ("notice", Some(notice)),
                    DirectoryError::Conflict("the period to object is closed".into()),
                )
                .await;
            return Err(SubprocessorsError::WindowClosed {
                closed_at: time_util::instant(closed_at),
            });
        }
        let reasons = rich_text::clean("reasons", reasons)?;
        let id = Uuid::now_v7();
        let at = now.unix_timestamp();
        let audit = caller
            .entry(
                self.clock(),
                "subprocessor.objection.lodge",
                Outcome::Success,
            )
            .subject("objection", id)
            .organisation(caller.organisation)
            .detail(serde_json::json!({ "notice": notice }));
        let res = write_tx!(self.db(), |tx| async {
            sqlx::query(
                "INSERT INTO subprocessor_objection (id, notice_id, organisation_id, author_id, \
                 reasons, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $6)",
            )
            .bind(id)
            .bind(notice)
            .bind(caller.organisation)
            .bind(caller.person)
            .bind(&reasons)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            extranet_audit::append_in(&mut *tx, &audit).await?;
            Ok::<(), SubprocessorsError>(())
        }.await)
        .await;
        match res {
            Err(SubprocessorsError::Internal(m))
                if m.contains("UNIQUE") || m.contains("unique") =>
            {
                return Err(SubprocessorsError::Conflict(
                    "your company already has an open objection to this notice: amend it instead"
                        .into(),
                ));
            }
            other => other?,
        }
        self.objection(caller, id).await
    }

    /// Rewrites the reasons of the company's open objection.
    pub async fn amend(
        &self,
        caller: &Caller,
        id: Uuid,
        reasons: &str,
    ) -> Result<Masked<ObjectionView>> {
        let row = self.found(caller, id, Action::Read).await?;
        self.may_change_own(caller, &row).await?;
        let reasons = rich_text::clean("reasons", reasons)?;
        let now = self.clock().now().unix_timestamp();
        let audit = caller
            .entry(
                self.clock(),
                "subprocessor.objection.amend",
                Outcome::Success,
            )
            .subject("objection", id)
            .organisation(row.organisation_id);
        self.set_open(id, &audit, Some(&reasons), "open", now)
            .await?;
        self.objection(caller, id).await
    }

    /// Withdraws the company's open objection.
    pub async fn withdraw_objection(
        &self,
        caller: &Caller,
        id: Uuid,
    ) -> Result<Masked<ObjectionView>> {
        let row = self.found(caller, id, Action::Read).await?;
        self.may_change_own(caller, &row).await?;
        let now = self.clock().now().unix_timestamp();
        let audit = caller
            .entry(
                self.clock(),
                "subprocessor.objection.withdraw",
                Outcome::Success,
            )
            .subject("objection", id)
            .organisation(row.organisation_id);
        self.set_open(id, &audit, None, "withdrawn", now).await?;
        self.objection(caller, id).await
    }

    /// Only the company's own people who may object change its objection, and only while open.
    async fn may_change_own(&self, caller: &Caller, row: &ObjectionRow) -> Result<()> {
        let what = (Resource::Subprocessor, Action::Object);
        let rel = Self::relation(caller, row.organisation_id);
        if row.organisation_id != caller.organisation {
            return Err(caller
                .deny(
                    self.db(),
                    self.clock(),
                    what,
                    ("objection", Some(row.id)),
                    DirectoryError::Forbidden("only the objecting company changes it".into()),
                )
                .await
                .into());
        }
        caller
            .permit(self.db(), self.clock(), what, ("objection", row.id), rel)
            .await?;
        if row.state != "open" {
            return Err(SubprocessorsError::Conflict(format!(
                "the objection is {}: it can no longer be changed",
                row.state
            )));
        }
        Ok(())
    }

    async fn set_open(
        &self,
        id: Uuid,
        audit: &extranet_audit::NewEntry,
        reasons: Option<&str>,
        state: &str,
        now: i64,
    ) -> Result<()> {
        crate::tx(
            write_tx!(self.db(), |tx| async {
                let n = sqlx::query(
                    "UPDATE subprocessor_objection SET reasons = COALESCE($1, reasons), \
                     state = $2, updated_at = $3 WHERE id = $4 AND state = 'open'",
                )
                .bind(reasons)
                .bind(state)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(SubprocessorsError::Conflict(
                        "the objection was decided or withdrawn meanwhile".into(),
                    ));
                }
                extranet_audit::append_in(&mut *tx, audit).await?;
                Ok::<(), SubprocessorsError>(())
            }
            .await)
            .await,
        )
    }

    /// Decides an open objection (the privacy coordinator), and tells the company's primary
    /// contacts and the objector in their language.
    pub async fn decide(
        &self,
        caller: &Caller,
        id: Uuid,
        d: &Decision,
    ) -> Result<Masked<ObjectionView>> {
        let row = self.found(caller, id, Action::Decide).await?;
        if row.state != "open" {
            return Err(SubprocessorsError::Conflict(format!(
                "the objection is {} already",
                row.state
            )));
        }
        let note = d.note.trim().to_owned();
        if note.chars().count() > MAX_NOTE {
            return Err(SubprocessorsError::invalid(
                "note",
                format!("at most {MAX_NOTE} characters"),
            ));
        }
        let notice = self
            .notice_row(row.notice_id)
            .await?
            .ok_or(SubprocessorsError::NotFound)?;
        let outcome = match (d.decision.as_str(), d.outcome.as_deref()) {
            ("rejected", _) if note.is_empty() => {
                return Err(SubprocessorsError::invalid(
                    "note",
                    "a rejection needs its justification",
                ));
            }
            ("settled", _) if note.is_empty() => {
                return Err(SubprocessorsError::invalid(
                    "note",
                    "a settlement needs a note of what was agreed",
                ));
            }
            ("rejected" | "settled", _) => None,
            ("upheld", Some("withdraw_notice")) => {
                if notice.state != "published" {
                    return Err(SubprocessorsError::invalid(
                        "outcome",
                        format!("the notice is {}: it cannot be withdrawn", notice.state),
                    ));
                }
                Some("withdraw_notice")
            }
            ("upheld", Some("exclude")) => {
                if notice.kind == "remove" {
                    return Err(SubprocessorsError::invalid(
                        "outcome",
                        "a removal cannot exclude a company: withdraw the notice instead",
                    ));
                }
                Some("exclude")
            }
            ("upheld", _) => {
                return Err(SubprocessorsError::invalid(
                    "outcome",
                    "say how it is upheld: withdraw_notice or exclude",
                ));
            }
            _ => {
                return Err(SubprocessorsError::invalid(
                    "decision",
                    "one of upheld, rejected, settled",
                ));
            }
        };
        let now = self.clock().now().unix_timestamp();
        let clock = self.clock();
        let audit = caller
            .entry(clock, "subprocessor.objection.decide", Outcome::Success)
            .subject("objection", id)
            .organisation(row.organisation_id)
            .detail(serde_json::json!({ "decision": d.decision, "outcome": outcome, "notice": row.notice_id }));
        let entry_id = match notice.kind.as_str() {
            "add" | "replace" => notice.new_entry_id,
            _ => notice.subprocessor_id,
        };
        let name = notice
            .proposal()?
            .map(|e| e.legal_name)
            .or_else(|| notice.current_name.clone())
            .unwrap_or_default();
        let mut withdrawn = notice.clone();
        withdrawn.withdrawal_reason = Some(if note.is_empty() {
            "objection upheld".to_owned()
        } else {
            note.clone()
        });
        crate::tx(
            write_tx!(self.db(), |tx| async {
                let n = sqlx::query(
                    "UPDATE subprocessor_objection SET state = $1, outcome = $2, decision_note = $3, \
                     decided_by = $4, decided_at = $5, updated_at = $5 WHERE id = $6 AND state = 'open'",
                )
                .bind(&d.decision)
                .bind(outcome)
                .bind((!note.is_empty()).then_some(&note))
                .bind(caller.person)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(SubprocessorsError::Conflict(
                        "the objection was decided or withdrawn meanwhile".into(),
                    ));
                }
                match outcome {
                    Some("withdraw_notice") => {
                        tx.withdraw_notice(&withdrawn, now).await?;
                        let to = tx.notice_recipients().await?;
                        let mails = to
                            .into_iter()
                            .map(|t| self.mail("subprocessor-withdrawn", &withdrawn, t))
                            .collect::<Result<Vec<Mail>>>()?;
                        extranet_notify::outbox::enqueue_many_in(&mut *tx, clock, &mails).await?;
                    }
                    Some("exclude") => {
                        if let Some(entry) = entry_id {
                            sqlx::query(
                                "INSERT INTO subprocessor_exclusion (subprocessor_id, organisation_id, \
                                 objection_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                            )
                            .bind(entry)
                            .bind(row.organisation_id)
                            .bind(id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            if let Some(s) = tx.entry_snapshot(entry).await? {
                                tx.record_change(entry, now, "excluded", Some(row.notice_id), Some(row.organisation_id), &s)
                                    .await?;
                            }
                        }
                    }
                    _ => {}
                }
                // The company's primary contacts and the objector, each once.
                let to: Vec<(Uuid, String, String)> = sqlx::query_as(
                    "SELECT p.id, p.email, p.language FROM person p WHERE p.state = 'active' AND \
                     (p.id = $1 OR (p.organisation_id = $2 AND EXISTS (SELECT 1 FROM person_role r \
                      WHERE r.person_id = p.id AND r.role = 'client_admin'))) ORDER BY p.id",
                )
                .bind(row.author_id)
                .bind(row.organisation_id)
                .fetch_all(&mut *tx)
                .await?;
                let mails: Vec<Mail> = to
                    .into_iter()
                    .map(|(_, email, language)| Mail {
                        recipient: email,
                        language,
                        template: "objection-decided",
                        args: serde_json::json!({
                            "site": self.settings.site_name,
                            "name": name,
                            "decision": d.decision,
                            "outcome": outcome.unwrap_or(""),
                            "note": note,
                            "link": format!("{}/subprocessors/objections/{}", self.settings.base_url, id),
                        }),
                    })
                    .collect();
                extranet_notify::outbox::enqueue_many_in(&mut *tx, clock, &mails).await?;
                extranet_audit::append_in(&mut *tx, &audit).await?;
                Ok::<(), SubprocessorsError>(())
            }.await)
            .await,
        )?;
        self.objection(caller, id).await
    }
}
