//! The newsletter: written by staff (a subject and a body in Markdown, cleaned by ammonia) and
//! queued, in one transaction with its audit record, to every active person of an active
//! organisation whose consent to the `newsletter` purpose at the text version in force is
//! recorded and not withdrawn — and to nobody else. Each mail is in its recipient's language and
//! carries its own withdrawal link (also announced as RFC 8058 one-click `List-Unsubscribe`).

use std::collections::{HashMap, HashSet};

use extranet_access::{Action, Domain, DomainSet, Resource};
use extranet_audit::{NewEntry, Outcome};
use extranet_notify::Mail;
use extranet_platform::{on_pool, write_tx};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

use crate::consent::{Acting, Consents, consent_purpose};
use crate::error::{PrivacyError, Result};

/// The purpose of the register the newsletter relies on.
pub const PURPOSE: &str = "newsletter";

/// The mail template (services/notify/locales).
pub const TEMPLATE: &str = "newsletter";

/// The longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;

/// The largest body accepted, in bytes, before cleaning.
pub const MAX_BODY: usize = 50_000;

/// What staff wrote.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub subject: String,
    /// Markdown.
    pub body: String,
}

/// A draft checked: the subject trimmed, the body as Markdown and as cleaned HTML.
#[derive(Debug, Clone)]
pub struct Checked {
    pub subject: String,
    pub markdown: String,
    pub html: String,
}

/// A newsletter sent.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Sent {
    pub id: Uuid,
    pub subject: String,
    pub body_html: String,
    pub text_version: i64,
    pub sent_by: Uuid,
    pub sent_at: i64,
    pub recipients: i64,
}

fn all() -> DomainSet {
    DomainSet::default().with(Domain::All)
}

fn cleaner() -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::empty();
    b.tags(HashSet::from([
        "p",
        "br",
        "h2",
        "h3",
        "ul",
        "ol",
        "li",
        "em",
        "strong",
        "b",
        "i",
        "a",
        "blockquote",
    ]))
    .tag_attributes(HashMap::from([("a", HashSet::from(["href"]))]))
    .url_schemes(HashSet::from(["https", "http", "mailto"]))
    .link_rel(Some("noopener noreferrer nofollow"))
    .strip_comments(true);
    b
}

/// Stored HTML cleaned once more on its way out: what a page renders unescaped goes through the
/// allow-list at the moment it is shown.
pub fn shown(stored: &str) -> String {
    cleaner().clean(stored).to_string()
}

/// Checks a draft: a subject of 1 to [`MAX_SUBJECT`] characters on one line, a body with some
/// text left after cleaning. Each problem names its field.
pub fn check(d: &Draft) -> Result<Checked> {
    let subject = d.subject.trim();
    if subject.is_empty() {
        return Err(PrivacyError::invalid("subject", "write a subject"));
    }
    if subject.chars().count() > MAX_SUBJECT || subject.chars().any(char::is_control) {
        return Err(PrivacyError::invalid(
            "subject",
            format!("one line of at most {MAX_SUBJECT} characters"),
        ));
    }
    if d.body.len() > MAX_BODY {
        return Err(PrivacyError::invalid(
            "body",
            format!("at most {MAX_BODY} bytes of text"),
        ));
    }
    let parser = pulldown_cmark::Parser::new_ext(&d.body, pulldown_cmark::Options::empty());
    let mut html = String::with_capacity(d.body.len() * 2);
    pulldown_cmark::html::push_html(&mut html, parser);
    let html = cleaner().clean(&html).to_string();
    let text = ammonia::Builder::empty().clean(&html).to_string();
    if text.trim().is_empty() {
        return Err(PrivacyError::invalid("body", "write the newsletter's text"));
    }
    Ok(Checked {
        subject: subject.to_owned(),
        markdown: d.body.replace("\r\n", "\n"),
        html,
    })
}

/// One recipient: a person with a consent in force to the text version in force.
#[derive(FromRow)]
struct Recipient {
    id: Uuid,
    email: String,
    language: String,
}

const RECIPIENTS: &str = "SELECT p.id, p.email, p.language FROM consent c \
     JOIN person p ON p.id = c.person_id JOIN organisation o ON o.id = p.organisation_id \
     WHERE c.purpose = $1 AND c.withdrawn_at IS NULL AND c.text_version = $2 \
     AND p.state = 'active' AND o.active = $3 ORDER BY p.id";

impl Consents {
    fn permit_newsletter(&self, who: &Acting<'_>, action: Action) -> Result<()> {
        if who.grants.allows(Resource::Newsletter, action, all()) {
            Ok(())
        } else {
            Err(PrivacyError::Forbidden(format!(
                "newsletter.{} is not granted",
                action.as_str()
            )))
        }
    }

    /// Whether the caller may write and send a newsletter.
    pub fn may_send_newsletter(&self, who: &Acting<'_>) -> bool {
        self.permit_newsletter(who, Action::Create).is_ok()
    }

    /// Whether the caller may see the newsletters sent.
    pub fn may_list_newsletters(&self, who: &Acting<'_>) -> bool {
        self.permit_newsletter(who, Action::List).is_ok()
    }

    /// The newsletters sent, newest first.
    pub async fn newsletters(&self, who: &Acting<'_>) -> Result<Vec<Sent>> {
        self.permit_newsletter(who, Action::List)?;
        Ok(on_pool!(self.privacy.db(), read, |pool| {
            sqlx::query_as(
                "SELECT id, subject, body_html, text_version, sent_by, sent_at, recipients \
                 FROM newsletter ORDER BY sent_at DESC, id DESC LIMIT 200",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    /// How many people a newsletter would be queued to now (for the confirmation).
    pub async fn newsletter_audience(&self, who: &Acting<'_>) -> Result<i64> {
        self.permit_newsletter(who, Action::Create)?;
        let register = self.privacy.register();
        let (_, consent) = consent_purpose(&register, PURPOSE)?;
        let rows: Vec<Recipient> = on_pool!(self.privacy.db(), read, |pool| {
            sqlx::query_as(RECIPIENTS)
                .bind(PURPOSE)
                .bind(i64::from(consent.version))
                .bind(true)
                .fetch_all(pool)
                .await
        })?;
        Ok(i64::try_from(rows.len()).unwrap_or(i64::MAX))
    }

    /// Sends a newsletter: checks it, then in one transaction reads the recipients, records the
    /// newsletter, queues one mail per recipient (their language, their own withdrawal link)
    /// and appends `newsletter.send`.
    pub async fn send_newsletter(&self, who: &Acting<'_>, draft: &Draft) -> Result<Sent> {
        self.permit_newsletter(who, Action::Create)?;
        let checked = check(draft)?;
        let register = self.privacy.register();
        let (_, consent) = consent_purpose(&register, PURPOSE)?;
        let version = i64::from(consent.version);
        let clock = self.privacy.clock();
        let now = clock.now();
        let id = Uuid::now_v7();
        let entry = NewEntry::new(now, "newsletter.send", Outcome::Success)
            .actor(who.person)
            .subject("newsletter", id);
        let entry = match who.ip {
            Some(ip) => entry.ip(ip),
            None => entry,
        };
        let person = who.person;
        let res: Result<Sent> = write_tx!(self.privacy.db(), |tx| async {
            let recipients: Vec<Recipient> = sqlx::query_as(RECIPIENTS)
                .bind(PURPOSE)
                .bind(version)
                .bind(true)
                .fetch_all(&mut *tx)
                .await?;
            let mut mails = Vec::with_capacity(recipients.len());
            for r in &recipients {
                let link = self.link_url(r.id, PURPOSE)?;
                mails.push(Mail {
                    recipient: r.email.clone(),
                    language: r.language.clone(),
                    template: TEMPLATE,
                    args: serde_json::json!({
                        "site": self.settings.site_name,
                        "subject": checked.subject,
                        "body": checked.markdown,
                        "link": link,
                        extranet_notify::outbox::LIST_UNSUBSCRIBE: link,
                    }),
                });
            }
            let count = i64::try_from(mails.len()).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO newsletter (id, subject, body_markdown, body_html, text_version, \
                 sent_by, sent_at, recipients) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(&checked.subject)
            .bind(&checked.markdown)
            .bind(&checked.html)
            .bind(version)
            .bind(person)
            .bind(now.unix_timestamp())
            .bind(count)
            .execute(&mut *tx)
            .await?;
            extranet_notify::outbox::enqueue_many_in(&mut *tx, clock, &mails).await?;
            let entry = entry.clone().detail(serde_json::json!({
                "recipients": count,
                "text_version": version,
            }));
            extranet_audit::append_in(&mut *tx, &entry).await?;
            Ok::<_, PrivacyError>(Sent {
                id,
                subject: checked.subject.clone(),
                body_html: checked.html.clone(),
                text_version: version,
                sent_by: person,
                sent_at: now.unix_timestamp(),
                recipients: count,
            })
        }
        .await)
        .await;
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_do_not_survive_and_empty_bodies_are_refused() {
        let d = Draft {
            subject: "Spring news".into(),
            body: "Hello <script>alert(1)</script> **world** [x](javascript:alert(1))".into(),
        };
        let Ok(c) = check(&d) else {
            panic!("a body with text is accepted");
        };
        assert!(!c.html.contains("script"), "{}", c.html);
        assert!(!c.html.contains("javascript"), "{}", c.html);
        assert!(c.html.contains("<strong>world</strong>"), "{}", c.html);
        let empty = Draft {
            subject: "x".into(),
            body: "<script>x</script>".into(),
        };
        assert!(matches!(
            check(&empty),
            Err(PrivacyError::Invalid { field: "body", .. })
        ));
        let two_lines = Draft {
            subject: "a\r\nBcc: x@y".into(),
            body: "text".into(),
        };
        assert!(matches!(
            check(&two_lines),
            Err(PrivacyError::Invalid {
                field: "subject",
                ..
            })
        ));
    }
}
