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
                 FROM outbox WHERE sent_at IS NULL AND withheld_at IS NULL AND attempts < $1 AND next_attempt_at <= $2 \
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
            if self.withhold(&row).await? {
                continue;
            }
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

    /// A mail that is not essential (`templates::essential`) to a person whose processing is
    /// restricted (GDPR Art. 18) is not sent: the row is marked withheld and the audit log
    /// records `mail.withheld` (the template and the person's id, never the address), in one
    /// transaction. Checked at delivery, so mail queued before the restriction is held too.
    async fn withhold(&self, row: &Row) -> Result<bool, SendError> {
        if templates::essential(&row.template).is_some() {
            return Ok(false);
        }
        let recipient = row.recipient.trim().to_lowercase();
        let restricted: Option<Uuid> = on_pool!(&self.db, read, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM person WHERE email_normalized = $1 AND restricted_at IS NOT NULL",
            )
            .bind(&recipient)
            .fetch_optional(pool)
            .await
        })?;
        let Some(person) = restricted else {
            return Ok(false);
        };
        let now = self.clock.now();
        let entry =
            extranet_audit::NewEntry::new(now, "mail.withheld", extranet_audit::Outcome::Success)
                .subject("person", person)
                .detail(serde_json::json!({
                    "mail": row.id, "template": row.template, "reason": "restricted",
                }));
        let written: Result<(), sqlx::Error> = extranet_platform::write_tx!(&self.db, |tx| async {
            sqlx::query(
                "UPDATE outbox SET withheld_at = $1, withheld_reason = 'restricted' WHERE id = $2",
            )
            .bind(now)
            .bind(row.id)
            .execute(&mut *tx)
            .await?;
            extranet_audit::append_in(&mut *tx, &entry)
                .await
                .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
            Ok::<(), sqlx::Error>(())
        }
        .await)
        .await;
        written?;
        tracing::info!(mail = %row.id, template = %row.template, "mail withheld: recipient's processing is restricted");
        Ok(true)
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
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN);
        if let Some(url) = args
            .get(crate::outbox::LIST_UNSUBSCRIBE)
            .and_then(|v| v.as_str())
        {
            let header = ListUnsubscribe::new(url).ok_or_else(|| {
                "the one-click withdrawal address is not a plain https URL".to_owned()
            })?;
            builder = builder.header(header).header(ListUnsubscribePost);
        }
        let message = builder.body(body).map_err(|e| e.to_string())?;
        match &self.transport {
            Transport::Files(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
            Transport::Smtp(t) => t.send(message).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369), for a mail that relies on consent. Only an
/// `https://` URL of visible ASCII without `<`, `>` or spaces is accepted, so the header's value
/// can never carry CR, LF or a second header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUnsubscribe(String);

impl ListUnsubscribe {
    pub fn new(url: &str) -> Option<ListUnsubscribe> {
        let plain = url.starts_with("https://")
            && url.len() <= 2000
            && url
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'\\'));
        plain.then(|| ListUnsubscribe(url.to_owned()))
    }
}

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let inner = s
            .trim()
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix('>'))
            .ok_or("List-Unsubscribe: <url>")?;
        ListUnsubscribe::new(inner).ok_or_else(|| "not a plain https URL".into())
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): a POST to the
/// `List-Unsubscribe` address withdraws at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListUnsubscribePost;

impl lettre::message::header::Header for ListUnsubscribePost {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        if s.trim() == "List-Unsubscribe=One-Click" {
            Ok(ListUnsubscribePost)
        } else {
            Err("List-Unsubscribe-Post: List-Unsubscribe=One-Click".into())
        }
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(
            Self::name(),
            "List-Unsubscribe=One-Click".to_owned(),
        )
    }
}

/// Whether `from` is usable as the sender of mails (`Name <address>` or an address).
pub fn valid_sender(from: &str) -> bool {
    from.parse::<Mailbox>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_unsubscribe_takes_only_a_plain_https_url() {
        assert!(
            ListUnsubscribe::new("https://x.example/consent/withdraw?p=1&u=n&t=abc_-").is_some()
        );
        for bad in [
            "http://x.example/",
            "https://x.example/\r\nBcc: a@b.example",
            "https://x.example/\nX: y",
            "https://x.example/> , <mailto:a@b.example",
            "https://x.example/a b",
            "javascript:alert(1)",
        ] {
            assert!(ListUnsubscribe::new(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_headers_are_written_on_one_line_each() {
        let Some(h) = ListUnsubscribe::new("https://x.example/consent/withdraw?t=abc") else {
            panic!("a plain URL");
        };
        let message = Message::builder()
            .from(
                "a@x.example"
                    .parse::<Mailbox>()
                    .unwrap_or_else(|_| panic!("from")),
            )
            .to("b@x.example"
                .parse::<Mailbox>()
                .unwrap_or_else(|_| panic!("to")))
            .subject("s")
            .header(h)
            .header(ListUnsubscribePost)
            .body(String::from("b"))
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(message.formatted()).unwrap_or_default();
        assert!(
            text.contains("List-Unsubscribe: <https://x.example/consent/withdraw?t=abc>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"),
            "{text}"
        );
    }
}
