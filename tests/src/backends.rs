//! Which database and object store a test runs against, and where the test services are.

use anyhow::Context;
use sqlx::{AssertSqlSafe, Connection, PgConnection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Local,
    S3,
}

#[derive(Debug, Clone, Copy)]
pub struct Backends {
    pub db: Db,
    pub store: Store,
}

impl Backends {
    pub fn new(db: Db, store: Store) -> Backends {
        Backends { db, store }
    }

    /// `sqlite-local`, `postgres-s3`…: used in artifact names.
    pub fn label(&self) -> String {
        let db = match self.db {
            Db::Sqlite => "sqlite",
            Db::Postgres => "postgres",
        };
        let store = match self.store {
            Store::Local => "local",
            Store::S3 => "s3",
        };
        format!("{db}-{store}")
    }
}

/// Where the test services are: `TEST_EXTRANET_*` variables (see `infra/scripts/test-env.sh`),
/// defaulting to what `infra/scripts/test-services.sh` starts.
#[derive(Debug, Clone)]
pub struct TestEnv {
    pub pg_admin_url: String,
    pub s3_endpoint: String,
    pub s3_bucket: String,
    /// A second bucket, for what must not share the documents' (the audit log's checkpoints).
    pub s3_audit_bucket: String,
    pub s3_access_key: String,
    pub s3_secret_key: String,
    pub smtp_port: u16,
    pub smtp_dir: std::path::PathBuf,
    pub chromedriver: String,
    pub chromium: String,
    /// The schemathesis executable (`infra/scripts/install-schemathesis.sh` installs it).
    pub schemathesis: std::path::PathBuf,
    /// axe-core's `axe.min.js` (`infra/scripts/install-axe.sh` installs the pinned version).
    pub axe: std::path::PathBuf,
}

/// The schemathesis version `infra/scripts/install-schemathesis.sh` pins, where it installs it.
fn default_schemathesis() -> std::path::PathBuf {
    cache_dir().join("extranet/schemathesis-4.32.5/bin/schemathesis")
}

/// The axe-core version `infra/scripts/install-axe.sh` pins, where it installs it.
fn default_axe() -> std::path::PathBuf {
    cache_dir().join("extranet/axe-core-4.14.1/axe.min.js")
}

fn cache_dir() -> std::path::PathBuf {
    std::env::var("XDG_CACHE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|_| std::env::var("HOME").map(|h| std::path::Path::new(&h).join(".cache")))
        .unwrap_or_else(|_| std::env::temp_dir())
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

impl TestEnv {
    /// A client of the test bucket kept for what is not documents (audit checkpoints, backups).
    pub fn audit_bucket(&self) -> anyhow::Result<object_store::aws::AmazonS3> {
        Ok(object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&self.s3_endpoint)
            .with_bucket_name(&self.s3_audit_bucket)
            .with_region("us-east-1")
            .with_access_key_id(&self.s3_access_key)
            .with_secret_access_key(&self.s3_secret_key)
            .with_allow_http(true)
            .build()?)
    }

    pub fn get() -> TestEnv {
        TestEnv {
            pg_admin_url: var(
                "TEST_EXTRANET_PG_URL",
                "postgres://extranet_test:extranet_test@127.0.0.1:5432/postgres",
            ),
            s3_endpoint: var("TEST_EXTRANET_S3_ENDPOINT", "http://127.0.0.1:8014"),
            s3_bucket: var("TEST_EXTRANET_S3_BUCKET", "extranet-test"),
            s3_audit_bucket: var("TEST_EXTRANET_S3_AUDIT_BUCKET", "extranet-audit-test"),
            s3_access_key: var("TEST_EXTRANET_S3_ACCESS_KEY", "extranet-test"),
            s3_secret_key: var("TEST_EXTRANET_S3_SECRET_KEY", "extranet-test-secret"),
            smtp_port: var("TEST_EXTRANET_SMTP_PORT", "2525")
                .parse()
                .unwrap_or(2525),
            smtp_dir: std::env::var("TEST_EXTRANET_SMTP_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|_| std::env::temp_dir().join("extranet-smtp")),
            chromedriver: var("TEST_EXTRANET_CHROMEDRIVER", "/usr/bin/chromedriver"),
            chromium: var("TEST_EXTRANET_CHROMIUM", "/usr/bin/chromium"),
            schemathesis: std::env::var("TEST_EXTRANET_SCHEMATHESIS")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|_| default_schemathesis()),
            axe: std::env::var("TEST_EXTRANET_AXE")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|_| default_axe()),
        }
    }
}

/// A PostgreSQL database of its own for one test, dropped when the test's server is dropped.
#[derive(Debug)]
pub struct PgDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

const HINT: &str =
    "is PostgreSQL running? start the test services with infra/scripts/test-services.sh";

impl PgDatabase {
    pub async fn create() -> anyhow::Result<PgDatabase> {
        let env = TestEnv::get();
        let name = format!("extranet_t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&env.pg_admin_url)
            .await
            .with_context(|| format!("connect to the PostgreSQL admin URL ({HINT})"))?;
        // The name is generated above from hex digits only; identifiers cannot be bound.
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .context("create the test database")?;
        let _ = admin.close().await;
        let mut url = url::Url::parse(&env.pg_admin_url).context("TEST_EXTRANET_PG_URL")?;
        url.set_path(&format!("/{name}"));
        Ok(PgDatabase {
            name,
            url: url.to_string(),
            admin_url: env.pg_admin_url,
        })
    }

    pub async fn drop_now(&self) {
        if let Ok(mut admin) = PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::raw_sql(AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            )))
            .execute(&mut admin)
            .await;
            let _ = admin.close().await;
        }
    }
}
