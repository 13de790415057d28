//! E-mail. Mail is written to the `outbox` table by the change that causes it, then delivered by
//! a background sender with retries and backoff: SMTP in production, `.eml` files in the data
//! directory for the embedded default. Every mail is in its recipient's language.

pub mod outbox;
pub mod sender;
pub mod templates;

pub use outbox::{Mail, OutboxConn, enqueue, enqueue_in};
pub use sender::{MailTransport, Sender, SmtpTls};
