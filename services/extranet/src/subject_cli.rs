//! `extranet subject`: the exports of a person's rights (issue 17) from the command line —
//! the access report (`report`: a ZIP with `report.json`, `report.html` and copies of the
//! documents they uploaded, or the JSON or the page alone), the portability archive
//! (`portability`), and a company's hand-over (`handover`). Each writes a temporary file next
//! to the output and renames it when complete; an unknown person or organisation writes
//! nothing and exits non-zero with one line. Each export leaves its audit record (no actor:
//! the command line).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use extranet_platform::{Db, Objects};
use extranet_privacy::PrivacyError;
use extranet_privacy::subject::{self, Requester, handover, portability, report};
use uuid::Uuid;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum SubjectCommand {
    /// The access report on a person (GDPR Art. 15).
    Report(ReportArgs),
    /// What a person provided, as JSON and CSV with its JSON Schema (GDPR Art. 20).
    Portability(PortabilityArgs),
    /// A company's organisation, people, dossiers and documents, for another certification body.
    Handover(HandoverArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The person's e-mail address.
    #[arg(long)]
    pub email: String,
    /// nl, fr or en; the person's own language without it.
    #[arg(long)]
    pub lang: Option<String>,
    /// zip (report.json, report.html, documents/), json or html.
    #[arg(long, default_value = "zip")]
    pub format: String,
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct PortabilityArgs {
    /// The person's e-mail address.
    #[arg(long)]
    pub email: String,
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct HandoverArgs {
    /// The organisation's enterprise number or id.
    #[arg(long)]
    pub organisation: String,
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: PathBuf,
}

pub async fn run(config: &Config, command: SubjectCommand) -> anyhow::Result<()> {
    // Arguments are checked before anything is opened.
    if let SubjectCommand::Report(a) = &command {
        if !matches!(a.format.as_str(), "zip" | "json" | "html") {
            bail!("--format: `{}` is not one of zip, json, html", a.format);
        }
        if let Some(l) = &a.lang
            && !matches!(l.as_str(), "nl" | "fr" | "en")
        {
            bail!("--lang: `{l}` is not one of nl, fr, en");
        }
    }
    let target = config.database_target()?;
    let db = crate::startup::open_database(config, &target).await?;
    db.migrate().await.context("migrate")?;
    let out = exec(config, &db, command).await;
    db.close().await;
    out
}

async fn exec(config: &Config, db: &Db, command: SubjectCommand) -> anyhow::Result<()> {
    let who = Requester::default();
    match command {
        SubjectCommand::Report(a) => {
            let (person, own_lang) = person_by_email(db, &a.email).await?;
            let lang = a.lang.unwrap_or(own_lang);
            let objects = Objects::connect(&config.storage_options()).await?;
            let register = extranet_privacy::service::load(db, &config.privacy_settings()).await?;
            let report = report::access_report(db, &objects, &register, person, &lang, who).await?;
            let html = || -> anyhow::Result<String> {
                Ok(extranet_web::access_report::report_html(
                    &report,
                    &config.site.name,
                    &config.site.tz(),
                )?)
            };
            match a.format.as_str() {
                "json" => write_atomically(&a.output, report.to_json()?.as_bytes()),
                "html" => write_atomically(&a.output, html()?.as_bytes()),
                _ => {
                    let html = html()?;
                    let (tmp, file) = partial(&a.output)?;
                    let done = report::archive(db, &objects, &report, &html, file, who).await;
                    finish(&tmp, &a.output, done.map(|(f, _)| f))
                }
            }
        }
        SubjectCommand::Portability(a) => {
            let (person, _) = person_by_email(db, &a.email).await?;
            let objects = Objects::connect(&config.storage_options()).await?;
            let (tmp, file) = partial(&a.output)?;
            let done = portability::export(db, &objects, person, file, who).await;
            finish(&tmp, &a.output, done.map(|(f, _)| f))
        }
        SubjectCommand::Handover(a) => {
            let org = organisation(db, &a.organisation).await?;
            let objects = Objects::connect(&config.storage_options()).await?;
            let (tmp, file) = partial(&a.output)?;
            let done = handover::export(db, &objects, org, file, who).await;
            finish(&tmp, &a.output, done.map(|(f, _)| f))
        }
    }
}

async fn person_by_email(db: &Db, email: &str) -> anyhow::Result<(Uuid, String)> {
    subject::person_by_email(db, email)
        .await?
        .with_context(|| format!("--email: no person with the address {}", email.trim()))
}

async fn organisation(db: &Db, given: &str) -> anyhow::Result<Uuid> {
    let found = match Uuid::parse_str(given.trim()) {
        Ok(id) => subject::organisation_by(db, Some(id), None).await?,
        Err(_) => {
            let number: extranet_identity::types::EnterpriseNumber = given
                .parse()
                .map_err(|e| anyhow::anyhow!("--organisation: {e}"))?;
            subject::organisation_by(db, None, Some(number.digits())).await?
        }
    };
    found.with_context(|| format!("--organisation: no organisation {}", given.trim()))
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn partial(path: &Path) -> anyhow::Result<(PathBuf, BufWriter<File>)> {
    let tmp = temp_path(path);
    let file = File::create(&tmp).with_context(|| format!("{}", tmp.display()))?;
    Ok((tmp, BufWriter::new(file)))
}

/// Flushes and renames the temporary file, or removes it when the export failed.
fn finish(
    tmp: &Path,
    path: &Path,
    done: Result<BufWriter<File>, PrivacyError>,
) -> anyhow::Result<()> {
    let flushed = done.map_err(anyhow::Error::from).and_then(|w| {
        let file = w
            .into_inner()
            .map_err(|e| anyhow::anyhow!("{}", e.error()))?;
        file.sync_all()?;
        Ok(())
    });
    if let Err(e) = flushed {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    std::fs::rename(tmp, path).with_context(|| format!("{}", path.display()))
}

fn write_atomically(path: &Path, body: &[u8]) -> anyhow::Result<()> {
    let tmp = temp_path(path);
    let written = File::create(&tmp).and_then(|mut f| {
        f.write_all(body)?;
        f.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("{}", tmp.display()));
    }
    std::fs::rename(&tmp, path).with_context(|| format!("{}", path.display()))
}
