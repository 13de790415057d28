//! Masked records as pages show them: every field with its label in the visitor's language, its
//! value (codes translated) or "hidden" when the caller's role was not granted it. Built only
//! from [`Masked`], so a page cannot show a field the JSON would not.

use extranet_access::{Cell, Masked, Outward};

use crate::i18n::Tr;
use crate::lang::Lang;

/// One line of a facts list.
pub(crate) struct Fact {
    /// `person-phone`: for the element id.
    pub id: String,
    pub label: String,
    /// `None`: the field is hidden.
    pub value: Option<String>,
}

/// A coded value in words; anything else as it is.
fn words(tr: &Tr, field: &str, raw: &str) -> String {
    let one = |key: String| tr.t(&key);
    match field {
        "kind" => one(format!("kind-{}", raw.replace('_', "-"))),
        "state" if raw == "planned" || raw == "ended" => one(format!("assignment-state-{raw}")),
        "state" => one(format!("state-{raw}")),
        "status" => one(format!("dossier-status-{raw}")),
        "gender" => one(format!("gender-{raw}")),
        "active" => one(if raw == "true" {
            "yes".into()
        } else {
            "no".into()
        }),
        "language" => Lang::parse(raw)
            .map(|l| l.endonym().to_owned())
            .unwrap_or_else(|| raw.to_owned()),
        "roles" => raw
            .split(", ")
            .map(|r| tr.t(&format!("role-{}", r.replace('_', "-"))))
            .collect::<Vec<_>>()
            .join(", "),
        "rights" => raw
            .split(", ")
            .map(|r| tr.t(&format!("right-{}", r.replace('.', "-"))))
            .collect::<Vec<_>>()
            .join(", "),
        _ => raw.to_owned(),
    }
}

/// Every field of a masked record, in order, except those in `skip` (ids shown as links).
pub(crate) fn facts<T: Outward>(tr: &Tr, record: &Masked<T>, skip: &[&str]) -> Vec<Fact> {
    record
        .cells()
        .into_iter()
        .filter(|(name, _)| !skip.contains(name))
        .map(|(name, cell)| Fact {
            id: format!("{}-{}", T::TYPE, name.replace('_', "-")),
            label: tr.t(&format!("field-{}-{name}", T::TYPE)),
            value: match cell {
                Cell::Hidden if record.is_restricted() => Some(tr.t("restrict-shown")),
                Cell::Hidden => None,
                Cell::Empty => Some("—".to_owned()),
                Cell::Value(v) => Some(words(tr, name, &v)),
            },
        })
        .collect()
}

/// One field of a masked record as a table cell shows it (`None`: hidden).
pub(crate) fn cell<T: Outward>(tr: &Tr, record: &Masked<T>, field: &str) -> Option<String> {
    match record.cell(field) {
        // A restricted person (GDPR Art. 18): "restricted" instead of "hidden", on every page.
        Cell::Hidden if record.is_restricted() => Some(tr.t("restrict-shown")),
        Cell::Hidden => None,
        Cell::Empty => Some("—".to_owned()),
        Cell::Value(v) => Some(words(tr, field, &v)),
    }
}
