//! The object store: documents' bytes live here, under random keys, never in the database.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpClient, HttpConnector, ReqwestConnector};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, RetryConfig};

use crate::error::{PlatformError, Result, concise};

/// Where objects are kept.
#[derive(Debug, Clone)]
pub enum StorageOptions {
    /// A directory on the local filesystem (the embedded default: `objects/` in the data dir).
    Local { root: PathBuf },
    /// Any S3-compatible service (AWS S3, MinIO, Garage, Ceph…).
    S3(S3Options),
}

#[derive(Clone)]
pub struct S3Options {
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Allow `http://` endpoints (a test server on the loopback interface).
    pub allow_http: bool,
    /// Path-style (`endpoint/bucket/key`) unless the service wants `bucket.endpoint/key`.
    pub virtual_hosted_style: bool,
    pub request_timeout: Duration,
    /// Every key lives under this prefix (several installations may share a bucket).
    pub prefix: Option<String>,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .field("access_key_id", &"REDACTED")
            .field("secret_access_key", &"REDACTED")
            .finish()
    }
}

/// A handle on the configured object store.
#[derive(Clone)]
pub struct Objects {
    store: Arc<dyn ObjectStore>,
    kind: Kind,
    describe: String,
}

/// What the transfer code needs beyond `ObjectStore`: the local root (to remove multipart
/// staging files a killed process left), or the S3 client's multipart API (whose upload ids can
/// be recorded, so that an interrupted upload can be aborted later by another process).
#[derive(Clone)]
pub(crate) enum Kind {
    Local {
        root: PathBuf,
    },
    S3 {
        s3: Arc<AmazonS3>,
        prefix: Option<ObjectPath>,
        /// For the one request object_store has no call for (`s3_uploads`).
        http: HttpClient,
    },
}

impl Kind {
    /// A key as the S3 client's own multipart API must name it (with the prefix, which the
    /// `PrefixStore` adds for every other call).
    pub(crate) fn s3_path(prefix: &Option<ObjectPath>, key: &ObjectPath) -> ObjectPath {
        match prefix {
            Some(p) => p.parts().chain(key.parts()).collect(),
            None => key.clone(),
        }
    }
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

/// The prefix listed by readiness checks. Listing (unlike reading a missing key) fails when the
/// bucket does not exist, and an empty answer is cheap.
const PROBE_PREFIX: &str = ".extranet-readiness-probe";

impl Objects {
    /// Builds the store and proves it is reachable (the bucket exists and the credentials work).
    pub async fn connect(opts: &StorageOptions) -> Result<Objects> {
        let objects = Self::build(opts)?;
        objects.ping().await?;
        Ok(objects)
    }

    fn build(opts: &StorageOptions) -> Result<Objects> {
        match opts {
            StorageOptions::Local { root } => {
                std::fs::create_dir_all(root).map_err(|source| PlatformError::Io {
                    context: format!("cannot create object directory {}", root.display()),
                    source,
                })?;
                let describe = format!("local:{}", root.display());
                let root = std::fs::canonicalize(root).map_err(|source| PlatformError::Io {
                    context: format!("cannot open object directory {}", root.display()),
                    source,
                })?;
                let store = LocalFileSystem::new_with_prefix(&root).map_err(|source| {
                    PlatformError::ObjectStore {
                        target: describe.clone(),
                        detail: concise(&source),
                    }
                })?;
                Ok(Objects {
                    store: Arc::new(store),
                    kind: Kind::Local { root },
                    describe,
                })
            }
            StorageOptions::S3(s3) => {
                let describe = format!(
                    "s3:{}/{}",
                    s3.endpoint.as_deref().unwrap_or("aws"),
                    s3.bucket
                );
                let client = ClientOptions::new()
                    .with_timeout(s3.request_timeout)
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_allow_http(s3.allow_http);
                // The default retry budget is minutes; an operator starting the server wants to
                // hear about a wrong endpoint in seconds.
                let retry = RetryConfig {
                    max_retries: 2,
                    retry_timeout: s3.request_timeout,
                    ..RetryConfig::default()
                };
                let http = ReqwestConnector::default()
                    .connect(&client)
                    .map_err(|source| PlatformError::ObjectStore {
                        target: describe.clone(),
                        detail: concise(&source),
                    })?;
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key)
                    .with_virtual_hosted_style_request(s3.virtual_hosted_style)
                    .with_client_options(client)
                    .with_retry(retry);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                let store = builder
                    .build()
                    .map_err(|source| PlatformError::ObjectStore {
                        target: describe.clone(),
                        detail: concise(&source),
                    })?;
                let prefix = s3.prefix.as_deref().map(ObjectPath::from);
                let client = Arc::new(store);
                let store: Arc<dyn ObjectStore> = match &prefix {
                    Some(p) => Arc::new(object_store::prefix::PrefixStore::new(
                        client.clone(),
                        p.clone(),
                    )),
                    None => client.clone(),
                };
                Ok(Objects {
                    store,
                    kind: Kind::S3 {
                        s3: client,
                        prefix,
                        http,
                    },
                    describe,
                })
            }
        }
    }

    pub(crate) fn kind(&self) -> &Kind {
        &self.kind
    }

    pub(crate) fn error(&self, source: &(dyn std::error::Error + 'static)) -> PlatformError {
        PlatformError::ObjectStore {
            target: self.describe.clone(),
            detail: concise(source),
        }
    }

    /// The underlying store, for the services that read and write objects.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// What this store is, fit for logs (no credentials).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// One request to the store: the bucket exists and the credentials are accepted.
    pub async fn ping(&self) -> Result<()> {
        self.store
            .list_with_delimiter(Some(&ObjectPath::from(PROBE_PREFIX)))
            .await
            .map(|_| ())
            .map_err(|source| PlatformError::ObjectStore {
                target: self.describe.clone(),
                detail: concise(&source),
            })
    }
}
