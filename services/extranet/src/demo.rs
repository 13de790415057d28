//! `extranet demo`: embedded defaults in a data directory of its own, and demo data loaded once.

use extranet_identity::model::{NewOrganisation, NewPerson, OrganisationKind, PostalAddress, Role};
use extranet_identity::{Gender, IdentityError, Language, password, store};
use extranet_platform::{Clock, Db, settings};

use crate::cli::DemoArgs;
use crate::config::Config;

/// Bumped when the demo data grows, so an older demo directory is topped up.
const DEMO_VERSION: &str = "2";

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
    };
    config
}

pub struct Demo;

impl Demo {
    /// Loads the demo data the first time (and when a newer demo adds some); idempotent.
    pub async fn seed(&self, db: &Db, clock: &dyn Clock, config: &Config) -> anyhow::Result<()> {
        let current = settings::get(db, DEMO_KEY).await?;
        if current.as_deref() == Some(DEMO_VERSION) {
            return Ok(());
        }
        // Dossiers and documents join the demo as those features arrive.
        let body = crate::admin::certification_body(db, config).await?;
        let mut orgs = vec![body];
        for (kind, name, number, sector) in [
            (
                OrganisationKind::Client,
                "Betonbouw NV",
                "0403123486",
                "Ready-mixed concrete",
            ),
            (
                OrganisationKind::Rental,
                "Hoogwerkers Verhuur BV",
                "0876543270",
                "Aerial work platform rental",
            ),
        ] {
            let org = store::create_organisation(
                db,
                clock,
                &NewOrganisation {
                    kind,
                    name: name.into(),
                    enterprise_number: Some(number.parse()?),
                    vat_number: Some(format!("BE{number}").parse()?),
                    addresses: vec![PostalAddress {
                        street: "Industrieweg 12".into(),
                        postcode: "9000".into(),
                        city: "Gent".into(),
                        country: "BE".into(),
                    }],
                    phone: Some("+32 9 000 00 00".into()),
                    fax: None,
                    sector: Some(sector.into()),
                },
            )
            .await;
            match org {
                Ok(org) => orgs.push(org.id),
                // Already there from an earlier demo version.
                Err(IdentityError::Conflict(_)) => return self.finish(db, clock).await,
                Err(e) => return Err(e.into()),
            }
        }
        let hash = password::hash(DEMO_PASSWORD)?;
        for (email, first, last, role, org) in ACCOUNTS {
            let rental = *org == 2;
            store::create_person(
                db,
                clock,
                &NewPerson {
                    organisation_id: orgs[*org],
                    surname: (*last).into(),
                    first_name: (*first).into(),
                    email: email.parse()?,
                    phone: Some("+32 2 000 00 01".into()),
                    mobile: Some("+32 470 00 00 01".into()),
                    fax: None,
                    function: None,
                    gender: Gender::Unspecified,
                    language: Language::Nl,
                    training_valid_until: rental.then_some(time::macros::date!(2027 - 06 - 30)),
                    birth_date: rental.then_some(time::macros::date!(1985 - 03 - 14)),
                    licence_plate: if rental {
                        Some("1-ABC-123".parse()?)
                    } else {
                        None
                    },
                    roles: vec![Role::parse(role)?],
                },
                Some(&hash),
            )
            .await?;
        }
        self.finish(db, clock).await
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
        for (email, _, _, role, _) in ACCOUNTS {
            println!("    {email:<30} {role}");
        }
        println!(
            "  Stop with Ctrl+C. Data lives in the demo directory; delete it to start afresh."
        );
        println!();
    }
}
