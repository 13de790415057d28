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
            let config = Config::load(file, crate::demo::base_config(&args))?;
            crate::telemetry::init(&config.log);
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
