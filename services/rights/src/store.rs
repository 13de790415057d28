//! Rows of `rights_request` and `rights_request_event`, and how they become outward views.

use extranet_access::{Masked, RightsEventView, RightsRequestView};
use extranet_platform::on_pool;
use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;

use crate::due;
use crate::error::Result;
use crate::model::CLOSED;
use crate::service::{Rights, Who, any, own};

#[derive(Debug, Clone, FromRow)]
pub struct RequestRow {
    pub id: Uuid,
    pub number: Option<String>,
    pub person_id: Option<Uuid>,
    pub email: String,
    pub name: String,
    pub language: String,
    pub rights: String,
    pub details: String,
    pub channel: String,
    pub state: String,
    pub created_at: i64,
    pub received_at: Option<i64>,
    pub due_on: Option<String>,
    pub extended_to: Option<String>,
    pub extension_reason: Option<String>,
    pub assignee_id: Option<Uuid>,
    pub assignee_first: Option<String>,
    pub assignee_surname: Option<String>,
    pub outcome_note: Option<String>,
    pub refusal_ground: Option<String>,
    pub closed_at: Option<i64>,
    pub receipt: Option<String>,
    pub proposals: Option<String>,
}

pub(crate) const SELECT: &str = "SELECT r.id, r.number, r.person_id, r.email, r.name, \
     r.language, r.rights, r.details, r.channel, r.state, r.created_at, r.received_at, r.due_on, \
     r.extended_to, r.extension_reason, r.assignee_id, a.first_name AS assignee_first, \
     a.surname AS assignee_surname, r.outcome_note, r.refusal_ground, r.closed_at, r.receipt, r.proposals \
     FROM rights_request r LEFT JOIN person a ON a.id = r.assignee_id";

impl RequestRow {
    pub fn rights(&self) -> Vec<String> {
        self.rights.split(',').map(str::to_owned).collect()
    }

    pub fn is_closed(&self) -> bool {
        CLOSED.contains(&self.state.as_str())
    }

    /// The day the answer is due now (the extended date once extended).
    pub fn due(&self) -> Option<time::Date> {
        self.extended_to
            .as_deref()
            .or(self.due_on.as_deref())
            .and_then(due::parse_iso)
    }

    pub fn is_overdue(&self, today: time::Date) -> bool {
        !self.is_closed() && self.due().is_some_and(|d| today > d)
    }

    pub fn received_day(&self, tz: &jiff::tz::TimeZone) -> Option<time::Date> {
        self.received_at.map(|t| due::local_date(t, tz))
    }
}

pub(crate) fn rfc3339(unix: i64) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

pub fn view(r: &RequestRow, today: time::Date) -> RightsRequestView {
    RightsRequestView {
        id: r.id,
        number: r.number.clone(),
        rights: r.rights(),
        details: r.details.clone(),
        proposals: r
            .proposals
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok()),
        name: r.name.clone(),
        email: r.email.clone(),
        language: r.language.clone(),
        channel: r.channel.clone(),
        state: r.state.clone(),
        received_at: r.received_at.map(rfc3339),
        due_on: r.due().map(due::iso),
        original_due_on: r.extended_to.as_ref().and(r.due_on.clone()),
        extension_reason: r.extension_reason.clone(),
        overdue: r.is_overdue(today),
        assignee_name: match (&r.assignee_first, &r.assignee_surname) {
            (Some(f), Some(s)) => Some(format!("{f} {s}")),
            _ => None,
        },
        outcome_note: r.outcome_note.clone(),
        refusal_ground: r.refusal_ground.clone(),
        closed_at: r.closed_at.map(rfc3339),
        receipt: r.receipt.clone(),
        created_at: rfc3339(r.created_at),
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub at: i64,
    pub kind: String,
    pub state: String,
    pub actor_first: Option<String>,
    pub actor_surname: Option<String>,
    pub note: Option<String>,
    pub internal: bool,
    pub detail: Option<String>,
}

/// Inserts one step of a request on `$tx` (a transaction of either backend), with what the
/// system did (`$detail`, JSON) when a right was carried out.
macro_rules! event {
    ($tx:expr, $request:expr, $at:expr, $actor:expr, $kind:expr, $state:expr, $internal:expr, $note:expr) => {
        $crate::store::event!(
            $tx,
            $request,
            $at,
            $actor,
            $kind,
            $state,
            $internal,
            $note,
            None::<String>
        )
    };
    ($tx:expr, $request:expr, $at:expr, $actor:expr, $kind:expr, $state:expr, $internal:expr, $note:expr, $detail:expr) => {
        sqlx::query(
            "INSERT INTO rights_request_event (id, request_id, at, actor_id, kind, state, \
             internal, note, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(uuid::Uuid::now_v7())
        .bind($request)
        .bind($at)
        .bind($actor)
        .bind($kind)
        .bind($state)
        .bind($internal)
        .bind($note)
        .bind($detail)
        .execute(&mut *$tx)
        .await
    };
}
pub(crate) use event;

impl Rights {
    pub(crate) async fn row(&self, id: Uuid) -> Result<Option<RequestRow>> {
        Ok(on_pool!(self.db(), read, |pool| {
            sqlx::query_as(AssertSqlSafe(format!("{SELECT} WHERE r.id = $1")))
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }

    pub(crate) async fn events(&self, id: Uuid) -> Result<Vec<EventRow>> {
        Ok(on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT e.at, e.kind, e.state, p.first_name AS actor_first, \
                 p.surname AS actor_surname, e.note, e.internal, e.detail \
                 FROM rights_request_event e LEFT JOIN person p ON p.id = e.actor_id \
                 WHERE e.request_id = $1 ORDER BY e.at, e.id",
            )
            .bind(id)
            .fetch_all(pool)
            .await
        })?)
    }

    /// How a request relates to the caller: their own, and for the coordinator any.
    pub(crate) fn relation(&self, who: &Who<'_>, row: &RequestRow) -> extranet_access::DomainSet {
        let mut d = any();
        if row.person_id == Some(who.person) {
            d = d.union(own());
        }
        d
    }

    pub(crate) fn masked(&self, who: &Who<'_>, row: &RequestRow) -> Masked<RightsRequestView> {
        let rel = self.relation(who, row);
        Masked::new(
            view(row, self.today()),
            who.grants.visible::<RightsRequestView>(rel),
        )
    }

    pub(crate) fn masked_events(
        &self,
        who: &Who<'_>,
        row: &RequestRow,
        events: &[EventRow],
    ) -> Vec<Masked<RightsEventView>> {
        let rel = self.relation(who, row);
        let coordinator = self.coordinates(who.grants);
        let fields = who.grants.visible::<RightsEventView>(rel);
        events
            .iter()
            // The staff's internal notes never reach the requester.
            .filter(|e| coordinator || !e.internal)
            .map(|e| {
                Masked::new(
                    RightsEventView {
                        at: rfc3339(e.at),
                        kind: e.kind.clone(),
                        state: e.state.clone(),
                        actor_name: match (&e.actor_first, &e.actor_surname) {
                            (Some(f), Some(s)) => Some(format!("{f} {s}")),
                            _ => None,
                        },
                        note: e.note.clone(),
                        detail: e
                            .detail
                            .as_deref()
                            .and_then(|d| serde_json::from_str(d).ok()),
                        internal: e.internal,
                    },
                    fields,
                )
            })
            .collect()
    }
}
