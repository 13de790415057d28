//! Processing activities (GDPR Art. 30(1)).

use serde::Deserialize;
use toml::Spanned;

use super::texts::Texts;

/// A legal basis of GDPR Art. 6(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Basis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterests,
}

impl Basis {
    pub const ALL: [Basis; 6] = [
        Basis::Consent,
        Basis::Contract,
        Basis::LegalObligation,
        Basis::VitalInterests,
        Basis::PublicTask,
        Basis::LegitimateInterests,
    ];

    /// The letter of Art. 6(1).
    pub fn letter(self) -> &'static str {
        match self {
            Basis::Consent => "a",
            Basis::Contract => "b",
            Basis::LegalObligation => "c",
            Basis::VitalInterests => "d",
            Basis::PublicTask => "e",
            Basis::LegitimateInterests => "f",
        }
    }

    pub fn parse(s: &str) -> Option<Basis> {
        Basis::ALL.into_iter().find(|b| b.letter() == s)
    }

    /// A stable word for JSON and the pages' message keys.
    pub fn word(self) -> &'static str {
        match self {
            Basis::Consent => "consent",
            Basis::Contract => "contract",
            Basis::LegalObligation => "legal_obligation",
            Basis::VitalInterests => "vital_interests",
            Basis::PublicTask => "public_task",
            Basis::LegitimateInterests => "legitimate_interests",
        }
    }
}

/// What a person agrees to where the basis is consent: the exact text, by version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub version: u32,
    pub text: Texts,
}

/// A checked processing activity.
#[derive(Debug, Clone)]
pub struct Activity {
    pub id: String,
    pub purpose: Texts,
    pub basis: Basis,
    /// Stated where the basis is legitimate interests.
    pub legitimate_interest: Option<Texts>,
    pub data: Vec<String>,
    pub subjects: Vec<String>,
    pub internal_recipients: Vec<String>,
    /// Registration numbers in the subprocessor register.
    pub subprocessors: Vec<String>,
    pub source: Texts,
    /// Rule ids of the retention schedule.
    pub retention: Vec<String>,
    /// Countries outside the EEA (ISO 3166-1 alpha-2).
    pub transfers: Vec<String>,
    pub consent: Option<Consent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActivities {
    #[serde(default)]
    pub activity: Vec<RawActivity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActivity {
    pub id: Spanned<String>,
    pub purpose: Spanned<Texts>,
    pub basis: Spanned<String>,
    #[serde(default)]
    pub legitimate_interest: Option<Spanned<Texts>>,
    pub data: Vec<Spanned<String>>,
    pub subjects: Vec<Spanned<String>>,
    #[serde(default)]
    pub internal_recipients: Vec<Spanned<String>>,
    #[serde(default)]
    pub subprocessors: Vec<Spanned<String>>,
    pub source: Spanned<Texts>,
    pub retention: Vec<Spanned<String>>,
    #[serde(default)]
    pub transfers: Vec<Spanned<String>>,
    #[serde(default)]
    pub consent: Option<Spanned<RawConsent>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConsent {
    pub version: u32,
    pub text: Texts,
}
