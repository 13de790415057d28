//! The outbox: mail to send, a row per message.

use extranet_platform::{Clock, Db, on_pool};
use uuid::Uuid;

/// A message to send once the change that causes it is committed.
#[derive(Debug, Clone)]
pub struct Mail {
    pub recipient: String,
    /// nl, fr or en: the recipient's language.
    pub language: String,
    /// A template of `templates` (`password-reset`, `invitation`).
    pub template: &'static str,
    /// The template's arguments; may hold links with one-time tokens, so never logged.
    pub args: serde_json::Value,
}

/// Adds a message to the outbox.
pub async fn enqueue(db: &Db, clock: &dyn Clock, mail: &Mail) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    let now = clock.now();
    let payload = mail.args.to_string();
    on_pool!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO outbox (id, created_at, recipient, language, template, payload, attempts, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $2)",
        )
        .bind(id)
        .bind(now)
        .bind(&mail.recipient)
        .bind(&mail.language)
        .bind(mail.template)
        .bind(&payload)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(id)
}
