//! Demonstration data written straight into the tables, for `extranet demo` only: no policy
//! check and no audit record (nobody is acting; the data is the demo's starting point). Every
//! function is idempotent — it finds what an earlier run made before making anything — so a demo
//! directory can be topped up when the demo data grows.

use extranet_platform::{Clock, Db, on_pool, write_tx};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::dossiers::NewDossier;
use crate::error::{DirectoryError, Result};

/// The organisation with this enterprise number (10 digits, as stored).
pub async fn organisation_by_enterprise_number(db: &Db, digits: &str) -> Result<Option<Uuid>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT id FROM organisation WHERE enterprise_number = $1")
            .bind(digits)
            .fetch_optional(pool)
            .await
    })?)
}

/// The person with this e-mail address (normalised: lower case).
pub async fn person_by_email(db: &Db, normalized: &str) -> Result<Option<Uuid>> {
    Ok(on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT id FROM person WHERE email_normalized = $1")
            .bind(normalized)
            .fetch_optional(pool)
            .await
    })?)
}

/// Personal details of a demo person; each fills the field only where it is empty.
#[derive(Debug, Clone, Default)]
pub struct PersonalDetails {
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub function: Option<String>,
    pub birth_date: Option<Date>,
    pub training_valid_until: Option<Date>,
    /// The plates of the person's vehicles, already in the form `LicencePlate` gives them;
    /// written only when the person has no vehicle yet.
    pub licence_plates: Vec<String>,
}

/// Fills the empty personal fields of a person; a value already there stays.
pub async fn fill_personal(
    db: &Db,
    clock: &dyn Clock,
    person: Uuid,
    details: &PersonalDetails,
) -> Result<()> {
    let now = clock.now();
    let res: Result<()> = write_tx!(db, |tx| async {
        sqlx::query(
            "UPDATE person SET phone = COALESCE(phone, $2), mobile = COALESCE(mobile, $3), \
             function = COALESCE(function, $4), birth_date = COALESCE(birth_date, $5), \
             training_valid_until = COALESCE(training_valid_until, $6), updated_at = $7 \
             WHERE id = $1",
        )
        .bind(person)
        .bind(&details.phone)
        .bind(&details.mobile)
        .bind(&details.function)
        .bind(details.birth_date)
        .bind(details.training_valid_until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let has: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM vehicle WHERE person_id = $1 LIMIT 1")
                .bind(person)
                .fetch_optional(&mut *tx)
                .await?;
        if has.is_none() {
            for plate in &details.licence_plates {
                sqlx::query(
                    "INSERT INTO vehicle (id, person_id, licence_plate, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(Uuid::now_v7())
                .bind(person)
                .bind(plate)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        Ok::<(), DirectoryError>(())
    }
    .await)
    .await;
    res
}

/// The organisation's dossier for this scheme, created when there is none.
pub async fn ensure_dossier(db: &Db, clock: &dyn Clock, new: &NewDossier) -> Result<Uuid> {
    let now = clock.now();
    let id: Result<Uuid> = write_tx!(db, |tx| async {
        let found: Option<Uuid> =
            sqlx::query_scalar("SELECT id FROM dossier WHERE organisation_id = $1 AND scheme = $2")
                .bind(new.organisation_id)
                .bind(&new.scheme)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = found {
            return Ok::<Uuid, DirectoryError>(id);
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO dossier (id, organisation_id, scheme, certificate_number, status, \
             valid_from, valid_until, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id)
        .bind(new.organisation_id)
        .bind(&new.scheme)
        .bind(&new.certificate_number)
        .bind(&new.status)
        .bind(new.valid_from)
        .bind(new.valid_until)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Ok(id)
    }
    .await)
    .await;
    id
}

/// An inspector's assignment to a dossier for a period, created when the inspector has none on
/// that dossier.
pub async fn ensure_assignment(
    db: &Db,
    clock: &dyn Clock,
    dossier: Uuid,
    inspector: Uuid,
    period: (OffsetDateTime, OffsetDateTime),
    created_by: Option<Uuid>,
) -> Result<Uuid> {
    let (starts, ends) = (period.0.unix_timestamp(), period.1.unix_timestamp());
    if ends <= starts {
        return Err(DirectoryError::invalid(
            "ends_at",
            "the assignment ends before it starts",
        ));
    }
    let now = clock.now();
    let id: Result<Uuid> = write_tx!(db, |tx| async {
        let found: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM assignment WHERE dossier_id = $1 AND inspector_id = $2",
        )
        .bind(dossier)
        .bind(inspector)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = found {
            return Ok::<Uuid, DirectoryError>(id);
        }
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO assignment (id, dossier_id, inspector_id, starts_at, ends_at, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(dossier)
        .bind(inspector)
        .bind(starts)
        .bind(ends)
        .bind(created_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        Ok(id)
    }
    .await)
    .await;
    id
}
