//! Carrying out the rights a request names, by the system that holds the data, one right at a
//! time on the coordinator's word:
//!
//! - **access** and **portability**: the report (every field held, the activities, who read the
//!   data, the documents) and the archive of what the person provided are generated; the
//!   requester downloads them from their request's page, generated afresh from the data;
//! - **erasure**: `extranet_privacy::erasure` erases the person; the answer lists what was kept,
//!   where, on which ground and until when;
//! - **restriction**: the person is restricted (`extranet_directory::restriction`);
//! - **objection** to processing on legitimate interests: the person is restricted while the
//!   coordinator weighs the objection (GDPR Art. 18(1)(d)), effective at once;
//! - **withdrawal** of consent: every consent withdrawn, with proof — refused while the person is
//!   the only contact of a company whose certification is in progress, until another is named;
//! - **rectification**: the values the requester proposed, accepted or refused field by field.
//!
//! What was done is one history line (`carried_out`) with its detail, its audit record and the
//! requester's mail, in their language.

use std::collections::BTreeMap;
use std::sync::Arc;

use extranet_access::Action;
use extranet_audit::{NewEntry, Outcome};
use extranet_directory::delegation::ContactChange;
use extranet_directory::{Caller, DirectoryError};
use extranet_notify::outbox::{self, Mail};
use extranet_platform::{SystemClock, on_pool, write_tx};
use extranet_privacy::erasure::{self, Ground};
use extranet_privacy::register::Basis;
use extranet_privacy::subject::{self, Requester};
use extranet_privacy::{Consents, Privacy};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Result, RightsError};
use crate::model::RIGHTS;
use crate::service::{Rights, Who, any};
use crate::store::{RequestRow, event};
use crate::workflow::Detail;

/// The services that carry rights out.
pub struct Fulfilment {
    pub privacy: Arc<Privacy>,
    pub consents: Arc<Consents>,
    /// Documents an erasure deletes per step.
    pub erasure_batch: usize,
}

/// What the coordinator carries out: one right of the request and, for a rectification, the
/// proposed fields accepted (the others are refused).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CarryOut {
    pub right: String,
    #[serde(default)]
    pub accept: Vec<String>,
}

/// What carrying out one right did, as its history line keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct Done {
    pub right: String,
    /// `done`, `partly`, `refused` or `nothing_held` (no person has the requester's address).
    pub result: &'static str,
    /// The legal ground of what was not done ([`crate::model::GROUNDS`]).
    pub ground: Option<&'static str>,
    /// Why, in a word the pages translate: `retention`, `hold`, `only_contact`, `restricted`,
    /// `already_restricted`, `refused_fields`.
    pub reason: Option<&'static str>,
    pub detail: serde_json::Value,
}

impl Done {
    fn new(right: &str, result: &'static str, detail: serde_json::Value) -> Done {
        Done {
            right: right.to_owned(),
            result,
            ground: None,
            reason: None,
            detail,
        }
    }

    fn because(mut self, ground: &'static str, reason: &'static str) -> Done {
        self.ground = Some(ground);
        self.reason = Some(reason);
        self
    }
}

impl From<DirectoryError> for RightsError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound => RightsError::NotFound,
            DirectoryError::Invalid { field, message } => {
                RightsError::invalid(field, "invalid", message)
            }
            DirectoryError::Forbidden(m) => RightsError::Forbidden(m),
            DirectoryError::Conflict(m) => RightsError::conflict("conflict", m),
            other => RightsError::Internal(other.to_string()),
        }
    }
}

impl From<extranet_privacy::PrivacyError> for RightsError {
    fn from(e: extranet_privacy::PrivacyError) -> Self {
        use extranet_privacy::PrivacyError as P;
        match e {
            P::NotFound => RightsError::NotFound,
            P::Invalid { field, message } => RightsError::invalid(field, "invalid", message),
            P::Forbidden(m) => RightsError::Forbidden(m),
            P::Conflict(m) => RightsError::conflict("conflict", m),
            other => RightsError::Internal(other.to_string()),
        }
    }
}

impl Rights {
    pub fn with_fulfilment(mut self, fulfilment: Fulfilment) -> Rights {
        self.fulfilment = Some(fulfilment);
        self
    }

    /// The rights already carried out on a request.
    pub async fn carried_out(&self, id: Uuid) -> Result<Vec<String>> {
        let details: Vec<Option<String>> = on_pool!(self.db(), read, |pool| {
            sqlx::query_scalar(
                "SELECT detail FROM rights_request_event WHERE request_id = $1 \
                 AND kind = 'carried_out' ORDER BY at",
            )
            .bind(id)
            .fetch_all(pool)
            .await
        })?;
        Ok(details
            .into_iter()
            .flatten()
            .filter_map(|d| serde_json::from_str::<serde_json::Value>(&d).ok())
            .filter_map(|d| d["right"].as_str().map(str::to_owned))
            .collect())
    }

    /// Carries out one right of a request (the coordinator).
    pub async fn carry_out(&self, caller: &Caller, id: Uuid, what: &CarryOut) -> Result<Detail> {
        let who = Who {
            person: caller.person,
            grants: &caller.grants,
            ip: caller.ip,
        };
        let row = self.readable(&who, id, Action::Read).await?;
        self.permit(&who, Action::Update, any())?;
        if row.is_closed() {
            return Err(RightsError::conflict(
                "closed",
                "this request is closed: nothing more can be done on it",
            ));
        }
        // Four eyes: nobody carries out a request about their own data (nor erases themselves).
        if row.person_id == Some(caller.person) {
            return Err(RightsError::conflict(
                "own_request",
                "a request about your own data is carried out by another coordinator",
            ));
        }
        if row.state == "identity_check" {
            return Err(RightsError::conflict(
                "identity_pending",
                "the requester's identity is not established yet: nothing is disclosed or \
                 carried out before it is",
            ));
        }
        let Some(right) = RIGHTS.iter().copied().find(|r| *r == what.right) else {
            return Err(RightsError::invalid(
                "right",
                "unknown_right",
                format!("`{}` is not one of {}", what.right, RIGHTS.join(", ")),
            ));
        };
        if !row.rights().iter().any(|r| r == right) {
            return Err(RightsError::invalid(
                "right",
                "not_requested",
                "this request does not name this right",
            ));
        }
        if self.carried_out(id).await?.iter().any(|r| r == right) {
            return Err(RightsError::conflict(
                "done_already",
                "this right was carried out already on this request",
            ));
        }
        let Some(f) = &self.fulfilment else {
            return Err(RightsError::Internal(
                "this instance does not carry rights out".into(),
            ));
        };
        let done = match row.person_id {
            None => Done::new(right, "nothing_held", serde_json::json!({})),
            Some(person) => self.carry(f, caller, &row, person, right, what).await?,
        };
        self.record_done(&who, &row, &done).await?;
        self.detail(&who, id).await
    }

    async fn carry(
        &self,
        f: &Fulfilment,
        caller: &Caller,
        row: &RequestRow,
        person: Uuid,
        right: &str,
        what: &CarryOut,
    ) -> Result<Done> {
        let privacy = &f.privacy;
        let by = Requester {
            actor: Some(caller.person),
            ip: caller.ip,
        };
        let number = row.number.clone().unwrap_or_default();
        Ok(match right {
            "access" => {
                let report = subject::report::access_report(
                    privacy.db(),
                    privacy.objects(),
                    &privacy.register(),
                    person,
                    &row.language,
                    by,
                )
                .await?;
                Done::new(
                    right,
                    "done",
                    serde_json::json!({
                        "activities": report.activities.len(),
                        "tables": report.held.len(),
                        "accesses": report.accesses.len(),
                        "documents": report.documents.len(),
                    }),
                )
            }
            "portability" => {
                let data = subject::portability::data(privacy.db(), person).await?;
                let counts: BTreeMap<String, usize> = serde_json::to_value(&data)
                    .map_err(|e| RightsError::Internal(e.to_string()))?
                    .as_object()
                    .map(|o| {
                        o.iter()
                            .filter_map(|(k, v)| v.as_array().map(|a| (k.clone(), a.len())))
                            .collect()
                    })
                    .unwrap_or_default();
                subject::record_export(
                    privacy.db(),
                    privacy.clock().now(),
                    by,
                    "portability",
                    ("person", person),
                    serde_json::json!({ "format": "data", "rights_request": row.id }),
                )
                .await?;
                Done::new(right, "done", serde_json::json!({ "counts": counts }))
            }
            "erasure" => {
                let outcome = privacy.erase(person, f.erasure_batch).await?;
                let held = outcome
                    .kept
                    .iter()
                    .any(|k| matches!(k.ground, Ground::Hold { .. }));
                // The answer itself is mailed to the erased address: it stays in the outbox
                // until delivered mail goes by its rule, and the answer says so.
                let register = privacy.register();
                let mut kept = outcome.kept.clone();
                kept.push(erasure::Kept {
                    table: "outbox".into(),
                    columns: vec!["recipient".into(), "payload".into()],
                    rows: 1,
                    objects: Vec::new(),
                    ground: Ground::Activity {
                        activity: "rights-requests".into(),
                        reason: "the answer to this request, mailed to its requester".into(),
                    },
                    until: register
                        .rules
                        .iter()
                        .find(|r| r.target == extranet_privacy::register::Target::DeliveredMail)
                        .map(|r| format!("{} {}", r.after, r.trigger.en))
                        .unwrap_or_else(|| "once delivered".into()),
                    identifying: true,
                });
                let detail = serde_json::json!({
                    "erasure": outcome.erasure,
                    "erased": outcome.erased,
                    "kept": kept,
                });
                match (outcome.kept.is_empty(), held) {
                    (true, _) => Done::new(right, "done", detail),
                    (false, true) => {
                        Done::new(right, "partly", detail).because("legal_claims", "hold")
                    }
                    (false, false) => {
                        Done::new(right, "partly", detail).because("legal_obligation", "retention")
                    }
                }
            }
            "restriction" | "objection" => {
                let reason = if right == "objection" {
                    format!(
                        "Objection, request {number}: processing on legitimate interests stops \
                         while the objection is weighed (GDPR Art. 18(1)(d), 21(1))"
                    )
                } else {
                    format!("Restriction, request {number} (GDPR Art. 18)")
                };
                let db = self.db();
                let out = extranet_directory::restriction::restrict(
                    db,
                    &SystemClock,
                    caller,
                    person,
                    &reason,
                )
                .await?;
                let activities: Vec<String> = privacy
                    .register()
                    .activities
                    .iter()
                    .filter(|a| right == "objection" && a.basis == Basis::LegitimateInterests)
                    .map(|a| a.id.clone())
                    .collect();
                let done = Done::new(
                    right,
                    "done",
                    serde_json::json!({ "restricted": true, "activities": activities }),
                );
                if out.changed {
                    done
                } else {
                    Done {
                        reason: Some("already_restricted"),
                        ..done
                    }
                }
            }
            "withdrawal" => match self.only_contact(person).await? {
                Some(company) => {
                    Done::new(right, "refused", company).because("contact_required", "only_contact")
                }
                None => {
                    let withdrawn = f.consents.withdraw_all(person, caller.ip).await?;
                    let purposes: Vec<String> = withdrawn.into_iter().map(|c| c.purpose).collect();
                    Done::new(right, "done", serde_json::json!({ "withdrawn": purposes }))
                }
            },
            "rectification" => self.rectify(caller, row, person, what).await?,
            _ => {
                return Err(RightsError::invalid(
                    "right",
                    "unknown_right",
                    "not a right",
                ));
            }
        })
    }

    /// The company the person is the only active contact of while its certification is in
    /// progress (an application, an active or a suspended certificate): its name and how its
    /// primary contact names another. None when someone else can take over.
    async fn only_contact(&self, person: Uuid) -> Result<Option<serde_json::Value>> {
        let company: Option<(Uuid, String)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT o.id, o.name FROM person p JOIN organisation o ON o.id = p.organisation_id \
                 WHERE p.id = $1 \
                 AND EXISTS (SELECT 1 FROM person_role r WHERE r.person_id = p.id \
                     AND r.role IN ('client_admin', 'client_user')) \
                 AND EXISTS (SELECT 1 FROM dossier d WHERE d.organisation_id = o.id \
                     AND d.status IN ('application', 'active', 'suspended'))",
            )
            .bind(person)
            .fetch_optional(pool)
            .await
        })?;
        let Some((organisation, name)) = company else {
            return Ok(None);
        };
        let others: i64 = on_pool!(self.db(), read, |pool| {
            sqlx::query_scalar(
                "SELECT COUNT(DISTINCT q.id) FROM person q JOIN person_role r ON r.person_id = q.id \
                 WHERE q.organisation_id = $1 AND q.id <> $2 AND q.state = 'active' \
                 AND q.restricted_at IS NULL AND r.role IN ('client_admin', 'client_user')",
            )
            .bind(organisation)
            .bind(person)
            .fetch_one(pool)
            .await
        })?;
        if others > 0 {
            return Ok(None);
        }
        let primary: Option<(Uuid, String, String)> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT q.id, q.first_name, q.surname FROM person q \
                 JOIN person_role r ON r.person_id = q.id \
                 WHERE q.organisation_id = $1 AND r.role = 'client_admin' AND q.state = 'active' \
                 LIMIT 1",
            )
            .bind(organisation)
            .fetch_optional(pool)
            .await
        })?;
        Ok(Some(serde_json::json!({
            "organisation": name,
            "primary_contact": primary.as_ref().map(|(_, f, s)| format!("{f} {s}")),
            "requester_is_primary": primary.as_ref().is_some_and(|p| p.0 == person),
            "how": self.link("/company#contacts"),
        })))
    }

    /// Applies the accepted proposed values through the directory (the same checks and audit
    /// record as any correction); the others are refused.
    async fn rectify(
        &self,
        caller: &Caller,
        row: &RequestRow,
        person: Uuid,
        what: &CarryOut,
    ) -> Result<Done> {
        let proposals: BTreeMap<String, String> = row
            .proposals
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
        if proposals.is_empty() {
            return Err(RightsError::invalid(
                "accept",
                "no_proposals",
                "this request proposes no values: correct the record on the person's page and \
                 say so in a comment",
            ));
        }
        if let Some(f) = what.accept.iter().find(|f| !proposals.contains_key(*f)) {
            return Err(RightsError::invalid(
                "accept",
                "not_proposed",
                format!("`{f}` is not a field the requester proposed a value for"),
            ));
        }
        let value = |f: &str| {
            what.accept
                .iter()
                .any(|a| a == f)
                .then(|| proposals.get(f).cloned())
                .flatten()
        };
        let change = ContactChange {
            surname: value("surname"),
            first_name: value("first_name"),
            phone: value("phone"),
            mobile: value("mobile"),
            fax: value("fax"),
            function: value("function"),
            ..ContactChange::default()
        };
        let accepted: BTreeMap<&String, &String> = proposals
            .iter()
            .filter(|(k, _)| what.accept.contains(k))
            .collect();
        let refused: Vec<&String> = proposals
            .keys()
            .filter(|k| !what.accept.contains(k))
            .collect();
        if !accepted.is_empty() {
            match extranet_directory::delegation::update(
                self.db(),
                &SystemClock,
                caller,
                person,
                &change,
            )
            .await
            {
                Ok(_) => {}
                Err(DirectoryError::Conflict(m))
                    if m == extranet_directory::restriction::RESTRICTED =>
                {
                    return Ok(Done::new(
                        "rectification",
                        "refused",
                        serde_json::json!({ "accepted": {}, "refused": proposals.keys().collect::<Vec<_>>() }),
                    )
                    .because("restricted", "restricted"));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let detail = serde_json::json!({ "accepted": accepted, "refused": refused });
        Ok(match (accepted.is_empty(), refused.is_empty()) {
            (_, true) => Done::new("rectification", "done", detail),
            (true, false) => {
                Done::new("rectification", "refused", detail).because("accurate", "refused_fields")
            }
            (false, false) => {
                Done::new("rectification", "partly", detail).because("accurate", "refused_fields")
            }
        })
    }

    /// The history line, its audit record and the requester's mail, in one transaction; a
    /// request just received is now in progress.
    async fn record_done(&self, who: &Who<'_>, row: &RequestRow, done: &Done) -> Result<()> {
        let now = self.now();
        let state = if row.state == "received" {
            "in_progress"
        } else {
            row.state.as_str()
        };
        let detail =
            serde_json::to_string(done).map_err(|e| RightsError::Internal(e.to_string()))?;
        let mut entry = NewEntry::new(
            self.clock.now(),
            "rights_request.carried_out",
            Outcome::Success,
        )
        .actor(who.person)
        .subject("rights_request", row.id)
        .detail(serde_json::json!({ "right": done.right, "result": done.result }));
        if let Some(ip) = who.ip {
            entry = entry.ip(ip);
        }
        let mail = Mail {
            recipient: row.email.clone(),
            language: row.language.clone(),
            template: "rights-update",
            args: serde_json::json!({
                "site": self.settings.site_name,
                "number": row.number.clone().unwrap_or_default(),
                "step": "carried_out",
                "state": state,
                "right": done.right,
                "result": done.result,
                "note": summary(done),
                "due": row.due().map(crate::due::iso).unwrap_or_default(),
                "ground": done.ground.unwrap_or_default(),
                "link": self.page_link(row),
            }),
        };
        let res: Result<()> = write_tx!(self.db(), |tx| async {
            let n = sqlx::query(
                "UPDATE rights_request SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4",
            )
            .bind(state)
            .bind(now)
            .bind(row.id)
            .bind(&row.state)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
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
                "carried_out",
                state,
                false,
                None::<String>,
                Some(detail.clone())
            )?;
            extranet_audit::append_in(&mut *tx, &entry).await?;
            outbox::enqueue_in(&mut *tx, &SystemClock, &mail).await?;
            Ok::<_, RightsError>(())
        }
        .await)
        .await;
        res
    }
}

/// What the mail says was kept or changed, one line each (an erased account cannot sign in to
/// read its request's page: the mail carries the answer).
fn summary(done: &Done) -> String {
    let d = &done.detail;
    let mut lines = Vec::new();
    if let Some(kept) = d["kept"].as_array() {
        for k in kept {
            lines.push(format!(
                "- {} ({}): {} — {}",
                k["table"].as_str().unwrap_or_default(),
                k["columns"]
                    .as_array()
                    .map(|c| c
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default(),
                k["ground"]["rule"]
                    .as_str()
                    .or(k["ground"]["activity"].as_str())
                    .unwrap_or("legal hold"),
                k["until"].as_str().unwrap_or_default(),
            ));
        }
    }
    if let Some(w) = d["withdrawn"].as_array() {
        lines.extend(
            w.iter()
                .filter_map(|v| v.as_str())
                .map(|p| format!("- {p}")),
        );
    }
    if let Some(a) = d["accepted"].as_object() {
        lines.extend(
            a.iter()
                .map(|(k, v)| format!("+ {k}: {}", v.as_str().unwrap_or_default())),
        );
    }
    if let Some(r) = d["refused"].as_array() {
        lines.extend(
            r.iter()
                .filter_map(|v| v.as_str())
                .map(|f| format!("✗ {f}")),
        );
    }
    if let Some(o) = d["organisation"].as_str() {
        lines.push(format!("{o}: {}", d["how"].as_str().unwrap_or_default()));
    }
    lines.join("\n")
}
