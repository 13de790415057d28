//! Signed checkpoints of the audit log, made and sent out of the database's reach: the log's
//! head (entries, last hash) signed with the installation's receipt key, stored, and exported
//! to what `[audit]` configures — a directory, a bucket of its own (with object lock), and
//! once a period an e-mail to the privacy coordinator. A log truncated and rewound later, which
//! the chain alone cannot tell, fails `extranet audit verify --checkpoint` against any copy.

use bytes::Bytes;
use extranet_identity::tokens::{CHECKPOINT_TYPE, KeyRing};
use extranet_notify::outbox::{self, Mail};
use extranet_platform::objects::StorageOptions;
use extranet_platform::{Clock, Db, Objects, SystemClock};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

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

/// Where a checkpoint went.
#[derive(Debug, Default)]
pub struct Exported {
    pub file: Option<std::path::PathBuf>,
    /// The object's key in `audit.checkpoint_s3`.
    pub object: Option<String>,
    /// The coordinator's address, when a mail was queued.
    pub mailed: Option<String>,
}

/// When to mail the coordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailing {
    /// Now (`extranet audit checkpoint --mail`).
    Now,
    /// If this checkpoint is the first of its period (`audit.checkpoint_mail_secs`).
    OncePerPeriod,
    Never,
}

/// Signs the head now, stores the checkpoint, exports it, and returns it with its compact JWS.
pub async fn make(
    db: &Db,
    config: &Config,
    clock: &dyn Clock,
    base_url: &str,
    mailing: Mailing,
) -> anyhow::Result<(Checkpoint, String, Exported)> {
    let (seq, hash) = extranet_audit::head(db).await?;
    let now = clock.now();
    let claims = Checkpoint {
        seq,
        hash,
        at: now.format(&Rfc3339)?,
        iss: config.site.name.clone(),
    };
    let ring = KeyRing::load(db, clock, &config.sealer()?).await?;
    let jws = ring.sign_published(&claims, CHECKPOINT_TYPE)?;
    let coordinator = config.privacy.coordinator_email.as_deref();
    let every = i64::try_from(config.audit.checkpoint_mail_secs).unwrap_or(i64::MAX);
    let slot = match (mailing, coordinator) {
        (Mailing::OncePerPeriod, Some(_)) if every > 0 => Some(now.unix_timestamp() / every),
        _ => None,
    };
    let claimed =
        extranet_audit::checkpoint::store(db, claims.seq, &claims.hash, now, &jws, slot).await?;
    // Each copy is tried, whatever became of the others.
    let mut exported = Exported::default();
    let mut failed = Vec::new();
    if let Some(dir) = &config.audit.checkpoint_dir {
        let path = dir.join(file_name(&claims));
        match std::fs::write(&path, format!("{jws}\n")) {
            Ok(()) => exported.file = Some(path),
            Err(e) => failed.push(format!("writing {}: {e}", path.display())),
        }
    }
    if let Some(s3) = &config.audit.checkpoint_s3 {
        let key = format!("audit-checkpoints/{}", file_name(&claims));
        match put(s3, &key, &jws).await {
            Ok(()) => exported.object = Some(key),
            Err(e) => failed.push(format!("writing {key} to bucket {}: {e:#}", s3.bucket)),
        }
    }
    if let Some(to) = coordinator
        && (mailing == Mailing::Now || claimed)
    {
        let mail = coordinator_mail(db, config, base_url, to, &claims, &jws).await;
        match outbox::enqueue(db, clock, &mail).await {
            Ok(_) => exported.mailed = Some(to.to_owned()),
            Err(e) => {
                if let Some(slot) = slot.filter(|_| claimed) {
                    extranet_audit::checkpoint::release_mail(db, slot).await?;
                }
                failed.push(format!("queueing the mail to the privacy coordinator: {e}"));
            }
        }
    }
    if !failed.is_empty() {
        anyhow::bail!(
            "checkpoint of {} entries signed and stored, but not every copy was made: {}",
            claims.seq,
            failed.join("; ")
        );
    }
    Ok((claims, jws, exported))
}

async fn put(s3: &crate::config::S3Config, key: &str, jws: &str) -> anyhow::Result<()> {
    let bucket = Objects::connect(&StorageOptions::S3(s3.options())).await?;
    bucket.put(key, Bytes::from(format!("{jws}\n"))).await?;
    Ok(())
}

/// `checkpoint-<entries, 20 digits>-<Unix time in ms>.jws`: names sort in the log's order, and
/// two checkpoints of an idle log (or of two instances) do not replace one another.
fn file_name(c: &Checkpoint) -> String {
    let ms = time::OffsetDateTime::parse(&c.at, &Rfc3339)
        .map(|t| t.unix_timestamp_nanos() / 1_000_000)
        .unwrap_or_default();
    format!("checkpoint-{:020}-{ms}.jws", c.seq)
}

/// The coordinator's mail, in their profile's language when they have an account here.
async fn coordinator_mail(
    db: &Db,
    config: &Config,
    base_url: &str,
    to: &str,
    c: &Checkpoint,
    jws: &str,
) -> Mail {
    let language = match extranet_identity::store::person_by_email(db, to).await {
        Ok(p) => p.language.code().to_owned(),
        Err(_) => config.site.default_language.code().to_owned(),
    };
    Mail {
        recipient: to.to_owned(),
        language,
        template: "audit-checkpoint",
        args: serde_json::json!({
            "site": config.site.name,
            "entries": c.seq,
            "hash": c.hash,
            "at": c.at,
            "checkpoint": jws,
            "link": format!("{base_url}/audit"),
        }),
    }
}

/// Signs, stores and exports a checkpoint every `audit.checkpoint_secs`; a failure is logged
/// and tried again next time.
pub fn spawn(
    db: Db,
    config: Config,
    base_url: String,
    shutdown: tokio_util::sync::CancellationToken,
) {
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
            match make(
                &db,
                &config,
                &SystemClock,
                &base_url,
                Mailing::OncePerPeriod,
            )
            .await
            {
                Ok((c, _, out)) => tracing::info!(
                    entries = c.seq,
                    file = out.file.is_some(),
                    bucket = out.object.is_some(),
                    mailed = out.mailed.is_some(),
                    "audit checkpoint signed"
                ),
                Err(e) => tracing::error!(error = %format!("{e:#}"), "audit checkpoint failed"),
            }
        }
    });
}
