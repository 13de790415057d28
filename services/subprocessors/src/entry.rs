//! A register entry as proposed and stored: who the subprocessor is, what it does with which
//! personal data, and where. Checked against the vocabulary and the EEA rule before anything is
//! written.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SubprocessorsError};
use crate::vocabulary::{Kind, Vocabulary};

/// The ways personal data may lawfully leave the EEA (GDPR articles 45, 46 and 47).
pub const MECHANISMS: [&str; 3] = [
    "adequacy_decision",
    "standard_contractual_clauses",
    "binding_corporate_rules",
];

pub const MAX_TEXT: usize = 300;
pub const MAX_LOCATIONS: usize = 20;

/// Where an entry processes personal data; `mechanism` only for a country outside the EEA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub country: String,
    #[serde(default)]
    pub mechanism: Option<String>,
}

/// The fields of a register entry that a notice proposes and the history keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub legal_name: String,
    pub registration_number: String,
    pub website: String,
    pub service: String,
    pub data_categories: Vec<String>,
    pub subject_categories: Vec<String>,
    pub locations: Vec<Location>,
    /// ISO date of the processing agreement.
    pub agreement_date: Option<String>,
}

/// An entry with its state, as stored in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(flatten)]
    pub entry: Entry,
    /// `announced`, `active` or `retired`.
    pub state: String,
}

fn text(field: &'static str, value: &str, required: bool) -> Result<String> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(SubprocessorsError::invalid(field, "is required"));
    }
    if v.chars().count() > MAX_TEXT {
        return Err(SubprocessorsError::invalid(
            field,
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(SubprocessorsError::invalid(
            field,
            "must be one line of text",
        ));
    }
    Ok(v.to_owned())
}

fn codes(
    vocab: &Vocabulary,
    kind: Kind,
    field: &'static str,
    values: &[String],
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        let v = v.trim();
        if vocab.category(kind, v).is_none() {
            return Err(SubprocessorsError::invalid(
                field,
                format!("unknown category \"{v}\""),
            ));
        }
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    if out.is_empty() {
        return Err(SubprocessorsError::invalid(
            field,
            "name at least one category",
        ));
    }
    Ok(out)
}

impl Entry {
    /// The entry with its text trimmed, codes normalised and every rule checked: known
    /// categories and countries, a website that is an http(s) address, and the EEA rule — by
    /// default no location outside the EEA; where the installation allows them, each with a
    /// transfer mechanism.
    pub fn checked(&self, vocab: &Vocabulary, allow_outside_eea: bool) -> Result<Entry> {
        let website = text("website", &self.website, true)?;
        match url::Url::parse(&website) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(SubprocessorsError::invalid(
                    "website",
                    "an address starting with https://",
                ));
            }
        }
        if self.locations.is_empty() {
            return Err(SubprocessorsError::invalid(
                "locations",
                "name at least one country",
            ));
        }
        if self.locations.len() > MAX_LOCATIONS {
            return Err(SubprocessorsError::invalid(
                "locations",
                format!("at most {MAX_LOCATIONS} countries"),
            ));
        }
        let mut locations: Vec<Location> = Vec::new();
        for l in &self.locations {
            let code = l.country.trim().to_ascii_uppercase();
            let Some(country) = vocab.country(&code) else {
                return Err(SubprocessorsError::invalid(
                    "locations",
                    format!("unknown country code \"{}\"", l.country.trim()),
                ));
            };
            let mechanism = l
                .mechanism
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty());
            let mechanism = if country.eea {
                None
            } else if !allow_outside_eea {
                return Err(SubprocessorsError::invalid(
                    "locations",
                    format!(
                        "{code} is outside the European Economic Area, and this installation \
                         accepts no location outside it"
                    ),
                ));
            } else {
                match mechanism {
                    Some(m) if MECHANISMS.contains(&m) => Some(m.to_owned()),
                    Some(m) => {
                        return Err(SubprocessorsError::invalid(
                            "locations",
                            format!(
                                "unknown transfer mechanism \"{m}\" (one of {})",
                                MECHANISMS.join(", ")
                            ),
                        ));
                    }
                    None => {
                        return Err(SubprocessorsError::invalid(
                            "locations",
                            format!(
                                "{code} is outside the European Economic Area: name the transfer \
                                 mechanism"
                            ),
                        ));
                    }
                }
            };
            if !locations.iter().any(|x| x.country == code) {
                locations.push(Location {
                    country: code,
                    mechanism,
                });
            }
        }
        let agreement_date = match self.agreement_date.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => {
                let format = time::macros::format_description!("[year]-[month]-[day]");
                time::Date::parse(d, &format).map_err(|_| {
                    SubprocessorsError::invalid("agreement_date", "a date as YYYY-MM-DD")
                })?;
                Some(d.to_owned())
            }
        };
        Ok(Entry {
            legal_name: text("legal_name", &self.legal_name, true)?,
            registration_number: text("registration_number", &self.registration_number, true)?,
            website,
            service: text("service", &self.service, true)?,
            data_categories: codes(vocab, Kind::Data, "data_categories", &self.data_categories)?,
            subject_categories: codes(
                vocab,
                Kind::Subjects,
                "subject_categories",
                &self.subject_categories,
            )?,
            locations,
            agreement_date,
        })
    }

    /// Country codes, for lists and cells.
    pub fn countries(&self) -> Vec<String> {
        self.locations.iter().map(|l| l.country.clone()).collect()
    }

    /// `US: standard_contractual_clauses` for every location outside the EEA.
    pub fn transfers(&self) -> Vec<String> {
        self.locations
            .iter()
            .filter_map(|l| l.mechanism.as_ref().map(|m| format!("{}: {m}", l.country)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(country: &str, mechanism: Option<&str>) -> Entry {
        Entry {
            legal_name: " Hosting NV ".into(),
            registration_number: "0123.456.789".into(),
            website: "https://hosting.example".into(),
            service: "Hosting".into(),
            data_categories: vec!["contact".into(), "contact".into()],
            subject_categories: vec!["client_contacts".into()],
            locations: vec![Location {
                country: country.into(),
                mechanism: mechanism.map(str::to_owned),
            }],
            agreement_date: Some("2025-01-31".into()),
        }
    }

    #[test]
    fn the_eea_rule_and_the_vocabulary_hold() -> Result<()> {
        let v = Vocabulary::shipped()?;
        let ok = entry("be", None).checked(&v, false)?;
        assert_eq!(ok.legal_name, "Hosting NV");
        assert_eq!(ok.locations[0].country, "BE");
        assert_eq!(ok.data_categories, vec!["contact".to_owned()]);
        // Outside the EEA: refused by default, refused without a mechanism when allowed.
        assert!(entry("US", None).checked(&v, false).is_err());
        assert!(
            entry("US", Some("standard_contractual_clauses"))
                .checked(&v, false)
                .is_err()
        );
        assert!(entry("US", None).checked(&v, true).is_err());
        assert!(entry("US", Some("a promise")).checked(&v, true).is_err());
        let us = entry("US", Some("standard_contractual_clauses")).checked(&v, true)?;
        assert_eq!(
            us.transfers(),
            vec!["US: standard_contractual_clauses".to_owned()]
        );
        // A mechanism named for an EEA country is dropped: none is needed.
        assert_eq!(
            entry("NL", Some("binding_corporate_rules"))
                .checked(&v, true)?
                .locations[0]
                .mechanism,
            None
        );
        assert!(entry("XX", None).checked(&v, true).is_err());
        let mut bad = entry("BE", None);
        bad.data_categories = vec!["shoe_size".into()];
        assert!(bad.checked(&v, false).is_err());
        let mut bad = entry("BE", None);
        bad.website = "javascript:alert(1)".into();
        assert!(bad.checked(&v, false).is_err());
        let mut bad = entry("BE", None);
        bad.agreement_date = Some("31/01/2025".into());
        assert!(bad.checked(&v, false).is_err());
        Ok(())
    }
}
