//! `extranet backup [verify|list]` and `extranet restore`: see [`crate::backup`].

use std::path::PathBuf;

use clap::{Args, Subcommand};
use extranet_platform::{Objects, SystemClock};

use crate::config::Config;

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    /// A directory to use instead of the configured target (backup.dir / backup.s3).
    #[arg(long, global = true, value_name = "DIR")]
    pub to: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Re-read a backup whole: the database file and every object against the SHA-256 its
    /// manifest records; a SQLite copy is opened and compared with the manifest, a PostgreSQL
    /// dump read by `pg_restore --list`. Exits 1 naming the first thing that does not match.
    Verify {
        /// The backup's name (see `backup list`); the newest complete one if left out.
        name: Option<String>,
    },
    /// The backups in the target, oldest first, and whether each is complete.
    List,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup's name (see `backup list`); the newest complete one if left out.
    pub name: Option<String>,
    /// The directory the backup is in, instead of the configured target.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
}

pub async fn backup(config: &Config, args: BackupArgs) -> anyhow::Result<()> {
    let target = crate::backup::target(config, args.to.as_deref()).await?;
    match args.command {
        None => {
            let db = crate::admin::open(config).await?;
            let objects = Objects::connect(&config.storage_options()).await?;
            let made = crate::backup::make(config, &db, &objects, &target, &SystemClock).await;
            db.close().await;
            let m = made?;
            let pruned = crate::backup::prune(&target, config.backup.keep as usize).await?;
            eprintln!(
                "backup {} made in {}: database as of {} ({} people, {} dossiers, {} document \
                 versions, audit log of {} entries), {} objects checked against their SHA-256{}",
                m.name,
                target.describe(),
                m.taken_at,
                m.inventory.counts.people,
                m.inventory.counts.dossiers,
                m.inventory.counts.document_versions,
                m.inventory.audit_entries,
                m.inventory.objects.len(),
                if pruned.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; older backups deleted (backup.keep): {}",
                        pruned.join(", ")
                    )
                }
            );
            println!("{}", m.name);
            Ok(())
        }
        Some(BackupCommand::List) => {
            for b in crate::backup::list(&target).await? {
                println!(
                    "{}\t{}",
                    b.name,
                    if b.complete { "complete" } else { "incomplete" }
                );
            }
            Ok(())
        }
        Some(BackupCommand::Verify { name }) => {
            let name = match name {
                Some(n) => n,
                None => crate::backup::list(&target)
                    .await?
                    .into_iter()
                    .rev()
                    .find(|b| b.complete)
                    .map(|b| b.name)
                    .ok_or_else(|| anyhow::anyhow!("the backup target holds no complete backup"))?,
            };
            let m = crate::backup::verify(config, &target, &name).await?;
            println!(
                "backup {} verifies: database {} ({} bytes) and {} objects match the manifest; \
                 audit log of {} entries, last hash {}",
                m.name,
                m.database.file,
                m.database.size,
                m.inventory.objects.len(),
                m.inventory.audit_entries,
                m.inventory.audit_hash
            );
            Ok(())
        }
    }
}

pub async fn restore(config: &Config, args: RestoreArgs) -> anyhow::Result<()> {
    let target = crate::backup::target(config, args.from.as_deref()).await?;
    let r = crate::backup::restore(config, &target, args.name.as_deref()).await?;
    println!(
        "restored backup {} (database as of {}): {} objects; {} sessions ended (everyone signs \
         in again); {} uploads that were in flight dropped; {} erasures made after the backup \
         carried out again. Check it with `extranet audit verify`.",
        r.name, r.taken_at, r.objects, r.sessions_ended, r.uploads_dropped, r.erasures_reapplied
    );
    Ok(())
}
