//! `extranet audit verify [--checkpoint FILE]` and `extranet audit checkpoint [--output FILE]`:
//! the chain checked, and its head signed so that a log truncated and rewound later — which
//! the chain alone cannot tell — is caught against a checkpoint kept elsewhere.

use std::path::Path;

use anyhow::{Context, bail};
use extranet_audit::VerifyReport;
use extranet_identity::tokens::{CHECKPOINT_TYPE, KeyRing};
use extranet_platform::{Clock, Db, SystemClock};
use serde::{Deserialize, Serialize};

use crate::config::Config;

/// What a checkpoint says: the log held `seq` entries, the last with `hash`, at `at`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
    /// RFC 3339.
    pub at: String,
    /// The installation (`site.name`).
    pub iss: String,
}

/// Signs the head now, stores the checkpoint and returns its compact JWS.
pub async fn make(
    db: &Db,
    config: &Config,
    clock: &dyn Clock,
) -> anyhow::Result<(Checkpoint, String)> {
    let (seq, hash) = extranet_audit::head(db).await?;
    let now = clock.now();
    let claims = Checkpoint {
        seq,
        hash,
        at: now.format(&time::format_description::well_known::Rfc3339)?,
        iss: config.site.name.clone(),
    };
    let ring = KeyRing::load(db, clock, &config.sealer()?).await?;
    let jws = ring.sign_published(&claims, CHECKPOINT_TYPE)?;
    extranet_audit::checkpoint::store(db, claims.seq, &claims.hash, now, &jws).await?;
    Ok((claims, jws))
}

pub async fn checkpoint(config: &Config, output: Option<&Path>) -> anyhow::Result<()> {
    let db = crate::admin::open(config).await?;
    let made = make(&db, config, &SystemClock).await;
    db.close().await;
    let (claims, jws) = made?;
    if let Some(path) = output {
        std::fs::write(path, format!("{jws}\n"))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "checkpoint: {} entries, last hash {} ({})",
        claims.seq, claims.hash, claims.at
    );
    if output.is_none() {
        println!("{jws}");
    }
    Ok(())
}

pub async fn verify(config: &Config, checkpoint: Option<&Path>) -> anyhow::Result<()> {
    let db = crate::admin::open(config).await?;
    let report = check(&db, config, checkpoint).await;
    db.close().await;
    match report? {
        VerifyReport::Ok { entries, head_hash } => {
            println!("audit log intact: {entries} entries, last hash {head_hash}");
            Ok(())
        }
        VerifyReport::Broken(problem) => bail!("audit log damaged: {problem}"),
    }
}

async fn check(
    db: &Db,
    config: &Config,
    checkpoint: Option<&Path>,
) -> anyhow::Result<VerifyReport> {
    let Some(path) = checkpoint else {
        return Ok(extranet_audit::verify(db).await?);
    };
    let jws =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let ring = KeyRing::load(db, &SystemClock, &config.sealer()?).await?;
    let claims = ring
        .verify_published(jws.trim(), CHECKPOINT_TYPE)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: not a checkpoint of this installation ({e})",
                path.display()
            )
        })?;
    let c: Checkpoint = serde_json::from_value(claims)
        .with_context(|| format!("{}: not a checkpoint", path.display()))?;
    Ok(extranet_audit::verify_checkpoint(db, c.seq, &c.hash).await?)
}

/// Signs and stores a checkpoint every `audit.checkpoint_secs`, and writes it to
/// `audit.checkpoint_dir` when set; a failure is logged and tried again next time.
pub fn spawn_checkpoints(db: Db, config: Config, shutdown: tokio_util::sync::CancellationToken) {
    let every = config.audit.checkpoint_secs;
    if every == 0 {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.cancelled() => return,
            }
            match make(&db, &config, &SystemClock).await {
                Ok((c, jws)) => {
                    tracing::info!(entries = c.seq, "audit checkpoint signed");
                    if let Some(dir) = &config.audit.checkpoint_dir {
                        let path = dir.join(format!("checkpoint-{}.jws", c.seq));
                        if let Err(e) = std::fs::write(&path, format!("{jws}\n")) {
                            tracing::error!(path = %path.display(), error = %e, "audit checkpoint not written");
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "audit checkpoint failed"),
            }
        }
    });
}
