//! The test harness: starts the real `extranet` binary on free ports with a temporary data
//! directory, against SQLite or PostgreSQL (a fresh database per test) and the local filesystem or
//! an S3-compatible server (started by `infra/scripts/start-s3.sh`).

pub mod backends;
pub mod bench;
pub mod binary;
pub mod browser;
pub mod bulk;
pub mod keys;
pub mod mail;
pub mod server;
pub mod tls;
pub mod totp;

pub use backends::{Backends, Db, Store, TestEnv};
pub use server::{Server, ServerBuilder};

/// Installs the process-wide rustls crypto provider (once).
pub fn init_crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Expands one async test body into four tests: SQLite or PostgreSQL × local or S3 storage.
///
/// ```text
/// matrix!(async fn home_page(b: Backends) { let s = ServerBuilder::new(b).start().await?; Ok(()) });
/// ```
#[macro_export]
macro_rules! matrix {
    // Work in progress, run on demand (`cargo test -- --ignored`): `ignore = "why"` first.
    (ignore = $why:literal; async fn $name:ident($b:ident : Backends) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($b: $crate::Backends) -> anyhow::Result<()> $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $why]
            async fn sqlite_local() -> anyhow::Result<()> {
                run($crate::Backends::new($crate::Db::Sqlite, $crate::Store::Local)).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = $why]
            async fn postgres_s3() -> anyhow::Result<()> {
                run($crate::Backends::new($crate::Db::Postgres, $crate::Store::S3)).await
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($b:ident : Backends) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($b: $crate::Backends) -> anyhow::Result<()> $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_local() -> anyhow::Result<()> {
                run($crate::Backends::new($crate::Db::Sqlite, $crate::Store::Local)).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_s3() -> anyhow::Result<()> {
                run($crate::Backends::new($crate::Db::Sqlite, $crate::Store::S3)).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_local() -> anyhow::Result<()> {
                run($crate::Backends::new($crate::Db::Postgres, $crate::Store::Local)).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() -> anyhow::Result<()> {
                run($crate::Backends::new($crate::Db::Postgres, $crate::Store::S3)).await
            }
        }
    };
}

/// Expands one async test body into two tests, SQLite and PostgreSQL, both with local object
/// storage: for tests that touch the database only.
#[macro_export]
macro_rules! databases {
    ($(#[$meta:meta])* async fn $name:ident($b:ident : Backends) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($b: $crate::Backends) -> anyhow::Result<()> $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() -> anyhow::Result<()> {
                run($crate::Backends::new($crate::Db::Sqlite, $crate::Store::Local)).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() -> anyhow::Result<()> {
                run($crate::Backends::new($crate::Db::Postgres, $crate::Store::Local)).await
            }
        }
    };
}
