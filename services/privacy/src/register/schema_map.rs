//! `schema.csv`: every column of the schema, and the category of personal data it holds.

/// One line of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnClass {
    pub table: String,
    pub column: String,
    /// A data category's code, or `None` for a column holding no personal data.
    pub category: Option<String>,
    /// The line in `schema.csv`.
    pub line: usize,
}
