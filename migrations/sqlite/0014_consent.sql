-- Consent (services/privacy/src/consent.rs, newsletter.rs): the newsletters staff sent to the
-- people who agreed to receive them. Times are Unix seconds.

-- One row per newsletter sent: what staff wrote (Markdown, and the HTML ammonia left of it),
-- the consent text version in force when it was sent (only consents to that version counted),
-- who sent it, when, and to how many people it was queued. Written in the same transaction as
-- its mails and its audit record.
CREATE TABLE newsletter (
    id            BLOB    NOT NULL PRIMARY KEY,
    subject       TEXT    NOT NULL,
    body_markdown TEXT    NOT NULL,
    body_html     TEXT    NOT NULL,
    text_version  INTEGER NOT NULL,
    sent_by       BLOB    NOT NULL REFERENCES person (id),
    sent_at       INTEGER NOT NULL,
    recipients    INTEGER NOT NULL
);
CREATE INDEX newsletter_sent_idx ON newsletter (sent_at);
