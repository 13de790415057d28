//! Delivers the outbox: claims due messages (safely from several instances), sends them, and
//! retries failures with exponential backoff.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use extranet_platform::{Clock, Db, on_pool};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::FromRow;
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::templates;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain SMTP: only for a relay on the same host or a test server.
    None,
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Clone)]
pub enum MailTransport {
    /// `.eml` files in this directory (the embedded default).
    Files(PathBuf),
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        credentials: Option<(String, String)>,
    },
}

const MAX_ATTEMPTS: i32 = 10;
const BATCH: i64 = 20;

pub struct Sender {
    db: Db,
    clock: Arc<dyn Clock>,
    from: Mailbox,
    transport: Transport,
    wake: Notify,
    poll: Duration,
}

enum Transport {
    Files(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

#[derive(FromRow)]
struct Row {
    id: Uuid,
    recipient: String,
    language: String,
    template: String,
    payload: String,
    attempts: i32,
    next_attempt_at: OffsetDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("mail configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl Sender {
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        from: &str,
        transport: &MailTransport,
        poll: Duration,
    ) -> Result<Sender, SendError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| SendError::Config(format!("sender address `{from}`: {e}")))?;
        let transport = match transport {
            MailTransport::Files(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| SendError::Config(format!("{}: {e}", dir.display())))?;
                Transport::Files(AsyncFileTransport::new(dir))
            }
            MailTransport::Smtp {
                host,
                port,
                tls,
                credentials,
            } => {
                let mut builder = match tls {
                    SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
                    SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                        .map_err(|e| SendError::Config(e.to_string()))?,
                    SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                        .map_err(|e| SendError::Config(e.to_string()))?,
                }
                .port(*port)
                .timeout(Some(Duration::from_secs(20)));
                if let Some((user, password)) = credentials {
                    builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Sender {
            db,
            clock,
            from,
            transport,
            wake: Notify::new(),
            poll,
        })
    }

    /// Asks the sender to look at the outbox now (after an enqueue).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Runs until `shutdown`.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        loop {
            match self.deliver_due().await {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "outbox: delivery round failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.wake.notified() => {},
                _ = tokio::time::sleep(self.poll) => {},
            }
        }
    }

    /// One round: claim and send what is due; returns how many were attempted.
    pub async fn deliver_due(&self) -> Result<usize, SendError> {
        let now = self.clock.now();
        let due: Vec<Row> = on_pool!(&self.db, read, |pool| {
            sqlx::query_as(
                "SELECT id, recipient, language, template, payload, attempts, next_attempt_at \
                 FROM outbox WHERE sent_at IS NULL AND attempts < $1 AND next_attempt_at <= $2 \
                 ORDER BY next_attempt_at LIMIT $3",
            )
            .bind(MAX_ATTEMPTS)
            .bind(now)
            .bind(BATCH)
            .fetch_all(pool)
            .await
        })?;
        let mut attempted = 0;
        for row in due {
            // Claim: push the next attempt out by a lease; only one instance wins the update.
            let lease = now + Duration::from_secs(120);
            let claimed = on_pool!(&self.db, write, |pool| {
                sqlx::query(
                    "UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3 \
                     AND sent_at IS NULL",
                )
                .bind(lease)
                .bind(row.id)
                .bind(row.next_attempt_at)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
            })?;
            if claimed != 1 {
                continue;
            }
            attempted += 1;
            let result = self.send(&row).await;
            let now = self.clock.now();
            match result {
                Ok(()) => {
                    on_pool!(&self.db, write, |pool| {
                        sqlx::query("UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL WHERE id = $2")
                            .bind(now)
                            .bind(row.id)
                            .execute(pool)
                            .await
                            .map(|_| ())
                    })?;
                    tracing::info!(mail = %row.id, template = %row.template, "mail delivered");
                }
                Err(e) => {
                    let backoff = Duration::from_secs(30u64 << row.attempts.clamp(0, 10));
                    on_pool!(&self.db, write, |pool| {
                        sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3")
                            .bind(now + backoff)
                            .bind(&e)
                            .bind(row.id)
                            .execute(pool)
                            .await
                            .map(|_| ())
                    })?;
                    tracing::warn!(mail = %row.id, attempt = row.attempts + 1, error = %e, "mail not delivered; will retry");
                }
            }
        }
        Ok(attempted)
    }

    async fn send(&self, row: &Row) -> Result<(), String> {
        let args: serde_json::Value =
            serde_json::from_str(&row.payload).map_err(|e| e.to_string())?;
        let (subject, body) = templates::render(&row.template, &row.language, &args)
            .ok_or_else(|| format!("unknown template {}", row.template))?;
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| e.to_string())?;
        match &self.transport {
            Transport::Files(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// Whether `from` is usable as the sender of mails (`Name <address>` or an address).
pub fn valid_sender(from: &str) -> bool {
    from.parse::<Mailbox>().is_ok()
}
