//! The record of processing activities (GDPR Art. 30(1)) in one language, resolved from the
//! register: words become names, rule ids become durations and triggers, registration numbers
//! become the subprocessors' names. JSON and CSV are written here; the printable HTML page is
//! rendered by the web crate from the same [`Record`].

use std::collections::BTreeMap;

use extranet_subprocessors::vocabulary::{Kind, Vocabulary};
use serde::{Deserialize, Serialize};

use crate::error::{PrivacyError, Result};
use crate::register::{Action, Register};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Named {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recipient {
    pub registration_number: String,
    /// The subprocessor's legal name, where the register has the entry.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Retention {
    pub rule: String,
    /// "30 days", "7 years" (English units; the pages translate `count` and `unit`).
    pub after: String,
    pub count: u32,
    pub unit: String,
    pub trigger: String,
    /// delete or anonymise.
    pub action: String,
    /// For records kept outside the extranet.
    pub kept_in: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub id: String,
    pub purpose: String,
    /// The letter of Art. 6(1).
    pub basis: String,
    pub basis_word: String,
    pub legitimate_interest: Option<String>,
    pub data_categories: Vec<Named>,
    pub subject_categories: Vec<Named>,
    pub internal_recipients: Vec<String>,
    pub subprocessors: Vec<Recipient>,
    pub source: String,
    pub retention: Vec<Retention>,
    /// Countries outside the EEA, by name; empty: no transfer.
    pub transfers: Vec<Named>,
    pub consent_version: Option<u32>,
}

/// The whole record in one language.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub language: String,
    /// Identifies the register's text this record was made from.
    pub register_digest: String,
    pub activities: Vec<ActivityRecord>,
}

/// Builds the record in `lang`; `subprocessor_names` maps registration numbers to legal names.
pub fn record(
    register: &Register,
    lang: &str,
    subprocessor_names: &BTreeMap<String, String>,
) -> Result<Record> {
    let vocab = Vocabulary::shipped().map_err(|e| PrivacyError::Internal(e.to_string()))?;
    let named = |kind: Kind, code: &str| Named {
        code: code.to_owned(),
        name: vocab
            .category(kind, code)
            .map_or_else(|| code.to_owned(), |c| c.names.get(lang).to_owned()),
    };
    let activities = register
        .activities
        .iter()
        .map(|a| ActivityRecord {
            id: a.id.clone(),
            purpose: a.purpose.get(lang).to_owned(),
            basis: a.basis.letter().to_owned(),
            basis_word: a.basis.word().to_owned(),
            legitimate_interest: a
                .legitimate_interest
                .as_ref()
                .map(|t| t.get(lang).to_owned()),
            data_categories: a.data.iter().map(|c| named(Kind::Data, c)).collect(),
            subject_categories: a
                .subjects
                .iter()
                .map(|c| named(Kind::Subjects, c))
                .collect(),
            internal_recipients: a.internal_recipients.clone(),
            subprocessors: a
                .subprocessors
                .iter()
                .map(|n| Recipient {
                    registration_number: n.clone(),
                    name: subprocessor_names.get(n).cloned(),
                })
                .collect(),
            source: a.source.get(lang).to_owned(),
            retention: a
                .retention
                .iter()
                .filter_map(|id| register.rule(id))
                .map(|r| {
                    let (count, unit) = r.after.parts();
                    Retention {
                        rule: r.id.clone(),
                        after: r.after.to_string(),
                        count,
                        unit: unit.to_owned(),
                        trigger: r.trigger.get(lang).to_owned(),
                        action: match r.action {
                            Action::Delete => "delete",
                            Action::Anonymise { .. } => "anonymise",
                        }
                        .to_owned(),
                        kept_in: r.kept_in.as_ref().map(|t| t.get(lang).to_owned()),
                    }
                })
                .collect(),
            transfers: a
                .transfers
                .iter()
                .map(|c| Named {
                    code: c.clone(),
                    name: vocab
                        .country(c)
                        .map_or_else(|| c.clone(), |k| k.names.get(lang).to_owned()),
                })
                .collect(),
            consent_version: a.consent.as_ref().map(|c| c.version),
        })
        .collect();
    Ok(Record {
        language: lang.to_owned(),
        register_digest: register.digest.clone(),
        activities,
    })
}

impl Record {
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| PrivacyError::Internal(e.to_string()))
    }

    /// One row per activity; lists joined with "; ". Cells that a spreadsheet would run as a
    /// formula are prefixed with an apostrophe.
    pub fn to_csv(&self) -> Result<String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let fail = |e: csv::Error| PrivacyError::Internal(e.to_string());
        w.write_record([
            "id",
            "purpose",
            "legal_basis",
            "legitimate_interest",
            "data_categories",
            "subject_categories",
            "internal_recipients",
            "subprocessors",
            "source",
            "retention",
            "transfers",
        ])
        .map_err(fail)?;
        for a in &self.activities {
            let join = |v: Vec<String>| v.join("; ");
            let row = [
                a.id.clone(),
                a.purpose.clone(),
                format!("GDPR Art. 6(1)({})", a.basis),
                a.legitimate_interest.clone().unwrap_or_default(),
                join(a.data_categories.iter().map(|n| n.name.clone()).collect()),
                join(
                    a.subject_categories
                        .iter()
                        .map(|n| n.name.clone())
                        .collect(),
                ),
                join(a.internal_recipients.clone()),
                join(
                    a.subprocessors
                        .iter()
                        .map(|r| match &r.name {
                            Some(n) => format!("{n} ({})", r.registration_number),
                            None => r.registration_number.clone(),
                        })
                        .collect(),
                ),
                a.source.clone(),
                join(
                    a.retention
                        .iter()
                        .map(|r| format!("{}: {} {} ({})", r.rule, r.after, r.trigger, r.action))
                        .collect(),
                ),
                join(a.transfers.iter().map(|n| n.name.clone()).collect()),
            ];
            w.write_record(row.iter().map(|c| defuse(c)))
                .map_err(fail)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| PrivacyError::Internal(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| PrivacyError::Internal(e.to_string()))
    }
}

/// A cell starting with = + - @ (or a tab/CR) is made inert for spreadsheets.
fn defuse(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_owned()
    }
}

/// How the record was asked for, for its audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Read on the register's page.
    View,
    /// Exported: `json`, `csv` or `html` (the printable page).
    Export(&'static str),
}

impl crate::service::Privacy {
    /// The record in `lang` for someone the caller already allowed to read it (`actor`: the
    /// person, `None` for the command line); every view and export leaves an audit record
    /// (`register.read` / `register.export`).
    pub async fn audited_record(
        &self,
        actor: Option<uuid::Uuid>,
        ip: Option<std::net::IpAddr>,
        lang: &str,
        how: Use,
    ) -> Result<Record> {
        let names = crate::service::subprocessor_names(self.db()).await?;
        let record = record(&self.register(), lang, &names)?;
        let (action, format) = match how {
            Use::View => ("register.read", "page"),
            Use::Export(f) => ("register.export", f),
        };
        let mut e = extranet_audit::NewEntry::new(
            self.clock().now(),
            action,
            extranet_audit::Outcome::Success,
        )
        .subject("register", &record.register_digest)
        .detail(serde_json::json!({
            "language": lang,
            "format": format,
            "via": if actor.is_some() { "web" } else { "command line" },
        }));
        if let Some(a) = actor {
            e = e.actor(a);
        }
        if let Some(ip) = ip {
            e = e.ip(ip);
        }
        extranet_audit::append(self.db(), &e).await?;
        Ok(record)
    }
}
