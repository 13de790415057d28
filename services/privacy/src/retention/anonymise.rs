//! Anonymising people: the rule's fields erased or replaced, and what only serves to sign in
//! as them (sessions, links, second factors, recovery codes) deleted. Done once per person
//! (`anonymised_at`).

use extranet_platform::{Db, write_tx};
use sqlx::AssertSqlSafe;

use super::targets::{Key, Progress, placeholders};
use crate::error::{PrivacyError, Result};

/// Tables holding what lets someone act as the person, deleted with the anonymisation.
const SIGN_IN: &[&str] = &[
    "DELETE FROM refresh_token WHERE session_id IN \
       (SELECT id FROM auth_session WHERE person_id IN ({list}))",
    "DELETE FROM auth_session WHERE person_id IN ({list})",
    "DELETE FROM one_time_token WHERE person_id IN ({list})",
    "DELETE FROM sign_in_challenge WHERE person_id IN ({list})",
    "DELETE FROM second_factor WHERE person_id IN ({list})",
    "DELETE FROM recovery_code WHERE person_id IN ({list})",
    "DELETE FROM subprocessor_subscription WHERE person_id IN ({list})",
];

/// The erasable "field" that is a table of its own.
const VEHICLES: &str = "licence_plates";

/// The statements that anonymise people under a rule: the person's update (binds: `$1` the
/// id, `$2` the instant, then each replaced value with `{id}` filled in) and the deletes of
/// what lets someone act as them (binds: the ids). Shared with the erasure of one person.
pub(crate) struct Statements {
    pub update: String,
    pub deletes: Vec<String>,
}

pub(crate) fn statements(erase: &[String], replace: &[(String, String)], ids: usize) -> Statements {
    // Field names come from the checked register (each one of the target's known columns),
    // never from a request.
    let mut sets: Vec<String> = erase
        .iter()
        .filter(|f| f.as_str() != VEHICLES)
        .map(|f| format!("{f} = NULL"))
        .collect();
    for (i, (field, _)) in replace.iter().enumerate() {
        sets.push(format!("{field} = ${}", i + 3));
        if field == "email" {
            sets.push(format!("email_normalized = LOWER(${})", i + 3));
        }
    }
    sets.push("anonymised_at = $2".into());
    let update = format!(
        "UPDATE person SET {} WHERE id = $1 AND anonymised_at IS NULL",
        sets.join(", ")
    );
    let list = placeholders(1, ids);
    let mut deletes: Vec<String> = SIGN_IN.iter().map(|s| s.replace("{list}", &list)).collect();
    if erase.iter().any(|f| f == VEHICLES) {
        deletes.push(format!("DELETE FROM vehicle WHERE person_id IN ({list})"));
    }
    Statements { update, deletes }
}

pub(crate) async fn people(
    db: &Db,
    keys: &[Key],
    erase: &[String],
    replace: &[(String, String)],
    as_of: i64,
    progress: &Progress<'_>,
) -> Result<u64> {
    let ids: Vec<uuid::Uuid> = keys
        .iter()
        .filter_map(|k| match k {
            Key::Id(u) => Some(*u),
            Key::Text(_) => None,
        })
        .collect();
    let Statements { update, deletes } = statements(erase, replace, ids.len());
    let done: std::result::Result<u64, PrivacyError> = write_tx!(db, |tx| async {
        let mut n = 0;
        for id in &ids {
            let idtext = id.hyphenated().to_string();
            let mut q = sqlx::query(AssertSqlSafe(update.clone()))
                .bind(*id)
                .bind(as_of);
            for (_, value) in replace {
                q = q.bind(value.replace("{id}", &idtext));
            }
            n += q.execute(&mut *tx).await?.rows_affected();
        }
        for sql in &deletes {
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for id in &ids {
                q = q.bind(*id);
            }
            q.execute(&mut *tx).await?;
        }
        progress.record_in(&mut *tx, n).await?;
        Ok::<u64, PrivacyError>(n)
    }
    .await)
    .await;
    done
}
