//! Administration from the command line: signing keys and accounts.

use std::io::BufRead;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use extranet_audit::{NewEntry, Outcome};
use extranet_identity::auth::Auth;
use extranet_identity::model::{AccountState, NewOrganisation, NewPerson, OrganisationKind, Role};
use extranet_identity::recovery::Recovery;
use extranet_identity::{EmailAddress, Gender, Language, password, store, tokens};
use extranet_platform::{Clock, Db, SystemClock, settings};
use uuid::Uuid;

use crate::cli::{OrgCommand, UserCommand};
use crate::config::Config;

#[derive(Debug, Args)]
pub struct CreateUser {
    /// Professional e-mail address (the sign-in name).
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub first_name: String,
    #[arg(long)]
    pub surname: String,
    /// Role, repeatable: admin, staff, privacy_officer, inspector, client_admin, client_user.
    #[arg(long = "role", required = true)]
    pub roles: Vec<String>,
    /// The organisation's id; default: the certification body (created on first use).
    #[arg(long)]
    pub organisation: Option<Uuid>,
    /// nl, fr or en.
    #[arg(long, default_value = "nl")]
    pub language: String,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

pub(crate) async fn open(config: &Config) -> anyhow::Result<Db> {
    let target = config.database_target()?;
    let db = crate::startup::open_database(config, &target).await?;
    db.migrate().await?;
    Ok(db)
}

/// Seals every signing key again under the current key-encryption key (opening those sealed
/// under `keys.previous_encryption_key`), then adds a new signing key and a new receipt key.
pub async fn rotate_keys(config: &Config) -> anyhow::Result<()> {
    let settings = config.token_settings()?;
    let db = open(config).await?;
    let resealed = tokens::reseal(&db, &SystemClock, &settings.sealer).await?;
    let kid = tokens::rotate(&db, &SystemClock, &settings).await?;
    let receipt_kid = tokens::rotate_receipt_key(&db, &SystemClock, &settings.sealer).await?;
    record(
        &db,
        NewEntry::new(SystemClock.now(), "keys.rotate", Outcome::Success)
            .subject("signing_key", &receipt_kid),
    )
    .await?;
    record(
        &db,
        NewEntry::new(SystemClock.now(), "keys.rotate", Outcome::Success)
            .subject("signing_key", &kid),
    )
    .await?;
    db.close().await;
    println!(
        "signing keys sealed under key-encryption key {} ({resealed} sealed again)",
        settings.sealer.current_id()
    );
    println!("new signing key {kid}");
    println!("new receipt key {receipt_kid} (earlier receipt keys stay published)");
    Ok(())
}

/// Prints a new random key-encryption key (base64) for `keys.encryption_key`.
pub fn new_encryption_key() -> anyhow::Result<()> {
    let (kek, text) = extranet_platform::sealed::Kek::generate()?;
    eprintln!(
        "key-encryption key {}: keep it secret, and keep a copy",
        kek.id()
    );
    println!("{}", &*text);
    Ok(())
}

/// Command-line changes are audited like any other (the actor is the operator's shell).
async fn record(db: &Db, entry: NewEntry) -> anyhow::Result<()> {
    extranet_audit::append(
        db,
        &entry.detail(serde_json::json!({ "via": "command line" })),
    )
    .await?;
    Ok(())
}

const BODY_KEY: &str = "identity.certification_body";

/// The certification body's own organisation, created from `site.name` on first use.
pub async fn certification_body(db: &Db, config: &Config) -> anyhow::Result<Uuid> {
    if let Some(id) = settings::get(db, BODY_KEY).await?
        && let Ok(id) = id.parse::<Uuid>()
    {
        return Ok(id);
    }
    let org = store::create_organisation(
        db,
        &SystemClock,
        &NewOrganisation {
            kind: OrganisationKind::CertificationBody,
            name: config.site.name.clone(),
            enterprise_number: None,
            vat_number: None,
            addresses: Vec::new(),
            phone: config.site.phone.clone(),
            fax: None,
            sector: None,
        },
    )
    .await?;
    settings::set(db, &SystemClock, BODY_KEY, &org.id.to_string()).await?;
    Ok(org.id)
}

pub async fn org(config: &Config, command: OrgCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
    let res = run_org(&db, command).await;
    db.close().await;
    res
}

async fn run_org(db: &Db, command: OrgCommand) -> anyhow::Result<()> {
    let clock = SystemClock;
    match command {
        OrgCommand::List => {
            for o in store::list_organisations(db).await? {
                let state = if o.active { "active" } else { "deactivated" };
                println!("{}\t{}\t{state}\t{}", o.id, o.kind.as_str(), o.name);
            }
        }
        OrgCommand::Create {
            kind,
            name,
            enterprise_number,
            vat_number,
        } => {
            let kind = OrganisationKind::parse(&kind).context("--kind")?;
            if kind == OrganisationKind::CertificationBody {
                bail!(
                    "--kind: the certification body exists already; create a client or rental company"
                );
            }
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 200 {
                bail!("--name: between 1 and 200 characters");
            }
            let enterprise_number = enterprise_number
                .map(|n| n.parse())
                .transpose()
                .context("--enterprise-number")?;
            let vat_number = vat_number
                .map(|n| n.parse())
                .transpose()
                .context("--vat-number")?;
            let org = store::create_organisation(
                db,
                &clock,
                &NewOrganisation {
                    kind,
                    name,
                    enterprise_number,
                    vat_number,
                    addresses: Vec::new(),
                    phone: None,
                    fax: None,
                    sector: None,
                },
            )
            .await?;
            record(
                db,
                NewEntry::new(clock.now(), "organisation.create", Outcome::Success)
                    .subject("organisation", org.id)
                    .organisation(org.id),
            )
            .await?;
            println!("{}", org.id);
        }
        OrgCommand::Deactivate { id } => {
            let ended = extranet_identity::organisations::deactivate(db, &clock, id, None)
                .await
                .map_err(|e| org_error(e, id))?;
            println!(
                "deactivated organisation {id} ({} session(s) ended)",
                ended.count()
            );
        }
        OrgCommand::Reactivate { id } => {
            extranet_identity::organisations::reactivate(db, &clock, id, None)
                .await
                .map_err(|e| org_error(e, id))?;
            println!("reactivated organisation {id}");
        }
    }
    Ok(())
}

/// "Not found" names the id the operator typed; anything else keeps its own message.
fn org_error(e: extranet_identity::IdentityError, id: Uuid) -> anyhow::Error {
    match e {
        extranet_identity::IdentityError::NotFound => {
            anyhow::anyhow!("no organisation with id {id}")
        }
        other => other.into(),
    }
}

pub async fn user(config: &Config, command: UserCommand) -> anyhow::Result<()> {
    let db = open(config).await?;
    let res = run(config, &db, command).await;
    db.close().await;
    res
}

async fn run(config: &Config, db: &Db, command: UserCommand) -> anyhow::Result<()> {
    let clock = SystemClock;
    match command {
        UserCommand::Create(args) => {
            let email: EmailAddress = args.email.parse().context("--email")?;
            let roles = args
                .roles
                .iter()
                .map(|r| Role::parse(r))
                .collect::<Result<Vec<_>, _>>()
                .context("--role")?;
            let language: Language = args.language.parse().context("--language")?;
            if args.first_name.trim().is_empty() || args.surname.trim().is_empty() {
                bail!("--first-name and --surname must not be empty");
            }
            let hash = if args.password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                let pw = line.trim_end_matches(['\r', '\n']);
                if let Err(weak) =
                    password::check_strength(pw, &[&args.first_name, &args.surname, &args.email])
                {
                    bail!("password refused: {weak:?}");
                }
                Some(password::hash(pw)?)
            } else {
                None
            };
            let organisation = match args.organisation {
                Some(id) => {
                    store::get_organisation(db, id)
                        .await
                        .context("--organisation")?
                        .id
                }
                None => certification_body(db, config).await?,
            };
            let person = store::create_person(
                db,
                &clock,
                &NewPerson {
                    organisation_id: organisation,
                    surname: args.surname.trim().to_owned(),
                    first_name: args.first_name.trim().to_owned(),
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
                    roles,
                },
                hash.as_deref(),
            )
            .await?;
            if !args.password_stdin {
                invite(config, db, person.id).await?;
            }
            record(
                db,
                NewEntry::new(clock.now(), "account.create", Outcome::Success)
                    .subject("person", person.id)
                    .organisation(person.organisation_id),
            )
            .await?;
            println!(
                "created {} ({}) {}",
                person.email,
                person.state.as_str(),
                person.id
            );
        }
        UserCommand::List => {
            for p in store::list_people(db).await? {
                let roles: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
                println!(
                    "{}\t{} {}\t{}\t{}\t{}",
                    p.email,
                    p.first_name,
                    p.surname,
                    p.organisation_id,
                    p.state.as_str(),
                    roles.join(",")
                );
            }
        }
        UserCommand::Deactivate { email } => {
            let person = store::person_by_email(db, &email)
                .await
                .context("no such account")?;
            let now = clock.now();
            let ended = extranet_identity::admins::deactivate(db, &clock, person.id, |n| {
                NewEntry::new(now, "account.deactivate", Outcome::Success)
                    .subject("person", person.id)
                    .detail(serde_json::json!({ "sessions_ended": n }))
            })
            .await?;
            println!(
                "deactivated {} ({} session(s) ended)",
                person.email,
                ended.count()
            );
        }
        UserCommand::Reactivate { email } => {
            let person = store::person_by_email(db, &email)
                .await
                .context("no such account")?;
            store::set_state(db, &clock, person.id, AccountState::Active).await?;
            record(
                db,
                NewEntry::new(clock.now(), "account.reactivate", Outcome::Success)
                    .subject("person", person.id),
            )
            .await?;
            println!("reactivated {}", person.email);
        }
    }
    Ok(())
}

/// Queues an invitation mail; the running server's sender delivers it.
async fn invite(config: &Config, db: &Db, person: Uuid) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let auth = Arc::new(
        Auth::new(
            db.clone(),
            clock.clone(),
            config.token_settings()?,
            config.session_settings(),
            config.throttle_settings(),
        )
        .await?,
    );
    let sender = Arc::new(extranet_notify::Sender::new(
        db.clone(),
        clock,
        &config.mail.from,
        &config.mail_transport(),
        std::time::Duration::from_secs(config.mail.poll_secs),
    )?);
    let base_url = match &config.server.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None => format!("https://localhost:{}", config.server.listen.port()),
    };
    let recovery = Recovery {
        auth,
        base_url,
        site_name: config.site.name.clone(),
        sender,
        limits: config.mail_limits(),
    };
    recovery.invite(person, None).await?;
    Ok(())
}
