//! `extranet erase --email X [--dry-run] [--format json]`: erasure of one person from the
//! command line (until the rights-request workflow calls it): the plan, or the outcome — what
//! was erased; what was kept, where, on which ground, until when.

use std::sync::Arc;

use anyhow::bail;
use clap::Args;
use extranet_platform::{Clock, Objects, SystemClock};
use extranet_privacy::Privacy;
use extranet_privacy::erasure::{self, Erased, Ground, Kept};

use crate::config::Config;

#[derive(Debug, Args)]
pub struct EraseArgs {
    /// The person's e-mail address.
    #[arg(long)]
    pub email: String,
    /// Show what would be erased and kept; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// text or json.
    #[arg(long, default_value = "text")]
    pub format: String,
}

fn clock(config: &Config) -> Arc<dyn Clock> {
    match &config.privacy.clock_file {
        Some(file) => Arc::new(extranet_platform::FileClock { file: file.clone() }),
        None => Arc::new(SystemClock),
    }
}

pub async fn erase(config: &Config, args: EraseArgs) -> anyhow::Result<()> {
    if !matches!(args.format.as_str(), "text" | "json") {
        bail!("--format: `{}` is not one of text, json", args.format);
    }
    let db = crate::admin::open(config).await?;
    let objects = Objects::connect(&config.storage_options()).await?;
    let privacy = Privacy::new(db, objects, clock(config), config.privacy_settings())
        .await?
        .with_erasure_journal(crate::backup::journal(config)?);
    let out = carry_out(&privacy, &args).await;
    privacy.db().close().await;
    out
}

async fn carry_out(privacy: &Privacy, args: &EraseArgs) -> anyhow::Result<()> {
    let Some(person) = privacy.person_by_email(&args.email).await? else {
        bail!("no person has the e-mail address {}", args.email.trim());
    };
    let register = privacy.register();
    let now = privacy.clock().now();
    let json = args.format == "json";
    if args.dry_run {
        let plan = erasure::plan(privacy.db(), &register, person, now).await?;
        if json {
            println!("{}", serde_json::to_string_pretty(&plan)?);
        } else {
            println!(
                "erasure of person {} as of {} (dry run: nothing changed)",
                plan.person, plan.as_of
            );
            print_lists("would be erased", &plan.erase, &plan.keep);
        }
        return Ok(());
    }
    let batch = privacy.settings().erasure_batch;
    let outcome = privacy.erase(person, batch).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        println!(
            "erasure {} of person {} as of {}{}",
            outcome.erasure,
            outcome.person,
            outcome.as_of,
            if outcome.resumed { " (resumed)" } else { "" }
        );
        print_lists("erased", &outcome.erased, &outcome.kept);
    }
    Ok(())
}

fn print_lists(heading: &str, erased: &[Erased], kept: &[Kept]) {
    println!("{heading}:");
    for e in erased {
        let objects = if e.objects > 0 {
            format!(", {} object(s)", e.objects)
        } else {
            String::new()
        };
        println!(
            "  {} {}: {} row(s){objects} [{}]",
            e.action,
            e.table,
            e.rows,
            e.columns.join(", ")
        );
    }
    println!("kept:");
    if kept.is_empty() {
        println!("  nothing");
    }
    for k in kept {
        let objects = if k.objects.is_empty() {
            String::new()
        } else {
            format!(", objects {}", k.objects.join(" "))
        };
        println!(
            "  {} [{}]: {} row(s){objects}; ground: {}; until: {}",
            k.table,
            k.columns.join(", "),
            k.rows,
            ground(&k.ground),
            k.until
        );
    }
}

fn ground(g: &Ground) -> String {
    match g {
        Ground::Rule { rule, trigger } => format!("retention rule {rule} ({trigger})"),
        Ground::Hold {
            on,
            subject,
            hold: Some(h),
        } => format!("legal hold {h} on {on} {subject}"),
        Ground::Hold {
            on,
            subject,
            hold: None,
        } => format!("legal hold on {on} {subject}"),
        Ground::Activity { activity, reason } => format!("activity {activity}: {reason}"),
    }
}
