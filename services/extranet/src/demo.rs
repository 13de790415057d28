//! `extranet demo`: embedded defaults in a data directory of its own, and demo data loaded once.

use extranet_platform::{Clock, Db, settings};

use crate::cli::DemoArgs;
use crate::config::Config;

/// Bumped when the demo data grows, so an older demo directory is topped up.
const DEMO_VERSION: &str = "1";
const DEMO_KEY: &str = "demo.version";

/// The defaults of a demo: its own data directory, a fictitious certification body.
pub fn base_config(args: &DemoArgs) -> Config {
    let mut config = Config {
        data_dir: args.data_dir.clone(),
        ..Config::default()
    };
    config.server.listen = args.listen;
    config.site = extranet_web::Site {
        name: "CertiBel (demo)".into(),
        address: vec![
            "Kunstlaan 1 / Avenue des Arts 1".into(),
            "1000 Brussel / Bruxelles".into(),
            "België / Belgique".into(),
        ],
        phone: Some("+32 2 000 00 00".into()),
        email: Some("extranet@certibel.example".into()),
        website: Some("https://certibel.example".into()),
        enterprise_number: Some("BE 0123.456.749".into()),
        default_language: extranet_web::Lang::Nl,
    };
    config
}

pub struct Demo;

impl Demo {
    /// Loads the demo data the first time (and when a newer demo adds some); idempotent.
    pub async fn seed(&self, db: &Db, clock: &dyn Clock) -> anyhow::Result<()> {
        let current = settings::get(db, DEMO_KEY).await?;
        if current.as_deref() == Some(DEMO_VERSION) {
            return Ok(());
        }
        // Accounts, dossiers and documents join the demo as those features arrive; for now the
        // demo is the certification body's public face (configuration) and this marker.
        settings::set(db, clock, DEMO_KEY, DEMO_VERSION).await?;
        tracing::info!(version = DEMO_VERSION, "demo data loaded");
        Ok(())
    }

    pub fn print_welcome(&self, url: &str) {
        println!();
        println!("  Extranet demo is running: {url}");
        println!(
            "  The certificate is self-signed for localhost: your browser will ask you to accept it."
        );
        println!(
            "  Sign in: there are no accounts yet in this version; the public pages are open."
        );
        println!(
            "  Stop with Ctrl+C. Data lives in the demo directory; delete it to start afresh."
        );
        println!();
    }
}
