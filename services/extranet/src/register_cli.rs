//! `extranet register export`: the record of processing activities (GDPR Art. 30) as JSON, CSV
//! or a printable HTML page, in Dutch, French or English, to a file or standard output. The
//! register is read and checked like at start-up (against the database's schema and its
//! subprocessor register, whose names the record shows); the export leaves an audit record
//! (`register.export`, via the command line).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use extranet_audit::{NewEntry, Outcome};
use extranet_platform::{Clock, SystemClock};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum RegisterCommand {
    /// Write the record of processing activities (GDPR Art. 30) in one language.
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// json, csv or html (a printable page, its stylesheet inside the file).
    #[arg(long, default_value = "json")]
    pub format: String,
    /// nl, fr or en.
    #[arg(long, default_value = "en")]
    pub lang: String,
    /// The file to write; standard output without it.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub async fn run(config: &Config, command: RegisterCommand) -> anyhow::Result<()> {
    let RegisterCommand::Export(args) = command;
    let format: &'static str = match args.format.as_str() {
        "json" => "json",
        "csv" => "csv",
        "html" => "html",
        other => anyhow::bail!("--format: `{other}` is not one of json, csv, html"),
    };
    let lang = match args.lang.as_str() {
        l @ ("nl" | "fr" | "en") => l,
        other => anyhow::bail!("--lang: `{other}` is not one of nl, fr, en"),
    };
    let target = config.database_target()?;
    let db = crate::startup::open_database(config, &target).await?;
    db.migrate().await.context("migrate")?;
    let out = export(config, &db, format, lang).await;
    db.close().await;
    let body = out?;
    match &args.output {
        Some(path) => write_file(path, &body)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(body.as_bytes())?;
            stdout.flush()?;
        }
    }
    Ok(())
}

async fn export(
    config: &Config,
    db: &extranet_platform::Db,
    format: &'static str,
    lang: &str,
) -> anyhow::Result<String> {
    let register = extranet_privacy::service::load(db, &config.privacy_settings()).await?;
    let names = extranet_privacy::service::subprocessor_names(db).await?;
    let record = extranet_privacy::export::record(&register, lang, &names)?;
    let clock = SystemClock;
    let body = match format {
        "json" => record.to_json()?,
        "csv" => record.to_csv()?,
        _ => {
            let now = clock.now();
            let generated = jiff::Timestamp::from_second(now.unix_timestamp())
                .map(|t| {
                    t.to_zoned(config.site.tz())
                        .strftime("%Y-%m-%d %H:%M %Z")
                        .to_string()
                })
                .unwrap_or_default();
            extranet_web::privacy::record_html(&record, &config.site.name, &generated)?
        }
    };
    extranet_audit::append(
        db,
        &NewEntry::new(clock.now(), "register.export", Outcome::Success)
            .subject("register", &record.register_digest)
            .detail(serde_json::json!({
                "language": lang,
                "format": format,
                "via": "command line",
            })),
    )
    .await?;
    Ok(body)
}

/// Written next to its place and renamed, so a reader never sees half a file.
fn write_file(path: &Path, body: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, body).with_context(|| format!("{}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}", path.display()))?;
    Ok(())
}
