//! Delegated administration: a client company's primary contact (and staff) invite, edit and
//! deactivate the company's contacts, grant them rights never beyond their own, and hand the
//! primary-contact role over. Every change is decided on the caller as the database says now
//! ([`Caller::current`]) and committed with its audit record.

use extranet_access::{Action, Masked, PersonView, Resource, vocab};
use extranet_audit::Outcome;
use extranet_identity::admins::AdminGuard;
use extranet_identity::confirmation;
use extranet_identity::model::{NewPerson, Role};
use extranet_identity::recovery::Recovery;
use extranet_identity::revocation::{Ending, Revocations, RevokeConn, Revoked};
use extranet_identity::store::parse_phone;
use extranet_identity::types::MAX_VEHICLES;
use extranet_identity::{EmailAddress, Gender, Language, LicencePlate};
use extranet_platform::{Clock, Db, on_pool};
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::{DirectoryError, Result};

/// The record and the caller's relation to it, or 404 (recorded) when it is not theirs to see;
/// 403 (recorded) when they see it but may not perform `action` on it — and, for a change of
/// roles, rights or account state, when the person holds a role the caller could not give
/// (`policies/roles.csv`): staff do not change an administrator or the privacy coordinator.
async fn target(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    action: Action,
) -> Result<Masked<PersonView>> {
    let what = (Resource::Person, action);
    let person = caller
        .found(
            db,
            clock,
            what,
            ("person", id),
            crate::people::find(db, clock, caller, id).await?,
        )
        .await?;
    let rel = caller
        .relation()
        .of(Some(person.inner().organisation_id), Some(id), false);
    caller.permit(db, clock, what, ("person", id), rel).await?;
    if matches!(action, Action::Grant | Action::Deactivate) && id != caller.person {
        refuse_outranked(db, clock, caller, what, &person, rel).await?;
    }
    // A restricted person's record is stored, not used: nobody else changes it.
    crate::restriction::refuse_if_restricted(db, clock, caller, what, id).await?;
    Ok(person)
}

/// Nobody changes someone above them: refused (and recorded) when `person` holds a role the
/// caller could not give in relation `rel`.
pub(crate) async fn refuse_outranked(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    what: (Resource, Action),
    person: &Masked<PersonView>,
    rel: extranet_access::DomainSet,
) -> Result<()> {
    let givable = caller.grants.givable(rel);
    match person
        .inner()
        .roles
        .iter()
        .find(|r| !givable.contains_role(r))
    {
        Some(role) => Err(caller
            .deny(
                db,
                clock,
                what,
                ("person", Some(person.inner().id)),
                DirectoryError::Forbidden(format!(
                    "this person holds the role `{role}`, which you cannot give"
                )),
            )
            .await),
        None => Ok(()),
    }
}

/// Refuses (409) a change that would leave no active administrator: `tx.may_leave_admins`
/// inside the change's transaction.
macro_rules! keep_an_admin {
    ($tx:ident, $person:expr) => {
        if !$tx.may_leave_admins($person).await? {
            return Err(DirectoryError::LastAdmin);
        }
    };
}

/// A contact to invite into a company.
#[derive(Debug, Clone)]
pub struct NewContact {
    pub organisation_id: Uuid,
    pub first_name: String,
    pub surname: String,
    pub email: String,
    pub language: String,
    pub rights: Vec<String>,
}

fn name(field: &'static str, raw: &str) -> Result<String> {
    let s = raw.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(DirectoryError::invalid(
            field,
            "required, at most 100 characters",
        ));
    }
    Ok(s.to_owned())
}

/// Checks that the caller may grant every right in `rights`: a right is known, and the caller
/// holds its permission in the company themself.
async fn grantable(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    organisation: Uuid,
    subject: Uuid,
    rights: &[String],
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in rights {
        let Some((res, act)) = r.split_once('.') else {
            return Err(DirectoryError::invalid(
                "rights",
                format!("unknown right `{r}`"),
            ));
        };
        if !vocab::RIGHTS.contains(&r.as_str()) {
            return Err(DirectoryError::invalid(
                "rights",
                format!("unknown right `{r}`"),
            ));
        }
        let (Some(res), Some(act)) = (Resource::parse(res), Action::parse(act)) else {
            return Err(DirectoryError::invalid(
                "rights",
                format!("unknown right `{r}`"),
            ));
        };
        let rel = caller.relation().of(Some(organisation), None, false);
        if !caller.grants.allows(res, act, rel) {
            return Err(caller
                .deny(
                    db,
                    clock,
                    (Resource::Person, Action::Grant),
                    ("person", Some(subject)),
                    DirectoryError::Forbidden(format!(
                        "granting `{r}`, a right the caller does not hold"
                    )),
                )
                .await);
        }
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out.sort();
    Ok(out)
}

/// Invites a contact into a client company as `client_user`, with the rights given, and mails
/// the invitation.
pub async fn invite(
    db: &Db,
    clock: &dyn Clock,
    recovery: &Recovery,
    caller: &Caller,
    new: &NewContact,
) -> Result<Masked<PersonView>> {
    let org = crate::organisations::company_for(
        db,
        clock,
        caller,
        (Resource::Person, Action::Invite),
        new.organisation_id,
        "contacts are invited into client or rental companies",
    )
    .await?;
    let first_name = name("first_name", &new.first_name)?;
    let surname = name("surname", &new.surname)?;
    let email: EmailAddress = new
        .email
        .parse()
        .map_err(|_| DirectoryError::invalid("email", "not an e-mail address"))?;
    let language: Language = new
        .language
        .parse()
        .map_err(|_| DirectoryError::invalid("language", "nl, fr or en"))?;
    let rights = grantable(db, clock, caller, org.inner().id, Uuid::nil(), &new.rights).await?;
    // Before the account exists: a refused invitation leaves nothing behind.
    if let Some(wait) = recovery.invitation_wait(caller.ip).await? {
        return Err(DirectoryError::Throttled(wait));
    }
    let person = extranet_identity::store::create_person(
        db,
        clock,
        &NewPerson {
            organisation_id: org.inner().id,
            surname,
            first_name,
            email,
            phone: None,
            mobile: None,
            fax: None,
            function: None,
            gender: Gender::Unspecified,
            language,
            training_valid_until: None,
            birth_date: None,
            licence_plates: Vec::new(),
            roles: vec![Role::ClientUser],
        },
        None,
    )
    .await?;
    let entry = caller
        .entry(clock, "account.create", Outcome::Success)
        .subject("person", person.id)
        .organisation(org.inner().id)
        .detail(serde_json::json!({ "roles": ["client_user"], "rights": rights }));
    replace_rights(db, clock, caller, person.id, &rights, entry).await?;
    recovery
        .invite_by(person.id, caller.ip, Some(caller.person))
        .await?;
    crate::people::get(db, clock, caller, person.id).await
}

async fn replace_rights(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    person: Uuid,
    rights: &[String],
    entry: extranet_audit::NewEntry,
) -> Result<()> {
    let now = clock.now();
    with_audit!(db, entry, |tx| {
        sqlx::query("DELETE FROM person_right WHERE person_id = $1")
            .bind(person)
            .execute(&mut *tx)
            .await?;
        for r in rights {
            sqlx::query(
                "INSERT INTO person_right (person_id, right_name, granted_by, granted_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(person)
            .bind(r)
            .bind(caller.person)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
    })
}

/// Replaces a contact's delegated rights.
pub async fn set_rights(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    rights: &[String],
) -> Result<Masked<PersonView>> {
    let person = target(db, clock, caller, id, Action::Grant).await?;
    if id == caller.person {
        return Err(caller
            .deny(
                db,
                clock,
                (Resource::Person, Action::Grant),
                ("person", Some(id)),
                DirectoryError::invalid("id", "nobody changes their own rights"),
            )
            .await);
    }
    let org = person.inner().organisation_id;
    let rights = grantable(db, clock, caller, org, id, rights).await?;
    let before = crate::people::rights_of(db, id).await?;
    let entry = caller
        .entry(clock, "person.rights.change", Outcome::Success)
        .subject("person", id)
        .organisation(org)
        .detail(serde_json::json!({ "before": before, "after": rights }));
    replace_rights(db, clock, caller, id, &rights, entry).await?;
    crate::people::get(db, clock, caller, id).await
}

/// Replaces a person's roles (staff). A role is given only if it fits the person's organisation
/// and the caller holds it (administrators only give `admin`); the primary-contact role moves
/// only by handover.
pub async fn set_roles(
    db: &Db,
    clock: &dyn Clock,
    revocations: &Revocations,
    caller: &Caller,
    id: Uuid,
    roles: &[String],
) -> Result<Masked<PersonView>> {
    let what = (Resource::Person, Action::Grant);
    let person = target(db, clock, caller, id, Action::Grant).await?;
    let org = crate::organisations::find(db, clock, caller, person.inner().organisation_id).await?;
    let kind = org.map(|o| o.inner().kind.clone()).unwrap_or_default();
    if id == caller.person {
        return Err(caller
            .deny(
                db,
                clock,
                what,
                ("person", Some(id)),
                DirectoryError::invalid("id", "nobody changes their own roles"),
            )
            .await);
    }
    let givable = caller.grants.givable(caller.relation().of(
        Some(person.inner().organisation_id),
        Some(id),
        false,
    ));
    let mut parsed: Vec<Role> = Vec::new();
    for r in roles {
        let role = Role::parse(r)
            .map_err(|_| DirectoryError::invalid("roles", format!("unknown role `{r}`")))?;
        let fits = match role {
            Role::Admin | Role::Staff | Role::PrivacyOfficer | Role::Inspector => {
                kind == "certification_body"
            }
            Role::ClientAdmin | Role::ClientUser => kind == "client" || kind == "rental",
        };
        if !fits {
            return Err(caller
                .deny(
                    db,
                    clock,
                    what,
                    ("person", Some(id)),
                    DirectoryError::invalid(
                        "roles",
                        format!("`{r}` does not fit this organisation"),
                    ),
                )
                .await);
        }
        // A role the person has keeps (the caller could give it, or `target` refused); a new
        // one must be the caller's to give. The primary-contact role moves only by handover.
        let current = person.inner().roles.iter().any(|x| x == role.as_str());
        if !current && (!givable.contains_role(role.as_str()) || role == Role::ClientAdmin) {
            return Err(caller
                .deny(
                    db,
                    clock,
                    what,
                    ("person", Some(id)),
                    DirectoryError::Forbidden(format!("giving the role `{r}`")),
                )
                .await);
        }
        if !parsed.contains(&role) {
            parsed.push(role);
        }
    }
    if parsed.is_empty() {
        return Err(DirectoryError::invalid(
            "roles",
            "a person keeps at least one role",
        ));
    }
    // Taking the primary-contact role away also goes through a handover.
    if person.inner().roles.iter().any(|r| r == "client_admin")
        && !parsed.contains(&Role::ClientAdmin)
    {
        return Err(caller
            .deny(
                db,
                clock,
                what,
                ("person", Some(id)),
                DirectoryError::Forbidden("the primary contact changes by handover".into()),
            )
            .await);
    }
    let entry = caller
        .entry(clock, "person.roles.change", Outcome::Success)
        .subject("person", id)
        .organisation(person.inner().organisation_id)
        .detail(serde_json::json!({ "before": person.inner().roles, "after": parsed.iter().map(|r| r.as_str()).collect::<Vec<_>>() }));
    let names: Vec<&str> = parsed.iter().map(|r| r.as_str()).collect();
    let now = clock.now();
    let mut stale = Revoked::default();
    let demoted = !parsed.contains(&Role::Admin);
    let mut before: Vec<&str> = person.inner().roles.iter().map(String::as_str).collect();
    let mut after = names.clone();
    before.sort_unstable();
    after.sort_unstable();
    let changed = before != after;
    with_audit!(db, entry, |tx| {
        if demoted {
            keep_an_admin!(tx, id);
        }
        sqlx::query("DELETE FROM person_role WHERE person_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for r in &names {
            sqlx::query("INSERT INTO person_role (person_id, role) VALUES ($1, $2)")
                .bind(id)
                .bind(*r)
                .execute(&mut *tx)
                .await?;
        }
        // The person's access tokens say the old roles: they stop here; the next refresh says
        // the new ones.
        if changed {
            stale = tx.stale_tokens(id, now).await?;
        }
    })?;
    revocations.after_commit(db, clock, &stale).await;
    crate::people::get(db, clock, caller, id).await
}

/// What may be changed on a contact's record; everything else (roles, organisation, state,
/// e-mail address) has its own operation, and a body naming it is refused by the API. `None`
/// leaves a field as it is; for the optional fields an empty text clears it.
#[derive(Debug, Clone, Default)]
pub struct ContactChange {
    pub surname: Option<String>,
    pub first_name: Option<String>,
    pub phone: Option<String>,
    pub mobile: Option<String>,
    pub fax: Option<String>,
    pub function: Option<String>,
    pub language: Option<String>,
    /// `mr`, `ms` or `unspecified`.
    pub gender: Option<String>,
    /// Rental companies only: an ISO date (`YYYY-MM-DD`), empty to clear.
    pub birth_date: Option<String>,
    /// Rental companies only: an ISO date (`YYYY-MM-DD`), empty to clear.
    pub training_valid_until: Option<String>,
    /// Rental companies only: the complete list of the person's licence plates.
    pub licence_plates: Option<Vec<String>>,
}

/// Why a rental-only field is refused for someone else (the pages translate it).
pub const RENTAL_ONLY: &str =
    "only people of rental companies have a birth date, a training certificate or vehicles here";

/// The fields only people of rental companies have.
pub const RENTAL_FIELDS: [&str; 3] = ["birth_date", "training_valid_until", "licence_plates"];

impl ContactChange {
    /// The names of the fields this change sets, as the person record's fields are named.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            ("surname", self.surname.is_some()),
            ("first_name", self.first_name.is_some()),
            ("phone", self.phone.is_some()),
            ("mobile", self.mobile.is_some()),
            ("fax", self.fax.is_some()),
            ("function", self.function.is_some()),
            ("language", self.language.is_some()),
            ("gender", self.gender.is_some()),
            ("birth_date", self.birth_date.is_some()),
            ("training_valid_until", self.training_valid_until.is_some()),
            ("licence_plates", self.licence_plates.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| n)
        .collect()
    }
}

/// A date as `YYYY-MM-DD`; empty is none.
pub fn iso_date(field: &'static str, raw: &str) -> Result<Option<time::Date>> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &format)
        .map_err(|_| DirectoryError::invalid(field, "a date as YYYY-MM-DD"))?;
    if d.year() < 1900 || d.year() > 2200 {
        return Err(DirectoryError::invalid(
            field,
            "a date between 1900 and 2200",
        ));
    }
    Ok(Some(d))
}

/// The licence plates of a person's vehicles: each checked ([`LicencePlate`]), at most
/// [`MAX_VEHICLES`], none twice; blank entries are left out. Sorted, as the record shows them.
pub fn plates(raw: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for r in raw.iter().filter(|r| !r.trim().is_empty()) {
        let plate: LicencePlate = r.parse().map_err(|e: extranet_identity::types::Invalid| {
            DirectoryError::invalid("licence_plates", e.message)
        })?;
        let plate = String::from(plate);
        if out.contains(&plate) {
            return Err(DirectoryError::invalid(
                "licence_plates",
                "the same licence plate is given twice",
            ));
        }
        out.push(plate);
    }
    if out.len() > MAX_VEHICLES {
        return Err(DirectoryError::invalid(
            "licence_plates",
            format!("at most {MAX_VEHICLES} vehicles per person"),
        ));
    }
    out.sort();
    Ok(out)
}

/// The kind of an organisation (`certification_body`, `client`, `rental`), for decisions (no
/// audit record: the kind of one's own organisation is no one's personal data).
pub async fn kind_of(db: &Db, organisation: Uuid) -> Result<String> {
    let kind: Option<String> = on_pool!(db, read, |pool| {
        sqlx::query_scalar("SELECT kind FROM organisation WHERE id = $1")
            .bind(organisation)
            .fetch_optional(pool)
            .await
    })?;
    kind.ok_or(DirectoryError::NotFound)
}

/// Updates a contact (their primary contact, staff) or one's own record. Each field set must
/// be one the caller sees on this record (a field without a `view` grant cannot be set: 403,
/// recorded); the rental-only fields ([`RENTAL_FIELDS`]) only for people of rental companies
/// (422). The change, the vehicles and the audit record — naming the fields whose value changed,
/// never the values — commit together.
pub async fn update(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    change: &ContactChange,
) -> Result<Masked<PersonView>> {
    change_person(db, clock, caller, id, change, false).await
}

/// One's own record changed on the account page: as [`update`], and saving counts as confirming
/// that the data is correct (`data_confirmed_at` and `account.confirmation.confirmed` commit
/// with the change).
pub async fn update_own(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    change: &ContactChange,
) -> Result<Masked<PersonView>> {
    change_person(db, clock, caller, caller.person, change, true).await
}

async fn change_person(
    db: &Db,
    clock: &dyn Clock,
    caller: &Caller,
    id: Uuid,
    change: &ContactChange,
    confirms: bool,
) -> Result<Masked<PersonView>> {
    let person = target(db, clock, caller, id, Action::Update).await?;
    let p = person.inner();
    // A field the caller may not see, they may not set either.
    if let Some(field) = change.fields().into_iter().find(|f| !person.is_visible(f)) {
        return Err(caller
            .deny(
                db,
                clock,
                (Resource::Person, Action::Update),
                ("person", Some(id)),
                DirectoryError::FieldNotGranted(field),
            )
            .await);
    }
    let rental_fields: Vec<&str> = change
        .fields()
        .into_iter()
        .filter(|f| RENTAL_FIELDS.contains(f))
        .collect();
    if let Some(first) = rental_fields.first()
        && kind_of(db, p.organisation_id).await? != "rental"
    {
        let field = RENTAL_FIELDS
            .into_iter()
            .find(|f| f == first)
            .unwrap_or("licence_plates");
        return Err(DirectoryError::invalid(field, RENTAL_ONLY));
    }
    let surname = change
        .surname
        .as_deref()
        .map(|s| name("surname", s))
        .transpose()?
        .unwrap_or_else(|| p.surname.clone());
    let first_name = change
        .first_name
        .as_deref()
        .map(|s| name("first_name", s))
        .transpose()?
        .unwrap_or_else(|| p.first_name.clone());
    let phone_of = |field: &'static str,
                    new: &Option<String>,
                    old: &Option<String>|
     -> Result<Option<String>> {
        match new {
            Some(raw) => parse_phone(raw).map_err(|e| DirectoryError::invalid(field, e.message)),
            None => Ok(old.clone()),
        }
    };
    let phone = phone_of("phone", &change.phone, &p.phone)?;
    let mobile = phone_of("mobile", &change.mobile, &p.mobile)?;
    let fax = phone_of("fax", &change.fax, &p.fax)?;
    let function = match &change.function {
        Some(f) if f.trim().chars().count() > 100 || f.chars().any(char::is_control) => {
            return Err(DirectoryError::invalid(
                "function",
                "at most 100 characters",
            ));
        }
        Some(f) => Some(f.trim().to_owned()).filter(|f| !f.is_empty()),
        None => p.function.clone(),
    };
    let language = match &change.language {
        Some(l) => l
            .parse::<Language>()
            .map_err(|_| DirectoryError::invalid("language", "nl, fr or en"))?
            .code()
            .to_owned(),
        None => p.language.clone(),
    };
    let gender = match &change.gender {
        Some(g) => match g
            .parse::<Gender>()
            .map_err(|_| DirectoryError::invalid("gender", "mr, ms or unspecified"))?
        {
            Gender::Mr => "mr",
            Gender::Ms => "ms",
            Gender::Unspecified => "unspecified",
        }
        .to_owned(),
        None => p.gender.clone(),
    };
    let old_date = |raw: &Option<String>| -> Option<time::Date> {
        raw.as_deref()
            .and_then(|s| iso_date("date", s).ok().flatten())
    };
    let birth_date = match &change.birth_date {
        Some(raw) => {
            let d = iso_date("birth_date", raw)?;
            if d.is_some_and(|d| d > clock.now().date()) {
                return Err(DirectoryError::invalid(
                    "birth_date",
                    "a birth date is not in the future",
                ));
            }
            d
        }
        None => old_date(&p.birth_date),
    };
    let training = match &change.training_valid_until {
        Some(raw) => iso_date("training_valid_until", raw)?,
        None => old_date(&p.training_valid_until),
    };
    let vehicles = match &change.licence_plates {
        Some(raw) => plates(raw)?,
        None => p.licence_plates.clone(),
    };
    // The audit record names the fields whose value changed, never the values.
    let changed: Vec<&str> = [
        ("surname", surname != p.surname),
        ("first_name", first_name != p.first_name),
        ("phone", phone != p.phone),
        ("mobile", mobile != p.mobile),
        ("fax", fax != p.fax),
        ("function", function != p.function),
        ("language", language != p.language),
        ("gender", gender != p.gender),
        ("birth_date", birth_date != old_date(&p.birth_date)),
        (
            "training_valid_until",
            training != old_date(&p.training_valid_until),
        ),
        ("licence_plates", vehicles != p.licence_plates),
    ]
    .iter()
    .filter(|(_, c)| *c)
    .map(|(n, _)| *n)
    .collect();
    let entry = caller
        .entry(clock, "person.update", Outcome::Success)
        .subject("person", id)
        .organisation(p.organisation_id)
        .detail(serde_json::json!({ "fields": changed }));
    let now = clock.now();
    let confirmed = confirms.then(|| {
        let e = confirmation::confirmed_entry(
            now,
            id,
            p.organisation_id,
            confirmation::ConfirmedBy::Profile,
        );
        match caller.ip {
            Some(ip) => e.ip(ip),
            None => e,
        }
    });
    let vehicles_changed = vehicles != p.licence_plates;
    with_audit!(db, entry, |tx| {
        sqlx::query(
            "UPDATE person SET surname = $1, first_name = $2, phone = $3, mobile = $4, fax = $5, \
             function = $6, language = $7, gender = $8, birth_date = $9, \
             training_valid_until = $10, updated_at = $11, \
             data_confirmed_at = CASE WHEN $12 THEN $11 ELSE data_confirmed_at END WHERE id = $13",
        )
        .bind(&surname)
        .bind(&first_name)
        .bind(&phone)
        .bind(&mobile)
        .bind(&fax)
        .bind(&function)
        .bind(&language)
        .bind(&gender)
        .bind(birth_date)
        .bind(training)
        .bind(now)
        .bind(confirms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if vehicles_changed {
            let held: Vec<String> =
                sqlx::query_scalar("SELECT licence_plate FROM vehicle WHERE person_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            for gone in held.iter().filter(|h| !vehicles.contains(h)) {
                sqlx::query("DELETE FROM vehicle WHERE person_id = $1 AND licence_plate = $2")
                    .bind(id)
                    .bind(gone)
                    .execute(&mut *tx)
                    .await?;
            }
            for plate in vehicles.iter().filter(|v| !held.contains(v)) {
                sqlx::query(
                    "INSERT INTO vehicle (id, person_id, licence_plate, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(Uuid::now_v7())
                .bind(id)
                .bind(plate)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some(e) = &confirmed {
            extranet_audit::append_in(&mut *tx, e).await?;
        }
    })?;
    crate::people::get(db, clock, caller, id).await
}

/// Deactivates or reactivates a contact. Nobody deactivates themself. Deactivation ends the
/// person's sessions and voids their unused links, so an invitation not yet accepted is
/// withdrawn with it. Reactivating someone who never set a password makes them invited again.
pub async fn set_active(
    db: &Db,
    clock: &dyn Clock,
    revocations: &Revocations,
    caller: &Caller,
    id: Uuid,
    active: bool,
) -> Result<Masked<PersonView>> {
    let person = target(db, clock, caller, id, Action::Deactivate).await?;
    if id == caller.person {
        return Err(DirectoryError::invalid(
            "id",
            "you cannot deactivate your own account",
        ));
    }
    if person.inner().state == "invited" && active {
        return Err(DirectoryError::invalid(
            "state",
            "an invited person becomes active by setting a password",
        ));
    }
    let state = if active { "active" } else { "deactivated" };
    let action = if active {
        "account.reactivate"
    } else {
        "account.deactivate"
    };
    let entry = caller
        .entry(clock, action, Outcome::Success)
        .subject("person", id)
        .organisation(person.inner().organisation_id);
    let now = clock.now();
    let mut ended = Revoked::default();
    with_audit!(db, entry, |tx| {
        if !active {
            keep_an_admin!(tx, id);
        }
        // Someone who never set a password comes back as invited, not as an active account.
        sqlx::query(
            "UPDATE person SET state = CASE WHEN $1 = 'active' AND password_hash IS NULL \
             THEN 'invited' ELSE $1 END, updated_at = $2 WHERE id = $3",
        )
        .bind(state)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if !active {
            sqlx::query(
                "UPDATE one_time_token SET used_at = $1 WHERE person_id = $2 AND used_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            ended = tx
                .end_sessions(Ending::Person(id), now, "account deactivated")
                .await?;
        }
    })?;
    revocations.after_commit(db, clock, &ended).await;
    crate::people::get(db, clock, caller, id).await
}

/// Hands the primary-contact role of a company to another of its active contacts: the new one
/// gains `client_admin`, every current holder becomes `client_user`, in one transaction.
pub async fn handover(
    db: &Db,
    clock: &dyn Clock,
    revocations: &Revocations,
    caller: &Caller,
    organisation: Uuid,
    to: Uuid,
) -> Result<Masked<PersonView>> {
    let what = (Resource::Person, Action::Handover);
    let org = caller
        .found(
            db,
            clock,
            what,
            ("organisation", organisation),
            crate::organisations::find(db, clock, caller, organisation).await?,
        )
        .await?;
    let rel = caller.relation().of(Some(org.inner().id), None, false);
    caller
        .permit(
            db,
            clock,
            (Resource::Person, Action::Handover),
            ("organisation", organisation),
            rel,
        )
        .await?;
    let in_company = crate::people::find(db, clock, caller, to)
        .await?
        .filter(|p| p.inner().organisation_id == organisation);
    let person = caller
        .found(db, clock, what, ("person", to), in_company)
        .await?;
    crate::restriction::refuse_if_restricted(db, clock, caller, what, to).await?;
    if person.inner().state != "active" {
        return Err(DirectoryError::invalid(
            "person_id",
            "the new primary contact must have an active account",
        ));
    }
    let entry = caller
        .entry(clock, "person.primary_contact.handover", Outcome::Success)
        .subject("person", to)
        .organisation(organisation);
    let now = clock.now();
    let mut stale: Vec<Revoked> = Vec::new();
    with_audit!(db, entry, |tx| {
        let holders: Vec<Uuid> = sqlx::query_scalar(
            "SELECT r.person_id FROM person_role r JOIN person p ON p.id = r.person_id \
             WHERE p.organisation_id = $1 AND r.role = 'client_admin'",
        )
        .bind(organisation)
        .fetch_all(&mut *tx)
        .await?;
        for h in holders.iter().filter(|h| **h != to) {
            sqlx::query("DELETE FROM person_role WHERE person_id = $1 AND role = 'client_admin'")
                .bind(h)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO person_role (person_id, role) VALUES ($1, 'client_user') ON CONFLICT DO NOTHING")
                .bind(h)
                .execute(&mut *tx)
                .await?;
            stale.push(tx.stale_tokens(*h, now).await?);
        }
        sqlx::query("DELETE FROM person_role WHERE person_id = $1 AND role = 'client_user'")
            .bind(to)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO person_role (person_id, role) VALUES ($1, 'client_admin') ON CONFLICT DO NOTHING")
            .bind(to)
            .execute(&mut *tx)
            .await?;
        // Tokens say roles: those of everyone whose roles changed end here.
        if !holders.contains(&to) {
            stale.push(tx.stale_tokens(to, now).await?);
        }
    })?;
    for s in &stale {
        revocations.after_commit(db, clock, s).await;
    }
    crate::people::get(db, clock, caller, to).await
}
