//! Configuration: embedded defaults, then a TOML file, then `EXTRANET_*` environment variables
//! (`__` separates sections: `EXTRANET_SERVER__LISTEN`). Every value is checked before anything
//! starts, and a bad one is reported with the key that holds it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize, Serializer};

use extranet_platform::db::{DbTarget, redact_url};
use extranet_platform::objects::{S3Options, StorageOptions};

/// A value that must never be printed or logged.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"REDACTED\"")
    }
}

impl Serialize for Secret {
    // Empty stays empty so that defaults (which hold no secret) survive figment's round trip.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.0.is_empty() { "" } else { "REDACTED" })
    }
}

/// A database URL; printed with its password replaced.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct DatabaseUrl(String);

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() {
            return s.serialize_str("");
        }
        s.serialize_str(&redact_url(&self.0))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite file, local objects and the generated development certificate live.
    pub data_dir: PathBuf,
    /// Apply pending database migrations when the server starts.
    pub migrate_on_start: bool,
    pub server: ServerConfig,
    pub tls: TlsConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub auth: AuthConfig,
    pub mail: MailConfig,
    pub access: AccessConfig,
    pub site: extranet_web::Site,
    pub confirmation: ConfirmationConfig,
    pub documents: DocumentsConfig,
    pub subprocessors: SubprocessorsConfig,
    pub privacy: PrivacyConfig,
    pub keys: KeysConfig,
    pub audit: AuditConfig,
    pub backup: BackupConfig,
}

/// Backups (`extranet backup`, `restore`): where they go, and the scheduled one in `serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// A directory backups are written to (`backups/<name>/`), best on another disk or host.
    pub dir: Option<PathBuf>,
    /// Or a bucket of their own (not the documents'), under `backups/<name>/`.
    pub s3: Option<S3Config>,
    /// How often one instance of `serve` makes a backup; 0 (the default): only on demand.
    pub every_secs: u64,
    /// How many complete backups to keep; older ones are deleted after each new one.
    pub keep: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: None,
            s3: None,
            every_secs: 0,
            keep: 7,
        }
    }
}

/// The audit log's signed checkpoints (`extranet audit checkpoint`, made here at an interval).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// How often each instance signs and stores the log's head; 0: only on demand.
    pub checkpoint_secs: u64,
    /// A directory each checkpoint is also written to (`checkpoint-<entries>.jws`): mount
    /// storage there that the database's administrators cannot rewrite.
    pub checkpoint_dir: Option<PathBuf>,
    /// A bucket of its own (not the documents') each checkpoint is also written to, under
    /// `audit-checkpoints/`. Give it S3 Object Lock with a default retention, so that no one
    /// can delete or replace a checkpoint before that retention ends.
    pub checkpoint_s3: Option<S3Config>,
    /// The privacy coordinator (`privacy.coordinator_email`) is mailed the first checkpoint of
    /// every period of this many seconds, by one instance; 0: never.
    pub checkpoint_mail_secs: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            checkpoint_secs: 3600,
            checkpoint_dir: None,
            checkpoint_s3: None,
            checkpoint_mail_secs: 86_400,
        }
    }
}

/// Privacy (`extranet_privacy`): where the processing register is, the retention job, and the
/// contacts the privacy notice names besides the site's own (`site`: the controller).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// A directory with `activities.toml`, `retention.toml` and `schema.csv`; re-read on SIGHUP
    /// (a register that does not check out is refused and the one in force stays). Without it,
    /// the register built into the binary (the source tree's `policies/register/`) is used.
    pub register_dir: Option<PathBuf>,
    /// Carry out the retention schedule once a day (one instance runs it).
    pub retention: bool,
    /// How often each instance looks whether today's retention run is due or was interrupted.
    pub retention_check_secs: u64,
    /// Records deleted or anonymised per transaction (bounds how long each holds its locks).
    pub retention_batch: usize,
    /// Documents an erasure deletes per step, objects first (bounds what a crash leaves half-done).
    pub erasure_batch: usize,
    /// The data-protection coordinator's address, named in the privacy notice.
    pub coordinator_email: Option<String>,
    /// The supervisory authority the notice names, with its address and website.
    pub authority_name: String,
    pub authority_address: Vec<String>,
    pub authority_website: String,
    /// For end-to-end tests only: the retention job's, the notice's and the rights requests'
    /// clock reads this file, an RFC 3339 instant, when it exists. Never set in production.
    pub clock_file: Option<PathBuf>,
    /// How often each instance looks for rights requests to remind the coordinator of.
    pub rights_check_secs: u64,
    /// Days before a rights request's due date when the coordinator is reminded (once).
    pub rights_reminder_days: u8,
    /// Rights requests one address may file without an account per day.
    pub rights_per_address_per_day: i64,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            register_dir: None,
            retention: true,
            retention_check_secs: 3600,
            retention_batch: 5000,
            erasure_batch: 100,
            coordinator_email: None,
            authority_name: "Gegevensbeschermingsautoriteit / Autorité de protection des données"
                .into(),
            authority_address: vec![
                "Drukpersstraat 35 / Rue de la Presse 35".into(),
                "1000 Brussel / Bruxelles".into(),
            ],
            authority_website: "https://www.gegevensbeschermingsautoriteit.be".into(),
            clock_file: None,
            rights_check_secs: 3600,
            rights_reminder_days: 7,
            rights_per_address_per_day: 3,
        }
    }
}

/// Subprocessors (`extranet_subprocessors`): the notice period, the EEA rule, what a notice
/// with undecided objections does on its date, and who may read the list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubprocessorsConfig {
    /// Days between a notice's publication and its effective date, at least.
    pub notice_days: u32,
    /// Accept locations outside the European Economic Area, each with a transfer mechanism
    /// (adequacy decision, standard contractual clauses, binding corporate rules).
    pub allow_outside_eea: bool,
    /// `wait`: a notice whose date arrives with undecided objections waits for the decisions;
    /// `proceed`: it takes effect and the objections stay to be decided.
    pub on_open_objections: String,
    /// The list, its JSON, CSV and Atom feed without signing in.
    pub public: bool,
    /// How often each instance applies the notices whose date has come.
    pub apply_every_secs: u64,
    /// For end-to-end tests only: the register's clock reads this file, an RFC 3339 instant,
    /// when it exists (the rest of the server keeps the wall clock). Never set in production.
    pub clock_file: Option<PathBuf>,
}

impl Default for SubprocessorsConfig {
    fn default() -> Self {
        SubprocessorsConfig {
            notice_days: 30,
            allow_outside_eea: false,
            on_open_objections: "wait".into(),
            public: false,
            apply_every_secs: 60,
            clock_file: None,
        }
    }
}

/// The key-encryption key (KEK) that seals the token-signing keys in the database
/// (`extranet_platform::sealed`): 32 random bytes in base64, given as a value (usually
/// `EXTRANET_KEYS__ENCRYPTION_KEY`) or as a file (a systemd credential, a mounted Kubernetes
/// secret). `serve` refuses to start without one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    pub encryption_key: Option<Secret>,
    pub encryption_key_file: Option<PathBuf>,
    /// The KEK before the current one, while rotating: keys sealed under it still open, and
    /// `extranet keys rotate` seals them again under the current one.
    pub previous_encryption_key: Option<Secret>,
    pub previous_encryption_key_file: Option<PathBuf>,
}

impl Config {
    /// The configured KEKs, read (from their files) and checked. Without a current KEK this
    /// is an error naming the key to set.
    pub fn sealer(&self) -> Result<extranet_platform::sealed::Sealer, ConfigError> {
        let k = &self.keys;
        let current = read_kek(
            ("keys.encryption_key", k.encryption_key.as_ref()),
            ("keys.encryption_key_file", k.encryption_key_file.as_deref()),
        )?
        .ok_or_else(|| {
            invalid(
                "keys.encryption_key",
                "no key-encryption key is configured, and the token-signing keys are kept \
                 encrypted with one: set EXTRANET_KEYS__ENCRYPTION_KEY (or \
                 keys.encryption_key_file) to 32 random bytes in base64 \
                 (`extranet keys new-encryption-key` prints one)",
            )
        })?;
        let previous = read_kek(
            (
                "keys.previous_encryption_key",
                k.previous_encryption_key.as_ref(),
            ),
            (
                "keys.previous_encryption_key_file",
                k.previous_encryption_key_file.as_deref(),
            ),
        )?;
        Ok(extranet_platform::sealed::Sealer::new(current, previous))
    }

    fn validate_keys(&self) -> Result<(), ConfigError> {
        let k = &self.keys;
        if k.encryption_key.is_some() && k.encryption_key_file.is_some() {
            return Err(invalid(
                "keys.encryption_key_file",
                "set either keys.encryption_key or keys.encryption_key_file, not both",
            ));
        }
        if k.previous_encryption_key.is_some() && k.previous_encryption_key_file.is_some() {
            return Err(invalid(
                "keys.previous_encryption_key_file",
                "set either keys.previous_encryption_key or keys.previous_encryption_key_file, \
                 not both",
            ));
        }
        // Values given inline are checked now; files are read when the key is needed.
        for (key, value) in [
            ("keys.encryption_key", &k.encryption_key),
            ("keys.previous_encryption_key", &k.previous_encryption_key),
        ] {
            if let Some(v) = value {
                extranet_platform::sealed::Kek::parse(v.expose())
                    .map_err(|e| invalid(key, e.to_string()))?;
            }
        }
        Ok(())
    }
}

/// A KEK given as a value or as a file; `None` when neither is set.
fn read_kek(
    (value_key, value): (&'static str, Option<&Secret>),
    (file_key, file): (&'static str, Option<&Path>),
) -> Result<Option<extranet_platform::sealed::Kek>, ConfigError> {
    use extranet_platform::sealed::Kek;
    if let Some(v) = value {
        return Kek::parse(v.expose())
            .map(Some)
            .map_err(|e| invalid(value_key, e.to_string()));
    }
    let Some(path) = file else {
        return Ok(None);
    };
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|e| invalid(file_key, format!("cannot read {}: {e}", path.display())))?,
    );
    Kek::parse(&text)
        .map(Some)
        .map_err(|e| invalid(file_key, format!("{}: {e}", path.display())))
}

/// Certification documents (`extranet_documents`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentsConfig {
    /// The largest file accepted, in bytes; enforced while the file streams in (413).
    pub max_upload_bytes: u64,
    /// The document types offered, in this order. Each has a label in the pages' languages
    /// (`doctype-<type>` in the Fluent catalogues); a type without one is shown as written.
    pub types: Vec<String>,
    /// The types inspectors may upload into dossiers assigned to them.
    pub inspector_types: Vec<String>,
    /// A malware-scan command that reads the file on standard input and exits 0 when clean,
    /// 1 when not (e.g. `["clamdscan", "--no-summary", "-"]`). Empty: no command.
    pub scan_command: Vec<String>,
    /// A clamd socket to scan with (`INSTREAM`), instead of a command.
    pub clamd_socket: Option<PathBuf>,
    /// An upload that receives nothing for this long is cut off.
    pub idle_timeout_secs: u64,
    /// An upload whose body brings fewer bytes a second than this, over
    /// `min_upload_rate_window_secs` of waiting for it, is cut off (408); 0: no minimum.
    pub min_upload_rate_bytes_per_sec: u64,
    pub min_upload_rate_window_secs: u64,
    /// Uploads one person may begin in any hour (429 beyond); 0: no limit.
    pub uploads_per_hour: u32,
    /// Bytes one person may upload in any hour (429 beyond, also in mid-upload); 0: no limit.
    pub upload_bytes_per_hour: u64,
    /// An interrupted upload's leftovers are collected once untouched for this long.
    pub stale_after_secs: u64,
    /// How often each instance runs the collector.
    pub collect_every_secs: u64,
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        let d = extranet_documents::Settings::default();
        DocumentsConfig {
            max_upload_bytes: d.max_bytes,
            types: d.types,
            inspector_types: d.inspector_types,
            scan_command: Vec::new(),
            clamd_socket: None,
            idle_timeout_secs: d.idle.as_secs(),
            min_upload_rate_bytes_per_sec: d.min_rate,
            min_upload_rate_window_secs: d.rate_window.as_secs(),
            uploads_per_hour: d.uploads_per_hour,
            upload_bytes_per_hour: d.upload_bytes_per_hour,
            stale_after_secs: d.stale_after.as_secs(),
            collect_every_secs: d.collect_every.as_secs(),
        }
    }
}

impl Config {
    /// The documents service's settings.
    pub fn document_settings(&self) -> extranet_documents::Settings {
        let d = &self.documents;
        let scan = if let Some(socket) = &d.clamd_socket {
            Some(extranet_documents::scan::ScanHook::Clamd(socket.clone()))
        } else if !d.scan_command.is_empty() {
            Some(extranet_documents::scan::ScanHook::Command(
                d.scan_command.clone(),
            ))
        } else {
            None
        };
        extranet_documents::Settings {
            max_bytes: d.max_upload_bytes,
            types: d.types.clone(),
            inspector_types: d.inspector_types.clone(),
            scan,
            idle: Duration::from_secs(d.idle_timeout_secs),
            min_rate: d.min_upload_rate_bytes_per_sec,
            rate_window: Duration::from_secs(d.min_upload_rate_window_secs),
            uploads_per_hour: d.uploads_per_hour,
            upload_bytes_per_hour: d.upload_bytes_per_hour,
            stale_after: Duration::from_secs(d.stale_after_secs),
            collect_every: Duration::from_secs(d.collect_every_secs),
        }
    }

    /// The subprocessors service's settings; `base_url` is where mails link to.
    pub fn subprocessor_settings(&self, base_url: &str) -> extranet_subprocessors::Settings {
        let s = &self.subprocessors;
        extranet_subprocessors::Settings {
            notice_days: s.notice_days,
            allow_outside_eea: s.allow_outside_eea,
            on_open_objections: if s.on_open_objections == "proceed" {
                extranet_subprocessors::OnOpenObjections::Proceed
            } else {
                extranet_subprocessors::OnOpenObjections::Wait
            },
            public: s.public,
            apply_every: Duration::from_secs(s.apply_every_secs),
            time_zone: self.site.tz(),
            base_url: base_url.to_owned(),
            site_name: self.site.name.clone(),
        }
    }

    fn validate_privacy(&self) -> Result<(), ConfigError> {
        let p = &self.privacy;
        if !(60..=86_400).contains(&p.retention_check_secs) {
            return Err(invalid(
                "privacy.retention_check_secs",
                "between 60 and 86400 seconds",
            ));
        }
        if !(1..=50_000).contains(&p.retention_batch) {
            return Err(invalid("privacy.retention_batch", "between 1 and 50000"));
        }
        if !(1..=10_000).contains(&p.erasure_batch) {
            return Err(invalid("privacy.erasure_batch", "between 1 and 10000"));
        }
        if let Some(e) = &p.coordinator_email
            && e.parse::<extranet_identity::types::EmailAddress>().is_err()
        {
            return Err(invalid(
                "privacy.coordinator_email",
                "not an e-mail address",
            ));
        }
        if !p.authority_website.starts_with("https://") {
            return Err(invalid("privacy.authority_website", "an https:// address"));
        }
        Ok(())
    }

    /// What the privacy notice names besides the register (the site is the controller), and
    /// where its mails link to.
    pub fn notice_settings(&self, base_url: &str) -> extranet_privacy::notice::NoticeSettings {
        use extranet_privacy::notice::{Authority, Contacts, Controller, NoticeSettings};
        let s = &self.site;
        let p = &self.privacy;
        NoticeSettings {
            contacts: Contacts {
                controller: Controller {
                    name: s.name.clone(),
                    address: s.address.clone(),
                    phone: s.phone.clone(),
                    email: s.email.clone(),
                    website: s.website.clone(),
                    enterprise_number: s.enterprise_number.clone(),
                },
                coordinator_email: p.coordinator_email.clone(),
                authority: Authority {
                    name: p.authority_name.clone(),
                    address: p.authority_address.clone(),
                    website: p.authority_website.clone(),
                },
            },
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// Where the processing register comes from.
    pub fn privacy_settings(&self) -> extranet_privacy::Settings {
        extranet_privacy::Settings {
            register_dir: self.privacy.register_dir.clone(),
            batch: self.privacy.retention_batch,
            erasure_batch: self.privacy.erasure_batch,
        }
    }

    fn validate_subprocessors(&self) -> Result<(), ConfigError> {
        let s = &self.subprocessors;
        if !matches!(s.on_open_objections.as_str(), "wait" | "proceed") {
            return Err(invalid(
                "subprocessors.on_open_objections",
                format!("\"{}\" is not wait or proceed", s.on_open_objections),
            ));
        }
        if s.apply_every_secs == 0 {
            return Err(invalid(
                "subprocessors.apply_every_secs",
                "must be at least 1",
            ));
        }
        if s.notice_days > 365 {
            return Err(invalid("subprocessors.notice_days", "at most 365 days"));
        }
        Ok(())
    }

    fn validate_auth(&self) -> Result<(), ConfigError> {
        let a = &self.auth;
        if !(1..=MAX_ACCESS_LIFETIME_SECS).contains(&a.access_lifetime_secs) {
            return Err(invalid(
                "auth.access_lifetime_secs",
                format!("must be between 1 and {MAX_ACCESS_LIFETIME_SECS}"),
            ));
        }
        if a.leeway_secs > 60 {
            return Err(invalid("auth.leeway_secs", "must be at most 60"));
        }
        if a.refresh_idle_secs == 0 {
            return Err(invalid("auth.refresh_idle_secs", "must be at least 1"));
        }
        if a.refresh_absolute_secs < a.refresh_idle_secs {
            return Err(invalid(
                "auth.refresh_absolute_secs",
                "must be at least auth.refresh_idle_secs",
            ));
        }
        for (key, v) in [
            ("auth.login_free_attempts", u64::from(a.login_free_attempts)),
            ("auth.login_base_delay_secs", a.login_base_delay_secs),
            (
                "auth.mails_per_account_per_hour",
                u64::from(a.mails_per_account_per_hour),
            ),
            ("auth.mails_per_address", u64::from(a.mails_per_address)),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if a.login_max_delay_secs < a.login_base_delay_secs {
            return Err(invalid(
                "auth.login_max_delay_secs",
                "must be at least auth.login_base_delay_secs",
            ));
        }
        Ok(())
    }

    fn validate_documents(&self) -> Result<(), ConfigError> {
        let d = &self.documents;
        if d.max_upload_bytes == 0 {
            return Err(invalid("documents.max_upload_bytes", "must be at least 1"));
        }
        if d.types.is_empty() {
            return Err(invalid(
                "documents.types",
                "at least one document type is needed",
            ));
        }
        for t in &d.types {
            if t.is_empty()
                || t.len() > 40
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(invalid(
                    "documents.types",
                    format!("{t:?}: a type is 1 to 40 of a-z, 0-9 and _"),
                ));
            }
        }
        if let Some(t) = d.inspector_types.iter().find(|t| !d.types.contains(t)) {
            return Err(invalid(
                "documents.inspector_types",
                format!("{t:?} is not one of documents.types"),
            ));
        }
        for (key, v) in [
            ("documents.idle_timeout_secs", d.idle_timeout_secs),
            (
                "documents.min_upload_rate_window_secs",
                d.min_upload_rate_window_secs,
            ),
            ("documents.stale_after_secs", d.stale_after_secs),
            ("documents.collect_every_secs", d.collect_every_secs),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if d.stale_after_secs <= d.idle_timeout_secs {
            return Err(invalid(
                "documents.stale_after_secs",
                "must be longer than documents.idle_timeout_secs, or live uploads are collected",
            ));
        }
        Ok(())
    }
}

/// Where the authorization policy comes from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// A directory with `model.conf`, `policy.csv`, `fields.csv` and `roles.csv`; re-read on SIGHUP. Without
    /// it, the policy built into the binary (the source tree's `policies/`) is used.
    pub policy_dir: Option<PathBuf>,
}

impl Config {
    /// The policy source configured (files or the built-in one).
    pub fn policy_source(
        &self,
    ) -> Result<extranet_access::PolicySource, extranet_access::AccessError> {
        match &self.access.policy_dir {
            Some(dir) => extranet_access::PolicySource::from_dir(dir),
            None => Ok(extranet_access::PolicySource::embedded()),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransportKind {
    /// `.eml` files in `<data_dir>/mail` (the embedded default).
    #[default]
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTlsMode {
    /// Plain SMTP: only for a relay on the same host.
    None,
    #[default]
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// The sender, e.g. `Extranet <extranet@cert.example>`.
    pub from: String,
    pub transport: MailTransportKind,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTlsMode,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<Secret>,
    /// How often the outbox is checked when nothing wakes the sender.
    pub poll_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            from: "Extranet <extranet@localhost>".into(),
            transport: MailTransportKind::File,
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_tls: SmtpTlsMode::Starttls,
            smtp_username: None,
            smtp_password: None,
            poll_secs: 10,
        }
    }
}

/// The yearly "is your data still correct?" mail (`extranet_identity::confirmation`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfirmationConfig {
    /// A person is asked again this many days after they last confirmed their data (or, if
    /// never, after their account was created); 0 turns the mail off.
    pub interval_days: u64,
    /// How often each instance looks for people to ask.
    pub check_every_secs: u64,
}

impl Default for ConfirmationConfig {
    fn default() -> Self {
        ConfirmationConfig {
            interval_days: 365,
            check_every_secs: 3600,
        }
    }
}

/// The longest `confirmation.interval_days` accepted (ten years).
const MAX_CONFIRMATION_DAYS: u64 = 3650;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// `iss` of access tokens; empty means the public URL (or `extranet`).
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
    /// Access-token lifetime, at most 300 s: the bound within which a deactivated account's
    /// token stops working.
    pub access_lifetime_secs: u64,
    /// Clock skew tolerated when checking `exp` and `nbf`.
    pub leeway_secs: u64,
    /// A refresh token unused for this long expires (the session ends when idle).
    pub refresh_idle_secs: u64,
    /// A session ends this long after sign-in, however active.
    pub refresh_absolute_secs: u64,
    /// Failed sign-ins allowed (per client address and per account) before delays start.
    pub login_free_attempts: u32,
    /// The first delay after the free attempts; it doubles with each further failure.
    pub login_base_delay_secs: u64,
    pub login_max_delay_secs: u64,
    /// Password-reset and invitation links mailed to one account within an hour.
    pub mails_per_account_per_hour: u32,
    /// Such mails asked from one client address before each further one waits (a minute, then
    /// doubling up to an hour).
    pub mails_per_address: u32,
    /// Holders of these roles sign in with a second factor (TOTP), enrolling at their next
    /// sign-in if they have none. Other people may opt in on their account page. `[]`: nobody
    /// is made to.
    pub second_factor_roles: Vec<String>,
    /// Wrong second-factor codes in a row (per person and per address) before each attempt
    /// must wait…
    pub second_factor_attempts: u32,
    /// …this long at first, doubling with each further wrong code…
    pub second_factor_base_delay_secs: u64,
    /// …up to this.
    pub second_factor_max_delay_secs: u64,
}

/// The longest access-token lifetime accepted: the bound within which anything not revoked
/// explicitly (a deleted signing key, say) stops working.
pub const MAX_ACCESS_LIFETIME_SECS: u64 = 300;

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            issuer: String::new(),
            audience: "extranet".into(),
            access_lifetime_secs: 300,
            leeway_secs: 5,
            refresh_idle_secs: 2 * 3600,
            refresh_absolute_secs: 12 * 3600,
            login_free_attempts: 5,
            login_base_delay_secs: 2,
            login_max_delay_secs: 15 * 60,
            mails_per_account_per_hour: 3,
            mails_per_address: 20,
            second_factor_roles: extranet_identity::factor::DEFAULT_REQUIRED_ROLES
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            second_factor_attempts: extranet_identity::factor::DEFAULT_ATTEMPTS,
            second_factor_base_delay_secs: 30,
            second_factor_max_delay_secs: 15 * 60,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The HTTPS listener.
    pub listen: SocketAddr,
    /// An optional plain-HTTP listener that only redirects to HTTPS.
    pub redirect_listen: Option<SocketAddr>,
    /// The address people use (`https://extranet.example.org`); redirects and links use it.
    pub public_url: Option<url::Url>,
    pub max_connections: usize,
    pub handshake_timeout_secs: u64,
    pub header_read_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
    pub shutdown_grace_secs: u64,
    pub hsts_max_age_secs: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain. With neither file set a development certificate is generated.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// How often the files are checked for a renewed certificate (SIGHUP reloads at once).
    pub reload_check_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`; empty means `sqlite://<data_dir>/extranet.db`.
    pub url: DatabaseUrl,
    pub max_connections: u32,
    pub acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    #[default]
    Local,
    S3,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    pub kind: StorageKind,
    pub local: LocalStorageConfig,
    pub s3: S3Config,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LocalStorageConfig {
    /// Empty means `<data_dir>/objects`.
    pub path: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub allow_http: bool,
    pub virtual_hosted_style: bool,
    pub request_timeout_secs: u64,
    /// Keep every object under this prefix, so that several installations (or test runs) can
    /// share a bucket without seeing each other's objects.
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter, e.g. `info` or `extranet=debug,info`.
    pub filter: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// When set, `/metrics` requires `Authorization: Bearer <token>`; when not, it answers only
    /// to clients on the loopback interface.
    pub token: Option<Secret>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            migrate_on_start: true,
            server: ServerConfig::default(),
            tls: TlsConfig {
                reload_check_secs: 10,
                ..TlsConfig::default()
            },
            database: DatabaseConfig::default(),
            storage: StorageConfig::default(),
            log: LogConfig::default(),
            audit: AuditConfig::default(),
            metrics: MetricsConfig::default(),
            auth: AuthConfig::default(),
            mail: MailConfig::default(),
            access: AccessConfig::default(),
            site: extranet_web::Site::default(),
            confirmation: ConfirmationConfig::default(),
            documents: DocumentsConfig::default(),
            subprocessors: SubprocessorsConfig::default(),
            privacy: PrivacyConfig::default(),
            keys: KeysConfig::default(),
            backup: BackupConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            redirect_listen: None,
            public_url: None,
            max_connections: 1024,
            handshake_timeout_secs: 10,
            header_read_timeout_secs: 10,
            idle_timeout_secs: 60,
            request_timeout_secs: 30,
            body_limit_bytes: 2 * 1024 * 1024,
            shutdown_grace_secs: 30,
            hsts_max_age_secs: 63_072_000,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: DatabaseUrl::default(),
            max_connections: 10,
            acquire_timeout_secs: 10,
        }
    }
}

impl S3Config {
    /// Checks a bucket's settings; `key` names the section in errors (`storage.s3`, …).
    fn validate(&self, key: &str) -> Result<(), ConfigError> {
        let at = |field: &str| format!("{key}.{field}");
        if self.bucket.trim().is_empty() {
            return Err(invalid(at("bucket"), "is required"));
        }
        if self.region.trim().is_empty() {
            return Err(invalid(at("region"), "must not be empty"));
        }
        if let Some(ep) = &self.endpoint {
            let u = url::Url::parse(ep)
                .map_err(|e| invalid(at("endpoint"), format!("not a URL: {e}")))?;
            if u.scheme() == "http" && !self.allow_http {
                return Err(invalid(
                    at("endpoint"),
                    format!("is http:// but {key}.allow_http is false"),
                ));
            }
        }
        if self.access_key_id.expose().is_empty() || self.secret_access_key.expose().is_empty() {
            return Err(invalid(
                at("access_key_id"),
                "access_key_id and secret_access_key are required for S3",
            ));
        }
        if self.request_timeout_secs == 0 {
            return Err(invalid(at("request_timeout_secs"), "must be at least 1"));
        }
        Ok(())
    }

    /// The object store options for this bucket.
    pub fn options(&self) -> S3Options {
        S3Options {
            endpoint: self.endpoint.clone(),
            bucket: self.bucket.clone(),
            region: self.region.clone(),
            access_key_id: self.access_key_id.expose().to_owned(),
            secret_access_key: self.secret_access_key.expose().to_owned(),
            allow_http: self.allow_http,
            virtual_hosted_style: self.virtual_hosted_style,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            prefix: self
                .prefix
                .clone()
                .filter(|p| !p.trim_matches('/').is_empty()),
        }
    }
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: None,
            bucket: String::new(),
            region: "us-east-1".into(),
            access_key_id: Secret::default(),
            secret_access_key: Secret::default(),
            allow_http: false,
            virtual_hosted_style: false,
            request_timeout_secs: 15,
            prefix: None,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            filter: "info".into(),
        }
    }
}

/// A configuration problem: which key, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {problem}")]
    Invalid {
        key: std::borrow::Cow<'static, str>,
        problem: String,
    },
}

fn invalid(
    key: impl Into<std::borrow::Cow<'static, str>>,
    problem: impl Into<String>,
) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

impl Config {
    /// Defaults, overridden by `file` (if given) and then by the environment.
    pub fn load(file: Option<&Path>, base: Config) -> Result<Config, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(base));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Load(format!(
                    "configuration file {} does not exist or is not a file",
                    path.display()
                )));
            }
            fig = fig.merge(Toml::file_exact(path));
        }
        // EXTRANET_CONFIG names the file itself and is read by the command line.
        fig = fig.merge(Env::prefixed("EXTRANET_").ignore(&["CONFIG"]).split("__"));
        let config: Config = fig.extract().map_err(|e| ConfigError::Load(one_line(&e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let s = &self.server;
        for (key, v) in [
            ("server.handshake_timeout_secs", s.handshake_timeout_secs),
            (
                "server.header_read_timeout_secs",
                s.header_read_timeout_secs,
            ),
            ("server.idle_timeout_secs", s.idle_timeout_secs),
            ("server.request_timeout_secs", s.request_timeout_secs),
            ("tls.reload_check_secs", self.tls.reload_check_secs),
            (
                "database.acquire_timeout_secs",
                self.database.acquire_timeout_secs,
            ),
        ] {
            if v == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if s.max_connections == 0 {
            return Err(invalid("server.max_connections", "must be at least 1"));
        }
        if self.audit.checkpoint_secs != 0 && self.audit.checkpoint_secs < 60 {
            return Err(invalid(
                "audit.checkpoint_secs",
                "0 (on demand only) or at least 60 seconds",
            ));
        }
        if s.body_limit_bytes < 1024 {
            return Err(invalid("server.body_limit_bytes", "must be at least 1024"));
        }
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        if let Some(url) = &s.public_url {
            if url.scheme() != "https" {
                return Err(invalid("server.public_url", "must start with https://"));
            }
            if url.host_str().is_none() {
                return Err(invalid("server.public_url", "must name a host"));
            }
        }
        if s.redirect_listen == Some(s.listen) && s.listen.port() != 0 {
            return Err(invalid(
                "server.redirect_listen",
                "must differ from server.listen",
            ));
        }
        match (&self.tls.cert_file, &self.tls.key_file) {
            (Some(_), None) => {
                return Err(invalid("tls.key_file", "is required with tls.cert_file"));
            }
            (None, Some(_)) => {
                return Err(invalid("tls.cert_file", "is required with tls.key_file"));
            }
            _ => {}
        }
        self.database_target()?;
        if self.storage.kind == StorageKind::S3 {
            self.storage.s3.validate("storage.s3")?;
        }
        if let Some(c) = &self.audit.checkpoint_s3 {
            c.validate("audit.checkpoint_s3")?;
            let documents = &self.storage.s3;
            if self.storage.kind == StorageKind::S3
                && c.bucket == documents.bucket
                && c.endpoint == documents.endpoint
            {
                return Err(invalid(
                    "audit.checkpoint_s3.bucket",
                    "must not be the documents' bucket: checkpoints need a bucket of their own \
                     (with object lock), documents must stay erasable",
                ));
            }
        }
        if let Some(c) = &self.backup.s3 {
            c.validate("backup.s3")?;
            let documents = &self.storage.s3;
            if self.storage.kind == StorageKind::S3
                && c.bucket == documents.bucket
                && c.endpoint == documents.endpoint
                && c.prefix == documents.prefix
            {
                return Err(invalid(
                    "backup.s3.bucket",
                    "must not be where the documents are: give backups a bucket (or at least a \
                     prefix) of their own",
                ));
            }
            if self.backup.dir.is_some() {
                return Err(invalid(
                    "backup.s3",
                    "backup.dir is set too: choose one place for backups",
                ));
            }
        }
        if self.backup.every_secs > 0 && self.backup_target().is_none() {
            return Err(invalid(
                "backup.every_secs",
                "needs backup.dir or backup.s3: where should the backups go?",
            ));
        }
        if self.backup.keep == 0 {
            return Err(invalid("backup.keep", "must keep at least one backup"));
        }
        if self.audit.checkpoint_mail_secs != 0 && self.audit.checkpoint_mail_secs < 3600 {
            return Err(invalid(
                "audit.checkpoint_mail_secs",
                "0 (never) or at least 3600 seconds",
            ));
        }
        if !extranet_notify::sender::valid_sender(&self.mail.from) {
            return Err(invalid(
                "mail.from",
                "is not an e-mail address (e.g. Extranet <extranet@cert.example>)",
            ));
        }
        if self.mail.transport == MailTransportKind::Smtp && self.mail.smtp_host.trim().is_empty() {
            return Err(invalid(
                "mail.smtp_host",
                "is required when mail.transport = \"smtp\"",
            ));
        }
        if self.mail.poll_secs == 0 {
            return Err(invalid("mail.poll_secs", "must be at least 1"));
        }
        if self.confirmation.interval_days > MAX_CONFIRMATION_DAYS {
            return Err(invalid(
                "confirmation.interval_days",
                format!("must be at most {MAX_CONFIRMATION_DAYS} (0 turns the mail off)"),
            ));
        }
        if self.confirmation.check_every_secs == 0 {
            return Err(invalid(
                "confirmation.check_every_secs",
                "must be at least 1",
            ));
        }
        self.validate_auth()?;
        self.validate_subprocessors()?;
        self.validate_privacy()?;
        self.validate_documents()?;
        self.validate_second_factor()?;
        self.validate_keys()?;
        self.site
            .validate()
            .map_err(|(key, problem)| invalid(key, problem))?;
        tracing_subscriber::EnvFilter::try_new(&self.log.filter)
            .map_err(|e| invalid("log.filter", e.to_string()))?;
        Ok(())
    }

    pub fn database_target(&self) -> Result<DbTarget, ConfigError> {
        if self.database.url.0.trim().is_empty() {
            return Ok(DbTarget::Sqlite(self.data_dir.join("extranet.db")));
        }
        DbTarget::parse(self.database.url.0.trim())
            .map_err(|e| invalid("database.url", e.to_string()))
    }

    /// Where backups go, when configured (`backup.dir` or `backup.s3`).
    pub fn backup_target(&self) -> Option<StorageOptions> {
        match (&self.backup.dir, &self.backup.s3) {
            (Some(dir), _) => Some(StorageOptions::Local { root: dir.clone() }),
            (None, Some(s3)) => Some(StorageOptions::S3(s3.options())),
            (None, None) => None,
        }
    }

    pub fn storage_options(&self) -> StorageOptions {
        match self.storage.kind {
            StorageKind::Local => StorageOptions::Local {
                root: self
                    .storage
                    .local
                    .path
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("objects")),
            },
            StorageKind::S3 => StorageOptions::S3(self.storage.s3.options()),
        }
    }

    /// The token settings, with the key-encryption keys read: an error names the missing or
    /// unreadable key.
    pub fn token_settings(&self) -> Result<extranet_identity::tokens::TokenSettings, ConfigError> {
        let issuer = if !self.auth.issuer.trim().is_empty() {
            self.auth.issuer.clone()
        } else if let Some(url) = &self.server.public_url {
            url.as_str().trim_end_matches('/').to_owned()
        } else {
            "extranet".to_owned()
        };
        Ok(extranet_identity::tokens::TokenSettings {
            issuer,
            audience: self.auth.audience.clone(),
            access_lifetime: Duration::from_secs(self.auth.access_lifetime_secs),
            leeway: Duration::from_secs(self.auth.leeway_secs),
            sealer: self.sealer()?,
        })
    }

    pub fn session_settings(&self) -> extranet_identity::sessions::SessionSettings {
        extranet_identity::sessions::SessionSettings {
            idle_lifetime: Duration::from_secs(self.auth.refresh_idle_secs),
            absolute_lifetime: Duration::from_secs(self.auth.refresh_absolute_secs),
        }
    }

    pub fn throttle_settings(&self) -> extranet_identity::throttle::ThrottleSettings {
        extranet_identity::throttle::ThrottleSettings {
            free_attempts: self.auth.login_free_attempts,
            base_delay: Duration::from_secs(self.auth.login_base_delay_secs.max(1)),
            max_delay: Duration::from_secs(self.auth.login_max_delay_secs.max(1)),
            ..Default::default()
        }
    }

    pub fn mail_limits(&self) -> extranet_identity::recovery::MailLimits {
        let defaults = extranet_identity::recovery::MailLimits::default();
        extranet_identity::recovery::MailLimits {
            per_account_per_hour: self.auth.mails_per_account_per_hour,
            // The throttle lets `free_attempts` go by and blocks after the next one: the Nth
            // mail is the last before the wait.
            per_address: extranet_identity::throttle::ThrottleSettings {
                free_attempts: self.auth.mails_per_address.saturating_sub(1),
                ..defaults.per_address
            },
        }
    }

    /// Who must sign in with a second factor, and how wrong codes are slowed down.
    pub fn second_factor_settings(&self) -> extranet_identity::factor::FactorSettings {
        let a = &self.auth;
        extranet_identity::factor::FactorSettings {
            // Checked by `validate`: every name is a role.
            required_roles: a
                .second_factor_roles
                .iter()
                .filter_map(|r| extranet_identity::Role::parse(r).ok())
                .collect(),
            issuer: self.site.name.clone(),
            throttle: extranet_identity::factor::throttle_settings(
                a.second_factor_attempts,
                Duration::from_secs(a.second_factor_base_delay_secs.max(1)),
                Duration::from_secs(a.second_factor_max_delay_secs.max(1)),
            ),
            ..Default::default()
        }
    }

    fn validate_second_factor(&self) -> Result<(), ConfigError> {
        let a = &self.auth;
        for role in &a.second_factor_roles {
            if extranet_identity::Role::parse(role).is_err() {
                let known: Vec<&str> = extranet_identity::Role::ALL
                    .iter()
                    .map(|r| r.as_str())
                    .collect();
                return Err(invalid(
                    "auth.second_factor_roles",
                    format!("{role:?} is not a role (one of {})", known.join(", ")),
                ));
            }
        }
        if a.second_factor_attempts == 0 {
            return Err(invalid("auth.second_factor_attempts", "must be at least 1"));
        }
        if a.second_factor_base_delay_secs == 0 {
            return Err(invalid(
                "auth.second_factor_base_delay_secs",
                "must be at least 1",
            ));
        }
        if a.second_factor_max_delay_secs < a.second_factor_base_delay_secs {
            return Err(invalid(
                "auth.second_factor_max_delay_secs",
                "must be at least auth.second_factor_base_delay_secs",
            ));
        }
        Ok(())
    }

    pub fn mail_transport(&self) -> extranet_notify::MailTransport {
        match self.mail.transport {
            MailTransportKind::File => {
                extranet_notify::MailTransport::Files(self.data_dir.join("mail"))
            }
            MailTransportKind::Smtp => extranet_notify::MailTransport::Smtp {
                host: self.mail.smtp_host.clone(),
                port: self.mail.smtp_port,
                tls: match self.mail.smtp_tls {
                    SmtpTlsMode::None => extranet_notify::SmtpTls::None,
                    SmtpTlsMode::Starttls => extranet_notify::SmtpTls::StartTls,
                    SmtpTlsMode::Tls => extranet_notify::SmtpTls::Tls,
                },
                credentials: match (&self.mail.smtp_username, &self.mail.smtp_password) {
                    (Some(u), Some(p)) => Some((u.clone(), p.expose().to_owned())),
                    _ => None,
                },
            },
        }
    }

    /// How long a confirmation of one's data holds; `None` when the mail is turned off.
    pub fn confirmation_interval(&self) -> Option<Duration> {
        (self.confirmation.interval_days > 0)
            .then(|| Duration::from_secs(self.confirmation.interval_days * 24 * 60 * 60))
    }

    /// The effective configuration as TOML, secrets and passwords redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

/// figment's errors, one line each, naming the key in the form the file uses (`server.listen`)
/// and where the value came from.
fn one_line(e: &figment::Error) -> String {
    e.clone()
        .into_iter()
        .map(|e| {
            let from = match &e.metadata {
                Some(m) => match &m.source {
                    Some(figment::Source::File(path)) => format!(" in {}", path.display()),
                    _ => format!(" (from {})", m.name),
                },
                None => String::new(),
            };
            let key = e.path.join(".").to_lowercase();
            if key.is_empty() {
                format!("{}{from}", e.kind)
            } else {
                format!("key `{key}`{from}: {}", e.kind)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
        .replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_passwords_never_render() {
        let mut c = Config::default();
        c.storage.s3.secret_access_key = Secret("s3-very-secret".into());
        c.metrics.token = Some(Secret("metrics-very-secret".into()));
        c.database.url = DatabaseUrl("postgres://app:pg-very-secret@db/app".into());
        let out = c.to_redacted_toml();
        assert!(!out.contains("very-secret"), "{out}");
        assert!(out.contains("postgres://app:REDACTED@db/app"), "{out}");
        assert!(!format!("{c:?}").contains("very-secret"));
    }

    #[test]
    fn s3_needs_a_bucket() {
        let mut c = Config::default();
        c.storage.kind = StorageKind::S3;
        let err = c
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("storage.s3.bucket"), "{err}");
    }

    #[test]
    fn checkpoints_need_a_bucket_of_their_own_and_a_sane_mail_period() {
        let bucket = S3Config {
            endpoint: Some("https://s3.example.net".into()),
            bucket: "documents".into(),
            access_key_id: Secret("id".into()),
            secret_access_key: Secret("key".into()),
            ..S3Config::default()
        };
        let mut c = Config::default();
        c.storage.kind = StorageKind::S3;
        c.storage.s3 = bucket.clone();
        c.audit.checkpoint_s3 = Some(bucket.clone());
        let err = validation_error(&c);
        assert!(err.contains("audit.checkpoint_s3.bucket"), "{err}");
        c.audit.checkpoint_s3 = Some(S3Config {
            bucket: "audit".into(),
            ..bucket.clone()
        });
        assert_eq!(validation_error(&c), "");
        c.audit.checkpoint_s3 = Some(S3Config {
            bucket: "audit".into(),
            secret_access_key: Secret::default(),
            ..bucket
        });
        let err = validation_error(&c);
        assert!(err.contains("audit.checkpoint_s3.access_key_id"), "{err}");

        let mut c = Config::default();
        c.audit.checkpoint_mail_secs = 60;
        let err = validation_error(&c);
        assert!(err.contains("audit.checkpoint_mail_secs"), "{err}");
        c.audit.checkpoint_mail_secs = 0;
        assert_eq!(validation_error(&c), "");
    }

    #[test]
    fn backups_need_a_place_of_their_own_and_keep_at_least_one() {
        let bucket = S3Config {
            endpoint: Some("https://s3.example.net".into()),
            bucket: "documents".into(),
            access_key_id: Secret("id".into()),
            secret_access_key: Secret("key".into()),
            ..S3Config::default()
        };
        let mut c = Config::default();
        c.backup.every_secs = 86_400;
        let err = validation_error(&c);
        assert!(err.contains("backup.every_secs"), "{err}");
        c.backup.dir = Some(PathBuf::from("/mnt/backups"));
        assert_eq!(validation_error(&c), "");
        c.backup.keep = 0;
        assert!(validation_error(&c).contains("backup.keep"));
        c.backup.keep = 7;

        c.storage.kind = StorageKind::S3;
        c.storage.s3 = bucket.clone();
        c.backup.s3 = Some(bucket.clone());
        let err = validation_error(&c);
        assert!(err.contains("backup.s3"), "{err}");
        c.backup.dir = None;
        let err = validation_error(&c);
        assert!(err.contains("backup.s3.bucket"), "{err}");
        c.backup.s3 = Some(S3Config {
            prefix: Some("backups".into()),
            ..bucket
        });
        assert_eq!(validation_error(&c), "", "a prefix of its own will do");
        assert!(matches!(c.backup_target(), Some(StorageOptions::S3(_))));
    }

    fn validation_error(c: &Config) -> String {
        c.validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn confirmation_settings_are_checked() {
        let c = Config::default();
        assert_eq!(
            c.confirmation_interval(),
            Some(Duration::from_secs(365 * 24 * 3600))
        );
        let mut off = Config::default();
        off.confirmation.interval_days = 0;
        assert!(off.validate().is_ok(), "0 turns the mail off");
        assert_eq!(off.confirmation_interval(), None);

        let mut c = Config::default();
        c.confirmation.interval_days = MAX_CONFIRMATION_DAYS + 1;
        let err = validation_error(&c);
        assert!(err.contains("confirmation.interval_days"), "{err}");

        let mut c = Config::default();
        c.confirmation.check_every_secs = 0;
        let err = validation_error(&c);
        assert!(err.contains("confirmation.check_every_secs"), "{err}");
    }

    #[test]
    fn second_factor_roles_are_checked_and_come_from_the_environment() {
        let c = Config::default();
        let s = c.second_factor_settings();
        assert_eq!(
            s.required_roles,
            extranet_identity::factor::DEFAULT_REQUIRED_ROLES.to_vec()
        );
        assert_eq!(s.throttle.free_attempts, 4, "the fifth wrong code waits");

        let mut c = Config::default();
        c.auth.second_factor_roles = vec!["staff".into(), "boss".into()];
        let err = validation_error(&c);
        assert!(
            err.contains("auth.second_factor_roles") && err.contains("boss"),
            "{err}"
        );

        #[allow(clippy::result_large_err)] // figment's own error type, in a test
        figment::Jail::expect_with(|jail| {
            jail.set_env("EXTRANET_AUTH__SECOND_FACTOR_ROLES", "[]");
            let c = Config::load(None, Config::default()).map_err(|e| e.to_string())?;
            assert!(c.second_factor_settings().required_roles.is_empty());
            jail.set_env(
                "EXTRANET_AUTH__SECOND_FACTOR_ROLES",
                "[staff, client_admin]",
            );
            let c = Config::load(None, Config::default()).map_err(|e| e.to_string())?;
            assert_eq!(
                c.second_factor_settings().required_roles,
                vec![
                    extranet_identity::Role::Staff,
                    extranet_identity::Role::ClientAdmin
                ]
            );
            Ok(())
        });
    }

    #[test]
    fn public_url_must_be_https() {
        let mut c = Config::default();
        c.server.public_url = url::Url::parse("http://example.org").ok();
        let err = c
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("server.public_url"), "{err}");
    }
}
