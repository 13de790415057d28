//! A text in the three languages of the extranet.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub en: String,
    pub nl: String,
    pub fr: String,
}

impl Texts {
    /// The text in `lang` (`nl`, `fr`; anything else English).
    pub fn get(&self, lang: &str) -> &str {
        match lang {
            "nl" => &self.nl,
            "fr" => &self.fr,
            _ => &self.en,
        }
    }

    /// The languages whose text is empty.
    pub(crate) fn missing(&self) -> Vec<&'static str> {
        [("en", &self.en), ("nl", &self.nl), ("fr", &self.fr)]
            .into_iter()
            .filter(|(_, t)| t.trim().is_empty())
            .map(|(l, _)| l)
            .collect()
    }
}
