//! Organisations and people in the database (both engines, one dialect).

use extranet_platform::{Clock, Db, on_pool, write_tx};
use sqlx::FromRow;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::error::{IdentityError, Result};
use crate::model::{
    AccountState, NewOrganisation, NewPerson, Organisation, OrganisationKind, Person, Role,
};
use crate::revocation::{Ending, RevokeConn, Revoked};
use crate::types::{Gender, Language};

#[derive(FromRow)]
struct OrganisationRow {
    id: Uuid,
    kind: String,
    name: String,
    enterprise_number: Option<String>,
    vat_number: Option<String>,
    addresses: String,
    phone: Option<String>,
    fax: Option<String>,
    sector: Option<String>,
    active: bool,
}

impl OrganisationRow {
    fn into_model(self) -> Result<Organisation> {
        Ok(Organisation {
            id: self.id,
            kind: OrganisationKind::parse(&self.kind)?,
            name: self.name,
            enterprise_number: self.enterprise_number,
            vat_number: self.vat_number,
            addresses: serde_json::from_str(&self.addresses).unwrap_or_default(),
            phone: self.phone,
            fax: self.fax,
            sector: self.sector,
            active: self.active,
        })
    }
}

const ORGANISATION_COLUMNS: &str =
    "id, kind, name, enterprise_number, vat_number, addresses, phone, fax, sector, active";

pub async fn create_organisation(
    db: &Db,
    clock: &dyn Clock,
    new: &NewOrganisation,
) -> Result<Organisation> {
    let id = Uuid::now_v7();
    let now = clock.now();
    let addresses = serde_json::to_string(&new.addresses)
        .map_err(|e| IdentityError::Internal(e.to_string()))?;
    let enterprise = new
        .enterprise_number
        .as_ref()
        .map(|n| n.digits().to_owned());
    let vat = new.vat_number.as_ref().map(ToString::to_string);
    on_pool!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO organisation (id, kind, name, enterprise_number, vat_number, addresses, \
             phone, fax, sector, active, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(id)
        .bind(new.kind.as_str())
        .bind(&new.name)
        .bind(&enterprise)
        .bind(&vat)
        .bind(&addresses)
        .bind(&new.phone)
        .bind(&new.fax)
        .bind(&new.sector)
        .bind(true)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    get_organisation(db, id).await
}

pub async fn get_organisation(db: &Db, id: Uuid) -> Result<Organisation> {
    let sql = format!("SELECT {ORGANISATION_COLUMNS} FROM organisation WHERE id = $1");
    let row: Option<OrganisationRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    row.ok_or(IdentityError::NotFound)?.into_model()
}

pub async fn set_organisation_active(
    db: &Db,
    clock: &dyn Clock,
    id: Uuid,
    active: bool,
) -> Result<()> {
    let now = clock.now();
    let n = on_pool!(db, write, |pool| {
        sqlx::query("UPDATE organisation SET active = $1, updated_at = $2 WHERE id = $3")
            .bind(active)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(IdentityError::NotFound);
    }
    Ok(())
}

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
    training_valid_until: Option<Date>,
    birth_date: Option<Date>,
    state: String,
    created_at: OffsetDateTime,
}

const PERSON_COLUMNS: &str = "id, organisation_id, surname, first_name, email, phone, mobile, \
    fax, function, gender, language, training_valid_until, birth_date, state, \
    created_at";

impl PersonRow {
    fn into_model(self, roles: Vec<Role>) -> Person {
        Person {
            id: self.id,
            organisation_id: self.organisation_id,
            surname: self.surname,
            first_name: self.first_name,
            email: self.email,
            phone: self.phone,
            mobile: self.mobile,
            fax: self.fax,
            function: self.function,
            gender: self.gender.parse().unwrap_or(Gender::Unspecified),
            language: self.language.parse().unwrap_or(Language::Nl),
            training_valid_until: self.training_valid_until,
            birth_date: self.birth_date,
            state: AccountState::parse(&self.state),
            roles,
            created_at: self.created_at,
        }
    }
}

/// Creates a person with their roles; with a password hash the account is active at once,
/// without one it is invited (a password is set through the invitation link).
pub async fn create_person(
    db: &Db,
    clock: &dyn Clock,
    new: &NewPerson,
    password_hash: Option<&str>,
) -> Result<Person> {
    let id = Uuid::now_v7();
    let now = clock.now();
    let state = if password_hash.is_some() {
        AccountState::Active
    } else {
        AccountState::Invited
    };
    let plates: Vec<String> = new
        .licence_plates
        .iter()
        .cloned()
        .map(String::from)
        .collect();
    let email = new.email.as_str().to_owned();
    let normalized = new.email.normalized();
    let roles: Vec<&'static str> = new.roles.iter().map(|r| r.as_str()).collect();
    let res: std::result::Result<(), sqlx::Error> = write_tx!(db, |tx| {
        async {
            sqlx::query(
                "INSERT INTO person (id, organisation_id, surname, first_name, email, \
                 email_normalized, phone, mobile, fax, function, gender, language, \
                 training_valid_until, birth_date, state, password_hash, \
                 password_changed_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, \
                 $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18)",
            )
            .bind(id)
            .bind(new.organisation_id)
            .bind(&new.surname)
            .bind(&new.first_name)
            .bind(&email)
            .bind(&normalized)
            .bind(&new.phone)
            .bind(&new.mobile)
            .bind(&new.fax)
            .bind(&new.function)
            .bind(gender_str(new.gender))
            .bind(new.language.code())
            .bind(new.training_valid_until)
            .bind(new.birth_date)
            .bind(state.as_str())
            .bind(password_hash)
            .bind(password_hash.map(|_| now))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            for role in &roles {
                sqlx::query("INSERT INTO person_role (person_id, role) VALUES ($1, $2)")
                    .bind(id)
                    .bind(*role)
                    .execute(&mut *tx)
                    .await?;
            }
            for plate in &plates {
                sqlx::query(
                    "INSERT INTO vehicle (id, person_id, licence_plate, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(Uuid::now_v7())
                .bind(id)
                .bind(plate)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await
    })
    .await;
    res?;
    get_person(db, id).await
}

fn gender_str(g: Gender) -> &'static str {
    match g {
        Gender::Mr => "mr",
        Gender::Ms => "ms",
        Gender::Unspecified => "unspecified",
    }
}

async fn roles_of(db: &Db, person: Uuid) -> Result<Vec<Role>> {
    let names: Vec<String> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT role FROM person_role WHERE person_id = $1 ORDER BY role")
            .bind(person)
            .fetch_all(pool)
            .await
    })?;
    Ok(names.iter().filter_map(|n| Role::parse(n).ok()).collect())
}

pub async fn get_person(db: &Db, id: Uuid) -> Result<Person> {
    let sql = format!("SELECT {PERSON_COLUMNS} FROM person WHERE id = $1");
    let row: Option<PersonRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    let row = row.ok_or(IdentityError::NotFound)?;
    let roles = roles_of(db, id).await?;
    Ok(row.into_model(roles))
}

pub async fn list_people(db: &Db) -> Result<Vec<Person>> {
    let sql = format!("SELECT {PERSON_COLUMNS} FROM person ORDER BY surname, first_name, id");
    let rows: Vec<PersonRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(pool)
            .await
    })?;
    let mut people = Vec::with_capacity(rows.len());
    for row in rows {
        let roles = roles_of(db, row.id).await?;
        people.push(row.into_model(roles));
    }
    Ok(people)
}

/// What signing in needs to know about an account, found by e-mail address.
#[derive(Debug, Clone, FromRow)]
pub struct Credentials {
    pub person_id: Uuid,
    pub organisation_id: Uuid,
    pub state: String,
    pub password_hash: Option<String>,
    pub organisation_active: bool,
    pub language: String,
}

impl Credentials {
    /// Signing in and refreshing need both the account and its organisation active.
    pub fn may_sign_in(&self) -> bool {
        AccountState::parse(&self.state) == AccountState::Active && self.organisation_active
    }
}

const CREDENTIALS_SQL: &str = "SELECT p.id AS person_id, p.organisation_id, p.state, \
    p.password_hash, o.active AS organisation_active, p.language \
    FROM person p JOIN organisation o ON o.id = p.organisation_id";

pub async fn credentials_by_email(db: &Db, email: &str) -> Result<Option<Credentials>> {
    let normalized = email.trim().to_lowercase();
    let sql = format!("{CREDENTIALS_SQL} WHERE p.email_normalized = $1");
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(&normalized)
            .fetch_optional(pool)
            .await
    })?)
}

pub async fn credentials_by_id(db: &Db, person: Uuid) -> Result<Option<Credentials>> {
    let sql = format!("{CREDENTIALS_SQL} WHERE p.id = $1");
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(person)
            .fetch_optional(pool)
            .await
    })?)
}

pub async fn set_state(
    db: &Db,
    clock: &dyn Clock,
    person: Uuid,
    state: AccountState,
) -> Result<()> {
    let now = clock.now();
    let n = on_pool!(db, write, |pool| {
        sqlx::query("UPDATE person SET state = $1, updated_at = $2 WHERE id = $3")
            .bind(state.as_str())
            .bind(now)
            .bind(person)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(IdentityError::NotFound);
    }
    Ok(())
}

const SET_PASSWORD: &str = "UPDATE person SET password_hash = $1, password_changed_at = $2, \
     updated_at = $2, state = CASE WHEN state = 'invited' THEN 'active' ELSE state END WHERE id = $3";

/// Sets a new password, ends the person's sessions (all of them, or all but `keep`, the one
/// that changed it) and appends the audit record `audit` makes from the number ended — in one
/// transaction: a password is never changed with an old session left running, nor unrecorded.
/// The caller passes what ended to `Revocations::after_commit`.
pub async fn replace_password(
    db: &Db,
    clock: &dyn Clock,
    person: Uuid,
    hash: &str,
    keep: Option<Uuid>,
    audit: impl FnOnce(u64) -> extranet_audit::NewEntry,
) -> Result<Revoked> {
    let now = clock.now();
    let which = match keep {
        Some(keep) => Ending::PersonExcept(person, keep),
        None => Ending::Person(person),
    };
    write_tx!(db, |tx| async {
        let n = sqlx::query(SET_PASSWORD)
            .bind(hash)
            .bind(now)
            .bind(person)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(IdentityError::NotFound);
        }
        let ended = tx.end_sessions(which, now, "password changed").await?;
        extranet_audit::append_in(&mut *tx, &audit(ended.count())).await?;
        Ok::<Revoked, IdentityError>(ended)
    }
    .await)
    .await
}

pub async fn set_password_hash(db: &Db, clock: &dyn Clock, person: Uuid, hash: &str) -> Result<()> {
    let now = clock.now();
    let n = on_pool!(db, write, |pool| {
        sqlx::query(SET_PASSWORD)
            .bind(hash)
            .bind(now)
            .bind(person)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    if n == 0 {
        return Err(IdentityError::NotFound);
    }
    Ok(())
}

pub async fn person_by_email(db: &Db, email: &str) -> Result<Person> {
    let creds = credentials_by_email(db, email)
        .await?
        .ok_or(IdentityError::NotFound)?;
    get_person(db, creds.person_id).await
}

/// What a person may change on their own record.
#[derive(Debug, Clone, Default)]
pub struct OwnProfile {
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub fax: Option<String>,
    pub function: Option<String>,
    pub language: Language,
}

/// A phone or fax number as people write it: digits, spaces and `+ . / ( ) -`, at most 30.
pub fn parse_phone(raw: &str) -> std::result::Result<Option<String>, crate::types::Invalid> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let digits = s.chars().filter(char::is_ascii_digit).count();
    if s.len() > 30
        || digits < 6
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || " +./()-".contains(c))
    {
        return Err(crate::types::Invalid {
            code: "phone",
            message: "a phone number has digits, spaces and + . / ( ) - only, e.g. +32 2 123 45 67"
                .into(),
        });
    }
    Ok(Some(s.to_owned()))
}

/// Saves what a person may change on their own record. Saving counts as confirming that their
/// data is correct (`data_confirmed_at`, see `confirmation`); the change and the audit records
/// `audit` holds commit together.
pub async fn update_own_profile(
    db: &Db,
    clock: &dyn Clock,
    person: Uuid,
    p: &OwnProfile,
    audit: &[extranet_audit::NewEntry],
) -> Result<()> {
    let now = clock.now();
    write_tx!(db, |tx| async {
        let n = sqlx::query(
            "UPDATE person SET phone = $1, mobile = $2, fax = $3, function = $4, language = $5, \
             updated_at = $6, data_confirmed_at = $6 WHERE id = $7",
        )
        .bind(&p.phone)
        .bind(&p.mobile)
        .bind(&p.fax)
        .bind(&p.function)
        .bind(p.language.code())
        .bind(now)
        .bind(person)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(IdentityError::NotFound);
        }
        for entry in audit {
            extranet_audit::append_in(&mut *tx, entry).await?;
        }
        Ok::<(), IdentityError>(())
    }
    .await)
    .await
}

/// The person's own choice of language (the language switch while signed in), with its audit
/// record in the same transaction. Unlike a profile save, it confirms nothing else.
pub async fn set_own_language(
    db: &Db,
    clock: &dyn Clock,
    person: Uuid,
    language: Language,
    audit: &extranet_audit::NewEntry,
) -> Result<()> {
    let now = clock.now();
    write_tx!(db, |tx| async {
        let n = sqlx::query(
            "UPDATE person SET language = $1, updated_at = $2 WHERE id = $3 AND language <> $1",
        )
        .bind(language.code())
        .bind(now)
        .bind(person)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Already the profile's language: nothing changed, nothing to record.
        if n > 0 {
            extranet_audit::append_in(&mut *tx, audit).await?;
        }
        Ok::<(), IdentityError>(())
    }
    .await)
    .await
}

/// The start of the person's session before `current` (`None` when `current` is the first).
pub async fn previous_session_start(
    db: &Db,
    person: Uuid,
    current: Uuid,
) -> Result<Option<OffsetDateTime>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT s.created_at FROM auth_session s \
             JOIN auth_session c ON c.id = $2 \
             WHERE s.person_id = $1 AND s.created_at < c.created_at \
             ORDER BY s.created_at DESC LIMIT 1",
        )
        .bind(person)
        .bind(current)
        .fetch_optional(pool)
        .await
    })?)
}

/// The stored password hash of a person, for checking the current password.
pub async fn password_hash(db: &Db, person: Uuid) -> Result<Option<String>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT password_hash FROM person WHERE id = $1")
            .bind(person)
            .fetch_optional(pool)
            .await
    })?
    .flatten())
}

pub async fn list_organisations(db: &Db) -> Result<Vec<Organisation>> {
    let sql = format!("SELECT {ORGANISATION_COLUMNS} FROM organisation ORDER BY name, id");
    let rows: Vec<OrganisationRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_all(pool)
            .await
    })?;
    rows.into_iter().map(OrganisationRow::into_model).collect()
}

pub async fn people_of(db: &Db, organisation: Uuid) -> Result<Vec<Person>> {
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM person WHERE organisation_id = $1 ORDER BY surname, first_name, id"
    );
    let rows: Vec<PersonRow> = on_pool!(db, read, |pool| {
        sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(organisation)
            .fetch_all(pool)
            .await
    })?;
    let mut people = Vec::with_capacity(rows.len());
    for row in rows {
        let roles = roles_of(db, row.id).await?;
        people.push(row.into_model(roles));
    }
    Ok(people)
}
