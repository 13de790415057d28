//! The one place where masking happens. Every record that leaves the server — as JSON, on a
//! page, in an export, a search result or an e-mail — goes through [`Masked`]: a field outside
//! the caller's grants is left out of the JSON (and named under `masked`), shown as "hidden" on
//! pages and in exports, and its value is never read.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::fields::{FieldSet, Outward};

/// A record as one caller may see it.
#[derive(Debug, Clone)]
pub struct Masked<T> {
    record: T,
    visible: FieldSet,
    /// The record is about a person whose processing is restricted (GDPR Art. 18), or names
    /// one: the fields about them are masked whatever the caller's grants, and every output
    /// says so (`"restricted": true` in JSON, "restricted" on pages).
    restricted: bool,
}

/// One field as a page or an export shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Granted, with a value.
    Value(String),
    /// Granted, and empty.
    Empty,
    /// Not granted: shown as "hidden".
    Hidden,
}

impl<T: Outward> Masked<T> {
    pub fn new(record: T, visible: FieldSet) -> Masked<T> {
        Masked {
            record,
            visible,
            restricted: false,
        }
    }

    /// The record of a person whose processing is restricted, as anyone but that person sees
    /// it: only its `id` (to name it in a link or a refusal) and the mark.
    pub fn restricted(self) -> Masked<T> {
        let keep = T::index_of("id").map_or(FieldSet::EMPTY, |i| FieldSet::EMPTY.with(i));
        Masked {
            visible: FieldSet(self.visible.0 & keep.0),
            restricted: true,
            record: self.record,
        }
    }

    /// A record that names a restricted person in `fields` (an assignment's inspector, a
    /// document's uploader): those fields are masked and the record is marked.
    pub fn restrict_fields(self, fields: &[&str]) -> Masked<T> {
        let drop = fields
            .iter()
            .filter_map(|f| T::index_of(f))
            .fold(FieldSet::EMPTY, FieldSet::with);
        Masked {
            visible: FieldSet(self.visible.0 & !drop.0),
            restricted: true,
            record: self.record,
        }
    }

    /// Whether restriction (rather than the caller's grants alone) masked this record's fields.
    pub fn is_restricted(&self) -> bool {
        self.restricted
    }

    pub fn is_visible(&self, field: &str) -> bool {
        T::index_of(field).is_some_and(|i| self.visible.contains(i))
    }

    /// The fields, in order, with what may be shown of each.
    pub fn cells(&self) -> Vec<(&'static str, Cell)> {
        T::FIELDS
            .iter()
            .zip(self.record.shown())
            .enumerate()
            .map(|(i, (name, value))| {
                let cell = if !self.visible.contains(i) {
                    Cell::Hidden
                } else {
                    value.map_or(Cell::Empty, Cell::Value)
                };
                (*name, cell)
            })
            .collect()
    }

    /// One field as a page shows it.
    pub fn cell(&self, field: &str) -> Cell {
        match T::index_of(field) {
            Some(i) if self.visible.contains(i) => self
                .record
                .shown()
                .into_iter()
                .nth(i)
                .flatten()
                .map_or(Cell::Empty, Cell::Value),
            _ => Cell::Hidden,
        }
    }

    /// The names of the masked fields.
    pub fn masked(&self) -> Vec<&'static str> {
        T::FIELDS
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.visible.contains(*i))
            .map(|(_, n)| *n)
            .collect()
    }

    /// The record itself, for code that decides (never for output).
    pub fn inner(&self) -> &T {
        &self.record
    }
}

impl<T: Outward> Serialize for Masked<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.record.serialize_visible(self.visible, &mut map)?;
        let masked = self.masked();
        if !masked.is_empty() {
            map.serialize_entry("masked", &masked)?;
        }
        if self.restricted {
            map.serialize_entry("restricted", &true)?;
        }
        map.end()
    }
}

/// What stands in an export cell for a masked field.
pub const HIDDEN_MARK: &str = "[hidden]";

/// Records as CSV: a header of field names, masked cells as [`HIDDEN_MARK`], and every cell that
/// a spreadsheet would read as a formula (`= + - @`, tab, CR) prefixed with `'`.
pub fn to_csv<T: Outward>(records: &[Masked<T>]) -> Result<Vec<u8>, csv::Error> {
    to_csv_with(records, None)
}

/// As [`to_csv`], with one more column holding the same value on every row (the date a list
/// describes, so that the file carries it).
pub fn to_csv_with<T: Outward>(
    records: &[Masked<T>],
    column: Option<(&str, &str)>,
) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = T::FIELDS.to_vec();
    header.extend(column.map(|c| c.0));
    w.write_record(&header)?;
    for r in records {
        let mut row: Vec<String> = r
            .cells()
            .into_iter()
            .map(|(_, c)| match c {
                Cell::Value(v) => defuse(v),
                Cell::Empty => String::new(),
                Cell::Hidden => HIDDEN_MARK.to_owned(),
            })
            .collect();
        row.extend(column.map(|c| defuse(c.1.to_owned())));
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

fn defuse(v: String) -> String {
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::views::PersonView;

    fn person() -> PersonView {
        PersonView {
            id: uuid::Uuid::nil(),
            organisation_id: uuid::Uuid::nil(),
            surname: "Peeters".into(),
            first_name: "An".into(),
            email: "an@example.be".into(),
            phone: Some("=cmd|' /C calc'!A0".into()),
            mobile: None,
            fax: None,
            function: None,
            gender: "ms".into(),
            language: "nl".into(),
            training_valid_until: None,
            birth_date: Some("1980-01-02".into()),
            licence_plates: vec!["1-ABC-123".into()],
            state: "active".into(),
            roles: vec![],
            rights: vec![],
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn only(fields: &[&str]) -> FieldSet {
        fields.iter().fold(FieldSet::EMPTY, |s, f| {
            s.with(PersonView::index_of(f).unwrap())
        })
    }

    #[test]
    fn masked_fields_leave_no_trace_of_their_value() {
        let m = Masked::new(person(), only(&["id", "surname", "mobile"]));
        let json = serde_json::to_string(&m).unwrap();
        assert!(!json.contains("1980") && !json.contains("ABC") && !json.contains("example.be"));
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["surname"], "Peeters");
        assert!(v["mobile"].is_null() && v.as_object().unwrap().contains_key("mobile"));
        assert!(!v.as_object().unwrap().contains_key("birth_date"));
        let masked: Vec<&str> = v["masked"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        assert!(masked.contains(&"birth_date") && masked.contains(&"email"));
        assert!(!masked.contains(&"surname"));
        assert_eq!(m.cell("birth_date"), Cell::Hidden);
        assert_eq!(m.cell("mobile"), Cell::Empty);
    }

    #[test]
    fn csv_marks_hidden_cells_and_defuses_formulas() {
        let rows = [Masked::new(person(), only(&["surname", "phone"]))];
        let text = String::from_utf8(to_csv(&rows).unwrap()).unwrap();
        assert!(!text.contains("1980"));
        assert!(text.contains("'=cmd"), "{text}");
        assert!(text.contains(HIDDEN_MARK));
    }

    #[test]
    fn a_restricted_person_shows_only_the_id_and_the_mark() {
        let all = PersonView::FIELDS.to_vec();
        let m = Masked::new(person(), only(&all)).restricted();
        let json = serde_json::to_string(&m).unwrap();
        assert!(
            !json.contains("Peeters") && !json.contains("example.be"),
            "{json}"
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["restricted"], true);
        assert_eq!(v["id"], uuid::Uuid::nil().to_string());
        assert_eq!(m.cell("surname"), Cell::Hidden);
        let plain = serde_json::to_value(Masked::new(person(), only(&all))).unwrap();
        assert!(plain.get("restricted").is_none());
    }
}
