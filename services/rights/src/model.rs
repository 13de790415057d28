//! The words of a request: the rights it names, the states it goes through, and the legal
//! grounds on which something may be refused.

use crate::error::{Result, RightsError};

/// A right a data subject exercises (GDPR Art. 15–22, and withdrawal of consent, Art. 7(3)).
pub const RIGHTS: [&str; 7] = [
    "access",
    "rectification",
    "erasure",
    "restriction",
    "portability",
    "objection",
    "withdrawal",
];

/// The states of a request, in the order they usually come.
pub const STATES: [&str; 8] = [
    "unconfirmed",
    "received",
    "identity_check",
    "in_progress",
    "extended",
    "fulfilled",
    "partly_fulfilled",
    "refused",
];

/// The states a request ends in.
pub const CLOSED: [&str; 3] = ["fulfilled", "partly_fulfilled", "refused"];

/// The states the queue works on (received, not closed).
pub const OPEN: [&str; 4] = ["received", "identity_check", "in_progress", "extended"];

/// The grounds on which a request is refused or answered in part.
pub const GROUNDS: [&str; 10] = [
    // Art. 12(5): manifestly unfounded or excessive.
    "manifestly_unfounded",
    // Art. 12(6), 11(2): the requester's identity could not be established.
    "identity_not_established",
    // Art. 17(3)(b): a legal obligation requires keeping the data (a retention rule).
    "legal_obligation",
    // Art. 17(3)(e), 18(2): establishment, exercise or defence of legal claims (a legal hold).
    "legal_claims",
    // Art. 15(4), 20(4): the rights and freedoms of others.
    "rights_of_others",
    // Art. 21(1): compelling legitimate grounds that override the objection.
    "compelling_grounds",
    // Art. 20(1): portability covers only data the person provided, processed by consent or
    // contract.
    "not_provided_by_subject",
    // Art. 16: the data is accurate as it stands (a proposed correction refused).
    "accurate",
    // Art. 6(1)(b), 7(3): the certification contract needs a contact at the company while its
    // certification is in progress; another contact must be named first.
    "contact_required",
    // Art. 18(2): the requester's data is restricted; it is changed once the restriction is
    // lifted.
    "restricted",
];

/// The fields of a person's record a rectification request may propose new values for (the
/// e-mail address changes through its own confirmed flow, the account page).
pub const PROPOSABLE: [&str; 6] = [
    "first_name",
    "surname",
    "function",
    "phone",
    "mobile",
    "fax",
];

pub const MAX_DETAILS: usize = 4000;
pub const MAX_NOTE: usize = 4000;
pub const MAX_NAME: usize = 200;

/// The rights named, checked, deduplicated and in the order of [`RIGHTS`].
pub fn rights(named: &[String]) -> Result<Vec<&'static str>> {
    if named.is_empty() {
        return Err(RightsError::invalid(
            "rights",
            "required",
            "name at least one right",
        ));
    }
    for r in named {
        if !RIGHTS.contains(&r.as_str()) {
            return Err(RightsError::invalid(
                "rights",
                "unknown_right",
                format!("`{r}` is not one of {}", RIGHTS.join(", ")),
            ));
        }
    }
    Ok(RIGHTS
        .iter()
        .copied()
        .filter(|r| named.iter().any(|n| n == r))
        .collect())
}

/// A free text: trimmed, at most `max` characters, required when `required`.
pub fn text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
) -> Result<Option<String>> {
    let v = value.trim();
    if v.is_empty() {
        return if required {
            Err(RightsError::invalid(field, "required", "is required"))
        } else {
            Ok(None)
        };
    }
    if v.chars().count() > max {
        return Err(RightsError::invalid(
            field,
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(Some(v.to_owned()))
}

/// A rectification's proposed values, checked: known fields, at most [`MAX_NAME`] characters
/// each, only with the right of rectification. Empty values are left out. JSON, or none.
pub fn proposals(
    named: &std::collections::BTreeMap<String, String>,
    rights: &[&str],
) -> Result<Option<String>> {
    let mut out = serde_json::Map::new();
    for (field, value) in named {
        let Some(field) = PROPOSABLE.iter().find(|f| **f == field.as_str()) else {
            return Err(RightsError::invalid(
                "proposals",
                "unknown_field",
                format!("`{field}` is not one of {}", PROPOSABLE.join(", ")),
            ));
        };
        if let Some(v) = text("proposals", value, MAX_NAME, false)? {
            out.insert((*field).to_owned(), serde_json::Value::String(v));
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    if !rights.contains(&"rectification") {
        return Err(RightsError::invalid(
            "proposals",
            "proposals_without_rectification",
            "proposed corrections go with the right of rectification",
        ));
    }
    Ok(Some(serde_json::Value::Object(out).to_string()))
}

pub fn language(code: &str) -> &'static str {
    match code {
        "nl" => "nl",
        "fr" => "fr",
        _ => "en",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rights_are_checked_and_ordered() {
        let got = rights(&["portability".into(), "access".into(), "access".into()]).ok();
        assert_eq!(got, Some(vec!["access", "portability"]));
        assert!(matches!(
            rights(&["everything".into()]),
            Err(RightsError::Invalid {
                code: "unknown_right",
                ..
            })
        ));
        assert!(matches!(
            rights(&[]),
            Err(RightsError::Invalid {
                code: "required",
                ..
            })
        ));
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(
            text("details", "  hi ", 10, true).ok().flatten(),
            Some("hi".into())
        );
        assert!(text("details", "   ", 10, true).is_err());
        assert_eq!(text("details", "   ", 10, false).ok(), Some(None));
        assert!(text("details", "abcdefghijk", 10, true).is_err());
    }
}
