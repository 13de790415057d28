//! `extranet audit verify [--checkpoint FILE]` and `extranet audit checkpoint [--output FILE] [--mail]`:
//! the chain checked, and its head signed so that a log truncated and rewound later — which
//! the chain alone cannot tell — is caught against a checkpoint kept elsewhere.

use std::path::Path;

use anyhow::{Context, bail};
use extranet_audit::VerifyReport;
use extranet_identity::tokens::{CHECKPOINT_TYPE, KeyRing};
use extranet_platform::{Db, SystemClock};

use crate::checkpoints::{self, Checkpoint, Mailing};
use crate::config::Config;

pub async fn checkpoint(config: &Config, output: Option<&Path>, mail: bool) -> anyhow::Result<()> {
    if mail && config.privacy.coordinator_email.is_none() {
        bail!("--mail: privacy.coordinator_email is not set");
    }
    let db = crate::admin::open(config).await?;
    let base_url = config
        .server
        .public_url
        .as_ref()
        .map(|u| u.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| crate::startup::local_url(config.server.listen));
    let mailing = if mail { Mailing::Now } else { Mailing::Never };
    let made = checkpoints::make(&db, config, &SystemClock, &base_url, mailing).await;
    db.close().await;
    let (claims, jws, exported) = made?;
    if let Some(path) = output {
        std::fs::write(path, format!("{jws}\n"))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "checkpoint: {} entries, last hash {} ({})",
        claims.seq, claims.hash, claims.at
    );
    if let Some(f) = &exported.file {
        println!("written to {}", f.display());
    }
    if let (Some(key), Some(s3)) = (&exported.object, &config.audit.checkpoint_s3) {
        println!("written to bucket {} as {key}", s3.bucket);
    }
    if let Some(to) = &exported.mailed {
        println!("mailed to {to}");
    }
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
