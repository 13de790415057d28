use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// Who the certification body is, as its public home page shows it (from configuration).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Site {
    /// The certification body's name, e.g. "BE-Cert".
    pub name: String,
    /// Postal address, one line each.
    pub address: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Public website (https://…).
    pub website: Option<String>,
    /// Belgian enterprise number as printed, e.g. "BE 0123.456.749".
    pub enterprise_number: Option<String>,
    /// The language of a visitor whose browser states none of nl, fr, en.
    pub default_language: Lang,
    /// The installation's time zone (IANA name): every date and time is shown in it.
    pub time_zone: String,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            name: "Certification body".into(),
            address: Vec::new(),
            phone: None,
            email: None,
            website: None,
            enterprise_number: None,
            default_language: Lang::En,
            time_zone: "Europe/Brussels".into(),
        }
    }
}

impl Site {
    /// Checks the values a visitor will see; returns the offending key and the problem.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            return Err(("site.name", "must be 1 to 200 characters".into()));
        }
        if self.address.len() > 8 || self.address.iter().any(|l| l.chars().count() > 200) {
            return Err(("site.address", "at most 8 lines of 200 characters".into()));
        }
        if let Some(email) = &self.email {
            let parts: Vec<&str> = email.split('@').collect();
            if parts.len() != 2 || parts[0].is_empty() || !parts[1].contains('.') {
                return Err(("site.email", format!("`{email}` is not an e-mail address")));
            }
        }
        if let Some(web) = &self.website {
            match url::Url::parse(web) {
                Ok(u) if matches!(u.scheme(), "https" | "http") => {}
                _ => return Err(("site.website", "must be an http(s):// URL".into())),
            }
        }
        if jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            return Err((
                "site.time_zone",
                format!(
                    "`{}` is not a time zone (e.g. Europe/Brussels)",
                    self.time_zone
                ),
            ));
        }
        Ok(())
    }

    /// The installation's time zone (checked at start-up; UTC should it fail later).
    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.time_zone).unwrap_or(jiff::tz::TimeZone::UTC)
    }

    /// `mailto:` link for the contact address, if any.
    pub fn mailto(&self) -> Option<String> {
        self.email.as_ref().map(|e| format!("mailto:{e}"))
    }

    /// `tel:` link: digits and a leading plus only.
    pub fn tel(&self) -> Option<String> {
        self.phone.as_ref().map(|p| {
            let digits: String = p
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect();
            format!("tel:{digits}")
        })
    }
}
