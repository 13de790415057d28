//! People as a caller may see them: scoped in SQL, masked on the way out, reads audited.

use std::sync::LazyLock;

use extranet_access::{Action, Masked, PersonView, Resource};
use extranet_audit::Outcome;
use extranet_platform::{Clock, Db, on_pool};
use sqlx::{AssertSqlSafe, FromRow};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::caller::{Caller, Scope, unix_now};
use crate::error::Result;

/// Whether a person's organisation has a dossier assigned to inspector `$3` at instant `$4`.
pub(crate) const ASSIGNED_PERSON: &str = "EXISTS (SELECT 1 FROM dossier d JOIN assignment a \
    ON a.dossier_id = d.id WHERE d.organisation_id = p.organisation_id AND a.inspector_id = $3 \
    AND a.starts_at <= $4 AND $4 < a.ends_at)";

/// The organisations whose dossiers are assigned to inspector `$3` at instant `$4`.
const ASSIGNED_ORGANISATIONS: &str = "SELECT d.organisation_id FROM dossier d JOIN assignment a \
    ON a.dossier_id = d.id WHERE a.inspector_id = $3 AND a.starts_at <= $4 AND $4 < a.ends_at";

/// Parameters: $1 all, $2 own organisation, $3 inspector, $4 now, $5 own person id — the scope —
/// then $6 one id, $7 one organisation, $8 a search pattern (already lower case, with % around).
///
/// Two shapes, chosen by the scope (never by input): every row (`$1`), or rows in the caller's
/// domains, written as an OR of indexable terms so that SQLite and PostgreSQL read the person
/// rows through their indexes instead of scanning the table (an OR with the constant `$1` in it
/// cannot use an index). Absent domains are bound as NULL and match nothing.
fn where_clause(all: bool) -> String {
    let scope = if all {
        "$1".to_owned()
    } else {
        format!(
            "NOT $1 AND (p.organisation_id = $2 OR p.id = $5 \
             OR p.organisation_id IN ({ASSIGNED_ORGANISATIONS}))"
        )
    };
    format!(
        "{scope} AND ($6 IS NULL OR p.id = $6) AND ($7 IS NULL OR p.organisation_id = $7) \
         AND ($8 IS NULL OR lower(p.surname) LIKE $8 ESCAPE '\\' \
              OR lower(p.first_name) LIKE $8 ESCAPE '\\' OR p.email_normalized LIKE $8 ESCAPE '\\')"
    )
}

fn list_sql(all: bool) -> String {
    format!(
        "SELECT p.id, p.organisation_id, p.surname, p.first_name, p.email, p.phone, p.mobile, \
         p.fax, p.function, p.gender, p.language, p.training_valid_until, p.birth_date, \
         (SELECT string_agg(v.licence_plate, ',') FROM vehicle v WHERE v.person_id = p.id) AS licence_plates, p.state, p.created_at, p.restricted_at IS NOT NULL AS restricted, {ASSIGNED_PERSON} AS via_assignment, \
         (SELECT string_agg(r.role, ',') FROM person_role r WHERE r.person_id = p.id) AS roles, \
         (SELECT string_agg(g.right_name, ',') FROM person_right g WHERE g.person_id = p.id) AS rights \
         FROM person p WHERE {} ORDER BY p.surname, p.first_name, p.id LIMIT $9 OFFSET $10",
        where_clause(all)
    )
}

/// Both statements, built once from the constant fragments above. Roles and rights come in the
/// same query (`string_agg`, which SQLite has had since 3.44 and PostgreSQL always).
static LIST_SQL: LazyLock<[String; 2]> = LazyLock::new(|| [list_sql(false), list_sql(true)]);

#[derive(FromRow)]
struct PersonRow {
    id: Uuid,
    organisation_id: Uuid,
    surname: String,
    first_name: String,
    email: String,
    phone: Option<String>,
    mobile: Option<String>,
    fax: Option<String>,
    function: Option<String>,
    gender: String,
    language: String,
    training_valid_until: Option<time::Date>,
    birth_date: Option<time::Date>,
    licence_plates: Option<String>,
    state: String,
    created_at: OffsetDateTime,
    restricted: bool,
    via_assignment: bool,
    roles: Option<String>,
    rights: Option<String>,
}

/// What to list: filters on top of the caller's scope.
#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    pub id: Option<Uuid>,
    pub organisation: Option<Uuid>,
    /// Matched against surname, first name and e-mail address — and then only against the
    /// fields the caller sees, so a search cannot reveal a masked value.
    pub search: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

pub const MAX_LIMIT: u32 = 1000;

fn pattern(search: &str) -> String {
    let mut p = String::from("%");
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

macro_rules! bind_where {
    ($q:expr, $scope:expr, $now:expr, $query:expr, $pattern:expr) => {
        $q.bind($scope.all)
            .bind($scope.organisation)
            .bind($scope.inspector)
            .bind($now)
            .bind($scope.person)
            .bind($query.id)
            .bind($query.organisation)
            .bind($pattern)
    };
}

async fn fetch(db: &Db, scope: Scope, now: i64, query: &PersonQuery) -> Result<Vec<PersonRow>> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let pattern = query
        .search
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(pattern);
    let limit = i64::from(query.limit.clamp(1, MAX_LIMIT));
    let offset = i64::from(query.offset);
    let rows: Vec<PersonRow> = on_pool!(db, read, |pool| {
        bind_where!(
            sqlx::query_as(AssertSqlSafe(LIST_SQL[usize::from(scope.all)].as_str())),
            scope,
            now,
            query,
            &pattern
        )
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows)
}

fn view(row: PersonRow) -> PersonView {
    let split = |list: &Option<String>| -> Vec<String> {
        let mut v: Vec<String> = list
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    let (roles, rights) = (split(&row.roles), split(&row.rights));
    let licence_plates = split(&row.licence_plates);
    PersonView {
        id: row.id,
        organisation_id: row.organisation_id,
        surname: row.surname,
        first_name: row.first_name,
        email: row.email,
        phone: row.phone,
        mobile: row.mobile,
        fax: row.fax,
        function: row.function,
        gender: row.gender,
        language: row.language,
        training_valid_until: row.training_valid_until.map(|d| d.to_string()),
        birth_date: row.birth_date.map(|d| d.to_string()),
        licence_plates,
        state: row.state,
        roles,
        rights,
        created_at: row.created_at.format(&Rfc3339).unwrap_or_default(),
    }
}

/// The people a caller may list (or export), masked, and the audit record of the read.
pub async fn list(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    action: Action,
    query: &PersonQuery,
) -> Result<Vec<Masked<PersonView>>> {
    let out = visible(db, clock, caller, action, query).await?;
    record_reads(db, clock, caller, action, &out).await?;
    Ok(out)
}

/// One person the caller may read, without recording a read (for decisions before a change).
pub(crate) async fn find(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<Masked<PersonView>>> {
    let query = PersonQuery {
        id: Some(id),
        limit: 1,
        ..PersonQuery::default()
    };
    Ok(visible(db, clock, caller, Action::Read, &query)
        .await?
        .pop())
}

/// The people a caller may list (or export), scoped and masked exactly as [`list`] returns them,
/// but WITHOUT recording the read in the audit log. Never answer a request with this: every read
/// of someone else's record must leave an audit record, which is what [`list`] adds. It is public
/// for benchmarks (what scoping and masking cost without the audit write) and for internal
/// decisions taken before a change.
pub async fn visible(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    action: Action,
    query: &PersonQuery,
) -> Result<Vec<Masked<PersonView>>> {
    let mut out = in_scope(
        db,
        clock,
        caller,
        caller.scope(Resource::Person, action),
        query,
    )
    .await?;
    // Exports leave a restricted person out altogether (GDPR Art. 18: stored, not used).
    if action == Action::Export {
        out.retain(|p| !p.is_restricted());
    }
    Ok(out)
}

/// The people within `scope` — the caller's scope for another resource's action (pending
/// invitations) — masked for the caller, WITHOUT recording the read (see [`visible`]).
pub(crate) async fn in_scope(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    scope: Scope,
    query: &PersonQuery,
) -> Result<Vec<Masked<PersonView>>> {
    let rows = fetch(db, scope, unix_now(clock), query).await?;
    let relation = caller.relation();
    let search = query
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let rel = relation.of(Some(row.organisation_id), Some(row.id), row.via_assignment);
        let visible = caller.grants.visible::<PersonView>(rel);
        // Restricted (GDPR Art. 18): anyone but the person sees only the id and the mark.
        let restricted = row.restricted && row.id != caller.person;
        let mut masked = Masked::new(view(row), visible);
        if restricted {
            masked = masked.restricted();
        }
        if let Some(s) = &search
            && !["surname", "first_name", "email"].iter().any(|f| {
                masked.is_visible(f)
                    && matches!(masked.cell(f), extranet_access::Cell::Value(v) if v.to_lowercase().contains(s.as_str()))
            })
        {
            continue;
        }
        out.push(masked);
    }
    Ok(out)
}

/// One person, if the caller may read them.
pub async fn get(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
) -> Result<Masked<PersonView>> {
    let query = PersonQuery {
        id: Some(id),
        limit: 1,
        ..PersonQuery::default()
    };
    let found = list(db, clock, caller, Action::Read, &query).await?.pop();
    caller
        .found(
            db,
            clock,
            (Resource::Person, Action::Read),
            ("person", id),
            found,
        )
        .await
}

/// Every read of a person's record by someone other than that person leaves an audit record
/// (one per request, naming the records read).
pub(crate) async fn record_reads(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    action: Action,
    read: &[Masked<PersonView>],
) -> Result<()> {
    let others: Vec<Uuid> = read
        .iter()
        .map(|p| p.inner().id)
        .filter(|id| *id != caller.person)
        .collect();
    if others.is_empty() {
        return Ok(());
    }
    let mut entry = caller
        .entry(
            clock,
            &format!("person.{}", action.as_str()),
            Outcome::Success,
        )
        .detail(serde_json::json!({ "people": others }));
    if let [one] = others.as_slice() {
        entry = entry.subject("person", one);
    }
    extranet_audit::append(db, &entry).await?;
    Ok(())
}

pub(crate) async fn roles_of(db: &Db, person: Uuid) -> Result<Vec<String>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT role FROM person_role WHERE person_id = $1 ORDER BY role")
            .bind(person)
            .fetch_all(pool)
            .await
    })?)
}

pub(crate) async fn rights_of(db: &Db, person: Uuid) -> Result<Vec<String>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT right_name FROM person_right WHERE person_id = $1 ORDER BY right_name",
        )
        .bind(person)
        .fetch_all(pool)
        .await
    })?)
}
