//! Reading requests and working them: the requester's own, the coordinator's queue by due date,
//! and the coordinator's steps — assign, comment (internal or to the requester), ask for an
//! identity check, start, extend once by at most two months with a reason, close with the
//! outcome and, where something is refused, its legal ground. Every step is one transaction:
//! the change, its history line, its audit record and (unless internal) the requester's mail.

use extranet_access::{Action, Masked, RightsEventView, RightsRequestView};
use extranet_audit::{NewEntry, Outcome};
use extranet_notify::outbox::{self, Mail};
// Mail is queued on the wall clock: the sender sends what is due by it, whatever the
// requests' own clock (under test control in end-to-end tests) says.
use extranet_platform::{SystemClock, on_pool, write_tx};
use serde::Deserialize;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::due;
use crate::error::{Result, RightsError};
use crate::model::{self, CLOSED, GROUNDS, MAX_NOTE, OPEN};
use crate::service::{Rights, Who, any, own};
use crate::store::{RequestRow, SELECT, event};

/// What the queue shows.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filter {
    /// One state, `open` (every state not closed; the default), or `all`.
    #[serde(default)]
    pub state: Option<String>,
    /// Only those past their due date.
    #[serde(default)]
    pub overdue: bool,
    /// Only those assigned to this person.
    #[serde(default)]
    pub assignee: Option<Uuid>,
}

/// A step of the coordinator.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Assign {
        assignee: Uuid,
    },
    Comment {
        note: String,
        #[serde(default)]
        internal: bool,
    },
    /// Ask the requester to prove who they are before anything is disclosed.
    IdentityCheck {
        note: String,
    },
    /// Work on it (after an identity check: the identity is established).
    Start {
        #[serde(default)]
        note: String,
    },
    /// Extend once, by one or two months, with the reason mailed to the requester.
    Extend {
        months: u8,
        reason: String,
    },
    /// `fulfilled`, `partly_fulfilled` or `refused`; a ground of [`GROUNDS`] unless fulfilled.
    Close {
        outcome: String,
        note: String,
        #[serde(default)]
        ground: Option<String>,
    },
}

/// A request with its history, as the caller may see them.
pub struct Detail {
    pub request: Masked<RightsRequestView>,
    pub events: Vec<Masked<RightsEventView>>,
    pub row: RequestRow,
}

impl Rights {
    /// The caller's own requests, newest first.
    pub async fn mine(&self, who: &Who<'_>) -> Result<Vec<Masked<RightsRequestView>>> {
        self.permit(who, Action::List, own())?;
        let rows: Vec<RequestRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "{SELECT} WHERE r.person_id = $1 AND r.state <> 'unconfirmed' \
                 ORDER BY r.created_at DESC, r.id DESC LIMIT 500"
            )))
            .bind(who.person)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.iter().map(|r| self.masked(who, r)).collect())
    }

    /// The coordinator's queue, soonest due first (recorded: it shows people's requests).
    pub async fn queue(
        &self,
        who: &Who<'_>,
        filter: &Filter,
    ) -> Result<Vec<Masked<RightsRequestView>>> {
        self.permit(who, Action::List, any())?;
        let state = filter.state.clone().unwrap_or_else(|| "open".into());
        if state != "open" && state != "all" && !model::STATES.contains(&state.as_str()) {
            return Err(RightsError::invalid(
                "state",
                "unknown_state",
                format!("`{state}` is not a state of a request"),
            ));
        }
        let open = OPEN.join("','");
        let condition = match state.as_str() {
            "open" => format!("r.state IN ('{open}')"),
            "all" => "r.state <> 'unconfirmed'".to_owned(),
            _ => "r.state = $2".to_owned(),
        };
        let rows: Vec<RequestRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!(
                "{SELECT} WHERE {condition} AND ($1 IS NULL OR r.assignee_id = $1) \
                 ORDER BY COALESCE(r.extended_to, r.due_on), r.received_at LIMIT 1000"
            )))
            .bind(filter.assignee)
            .bind(&state)
            .fetch_all(pool)
            .await
        })?;
        let today = self.today();
        let rows: Vec<&RequestRow> = rows
            .iter()
            .filter(|r| !filter.overdue || r.is_overdue(today))
            .collect();
        let e = NewEntry::new(self.clock.now(), "rights_request.list", Outcome::Success)
            .actor(who.person)
            .detail(serde_json::json!({ "state": state, "overdue": filter.overdue, "count": rows.len() }));
        extranet_audit::append(self.db(), &e).await?;
        Ok(rows.into_iter().map(|r| self.masked(who, r)).collect())
    }

    /// A request the caller may read: their own, or any for the coordinator. Someone else's
    /// request is "not found", as if it did not exist; the refusal is recorded.
    pub(crate) async fn readable(
        &self,
        who: &Who<'_>,
        id: Uuid,
        action: Action,
    ) -> Result<RequestRow> {
        let row = self.row(id).await?.filter(|r| r.state != "unconfirmed");
        let allowed = row.as_ref().filter(|r| {
            who.grants.allows(
                extranet_access::Resource::RightsRequest,
                action,
                self.relation(who, r),
            )
        });
        match allowed {
            Some(r) => Ok(r.clone()),
            None => {
                let mut e = NewEntry::new(self.clock.now(), "access.denied", Outcome::Denied)
                    .actor(who.person)
                    .subject("rights_request", id)
                    .detail(serde_json::json!({ "action": format!("rights_request.{}", action.as_str()) }));
                if let Some(ip) = who.ip {
                    e = e.ip(ip);
                }
                extranet_audit::append(self.db(), &e).await?;
                Err(RightsError::NotFound)
            }
        }
    }

    /// One request with its history (the staff's internal notes only for the coordinator); a
    /// coordinator's read is recorded.
    pub async fn detail(&self, who: &Who<'_>, id: Uuid) -> Result<Detail> {
        let row = self.readable(who, id, Action::Read).await?;
        if row.person_id != Some(who.person) {
            let e = NewEntry::new(self.clock.now(), "rights_request.read", Outcome::Success)
                .actor(who.person)
                .subject("rights_request", id);
            extranet_audit::append(self.db(), &e).await?;
        }
        let events = self.events(id).await?;
        Ok(Detail {
            request: self.masked(who, &row),
            events: self.masked_events(who, &row, &events),
            row,
        })
    }

    /// The signed receipt of a request the caller may read.
    pub async fn receipt(&self, who: &Who<'_>, id: Uuid) -> Result<(String, String)> {
        let row = self.readable(who, id, Action::Read).await?;
        match (row.number, row.receipt) {
            (Some(n), Some(r)) => Ok((n, r)),
            _ => Err(RightsError::NotFound),
        }
    }

    /// Carries out one step of the coordinator.
    pub async fn step(&self, who: &Who<'_>, id: Uuid, step: &Step) -> Result<Detail> {
        let row = self.readable(who, id, Action::Read).await?;
        self.permit(who, Action::Update, any())?;
        if row.is_closed() {
            return Err(RightsError::conflict(
                "closed",
                "this request is closed: nothing more can be done on it",
            ));
        }
        // What else the step changes, with named placeholders numbered in `apply`.
        let mut set = String::new();
        let mut binds: Vec<Option<String>> = Vec::new();
        let (kind, state, note, internal): (&str, String, Option<String>, bool) = match step {
            Step::Assign { assignee } => {
                let staff: Option<String> = on_pool!(self.db(), read, |pool| {
                    sqlx::query_scalar(
                        "SELECT p.surname FROM person p JOIN person_role r ON r.person_id = p.id \
                         WHERE p.id = $1 AND p.state = 'active' \
                         AND r.role IN ('privacy_officer', 'staff', 'admin') LIMIT 1",
                    )
                    .bind(*assignee)
                    .fetch_optional(pool)
                    .await
                })?;
                if staff.is_none() {
                    return Err(RightsError::invalid(
                        "assignee",
                        "not_staff",
                        "requests are assigned to active staff of the certification body",
                    ));
                }
                set.push_str(", assignee_id = $ASSIGNEE");
                ("assigned", row.state.clone(), None, true)
            }
            Step::Comment { note, internal } => {
                let note = model::text("note", note, MAX_NOTE, true)?;
                ("comment", row.state.clone(), note, *internal)
            }
            Step::IdentityCheck { note } => {
                let note = model::text("note", note, MAX_NOTE, true)?;
                ("identity_check", "identity_check".into(), note, false)
            }
            Step::Start { note } => {
                let note = model::text("note", note, MAX_NOTE, false)?;
                // After an extension the request stays `extended` (its deadline is the later one).
                let state = if row.extended_to.is_some() {
                    "extended"
                } else {
                    "in_progress"
                };
                ("in_progress", state.into(), note, false)
            }
            Step::Extend { months, reason } => {
                let reason = model::text("reason", reason, MAX_NOTE, true)?;
                if row.extended_to.is_some() {
                    return Err(RightsError::conflict(
                        "extended_already",
                        "this request was extended already: the law allows one extension",
                    ));
                }
                if !(1..=2).contains(months) {
                    return Err(RightsError::invalid(
                        "months",
                        "extension_too_long",
                        "an extension is one or two further months (GDPR Art. 12(3))",
                    ));
                }
                let received = row
                    .received_day(&self.settings.time_zone)
                    .ok_or(RightsError::NotFound)?;
                let to =
                    due::add_months(received, 1 + *months).min(due::latest_extension(received));
                set.push_str(", extended_to = $TO, extension_reason = $REASON, reminded_at = NULL, overdue_at = NULL");
                binds.push(Some(due::iso(to)));
                binds.push(reason.clone());
                ("extended", "extended".into(), reason, false)
            }
            Step::Close {
                outcome,
                note,
                ground,
            } => {
                if !CLOSED.contains(&outcome.as_str()) {
                    return Err(RightsError::invalid(
                        "outcome",
                        "unknown_outcome",
                        format!("the outcome is one of {}", CLOSED.join(", ")),
                    ));
                }
                if row.state == "identity_check" && outcome != "refused" {
                    return Err(RightsError::conflict(
                        "identity_pending",
                        "the requester's identity is not established yet: nothing is disclosed \
                         or carried out before it is",
                    ));
                }
                let note = model::text("note", note, MAX_NOTE, true)?;
                let ground = ground.as_deref().map(str::trim).filter(|g| !g.is_empty());
                match (outcome.as_str(), ground) {
                    ("fulfilled", Some(_)) => {
                        return Err(RightsError::invalid(
                            "ground",
                            "ground_not_refused",
                            "a fulfilled request refuses nothing: leave the ground out",
                        ));
                    }
                    ("fulfilled", None) => {}
                    (_, None) => {
                        return Err(RightsError::invalid(
                            "ground",
                            "ground_required",
                            "say on which legal ground something is refused",
                        ));
                    }
                    (_, Some(g)) if !GROUNDS.contains(&g) => {
                        return Err(RightsError::invalid(
                            "ground",
                            "unknown_ground",
                            format!("the ground is one of {}", GROUNDS.join(", ")),
                        ));
                    }
                    _ => {}
                }
                set.push_str(", outcome_note = $NOTE, refusal_ground = $GROUND, closed_at = $NOW");
                binds.push(note.clone());
                binds.push(ground.map(str::to_owned));
                ("closed", outcome.clone(), note, false)
            }
        };
        self.apply(who, &row, step, kind, &state, note, internal, &set, &binds)
            .await?;
        self.detail(who, id).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        &self,
        who: &Who<'_>,
        row: &RequestRow,
        step: &Step,
        kind: &str,
        state: &str,
        note: Option<String>,
        internal: bool,
        set: &str,
        binds: &[Option<String>],
    ) -> Result<()> {
        let now = self.now();
        // Placeholders in the order they are bound: state, updated_at, id, expected state,
        // then what the step sets.
        let mut n = 4;
        let mut sql_set = set.to_owned();
        for name in ["$ASSIGNEE", "$TO", "$REASON", "$NOTE", "$GROUND", "$NOW"] {
            if sql_set.contains(name) {
                n += 1;
                sql_set = sql_set.replace(name, &format!("${n}"));
            }
        }
        let sql = format!(
            "UPDATE rights_request SET state = $1, updated_at = $2{sql_set} \
             WHERE id = $3 AND state = $4"
        );
        let assignee = match step {
            Step::Assign { assignee } => Some(*assignee),
            _ => None,
        };
        let mut entry = NewEntry::new(
            self.clock.now(),
            format!("rights_request.{kind}"),
            Outcome::Success,
        )
        .actor(who.person)
        .subject("rights_request", row.id)
        .detail(serde_json::json!({ "state": state, "internal": internal }));
        if let Some(ip) = who.ip {
            entry = entry.ip(ip);
        }
        let mail = (!internal).then(|| Mail {
            recipient: row.email.clone(),
            language: row.language.clone(),
            template: "rights-update",
            args: serde_json::json!({
                "site": self.settings.site_name,
                "number": row.number.clone().unwrap_or_default(),
                "step": kind,
                "state": state,
                "note": note.clone().unwrap_or_default(),
                "due": binds.first().cloned().flatten().filter(|_| kind == "extended")
                    .or_else(|| row.due().map(due::iso)).unwrap_or_default(),
                "ground": binds.get(1).cloned().flatten().filter(|_| kind == "closed").unwrap_or_default(),
                "link": self.page_link(row),
            }),
        });
        let res: Result<()> = write_tx!(self.db(), |tx| async {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(state)
                .bind(now)
                .bind(row.id)
                .bind(&row.state);
            if let Some(a) = assignee {
                q = q.bind(a);
            }
            for b in binds {
                q = q.bind(b.clone());
            }
            if sql.contains("closed_at") {
                q = q.bind(now);
            }
            let changed = q.execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(RightsError::conflict(
                    "changed",
                    "this request changed meanwhile: reload it and try again",
                ));
            }
            event!(
                tx,
                row.id,
                now,
                Some(who.person),
                kind,
                state,
                internal,
                note.clone()
            )?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            if let Some(m) = &mail {
                outbox::enqueue_in(&mut *tx, &SystemClock, m).await?;
            }
            Ok::<_, RightsError>(())
        }
        .await)
        .await;
        res
    }
}
