//! The words an entry may use, read from `policies/`: ISO 3166-1 countries with whether each is
//! in the EEA (`countries.csv`), and the categories of personal data and of data subjects
//! (`data_categories.csv`, the vocabulary the processing register uses too). Each word has a
//! name in Dutch, French and English.

use std::collections::BTreeMap;

use crate::error::{Result, SubprocessorsError};

const COUNTRIES: &str = include_str!("../../../policies/countries.csv");
const CATEGORIES: &str = include_str!("../../../policies/data_categories.csv");

/// A word's names, by language.
#[derive(Debug, Clone)]
pub struct Names {
    pub en: String,
    pub nl: String,
    pub fr: String,
}

impl Names {
    /// The name in `lang` (`nl`, `fr`; anything else English).
    pub fn get(&self, lang: &str) -> &str {
        match lang {
            "nl" => &self.nl,
            "fr" => &self.fr,
            _ => &self.en,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Country {
    pub code: String,
    pub eea: bool,
    pub names: Names,
}

/// Which list a category belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A category of personal data.
    Data,
    /// A category of data subjects.
    Subjects,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub kind: Kind,
    pub code: String,
    pub names: Names,
}

#[derive(Debug, Clone)]
pub struct Vocabulary {
    countries: BTreeMap<String, Country>,
    categories: Vec<Category>,
}

fn rows(text: &str) -> Result<Vec<Vec<String>>> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for r in reader.records() {
        let r = r.map_err(|e| SubprocessorsError::Internal(format!("vocabulary: {e}")))?;
        out.push(r.iter().map(str::to_owned).collect());
    }
    Ok(out)
}

fn names(cells: &[String]) -> Names {
    Names {
        en: cells[0].clone(),
        nl: cells[1].clone(),
        fr: cells[2].clone(),
    }
}

impl Vocabulary {
    /// The vocabulary shipped in `policies/`.
    pub fn shipped() -> Result<Vocabulary> {
        let mut countries = BTreeMap::new();
        for r in rows(COUNTRIES)? {
            let [code, eea, ..] = r.as_slice() else {
                continue;
            };
            if r.len() != 5 {
                return Err(SubprocessorsError::Internal(format!(
                    "countries.csv: {code} needs 5 cells"
                )));
            }
            countries.insert(
                code.clone(),
                Country {
                    code: code.clone(),
                    eea: eea == "yes",
                    names: names(&r[2..5]),
                },
            );
        }
        let mut categories = Vec::new();
        for r in rows(CATEGORIES)? {
            if r.len() != 5 {
                return Err(SubprocessorsError::Internal(
                    "data_categories.csv: every line needs 5 cells".into(),
                ));
            }
            let kind = match r[0].as_str() {
                "data" => Kind::Data,
                "subjects" => Kind::Subjects,
                other => {
                    return Err(SubprocessorsError::Internal(format!(
                        "data_categories.csv: unknown kind {other}"
                    )));
                }
            };
            categories.push(Category {
                kind,
                code: r[1].clone(),
                names: names(&r[2..5]),
            });
        }
        Ok(Vocabulary {
            countries,
            categories,
        })
    }

    pub fn country(&self, code: &str) -> Option<&Country> {
        self.countries.get(code)
    }

    pub fn countries(&self) -> impl Iterator<Item = &Country> {
        self.countries.values()
    }

    pub fn category(&self, kind: Kind, code: &str) -> Option<&Category> {
        self.categories
            .iter()
            .find(|c| c.kind == kind && c.code == code)
    }

    pub fn categories(&self, kind: Kind) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(move |c| c.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lists_parse_and_hold_the_eea() -> Result<()> {
        let v = Vocabulary::shipped()?;
        assert_eq!(v.countries().count(), 249);
        // The EU's 27 with Iceland, Liechtenstein and Norway.
        assert_eq!(v.countries().filter(|c| c.eea).count(), 30);
        assert!(
            v.country("BE")
                .is_some_and(|c| c.eea && c.names.nl == "België")
        );
        assert!(v.country("US").is_some_and(|c| !c.eea));
        assert!(v.country("CH").is_some_and(|c| !c.eea));
        assert!(v.country("XX").is_none());
        assert!(v.category(Kind::Data, "contact").is_some());
        assert!(v.category(Kind::Subjects, "contact").is_none());
        assert!(v.categories(Kind::Subjects).count() >= 5);
        Ok(())
    }
}
