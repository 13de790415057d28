//! Start-up, in an order that leaves nothing half-created: configuration (already checked), the
//! configured TLS files, object store, database, a development certificate if none is configured,
//! listeners, migrations; then serve until SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use extranet_platform::db::DbTarget;
use extranet_platform::{Db, DbOptions, Objects, SystemClock};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use crate::app::{AppState, Shared, service};
use crate::config::Config;
use crate::demo::Demo;
use crate::server::{Limits, RedirectTarget, run_https, run_redirect};
use crate::tls;

pub async fn open_database(config: &Config, target: &DbTarget) -> anyhow::Result<Db> {
    let opts = DbOptions {
        max_connections: config.database.max_connections,
        acquire_timeout: Duration::from_secs(config.database.acquire_timeout_secs),
        ..DbOptions::default()
    };
    Ok(Db::connect(target, &opts).await?)
}

pub async fn serve(config: Config, demo: Option<Demo>) -> anyhow::Result<()> {
    // The key-encryption key, the policy and the configured certificates are checked before
    // anything is opened or created.
    let token_settings = config.token_settings()?;
    let policy = extranet_access::Policy::load(&config.policy_source()?).await?;
    // The register's own files and its map against the schema this build ships; its
    // recipients are checked against the subprocessor register once the database is open.
    extranet_privacy::Register::load(
        &config.privacy_settings().source()?,
        &extranet_privacy::Context {
            columns: Some(Db::shipped_columns().await?),
            subprocessors: None,
        },
    )?;
    let configured = match tls::configured(&config) {
        Some(files) => Some((tls::load(&files)?, files)),
        None => None,
    };
    crate::data_dir::secure(&config.data_dir)?;
    let objects = Objects::connect(&config.storage_options()).await?;
    let target = config.database_target()?;
    let db = open_database(&config, &target).await?;
    let (key, files) = match configured {
        Some(pair) => pair,
        None => {
            let files = tls::development(&config)?;
            (tls::load(&files)?, files)
        }
    };
    let resolver = tls::CertResolver::new(key);
    let served = resolver.clone();
    let acceptor = TlsAcceptor::from(tls::server_config(resolver.clone())?);

    let https = bind(config.server.listen, "server.listen").await?;
    let redirect = match config.server.redirect_listen {
        Some(addr) => Some(bind(addr, "server.redirect_listen").await?),
        None => None,
    };

    if config.migrate_on_start {
        db.migrate().await?;
    } else {
        let pending = db.pending_migrations().await?;
        if pending > 0 {
            anyhow::bail!(
                "database {}: {pending} migration(s) not applied and migrate_on_start = false; \
                 run `extranet migrate` first",
                target.redacted()
            );
        }
    }
    if let Some(demo) = &demo {
        demo.seed(&db, &objects, &SystemClock, &config).await?;
    }
    let auth = Arc::new(
        crate::api::Auth::new(
            db.clone(),
            Arc::new(SystemClock),
            token_settings,
            config.session_settings(),
            config.throttle_settings(),
        )
        .await?
        .with_second_factor(config.second_factor_settings()),
    );

    let https_addr = https.local_addr()?;
    let shutdown = CancellationToken::new();
    let sender = Arc::new(extranet_notify::Sender::new(
        db.clone(),
        Arc::new(SystemClock),
        &config.mail.from,
        &config.mail_transport(),
        Duration::from_secs(config.mail.poll_secs),
    )?);
    tokio::spawn(sender.clone().run(shutdown.clone()));
    // Sessions ended by other instances or the command line: learnt within a second, and on
    // PostgreSQL at their commit.
    tokio::spawn(
        auth.revocations
            .clone()
            .run(db.clone(), Arc::new(SystemClock), shutdown.clone()),
    );
    crate::http::metrics::spawn_upkeep(shutdown.clone());
    // Links in mails never come from a request's Host header.
    let base_url = config
        .server
        .public_url
        .as_ref()
        .map(|u| u.as_str().trim_end_matches('/').to_owned())
        .unwrap_or_else(|| local_url(https_addr).trim_end_matches('/').to_owned());
    crate::checkpoints::spawn(
        db.clone(),
        config.clone(),
        base_url.clone(),
        shutdown.clone(),
    );
    crate::backup::spawn_schedule(
        config.clone(),
        db.clone(),
        objects.clone(),
        shutdown.clone(),
    );
    if let Some(interval) = config.confirmation_interval() {
        let reminder = Arc::new(extranet_identity::confirmation::Reminder {
            db: db.clone(),
            clock: Arc::new(SystemClock),
            base_url: base_url.clone(),
            site_name: config.site.name.clone(),
            sender: sender.clone(),
            interval,
            check_every: Duration::from_secs(config.confirmation.check_every_secs),
        });
        tokio::spawn(reminder.run(shutdown.clone()));
    }
    let recovery = Arc::new(extranet_identity::recovery::Recovery {
        auth: auth.clone(),
        base_url: base_url.clone(),
        site_name: config.site.name.clone(),
        sender,
        limits: config.mail_limits(),
    });
    tls::spawn_reloader(
        files,
        resolver,
        Duration::from_secs(config.tls.reload_check_secs),
        shutdown.clone(),
    );
    let directory = Arc::new(extranet_directory::Directory::new(
        recovery.clone(),
        policy,
        config.access.policy_dir.clone(),
    ));
    let documents = Arc::new(extranet_documents::Documents::new(
        directory.clone(),
        objects.clone(),
        config.document_settings(),
    ));
    documents.clone().spawn_collector(shutdown.clone());
    let register_clock: Arc<dyn extranet_platform::Clock> = match &config.subprocessors.clock_file {
        Some(file) => {
            tracing::warn!(
                "subprocessors.clock_file is set: the register's clock is under test control"
            );
            Arc::new(extranet_platform::FileClock { file: file.clone() })
        }
        None => Arc::new(SystemClock),
    };
    let subprocessors = Arc::new(
        extranet_subprocessors::Subprocessors::new(
            directory.clone(),
            register_clock,
            config.subprocessor_settings(&base_url),
        )
        .map_err(|e| anyhow::anyhow!("subprocessors: {e}"))?,
    );
    subprocessors.clone().spawn_applier(shutdown.clone());
    let privacy_clock: Arc<dyn extranet_platform::Clock> = match &config.privacy.clock_file {
        Some(file) => {
            tracing::warn!("privacy.clock_file is set: retention's clock is under test control");
            Arc::new(extranet_platform::FileClock { file: file.clone() })
        }
        None => Arc::new(SystemClock),
    };
    let privacy = Arc::new(
        extranet_privacy::Privacy::new(
            db.clone(),
            objects.clone(),
            privacy_clock.clone(),
            config.privacy_settings(),
        )
        .await?
        .with_notice(config.notice_settings(&base_url))
        .with_erasure_journal(crate::backup::journal(&config)?),
    );
    if config.privacy.retention {
        privacy.clone().spawn_retention(
            Duration::from_secs(config.privacy.retention_check_secs),
            shutdown.clone(),
        );
    }
    publish_notice(&privacy).await;
    spawn_policy_reloader(directory.clone(), privacy.clone(), shutdown.clone());
    let consents = Arc::new(extranet_privacy::Consents::new(
        privacy.clone(),
        auth.tokens.sealer.clone(),
        extranet_privacy::ConsentSettings {
            base_url: base_url.clone(),
            site_name: config.site.name.clone(),
            link_lifetime: extranet_privacy::consent::LINK_LIFETIME,
        },
    ));
    let rights = Arc::new(
        extranet_rights::Rights::new(
            db.clone(),
            privacy_clock,
            auth.clone(),
            extranet_rights::Settings {
                coordinator_email: config.privacy.coordinator_email.clone(),
                time_zone: config.site.tz(),
                reminder_days: config.privacy.rights_reminder_days,
                per_address_per_day: config.privacy.rights_per_address_per_day,
                ..extranet_rights::Settings::new(base_url.clone(), config.site.name.clone())
            },
        )
        .with_fulfilment(extranet_rights::Fulfilment {
            privacy: privacy.clone(),
            consents: consents.clone(),
            erasure_batch: config.privacy.erasure_batch,
        }),
    );
    if demo.is_some() {
        crate::demo_rights::seed(&db, &SystemClock, &rights, &directory.policy()).await?;
    }
    rights.clone().spawn_reminders(
        Duration::from_secs(config.privacy.rights_check_secs),
        shutdown.clone(),
    );
    let limits = Limits {
        max_connections: config.server.max_connections,
        handshake_timeout: Duration::from_secs(config.server.handshake_timeout_secs),
        header_read_timeout: Duration::from_secs(config.server.header_read_timeout_secs),
        idle_timeout: Duration::from_secs(config.server.idle_timeout_secs),
        shutdown_grace: Duration::from_secs(config.server.shutdown_grace_secs),
    };
    let app = service(
        &config,
        AppState::new(Shared {
            db: db.clone(),
            objects: objects.clone(),
            auth,
            recovery,
            directory,
            documents,
            subprocessors,
            privacy: privacy.clone(),
            consents,
            rights,
        }),
    );

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(run_https(
        https,
        acceptor,
        app,
        limits.clone(),
        shutdown.clone(),
    ));
    if let Some(listener) = redirect {
        let addr = listener.local_addr()?;
        let target = RedirectTarget {
            public_url: config.server.public_url.clone(),
            https_port: https_addr.port(),
            certificate: served,
        };
        tasks.spawn(run_redirect(listener, target, limits, shutdown.clone()));
        announce(&format!("redirecting http://{addr}/ to HTTPS"));
    }

    tracing::info!(
        database = %target.redacted(),
        objects = objects.describe(),
        "extranet started"
    );
    announce(&format!("serving {}", local_url(https_addr)));
    let url = match &config.server.public_url {
        Some(public) => {
            announce(&format!("public URL {public}"));
            public.to_string()
        }
        None => local_url(https_addr),
    };
    if let Some(demo) = &demo {
        demo.print_welcome(&url);
    }

    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            termination().await;
            tracing::info!("shutting down: no new connections, finishing requests in flight");
            shutdown.cancel();
        }
    });
    while tasks.join_next().await.is_some() {}
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Stores a new version of the privacy notice when the register or its contacts changed. A
/// failure is logged and the extranet serves on: the latest stored version stays the notice
/// (the next start or reload tries again).
async fn publish_notice(privacy: &extranet_privacy::Privacy) {
    match privacy.publish_notice().await {
        Ok(Some(version)) => announce(&format!("privacy notice version {version} published")),
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "privacy notice not published"),
    }
}

/// Re-reads the policy and the processing register on SIGHUP (with the certificate). One that
/// does not check out is refused with a log line and the one in force stays.
fn spawn_policy_reloader(
    directory: Arc<extranet_directory::Directory>,
    privacy: Arc<extranet_privacy::Privacy>,
    shutdown: CancellationToken,
) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                got = hup.recv() => {
                    if got.is_none() {
                        return;
                    }
                    match directory.reload().await {
                        Ok(()) => tracing::info!("policy reloaded"),
                        Err(e) => tracing::error!(error = %e, "policy not reloaded; the previous one stays in force"),
                    }
                    match privacy.reload().await {
                        Ok(()) => {
                            tracing::info!("processing register reloaded");
                            publish_notice(&privacy).await;
                        }
                        Err(e) => tracing::error!(error = %e, "processing register not reloaded; the previous one stays in force"),
                    }
                }
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (directory, privacy, shutdown);
}

async fn bind(addr: SocketAddr, key: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (configuration key `{key}`)"))
}

/// The listener as a URL, with `localhost` for loopback and wildcard addresses (the name the
/// development certificate is for).
pub(crate) fn local_url(addr: SocketAddr) -> String {
    let host = if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        addr.ip().to_string()
    };
    format!("https://{host}:{}/", addr.port())
}

/// A line on stdout for the person (or the test harness) that started the server.
fn announce(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "extranet: {line}");
    let _ = out.flush();
}

async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {},
                    _ = int.recv() => {},
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
