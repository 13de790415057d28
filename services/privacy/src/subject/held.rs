//! Every field held on a person: for each table that links rows to a person, every column the
//! schema map classifies as personal data (`schema.csv`), read generically so that a column the
//! map gains appears in the report without code here changing.

use serde::{Deserialize, Serialize};
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

use extranet_platform::{Db, on_pool};

use crate::error::Result;
use crate::register::Register;

/// One cell: the column, its data category (`None`: context shown to make the row readable,
/// not personal data itself), its value as JSON. A security secret (a password hash, a second
/// factor's secret) is held but never shown: `withheld` is set and `value` is null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub column: String,
    pub category: Option<String>,
    pub value: serde_json::Value,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
}

/// The rows of one table that are about the person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldTable {
    pub table: String,
    pub rows: Vec<Vec<Field>>,
}

/// How a table's rows are linked to a person: `$1` is bound as the argument named.
#[derive(Debug, Clone, Copy)]
enum Arg {
    /// The person's id (UUID).
    Id,
    /// The person's id as text (the audit log stores ids as text).
    IdText,
    /// The person's normalised e-mail address.
    Email,
}

/// Tables with rows about a person, the condition that finds them, and columns shown as context.
/// A table missing here holds no row about one person (the schema map says which columns hold
/// personal data; this says whose).
const LINKS: &[(&str, &str, Arg, &[&str])] = &[
    ("person", "id = $1", Arg::Id, &["created_at"]),
    (
        "organisation",
        "id = (SELECT organisation_id FROM person WHERE id = $1)",
        Arg::Id,
        &[],
    ),
    ("person_role", "person_id = $1", Arg::Id, &["role"]),
    ("person_right", "person_id = $1", Arg::Id, &["right_name"]),
    ("vehicle", "person_id = $1", Arg::Id, &["created_at"]),
    ("consent", "person_id = $1", Arg::Id, &[]),
    (
        "subprocessor_subscription",
        "person_id = $1",
        Arg::Id,
        &["updated_at"],
    ),
    ("privacy_notice_seen", "person_id = $1", Arg::Id, &[]),
    (
        "assignment",
        "inspector_id = $1",
        Arg::Id,
        &["starts_at", "ends_at"],
    ),
    (
        "document",
        "created_by = $1",
        Arg::Id,
        &["doc_type", "created_at"],
    ),
    (
        "document_version",
        "uploaded_by = $1",
        Arg::Id,
        &["version", "size", "uploaded_at"],
    ),
    (
        "document_upload",
        "person_id = $1",
        Arg::Id,
        &["started_at"],
    ),
    ("upload_usage", "person_id = $1", Arg::Id, &["started_at"]),
    (
        "dossier_status_change",
        "changed_by = $1",
        Arg::Id,
        &["to_status", "changed_at"],
    ),
    (
        "subprocessor_objection",
        "author_id = $1",
        Arg::Id,
        &["state", "created_at"],
    ),
    (
        "auth_session",
        "person_id = $1",
        Arg::Id,
        &["absolute_expires_at", "revoked_at"],
    ),
    (
        "refresh_token",
        "session_id IN (SELECT id FROM auth_session WHERE person_id = $1)",
        Arg::Id,
        &[],
    ),
    (
        "access_revocation",
        "session_id IN (SELECT id FROM auth_session WHERE person_id = $1)",
        Arg::Id,
        &[],
    ),
    (
        "one_time_token",
        "person_id = $1",
        Arg::Id,
        &["purpose", "created_at"],
    ),
    (
        "sign_in_challenge",
        "person_id = $1",
        Arg::Id,
        &["purpose", "created_at"],
    ),
    (
        "second_factor",
        "person_id = $1",
        Arg::Id,
        &["kind", "created_at"],
    ),
    ("recovery_code", "person_id = $1", Arg::Id, &["created_at"]),
    (
        "outbox",
        "LOWER(recipient) = $1",
        Arg::Email,
        &["template", "created_at", "sent_at"],
    ),
    (
        "login_throttle",
        "throttle_key = 'account:' || $1",
        Arg::Email,
        &[],
    ),
    // What the person did; what others did to their data is the report's list of accesses.
    (
        "audit_log",
        "actor_id = $1",
        Arg::IdText,
        &["at", "action", "outcome"],
    ),
];

/// Held but never shown: secrets that would let someone sign in as the person.
const WITHHELD: &[(&str, &str)] = &[
    ("person", "password_hash"),
    ("second_factor", "secret"),
    ("second_factor", "credential"),
    ("recovery_code", "code_hash"),
    ("audit_log", "actor_ip_salt"),
];

/// Only names of the register's checked schema map reach SQL; this keeps it so.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A cell as JSON, whatever the engine stored: each type both engines use is tried in turn.
macro_rules! cell {
    ($row:expr, $i:expr) => {{
        let row = $row;
        let i = $i;
        if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            v.map_or(serde_json::Value::Null, serde_json::Value::from)
        } else if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            v.map_or(serde_json::Value::Null, serde_json::Value::from)
        } else if let Ok(v) = row.try_get::<Option<i32>, _>(i) {
            v.map_or(serde_json::Value::Null, serde_json::Value::from)
        } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
            v.map_or(serde_json::Value::Null, serde_json::Value::from)
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            v.map_or(serde_json::Value::Null, serde_json::Value::from)
        } else if let Ok(v) = row.try_get::<Option<Uuid>, _>(i) {
            v.map_or(serde_json::Value::Null, |u| u.to_string().into())
        } else if let Ok(v) = row.try_get::<Option<time::OffsetDateTime>, _>(i) {
            v.and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .map_or(serde_json::Value::Null, serde_json::Value::from)
        } else if let Ok(v) = row.try_get::<Option<time::Date>, _>(i) {
            v.map_or(serde_json::Value::Null, |d| d.to_string().into())
        } else if let Ok(v) = row.try_get::<Option<serde_json::Value>, _>(i) {
            v.unwrap_or(serde_json::Value::Null)
        } else if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
            // 16 bytes are an id stored as a blob (SQLite); other bytes as hex.
            v.map_or(serde_json::Value::Null, |b| match Uuid::from_slice(&b) {
                Ok(u) => u.to_string().into(),
                Err(_) => hex::encode(b).into(),
            })
        } else {
            serde_json::Value::Null
        }
    }};
}
pub(crate) use cell;

/// Every row linked to the person, every classified column of it; tables without rows are left
/// out. One query per table (a fixed number, whatever the data).
pub(crate) async fn fields(
    db: &Db,
    register: &Register,
    person: Uuid,
    email_normalized: &str,
) -> Result<Vec<HeldTable>> {
    let mut out = Vec::new();
    for (table, condition, arg, context) in LINKS {
        let personal: Vec<(&str, Option<&str>)> = register
            .personal_columns()
            .filter(|c| c.table == *table)
            .map(|c| (c.column.as_str(), c.category.as_deref()))
            .collect();
        if personal.is_empty() {
            continue;
        }
        let mut columns: Vec<(&str, Option<&str>)> = context
            .iter()
            .filter(|c| !personal.iter().any(|(p, _)| p == *c))
            .map(|c| (*c, None))
            .collect();
        columns.extend(personal);
        if !plain_name(table) || columns.iter().any(|(c, _)| !plain_name(c)) {
            continue;
        }
        let list: Vec<String> = columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let sql = format!("SELECT {} FROM {table} WHERE {condition}", list.join(", "));
        let rows: Vec<Vec<serde_json::Value>> = on_pool!(db, read, |pool| {
            let q = sqlx::query(AssertSqlSafe(sql.clone()));
            let q = match arg {
                Arg::Id => q.bind(person),
                Arg::IdText => q.bind(person.to_string()),
                Arg::Email => q.bind(email_normalized.to_owned()),
            };
            q.fetch_all(pool).await.map(|rows| {
                rows.iter()
                    .map(|r| (0..columns.len()).map(|i| cell!(r, i)).collect())
                    .collect()
            })
        })?;
        if rows.is_empty() {
            continue;
        }
        let rows = rows
            .into_iter()
            .map(|values| {
                columns
                    .iter()
                    .zip(values)
                    .map(|((column, category), value)| {
                        let hide = WITHHELD.contains(&(*table, *column)) && !value.is_null();
                        Field {
                            column: (*column).to_owned(),
                            category: category.map(str::to_owned),
                            value: if hide { serde_json::Value::Null } else { value },
                            withheld: hide,
                        }
                    })
                    .collect()
            })
            .collect();
        out.push(HeldTable {
            table: (*table).to_owned(),
            rows,
        });
    }
    Ok(out)
}
