//! `extranet retention plan|run` and `extranet hold …`: the retention schedule and legal holds
//! from the command line.

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use extranet_platform::{Clock, Objects, SystemClock};
use extranet_privacy::Privacy;
use extranet_privacy::retention::holds::Subject;
use uuid::Uuid;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Show what the next retention run would delete or anonymise, rule by rule, and what legal
    /// holds keep; changes nothing.
    Plan {
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Run the retention schedule now (an interrupted run is finished first). Prints the
    /// counts per rule; one audit record per run.
    Run,
}

#[derive(Debug, Subcommand)]
pub enum HoldCommand {
    /// Place a legal hold on a person or an organisation: the retention job keeps everything
    /// about them past its rule until the hold is lifted.
    Place {
        #[arg(
            long,
            conflicts_with = "organisation",
            required_unless_present = "organisation"
        )]
        person: Option<Uuid>,
        #[arg(long)]
        organisation: Option<Uuid>,
        /// Why (a matter, a request from an authority).
        #[arg(long)]
        reason: String,
        /// The e-mail address of the person placing it (staff or the privacy coordinator).
        #[arg(long)]
        by: String,
    },
    /// Lift a hold.
    Lift {
        hold: Uuid,
        #[arg(long)]
        by: String,
    },
    /// The holds in force.
    List,
}

/// The clock retention counts from: the wall clock, or the test clock file.
fn clock(config: &Config) -> Arc<dyn Clock> {
    match &config.privacy.clock_file {
        Some(file) => Arc::new(extranet_platform::FileClock { file: file.clone() }),
        None => Arc::new(SystemClock),
    }
}

async fn privacy(config: &Config) -> anyhow::Result<Privacy> {
    let db = crate::admin::open(config).await?;
    let objects = Objects::connect(&config.storage_options()).await?;
    Ok(Privacy::new(db, objects, clock(config), config.privacy_settings()).await?)
}

pub async fn retention(config: &Config, command: RetentionCommand) -> anyhow::Result<()> {
    let privacy = privacy(config).await?;
    let out = match command {
        RetentionCommand::Plan { format } => {
            let plan = privacy.retention_plan().await?;
            match format.as_str() {
                "json" => println!("{}", serde_json::to_string_pretty(&plan)?),
                "text" => {
                    println!("retention plan as of {}", plan.as_of);
                    println!(
                        "{:<24} {:<22} {:<10} {:<10} {:>9} {:>7} {:>7}",
                        "rule", "applies to", "after", "action", "due", "held", "kept"
                    );
                    for r in &plan.rules {
                        println!(
                            "{:<24} {:<22} {:<10} {:<10} {:>9} {:>7} {:>7}",
                            r.rule, r.applies_to, r.after, r.action, r.due, r.held, r.kept
                        );
                    }
                }
                other => bail!("--format: `{other}` is not one of text, json"),
            }
            Ok(())
        }
        RetentionCommand::Run => {
            let reports = privacy.retention_run().await?;
            for r in &reports {
                let total: u64 = r.counts.values().sum();
                println!(
                    "retention run {} as of {}{}: {total} record(s)",
                    r.run,
                    r.as_of,
                    if r.resumed { " (resumed)" } else { "" }
                );
                for (rule, n) in &r.counts {
                    println!("  {rule}: {n}");
                }
            }
            Ok(())
        }
    };
    privacy.db().close().await;
    out
}

async fn person_by_email(privacy: &Privacy, email: &str) -> anyhow::Result<Uuid> {
    privacy
        .staff_by_email(email)
        .await?
        .context("--by: no active staff member or privacy coordinator has this address")
}

pub async fn hold(config: &Config, command: HoldCommand) -> anyhow::Result<()> {
    let privacy = privacy(config).await?;
    let out = async {
        match command {
            HoldCommand::Place {
                person,
                organisation,
                reason,
                by,
            } => {
                let by = person_by_email(&privacy, &by).await?;
                let (subject, id) = match (person, organisation) {
                    (Some(p), _) => (Subject::Person, p),
                    (None, Some(o)) => (Subject::Organisation, o),
                    (None, None) => bail!("--person or --organisation"),
                };
                let hold =
                    privacy
                        .place_hold(subject, id, &reason, by)
                        .await
                        .map_err(|e| match e {
                            extranet_privacy::PrivacyError::NotFound => {
                                anyhow::anyhow!("no {} with id {id}", subject.as_str())
                            }
                            e => e.into(),
                        })?;
                println!("hold {} placed on {} {id}", hold.id, subject.as_str());
            }
            HoldCommand::Lift { hold, by } => {
                let by = person_by_email(&privacy, &by).await?;
                privacy.lift_hold(hold, by).await.map_err(|e| match e {
                    extranet_privacy::PrivacyError::NotFound => {
                        anyhow::anyhow!("no hold in force with id {hold}")
                    }
                    e => e.into(),
                })?;
                println!("hold {hold} lifted");
            }
            HoldCommand::List => {
                for h in privacy.holds().await? {
                    println!(
                        "{}\t{}\t{}\t{}",
                        h.id, h.subject_type, h.subject_id, h.reason
                    );
                }
            }
        }
        Ok(())
    }
    .await;
    privacy.db().close().await;
    out
}
