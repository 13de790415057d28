//! `extranet demo`: embedded defaults in a data directory of its own, and demo data loaded once.

use std::collections::HashMap;

use anyhow::Context;
use extranet_directory::dossiers::NewDossier;
use extranet_directory::seed;
use extranet_identity::model::{NewOrganisation, NewPerson, OrganisationKind, PostalAddress, Role};
use extranet_identity::{
    EmailAddress, EnterpriseNumber, Gender, Language, LicencePlate, password, store,
};
use extranet_platform::{Clock, Db, Objects, settings};
use time::macros::date;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::cli::DemoArgs;
use crate::config::Config;

/// Bumped when the demo data grows, so an older demo directory is topped up.
const DEMO_VERSION: &str = "6";

/// The one password of every demo account (printed at start-up; demo data only).
pub const DEMO_PASSWORD: &str = "demo-Extranet-2026!";

/// One account per role: (e-mail, first name, surname, role, organisation index).
const ACCOUNTS: &[(&str, &str, &str, &str, usize)] = &[
    ("admin@certibel.example", "Ada", "Beheer", "admin", 0),
    ("staff@certibel.example", "Sofie", "Peeters", "staff", 0),
    (
        "privacy@certibel.example",
        "Pierre",
        "Dubois",
        "privacy_officer",
        0,
    ),
    (
        "inspector@certibel.example",
        "Ines",
        "Janssens",
        "inspector",
        0,
    ),
    (
        "admin@betonbouw.example",
        "Bart",
        "Claes",
        "client_admin",
        1,
    ),
    (
        "user@betonbouw.example",
        "Emma",
        "Willems",
        "client_user",
        1,
    ),
    (
        "admin@hoogwerkers.example",
        "Luc",
        "Maes",
        "client_admin",
        2,
    ),
    (
        "user@hoogwerkers.example",
        "Nora",
        "Lambert",
        "client_user",
        2,
    ),
];
const DEMO_KEY: &str = "demo.version";

/// The defaults of a demo: its own data directory, a fictitious certification body.
pub fn base_config(args: &DemoArgs) -> Config {
    let mut config = Config {
        data_dir: args.data_dir.clone(),
        ..Config::default()
    };
    config.server.listen = args.listen;
    config.site = extranet_web::Site {
        name: "CertiBel (demo)".into(),
        address: vec![
            "Kunstlaan 1 / Avenue des Arts 1".into(),
            "1000 Brussel / Bruxelles".into(),
            "België / Belgique".into(),
        ],
        phone: Some("+32 2 000 00 00".into()),
        email: Some("extranet@certibel.example".into()),
        website: Some("https://certibel.example".into()),
        enterprise_number: Some("BE 0123.456.749".into()),
        default_language: extranet_web::Lang::Nl,
        time_zone: "Europe/Brussels".into(),
    };
    config
}

pub struct Demo;

/// The file a demo keeps its generated key-encryption key in.
pub const ENCRYPTION_KEY_FILE: &str = "encryption.key";

/// A demo needs no configured key-encryption key: one is generated into its data directory
/// (0600) the first time, and used from there afterwards. A configured one wins.
pub fn ensure_encryption_key(config: &mut Config) -> anyhow::Result<()> {
    let k = &config.keys;
    if k.encryption_key.is_some() || k.encryption_key_file.is_some() {
        return Ok(());
    }
    let path = config.data_dir.join(ENCRYPTION_KEY_FILE);
    if !path.exists() {
        let (kek, text) = extranet_platform::sealed::Kek::generate()?;
        crate::data_dir::write_private(&path, text.as_bytes(), true)?;
        tracing::info!(file = %path.display(), kek = kek.id(), "demo key-encryption key generated");
    }
    config.keys.encryption_key_file = Some(path);
    Ok(())
}

/// A role as people call it (the start-up banner speaks English, as the logs do).
fn role_in_words(role: &str) -> &'static str {
    match role {
        "admin" => "administrator",
        "staff" => "staff member",
        "privacy_officer" => "privacy coordinator",
        "inspector" => "inspector",
        "client_admin" => "primary contact",
        "client_user" => "contact person",
        _ => "other role",
    }
}

/// The demo's two companies: (kind, name, enterprise number, sector, street, postcode, city).
const COMPANIES: [(OrganisationKind, &str, &str, &str, &str, &str, &str); 2] = [
    (
        OrganisationKind::Client,
        "Betonbouw NV",
        "0403123486",
        "Ready-mixed concrete",
        "Industrieweg 12",
        "9000",
        "Gent",
    ),
    (
        OrganisationKind::Rental,
        "Hoogwerkers Verhuur BV",
        "0876543270",
        "Aerial work platform rental",
        "Industrieweg 12",
        "9000",
        "Gent",
    ),
];

/// Personal details of the demo accounts, so that masking shows: (e-mail, phone, mobile,
/// function, birth date). The rental company's people also get a licence plate and an operator
/// training date (see [`PLATES`]).
const DETAILS: &[(&str, &str, &str, &str, Date)] = &[
    (
        "admin@certibel.example",
        "+32 2 000 00 01",
        "+32 470 10 20 01",
        "System administrator",
        date!(1979 - 05 - 21),
    ),
    (
        "staff@certibel.example",
        "+32 2 000 00 02",
        "+32 470 10 20 02",
        "Certification officer",
        date!(1988 - 11 - 03),
    ),
    (
        "privacy@certibel.example",
        "+32 2 000 00 03",
        "+32 470 10 20 03",
        "Data protection officer",
        date!(1975 - 02 - 14),
    ),
    (
        "inspector@certibel.example",
        "+32 2 000 00 04",
        "+32 470 10 20 04",
        "Lead inspector",
        date!(1983 - 09 - 30),
    ),
    (
        "admin@betonbouw.example",
        "+32 9 210 45 10",
        "+32 476 31 22 10",
        "Quality manager",
        date!(1971 - 07 - 08),
    ),
    (
        "user@betonbouw.example",
        "+32 9 210 45 11",
        "+32 476 31 22 11",
        "Plant laboratory technician",
        date!(1994 - 01 - 17),
    ),
    (
        "admin@hoogwerkers.example",
        "+32 9 540 12 20",
        "+32 478 55 61 20",
        "Fleet manager",
        date!(1985 - 03 - 14),
    ),
    (
        "user@hoogwerkers.example",
        "+32 9 540 12 21",
        "+32 478 55 61 21",
        "Platform operator and trainer",
        date!(1990 - 12 - 02),
    ),
];

/// The rental company's people drive the platforms to the sites: (e-mail, licence plates of
/// their vehicles, operator training valid until).
const PLATES: &[(&str, &[&str], Date)] = &[
    (
        "admin@hoogwerkers.example",
        &["1-HWV-204", "1-HWV-205"],
        date!(2027 - 06 - 30),
    ),
    (
        "user@hoogwerkers.example",
        &["2-KTR-781"],
        date!(2027 - 03 - 31),
    ),
];

/// A dossier's validity: (years from this year, month, day) from and until.
type Validity = Option<((i32, u8, u8), (i32, u8, u8))>;

/// The demo's certification dossiers: (company index in [`COMPANIES`], scheme, certificate
/// number, status, validity).
const DOSSIERS: [(usize, &str, Option<&str>, &str, Validity); 5] = [
    (
        0,
        "BENOR – ready-mixed concrete (PTV 100, NBN EN 206)",
        Some("BENOR-BC-0412"),
        "active",
        Some(((-2, 3, 1), (1, 2, 28))),
    ),
    (
        0,
        "CE marking – precast concrete products (EN 13369, AVCP 2+)",
        Some("1634-CPR-0871"),
        "active",
        Some(((-2, 9, 15), (1, 9, 14))),
    ),
    (
        0,
        "ISO 9001:2015 – quality management system",
        None,
        "application",
        None,
    ),
    (
        1,
        "ISO 9001:2015 – quality management system",
        Some("QMS-2217-HWV"),
        "active",
        Some(((-1, 6, 1), (2, 5, 31))),
    ),
    (
        1,
        "VCA* – safety, health and environment checklist for contractors",
        Some("VCA-0098-HWV"),
        "expired",
        Some(((-4, 4, 1), (-1, 3, 31))),
    ),
];

/// A date in the year `years` from today's.
fn on(today: Date, (years, month, day): (i32, u8, u8)) -> anyhow::Result<Date> {
    let month = time::Month::try_from(month)?;
    Ok(Date::from_calendar_date(today.year() + years, month, day)?)
}

/// A day at an hour, UTC.
fn at(day: Date, hour: u8) -> anyhow::Result<OffsetDateTime> {
    Ok(day.with_hms(hour, 0, 0)?.assume_utc())
}

fn days(day: Date, n: i64) -> anyhow::Result<Date> {
    day.checked_add(time::Duration::days(n))
        .context("date out of range")
}

/// The demo's documents: (dossier index in [`DOSSIERS`], title, type, file name, uploader).
const DOCUMENTS: &[(usize, &str, &str, &str, &str)] = &[
    (
        0,
        "FPC records 2026 Q3",
        "production_control",
        "fpc-2026-q3.pdf",
        "admin@betonbouw.example",
    ),
    (
        0,
        "Compressive strength test report C30/37",
        "test_report",
        "test-report-c30-37.pdf",
        "user@betonbouw.example",
    ),
    (
        0,
        "BENOR certificate",
        "certificate",
        "benor-certificate.pdf",
        "staff@certibel.example",
    ),
    (
        0,
        "Inspection report, initial visit",
        "inspection_report",
        "inspection-initial.pdf",
        "inspector@certibel.example",
    ),
    (
        1,
        "CE declaration of performance",
        "certificate",
        "dop-ce.pdf",
        "admin@betonbouw.example",
    ),
];

impl Demo {
    /// Loads the demo data the first time, and tops it up when a newer demo adds some;
    /// idempotent: whatever an earlier run made is found, not made twice.
    pub async fn seed(
        &self,
        db: &Db,
        objects: &Objects,
        clock: &dyn Clock,
        config: &Config,
    ) -> anyhow::Result<()> {
        let current = settings::get(db, DEMO_KEY).await?;
        if current.as_deref() == Some(DEMO_VERSION) {
            return Ok(());
        }
        let body = crate::admin::certification_body(db, config).await?;
        let mut orgs = vec![body];
        for (kind, name, number, sector, street, postcode, city) in COMPANIES {
            let number: EnterpriseNumber = number.parse()?;
            if let Some(id) = seed::organisation_by_enterprise_number(db, number.digits()).await? {
                // Already there from an earlier demo version.
                orgs.push(id);
                continue;
            }
            let org = store::create_organisation(
                db,
                clock,
                &NewOrganisation {
                    kind,
                    name: name.into(),
                    vat_number: Some(format!("BE{}", number.digits()).parse()?),
                    enterprise_number: Some(number),
                    addresses: vec![PostalAddress {
                        street: street.into(),
                        postcode: postcode.into(),
                        city: city.into(),
                        country: "BE".into(),
                    }],
                    phone: Some("+32 9 000 00 00".into()),
                    fax: None,
                    sector: Some(sector.into()),
                },
            )
            .await?;
            orgs.push(org.id);
        }
        let hash = password::hash(DEMO_PASSWORD)?;
        let mut people = HashMap::new();
        for (email, first, last, role, org) in ACCOUNTS {
            let address: EmailAddress = email.parse()?;
            let id = match seed::person_by_email(db, &address.normalized()).await? {
                Some(id) => id,
                None => {
                    store::create_person(
                        db,
                        clock,
                        &NewPerson {
                            organisation_id: orgs[*org],
                            surname: (*last).into(),
                            first_name: (*first).into(),
                            email: address,
                            phone: None,
                            mobile: None,
                            fax: None,
                            function: None,
                            gender: Gender::Unspecified,
                            language: Language::Nl,
                            training_valid_until: None,
                            birth_date: None,
                            licence_plates: Vec::new(),
                            roles: vec![Role::parse(role)?],
                        },
                        Some(&hash),
                    )
                    .await?
                    .id
                }
            };
            people.insert(*email, id);
        }
        for (email, phone, mobile, function, birth_date) in DETAILS {
            let Some(id) = people.get(email) else {
                continue;
            };
            let plate = PLATES.iter().find(|(e, _, _)| e == email);
            let mut licence_plates = Vec::new();
            for p in plate.map(|(_, p, _)| *p).unwrap_or_default() {
                licence_plates.push(String::from(p.parse::<LicencePlate>()?));
            }
            seed::fill_personal(
                db,
                clock,
                *id,
                &seed::PersonalDetails {
                    phone: Some((*phone).into()),
                    mobile: Some((*mobile).into()),
                    function: Some((*function).into()),
                    birth_date: Some(*birth_date),
                    training_valid_until: plate.map(|(_, _, d)| *d),
                    licence_plates,
                },
            )
            .await?;
        }
        let dossiers = self.dossiers(db, clock, &orgs, &people).await?;
        self.documents(db, objects, clock, &dossiers, &people)
            .await?;
        let person = |email: &str| people.get(email).copied().context("demo person");
        extranet_subprocessors::seed::demo(
            db,
            clock,
            person("privacy@certibel.example")?,
            &extranet_subprocessors::seed::Objectors {
                first: (orgs[1], person("admin@betonbouw.example")?),
                second: (orgs[2], person("admin@hoogwerkers.example")?),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo subprocessors: {e}"))?;
        self.finish(db, clock).await
    }

    /// The companies' certification dossiers, and the demo inspector's assignments: one in force
    /// (from three weeks ago until five weeks from now), one that ended last month, and one on
    /// the other company's dossier, planned four weeks from now.
    async fn dossiers(
        &self,
        db: &Db,
        clock: &dyn Clock,
        orgs: &[Uuid],
        people: &HashMap<&str, Uuid>,
    ) -> anyhow::Result<Vec<Uuid>> {
        let today = clock.now().date();
        let mut ids = Vec::new();
        for (company, scheme, certificate, status, validity) in DOSSIERS {
            let (valid_from, valid_until) = match validity {
                Some((from, until)) => (Some(on(today, from)?), Some(on(today, until)?)),
                None => (None, None),
            };
            let organisation_id = *orgs.get(company + 1).context("demo company")?;
            let id = seed::ensure_dossier(
                db,
                clock,
                &NewDossier {
                    organisation_id,
                    scheme: scheme.into(),
                    certificate_number: certificate.map(Into::into),
                    status: status.into(),
                    valid_from,
                    valid_until,
                },
            )
            .await?;
            ids.push(id);
        }
        let inspector = *people
            .get("inspector@certibel.example")
            .context("demo inspector")?;
        let staff = people.get("staff@certibel.example").copied();
        // Last month: ten days before the first of this month.
        let ended = days(today.replace_day(1)?, -10)?;
        let planned = days(today, 28)?;
        let dossier = |i: usize| ids.get(i).copied().context("demo dossier");
        for (dossier, period) in [
            // BENOR, Betonbouw: in force.
            (
                dossier(0)?,
                (at(days(today, -21)?, 8)?, at(days(today, 35)?, 18)?),
            ),
            // CE marking, Betonbouw: ended last month.
            (dossier(1)?, (at(days(ended, -45)?, 8)?, at(ended, 18)?)),
            // ISO 9001, Hoogwerkers: planned.
            (dossier(3)?, (at(planned, 8)?, at(days(planned, 14)?, 18)?)),
        ] {
            seed::ensure_assignment(db, clock, dossier, inspector, period, staff).await?;
        }
        Ok(ids)
    }

    /// A few generated PDFs in the companies' dossiers, uploaded by their contacts, staff and
    /// the inspector.
    async fn documents(
        &self,
        db: &Db,
        objects: &Objects,
        clock: &dyn Clock,
        dossiers: &[Uuid],
        people: &HashMap<&str, Uuid>,
    ) -> anyhow::Result<()> {
        let person = |email: &str| people.get(email).copied().context("demo person");
        for (dossier, title, doc_type, file, uploader) in DOCUMENTS {
            let dossier = *dossiers.get(*dossier).context("demo dossier")?;
            let pdf = extranet_documents::seed::pdf(&[
                title,
                "",
                "Demo document generated by `extranet demo`.",
            ]);
            extranet_documents::seed::ensure_document(
                db,
                objects,
                clock,
                dossier,
                (title, doc_type, file),
                person(uploader)?,
                pdf,
            )
            .await?;
        }
        Ok(())
    }

    async fn finish(&self, db: &Db, clock: &dyn Clock) -> anyhow::Result<()> {
        settings::set(db, clock, DEMO_KEY, DEMO_VERSION).await?;
        tracing::info!(version = DEMO_VERSION, "demo data loaded");
        Ok(())
    }

    pub fn print_welcome(&self, url: &str) {
        println!();
        println!("  Extranet demo is running: {url}");
        println!(
            "  The certificate is self-signed for localhost: your browser will ask you to accept it."
        );
        println!("  Sign in at {url}login with password {DEMO_PASSWORD} and one of:");
        for (email, first, surname, role, org) in ACCOUNTS {
            let company = org
                .checked_sub(1)
                .and_then(|i| COMPANIES.get(i))
                .map_or("the certification body", |c| c.1);
            println!(
                "    {email:<30} {first} {surname}, {} — {company}",
                role_in_words(role)
            );
        }
        println!(
            "  The certification body's people (administrator, staff, privacy coordinator, inspector) also need a\n  \
             second factor: at their first sign-in they set one up by scanning a QR code with an\n  \
             authenticator app (FreeOTP, Aegis, Google or Microsoft Authenticator…). Client accounts\n  \
             can turn one on from their account page."
        );
        println!(
            "  Stop with Ctrl+C. Data lives in the demo directory; delete it to start afresh."
        );
        println!();
    }
}
