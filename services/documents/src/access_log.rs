//! Who viewed or downloaded a company's documents: the audit log's `document.view` and
//! `document.download` records of the company, with each actor's name, roles and organisation,
//! masked as the caller's field grants say (`document_access.*`).

use std::collections::HashMap;

use extranet_access::{Action, DocumentAccessView, Masked, Resource};
use extranet_audit::Outcome;
use extranet_directory::Caller;
use extranet_platform::on_pool;
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::error::Result;
use crate::service::Documents;

/// The most entries one answer holds.
pub const MAX_ENTRIES: i64 = 500;

fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Documents {
    /// The latest accesses to `organisation`'s documents, newest first.
    pub async fn access_log(
        &self,
        caller: &Caller,
        organisation: Uuid,
    ) -> Result<Vec<Masked<DocumentAccessView>>> {
        let what = (Resource::Document, Action::AccessLog);
        // The organisation must be visible (else 404, recorded), then the log allowed (403).
        // Its relation is taken as own-or-not: `access_log` is not granted through assignments.
        extranet_directory::organisations::get(self.db(), self.clock(), caller, organisation)
            .await?;
        let relation = caller.relation().of(Some(organisation), None, false);
        caller
            .permit(
                self.db(),
                self.clock(),
                what,
                ("organisation", organisation),
                relation,
            )
            .await?;
        type EntryRow = (
            OffsetDateTime,
            String,
            Option<String>,
            Option<String>,
            String,
        );
        let entries: Vec<EntryRow> = on_pool!(self.db(), read, |pool| {
            sqlx::query_as(
                "SELECT at, action, actor_id, subject_id, detail FROM audit_log \
                 WHERE organisation_id = $1 AND action IN ('document.view', 'document.download') \
                 ORDER BY seq DESC LIMIT $2",
            )
            .bind(organisation.to_string())
            .bind(MAX_ENTRIES)
            .fetch_all(pool)
            .await
        })?;
        let ids = |pick: fn(&EntryRow) -> Option<&String>| -> Vec<Uuid> {
            let mut v: Vec<Uuid> = entries
                .iter()
                .filter_map(|e| pick(e).and_then(|s| s.parse().ok()))
                .collect();
            v.sort();
            v.dedup();
            v
        };
        let actors = ids(|e| e.2.as_ref());
        let documents = ids(|e| e.3.as_ref());
        let people = self.people(&actors).await?;
        // Whoever's processing is restricted (GDPR Art. 18) is named in no list.
        let mut restricted = std::collections::HashSet::new();
        for a in &actors {
            if extranet_directory::restriction::is_restricted(self.db(), *a).await? {
                restricted.insert(*a);
            }
        }
        let titles = self.titles(&documents).await?;

        let read = caller
            .entry(self.clock(), "document.access_log", Outcome::Success)
            .subject("organisation", organisation)
            .organisation(organisation);
        extranet_audit::append(self.db(), &read).await?;

        let visible = caller.grants.visible::<DocumentAccessView>(relation);
        Ok(entries
            .into_iter()
            .map(|(at, action, actor, subject, detail)| {
                let actor: Option<Uuid> = actor.and_then(|a| a.parse().ok());
                let document: Uuid = subject.and_then(|s| s.parse().ok()).unwrap_or_default();
                let who = actor.and_then(|a| people.get(&a));
                let version = serde_json::from_str::<serde_json::Value>(&detail)
                    .ok()
                    .and_then(|d| d.get("version").and_then(serde_json::Value::as_i64));
                let masked = Masked::new(
                    DocumentAccessView {
                        at: at.format(&Rfc3339).unwrap_or_default(),
                        action,
                        document_id: document,
                        document_title: titles.get(&document).cloned().unwrap_or_default(),
                        version,
                        actor_name: who.map(|p| p.0.clone()).unwrap_or_default(),
                        actor_roles: who.map(|p| p.1.clone()).unwrap_or_default(),
                        actor_organisation: who.map(|p| p.2.clone()).unwrap_or_default(),
                    },
                    visible,
                );
                if actor.is_some_and(|a| restricted.contains(&a) && a != caller.person) {
                    masked.restrict_fields(&["actor_name", "actor_roles"])
                } else {
                    masked
                }
            })
            .collect())
    }

    /// Name, roles and organisation name of each person.
    async fn people(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, (String, Vec<String>, String)>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT p.id, p.first_name || ' ' || p.surname, o.name FROM person p \
             JOIN organisation o ON o.id = p.organisation_id WHERE p.id IN ({})",
            placeholders(ids.len())
        );
        let rows: Vec<(Uuid, String, String)> = on_pool!(self.db(), read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        for (id, name, org) in rows {
            out.insert(id, (name, Vec::new(), org));
        }
        let sql = format!(
            "SELECT person_id, role FROM person_role WHERE person_id IN ({}) ORDER BY role",
            placeholders(ids.len())
        );
        let roles: Vec<(Uuid, String)> = on_pool!(self.db(), read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        for (id, role) in roles {
            if let Some(p) = out.get_mut(&id) {
                p.1.push(role);
            }
        }
        Ok(out)
    }

    async fn titles(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, title FROM document WHERE id IN ({})",
            placeholders(ids.len())
        );
        let rows: Vec<(Uuid, String)> = on_pool!(self.db(), read, |pool| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql.as_str()));
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows.into_iter().collect())
    }
}
