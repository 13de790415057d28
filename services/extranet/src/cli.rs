//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "extranet",
    version,
    about = "The secured client extranet for certification bodies",
    long_about = "The secured client extranet for certification bodies: certification documents, \
                  subprocessors and data-subject rights, served over HTTPS.\n\n\
                  Configuration comes from embedded defaults, then the TOML file given with \
                  --config, then EXTRANET_* environment variables (EXTRANET_SERVER__LISTEN=… \
                  sets server.listen)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// A TOML configuration file.
    #[arg(
        long,
        short = 'c',
        global = true,
        env = "EXTRANET_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the extranet: the HTTPS listener (and the optional HTTP redirect listener).
    ///
    /// Migrates the database first unless `migrate_on_start = false`. Reloads the TLS
    /// certificate on SIGHUP or when its files change; drains requests on SIGTERM.
    Serve,
    /// Run a demonstration extranet with embedded defaults and demo data.
    ///
    /// Uses a data directory of its own (./demo-data unless --data-dir says otherwise): a SQLite
    /// database, local object storage and a generated development certificate for localhost.
    /// Demo data is loaded the first time. Prints the URL to open and how to sign in.
    Demo(DemoArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Manage the keys that sign access tokens.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage accounts from the command line (the first administrator, scripts).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage organisations: list them, deactivate or reactivate one.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// The retention schedule of the processing register: what is past its rule, and running it.
    Retention {
        #[command(subcommand)]
        command: crate::retention_cli::RetentionCommand,
    },
    /// Legal holds on people and organisations (kept past their retention rule).
    Hold {
        #[command(subcommand)]
        command: crate::retention_cli::HoldCommand,
    },
    /// Erase a person (GDPR Art. 17): every row and object about them is deleted or
    /// anonymised except what a retention rule or a legal hold keeps; prints what was erased
    /// and what was kept, where, on which ground and until when. An interrupted erasure of the
    /// same person is finished.
    Erase(crate::erasure_cli::EraseArgs),
    /// Back up the database and every object it names, with a manifest (counts, the SHA-256
    /// of every object, the audit log's head, the schema version), into backup.dir, backup.s3
    /// or --to DIR; prints the backup's name. Online: the database is copied at one instant
    /// (SQLite: VACUUM INTO; PostgreSQL: pg_dump on an exported snapshot), then the objects it
    /// names, each checked against its row. Older backups beyond backup.keep are deleted.
    Backup(crate::backup_cli::BackupArgs),
    /// Restore a backup into an empty installation (a database without tables, an empty
    /// object store); refuses any other. Verifies the backup first; afterwards every session
    /// from before the backup is ended and erasures recorded after it are carried out again.
    Restore(crate::backup_cli::RestoreArgs),
    /// The authorization policy: who may do and see what.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// The processing register: export the record of processing activities (GDPR Art. 30).
    Register {
        #[command(subcommand)]
        command: crate::register_cli::RegisterCommand,
    },
    /// A person's rights from the command line: their access report, their data for
    /// portability, or a company's hand-over.
    Subject {
        #[command(subcommand)]
        command: crate::subject_cli::SubjectCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Check the policy (`access.policy_dir`, or the built-in one): refuses, exit 1, a line that
    /// names an unknown role, domain, resource, action or field, and a model that answers any of
    /// the invariant questions wrongly (domain isolation, no subject granted by name…), each
    /// named with its question; lists the fields that no role is granted (always hidden).
    ///
    /// Then checks the processing register (`privacy.register_dir`, or the built-in one): an
    /// unknown category, basis, role or retention rule, a duration that does not parse, a column
    /// of the schema the map does not classify, a category no activity declares — and, when the
    /// configured database can be opened, a recipient not in its subprocessor register — each
    /// named with file, line and word.
    Check,
    /// Print the role × action and role × field tables that follow from the policy.
    Matrix {
        /// markdown, csv or json.
        #[arg(long, default_value = "markdown")]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// List organisations: id, kind, state, name.
    List,
    /// Create a client or rental company; prints its id.
    Create {
        /// client or rental.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        name: String,
        /// Belgian enterprise number (checked: format and modulo 97).
        #[arg(long)]
        enterprise_number: Option<String>,
        /// VAT number.
        #[arg(long)]
        vat_number: Option<String>,
    },
    /// Deactivate an organisation: none of its people can sign in or refresh from now on, and
    /// their sessions end. The certification body itself cannot be deactivated.
    Deactivate {
        /// The organisation's id (see `extranet org list`).
        id: uuid::Uuid,
    },
    /// Reactivate a deactivated organisation (its people's own accounts keep their state).
    Reactivate {
        /// The organisation's id.
        id: uuid::Uuid,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole hash chain: exits 0 and prints the number of entries and the last hash
    /// (keep it outside the database), or exits 1 naming the first edited, deleted or reordered
    /// entry. With --checkpoint FILE (from `audit checkpoint`), also that its signature holds
    /// and the log still holds the entry it recorded: a log truncated and rewound since fails,
    /// naming the first missing entry.
    Verify {
        #[arg(long)]
        checkpoint: Option<std::path::PathBuf>,
    },
    /// Sign the log's head (its number of entries and last hash) with the installation's
    /// receipt key, published at /.well-known/jwks.json, and store it; also write it where
    /// [audit] says (checkpoint_dir, checkpoint_s3); with --output, to a file too; with --mail,
    /// mail it to the privacy coordinator. Keep checkpoints outside the database: they prove
    /// what the log held.
    Checkpoint {
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        #[arg(long)]
        mail: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a new signing key; new tokens use it at once (running instances pick it up on first
    /// sight of its key id). Older public keys stay published until their last token expires.
    /// Also adds a new key for rights-request receipts; earlier receipt keys stay published, so
    /// every receipt ever issued still verifies.
    ///
    /// First seals every signing key again under the current key-encryption key: to change
    /// that key, set the new one as keys.encryption_key and the old one as
    /// keys.previous_encryption_key, run this, then remove the old one.
    Rotate,
    /// Print a new random key-encryption key (base64) for keys.encryption_key.
    NewEncryptionKey,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. Without --organisation, it belongs to the certification body itself.
    ///
    /// The password is read from standard input (one line) with --password-stdin; without it,
    /// the account is created "invited" and gets a password through an invitation link.
    Create(crate::admin::CreateUser),
    /// List accounts: e-mail, name, organisation, state, roles.
    List,
    /// Deactivate an account: sign-in and refresh are refused from now on, and its sessions end.
    Deactivate {
        /// The account's e-mail address.
        email: String,
    },
    /// Reactivate a deactivated account.
    Reactivate {
        /// The account's e-mail address.
        email: String,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where the demo keeps its database, objects and certificate.
    #[arg(long, value_name = "DIR", default_value = "demo-data")]
    pub data_dir: PathBuf,
    /// The HTTPS address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check the configuration and print the effective values (secrets redacted).
    ///
    /// Exits non-zero with the offending key when a value is invalid.
    Check,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = cli.global.config.as_deref();
    match cli.command {
        Command::Serve => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::startup::serve(config, None).await
        }
        Command::Demo(args) => {
            let mut config = Config::load(file, crate::demo::base_config(&args))?;
            crate::telemetry::init(&config.log);
            crate::demo::ensure_encryption_key(&mut config)?;
            crate::startup::serve(config, Some(crate::demo::Demo)).await
        }
        Command::Migrate => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            let target = config.database_target()?;
            let db = crate::startup::open_database(&config, &target).await?;
            db.migrate().await.context("migrate")?;
            db.close().await;
            println!("migrations applied to {}", target.redacted());
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { checkpoint },
        } => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::audit_cli::verify(&config, checkpoint.as_deref()).await
        }
        Command::Audit {
            command: AuditCommand::Checkpoint { output, mail },
        } => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::audit_cli::checkpoint(&config, output.as_deref(), mail).await
        }
        Command::Keys {
            command: KeysCommand::NewEncryptionKey,
        } => crate::admin::new_encryption_key(),
        Command::Keys {
            command: KeysCommand::Rotate,
        } => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::admin::rotate_keys(&config).await
        }
        Command::User { command } => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::admin::user(&config, command).await
        }
        Command::Org { command } => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::admin::org(&config, command).await
        }
        Command::Policy { command } => {
            let config = Config::load(file, Config::default())?;
            policy(&config, command).await
        }
        Command::Retention { command } => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::retention_cli::retention(&config, command).await
        }
        Command::Hold { command } => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::retention_cli::hold(&config, command).await
        }
        Command::Erase(args) => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::erasure_cli::erase(&config, args).await
        }
        Command::Backup(args) => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::backup_cli::backup(&config, args).await
        }
        Command::Restore(args) => {
            let config = Config::load(file, Config::default())?;
            crate::telemetry::init(&config.log);
            crate::backup_cli::restore(&config, args).await
        }
        Command::Register { command } => {
            let config = Config::load(file, Config::default())?;
            crate::register_cli::run(&config, command).await
        }
        Command::Subject { command } => {
            let config = Config::load(file, Config::default())?;
            crate::subject_cli::run(&config, command).await
        }
        Command::Config {
            command: ConfigCommand::Check,
        } => {
            let config = Config::load(file, Config::default())?;
            print!("{}", config.to_redacted_toml());
            eprintln!("configuration is valid");
            Ok(())
        }
    }
}

/// The register's files against the schema this build ships and, where the configured
/// database already exists, against its subprocessor register.
async fn check_register(config: &Config) -> anyhow::Result<()> {
    let settings = config.privacy_settings();
    let src = settings.source()?;
    let existing = match config.database_target()? {
        extranet_platform::db::DbTarget::Sqlite(path) => path.exists(),
        extranet_platform::db::DbTarget::Postgres(_) => true,
    };
    let subprocessors = if existing {
        match crate::startup::open_database(config, &config.database_target()?).await {
            Ok(db) => {
                let names = extranet_privacy::service::subprocessor_names(&db).await;
                db.close().await;
                names.ok().map(|n| n.into_keys().collect())
            }
            Err(_) => None,
        }
    } else {
        None
    };
    if subprocessors.is_none() {
        eprintln!(
            "note: no database to read the subprocessor register from: recipients not checked"
        );
    }
    let ctx = extranet_privacy::Context {
        columns: Some(extranet_platform::Db::shipped_columns().await?),
        subprocessors,
    };
    match extranet_privacy::Register::load(&src, &ctx) {
        Ok(register) => {
            eprintln!(
                "register {} is valid: {} activities, {} retention rules",
                src.origin,
                register.activities.len(),
                register.rules.len()
            );
            Ok(())
        }
        Err(extranet_privacy::PrivacyError::Register(problems)) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            anyhow::bail!(
                "{}: {} error(s) in the register",
                src.origin,
                problems.len()
            )
        }
        Err(e) => Err(e.into()),
    }
}

async fn policy(config: &Config, command: PolicyCommand) -> anyhow::Result<()> {
    let src = config.policy_source()?;
    match command {
        PolicyCommand::Check => {
            let report = extranet_access::policy::check(&src);
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            for f in &report.ungranted {
                println!("no grant: {f} (hidden from everyone)");
            }
            if !report.errors.is_empty() {
                anyhow::bail!(
                    "{}: {} error(s) in the policy",
                    src.origin,
                    report.errors.len()
                );
            }
            match extranet_access::Policy::load(&src).await {
                Ok(_) => {}
                // Every question the model answers wrongly, one line each.
                Err(extranet_access::AccessError::Invariants { origin, broken }) => {
                    for b in &broken {
                        eprintln!("error: {b}");
                    }
                    anyhow::bail!(
                        "{origin}: model.conf answers {} invariant question(s) wrongly",
                        broken.len()
                    );
                }
                Err(e) => return Err(e.into()),
            }
            eprintln!("policy {} is valid", src.origin);
            check_register(config).await
        }
        PolicyCommand::Matrix { format } => {
            let policy = extranet_access::Policy::load(&src).await?;
            match format.as_str() {
                "markdown" | "md" => print!("{}", extranet_access::matrix::markdown(&policy)),
                "csv" => print!("{}", extranet_access::matrix::csv(&policy)?),
                "json" => println!(
                    "{}",
                    serde_json::to_string_pretty(&extranet_access::matrix::json(&policy))?
                ),
                other => anyhow::bail!("--format: `{other}` is not one of markdown, csv, json"),
            }
            Ok(())
        }
    }
}
