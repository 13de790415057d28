//! TLS: certificates from PEM files (or a generated development certificate), swapped in place
//! when they are renewed, without a restart and without touching open connections.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, anyhow, bail};
use arc_swap::ArcSwap;
use rustls::ServerConfig;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// Where the certificate comes from.
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// Generated for `localhost` because none was configured.
    pub development: bool,
}

/// The configured certificate files, if any.
pub fn configured(config: &Config) -> Option<CertFiles> {
    match (&config.tls.cert_file, &config.tls.key_file) {
        (Some(cert), Some(key)) => Some(CertFiles {
            cert: cert.clone(),
            key: key.clone(),
            development: false,
        }),
        _ => None,
    }
}

/// A development certificate for `localhost` in `<data_dir>/tls/`, generated on the first start
/// and reused afterwards.
pub fn development(config: &Config) -> anyhow::Result<CertFiles> {
    let dir = config.data_dir.join("tls");
    let files = CertFiles {
        cert: dir.join("dev-cert.pem"),
        key: dir.join("dev-key.pem"),
        development: true,
    };
    if !(files.cert.is_file() && files.key.is_file()) {
        generate_dev_cert(&dir, &files)?;
    }
    tracing::warn!(
        cert = %files.cert.display(),
        "no TLS certificate configured: using a self-signed certificate for localhost, \
         for development only — set tls.cert_file and tls.key_file in production"
    );
    Ok(files)
}

fn generate_dev_cert(dir: &Path, files: &CertFiles) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create TLS directory {}", dir.display()))?;
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let generated = rcgen::generate_simple_self_signed(names)
        .context("cannot generate a development certificate")?;
    // Key first, then certificate, each written whole then renamed: an interrupted start
    // leaves either nothing or a usable pair.
    crate::data_dir::write_private(
        &files.key,
        generated.signing_key.serialize_pem().as_bytes(),
        false,
    )?;
    crate::data_dir::write_private(&files.cert, generated.cert.pem().as_bytes(), false)?;
    Ok(())
}

/// Reads and checks a certificate chain and its private key.
pub fn load(files: &CertFiles) -> anyhow::Result<Arc<CertifiedKey>> {
    let cert_pem = std::fs::read(&files.cert)
        .with_context(|| format!("cannot read TLS certificate {}", files.cert.display()))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow!("TLS certificate {}: {e}", files.cert.display()))?;
    if chain.is_empty() {
        bail!(
            "TLS certificate {}: no certificate in the file",
            files.cert.display()
        );
    }
    let key_pem = std::fs::read(&files.key)
        .with_context(|| format!("cannot read TLS key {}", files.key.display()))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| anyhow!("TLS key {}: {e}", files.key.display()))?;
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    let certified = CertifiedKey::from_der(chain, key, &provider).map_err(|e| {
        anyhow!(
            "TLS certificate {} and key {} do not form a usable pair: {e}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    Ok(Arc::new(certified))
}

/// Hands every handshake the current certificate; [`CertResolver::replace`] swaps it.
#[derive(Debug)]
pub struct CertResolver(ArcSwap<CertifiedKey>);

impl CertResolver {
    pub fn new(initial: Arc<CertifiedKey>) -> Arc<Self> {
        Arc::new(CertResolver(ArcSwap::new(initial)))
    }

    pub fn replace(&self, next: Arc<CertifiedKey>) {
        self.0.store(next);
    }

    /// Whether the certificate served now is valid for `name` (a DNS name or an IP address):
    /// the names the redirect listener may send people to when no public URL is configured.
    pub fn covers(&self, name: &str) -> bool {
        let Ok(name) = rustls_pki_types::ServerName::try_from(name) else {
            return false;
        };
        let key = self.0.load();
        let Ok(der) = key.end_entity_cert() else {
            return false;
        };
        webpki::EndEntityCert::try_from(der)
            .is_ok_and(|cert| cert.verify_is_valid_for_subject_name(&name).is_ok())
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// TLS 1.2 and 1.3 only, the server's cipher order, h2 then http/1.1 by ALPN.
pub fn server_config(resolver: Arc<CertResolver>) -> anyhow::Result<Arc<ServerConfig>> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    cfg.ignore_client_order = true;
    Ok(Arc::new(cfg))
}

type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Reloads the certificate on SIGHUP and whenever either file changes (checked every `every`).
/// A renewed pair that does not load is logged and the current certificate kept.
pub fn spawn_reloader(
    files: CertFiles,
    resolver: Arc<CertResolver>,
    every: Duration,
    shutdown: CancellationToken,
) {
    tokio::spawn(async move {
        let mut seen = (stamp(&files.cert), stamp(&files.key));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut hup = hangup_signal();
        loop {
            let forced = tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => false,
                _ = recv_hangup(&mut hup) => true,
            };
            let now = (stamp(&files.cert), stamp(&files.key));
            if !forced && now == seen {
                continue;
            }
            seen = now;
            match load(&files) {
                Ok(key) => {
                    resolver.replace(key);
                    tracing::info!(cert = %files.cert.display(), "TLS certificate reloaded");
                }
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "TLS certificate not reloaded; keeping the current one")
                }
            }
        }
    });
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

fn hangup_signal() -> Hangup {
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

async fn recv_hangup(hup: &mut Hangup) {
    #[cfg(unix)]
    if let Some(sig) = hup {
        sig.recv().await;
        return;
    }
    let _ = hup;
    std::future::pending::<()>().await
}
