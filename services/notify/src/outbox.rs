//! The outbox: mail to send, a row per message, written in the same transaction as the change
//! that causes it, so that a change is never committed without its mail, nor a mail sent for a
//! change that was rolled back.

use std::future::Future;

use extranet_platform::{Clock, Db};
use uuid::Uuid;

/// A message to send once the change that causes it is committed.
#[derive(Debug, Clone)]
pub struct Mail {
    pub recipient: String,
    /// nl, fr or en: the recipient's language.
    pub language: String,
    /// A template of `templates` (`password-reset`, `invitation`, `data-confirmation`).
    pub template: &'static str,
    /// The template's arguments; may hold links with one-time tokens, so never logged. A mail
    /// that relies on consent puts its withdrawal address under [`LIST_UNSUBSCRIBE`]: the
    /// sender announces it in the `List-Unsubscribe` and `List-Unsubscribe-Post` headers
    /// (RFC 8058 one-click).
    pub args: serde_json::Value,
}

/// The argument naming the one-click withdrawal address (an `https://` URL) of a mail that
/// relies on consent.
pub const LIST_UNSUBSCRIBE: &str = "list_unsubscribe";

const INSERT: &str = "INSERT INTO outbox (id, created_at, recipient, language, template, payload, \
     attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $2)";

mod sealed {
    pub trait Sealed {}
    impl Sealed for sqlx::SqliteConnection {}
    impl Sealed for sqlx::PgConnection {}
}

/// A connection a message can be queued on: `SqliteConnection` or `PgConnection`, typically
/// the `tx` of `extranet_platform::write_tx!`. Sealed: the two are all there is.
pub trait OutboxConn: sealed::Sealed + Send {
    #[doc(hidden)]
    fn insert_mail<'a>(
        &'a mut self,
        id: Uuid,
        now: time::OffsetDateTime,
        mail: &'a Mail,
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a;

    #[doc(hidden)]
    fn insert_mails<'a>(
        &'a mut self,
        now: time::OffsetDateTime,
        mails: &'a [Mail],
    ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a;
}

/// Rows per statement when many messages are queued at once: 8 parameters a row stays well
/// under SQLite's limit of 32,766 bound parameters and PostgreSQL's of 65,535.
const BATCH: usize = 1000;

macro_rules! impl_outbox_conn {
    ($conn:ty, $db:ty) => {
        impl OutboxConn for $conn {
            fn insert_mail<'a>(
                &'a mut self,
                id: Uuid,
                now: time::OffsetDateTime,
                mail: &'a Mail,
            ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a {
                async move {
                    sqlx::query(INSERT)
                        .bind(id)
                        .bind(now)
                        .bind(&mail.recipient)
                        .bind(&mail.language)
                        .bind(mail.template)
                        .bind(mail.args.to_string())
                        .execute(&mut *self)
                        .await
                        .map(|_| ())
                }
            }

            fn insert_mails<'a>(
                &'a mut self,
                now: time::OffsetDateTime,
                mails: &'a [Mail],
            ) -> impl Future<Output = Result<(), sqlx::Error>> + Send + 'a {
                async move {
                    for chunk in mails.chunks(BATCH) {
                        let mut q = sqlx::QueryBuilder::<$db>::new(
                            "INSERT INTO outbox (id, created_at, recipient, language, template, \
                             payload, attempts, next_attempt_at) ",
                        );
                        q.push_values(chunk, |mut row, mail| {
                            row.push_bind(Uuid::now_v7())
                                .push_bind(now)
                                .push_bind(mail.recipient.clone())
                                .push_bind(mail.language.clone())
                                .push_bind(mail.template)
                                .push_bind(mail.args.to_string())
                                .push_bind(0_i32)
                                .push_bind(now);
                        });
                        q.build().execute(&mut *self).await?;
                    }
                    Ok(())
                }
            }
        }
    };
}

impl_outbox_conn!(sqlx::SqliteConnection, sqlx::Sqlite);
impl_outbox_conn!(sqlx::PgConnection, sqlx::Postgres);

/// Queues a message inside the caller's transaction: it is sent only if that commits.
pub async fn enqueue_in<C: OutboxConn + ?Sized>(
    conn: &mut C,
    clock: &dyn Clock,
    mail: &Mail,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::now_v7();
    conn.insert_mail(id, clock.now(), mail).await?;
    Ok(id)
}

/// Queues many messages inside the caller's transaction, a thousand rows per statement: sent
/// only if that commits.
pub async fn enqueue_many_in<C: OutboxConn + ?Sized>(
    conn: &mut C,
    clock: &dyn Clock,
    mails: &[Mail],
) -> Result<(), sqlx::Error> {
    conn.insert_mails(clock.now(), mails).await
}

/// Queues a message in a transaction of its own, for mail that no change of ours causes.
pub async fn enqueue(db: &Db, clock: &dyn Clock, mail: &Mail) -> Result<Uuid, sqlx::Error> {
    extranet_platform::write_tx!(db, |tx| enqueue_in(tx, clock, mail).await).await
}
