//! The processing register, kept in `policies/register/` and reviewed like code:
//! `activities.toml` (the processing activities), `retention.toml` (the retention schedule) and
//! `schema.csv` (every column of the schema with the category of personal data it holds).
//!
//! [`Register::load`] reads and checks the three files together; every problem is reported with
//! its file, line and offending word, and a register with any problem is refused as a whole
//! (the server does not start on it, and a reload keeps the register in force).

mod activities;
mod check;
mod retention;
mod schema_map;
mod texts;

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

pub use activities::{Activity, Basis, Consent};
pub use retention::{Action, Duration, Rule, Target};
pub use schema_map::ColumnClass;
pub use texts::Texts;

use crate::error::{PrivacyError, Result};

/// One thing wrong with the register: where, which word, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub word: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}`: {}",
            self.file, self.line, self.word, self.message
        )
    }
}

/// The register files' texts, and where they came from (for messages).
#[derive(Debug, Clone)]
pub struct RegisterSource {
    pub activities: String,
    pub retention: String,
    pub schema: String,
    pub origin: String,
}

pub const ACTIVITIES_FILE: &str = "activities.toml";
pub const RETENTION_FILE: &str = "retention.toml";
pub const SCHEMA_FILE: &str = "schema.csv";

impl RegisterSource {
    /// The register this build was made with (`policies/register/` of the source tree).
    pub fn embedded() -> RegisterSource {
        RegisterSource {
            activities: include_str!("../../../../policies/register/activities.toml").to_owned(),
            retention: include_str!("../../../../policies/register/retention.toml").to_owned(),
            schema: include_str!("../../../../policies/register/schema.csv").to_owned(),
            origin: "the built-in register".to_owned(),
        }
    }

    /// The three files from a directory.
    pub fn from_dir(dir: &Path) -> Result<RegisterSource> {
        let read = |name: &str| -> Result<String> {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| {
                PrivacyError::Register(vec![Problem {
                    file: path.display().to_string(),
                    line: 0,
                    word: name.to_owned(),
                    message: format!("cannot be read: {e}"),
                }])
            })
        };
        Ok(RegisterSource {
            activities: read(ACTIVITIES_FILE)?,
            retention: read(RETENTION_FILE)?,
            schema: read(SCHEMA_FILE)?,
            origin: dir.display().to_string(),
        })
    }

    /// A file's name as messages give it: under the directory it came from.
    fn file(&self, name: &str) -> String {
        if self.origin.starts_with("the built-in") {
            format!("policies/register/{name}")
        } else {
            Path::new(&self.origin).join(name).display().to_string()
        }
    }
}

/// What the register is checked against, besides its own files.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The schema's `(table, column)` pairs; `None` skips the coverage check.
    pub columns: Option<Vec<(String, String)>>,
    /// Registration numbers of the subprocessor register's entries; `None` (no database at
    /// hand) or an empty register skips the recipient check.
    pub subprocessors: Option<BTreeSet<String>>,
}

/// The checked register.
#[derive(Debug, Clone)]
pub struct Register {
    pub activities: Vec<Activity>,
    pub rules: Vec<Rule>,
    pub columns: Vec<ColumnClass>,
    /// SHA-256 of the three files, hex: a new privacy notice version starts when it changes.
    pub digest: String,
}

impl Register {
    /// Reads and checks the register; every problem found, or the register.
    pub fn load(src: &RegisterSource, ctx: &Context) -> Result<Register> {
        check::load(src, ctx).map_err(PrivacyError::Register)
    }

    pub fn activity(&self, id: &str) -> Option<&Activity> {
        self.activities.iter().find(|a| a.id == id)
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The activities whose basis is consent: the purposes a person can agree to or withdraw.
    pub fn consent_purposes(&self) -> impl Iterator<Item = (&Activity, &Consent)> {
        self.activities
            .iter()
            .filter_map(|a| a.consent.as_ref().map(|c| (a, c)))
    }

    /// The columns holding personal data, with their category.
    pub fn personal_columns(&self) -> impl Iterator<Item = &ColumnClass> {
        self.columns.iter().filter(|c| c.category.is_some())
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len()))
        .map(|t| t.bytes().filter(|b| *b == b'\n').count() + 1)
        .unwrap_or(1)
}
